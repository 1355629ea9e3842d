"""A sweep's output files before it runs: refuse to clobber, and resume where it stopped.

``out`` is checked on process 0 (the writer) and the outcome broadcast to the
others. Resuming compares the sweep's description with the one in
``.meta.json``, checks the table's header, and finds the last whole row (and,
with ``keep_shapes``, the last row whose shape is on disk too).
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from catenax.io import (
    TABLE_SUFFIXES,
    check_output_path,
    check_rows,
    csv_header,
    meta_path,
    npz_path,
    shapes_path,
)

__all__ = ["jsonable", "prepare_out"]


def prepare_out(path, spec, resume, overwrite, keep_shapes, chunk_size, cluster):
    """Check ``out`` (on process 0) and find where a resumed sweep continues."""
    err = ""
    rows, end = 0, None
    if cluster.is_writer:
        try:
            rows, end, chunk_size = _check_out(
                path, spec, resume, overwrite, keep_shapes, chunk_size
            )
        except ValueError as e:
            err = str(e)
    if cluster.num_processes > 1:
        msg = np.frombuffer(err.encode()[:4000].ljust(4000, b"\0"), np.uint8)
        vals = np.asarray([rows, -1 if end is None else end, chunk_size or 0], np.int64)
        msg, vals = cluster.broadcast((msg, vals))
        err = bytes(np.asarray(msg)).rstrip(b"\0").decode()
        rows, end, chunk_size = (int(v) for v in np.asarray(vals))
        end = None if end < 0 else end
        chunk_size = chunk_size or None
    if err:
        raise ValueError(err)
    return path, rows, end, chunk_size


def _check_out(path, spec, resume, overwrite, keep_shapes, chunk_size):
    """The checks of :func:`prepare_out` (process 0)."""
    check_output_path(path, TABLE_SUFFIXES, "out")
    if resume and overwrite:
        raise ValueError("out: give --resume or --overwrite, not both")
    meta_file = meta_path(path)
    others = [p for p in (meta_file, npz_path(path) if keep_shapes else None) if p]
    exists = [p for p in (path, *others) if p.exists()]
    if not resume:
        if exists and not overwrite:
            raise ValueError(
                f"out: '{exists[0]}' exists; add --overwrite to replace it, or --resume to "
                f"continue the sweep in it"
            )
        return 0, None, chunk_size
    if not path.exists():
        return 0, None, chunk_size
    if not os.access(path, os.R_OK | os.W_OK):
        raise ValueError(f"out: cannot resume '{path}': it cannot be read and written")
    return _resume_point(path, spec, meta_file, keep_shapes, chunk_size)


def _resume_point(path, spec, meta_file, keep_shapes, chunk_size):
    """Where the sweep in ``path`` continues, after checking it is this sweep."""
    if not meta_file.exists():
        raise ValueError(
            f"out: cannot resume '{path}': its sweep description '{meta_file.name}' is missing; "
            f"rerun with --overwrite"
        )
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"out: cannot resume: '{meta_file}' is unreadable ({e})") from None
    old = meta.get("spec", {})
    diff = sorted(k for k in set(old) | set(spec) if old.get(k) != jsonable(spec).get(k))
    if diff:
        k = diff[0]
        was, now = old.get(k), jsonable(spec).get(k)
        if k == "axes" and isinstance(was, dict):
            names = [a for a in {**was, **now} if was.get(a) != now.get(a)]
            k, was, now = names[0], was.get(names[0]), now.get(names[0])
        raise ValueError(
            f"out: cannot resume '{path}': it was run with {k} = {was!r}, now {now!r}; "
            f"resume with the same settings, or use --overwrite"
        )
    if chunk_size is not None and chunk_size != meta.get("chunk_size"):
        raise ValueError(
            f"chunk_size: {chunk_size} differs from the {meta.get('chunk_size')} of the sweep "
            f"being resumed; drop --chunk-size to reuse it"
        )
    header = path.suffix.lower() == ".csv"
    columns = meta.get("columns", [])
    if header:
        want = csv_header(columns)
        with open(path, "rb") as f:
            got = f.read(len(want))
        if got != want:
            raise ValueError(
                f"out: cannot resume '{path}': its header is not the sweep's; use --overwrite"
            )
    try:
        rows, end, _ = check_rows(path, columns, "csv" if header else "jsonl")
    except ValueError as e:
        raise ValueError(
            f"out: cannot resume: {e}; fix or remove that line, or start again with --overwrite"
        ) from None
    if rows > meta.get("cases", math.inf):
        raise ValueError(
            f"out: cannot resume '{path}': it has {rows:,} rows, more than the sweep's "
            f"{meta.get('cases'):,} cases; start again with --overwrite"
        )
    if meta.get("complete") and rows >= meta.get("cases", math.inf):
        return rows, end, meta.get("chunk_size")  # nothing left to do
    if keep_shapes:
        raw = shapes_path(path)
        have = raw.stat().st_size // max(meta.get("shape_row_bytes", 1), 1) if raw.exists() else 0
        if have < rows:
            # Keep only the rows whose shapes are on disk too.
            rows, end = have, _line_end(path, have + int(header))
    return rows, end, meta.get("chunk_size")


def _line_end(path, lines):
    """Byte offset just after the first ``lines`` lines."""
    if lines == 0:
        return 0
    seen = 0
    offset = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 22)
            if not block:
                return offset
            start = 0
            while True:
                i = block.find(b"\n", start)
                if i < 0:
                    break
                seen += 1
                if seen == lines:
                    return offset + i + 1
                start = i + 1
            offset += len(block)


def jsonable(spec):
    return json.loads(json.dumps(spec))
