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

    [units]                               # optional; names only, nothing is converted
    length = "m"
    force = "kN"

Instead of ``nodes``/``springs``, ``builder = "net"`` (or ``"chain"``,
``"chain2d"``, ``"cloth"``) plus that builder's parameters (see
:data:`BUILDERS`); ``loads`` may be added to a built network too. Required in
the explicit form: ``dim``, ``nodes``, ``springs``, ``stiffness``,
``rest_length``, ``mass``, ``fixed``; ``gravity`` defaults to zero, ``cables``
to false, ``loads`` to none. A top-level ``title`` or ``description`` string is
allowed; any other unknown key is an error.

The engineer's keys of the explicit form (each replaces the key it names;
one number, or one per spring in the order of ``springs``)::

    ea = 2.1e5                 # axial stiffness EA (force units) instead of stiffness:
                               #   k = EA / rest length (rest lengths must be > 0)
    prestress = 5.0            # tension T0 at the drawn geometry, instead of rest_length:
                               #   rest length L / (1 + T0/EA) with ea, L - T0/k with stiffness
    force_density = 2.0        # q = T0 / L, instead of rest_length (T0 = q L, then as prestress)
    cables = [0, 3]            # the tension-only springs; the others push and pull
    fixed = [0, [7, "y"], [3, "xz"]]   # a node (all axes held) or [node, "AXES"]: a roller
    line_mass = 0.2            # mass per unit rest length, half onto each end node
                               #   (added to mass, which then defaults to 0)
    mesh = "roof.obj"          # instead of nodes/springs: vertices, edges (and l lines),
                               #   faces of an OBJ or COMPAS .json file, relative to the
                               #   scenario's folder; dim defaults to 3
    supports = "boundary"      # with mesh: hold every vertex on an edge of one face
                               #   (fixed may add to it, and is optional then)

``ea`` and ``stiffness`` exclude each other, and so do ``rest_length``,
``prestress`` and ``force_density``; ``mesh`` excludes ``nodes`` and
``springs``. A prestress that needs a rest length <= 0 (``T0 >= k L`` with
``stiffness``, ``T0 <= -EA`` with ``ea``), compression prestress on a cable and
prestress on a spring of length 0 are refused. The keys are read in
:mod:`catenax.io.structure`, :mod:`catenax.io.members_keys` and
:mod:`catenax.io.geometry_keys`; ``[units]`` (``length``, ``force``) becomes
:attr:`Scenario.units`.

Every error is a :class:`ValueError` whose message starts with the file name
(and the line where it is known) and names the key, e.g.
``net.toml:4: structure.springs: springs[0] = [1, 1] joins node 1 to itself; ...``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path

from catenax.model import (
    Network,
    check_dtype_range,
    free_mask,
    network_energy,
)
from catenax.solve import check_max_steps, minimize
from catenax.solvers import METHODS

from .results import RESULT_KEYS  # re-exported: its old home (catenax.io.scenario)
from .scenario_text import ScenarioText, decode_scenario, read_scenario_text
from .scenario_values import read_bool, read_float, read_int, read_str
from .structure import BUILDERS, OPTIONAL_KEYS, REQUIRED_KEYS, parse_structure

__all__ = [
    "BUILDERS",
    "OPTIONAL_KEYS",
    "REQUIRED_KEYS",
    "RESULT_KEYS",
    "UNIT_KEYS",
    "UNIT_MAX_CHARS",
    "Scenario",
    "ScenarioText",
    "load_scenario",
    "parse_scenario",
    "parse_units",
    "solve_scenario",
]

_TOP_KEYS = ("structure", "solver", "units", "title", "description")

#: The keys of the ``[units]`` table (names of units, metadata only).
UNIT_KEYS = ("length", "force")

#: The longest unit name accepted (``"kN"``, ``"m"``, ``"lbf"``, ...).
UNIT_MAX_CHARS = 16

