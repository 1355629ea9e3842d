"""COMPAS 2 JSON in and out: ``Mesh`` and ``Graph`` as ``compas.json_dump`` writes them.

``compas`` itself is never imported: its JSON is read and written as plain
JSON, and ``compas.json_load`` reads what :func:`write_compas` writes into an
equal structure. A COMPAS Mesh cannot hold an edge on no face: those go into
the Mesh's ``catenax_lines`` attribute, which :func:`read_compas` reads back.
"""

from __future__ import annotations

import ast
import json
import os
import uuid
from pathlib import Path

import numpy as np

from .files import atomic_write, check_output_path, json_text
from .mesh_data import MeshData, _clean_face, _face_rows, _pad_faces, _read_text, _unique_edges

__all__ = ["LINES_ATTRIBUTE", "read_compas", "write_compas"]

_MESH = "compas.datastructures/Mesh"
_GRAPH = "compas.datastructures/Graph"
#: The attribute of a COMPAS Mesh written by catenax that holds the edges on no face.
LINES_ATTRIBUTE = "catenax_lines"
_SAVE_AGAIN = "save it again with compas.json_dump"


def _compas_key(key: str):
    """A COMPAS key as written in JSON (``"3"``, ``"'a'"``, ``"(0, 1)"``) as its Python value."""
    if key.isascii() and key.lstrip("-").isdigit():  # the usual case, fast
        return int(key)
    try:
        value = ast.literal_eval(key)
        hash(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return key
    return value


def _compas_index(name: str, keys) -> dict:
    """Contiguous indices of COMPAS vertex/node keys: sorted by integer id, else in file order."""
    values = [_compas_key(k) for k in keys]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        order = sorted(range(len(values)), key=values.__getitem__)
    else:
        order = list(range(len(values)))
    index = {}
    for i, k in enumerate(order):
        index[values[k]] = i
    if len(index) < len(values):
        raise ValueError(f"{name}: two vertices have the same key; give each a different key")
    return index


def _compas_positions(name: str, items: dict, index: dict, defaults) -> np.ndarray:
    defaults = defaults if isinstance(defaults, dict) else {}
    out = np.zeros((len(items), 3))
    for key, attr in items.items():
        i = index[_compas_key(key)]
        attr = attr if isinstance(attr, dict) else {}
        for j, axis in enumerate("xyz"):
            value = attr.get(axis, defaults.get(axis, 0.0))
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not np.isfinite(value)
            ):
                raise ValueError(
                    f"{name}: vertex {key}: {axis} = {value!r} is not a finite number; fix the "
                    f"coordinates"
                )
            out[i, j] = value
    return out


def _compas_pairs(name: str, index: dict, pairs) -> list[list[int]]:
    out = []
    for u, v in pairs:
        if u not in index or v not in index:
            missing = u if u not in index else v
            raise ValueError(
                f"{name}: an edge refers to {missing!r}, which is not a vertex; fix the edge"
            )
        if index[u] == index[v]:
            raise ValueError(f"{name}: an edge joins {u!r} to itself; remove it")
        out.append([index[u], index[v]])
    return out


def _compas_mesh(name: str, data: dict) -> MeshData:
    vertex, face = data.get("vertex"), data.get("face")
    if not isinstance(vertex, dict) or not isinstance(face, dict):
        raise ValueError(f"{name}: a COMPAS Mesh without 'vertex' and 'face' tables; {_SAVE_AGAIN}")
    index = _compas_index(name, vertex)
    positions = _compas_positions(name, vertex, index, data.get("default_vertex_attributes"))
    faces = []
    for fkey, corners in face.items():
        where = f"{name}: face {fkey}"
        if not isinstance(corners, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) for c in corners
        ):
            raise ValueError(
                f"{where}: not a list of vertex keys; save the mesh again with compas.json_dump"
            )
        missing = [c for c in corners if c not in index]
        if missing:
            raise ValueError(
                f"{where}: refers to vertex {missing[0]} but the mesh has no such vertex "
                f"({len(index)} vertices); fix the face"
            )
        faces.append(_clean_face([index[c] for c in corners], where))
    attributes = data.get("attributes") or {}
    extra = attributes.get(LINES_ATTRIBUTE, []) if isinstance(attributes, dict) else []
    lines = _compas_pairs(name, index, _pair_list(name, extra))
    return MeshData(positions, _unique_edges(faces, lines), _pad_faces(faces, name))


