"""Write a scenario (a dict of the schema of :mod:`catenax.io.scenario`) as TOML or JSON.

:func:`write_scenario` writes atomically (:func:`catenax.io.atomic_write`);
:func:`scenario_toml` is the TOML text: top-level strings first, then one
``[table]`` per dict (``structure``, ``solver``, ``units``), lists of lists
one row per line. A relative ``structure.mesh`` path is rewritten relative to
the new file's folder, so the written scenario loads from wherever it lies.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from .files import atomic_write, json_text, to_jsonable

__all__ = ["SCENARIO_SUFFIXES", "rebase_mesh", "scenario_toml", "write_scenario"]

#: The suffixes of a written scenario.
SCENARIO_SUFFIXES = (".toml", ".json")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"scenario: cannot write {type(value).__name__} {value!r} as TOML")


def _string(text: str) -> str:
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    out = []
    for ch in text:
        if ch in escapes:
            out.append(escapes[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any, indent: str = "") -> str:
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (list, tuple)) for v in value):
            inner = indent + "    "
            rows = ",\n".join(inner + _value(v, inner) for v in value)
            return "[\n" + rows + ",\n" + indent + "]"
        return "[" + ", ".join(_value(v, indent) for v in value) + "]"
    return _scalar(value)


def _key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else _string(key)


def scenario_toml(data: dict) -> str:
    """The TOML text of a scenario dict (plain types: numbers, strings, bools, lists, dicts).

    Args:
        data: the scenario (top-level strings and tables).

    Returns:
        The text, ending with a newline.

    Raises:
        TypeError: a value TOML cannot hold (``None``, an object).

    Example:
        >>> print(scenario_toml({"title": "a", "structure": {"dim": 2, "fixed": [0, 2],
        ...                      "nodes": [[0.0, 0.0], [1.0, 0.0]]}}), end="")
        title = "a"
        <BLANKLINE>
        [structure]
        dim = 2
        fixed = [0, 2]
        nodes = [
            [0.0, 0.0],
            [1.0, 0.0],
        ]
    """
    data = to_jsonable(data)
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for name, table in data.items():
        if isinstance(table, dict):
            if lines:
                lines.append("")
            lines.append(f"[{_key(name)}]")
            lines += [f"{_key(k)} = {_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def rebase_mesh(data: dict, base_dir, new_dir) -> dict:
    """A copy of ``data`` whose relative ``structure.mesh`` path is relative to ``new_dir``.

    Args:
        data: the scenario dict.
        base_dir: the folder the mesh path is relative to now (``None``: the
            working directory).
        new_dir: the folder of the file it will be written to.

    Returns:
        A shallow copy (the ``structure`` table copied) or ``data`` itself when
        there is no relative mesh path.

    Example:
        >>> rebase_mesh({"structure": {"mesh": "roof.obj"}}, "/a/b", "/a/c")["structure"]
        {'mesh': '../b/roof.obj'}
    """
    s = data.get("structure")
    mesh = s.get("mesh") if isinstance(s, dict) else None
    if not isinstance(mesh, str) or os.path.isabs(mesh):
        return data
    source = os.path.abspath(os.path.join(base_dir or os.curdir, mesh))
    rel = os.path.relpath(source, os.path.abspath(new_dir))
    return {**data, "structure": {**s, "mesh": Path(rel).as_posix()}}


def write_scenario(path: str | os.PathLike, data: dict, base_dir=None) -> Path:
    """Write a scenario dict as ``.toml`` or ``.json`` (by the suffix), atomically.

    Args:
        path: the destination (its folder must exist).
        data: the scenario (the schema of :func:`catenax.load_scenario`).
        base_dir: the folder a relative ``structure.mesh`` path in ``data`` is
            relative to (``None``: the working directory); the path is rewritten
            relative to the destination's folder.

    Returns:
        The destination.

    Raises:
        ValueError: a suffix other than ``.toml``/``.json``.

    Example:
        >>> import catenax, pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
        >>> _ = write_scenario(p, {"structure": {"builder": "chain2d", "n": 3}})
        >>> catenax.load_scenario(p).network.n_nodes
        5
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SCENARIO_SUFFIXES:
        raise ValueError(
            f"{path.name}: cannot write a scenario as {path.suffix or '(no suffix)'!r}; "
            f"use {' or '.join(SCENARIO_SUFFIXES)}"
        )
    data = rebase_mesh(data, base_dir, path.parent)
    if suffix == ".json":
        text = json_text(to_jsonable(data), indent=True) + "\n"
    else:
        text = scenario_toml(data)
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
