"""A scenario file: read it safely, decode it, and put the file and the line into messages.

:func:`read_scenario_text` reads only regular files (a FIFO, a device such as
``/dev/zero`` or a folder is refused without blocking or reading) of at most
:data:`MAX_SCENARIO_BYTES`, as UTF-8; :func:`decode_scenario` parses TOML or
JSON, refusing duplicate JSON keys, nesting too deep for the parser and
numbers too long to read. Every failure is a ``ValueError`` that starts with
the file (and the line where it is known).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import stat
import sys
from pathlib import Path

from catenax.limits import format_bytes

__all__ = [
    "MAX_SCENARIO_BYTES",
    "ScenarioText",
    "decode_scenario",
    "read_scenario_text",
    "toml_error",
]

#: The largest scenario file read (bytes). A scenario with more nodes than
#: fit in it should use a builder (``builder = "net"``, ...).
MAX_SCENARIO_BYTES = 64 * 2**20

#: ``tomllib`` (Python >= 3.11), or ``None``: then only JSON scenarios can be read.
tomllib = importlib.import_module("tomllib") if sys.version_info >= (3, 11) else None

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISSOCK, "a socket"),
)


class ScenarioText:
    """A scenario file's name and text, to put the file and the line into messages.

    Args:
        name: the file name shown in messages.
        text: the file's text (``None`` when there is none: no line numbers).
        base_dir: the folder relative paths in the file start from (``None``:
            the working directory).

    Example:
        >>> ctx = ScenarioText("net.toml", "[solver]" + chr(10) + "method = 'x'")
        >>> str(ctx.error("solver", "method", "unknown method 'x'"))
        "net.toml:2: solver.method: unknown method 'x'"
    """

    def __init__(self, name: str, text: str | None, base_dir=None):
        self.name = name
        self.text = text
        #: The folder that paths in the file (``mesh = "roof.obj"``) are relative
        #: to: the file's own folder, or ``None`` (the working directory).
        self.base_dir = base_dir

    def line_of(self, table: str | None, key: str | None) -> int | None:
        """The 1-based line where ``key`` is set (after ``[table]`` if given), or ``None``."""
        if not self.text or key is None:
            return None
        lines = self.text.splitlines()
        start = 0
        if table is not None:
            for k, line in enumerate(lines):
                if re.match(rf"\s*\[\s*{re.escape(table)}\s*\]", line) or re.search(
                    rf'"{re.escape(table)}"\s*:', line
                ):
                    start = k
                    break
        pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*[=:]|"{re.escape(key)}"\s*:')
        for k in range(start, len(lines)):
            if pattern.search(lines[k]):
                return k + 1
        return None

    def error(self, table: str | None, key: str | None, detail: str) -> ValueError:
        """A ``ValueError`` "file:line: table.key: detail" (the line where it is known)."""
        line = self.line_of(table, key)
        where = f"{self.name}:{line}" if line else self.name
        name = ".".join(p for p in (table, key) if p)
        return ValueError(f"{where}: {name}: {detail}" if name else f"{where}: {detail}")


def toml_error(name: str, text: str, err) -> str:
    """tomllib's message (it has the line and column) with the file and the nearest key."""
    m = re.search(r"line (\d+)", str(err))
    if not m:
        return f"{name}: not valid TOML: {err}"
    line = int(m.group(1))
    col = re.search(r"column (\d+)", str(err))
    # keys assigned before the error (on its line too, unless it is at column 1)
    upto = line if (col and int(col.group(1)) > 1) else line - 1
    key = table = None
    for row in text.splitlines()[:upto]:
        t = re.match(r"\s*\[+\s*([A-Za-z0-9_.-]+)\s*\]+", row)
        if t:
            table, key = t.group(1), None
        a = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", row)
        if a:
            key = a.group(1)
    near = ".".join(p for p in (table, key) if p)
    near = f" near key '{near}'" if near else ""
    return f"{name}:{line}: not valid TOML{near}: {err}"


