"""Geometry files in and out: Wavefront OBJ and COMPAS 2 JSON (``Mesh``/``Graph``).

Written by :func:`write_obj` for CAD; read by the scenario key ``mesh``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from catenax.model import Network

from .files import atomic_write, check_output_path

__all__ = ["write_obj"]


def write_obj(path: str | os.PathLike, x, net: Network) -> Path:
    """Write node positions and the network's faces/lines as a Wavefront .obj file.

    Args:
        path: destination (.obj); its folder must exist.
        x: node positions, shape ``(n, d)``.
        net: the network (springs and ``faces``).

    Returns:
        The destination as a :class:`~pathlib.Path`.

    Raises:
        ValueError: the folder does not exist or the suffix is not .obj.

    Example:
        >>> import catenax, tempfile, pathlib
        >>> net = catenax.chain2d(1)
        >>> p = write_obj(pathlib.Path(tempfile.mkdtemp()) / "c.obj", net.positions, net)
        >>> [line for line in p.read_text().splitlines() if line.startswith("l")]
        ['l 1 2', 'l 2 3']
    """
    path = check_output_path(path, (".obj",), "path")
    x = np.asarray(x, dtype=float)
    if x.shape[1] == 2:
        x = np.concatenate([x, np.zeros((x.shape[0], 1))], axis=1)
    springs = np.asarray(net.springs)
    faces = np.asarray(net.faces)
    edges = set()
    for f in faces:
        for a, b in zip(f, np.roll(f, -1), strict=True):
            edges.add((min(a, b), max(a, b)))
    lines = [s for s in springs if (min(s), max(s)) not in edges]
    out = ["# catenax relaxed network", f"# {len(x)} nodes, {len(springs)} springs"]
    out += [f"v {p[0]!r} {p[1]!r} {p[2]!r}" for p in x.tolist()]
    out += [f"l {a + 1} {b + 1}" for a, b in lines]
    out += ["f " + " ".join(str(int(v) + 1) for v in f) for f in faces]
    text = "\n".join(out) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
