"""The geometry read from a file (:class:`MeshData`) and the rules every reader shares.

Rules, in one place (used by :mod:`.mesh_files` for OBJ and :mod:`.compas_files`
for COMPAS JSON):

* every undirected edge appears once, in first-seen orientation: the edges of
  the faces first (in face order), then those of OBJ ``l`` lines or of a
  COMPAS ``Graph``;
* a face that repeats a vertex consecutively (``f 1 2 2 3``, or a last corner
  equal to the first, as some CAD exports write triangles) loses the repeat,
  as ``compas`` does; a face left with fewer than 3 corners, or visiting a
  vertex twice, is refused. An ``l`` line drops consecutive repeats likewise;
* geometry files are read like scenario files: regular files of at most
  :data:`~catenax.io.scenario_text.MAX_SCENARIO_BYTES`, UTF-8 text. Every
  failure is a ``ValueError`` that starts with the file's name (and the line,
  for OBJ) and says the fix.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

import numpy as np

from catenax.limits import check_memory, format_bytes

from .scenario_text import MAX_SCENARIO_BYTES

__all__ = ["MeshData", "boundary_vertices"]


class MeshData(NamedTuple):
    """Nodes, edges and faces read from a geometry file.

    Attributes:
        positions: ``(n, 3)`` float64 vertex coordinates.
        edges: ``(m, 2)`` int64, every undirected edge once (first-seen
            orientation): the faces' edges first, in face order, then the
            lines' (OBJ ``l``) or the graph's edges.
        faces: ``(f, k)`` int64 vertex indices, ``-1`` padding shorter faces at
            the end of their row; shape ``(0, 4)`` when there are none.
    """

    positions: np.ndarray
    edges: np.ndarray
    faces: np.ndarray


def _read_text(path) -> tuple[str, str]:
    """(name, text) of a geometry file: a regular UTF-8 file within the size limit."""
    path = Path(path)
    name = path.name or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ValueError(f"{name}: not found ('{path}'); check the path") from None
    except OSError as e:
        raise ValueError(f"{name}: cannot read the file: {e.strerror or e}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{name}: not a regular file; give an .obj or a COMPAS .json file")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(MAX_SCENARIO_BYTES + 1)
        except OSError as e:
            raise ValueError(f"{name}: cannot read the file: {e.strerror or e}") from None
    if len(data) > MAX_SCENARIO_BYTES:
        raise ValueError(
            f"{name}: the file is larger than {format_bytes(MAX_SCENARIO_BYTES)}, the limit for "
            f'geometry files; use a coarser mesh or a builder (builder = "net", ...)'
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ValueError(
            f"{name}:{line}: not UTF-8 text (byte {data[e.start]:#04x}); save the file as "
            f"UTF-8 (plain ASCII OBJ or JSON)"
        ) from None
    if "\0" in text:
        line = text.count("\n", 0, text.find("\0")) + 1
        raise ValueError(f"{name}:{line}: a NUL character; a geometry file is text: remove it")
    return name, text


def _clean_face(corners: list[int], where: str) -> list[int]:
    """A face's corners without consecutive repeats (cyclically); refused if degenerate."""
    out = [v for k, v in enumerate(corners) if k == 0 or v != corners[k - 1]]
    while len(out) > 1 and out[-1] == out[0]:
        out.pop()
    if len(out) < 3:
        raise ValueError(
            f"{where}: a face needs at least 3 different corners, this one has "
            f"{len(set(corners))}; remove the face or give all its corners"
        )
    if len(set(out)) < len(out):
        twice = next(v for v in out if out.count(v) > 1)
        first, second = [k + 1 for k, v in enumerate(corners) if v == twice][:2]
        raise ValueError(
            f"{where}: the face visits one vertex twice (corners {first} and {second}); "
            f"split it into simple faces"
        )
    return out


def _unique_edges(faces: list[list[int]], chains: list[list[int]]) -> np.ndarray:
    """Every undirected edge once: faces' edges (closed loops) first, then chains' (open)."""
    seen: set[tuple[int, int]] = set()
    out: list[tuple[int, int]] = []
    loops = [zip(f, f[1:] + f[:1], strict=True) for f in faces]
    paths = [zip(c[:-1], c[1:], strict=True) for c in chains]
    for pairs in loops + paths:
        for a, b in pairs:
            key = (a, b) if a < b else (b, a)
            if a != b and key not in seen:
                seen.add(key)
                out.append((a, b))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def _pad_faces(faces: list[list[int]], name: str) -> np.ndarray:
    """``(f, k)`` int64 with -1 padding; ``(0, 4)`` when there are none."""
    if not faces:
        return np.zeros((0, 4), dtype=np.int64)
    k = max(len(f) for f in faces)
    check_memory(
        8.0 * len(faces) * k,
        name,
        f"{len(faces)} faces of up to {k} corners",
        "split the long faces into triangles or quads",
    )
    out = np.full((len(faces), k), -1, dtype=np.int64)
    for row, f in zip(out, faces, strict=True):
        row[: len(f)] = f
    return out


def _face_rows(faces) -> list[list[int]]:
    """The rows of a ``-1``-padded face array as lists of corners."""
    f = np.asarray(faces, dtype=np.int64)
    if f.size == 0:
        return []
    return [[int(v) for v in row if v >= 0] for row in f.reshape(len(f), -1)]


def boundary_vertices(faces) -> np.ndarray:
    """The vertices on an edge used by exactly one face (the mesh's open boundary).

    Args:
        faces: ``(f, k)`` vertex indices, ``-1`` padding shorter faces at the end of a row.

    Returns:
        Sorted int64 indices (empty for a closed surface or no faces).

    Example:
        >>> boundary_vertices([[0, 1, 4, 3], [1, 2, 5, 4]]).tolist()
        [0, 1, 2, 3, 4, 5]
        >>> boundary_vertices([[0, 1, 2], [0, 2, 3], [0, 3, 1], [1, 3, 2]]).tolist()
        []
    """
    f = np.asarray(faces, dtype=np.int64)
    if f.size == 0:
        return np.zeros(0, dtype=np.int64)
    f = f.reshape(len(f), -1)
    valid = f >= 0
    nxt = np.where(np.roll(valid, -1, axis=1), np.roll(f, -1, axis=1), f[:, :1])
    nxt[:, -1] = f[:, 0]
    pairs = np.sort(np.stack([f[valid], nxt[valid]], axis=1), axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    edges, counts = np.unique(pairs, axis=0, return_counts=True)
    return np.unique(edges[counts == 1]).astype(np.int64)
