"""Streaming output of sweeps: CSV/JSONL tables, shapes, metadata, resume, progress.

A sweep's table is written one chunk at a time: the chunk's rows are
formatted into one buffer, appended with a single write, flushed and
``fsync``-ed, with Ctrl-C (SIGINT) and SIGTERM held back until the write is
done. The file is therefore always a header plus whole chunks, except after
a hard kill (power loss, SIGKILL) in the middle of a write; ``--resume``
then cuts the partial last line and continues. Rows are formatted from the
numbers alone (shortest round-trip ``repr``), so a resumed file equals an
uninterrupted run's byte for byte.

Beside ``results.csv`` live ``results.csv.meta.json`` (the sweep's
description, checked on resume) and, with ``keep_shapes``, ``results.npz``
(assembled atomically from the append-only ``.results.csv.shapes`` file of
raw rows whenever the sweep stops, cleanly or not).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from .files import atomic_write

__all__ = [
    "Progress",
    "TableWriter",
    "count_rows",
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

_READ_BLOCK = 1 << 22


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


# ------------------------------------------------------------------ formatting


def _numbers(a) -> list[str]:
    # orjson writes the shortest digits that read back exactly (ryu), ~20x faster
    # than repr() per number: formatting would otherwise cost more than solving.
    import orjson

    if not len(a):
        return []
    return (
        orjson.dumps(np.ascontiguousarray(a), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
        .decode("ascii")
        .split(",")
    )


def _floats(a) -> list[str]:
    a = np.asarray(a, np.float64)
    cells = _numbers(a)
    for i in np.flatnonzero(~np.isfinite(a)).tolist():
        cells[i] = ""
    return cells


def _ints(a) -> list[str]:
    return _numbers(np.asarray(a, np.int64))


def _bools(a, missing=None) -> list[str]:
    vals = np.asarray(a, bool).tolist()
    if missing is None:
        return ["true" if v else "false" for v in vals]
    miss = np.asarray(missing, bool).tolist()
    return ["" if m else ("true" if v else "false") for v, m in zip(vals, miss, strict=True)]


def format_rows(columns: dict, kinds: dict, fmt: str) -> bytes:
    """Format a chunk of rows as CSV or JSON lines.

    Args:
        columns: ``{name: 1-D array}``, all of one length, in output order.
        kinds: ``{name: kind}`` with kind ``"int"``, ``"float"``, ``"bool"``,
            ``"bool?"`` (a bool that may be missing: give ``name + "?"`` in
            ``columns`` as the missing mask) or ``"str"``.
        fmt: ``"csv"`` or ``"jsonl"``.

    Returns:
        The rows as UTF-8 bytes, each line ending in ``\\n``. Non-finite
        numbers are empty in CSV and ``null`` in JSON.

    Example:
        >>> cols = {"case": np.array([0, 1]), "x": np.array([0.5, np.nan])}
        >>> format_rows(cols, {"case": "int", "x": "float"}, "csv")
        b'0,0.5\\n1,\\n'
        >>> format_rows(cols, {"case": "int", "x": "float"}, "jsonl")
        b'{"case": 0, "x": 0.5}\\n{"case": 1, "x": null}\\n'
    """
    names = [n for n in columns if not n.endswith("?")]
    cells = []
    for name in names:
        kind = kinds[name]
        col = columns[name]
        if kind == "int":
            cells.append(_ints(col))
        elif kind == "float":
            cells.append(_floats(col))
        elif kind == "bool":
            cells.append(_bools(col))
        elif kind == "bool?":
            cells.append(_bools(col, columns.get(name + "?")))
        elif kind == "str":
            cells.append([str(v) for v in col])
        else:  # pragma: no cover - a programming error
            raise ValueError(f"kind: unknown column kind {kind!r}")
    if fmt == "csv":
        text = "\n".join(map(",".join, zip(*cells, strict=True)))
    else:
        for k, name in enumerate(names):
            kind = kinds[name]
            key = json.dumps(name) + ": "
            if kind == "str":
                cells[k] = [key + json.dumps(v) for v in cells[k]]
            else:
                cells[k] = [key + (v if v else "null") for v in cells[k]]
        text = "\n".join("{" + ", ".join(row) + "}" for row in zip(*cells, strict=True))
    return (text + "\n").encode("utf-8") if text else b""


def csv_header(names) -> bytes:
    """The CSV header line for the given column names (missing-masks ``name?`` left out).

    Args:
        names: the column names.

    Returns:
        The header as bytes, ending in a newline.

    Example:
        >>> csv_header(["case", "stable", "stable?"])
        b'case,stable\\n'
    """
    return (",".join(n for n in names if not n.endswith("?")) + "\n").encode("utf-8")


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


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (e.g. a batch system's pre-emption) into ``KeyboardInterrupt``.

    A second SIGTERM kills at once. Outside the main thread this does nothing.

    Example:
        >>> with sigterm_as_interrupt():
        ...     pass
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupt(signum, frame):
        # A second SIGTERM kills at once (the default action), even inside a long
        # computation that never returns to Python.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


# ---------------------------------------------------------------- the table


def count_rows(path: Path, header: bool) -> tuple[int, int, int]:
    """Complete rows of a table file and where its last complete line ends.

    Args:
        path: the CSV or JSONL file.
        header: whether the first line is a header (CSV).

    Returns:
        ``(rows, end, size)``: the number of complete data rows, the byte
        offset just after the last complete line (a partial last line starts
        there), and the file's size.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = p.write_bytes(b"a,b\\n1,2\\n3,4\\n5,")
        >>> count_rows(p, header=True)
        (2, 12, 14)
    """
    lines = 0
    end = 0
    offset = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(_READ_BLOCK)
            if not block:
                break
            n = block.count(b"\n")
            if n:
                lines += n
                end = offset + block.rfind(b"\n") + 1
            offset += len(block)
    rows = max(lines - 1, 0) if header else lines
    return rows, end, offset


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
            self.file = open(self.path, "wb")  # noqa: SIM115 - kept open across chunks
            if fmt == "csv":
                self.file.write(csv_header(self.names))
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


def read_table(path: Path, columns=None) -> dict[str, np.ndarray]:
    """Read a sweep table (CSV or JSONL) back into columns.

    Numbers become float64 arrays (missing values NaN; ``case``, ``steps``
    and other integer columns int64), ``true``/``false`` become bool, and
    ``status`` stays a string array.

    Args:
        path: the table file.
        columns: the names to return (default: all).

    Returns:
        ``{name: array}``.

    Raises:
        ValueError: the file is not a sweep table.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = p.write_text("case,x,status\\n0,0.5,converged\\n1,,saddle\\n")
        >>> t = read_table(p); t["x"].tolist(), t["status"].tolist()
        ([0.5, nan], ['converged', 'saddle'])
    """
    path = Path(path)
    rows, end, _ = count_rows(path, header=path.suffix.lower() == ".csv")
    with open(path, "rb") as f:
        text = f.read(end).decode("utf-8")
    lines = text.splitlines()
    if path.suffix.lower() == ".csv":
        if not lines:
            raise ValueError(f"{path}: empty file; not a sweep table")
        names = lines[0].split(",")
        raw = {n: [] for n in names}
        for line in lines[1:]:
            for n, v in zip(names, line.split(","), strict=True):
                raw[n].append(v)
    else:
        names, raw = [], {}
        for line in lines:
            obj = json.loads(line)
            for k, v in obj.items():
                if k not in raw:
                    names.append(k)
                    raw[k] = []
                raw[k].append("" if v is None else (v if isinstance(v, str) else json.dumps(v)))
    want = names if columns is None else [c for c in columns if c in raw]
    return {n: _column(raw[n]) for n in want}


def _column(values: list[str]) -> np.ndarray:
    nonempty = [v for v in values if v != ""]
    if nonempty and all(v in ("true", "false") for v in nonempty):
        return np.asarray([v == "true" for v in values], bool)
    try:
        arr = np.asarray([float(v) if v != "" else math.nan for v in values], np.float64)
    except ValueError:
        return np.asarray(values, dtype=str)
    if nonempty and all(v.lstrip("-").isdigit() for v in nonempty) and len(nonempty) == len(values):
        return arr.astype(np.int64)
    return arr


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


# ---------------------------------------------------------------- progress


class Progress:
    """A one-line progress bar on stderr: cases done, cases/s and ETA, per chunk.

    On a terminal the line is redrawn in place; otherwise a line is printed
    at most every ``every`` seconds (and at the end).

    Args:
        total: cases in the sweep.
        done: cases already done (resume).
        enabled: print anything at all.
        stream: where to print (default ``sys.stderr``).
        every: seconds between lines when not on a terminal.

    Example:
        >>> import io
        >>> s = io.StringIO()
        >>> p = Progress(10, stream=s); p.update(10); p.close()
        >>> "10/10" in s.getvalue()
        True
    """

    def __init__(self, total, done=0, enabled=True, stream=None, every=5.0):
        self.total = total
        self.start_done = done
        self.done = done
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every
        self.t0 = time.perf_counter()
        self.t_first = None
        self.done_first = done
        self.last_print = -math.inf
        self.width = 0

    def rate(self) -> float:
        """Cases per second since the first chunk finished (compilation excluded)."""
        if self.t_first is None or self.done == self.done_first:
            return math.nan
        dt = time.perf_counter() - self.t_first
        return (self.done - self.done_first) / dt if dt > 0 else math.nan

    def update(self, done: int) -> None:
        """Record that ``done`` cases are finished and redraw."""
        if self.t_first is None:
            self.t_first = time.perf_counter()
            self.done_first = done
        self.done = done
        now = time.perf_counter()
        final = done >= self.total
        if not self.enabled or (not self.tty and not final and now - self.last_print < self.every):
            return
        self.last_print = now
        self._draw(final)

    def _draw(self, final: bool) -> None:
        frac = self.done / self.total if self.total else 1.0
        bar = "#" * int(24 * frac)
        rate = self.rate()
        if math.isfinite(rate) and rate > 0:
            eta = (self.total - self.done) / rate
            speed = f"{rate:,.0f} cases/s  ETA {_hms(eta)}"
        else:
            speed = f"elapsed {_hms(time.perf_counter() - self.t0)}"
        line = f"sweep [{bar:<24}] {self.done:,}/{self.total:,} cases  {speed}"
        if self.tty:
            pad = max(self.width - len(line), 0)
            self.stream.write("\r" + line + " " * pad + ("\n" if final else ""))
            self.width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the line (on a terminal) if the sweep stopped early."""
        if self.enabled and self.tty and self.width and self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