def _pair_list(name: str, extra) -> list:
    if not isinstance(extra, list) or not all(isinstance(p, list) and len(p) == 2 for p in extra):
        raise ValueError(
            f"{name}: the attribute {LINES_ATTRIBUTE!r} must be a list of [u, v] vertex pairs"
        )
    return [tuple(p) for p in extra]


def _compas_graph(name: str, data: dict) -> MeshData:
    node, edge = data.get("node"), data.get("edge")
    if not isinstance(node, dict) or not isinstance(edge, dict):
        raise ValueError(f"{name}: a COMPAS Graph without 'node' and 'edge' tables; {_SAVE_AGAIN}")
    index = _compas_index(name, node)
    positions = _compas_positions(name, node, index, data.get("default_node_attributes"))
    pairs = []
    for u, nbrs in edge.items():
        if not isinstance(nbrs, dict):
            raise ValueError(f"{name}: the edges of node {u} are not a table; {_SAVE_AGAIN}")
        pairs += [(_compas_key(u), _compas_key(v)) for v in nbrs]
    return MeshData(
        positions, _unique_edges([], _compas_pairs(name, index, pairs)), _pad_faces([], name)
    )


def read_compas(path: str | os.PathLike) -> MeshData:
    """Read a COMPAS 2 ``Mesh`` or ``Graph`` saved with ``compas.json_dump``.

    Vertex (node) keys become contiguous indices in the order of their integer
    ids (in file order when they are not integers). A Mesh gives its faces and
    their edges (plus the pairs in its ``catenax_lines`` attribute, written by
    :func:`write_compas`); a Graph gives its nodes and edges. Subclasses (a
    ``dtype`` whose ``inheritance`` lists Mesh or Graph) are read as their base.

    Args:
        path: the ``.json`` file.

    Returns:
        A :class:`MeshData`.

    Raises:
        ValueError: missing or unreadable file, not JSON, not a COMPAS Mesh or
            Graph, no vertices, a bad coordinate, a face or edge referring to a
            missing vertex, a face with fewer than 3 different corners.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> p = write_compas(d / "g.json", [[0, 0], [1, 0]], [[0, 1]])
        >>> m = read_compas(p)
        >>> m.positions.tolist(), m.edges.tolist(), m.faces.shape
        ([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], [[0, 1]], (0, 4))
    """
    name, text = _read_text(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{name}:{e.lineno}: not valid JSON: {e.msg}; save it again with compas.json_dump"
        ) from None
    except (ValueError, RecursionError) as e:
        raise ValueError(
            f"{name}: not valid JSON ({type(e).__name__}); save it again with compas.json_dump"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("dtype"), str):
        raise ValueError(
            f"{name}: not a COMPAS JSON file (no 'dtype'); save a Mesh or Graph with "
            f"compas.json_dump(mesh, path)"
        )
    dtype = doc["dtype"]
    kinds = [dtype] + [k for k in doc.get("inheritance") or [] if isinstance(k, str)]
    data = doc.get("data", doc.get("value"))
    if _MESH not in kinds and _GRAPH not in kinds:
        raise ValueError(
            f"{name}: a COMPAS {dtype!r}, not a Mesh or Graph; save a "
            f"compas.datastructures.Mesh or Graph with compas.json_dump"
        )
    if not isinstance(data, dict):
        raise ValueError(
            f"{name}: a COMPAS {dtype!r} without its 'data'; save it again with compas.json_dump"
        )
    mesh = _compas_mesh(name, data) if _MESH in kinds else _compas_graph(name, data)
    if len(mesh.positions) == 0:
        raise ValueError(f"{name}: no vertices; save a mesh or graph that has some")
    return mesh


