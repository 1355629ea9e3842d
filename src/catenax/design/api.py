"""``catenax.design``: fit rest lengths, stiffnesses, prestress, masses or loads to a target."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from catenax.errors import EquilibriumWarning
from catenax.io import Scenario, decode_scenario, load_scenario, parse_scenario, read_scenario_text
from catenax.model import free_mask, network_energy, tensions
from catenax.solve import DEFAULT_RTOL, minimize

from .fit import Problem, fit, full_values
from .result import DesignResult, designed_scenario
from .targets import Target, make_target, read_target
from .variables import build_network, design_model, parse_vary

__all__ = ["design", "load_design_scenario"]


def load_design_scenario(scenario) -> tuple[Scenario, dict | None, Path | None]:
    """The scenario, its raw dict (``None`` when unknown) and the folder its paths start from.

    Args:
        scenario: a path (``.toml``/``.json``), a scenario dict, or a
            :class:`~catenax.Scenario` (its raw keys are read back from its text).

    Returns:
        ``(scenario, raw, base_dir)``.

    Raises:
        ValueError: a scenario file that does not load (the message names the file and key).
        TypeError: anything else.

    Example:
        >>> scn, raw, _ = load_design_scenario({"structure": {"builder": "chain2d", "n": 2}})
        >>> scn.network.n_nodes, raw["structure"]["builder"]
        (4, 'chain2d')
    """
    if isinstance(scenario, (str, os.PathLike)):
        path = Path(scenario)
        scn = load_scenario(path)
        raw = decode_scenario(path.name, path.suffix.lower(), read_scenario_text(path))
        return scn, raw, path.parent
    if isinstance(scenario, Mapping):
        return parse_scenario(dict(scenario)), dict(scenario), None
    if isinstance(scenario, Scenario):
        src = scenario.source
        if scenario.path is not None and src is not None and src.text is not None:
            suffix = scenario.path.suffix.lower()
            return scenario, decode_scenario(src.name, suffix, src.text), scenario.path.parent
        return scenario, None, None
    raise TypeError(
        f"scenario: expected a scenario file, a dict or a catenax.Scenario, got "
        f"{type(scenario).__name__}"
    )


def _target(target, net, nodes) -> Target:
    """The target as a :class:`Target` (a file, an (n, d) array, a {node: position} dict)."""
    n, d = net.n_nodes, net.dim
    if isinstance(target, (str, os.PathLike)):
        tgt = read_target(target, n, d)
    elif isinstance(target, Target):
        tgt = make_target(target.positions, n, d, target.nodes)
    elif isinstance(target, Mapping):
        keys = list(target)
        tgt = make_target([target[k] for k in keys], n, d, np.asarray(keys, dtype=np.int64))
    else:
        tgt = make_target(target, n, d)
    if nodes is None:
        return tgt
    want = np.asarray(nodes)
    if want.ndim != 1 or (want.size and want.dtype.kind not in "iu"):
        raise ValueError("nodes: give a list of node indices (the target nodes to fit)")
    where = {int(k): i for i, k in enumerate(tgt.nodes)}
    missing = [int(k) for k in want if int(k) not in where]
    if missing:
        raise ValueError(f"nodes: node {missing[0]} has no target position; give nodes the "
                         f"target names (or a target for every node)")  # fmt: skip
    rows = [where[int(k)] for k in want]
    return make_target(tgt.positions[rows], n, d, want.astype(np.int64))


def _weight(name: str, value, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) < 0:
        raise ValueError(f"{name}: {value!r} must be a finite number >= 0; e.g. {name}=1.0")
    return float(value)


def _checked(max_steps, tol, dtype) -> tuple[int, float]:
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise ValueError(f"max_steps: {max_steps!r} must be an integer >= 1; e.g. max_steps=200")
    if tol is None:
        tol = DEFAULT_RTOL[str(jnp.dtype(dtype))] if str(jnp.dtype(dtype)) in DEFAULT_RTOL else 1e-5
    return int(max_steps), _weight("tol", tol)


def _size(net, tgt: Target) -> float:
    pts = np.concatenate([np.asarray(net.positions, float), tgt.positions])
    size = float(np.linalg.norm(pts.max(axis=0) - pts.min(axis=0)))
    return size if size > 0 else 1.0


def _start(net, free):
    """The start equilibrium (positions where it fails) and its tensions."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(network_energy, net.positions, net, free=free, stability=False,
                     history=False)  # fmt: skip
    x = jnp.asarray(r.positions, net.positions.dtype)
    if r.status == "diverged" or not np.all(np.isfinite(np.asarray(x))):
        x = net.positions
    return x, np.asarray(tensions(x, net))


