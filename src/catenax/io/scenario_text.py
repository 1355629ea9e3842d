"""A scenario file's name and text, to put the file and the line into error messages."""

from __future__ import annotations

import re

__all__ = ["ScenarioText", "toml_error"]


class ScenarioText:
    """A scenario file's name and text, to put the file and the line into messages.

    Args:
        name: the file name shown in messages.
        text: the file's text (``None`` when there is none: no line numbers).

    Example:
        >>> ctx = ScenarioText("net.toml", "[solver]" + chr(10) + "method = 'x'")
        >>> str(ctx.error("solver", "method", "unknown method 'x'"))
        "net.toml:2: solver.method: unknown method 'x'"
    """

    def __init__(self, name: str, text: str | None):
        self.name = name
        self.text = text

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
