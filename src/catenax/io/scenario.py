"""Scenario files (TOML or JSON, one schema) <-> a Network and solver settings.

The schema (a contract; TOML shown, JSON has the same keys)::

    [structure]
    dim = 2
    nodes = [[-2.0, 1.0], [-1.9, 1.0]]    # initial positions, one row per node
    springs = [[0, 1]]                    # node index pairs
    stiffness = 2800.0                    # one number, or one per spring
    rest_length = 0.0                     # one number, one per spring, or "initial"
    mass = 1.0                            # one number, or one per node
    gravity = [0.0, -9.81]                # the weight of node i is mass[i] * gravity
    fixed = [0, 39]                       # node indices held in place
    cables = false                        # optional: tension-only springs
    loads = [[5, 0.0, -2.0]]              # optional: node index, then the force vector

    [solver]                              # optional; keys are minimize()'s options
    method = "newton"
    tol = 1e-10
    max_steps = 500

Instead of ``nodes``/``springs``, ``builder = "net"`` (or ``"chain"``,
``"chain2d"``, ``"cloth"``) plus that builder's parameters (see
:data:`BUILDERS`); ``loads`` may be added to a built network too. Required in
the explicit form: ``dim``, ``nodes``, ``springs``, ``stiffness``,
``rest_length``, ``mass``, ``fixed``; ``gravity`` defaults to zero, ``cables``
to false, ``loads`` to none. A top-level ``title`` or ``description`` string is
allowed; any other unknown key is an error.

Every error is a :class:`ValueError` whose message starts with the file name
(and the line where it is known) and names the key, e.g.
``net.toml:4: structure.springs: springs[0] = [1, 1] joins node 1 to itself; ...``.
"""

from __future__ import annotations

import inspect
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from catenax.model import network as _network
from catenax.model.energy import network_energy, reactions, spring_lengths, tensions
from catenax.model.network import Network, free_mask, support_nodes

from .files import to_jsonable

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    tomllib = None

__all__ = [
    "BUILDERS",
    "RESULT_KEYS",
    "Scenario",
    "ScenarioText",
    "load_scenario",
    "parse_scenario",
    "result_to_dict",
    "solve_scenario",
]

#: Builders a scenario can name with ``builder = "..."``.
BUILDERS = {
    "chain": _network.chain,
    "chain2d": _network.chain2d,
    "net": _network.net,
    "cloth": _network.cloth,
}

#: Keys of the explicit ``[structure]`` form: required, then optional.
REQUIRED_KEYS = ("dim", "nodes", "springs", "stiffness", "rest_length", "mass", "fixed")
OPTIONAL_KEYS = ("gravity", "cables", "loads")

#: Keys of :func:`result_to_dict`, in order (``method`` and extras follow).
RESULT_KEYS = (
    "status",
    "converged",
    "steps",
    "energy",
    "grad_max",
    "min_eigenvalue",
    "stable",
    "positions",
    "lengths",
    "tensions",
    "reactions",
    "message",
)