def _check_geometry(positions, edges, faces):
    x = np.asarray(positions, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] not in (2, 3) or not np.all(np.isfinite(x)):
        raise ValueError(
            f"positions: must be finite numbers of shape (n, 2) or (n, 3), got shape {x.shape}"
        )
    if x.shape[1] == 2:
        x = np.concatenate([x, np.zeros((len(x), 1))], axis=1)
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    f = np.zeros((0, 3), dtype=np.int64) if faces is None else np.asarray(faces, dtype=np.int64)
    last = len(x) - 1
    if e.size and (e.min() < 0 or e.max() > last):
        raise ValueError(f"edges: node indices must lie in 0..{last}")
    if np.any(e[:, 0] == e[:, 1]):
        k = int(np.argmax(e[:, 0] == e[:, 1]))
        raise ValueError(f"edges: edge {k} joins node {e[k, 0]} to itself; remove it")
    if f.size and (f.min() < -1 or f.max() > last):
        raise ValueError(f"faces: node indices must lie in 0..{last} (-1 pads shorter faces)")
    rows = [_clean_face(row, f"faces: face {k}") for k, row in enumerate(_face_rows(f))]
    return x, e, rows


def write_compas(path: str | os.PathLike, positions, edges, faces=None, attributes=None) -> Path:
    """Write nodes, edges and faces as a COMPAS 2 ``Mesh`` (with faces) or ``Graph`` JSON file.

    ``compas.json_load`` reads the file into an equal structure. With faces, a
    Mesh is written: its edges are its faces' edges, and the edges on no face
    (which a COMPAS Mesh cannot hold) go into its ``catenax_lines`` attribute
    as ``[u, v]`` pairs, which :func:`read_compas` reads back, so nothing is
    lost. Without faces, a Graph with one entry per edge is written.

    Args:
        path: destination (``.json``); its folder must exist.
        positions: ``(n, 2)`` (``z = 0`` is written) or ``(n, 3)`` node positions.
        edges: ``(m, 2)`` node index pairs.
        faces: ``(f, k)`` node indices with ``-1`` padding, or ``None``.
        attributes: JSON-serialisable structure attributes (e.g. ``{"units": "m"}``),
            stored in the COMPAS object's ``attributes``.

    Returns:
        The destination as a :class:`~pathlib.Path`.

    Raises:
        ValueError: bad shapes or indices, the folder does not exist, or the suffix
            is not .json.

    Example:
        >>> import tempfile, pathlib, json
        >>> p = write_compas(pathlib.Path(tempfile.mkdtemp()) / "m.json",
        ...                  [[0, 0], [1, 0], [0, 1]], [[0, 1], [1, 2], [2, 0]], [[0, 1, 2]])
        >>> json.loads(p.read_text())["dtype"]
        'compas.datastructures/Mesh'
    """
    path = check_output_path(path, (".json",), "path")
    x, e, f = _check_geometry(positions, edges, faces)
    attrs = dict(attributes or {})
    nodes = {str(i): {"x": p[0], "y": p[1], "z": p[2]} for i, p in enumerate(x.tolist())}
    defaults = {"x": 0.0, "y": 0.0, "z": 0.0}
    if f:
        on_faces = {(min(a, b), max(a, b)) for a, b in _unique_edges(f, []).tolist()}
        lines = [[a, b] for a, b in e.tolist() if (min(a, b), max(a, b)) not in on_faces]
        if lines:
            attrs[LINES_ATTRIBUTE] = lines
        dtype, data = (
            _MESH,
            {
                "attributes": attrs,
                "default_vertex_attributes": defaults,
                "default_edge_attributes": {},
                "default_face_attributes": {},
                "vertex": nodes,
                "face": {str(k): c for k, c in enumerate(f)},
                "facedata": {str(k): {} for k in range(len(f))},
                "edgedata": {},
                "max_vertex": len(x) - 1,
                "max_face": len(f) - 1,
            },
        )
    else:
        adjacency: dict[str, dict] = {str(i): {} for i in range(len(x))}
        for a, b in e.tolist():
            if str(a) not in adjacency[str(b)]:
                adjacency[str(a)][str(b)] = {}
        dtype, data = (
            _GRAPH,
            {
                "attributes": attrs,
                "default_node_attributes": defaults,
                "default_edge_attributes": {},
                "node": nodes,
                "edge": adjacency,
                "max_node": len(x) - 1,
            },
        )
    doc = {"dtype": dtype, "data": data, "inheritance": [], "guid": str(uuid.uuid4())}
    text = json_text(doc)
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