def read_scenario_text(path: Path, limit: int | None = None) -> str:
    """The text of a scenario file: a regular file of at most ``limit`` bytes, in UTF-8.

    The file is opened without blocking and checked to be a regular file before
    anything is read, so a FIFO or ``/dev/zero`` neither hangs nor fills memory.
    A UTF-8 byte-order mark is skipped.

    Args:
        path: the file.
        limit: the most bytes to read (default :data:`MAX_SCENARIO_BYTES`).

    Returns:
        The text.

    Raises:
        ValueError: missing, not a regular file, larger than ``limit``, not
            readable, not UTF-8 or containing a NUL character; the message
            starts with the file (and the line for a bad byte).

    Example:
        >>> read_scenario_text(Path("/dev/zero"))
        Traceback (most recent call last):
        ...
        ValueError: /dev/zero: is a character device, not a regular file; give a .toml or .json file
    """
    limit = MAX_SCENARIO_BYTES if limit is None else limit
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such scenario file; check the path") from None
    except OSError as e:
        raise ValueError(f"{path}: cannot read the scenario file: {e.strerror or e}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = next((k for test, k in _KINDS if test(mode)), "not a regular file")
        raise ValueError(f"{path}: is {kind}, not a regular file; give a .toml or .json file")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise ValueError(f"{path}: cannot read the scenario file: {e.strerror or e}") from None
    if len(data) > limit:
        raise ValueError(
            f"{path}: the file is larger than {format_bytes(limit)}, the limit for scenario files "
            f"(MAX_SCENARIO_BYTES); describe a large network with a builder (builder = "
            f'"net", ...) instead of listing its nodes'
        )
    return _utf8(path, data)


def _utf8(path, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line, col = _line_col(data, e.start)
        raise ValueError(
            f"{path.name}:{line}: not UTF-8 text (byte {data[e.start]:#04x} at line {line}, "
            f"column {col}); save the file as UTF-8"
        ) from None
    nul = text.find("\0")
    if nul >= 0:
        line, col = _line_col(text, nul)
        raise ValueError(
            f"{path.name}:{line}: a NUL character at line {line}, column {col}; a scenario is "
            f"a text file: remove it"
        )
    return text


def _line_col(text, pos: int) -> tuple[int, int]:
    newline = b"\n" if isinstance(text, bytes) else "\n"
    return text.count(newline, 0, pos) + 1, pos - (text.rfind(newline, 0, pos) + 1) + 1


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def decode_scenario(name: str, suffix: str, text: str):
    """The data of a scenario file's text, TOML or JSON by ``suffix``.

    Args:
        name: the file name for messages.
        suffix: ``".toml"`` or ``".json"``.
        text: the file's text.

    Returns:
        The parsed data (a dict for a well-formed scenario).

    Raises:
        ValueError: not valid TOML/JSON (with the parser's line and column), a
            key given twice, nesting too deep, or a number too long to read.

    Example:
        >>> decode_scenario("s.json", ".json", '{"structure": {"n": 3, "n": 4}}')
        Traceback (most recent call last):
        ...
        ValueError: s.json:1: the key 'n' is given twice in one object; keep one
    """
    try:
        if suffix == ".toml":
            return _toml(name, text)
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{name}:{e.lineno}: not valid JSON: {e.msg} (at line {e.lineno}, column {e.colno})"
        ) from None
    except _DuplicateKey as e:
        key = e.args[0]
        line = ScenarioText(name, text).line_of(None, key)
        where = f"{name}:{line}" if line else name
        raise ValueError(
            f"{where}: the key {key!r} is given twice in one object; keep one"
        ) from None
    except RecursionError:
        raise ValueError(
            f"{name}: lists or tables nested too deeply for the parser; a scenario nests at "
            f"most three levels (e.g. nodes = [[x, y], ...])"
        ) from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        if str(e).startswith(f"{name}"):
            raise
        detail = str(e)
        if "integer string conversion" in detail:
            detail = f"a number has more than {sys.get_int_max_str_digits()} digits"
        raise ValueError(
            f"{name}: not valid {suffix[1:].upper()}: {detail}; give numbers of ordinary size"
        ) from None


def _toml(name: str, text: str):
    if tomllib is None:  # pragma: no cover - Python 3.10
        raise ValueError(
            f"{name}: reading TOML needs Python >= 3.11 (tomllib); use a .json scenario"
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(toml_error(name, text, e)) from None