_TOP_KEYS = ("structure", "solver", "title", "description")
# Network field -> scenario key.
_FIELD_KEYS = {"positions": "nodes"}


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: the network to relax and the ``[solver]`` settings.

    Attributes:
        network: the validated :class:`~catenax.Network`.
        solver_settings: keyword arguments for :func:`catenax.minimize` from
            the ``[solver]`` table (empty when there is none).
        path: the file it came from (``None`` for :func:`parse_scenario` on a dict).
        title: the optional ``title``.
    """

    network: Network
    solver_settings: dict = field(default_factory=dict)
    path: Path | None = None
    title: str | None = None


class ScenarioText:
    """A scenario file's name and text, to put the file and the line into messages.

    Args:
        name: the file name shown in messages.
        text: the file's text (``None`` when there is none: no line numbers).

    Example:
        >>> ctx = ScenarioText("net.toml", "[solver]" + chr(10) + "method = 'x'")
        >>> str(ctx.error("solver", "method", "unknown method 'x'"))
        "net.toml:2: solver.method: unknown method 'x'"
    """

    def __init__(self, name: str, text: str | None):
        self.name = name
        self.text = text

    def line_of(self, table: str | None, key: str | None) -> int | None:
        if not self.text or key is None:
            return None
        lines = self.text.splitlines()
        start = 0
        if table is not None:
            for k, line in enumerate(lines):
                if re.match(rf"\s*\[\s*{re.escape(table)}\s*\]", line) or re.search(
                    rf'"{re.escape(table)}"\s*:', line
                ):
                    start = k
                    break
        pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*[=:]|"{re.escape(key)}"\s*:')
        for k in range(start, len(lines)):
            if pattern.search(lines[k]):
                return k + 1
        return None

    def error(self, table: str | None, key: str | None, detail: str) -> ValueError:
        line = self.line_of(table, key)
        where = f"{self.name}:{line}" if line else self.name
        name = ".".join(p for p in (table, key) if p)
        return ValueError(f"{where}: {name}: {detail}" if name else f"{where}: {detail}")


def load_scenario(path) -> Scenario:
    """Read a scenario file (``.toml`` or ``.json``) into a network and settings.

    Args:
        path: the file; the suffix picks the format.

    Returns:
        A :class:`Scenario`.

    Raises:
        ValueError: the file is missing, unreadable, not valid TOML/JSON (the
            message has the parser's line and column), has unknown or missing
            keys, or describes an invalid network. The message starts with the
            file name (and line where known) and names the key.

    Example:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
        >>> _ = p.write_text('''
        ... [structure]
        ... builder = "chain2d"
        ... n = 5
        ... [solver]
        ... max_steps = 50
        ... ''')
        >>> s = load_scenario(p)
        >>> s.network.n_nodes, s.solver_settings
        (7, {'max_steps': 50})
    """
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ValueError(
            f"{name}: unknown scenario format '{path.suffix}'; use a .toml or .json file"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such scenario file; check the path") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read the scenario file: {e}") from None
    ctx = ScenarioText(name, text)
    if suffix == ".toml":
        if tomllib is None:  # pragma: no cover - Python 3.10
            raise ValueError(
                f"{name}: reading TOML needs Python >= 3.11 (tomllib); use a .json scenario"
            )
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(_toml_error(name, text, e)) from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(
                f"{name}:{e.lineno}: not valid JSON: {e.msg} (at line {e.lineno}, column {e.colno})"
            ) from None
    return _parse(data, ctx, path)


def _toml_error(name: str, text: str, err) -> str:
    """tomllib's message (it has the line and column) with the file and the nearest key."""
    m = re.search(r"line (\d+)", str(err))
    if not m:
        return f"{name}: not valid TOML: {err}"
    line = int(m.group(1))
    col = re.search(r"column (\d+)", str(err))
    # keys assigned before the error (on its line too, unless it is at column 1)
    upto = line if (col and int(col.group(1)) > 1) else line - 1
    key = table = None
    for row in text.splitlines()[:upto]:
        t = re.match(r"\s*\[+\s*([A-Za-z0-9_.-]+)\s*\]+", row)
        if t:
            table, key = t.group(1), None
        a = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", row)
        if a:
            key = a.group(1)
    near = ".".join(p for p in (table, key) if p)
    near = f" near key '{near}'" if near else ""
    return f"{name}:{line}: not valid TOML{near}: {err}"


def parse_scenario(data: dict, name: str = "<scenario>") -> Scenario:
    """Turn an already-parsed scenario (a dict with ``structure``/``solver``) into a Scenario.

    Args:
        data: the scenario as a dict (the schema of :func:`load_scenario`).
        name: the name to put in error messages.

    Returns:
        A :class:`Scenario`.

    Raises:
        ValueError: as :func:`load_scenario`.

    Example:
        >>> s = parse_scenario({"structure": {"builder": "net", "rows": 3, "cols": 3}})
        >>> s.network.dim
        3
    """
    return _parse(data, ScenarioText(name, None), None)


def _parse(data, ctx: ScenarioText, path) -> Scenario:
    if not isinstance(data, dict):
        raise ctx.error(None, None, "expected a table/object with a 'structure' table at the top")
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise ctx.error(
            None,
            unknown[0],
            f"unknown key(s) {', '.join(map(repr, unknown))} at the top level; valid keys: "
            f"{', '.join(_TOP_KEYS)}",
        )
    if "structure" not in data:
        raise ctx.error(None, "structure", "missing the [structure] table; add one")
    structure = data["structure"]
    if not isinstance(structure, dict):
        raise ctx.error(None, "structure", "must be a table of keys")
    title = data.get("title")
    if title is not None and not isinstance(title, str):
        raise ctx.error(None, "title", f"expected a string, got {title!r}")
    for key in ("title", "description"):
        if key in data and not isinstance(data[key], str):
            raise ctx.error(None, key, f"expected a string, got {data[key]!r}")
    net = _parse_structure(structure, ctx)
    solver = data.get("solver", {})
    if not isinstance(solver, dict):
        raise ctx.error(None, "solver", "must be a table of keys")
    settings = _parse_solver(solver, ctx)
    return Scenario(network=net, solver_settings=settings, path=path, title=title)


# ---------------------------------------------------------------- structure


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, float) and math.isfinite(v) and v == int(v))