def design(
    scenario,
    target,
    *,
    vary: str | Sequence[str] = ("rest_length",),
    nodes=None,
    uniform_tension: float = 0.0,
    min_tension: float | None = None,
    regularization: float = 0.0,
    bounds: Mapping[str, tuple] | None = None,
    max_steps: int = 200,
    tol: float | None = None,
    progress: Callable[[int, float, float], None] | None = None,
) -> DesignResult:
    """Find the rest lengths, stiffnesses, prestress, masses or loads that make a structure
    hang in a target shape: L-BFGS on a loss differentiated through :func:`catenax.equilibrium`.

    The loss (dimensionless; :mod:`catenax.design.fit`) is the mean squared
    distance of the target nodes from their targets over the structure's
    size squared, plus ``uniform_tension`` times the squared coefficient of
    variation of the tensions, a penalty on cables below ``min_tension``
    (springs when there are no cables), and ``regularization`` times the mean
    squared change of the variables over their scales. Variables stay in
    their range by reparametrisation (:mod:`catenax.design.variables`): rest
    lengths, stiffnesses, EA, masses, and the prestress or force density of
    cables stay >= 0, within ``bounds`` when given. The designed structure is
    relaxed once more by :func:`catenax.minimize` with the stability verdict.

    Args:
        scenario: a scenario file, a scenario dict or a :class:`~catenax.Scenario`.
        target: a target file (``.csv`` rows ``node,x,y[,z]``, ``.json``/``.npz``
            with ``positions``, ``.obj``; :mod:`catenax.design.targets`), an
            ``(n, d)`` array (every node), or a ``{node: position}`` dict.
        vary: the keys to vary, ``"name"`` or ``"name:SUBSET"`` (``"rest_length:0-40"``:
            springs 0 to 40 inclusive; ``"loads:3,5,7"``): ``rest_length``,
            ``stiffness`` (``ea`` where the scenario gives ``ea``), ``prestress``
            or ``force_density`` where the scenario gives them, ``mass``, ``loads``.
        nodes: fit only these target nodes (default: every node the target gives).
        uniform_tension: weight of the tension-spread term (>= 0).
        min_tension: the lowest tension each cable should carry, or ``None``.
        regularization: weight of the distance from the start values (>= 0).
        bounds: ``{name: (lo, hi)}`` per varied key (``None`` for an open side).
        max_steps: the most L-BFGS steps.
        tol: stop when the largest gradient component of the loss (in the
            reparametrised variables) is at most ``tol`` (default 1e-10 in
            float64, 1e-5 in float32).
        progress: called ``progress(step, loss, grad_max)`` after each step.

    Returns:
        A :class:`DesignResult`.

    Raises:
        ValueError: a bad scenario, target, variable or setting (the message
            names it and the fix).
        TypeError: a scenario of the wrong type.

    Example:
        >>> import catenax
        >>> s = {"structure": {"builder": "chain2d", "n": 3, "stiffness": 100.0}}
        >>> goal = np.array(catenax.solve_scenario(catenax.parse_scenario(s)).positions[2])
        >>> goal[1] -= 0.02  # node 2 lower by 2 cm: shorter or longer springs?
        >>> r = catenax.design(s, {2: goal}, vary="rest_length")
        >>> r.status, r.max_deviation < 1e-8, r.stable
        ('converged', True, True)
    """
    scn, raw, base_dir = load_design_scenario(scenario)
    net = scn.network
    model = design_model(net, raw.get("structure") if raw else None)
    variables = tuple(parse_vary(vary, model, bounds))
    tgt = _target(target, net, nodes)
    weights = dict(uniform_tension=_weight("uniform_tension", uniform_tension),
                   min_tension=_weight("min_tension", min_tension, allow_none=True),
                   regularization=_weight("regularization", regularization))  # fmt: skip
    max_steps, tol = _checked(max_steps, tol, net.positions.dtype)
    free = free_mask(net)
    x_start, t_start = _start(net, free)
    members = np.asarray(net.tension_only, bool) if net.cables else np.ones(net.n_springs, bool)
    t_ref = float(np.mean(np.abs(t_start[members]))) if members.any() else 1.0
    t_ref = max(t_ref, weights["min_tension"] or 0.0) or 1.0
    problem = Problem(model, variables, tgt.nodes, tgt.positions, free, _size(net, tgt),
                      members, t_ref, **weights)  # fmt: skip
    outcome = fit(problem, x_start, max_steps, tol, progress)
    values = {k: np.asarray(v) for k, v in full_values(problem, outcome.u).items()}
    return _finish(scn, raw, base_dir, problem, outcome, values)


def _finish(scn, raw, base_dir, problem, outcome, values) -> DesignResult:
    """Relax the designed structure once more with the stability verdict; the result."""
    net0 = scn.network
    status, message = outcome.status, outcome.message
    try:
        net = build_network(problem.model, values)
    except ValueError as e:
        net, status, message = net0, "failed", f"the designed values are not valid: {e}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EquilibriumWarning)
        r = minimize(network_energy, jnp.asarray(outcome.x, net.positions.dtype), net,
                     free=problem.free, stability=True, history=False)  # fmt: skip
    x = np.asarray(r.positions)
    if status != "failed" and r.status == "diverged":
        status, message = "failed", f"the designed structure has no equilibrium: {r.message}"
    elif status != "failed" and r.stable is False:
        status = "failed"
        message = (f"the designed structure's equilibrium is not a stable minimum (lowest "
                   f"eigenvalue {r.min_eigenvalue:.3g}); add min_tension or "
                   f"regularization")  # fmt: skip
    t = np.asarray(tensions(jnp.asarray(x), net))[problem.members]
    dev = np.linalg.norm(x[problem.nodes] - problem.target, axis=1)
    structure = raw.get("structure", {}) if raw else {}
    explicit = raw is None or "builder" in structure
    scenario = designed_scenario(raw, net, values, explicit)
    return DesignResult(
        status=status,
        converged=status == "converged",
        steps=outcome.steps,
        loss=float(outcome.loss),
        max_deviation=float(dev.max()) if dev.size else 0.0,
        min_tension=float(t.min()) if t.size else math.nan,
        stable=r.stable,
        min_eigenvalue=r.min_eigenvalue,
        variables=values,
        positions=x,
        message=message,
        network=net,
        scenario=scenario,
        history=outcome.history,
        target_nodes=problem.nodes,
        target_positions=problem.target,
        base_dir=base_dir,
    )
