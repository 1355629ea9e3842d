"""The ``[structure]`` table of a scenario file -> a validated :class:`~catenax.Network`.

Two forms: the explicit one (``dim``, ``nodes``, ``springs``, ...; see
:data:`REQUIRED_KEYS` and :data:`OPTIONAL_KEYS`) and ``builder = "..."`` with a
builder's parameters (see :data:`BUILDERS`). Every error is the
``ValueError`` of :meth:`ScenarioText.error`: the file, the line where it is
known, and the key.
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


def _numbers(ctx, key, value, what, depth):
    return read_numbers(ctx, _T, key, value, depth, what)


def _scalar_or_list(ctx, key, value, what):
    """One number or a list of numbers (one per spring or per node)."""
    if is_number(value):
        return read_float(ctx, _T, key, value)
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
    springs = _springs(ctx, s["springs"], n)
    m = springs.shape[0]
    what, fix = "the network of [structure]", "use fewer nodes and springs"
    _build(ctx, check_network_size, dict(field="nodes", n_nodes=n, n_springs=m, dim=dim,
                                         what=what, fix=fix))  # fmt: skip
    stiffness = _scalar_or_list(
        ctx, "stiffness", s["stiffness"], f"give one number or {m} (one per spring)"
    )
    rest = _rest_length(ctx, s["rest_length"], m)
    mass = _scalar_or_list(ctx, "mass", s["mass"], f"give one number or {n} (one per node)")
    gravity = _gravity(ctx, s.get("gravity", [0.0] * dim), dim)
    fixed = read_indices(ctx, _T, "fixed", s["fixed"], "give a list of node indices", n)
    cables = read_bool(ctx, _T, "cables", s.get("cables", False))
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
