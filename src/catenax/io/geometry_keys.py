"""The geometry and supports of an explicit ``[structure]``: ``mesh``, ``fixed``, ``supports``.

* ``mesh = "roof.obj"`` (or a COMPAS ``.json``), instead of ``nodes`` and
  ``springs``: the file's vertices become the nodes, its edges the springs
  (in the reader's order), its faces the network's faces. The path is
  relative to the scenario file's folder. ``dim`` defaults to 3 (``dim = 2``
  when every z is 0).
* ``fixed``: each entry a node index (every coordinate held) or
  ``[node, "AXES"]`` with AXES letters from ``"xy"`` (2D) or ``"xyz"`` (3D)
  held (a roller: ``[7, "y"]``).
* ``supports = "boundary"``: every vertex on an edge of one face only is held.

Every error is the ``ValueError`` of :meth:`ScenarioText.error`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import mesh_files
from .scenario_text import ScenarioText
from .scenario_values import index_error, is_int, read_int, read_str, show_value

__all__ = ["AXES", "SUPPORTS", "read_fixed", "read_mesh_key", "read_supports"]

_T = "structure"

#: The axis letters of a roller entry ``[node, "AXES"]``, by dimension.
AXES = {2: "xy", 3: "xyz"}

#: The values of ``supports`` in the explicit and mesh forms.
SUPPORTS = ("boundary",)


def read_mesh_key(s: dict, ctx: ScenarioText):
    """Nodes, springs, faces and dimension from ``mesh = "file"`` (and ``dim`` if given).

    Args:
        s: the ``[structure]`` table, with ``mesh`` (and without
            ``nodes``/``springs``: given together they are an error).
        ctx: the scenario's text; its ``base_dir`` is where a relative path
            starts (``None``: the working directory).

    Returns:
        ``(nodes (n, d), springs (m, 2), faces (f, k) or None, d)``.

    Raises:
        ValueError: ``mesh`` with ``nodes``/``springs``, not a string, a file
            the reader refuses (missing, not OBJ or COMPAS JSON, malformed),
            no vertices, or ``dim = 2`` with a vertex off z = 0.

    Example:
        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> lines = ["v 0 0 0", "v 1 0 0", "v 0 1 0", "f 1 2 3"]
        >>> _ = (folder / "t.obj").write_text(chr(10).join(lines))
        >>> ctx = ScenarioText("s.toml", None, base_dir=folder)
        >>> nodes, springs, faces, dim = read_mesh_key({"mesh": "t.obj", "dim": 2}, ctx)
        >>> nodes.shape, springs.shape, faces.tolist(), dim
        ((3, 2), (3, 2), [[0, 1, 2]], 2)
    """
    for other in ("nodes", "springs"):
        if other in s:
            raise ctx.error(
                _T,
                "mesh",
                f"mesh and {other} are both given; the mesh gives the nodes and springs: "
                f"remove {other} (and nodes/springs), or remove mesh",
            )
    name = read_str(ctx, _T, "mesh", s["mesh"])
    path = Path(name)
    if not path.is_absolute() and ctx.base_dir is not None:
        path = Path(ctx.base_dir) / path
    try:
        mesh = mesh_files.read_mesh(path)
    except (ValueError, OSError) as e:
        raise ctx.error(_T, "mesh", str(e)) from None
    nodes = np.asarray(mesh.positions, dtype=float)
    springs = np.asarray(mesh.edges, dtype=np.int64).reshape(-1, 2)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    if nodes.shape[0] == 0:
        raise ctx.error(_T, "mesh", f"{name!r} has no vertices; give a mesh with vertices")
    dim = read_int(ctx, _T, "dim", s["dim"], minimum=2, maximum=3) if "dim" in s else 3
    if dim == 2:
        off = np.flatnonzero(nodes[:, 2] != 0)
        if off.size:
            i = int(off[0])
            raise ctx.error(
                _T,
                "dim",
                f"dim = 2 but vertex {i} of the mesh is at z = {float(nodes[i, 2])!r}; a 2D "
                f"mesh has every z = 0: remove dim (3D) or flatten the mesh",
            )
        nodes = nodes[:, :2]
    return nodes, springs, (faces if faces.size else None), dim


def read_fixed(ctx: ScenarioText, value, n: int, dim: int):
    """The ``fixed`` key: node indices and rollers ``[node, "AXES"]``.

    Args:
        ctx: the scenario's text (for messages).
        value: the key's value, a list.
        n: the number of nodes.
        dim: the dimension (2 or 3).

    Returns:
        A list of node indices when every entry is a node, else a boolean
        mask of shape ``(n, dim)`` (entries on the same node combine).

    Raises:
        ValueError: not a list; an entry neither a node index in ``0..n-1``
            nor ``[node, "AXES"]`` with AXES non-empty, without repeats,
            from ``"xy"`` (2D) or ``"xyz"`` (3D).

    Example:
        >>> ctx = ScenarioText("s.toml", None)
        >>> read_fixed(ctx, [0, 2], 3, 2)
        [0, 2]
        >>> read_fixed(ctx, [0, [2, "y"]], 3, 2).tolist()
        [[True, True], [False, False], [False, True]]
        >>> read_fixed(ctx, [[2, "z"]], 3, 2)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: s.toml: structure.fixed: fixed[0] = [2, "z"]: axis 'z' is not ... 2D; ...
    """
    what = 'give node indices or [node, "AXES"] entries (e.g. [3, "y"])'
    if not isinstance(value, list):
        raise ctx.error(_T, "fixed", f"expected a list; {what}, got {show_value(value)}")
    mask = np.zeros((n, dim), bool)
    rollers = False
    for i, entry in enumerate(value):
        if isinstance(entry, list):
            node, axes = _roller(ctx, i, entry, n, dim)
            mask[node, axes] = True
            rollers = True
        elif is_int(entry) and 0 <= int(entry) < n:
            mask[int(entry)] = True
        else:
            raise index_error(ctx, _T, "fixed", f"[{i}]", entry, what, n - 1)
    if rollers:
        return mask
    return [int(v) for v in value]


def _roller(ctx, i, entry, n, dim):
    letters = AXES[dim]
    shown = _entry_text(entry)

    def fail(detail):
        raise ctx.error(_T, "fixed", f"fixed[{i}] = {shown}: {detail}")

    if len(entry) != 2 or not isinstance(entry[1], str):
        fail(f'expected [node, "AXES"] with AXES letters from "{letters}", e.g. [3, "y"]')
    node, axes = entry
    if not (is_int(node) and 0 <= int(node) < n):
        fail(f"{show_value(node)} is not a node index: node indices run from 0 to {n - 1}")
    if not axes:
        fail(f'no axis given; write the held axes from "{letters}", e.g. [{int(node)}, "y"]')
    for a in axes:
        if a not in letters:
            extra = f" in {dim}D" if a in "xyz" else ""
            fail(f"axis {a!r} is not one of {', '.join(letters)}{extra}; write the held axes "
                 f'with letters from "{letters}", e.g. [{int(node)}, "{letters[-1]}"]')  # fmt: skip
    if len(set(axes)) != len(axes):
        fail(f"an axis is repeated in {axes!r}; give each held axis once")
    return int(node), [letters.index(a) for a in axes]


def _entry_text(entry) -> str:
    try:
        text = json.dumps(entry)
    except (TypeError, ValueError):
        text = repr(entry)
    return text if len(text) <= 60 else text[:57] + "..."


def read_supports(ctx: ScenarioText, value, faces, n: int):
    """``supports = "boundary"``: the vertices on an edge of one face only.

    Args:
        ctx: the scenario's text (for messages).
        value: the key's value.
        faces: the mesh's faces ``(f, k)`` (``-1`` padding), or ``None``.
        n: the number of nodes.

    Returns:
        The sorted node indices to hold.

    Raises:
        ValueError: a value other than ``"boundary"``, no faces (no mesh, or
            a mesh of lines only), or a closed surface with no boundary.

    Example:
        >>> ctx = ScenarioText("s.toml", None)
        >>> read_supports(ctx, "corners", None, 3)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: s.toml: structure.supports: unknown supports value 'corners'; ...
    """
    read_str(ctx, _T, "supports", value, choices=SUPPORTS, noun="supports value")
    if faces is None or len(faces) == 0:
        raise ctx.error(
            _T,
            "supports",
            'supports = "boundary" needs the faces of a mesh (mesh = "file.obj" with faces); '
            "list the supported nodes in fixed instead",
        )
    nodes = np.unique(np.asarray(mesh_files.boundary_vertices(faces), dtype=np.int64))
    if nodes.size == 0:
        raise ctx.error(
            _T,
            "supports",
            "the mesh is a closed surface: no edge belongs to one face only, so it has no "
            "boundary; list the supported nodes in fixed instead",
        )
    return [int(v) for v in nodes if 0 <= v < n]
