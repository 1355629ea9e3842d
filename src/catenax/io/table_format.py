"""The text of a sweep table: rows formatted as CSV or JSON lines, and read back.

Rows are formatted from the numbers alone (shortest round-trip digits), so a
resumed file equals an uninterrupted run's byte for byte; non-finite numbers are
empty in CSV and ``null`` in JSON; a bool that may be missing is empty / ``null``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import orjson

__all__ = ["check_rows", "count_rows", "csv_header", "format_rows", "read_table"]

_READ_BLOCK = 1 << 22


def _numbers(a) -> list[str]:
    # orjson writes the shortest digits that read back exactly (ryu), ~20x faster
    # than repr() per number: formatting would otherwise cost more than solving.
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


def _line_sizes(block: bytes, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """Per complete line of ``block``: its field count and whether its frame is right."""
    a = np.frombuffer(block, np.uint8)
    nl = np.flatnonzero(a == 10)
    starts = np.concatenate([[0], nl[:-1] + 1])
    if fmt == "csv":
        c = np.concatenate([[0], np.cumsum(a == 44)])  # commas
        return c[nl] - c[starts] + 1, nl > starts
    hit = np.zeros(len(a) + 1, np.int64)  # '": ' ends every key of a row
    hit[3:] = np.cumsum((a[:-2] == 34) & (a[1:-1] == 58) & (a[2:] == 32))
    framed = (nl > starts) & (a[starts.clip(max=len(a) - 1)] == 123) & (a[nl - 1] == 125)
    return hit[nl + 1] - hit[starts + 2], framed


def _row_ok(line: bytes, names: list[str], fmt: str, case: int) -> bool:
    """Whether ``line`` is a whole row of these columns whose case index is ``case``."""
    try:
        if fmt == "csv":
            cells = line.decode("utf-8").split(",")
            return len(cells) == len(names) and int(cells[names.index("case")]) == case
        obj = orjson.loads(line)
        return isinstance(obj, dict) and list(obj) == names and obj.get("case") == case
    except ValueError:
        return False


def check_rows(path: Path, names, fmt: str) -> tuple[int, int, int]:
    """Check a sweep table row by row before it is resumed; find where it continues.

    Every complete line must have one field per column (``names``; CSV: after
    the header line) and the last one must be whole and hold case ``rows - 1``.
    What a killed process may leave at the end — a line without its newline, or
    one last malformed line — is not counted (the writer cuts it off);
    a malformed line before the last is an error.

    Args:
        path: the CSV or JSONL table.
        names: its columns (missing-masks ``name?`` are left out).
        fmt: ``"csv"`` or ``"jsonl"``.

    Returns:
        ``(rows, end, size)``: the good rows, the byte offset just after the
        last one (where writing continues) and the file's size.

    Raises:
        ValueError: a malformed line before the last one, or a last row whose
            case index is not its position; the message names the line.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = p.write_bytes(b"case,x\\n0,0.5\\n1,0.25\\n2,0.1,garbage\\n")
        >>> check_rows(p, ["case", "x"], "csv")
        (2, 20, 34)
        >>> _ = p.write_bytes(b"case,x\\n0,0.5\\n1\\n2,0.25\\n")
        >>> check_rows(p, ["case", "x"], "csv")
        Traceback (most recent call last):
        ...
        ValueError: t.csv: line 3 has 1 fields, not the sweep's 2 columns; the file is not this \
sweep's table (or was edited)
    """
    names = [n for n in names if not n.endswith("?")]
    skip = 1 if fmt == "csv" else 0  # the header, checked by the caller
    lines = good_end = offset = 0
    tail = last = b""
    bad: tuple[int, int] | None = None  # a malformed line (index, fields): only the last may be
    with open(path, "rb") as f:
        while block := f.read(_READ_BLOCK):
            data, base = tail + block, offset - len(tail)
            offset += len(block)
            cut = data.rfind(b"\n") + 1
            tail = data[cut:]
            if not cut:
                continue
            if bad is not None:
                _malformed(path, *bad, len(names))
            fields, framed = _line_sizes(data[:cut], fmt)
            nl = np.flatnonzero(np.frombuffer(data, np.uint8, cut) == 10)
            index = np.arange(lines, lines + len(nl))
            wrong = np.flatnonzero(((fields != len(names)) | ~framed) & (index >= skip))
            if len(wrong) > 1 or (len(wrong) and wrong[0] != len(nl) - 1):
                _malformed(path, int(index[wrong[0]]), int(fields[wrong[0]]), len(names))
            if len(wrong):
                bad = (int(index[-1]), int(fields[-1]))
            ok = nl[:-1] if len(wrong) else nl
            if len(ok):
                good_end = base + int(ok[-1]) + 1
                first = int(ok[-2]) + 1 if len(ok) > 1 else 0
                last = data[first : int(ok[-1])]
            lines += len(nl)
    if bad is not None and tail:
        _malformed(path, *bad, len(names))
    rows = max(lines - skip - (bad is not None), 0)
    if rows and not _row_ok(last, names, fmt, rows - 1):
        raise ValueError(
            f"{Path(path).name}: line {rows + skip} is not the row of case {rows - 1} "
            f"(a row is missing, repeated or edited); the file is not a whole sweep table"
        )
    return rows, good_end, offset


def _malformed(path, line, fields, want):
    raise ValueError(
        f"{Path(path).name}: line {line + 1} has {fields} fields, not the sweep's {want} "
        f"columns; the file is not this sweep's table (or was edited)"
    )


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