_UNIT_EXAMPLES = {"length": '"m"', "force": '"kN"'}


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: the network to relax and the ``[solver]`` settings.

    Attributes:
        network: the validated :class:`~catenax.Network`.
        solver_settings: keyword arguments for :func:`catenax.minimize` from
            the ``[solver]`` table (empty when there is none).
        path: the file it came from (``None`` for :func:`parse_scenario` on a dict).
        title: the optional ``title``.
        source: the file's name and text (:class:`ScenarioText`), for messages
            that name its lines.
        units: the ``[units]`` table, ``{"length": ..., "force": ...}``
            (metadata, no conversion), or ``None``.
    """

    network: Network
    solver_settings: dict = field(default_factory=dict)
    path: Path | None = None
    title: str | None = None
    source: ScenarioText | None = field(default=None, repr=False, compare=False)
    units: dict | None = None

    def error(self, table: str | None, key: str | None, detail: str) -> ValueError:
        """A ``ValueError`` "file:line: table.key: detail" about this scenario's file.

        Example:
            >>> s = parse_scenario({"structure": {"builder": "chain2d"}}, name="s.toml")
            >>> str(s.error("structure", "stiffness", "too stiff"))
            's.toml: structure.stiffness: too stiff'
        """
        source = self.source or ScenarioText(self.path.name if self.path else "<scenario>", None)
        return source.error(table, key, detail)


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
    text = read_scenario_text(path)
    ctx = ScenarioText(name, text, base_dir=path.parent)
    return _parse(decode_scenario(name, suffix, text), ctx, path)


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
    try:
        return _parse_data(data, ctx, path)
    except (OverflowError, RecursionError) as e:  # a last net: no traceback, exit 2
        raise ctx.error(None, None, f"a value is out of range: {e}; check the numbers") from None


def _parse_data(data, ctx: ScenarioText, path) -> Scenario:
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
    for key in ("title", "description"):
        if key in data:
            read_str(ctx, None, key, data[key])
    title = data.get("title")
    net = parse_structure(structure, ctx)
    solver = data.get("solver", {})
    if not isinstance(solver, dict):
        raise ctx.error(None, "solver", "must be a table of keys")
    settings = _parse_solver(solver, ctx)
    units = parse_units(data["units"], ctx) if "units" in data else None
    return Scenario(
        network=net, solver_settings=settings, path=path, title=title, source=ctx, units=units
    )


def parse_units(units, ctx: ScenarioText) -> dict:
    """The ``[units]`` table -> ``{"length": ..., "force": ...}`` (a missing name is ``None``).

    Names only: nothing is converted; results, terminal and figures show them.

    Args:
        units: the table's value.
        ctx: the scenario's text (for messages).

    Returns:
        A dict with the keys of :data:`UNIT_KEYS`.

    Raises:
        ValueError: not a table, an unknown key, or a name that is not a
            non-empty one-line string of at most :data:`UNIT_MAX_CHARS` characters.

    Example:
        >>> parse_units({"force": "kN"}, ScenarioText("s.toml", None))
        {'length': None, 'force': 'kN'}
    """
    if not isinstance(units, dict):
        raise ctx.error(None, "units", 'must be a table of keys, e.g. [units] length = "m"')
    unknown = [k for k in units if k not in UNIT_KEYS]
    if unknown:
        raise ctx.error(
            "units",
            unknown[0],
            f"unknown key(s) {', '.join(map(repr, unknown))}; valid keys: "
            f"{', '.join(UNIT_KEYS)} (names of units, e.g. length = {_UNIT_EXAMPLES['length']}, "
            f"force = {_UNIT_EXAMPLES['force']})",
        )
    out = {}
    for key in UNIT_KEYS:
        value = units.get(key)
        if value is not None:
            value = read_str(ctx, "units", key, value)
            if not (value.strip() and len(value) <= UNIT_MAX_CHARS and value.isprintable()):
                example = _UNIT_EXAMPLES[key]
                raise ctx.error(
                    "units",
                    key,
                    f"{value[:40]!r} is not a unit name; give a short name on one line "
                    f"(1 to {UNIT_MAX_CHARS} characters), e.g. {key} = {example}",
                )
        out[key] = value
    return out


# ------------------------------------------------------------------- solver


def _solver_keys() -> list[str]:
    skip = {"energy", "x0", "params", "free"}
    return [
        p.name
        for p in inspect.signature(minimize).parameters.values()
        if p.name not in skip and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def _parse_solver(solver: dict, ctx: ScenarioText) -> dict:
    valid = [k for k in _solver_keys() if k in _SOLVER_READERS]
    unknown = [k for k in solver if k not in valid]
    if unknown:
        raise ctx.error(
            "solver",
            unknown[0],
            f"unknown key(s) {', '.join(map(repr, unknown))}; valid keys: {', '.join(valid)}",
        )
    return {key: _SOLVER_READERS[key](ctx, key, value) for key, value in solver.items()}


def _count(minimum):
    return lambda ctx, key, v: read_int(ctx, "solver", key, v, minimum=minimum)


def _steps(ctx, key, value):
    """The step budget: an integer, then the driver's own rule (int32), under the file's key."""
    steps = read_int(ctx, "solver", key, value, minimum=1, maximum=None)
    try:
        return check_max_steps(steps)
    except ValueError as e:
        raise ctx.error("solver", key, str(e).partition(": ")[2] or str(e)) from None


def _number(**bounds):
    return lambda ctx, key, v: read_float(ctx, "solver", key, v, **bounds)


#: How each ``[solver]`` key is read: its kind and range. Ranges the driver
#: checks again (e.g. the int32 step budget) are refused here already, so the
#: message names the file and the key.
_SOLVER_READERS = {
    "method": lambda ctx, key, v: read_str(ctx, "solver", key, v, tuple(METHODS), "method"),
    "learning_rate": _number(positive=True),
    "schedule": lambda ctx, key, v: read_str(ctx, "solver", key, v),
    "max_steps": _steps,
    "tol": _number(minimum=0.0),
    "atol": _number(minimum=0.0),
    "record_every": _count(1),
    "history": lambda ctx, key, v: read_bool(ctx, "solver", key, v),
    "stability": lambda ctx, key, v: read_bool(ctx, "solver", key, v),
    "multistart": _count(1),
    "seed": lambda ctx, key, v: read_int(ctx, "solver", key, v, minimum=0, maximum=2**32 - 1),
    "perturbation": _number(minimum=0.0),
}


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
        ValueError: bad solver settings (from :func:`catenax.minimize`), or
            forces that would overflow in the network's float type
            (:func:`catenax.model.check_dtype_range`).

    Example:
        >>> s = parse_scenario({"structure": {"builder": "chain2d", "n": 4},
        ...                     "solver": {"method": "adam", "max_steps": 10, "tol": 0.0}})
        >>> solve_scenario(s).steps
        10
    """
    settings = dict(scenario.solver_settings)
    settings.update({k: v for k, v in overrides.items() if v is not None})
    net = scenario.network
    check_dtype_range(net, net.positions.dtype)
    return minimize(network_energy, net.positions, net, free=free_mask(net), **settings)
