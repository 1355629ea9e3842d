"""Target shapes: the positions a design should reach, from a file or from arrays.

A target is a set of node indices and their target positions
(:class:`Target`). Files (:func:`read_target`):

* ``.csv``: rows ``node,x,y`` (2D) or ``node,x,y,z`` (3D), an optional header
  line first (any line whose first field is not a number), ``#`` comments;
  a subset of the nodes is fine;
* ``.json``: an object with ``positions``, one row per node of the network
  (the JSON of ``catenax relax --json`` works), optionally ``nodes``: the
  indices the rows are for;
* ``.npz``: an array ``positions`` (and optionally ``nodes``), as ``.json``;
* ``.obj``: the vertices, in the network's node order (one per node; a 2D
  network takes x and y and needs z = 0).

Every problem is a ``ValueError`` that names the file and the fix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from catenax.io import read_obj, read_scenario_text

__all__ = ["TARGET_SUFFIXES", "Target", "make_target", "read_target"]

#: The file formats of a target shape.
TARGET_SUFFIXES = (".csv", ".json", ".npz", ".obj")


class Target(NamedTuple):
    """Target positions of some nodes.

    Attributes:
        nodes: node indices, shape ``(k,)`` int, no repeats.
        positions: their target positions, shape ``(k, d)``.
    """

    nodes: np.ndarray
    positions: np.ndarray


def make_target(positions, n_nodes: int, dim: int, nodes=None, name: str = "target") -> Target:
    """Check target positions against a network of ``n_nodes`` nodes in ``dim`` dimensions.

    Args:
        positions: ``(n, d)`` rows for every node, or ``(k, d)`` rows for ``nodes``.
        n_nodes: the network's number of nodes.
        dim: its dimension.
        nodes: the node indices of the rows (``None``: all nodes, in order).
        name: what to call the target in messages (a file name).

    Returns:
        A :class:`Target`.

    Raises:
        ValueError: wrong shape, non-finite numbers, an index out of range or repeated.

    Example:
        >>> make_target([[0.0, 0.0], [1.0, -0.5], [2.0, 0.0]], 3, 2, nodes=None).nodes.tolist()
        [0, 1, 2]
    """
    try:
        pos = np.asarray(positions, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: positions are not a table of numbers; give rows of "
                         f"{dim} numbers") from None  # fmt: skip
    if pos.ndim != 2 or pos.shape[1] != dim:
        shape = "x".join(map(str, pos.shape))
        raise ValueError(
            f"{name}: positions have shape ({shape}) but the network is {dim}D; give one row "
            f"of {dim} numbers per node"
        )
    if nodes is None:
        if pos.shape[0] != n_nodes:
            raise ValueError(
                f"{name}: {pos.shape[0]} rows of positions for a network of {n_nodes} nodes; "
                f"give one row per node (or name the nodes: CSV rows node,x,y[,z])"
            )
        idx = np.arange(n_nodes)
    else:
        idx = _indices(nodes, pos.shape[0], n_nodes, name)
    if not np.all(np.isfinite(pos)):
        row = int(np.flatnonzero(~np.isfinite(pos).all(axis=1))[0])
        raise ValueError(f"{name}: row {row} has a number that is not finite; give finite "
                         f"coordinates")  # fmt: skip
    if idx.size == 0:
        raise ValueError(f"{name}: no target nodes; give at least one row")
    return Target(idx, pos)


def _indices(nodes, rows: int, n_nodes: int, name: str) -> np.ndarray:
    idx = np.asarray(nodes)
    if idx.ndim != 1 or idx.shape[0] != rows or (idx.size and idx.dtype.kind not in "iu"):
        raise ValueError(f"{name}: nodes must be {rows} integer node indices, one per row")
    bad = np.flatnonzero((idx < 0) | (idx >= n_nodes))
    if bad.size:
        raise ValueError(
            f"{name}: node index {int(idx[bad[0]])} is out of range; the network's nodes run "
            f"from 0 to {n_nodes - 1}"
        )
    uniq, counts = np.unique(idx, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f"{name}: node {int(uniq[counts > 1][0])} is given twice; give it once")
    return idx.astype(np.int64)


def read_target(path: str | os.PathLike, n_nodes: int, dim: int) -> Target:
    """Read a target file (``.csv``, ``.json``, ``.npz`` or ``.obj``; see the module doc).

    Args:
        path: the file.
        n_nodes: the network's number of nodes.
        dim: its dimension.

    Returns:
        A :class:`Target`.

    Raises:
        ValueError: an unknown suffix, a file that is missing or does not parse,
            the wrong number of rows or coordinates, a node index out of range;
            the message starts with the file's name.

    Example:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = p.write_text("node,x,y" + chr(10) + "1,0.0,-0.4" + chr(10))
        >>> t = read_target(p, 3, 2)
        >>> t.nodes.tolist(), t.positions.tolist()
        ([1], [[0.0, -0.4]])
    """
    path = Path(path)
    name = path.name or str(path)
    suffix = path.suffix.lower()
    if suffix not in TARGET_SUFFIXES:
        raise ValueError(
            f"{name}: unknown target format {path.suffix or '(none)'!r}; use "
            f"{', '.join(TARGET_SUFFIXES)}"
        )
    if suffix == ".obj":
        return _obj_target(path, name, n_nodes, dim)
    if suffix == ".npz":
        pos, nodes = _npz(path, name)
        return make_target(pos, n_nodes, dim, nodes, name)
    text = read_scenario_text(path)
    if suffix == ".json":
        pos, nodes = _json(text, name)
        return make_target(pos, n_nodes, dim, nodes, name)
    nodes, pos = _csv(text, name, dim)
    return make_target(pos, n_nodes, dim, nodes, name)


def _obj_target(path, name, n_nodes, dim) -> Target:
    pos = read_obj(path).positions
    if dim == 2:
        if np.any(pos[:, 2] != 0):
            raise ValueError(f"{name}: the network is 2D but the OBJ has vertices with z != 0; "
                             f"give z = 0 (or a .csv with rows node,x,y)")  # fmt: skip
        pos = pos[:, :2]
    return make_target(pos, n_nodes, dim, None, name)


def _npz(path, name):
    try:
        with np.load(path, allow_pickle=False) as data:
            if "positions" not in data:
                raise ValueError(f"{name}: no array 'positions'; save the target positions "
                                 f"as positions=(n, d) array")  # fmt: skip
            nodes = data["nodes"] if "nodes" in data else None
            return data["positions"], nodes
    except (OSError, EOFError) as e:
        raise ValueError(f"{name}: not a readable .npz file ({e}); check the file") from None
    except ValueError as e:
        if str(e).startswith(name):
            raise
        raise ValueError(f"{name}: not a readable .npz file ({e}); check the file") from None


def _json(text, name):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{name}:{e.lineno}: not valid JSON ({e.msg}); check the file") from None
    if not isinstance(data, dict) or "positions" not in data:
        raise ValueError(f"{name}: expected an object with 'positions' (one row per node); "
                         f"the JSON of 'catenax relax --json' has it")  # fmt: skip
    return data["positions"], data.get("nodes") if isinstance(data.get("nodes"), list) else None


def _csv(text, name, dim):
    nodes, rows, first = [], [], True
    want = f"rows node,{','.join('xyz'[:dim])}"
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(",")]
        header, first = first and not _is_number(fields[0]), False
        if header:
            continue
        if len(fields) != dim + 1:
            raise ValueError(f"{name}:{lineno}: {len(fields)} fields but the network is {dim}D; "
                             f"give {want}")  # fmt: skip
        try:
            node = int(fields[0])
            coords = [float(f) for f in fields[1:]]
        except ValueError:
            raise ValueError(f"{name}:{lineno}: {line!r} is not a node index and {dim} numbers; "
                             f"give {want}") from None  # fmt: skip
        nodes.append(node)
        rows.append(coords)
    if not rows:
        raise ValueError(f"{name}: no target rows; give {want}")
    return np.asarray(nodes, dtype=np.int64), np.asarray(rows)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
