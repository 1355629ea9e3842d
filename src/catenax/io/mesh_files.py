"""Geometry files in and out: Wavefront OBJ here, COMPAS 2 JSON in :mod:`.compas_files`.

Read by the scenario key ``mesh`` (:func:`read_mesh`, by suffix), written by
:func:`write_obj` and :func:`~catenax.io.compas_files.write_compas` for CAD.
The shared rules (edges once, degenerate faces, file checks) are in
:mod:`.mesh_data`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from catenax.model import Network

from .compas_files import read_compas, write_compas
from .files import atomic_write, check_output_path
from .mesh_data import (
    MeshData,
    _clean_face,
    _face_rows,
    _pad_faces,
    _read_text,
    _unique_edges,
    boundary_vertices,
)

__all__ = [
    "MESH_SUFFIXES",
    "MeshData",
    "boundary_vertices",
    "read_compas",
    "read_mesh",
    "read_obj",
    "write_compas",
    "write_obj",
]

#: Suffixes :func:`read_mesh` reads.
MESH_SUFFIXES = (".obj", ".json")

# OBJ statements that carry nothing catenax uses, and free-form ones it cannot use.
_OBJ_IGNORED = frozenset(
    "vt vn vp o g s p mg usemtl mtllib lod bevel c_interp d_interp shadow_obj trace_obj "
    "maplib usemap".split()
)
_OBJ_FREEFORM = frozenset(
    "cstype deg bmat step curv curv2 surf parm trim hole scrv sp end con".split()
)


def read_mesh(path: str | os.PathLike) -> MeshData:
    """Read a geometry file by its suffix: ``.obj`` with read_obj, ``.json`` with read_compas.

    Args:
        path: the file.

    Returns:
        A :class:`MeshData`.

    Raises:
        ValueError: another suffix, or whatever the reader refuses; the
            message starts with the file's name.

    Example:
        >>> read_mesh("plan.dxf")
        Traceback (most recent call last):
        ...
        ValueError: plan.dxf: not an .obj or COMPAS .json file; export the geometry as ...
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".obj":
        return read_obj(path)
    if suffix == ".json":
        return read_compas(path)
    raise ValueError(
        f"{Path(path).name}: not an .obj or COMPAS .json file; export the geometry as "
        f"Wavefront OBJ or with compas.json_dump"
    )


def _obj_statements(text: str):
    """(line number, keyword, arguments) of each OBJ statement: comments dropped, ``\\`` joined."""
    lines = text.splitlines()
    k = 0
    while k < len(lines):
        start, line = k, lines[k].split("#", 1)[0]
        while line.rstrip().endswith("\\"):
            line = line.rstrip()[:-1]
            k += 1
            if k < len(lines):
                line += " " + lines[k].split("#", 1)[0]
        k += 1
        parts = line.split()
        if parts:
            yield start + 1, parts[0], parts[1:]


def _obj_vertex(where: str, args: list[str]) -> tuple[float, float, float]:
    if len(args) < 3:
        raise ValueError(f"{where}: a vertex needs x y z, got {len(args)} numbers; write 'v x y z'")
    try:
        x, y, z = (float(a) for a in args[:3])
    except ValueError:
        raise ValueError(
            f"{where}: a vertex's x y z must be numbers, got {' '.join(args[:3])!r}"
        ) from None
    if not all(np.isfinite((x, y, z))):
        raise ValueError(
            f"{where}: a vertex's x y z must be finite numbers, got {' '.join(args[:3])}"
        )
    return x, y, z


def _obj_indices(where: str, what: str, args: list[str], count: int) -> list[int]:
    """0-based vertex indices of a face or line (``a``, ``a/b``, ``a//c``, ``a/b/c``; ``-k``)."""
    out = []
    for arg in args:
        token = arg.split("/", 1)[0]
        try:
            idx = int(token)
        except ValueError:
            raise ValueError(
                f"{where}: {what} corner {arg!r} is not a vertex index; write whole numbers "
                f"such as '{what[0]} 1 2 3' or '1/1/1'"
            ) from None
        if idx == 0:
            raise ValueError(f"{where}: {what} refers to vertex 0; OBJ vertex indices start at 1")
        if idx < 0 and count + idx < 0:
            raise ValueError(
                f"{where}: {what} refers to vertex {idx} but only {count} vertices come before "
                f"it; a negative index counts back from this line"
            )
        out.append(count + idx if idx < 0 else idx - 1)
    return out


