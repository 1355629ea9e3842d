"""The ``[structure]`` table of a scenario file -> a validated :class:`~catenax.Network`.

Two forms: the explicit one (``dim``, ``nodes``, ``springs``, ...; see
:data:`REQUIRED_KEYS`, :data:`OPTIONAL_KEYS` and :data:`ALTERNATIVES`; or
``mesh = "file"`` instead of ``nodes``/``springs``) and ``builder = "..."``
with a builder's parameters (see :data:`BUILDERS`). The members' keys
(``ea``, ``prestress``, ``force_density``, ``line_mass``, ``cables``) are read
by :mod:`catenax.io.members_keys`, the geometry and supports (``mesh``,
``fixed`` with rollers, ``supports``) by :mod:`catenax.io.geometry_keys`.
Every error is the ``ValueError`` of :meth:`ScenarioText.error`: the file,
the line where it is known, and the key.
"""

from __future__ import annotations

import inspect

import numpy as np

from catenax.model import (
    Network,
    chain,
    chain2d,
    check_network_size,
    cloth,
    from_arrays,
    loads_from_rows,
)
from catenax.model import net as net_builder

from .geometry_keys import read_fixed, read_mesh_key, read_supports
from .members_keys import ALTERNATIVES as MEMBER_ALTERNATIVES
from .members_keys import check_exclusive, read_members
from .scenario_text import ScenarioText
from .scenario_values import (
    is_int,
    is_number,
    read_bool,
    read_float,
    read_indices,
    read_int,
    read_numbers,
    read_str,
)

__all__ = [
    "ALTERNATIVES",
    "BUILDERS",
    "OPTIONAL_KEYS",
    "REQUIRED_KEYS",
    "is_int",
    "is_number",
    "parse_structure",
]

#: Builders a scenario can name with ``builder = "..."``.
BUILDERS = {
    "chain": chain,
    "chain2d": chain2d,
    "net": net_builder,
    "cloth": cloth,
}

#: Keys of the explicit ``[structure]`` form: required (each may be replaced
#: by one of :data:`ALTERNATIVES`), then optional.
REQUIRED_KEYS = ("dim", "nodes", "springs", "stiffness", "rest_length", "mass", "fixed")
OPTIONAL_KEYS = (
    "gravity",
    "cables",
    "loads",
    "ea",
    "prestress",
    "force_density",
    "line_mass",
    "mesh",
    "supports",
)

#: A required key -> the keys that may stand in for it (``mesh`` gives
#: ``nodes``, ``springs`` and ``dim``; ``supports`` with a mesh, ``fixed``).
ALTERNATIVES = {
    "dim": ("mesh",),
    "nodes": ("mesh",),
    "springs": ("mesh",),
    **MEMBER_ALTERNATIVES,
    "fixed": ("supports",),
}

# Network field -> scenario key.
_FIELD_KEYS = {"positions": "nodes"}
_MESH_FIELD_KEYS = {"positions": "mesh", "springs": "mesh", "faces": "mesh"}

#: The table every error of this module names.
_T = "structure"


def _numbers(ctx, key, value, what, depth):
    return read_numbers(ctx, _T, key, value, depth, what)


def parse_structure(s: dict, ctx: ScenarioText) -> Network:
    """The network of a ``[structure]`` table (explicit form, ``mesh = ...`` or ``builder = ...``).

    Args:
        s: the table.
        ctx: the scenario's text (for messages; its ``base_dir`` for ``mesh``).

    Returns:
        The validated :class:`~catenax.Network`.

    Raises:
        ValueError: an unknown, missing or bad key, or an invalid network; the
            message is :meth:`ScenarioText.error`'s.

    Example:
        >>> s = {"dim": 2, "nodes": [[0, 0], [2, 0]], "springs": [[0, 1]], "ea": 100.0,
        ...      "prestress": 2.0, "mass": 0.0, "fixed": [0, [1, "y"]]}
        >>> net = parse_structure(s, ScenarioText("s.toml", None))
        >>> round(float(net.rest_length[0]), 6), net.fixed.tolist()
        (1.960784, [[True, True], [False, True]])
    """
    if "builder" in s:
        return _parse_builder(s, ctx)
    _check_keys(s, ctx)
    if "mesh" in s:
        nodes, springs, faces, dim = read_mesh_key(s, ctx)
    else:
        dim = s["dim"]
        if not is_int(dim) or int(dim) not in (2, 3):
            raise ctx.error(_T, "dim", f"{dim!r} is not 2 or 3; use dim = 2 or dim = 3")
        dim = int(dim)
        nodes = _nodes(ctx, s["nodes"], dim)
        springs = _springs(ctx, s["springs"], nodes.shape[0])
        faces = None
    n, m = nodes.shape[0], springs.shape[0]
    what, fix = "the network of [structure]", "use fewer nodes and springs"
    _build(ctx, check_network_size, dict(field="mesh" if "mesh" in s else "nodes", n_nodes=n,
                                         n_springs=m, dim=dim, what=what, fix=fix))  # fmt: skip
    members = read_members(s, ctx, nodes, springs)
    gravity = _gravity(ctx, s.get("gravity", [0.0] * dim), dim)
    fixed = _fixed(s, ctx, faces, n, dim)
    loads = _parse_loads(ctx, s.get("loads"), n, dim)
    kwargs = dict(positions=nodes, springs=springs, gravity=gravity, fixed=fixed, loads=loads,
                  faces=faces, **members)  # fmt: skip
    return _build(ctx, from_arrays, kwargs, _MESH_FIELD_KEYS if "mesh" in s else None)


