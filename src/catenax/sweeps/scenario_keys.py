"""The keys of a scenario that a sweep varies: checked, set, and the network's shape kept.

A sweep varies numeric ``structure.*`` keys of a scenario file
(``structure.stiffness``, ``structure.gravity[1]``, ``structure.loads[0][2]``);
these helpers read the raw scenario, check a key names such a number, set it
in a copy, and check that a change keeps the network's topology.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import sys
from pathlib import Path

import numpy as np

from catenax.io import load_scenario, parse_scenario

__all__ = ["check_key", "load_raw", "same_topology", "set_path"]

#: ``tomllib`` (Python >= 3.11), or ``None`` (the scenario parser refuses TOML then).
tomllib = importlib.import_module("tomllib") if sys.version_info >= (3, 11) else None

_NOT_VARIABLE = {
    "springs": "the springs' node indices",
    "fixed": "the supports' node indices and roller axes",
    "supports": "the supports",
    "mesh": "the mesh file",
    "dim": "the dimension",
    "cables": "the cable switch (or the cables' spring indices)",
    "builder": "the builder's name",
}


def load_raw(scenario):
    """(name, raw dict, sha256) of a scenario path or dict; validated by the parser."""
    if isinstance(scenario, dict):
        parse_scenario(scenario)
        text = json.dumps(scenario, sort_keys=True)
        return "<scenario>", copy.deepcopy(scenario), hashlib.sha256(text.encode()).hexdigest()
    path = Path(scenario)
    load_scenario(path)  # the parser's messages (file, line, key) for a bad file
    raw = path.read_bytes()
    if path.suffix.lower() == ".toml":
        data = tomllib.loads(raw.decode("utf-8"))
    else:
        data = json.loads(raw.decode("utf-8"))
    _anchor_mesh(data, path.parent)
    return path.name, data, hashlib.sha256(raw).hexdigest()


def _anchor_mesh(data, folder: Path) -> None:
    """A relative ``structure.mesh`` made absolute: the cases are parsed from the dict."""
    structure = data.get("structure")
    mesh = structure.get("mesh") if isinstance(structure, dict) else None
    if isinstance(mesh, str) and not Path(mesh).is_absolute():
        structure["mesh"] = str(folder.resolve() / mesh)


def _numeric_keys(data, limit=12) -> list[str]:
    out: list[str] = []

    def walk(v, name):
        if len(out) >= limit:
            return
        if isinstance(v, bool):
            return
        if isinstance(v, (int, float)):
            out.append(name)
        elif isinstance(v, list) and v and len(out) < limit:
            if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
                out.append(f"{name}[0..{len(v) - 1}]")
            else:
                walk(v[0], f"{name}[0]")

    for k, v in (data.get("structure") or {}).items():
        if k not in _NOT_VARIABLE and k != "loads":
            walk(v, f"structure.{k}")
    if "loads" in (data.get("structure") or {}):
        out.append("structure.loads[i][1..]")
    return out


def check_key(data, key, path, name):
    where = f"vary[{key!r}]"
    if path[0] != "structure":
        raise ValueError(
            f"{where}: only [structure] keys can be varied (solver settings are compiled "
            f"into the method: run one sweep per setting); e.g. structure.stiffness"
        )
    if len(path) < 2 or not isinstance(path[1], str):
        raise ValueError(f"{where}: name a key inside [structure], e.g. structure.stiffness")
    if path[1] in _NOT_VARIABLE:
        raise ValueError(
            f"{where}: {key} is {_NOT_VARIABLE[path[1]]}, not a number that can be swept; vary "
            f"values such as structure.stiffness, structure.mass or structure.loads[i][1..]"
        )
    node = data
    for depth, part in enumerate(path):
        shown = key if depth == len(path) - 1 else _path_text(path[: depth + 1])
        if isinstance(part, str):
            if not isinstance(node, dict) or part not in node:
                keys = ", ".join(_numeric_keys(data)) or "none"
                raise ValueError(f"{where}: no key {shown} in {name}; numeric keys there: {keys}")
        else:
            if not isinstance(node, list):
                raise ValueError(
                    f"{where}: {_path_text(path[:depth])} is not a list; drop [{part}]"
                )
            if part >= len(node):
                raise ValueError(
                    f"{where}: index {part} out of range: {_path_text(path[:depth])} has "
                    f"{len(node)} entries"
                )
        node = node[part]
    if path[1] == "loads" and (len(path) != 4 or path[3] == 0):
        raise ValueError(
            f"{where}: {key} is not a load value; loads rows are [node, f_1, ...]: vary "
            f"structure.loads[i][1] and up (the node index cannot be swept)"
        )
    if isinstance(node, list):
        raise ValueError(
            f"{where}: {key} is a list; vary one entry, e.g. {key}[{min(1, len(node) - 1)}]"
        )
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise ValueError(f"{where}: {key} is {node!r}, not a number; vary a numeric key")


def _path_text(path) -> str:
    text = ""
    for p in path:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else p)
    return text


def set_path(data, path, value):
    node = data
    for part in path[:-1]:
        node = node[part]
    old = node[path[-1]]
    # Integers stay integers (a builder's counts must be whole numbers).
    if isinstance(old, int) and not isinstance(old, bool) and float(value).is_integer():
        value = int(value)
    node[path[-1]] = value


def same_topology(key, a, b):
    for f in ("positions", "springs", "rest_length", "stiffness", "mass", "gravity", "loads"):
        if np.shape(getattr(a, f)) != np.shape(getattr(b, f)):
            raise ValueError(
                f"vary[{key!r}]: changes the network's shape ({f}: {np.shape(getattr(a, f))} -> "
                f"{np.shape(getattr(b, f))}); vary numbers such as stiffness, mass, loads or "
                f"gravity, and run one sweep per size"
            )
    if not (
        np.array_equal(np.asarray(a.springs), np.asarray(b.springs))
        and np.array_equal(np.asarray(a.fixed), np.asarray(b.fixed))
        and a.cables == b.cables
        and np.array_equal(np.asarray(a.tension_only), np.asarray(b.tension_only))
    ):
        raise ValueError(
            f"vary[{key!r}]: changes which nodes are joined or held; vary numbers such as "
            f"stiffness, mass, loads or gravity instead"
        )