def _check_range(where: str, what: str, corners: list[int], n: int) -> None:
    high = max(corners, default=-1)
    if high >= n:
        raise ValueError(
            f"{where}: {what} refers to vertex {high + 1} but the file has {n} vertices; "
            f"fix the index or add the missing 'v' lines"
        )


def read_obj(path: str | os.PathLike) -> MeshData:
    """Read a Wavefront OBJ file: ``v`` vertices, ``f`` faces and ``l`` polylines.

    Faces may use the ``a/b/c``, ``a//c`` and ``a/b`` forms and negative (relative)
    indices; a polyline's consecutive vertices become edges; ``\\`` continues a line.
    Texture and normal data, groups, objects, materials and comments are ignored;
    free-form geometry (``curv``, ``surf``, ...) is refused.

    Args:
        path: the ``.obj`` file.

    Returns:
        A :class:`MeshData` (see the module's rules for edges and degenerate faces).

    Raises:
        ValueError: missing or unreadable file, not UTF-8, too large, no vertices,
            a bad number or index, a face with fewer than 3 different corners, a
            line with fewer than 2, or an unknown statement; the message starts
            with ``name:line``.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "quad.obj"
        >>> _ = p.write_text("v 0 0 0\\nv 1 0 0\\nv 1 1 0\\nv 0 1 0\\nf 1/1 2/2 3/3 4/4\\nl 1 3\\n")
        >>> m = read_obj(p)
        >>> m.positions.shape, m.edges.tolist(), m.faces.tolist()
        ((4, 3), [[0, 1], [1, 2], [2, 3], [3, 0], [0, 2]], [[0, 1, 2, 3]])
    """
    name, text = _read_text(path)
    vertices: list[tuple[float, float, float]] = []
    faces: list[tuple[str, list[int]]] = []
    lines: list[tuple[str, list[int]]] = []
    for no, key, args in _obj_statements(text):
        where = f"{name}:{no}"
        if key == "v":
            vertices.append(_obj_vertex(where, args))
        elif key in ("f", "l"):
            what = "face" if key == "f" else "line"
            corners = _obj_indices(where, what, args, len(vertices))
            (faces if key == "f" else lines).append((where, corners))
        elif key in _OBJ_FREEFORM:
            raise ValueError(
                f"{where}: free-form geometry ('{key}') cannot be read; export the surface "
                f"as a polygon mesh (faces)"
            )
        elif key not in _OBJ_IGNORED:
            raise ValueError(
                f"{where}: unknown OBJ statement {key!r}; a mesh has 'v', 'f' and 'l' lines"
            )
    n = len(vertices)
    if n == 0:
        raise ValueError(f"{name}: no vertices ('v' lines); export the mesh with its vertices")
    face_rows = []
    for where, corners in faces:
        _check_range(where, "face", corners, n)
        face_rows.append(_clean_face(corners, where))
    chains = []
    for where, corners in lines:
        _check_range(where, "line", corners, n)
        chain = [v for k, v in enumerate(corners) if k == 0 or v != corners[k - 1]]
        if len(chain) < 2:
            raise ValueError(
                f"{where}: a line needs at least 2 different vertices; remove it or add a vertex"
            )
        chains.append(chain)
    positions = np.asarray(vertices, dtype=np.float64).reshape(n, 3)
    return MeshData(positions, _unique_edges(face_rows, chains), _pad_faces(face_rows, name))


def write_obj(path: str | os.PathLike, x, net: Network) -> Path:
    """Write node positions and the network's faces/lines as a Wavefront .obj file.

    Springs on no face are written as ``l`` lines; ``-1`` entries pad shorter
    faces and are skipped. Coordinates are written with the shortest digits that
    read back exactly, so :func:`read_obj` gives back the same positions, edges
    (as a set) and faces.

    Args:
        path: destination (.obj); its folder must exist.
        x: node positions, shape ``(n, d)`` with ``d`` 2 (``z = 0`` is written) or 3.
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
    springs = np.asarray(net.springs, dtype=np.int64).reshape(-1, 2)
    faces = _face_rows(np.asarray(net.faces))
    on_faces = {(min(a, b), max(a, b)) for a, b in _unique_edges(faces, []).tolist()}
    lines = [(a, b) for a, b in springs.tolist() if (min(a, b), max(a, b)) not in on_faces]
    out = ["# catenax relaxed network", f"# {len(x)} nodes, {len(springs)} springs"]
    out += [f"v {p[0]!r} {p[1]!r} {p[2]!r}" for p in x.tolist()]
    out += [f"l {a + 1} {b + 1}" for a, b in lines]
    out += ["f " + " ".join(str(v + 1) for v in f) for f in faces]
    text = "\n".join(out) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