def _fixed(s, ctx, faces, n, dim):
    """``fixed`` (node indices or an ``(n, d)`` mask) united with ``supports``."""
    fixed = read_fixed(ctx, s["fixed"], n, dim) if "fixed" in s else []
    if "supports" not in s:
        return fixed
    held = read_supports(ctx, s["supports"], faces, n)
    if isinstance(fixed, list):
        return sorted(set(fixed) | set(held))
    fixed[held] = True
    return fixed


def _check_keys(s: dict, ctx: ScenarioText) -> None:
    valid = REQUIRED_KEYS + OPTIONAL_KEYS
    unknown = [k for k in s if k not in valid]
    if unknown:
        raise ctx.error(
            _T,
            unknown[0],
            f"unknown key(s) {', '.join(map(repr, unknown))}; valid keys: {', '.join(valid)}, "
            f"or builder = one of {', '.join(BUILDERS)} with its parameters",
        )
    check_exclusive(s, ctx)
    missing = [k for k in REQUIRED_KEYS if k not in s and not _replaced(s, k)]
    if missing:
        shown = [k + (f" (or {' or '.join(ALTERNATIVES[k])})" if k in ALTERNATIVES else "")
                 for k in missing]  # fmt: skip
        raise ctx.error(
            _T,
            missing[0],
            f"missing key(s): {', '.join(shown)}; add them to [structure] (or use builder = ...)",
        )


def _replaced(s: dict, key: str) -> bool:
    """Whether a required key is given by another one (``fixed`` by ``supports`` with a mesh)."""
    if key == "fixed":
        return "supports" in s and "mesh" in s
    return any(k in s for k in ALTERNATIVES.get(key, ()))


def _nodes(ctx, value, dim):
    nodes = _numbers(ctx, "nodes", value, f"give one row of {dim} numbers per node", 2)
    if nodes.ndim != 2 or nodes.shape[0] == 0:
        raise ctx.error(_T, "nodes", "no nodes given; give one row per node")
    if nodes.shape[1] != dim:
        raise ctx.error(
            _T,
            "nodes",
            f"rows have {nodes.shape[1]} numbers but dim = {dim}; give {dim} numbers per "
            f"node (or change dim)",
        )
    return nodes


def _springs(ctx, springs, n):
    what = "use [i, j] with node indices i, j"
    if not isinstance(springs, list):
        raise ctx.error(_T, "springs", f"expected a list of [i, j] pairs, got {springs!r}")
    for k, pair in enumerate(springs):
        if not (isinstance(pair, list) and len(pair) == 2 and all(is_int(v) for v in pair)):
            raise ctx.error(
                _T,
                "springs",
                f"springs[{k}] = {pair!r} is not a pair of node indices; use [i, j]",
            )
        if not all(0 <= int(v) < n for v in pair):  # before numpy: 10**30 fits no integer type
            raise ctx.error(
                _T,
                "springs",
                f"springs[{k}] = {[int(v) for v in pair]} refers to a node that does not exist; "
                f"node indices run from 0 to {n - 1}; {what}",
            )
    return np.asarray(springs, dtype=np.int64).reshape(-1, 2)


def _gravity(ctx, value, dim):
    gravity = _numbers(ctx, "gravity", value, f"give a vector of {dim} numbers", 1)
    if gravity.shape != (dim,):
        raise ctx.error(
            _T,
            "gravity",
            f"has {gravity.size} numbers but dim = {dim}; give a vector of {dim} numbers",
        )
    return gravity


