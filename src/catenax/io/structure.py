"""The ``[structure]`` table of a scenario file -> a validated :class:`~catenax.Network`.

Two forms: the explicit one (``dim``, ``nodes``, ``springs``, ...; see
:data:`REQUIRED_KEYS` and :data:`OPTIONAL_KEYS`) and ``builder = "..."`` with a
builder's parameters (see :data:`BUILDERS`). Every error is the
``ValueError`` of :meth:`ScenarioText.error`: the file, the line where it is
known, and the key.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from catenax.model import Network, chain, chain2d, cloth, from_arrays, loads_from_rows
from catenax.model import net as net_builder

from .scenario_text import ScenarioText

__all__ = ["BUILDERS", "OPTIONAL_KEYS", "REQUIRED_KEYS", "is_int", "is_number", "parse_structure"]

#: Builders a scenario can name with ``builder = "..."``.
BUILDERS = {
    "chain": chain,
    "chain2d": chain2d,
    "net": net_builder,
    "cloth": cloth,
}

#: Keys of the explicit ``[structure]`` form: required, then optional.
REQUIRED_KEYS = ("dim", "nodes", "springs", "stiffness", "rest_length", "mass", "fixed")
OPTIONAL_KEYS = ("gravity", "cables", "loads")

# Network field -> scenario key.
_FIELD_KEYS = {"positions": "nodes"}

#: The table every error of this module names.
_T = "structure"


def is_number(v) -> bool:
    """A TOML/JSON number (``True``/``False`` are not)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_int(v) -> bool:
    """A TOML/JSON integer, or a float with an integer value."""
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, float) and math.isfinite(v) and v == int(v))


def _numbers(ctx, key, value, what, depth):
    """Nested lists of numbers of a given depth -> float array (rectangular)."""

    def check(v, level, where):
        if level == 0:
            if not is_number(v):
                raise ctx.error(_T, key, f"{key}{where} = {v!r} is not a number; {what}")
            return
        if not isinstance(v, list):
            kind = "a number or a list" if (depth == 1 and not where) else "a list"
            raise ctx.error(_T, key, f"{key}{where} = {v!r} is not {kind}; {what}")
        for i, item in enumerate(v):
            check(item, level - 1, f"{where}[{i}]")

    check(value, depth, "")
    try:
        arr = np.asarray(value, dtype=float)
    except ValueError:
        raise ctx.error(_T, key, f"rows of different lengths; {what}") from None
    if arr.ndim != depth and not (arr.size == 0 and depth > 0):
        raise ctx.error(_T, key, f"rows of different lengths; {what}")
    return arr


def _indices(ctx, key, value, what):
    if not isinstance(value, list):
        raise ctx.error(_T, key, f"expected a list; {what}, got {value!r}")
    out = []
    for i, v in enumerate(value):
        if not is_int(v):
            raise ctx.error(_T, key, f"{key}[{i}] = {v!r} is not a node index; {what}")
        out.append(int(v))
    return out


def _scalar_or_list(ctx, key, value, what):
    if is_number(value):
        return float(value)
    return _numbers(ctx, key, value, what, 1)


def parse_structure(s: dict, ctx: ScenarioText) -> Network:
    """The network of a ``[structure]`` table (explicit form or ``builder = ...``).

    Raises:
        ValueError: an unknown, missing or bad key, or an invalid network; the
            message is :meth:`ScenarioText.error`'s.
    """
    if "builder" in s:
        return _parse_builder(s, ctx)
    _check_keys(s, ctx)
    dim = s["dim"]
    if not is_int(dim) or int(dim) not in (2, 3):
        raise ctx.error(_T, "dim", f"{dim!r} is not 2 or 3; use dim = 2 or dim = 3")
    dim = int(dim)
    nodes = _nodes(ctx, s["nodes"], dim)
    n = nodes.shape[0]
    springs = _springs(ctx, s["springs"])
    m = springs.shape[0]
    stiffness = _scalar_or_list(
        ctx, "stiffness", s["stiffness"], f"give one number or {m} (one per spring)"
    )
    rest = _rest_length(ctx, s["rest_length"], m)
    mass = _scalar_or_list(ctx, "mass", s["mass"], f"give one number or {n} (one per node)")
    gravity = _gravity(ctx, s.get("gravity", [0.0] * dim), dim)
    fixed = _indices(ctx, "fixed", s["fixed"], "give a list of node indices")
    cables = s.get("cables", False)
    if not isinstance(cables, bool):
        raise ctx.error(_T, "cables", f"{cables!r} is not true or false")
    loads = _parse_loads(ctx, s.get("loads"), n, dim)
    return _build(
        ctx,
        from_arrays,
        dict(
            positions=nodes,
            springs=springs,
            rest_length=rest,
            stiffness=stiffness,
            mass=mass,
            gravity=gravity,
            fixed=fixed,
            loads=loads,
            cables=cables,
        ),
    )


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
    missing = [k for k in REQUIRED_KEYS if k not in s]
    if missing:
        raise ctx.error(
            _T,
            missing[0],
            f"missing key(s) {', '.join(map(repr, missing))}; add them to [structure] "
            f"(or use builder = ...)",
        )


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


def _springs(ctx, springs):
    if not isinstance(springs, list):
        raise ctx.error(_T, "springs", f"expected a list of [i, j] pairs, got {springs!r}")
    for k, pair in enumerate(springs):
        if not (isinstance(pair, list) and len(pair) == 2 and all(is_int(v) for v in pair)):
            raise ctx.error(
                _T,
                "springs",
                f"springs[{k}] = {pair!r} is not a pair of node indices; use [i, j]",
            )
    return np.asarray(springs, dtype=np.int64).reshape(-1, 2)


def _rest_length(ctx, rest, m):
    if isinstance(rest, str):
        if rest != "initial":
            raise ctx.error(
                _T,
                "rest_length",
                f'{rest!r} is not understood; give a number, one number per spring, or "initial"',
            )
        return rest
    return _scalar_or_list(
        ctx, "rest_length", rest, f'give one number, {m} (one per spring) or "initial"'
    )


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


def _parse_builder(s: dict, ctx: ScenarioText) -> Network:
    name = s["builder"]
    if name not in BUILDERS:
        raise ctx.error(
            _T,
            "builder",
            f"unknown builder {name!r}; use one of {', '.join(BUILDERS)}",
        )
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
    kwargs = {k: v for k, v in s.items() if k not in extra}
    for k, v in kwargs.items():
        if isinstance(v, list):
            if k == "supports":
                kwargs[k] = _indices(ctx, k, v, "give node indices or a name such as 'corners'")
            else:
                kwargs[k] = _numbers(ctx, k, v, "give numbers", 1).tolist()
    net = _build(ctx, fn, kwargs)
    if "dim" in s and s["dim"] != net.dim:
        raise ctx.error(
            _T,
            "dim",
            f"dim = {s['dim']!r} but builder {name!r} makes a {net.dim}D network; remove "
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
