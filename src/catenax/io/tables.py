"""Streaming output of sweeps: CSV/JSONL tables, shapes, metadata, resume.

A sweep's table is written one chunk at a time: the chunk's rows are
formatted into one buffer, appended with a single write, flushed and
``fsync``-ed, with Ctrl-C (SIGINT) and SIGTERM held back until the write is
done. The file is therefore always a header plus whole chunks, except after
a hard kill (power loss, SIGKILL) in the middle of a write; ``--resume``
then checks every row (:func:`check_rows`), cuts a partial or malformed last
line and continues, and refuses a file with a bad row before its end. Rows are formatted from the
numbers alone (shortest round-trip ``repr``, :mod:`catenax.io.table_format`), so
a resumed file equals an uninterrupted run's byte for byte.

Beside ``results.csv`` live ``results.csv.meta.json`` (the sweep's
description, checked on resume) and, with ``keep_shapes``, ``results.npz``
(assembled atomically from the append-only ``.results.csv.shapes`` file of
raw rows whenever the sweep stops, cleanly or not).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from .files import atomic_write
from .table_format import (
    _READ_BLOCK,
    check_rows,
    count_rows,
    csv_header,
    format_rows,
    read_table,
)

__all__ = [
    "TABLE_SUFFIXES",
    "TableWriter",
    "check_rows",
    "count_rows",
    "csv_header",
    "deferred_interrupts",
    "format_rows",
    "meta_path",
    "npz_path",
    "read_table",
    "shapes_path",
    "write_npz",
]

#: Output formats of a sweep table, by suffix.
TABLE_SUFFIXES = (".csv", ".jsonl")


def meta_path(out: Path) -> Path:
    """The metadata file of a sweep table.

    Args:
        out: the table file.

    Returns:
        ``results.csv`` -> ``results.csv.meta.json``.

    Example:
        >>> meta_path(Path("r/results.csv")).as_posix()
        'r/results.csv.meta.json'
    """
    return out.with_name(out.name + ".meta.json")


def npz_path(out: Path) -> Path:
    """The shapes file of a sweep table (``--keep-shapes``).

    Args:
        out: the table file.

    Returns:
        ``results.csv`` -> ``results.npz``.

    Example:
        >>> npz_path(Path("results.jsonl")).name
        'results.npz'
    """
    return out.with_suffix(".npz")


def shapes_path(out: Path) -> Path:
    """The hidden, append-only raw shapes file used while a sweep runs.

    Args:
        out: the table file.

    Returns:
        ``results.csv`` -> ``.results.csv.shapes`` in the same folder.

    Example:
        >>> shapes_path(Path("results.csv")).name
        '.results.csv.shapes'
    """
    return out.with_name(f".{out.name}.shapes")


# ---------------------------------------------------------------- interrupts


class _Deferred:
    def __init__(self):
        self.pending: int | None = None


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold back SIGINT/SIGTERM inside the block; raise ``KeyboardInterrupt`` after it.

    Used around each chunk write so that Ctrl-C never leaves half a chunk.
    Outside the main thread this does nothing (signals go to the main thread).

    Example:
        >>> with deferred_interrupts():
        ...     pass
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    state = _Deferred()

    def hold(signum, frame):
        state.pending = signum

    old = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if state.pending is not None:
        raise KeyboardInterrupt


# ---------------------------------------------------------------- the table


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path.parent if str(path.parent) else ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class TableWriter:
    """Append whole chunks of rows to a CSV/JSONL file (and raw shapes beside it).

    Args:
        path: the table file.
        names: column names (CSV header order; names ending in ``?`` are
            missing-masks, not columns).
        kinds: column kinds (see :func:`format_rows`).
        fmt: ``"csv"`` or ``"jsonl"``.
        start_rows: rows already in the file (resume) or 0 (a new file is
            created with its header).
        shapes: when not ``None``, the byte size of one raw shape row; rows
            go to :func:`shapes_path`.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
        >>> w = TableWriter(p, ["case"], {"case": "int"}, "csv", 0)
        >>> w.append({"case": np.arange(2)})
        >>> w.close(); p.read_text()
        'case\\n0\\n1\\n'
    """

    def __init__(self, path, names, kinds, fmt, start_rows, shapes=None, start_end=None):
        self.path = Path(path)
        self.names = list(names)
        self.kinds = kinds
        self.fmt = fmt
        self.rows = start_rows
        self.shape_bytes = shapes
        if start_rows == 0 and start_end is None:
            # A new file replaces whatever is at ``path`` (a symlink too: never written
            # through), like every other output.
            header = csv_header(self.names) if fmt == "csv" else b""
            atomic_write(self.path, lambda tmp: tmp.write_bytes(header))
            self.file = open(self.path, "r+b")  # noqa: SIM115 - kept open across chunks
            self.file.seek(0, os.SEEK_END)
            self._sync(self.file)
            _fsync_dir(self.path)
        else:
            self.file = open(self.path, "r+b")  # noqa: SIM115
            self.file.truncate(start_end)
            self.file.seek(start_end)
            self._sync(self.file)
        self.shapes = None
        if shapes is not None:
            sp = shapes_path(self.path)
            mode = "r+b" if (start_rows and sp.exists()) else "wb"
            if mode == "wb":
                sp.unlink(missing_ok=True)  # a new file, never through a symlink
            self.shapes = open(sp, mode)  # noqa: SIM115
            self.shapes.truncate(start_rows * shapes)
            self.shapes.seek(start_rows * shapes)
            self._sync(self.shapes)

    @staticmethod
    def _sync(f) -> None:
        f.flush()
        os.fsync(f.fileno())

    def append(self, columns: dict, shapes=None) -> None:
        """Write one chunk of rows (and its raw shapes), flushed and synced.

        Args:
            columns: ``{name: 1-D array}`` in the table's column order.
            shapes: rows of raw shape data (a C-contiguous array whose rows
                have the writer's ``shapes`` byte size), when keeping shapes.
        """
        data = format_rows(columns, self.kinds, self.fmt)
        n = len(next(iter(columns.values())))
        with deferred_interrupts():
            if self.shapes is not None:
                self.shapes.write(np.ascontiguousarray(shapes).tobytes())
                self._sync(self.shapes)
            self.file.write(data)
            self._sync(self.file)
            self.rows += n

    def close(self) -> None:
        """Close the files."""
        for f in (self.file, self.shapes):
            if f is not None and not f.closed:
                f.close()


# ---------------------------------------------------------------- shapes -> npz


def write_npz(path: Path, raw: Path, rows: int, shape, dtype, columns: Callable) -> None:
    """Assemble the ``.npz`` of a sweep's shapes atomically, streaming (bounded memory).

    Args:
        path: the ``.npz`` to write.
        raw: the raw shapes file (rows of ``shape`` in ``dtype``).
        rows: how many rows to take from ``raw``.
        shape: the shape of one row.
        dtype: the raw data's dtype.
        columns: ``columns(start, stop) -> {name: 1-D array}``: per-case
            arrays (case index, parameters) to store beside ``positions``.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "raw").write_bytes(np.arange(6.0).tobytes())
        >>> write_npz(d / "s.npz", d / "raw", 3, (2,), np.float64,
        ...           lambda a, b: {"case": np.arange(a, b)})
        >>> z = np.load(d / "s.npz"); z["positions"].tolist(), z["case"].tolist()
        ([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], [0, 1, 2])
    """
    dtype = np.dtype(dtype)
    row_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    block_rows = max(1, _READ_BLOCK // max(row_bytes, 1))
    names = list(columns(0, 0))

    def member(zf, name, arr_shape, arr_dtype, blocks):
        with zf.open(name + ".npy", "w", force_zip64=True) as f:
            header = {
                "descr": np.lib.format.dtype_to_descr(np.dtype(arr_dtype)),
                "fortran_order": False,
                "shape": tuple(arr_shape),
            }
            np.lib.format.write_array_header_2_0(f, header)
            for b in blocks:
                f.write(b)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:

            def raw_blocks():
                with open(raw, "rb") as src:
                    left = rows * row_bytes
                    while left > 0:
                        chunk = src.read(min(left, block_rows * row_bytes))
                        if not chunk:
                            raise ValueError(f"{raw}: shapes file is shorter than {rows} rows")
                        left -= len(chunk)
                        yield chunk

            member(zf, "positions", (rows, *shape), dtype, raw_blocks())
            for name in names:
                first = np.asarray(columns(0, min(rows, 1))[name])

                def blocks(name=name):
                    for a in range(0, rows, 1 << 20):
                        yield np.ascontiguousarray(columns(a, min(rows, a + (1 << 20)))[name])

                member(zf, name, (rows,), first.dtype, blocks())

    atomic_write(path, write)