def _parse_loads(ctx, loads, n, dim):
    if loads is None:
        return None
    what = f"give rows [node, f_1, ..., f_{dim}] ({dim + 1} numbers each)"
    if not isinstance(loads, list):
        raise ctx.error(_T, "loads", f"expected a list of rows; {what}")
    for k, row in enumerate(loads):
        if not (isinstance(row, list) and len(row) == dim + 1):
            raise ctx.error(
                _T,
                "loads",
                f"loads[{k}] = {row!r} does not have {dim + 1} numbers; {what}",
            )
        if not is_int(row[0]):
            raise ctx.error(
                _T, "loads", f"loads[{k}] starts with {row[0]!r}, not a node index; {what}"
            )
    if not loads:
        return None
    return _numbers(ctx, "loads", loads, what, 2)


def _build(ctx, fn, kwargs, field_keys=None):
    keys = dict(_FIELD_KEYS, **(field_keys or {}))
    try:
        return fn(**kwargs)
    except (ValueError, TypeError) as e:
        text = str(e)
        head, _, rest = text.partition(":")
        fld = getattr(e, "field", None) or (head if rest and head.isidentifier() else None)
        detail = getattr(e, "detail", None) or (rest.strip() if fld else text)
        key = keys.get(fld, fld)
        raise ctx.error(_T, key, detail) from None


def _builder_params(fn):
    return [p for p in inspect.signature(fn).parameters]


def _supports(ctx, key, value):
    if isinstance(value, list):
        return read_indices(ctx, _T, key, value, "give node indices or a name such as 'corners'")
    return read_str(ctx, _T, key, value)


def _gravity_arg(ctx, key, value):
    if isinstance(value, list):
        return _numbers(ctx, key, value, "give a number g or a vector", 1).tolist()
    return read_float(ctx, _T, key, value)


#: How a builder parameter is read, by name; the others by their annotation
#: (``int``, ``bool``, else a number). The builder then checks the range.
_PARAM_READERS = {
    "supports": _supports,
    "gravity": _gravity_arg,
    "y": lambda ctx, key, v: _numbers(ctx, key, v, "give one height per mass", 1).tolist(),
}
_KIND_READERS = {
    "int": lambda ctx, key, v: read_int(ctx, _T, key, v, maximum=None),
    "bool": lambda ctx, key, v: read_bool(ctx, _T, key, v),
}


def _builder_kwargs(fn, s: dict, ctx: ScenarioText) -> dict:
    """The builder's keyword arguments, each read by its kind."""
    sig = inspect.signature(fn).parameters
    kwargs = {}
    for key, value in s.items():
        if key in ("builder", "dim", "loads"):
            continue
        annotation = str(sig[key].annotation)
        reader = _PARAM_READERS.get(key) or _KIND_READERS.get(annotation)
        kwargs[key] = (
            reader(ctx, key, value) if reader is not None else read_float(ctx, _T, key, value)
        )
    return kwargs


def _parse_builder(s: dict, ctx: ScenarioText) -> Network:
    name = read_str(ctx, _T, "builder", s["builder"], choices=tuple(BUILDERS))
    fn = BUILDERS[name]
    params = _builder_params(fn)
    extra = ("builder", "dim", "loads")
    unknown = [k for k in s if k not in params and k not in extra]
    if unknown:
        raise ctx.error(
            _T,
            unknown[0],
            f"unknown key(s) {', '.join(map(repr, unknown))} for builder {name!r}; its "
            f"parameters are: {', '.join(params)} (plus dim and loads)",
        )
    dim = read_int(ctx, _T, "dim", s["dim"], minimum=2, maximum=3) if "dim" in s else None
    net = _build(ctx, fn, _builder_kwargs(fn, s, ctx))
    if dim is not None and dim != net.dim:
        raise ctx.error(
            _T,
            "dim",
            f"dim = {dim} but builder {name!r} makes a {net.dim}D network; remove "
            f"dim or set dim = {net.dim}",
        )
    loads = _parse_loads(ctx, s.get("loads"), net.n_nodes, net.dim)
    if loads is not None:
        arr = _build(ctx, loads_from_rows, dict(rows=loads, n=net.n_nodes, d=net.dim))
        _finite_loads(ctx, arr)
        net = net.replace(loads=arr)
    return net


def _finite_loads(ctx, arr):
    if not np.all(np.isfinite(arr)):
        raise ctx.error(_T, "loads", "a load is not finite; give finite numbers")