def _numbers(ctx, key, value, what, depth):
    """Nested lists of numbers of a given depth -> float array (rectangular)."""
    t = "structure"

    def check(v, level, where):
        if level == 0:
            if not _is_number(v):
                raise ctx.error(t, key, f"{key}{where} = {v!r} is not a number; {what}")
            return
        if not isinstance(v, list):
            kind = "a number or a list" if (depth == 1 and not where) else "a list"
            raise ctx.error(t, key, f"{key}{where} = {v!r} is not {kind}; {what}")
        for i, item in enumerate(v):
            check(item, level - 1, f"{where}[{i}]")

    check(value, depth, "")
    try:
        arr = np.asarray(value, dtype=float)
    except ValueError:
        raise ctx.error(t, key, f"rows of different lengths; {what}") from None
    if arr.ndim != depth and not (arr.size == 0 and depth > 0):
        raise ctx.error(t, key, f"rows of different lengths; {what}")
    return arr


def _indices(ctx, key, value, what):
    if not isinstance(value, list):
        raise ctx.error("structure", key, f"expected a list; {what}, got {value!r}")
    out = []
    for i, v in enumerate(value):
        if not _is_int(v):
            raise ctx.error("structure", key, f"{key}[{i}] = {v!r} is not a node index; {what}")
        out.append(int(v))
    return out


def _scalar_or_list(ctx, key, value, what):
    if _is_number(value):
        return float(value)
    return _numbers(ctx, key, value, what, 1)


def _parse_structure(s: dict, ctx: ScenarioText) -> Network:
    if "builder" in s:
        return _parse_builder(s, ctx)
    valid = REQUIRED_KEYS + OPTIONAL_KEYS
    unknown = [k for k in s if k not in valid]
    if unknown:
        raise ctx.error(
            "structure",
            unknown[0],
            f"unknown key(s) {', '.join(map(repr, unknown))}; valid keys: {', '.join(valid)}, "
            f"or builder = one of {', '.join(BUILDERS)} with its parameters",
        )
    missing = [k for k in REQUIRED_KEYS if k not in s]
    if missing:
        raise ctx.error(
            "structure",
            missing[0],
            f"missing key(s) {', '.join(map(repr, missing))}; add them to [structure] "
            f"(or use builder = ...)",
        )
    dim = s["dim"]
    if not _is_int(dim) or int(dim) not in (2, 3):
        raise ctx.error("structure", "dim", f"{dim!r} is not 2 or 3; use dim = 2 or dim = 3")
    dim = int(dim)
    nodes = _numbers(ctx, "nodes", s["nodes"], f"give one row of {dim} numbers per node", 2)
    if nodes.ndim != 2 or nodes.shape[0] == 0:
        raise ctx.error("structure", "nodes", "no nodes given; give one row per node")
    if nodes.shape[1] != dim:
        raise ctx.error(
            "structure",
            "nodes",
            f"rows have {nodes.shape[1]} numbers but dim = {dim}; give {dim} numbers per "
            f"node (or change dim)",
        )
    n = nodes.shape[0]
    springs = s["springs"]
    if not isinstance(springs, list):
        raise ctx.error("structure", "springs", f"expected a list of [i, j] pairs, got {springs!r}")
    for k, pair in enumerate(springs):
        if not (isinstance(pair, list) and len(pair) == 2 and all(_is_int(v) for v in pair)):
            raise ctx.error(
                "structure",
                "springs",
                f"springs[{k}] = {pair!r} is not a pair of node indices; use [i, j]",
            )
    springs = np.asarray(springs, dtype=np.int64).reshape(-1, 2)
    m = springs.shape[0]
    stiffness = _scalar_or_list(
        ctx, "stiffness", s["stiffness"], f"give one number or {m} (one per spring)"
    )
    rest = s["rest_length"]
    if isinstance(rest, str):
        if rest != "initial":
            raise ctx.error(
                "structure",
                "rest_length",
                f'{rest!r} is not understood; give a number, one number per spring, or "initial"',
            )
    else:
        rest = _scalar_or_list(
            ctx, "rest_length", rest, f'give one number, {m} (one per spring) or "initial"'
        )
    mass = _scalar_or_list(ctx, "mass", s["mass"], f"give one number or {n} (one per node)")
    gravity = s.get("gravity", [0.0] * dim)
    gravity = _numbers(ctx, "gravity", gravity, f"give a vector of {dim} numbers", 1)
    if gravity.shape != (dim,):
        raise ctx.error(
            "structure",
            "gravity",
            f"has {gravity.size} numbers but dim = {dim}; give a vector of {dim} numbers",
        )
    fixed = _indices(ctx, "fixed", s["fixed"], "give a list of node indices")
    cables = s.get("cables", False)
    if not isinstance(cables, bool):
        raise ctx.error("structure", "cables", f"{cables!r} is not true or false")
    loads = _parse_loads(ctx, s.get("loads"), n, dim)
    return _build(
        ctx,
        _network.from_arrays,
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


def _parse_loads(ctx, loads, n, dim):
    if loads is None:
        return None
    what = f"give rows [node, f_1, ..., f_{dim}] ({dim + 1} numbers each)"
    if not isinstance(loads, list):
        raise ctx.error("structure", "loads", f"expected a list of rows; {what}")
    for k, row in enumerate(loads):
        if not (isinstance(row, list) and len(row) == dim + 1):
            raise ctx.error(
                "structure",
                "loads",
                f"loads[{k}] = {row!r} does not have {dim + 1} numbers; {what}",
            )
        if not _is_int(row[0]):
            raise ctx.error(
                "structure", "loads", f"loads[{k}] starts with {row[0]!r}, not a node index; {what}"
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
        raise ctx.error("structure", key, detail) from None


def _builder_params(fn):
    return [p for p in inspect.signature(fn).parameters]


def _parse_builder(s: dict, ctx: ScenarioText) -> Network:
    name = s["builder"]
    if name not in BUILDERS:
        raise ctx.error(
            "structure",
            "builder",
            f"unknown builder {name!r}; use one of {', '.join(BUILDERS)}",
        )
    fn = BUILDERS[name]
    params = _builder_params(fn)
    extra = ("builder", "dim", "loads")
    unknown = [k for k in s if k not in params and k not in extra]
    if unknown:
        raise ctx.error(
            "structure",
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
            "structure",
            "dim",
            f"dim = {s['dim']!r} but builder {name!r} makes a {net.dim}D network; remove "
            f"dim or set dim = {net.dim}",
        )
    loads = _parse_loads(ctx, s.get("loads"), net.n_nodes, net.dim)
    if loads is not None:
        arr = _build(ctx, _network._load_rows, dict(rows=loads, n=net.n_nodes, d=net.dim))
        _finite_loads(ctx, arr)
        net = net.replace(loads=arr)
    return net


def _finite_loads(ctx, arr):
    if not np.all(np.isfinite(arr)):
        raise ctx.error("structure", "loads", "a load is not finite; give finite numbers")


# ------------------------------------------------------------------- solver


def _solver_keys() -> list[str]:
    from catenax.solve.driver import minimize

    skip = {"energy", "x0", "params", "free"}
    return [
        p.name
        for p in inspect.signature(minimize).parameters.values()
        if p.name not in skip and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def _parse_solver(solver: dict, ctx: ScenarioText) -> dict:
    valid = _solver_keys()
    unknown = [k for k in solver if k not in valid]
    if unknown:
        raise ctx.error(
            "solver",
            unknown[0],
            f"unknown key(s) {', '.join(map(repr, unknown))}; valid keys: {', '.join(valid)}",
        )
    out = {}
    for key, value in solver.items():
        if key == "method":
            from catenax.solvers import METHODS

            if not isinstance(value, str) or value not in METHODS:
                raise ctx.error(
                    "solver",
                    key,
                    f"unknown method {value!r}; valid methods: {', '.join(METHODS)}",
                )
        elif key in ("tol", "atol"):
            if not _is_number(value) or not math.isfinite(value) or value < 0:
                raise ctx.error("solver", key, f"{value!r} must be a finite number >= 0")
        elif key in ("max_steps", "record_every", "multistart"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ctx.error("solver", key, f"{value!r} must be an integer >= 1")
        elif key == "learning_rate":
            if not _is_number(value) or not math.isfinite(value) or value <= 0:
                raise ctx.error("solver", key, f"{value!r} must be a finite number > 0")
        elif isinstance(value, (dict, list)):
            raise ctx.error("solver", key, f"{value!r} must be a single value")
        out[key] = value
    return out


# ------------------------------------------------------------ solve, report


def solve_scenario(scenario: Scenario, **overrides):
    """Relax a scenario's network with :func:`catenax.minimize`.

    Runs ``minimize(network_energy, net.positions, net, free=free_mask(net),
    **settings)`` where ``settings`` is the ``[solver]`` table updated with
    ``overrides`` (e.g. command-line options; ``None`` values are ignored).

    Args:
        scenario: a :class:`Scenario`.
        **overrides: keyword arguments of :func:`catenax.minimize`.

    Returns:
        The :class:`catenax.Result`.

    Raises:
        ValueError: bad solver settings (from :func:`catenax.minimize`).

    Example:
        >>> s = parse_scenario({"structure": {"builder": "chain2d", "n": 4},
        ...                     "solver": {"method": "adam", "max_steps": 10, "tol": 0.0}})
        >>> solve_scenario(s).steps
        10
    """
    from catenax.solve.driver import minimize

    settings = dict(scenario.solver_settings)
    settings.update({k: v for k, v in overrides.items() if v is not None})
    net = scenario.network
    return minimize(network_energy, net.positions, net, free=free_mask(net), **settings)


def result_to_dict(result, net: Network) -> dict:
    """The JSON result of a relaxed network (strict JSON types, NaN as ``None``).

    Keys, in order: ``status``, ``converged``, ``steps``, ``energy``,
    ``grad_max``, ``min_eigenvalue`` and ``stable`` (from ``result.extra``
    when the stability verdict ran, else ``None``), ``positions`` (all nodes,
    fixed ones included), ``lengths``, ``tensions`` (positive in tension, 0 for
    a slack cable), ``reactions`` (``{"node": i, "force": [...]}`` for each
    support), ``message``, then ``method`` and any other entries of
    ``result.extra``.

    Args:
        result: a :class:`catenax.Result` of relaxing ``net``.
        net: the network that was relaxed.

    Returns:
        A dict of plain Python values.

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(4)
        >>> r = catenax.minimize(catenax.network_energy, net.positions, net,
        ...                      free=catenax.free_mask(net), method="adam",
        ...                      max_steps=5, tol=None)
        >>> d = result_to_dict(r, net)
        >>> list(d)[:4], d["reactions"][0]["node"]
        (['status', 'converged', 'steps', 'energy'], 0)
    """
    import jax.numpy as jnp

    x = jnp.asarray(result.positions, net.positions.dtype)
    extra = dict(getattr(result, "extra", {}) or {})
    react = np.asarray(reactions(x, net))
    out = {
        "status": result.status,
        "converged": bool(result.converged),
        "steps": int(result.steps),
        "energy": float(result.energy),
        "grad_max": float(result.grad_max),
        "min_eigenvalue": extra.pop("min_eigenvalue", None),
        "stable": extra.pop("stable", None),
        "positions": np.asarray(x).tolist(),
        "lengths": np.asarray(spring_lengths(x, net)).tolist(),
        "tensions": np.asarray(tensions(x, net)).tolist(),
        "reactions": [{"node": int(i), "force": react[i].tolist()} for i in support_nodes(net)],
        "message": result.message,
        "method": getattr(result, "method", None),
    }
    for k, v in extra.items():
        out.setdefault(k, v)
    return to_jsonable(out)
