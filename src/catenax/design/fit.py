"""The design loss and its L-BFGS loop, differentiated through the equilibrium.

The loss of a design (dimensionless, so one tolerance fits every unit system)::

    loss = mean_i |x_i - t_i|^2 / L^2                         (shape: target nodes i)
         + uniform_tension * var(T) / mean(T)^2               (spread of the tensions)
         + PENALTY * mean(max(0, T_min + margin - T)^2) / T_ref^2   (cables below T_min)
         + regularization * mean(((v - v0) / s)^2)            (distance from the start)

``x = catenax.equilibrium(network_energy, x0, net(v))`` is the equilibrium of
the network the variables ``v`` make (:func:`~catenax.design.variables.build_network`),
differentiated by the implicit function theorem; ``L`` is the size of the
structure (the diagonal of the box around the start and the target), ``T``
the tensions of the cables (of every spring when there is none), ``T_ref``
their mean magnitude at the start, ``s`` each variable's scale.

The optimiser is ``optax.lbfgs`` with its zoom line search, one jitted step
per iteration (the forward solves warm-start from the last equilibrium). It
stops when the largest gradient component (with respect to the
reparametrised variables) is at most ``tol``, when the loss no longer changes
at the floating-point precision for :data:`STALL_STEPS` steps, or after
``max_steps`` steps; a loss or gradient that is not finite (no stable
equilibrium at a trial design) ends the run as failed.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from catenax.errors import EquilibriumWarning
from catenax.model import network_energy, tensions
from catenax.solve import equilibrium

from .variables import DesignModel, build_network

__all__ = ["PENALTY", "STALL_STEPS", "FitOutcome", "Problem", "fit", "full_values", "loss_terms"]

#: Weight of the min-tension penalty (relative to the shape term).
PENALTY = 1e4
#: The penalty aims this fraction of ``T_ref`` above ``min_tension`` (so that the
#: balance with the other terms leaves every cable at or above ``min_tension``).
MARGIN = 1e-3
#: Most halvings of the step in one line search.
LINE_SEARCH_STEPS = 40
#: Steps without a change of the loss (at its precision) after which the fit stops.
STALL_STEPS = 5


@dataclasses.dataclass(frozen=True)
class Problem:
    """Everything the loss needs (static for the jitted step).

    Attributes:
        model: the :class:`DesignModel`.
        variables: the varied keys.
        nodes: the target nodes, ``(k,)``.
        target: their target positions, ``(k, d)``.
        free: the ``free`` mask of the network.
        size: the length scale ``L``.
        members: which springs the tension terms see, ``(m,)`` bool.
        t_ref: the tension scale ``T_ref``.
        uniform_tension: weight of the tension-spread term.
        min_tension: the lowest tension allowed on the members, or ``None``.
        regularization: weight of the distance from the start.
    """

    model: DesignModel
    variables: tuple
    nodes: np.ndarray
    target: np.ndarray
    free: jax.Array
    size: float
    members: np.ndarray
    t_ref: float
    uniform_tension: float
    min_tension: float | None
    regularization: float


def full_values(problem: Problem, u: dict) -> dict:
    """Name -> the whole array of each varied key, the chosen entries set from ``u``.

    Example:
        >>> import catenax
        >>> from catenax.design.variables import design_model, parse_vary
        >>> m = design_model(catenax.chain2d(1))
        >>> v = parse_vary("rest_length:1", m)
        >>> p = Problem(m, tuple(v), np.array([1]), np.zeros((1, 2)), None, 1.0,
        ...             np.ones(2, bool), 1.0, 0.0, None, 0.0)
        >>> values = full_values(p, {"rest_length": v[0].initial()})["rest_length"]
        >>> [round(float(x), 6) for x in values]
        [0.6, 0.6]
    """
    out = {}
    for var in problem.variables:
        base = jnp.asarray(problem.model.base[var.name])
        out[var.name] = base.at[var.index].set(var.value(u[var.name]))
    return out


def _regularization(problem: Problem, u: dict):
    parts = [
        ((var.value(u[var.name]) - var.start) / var.scale).ravel() for var in problem.variables
    ]
    return jnp.mean(jnp.concatenate(parts) ** 2)


def loss_terms(problem: Problem, u: dict, x0):
    """The loss at ``u`` and the equilibrium it reached (see the module doc).

    Args:
        problem: the :class:`Problem`.
        u: name -> the reparametrised values of each variable.
        x0: where the forward solve starts (not differentiated).

    Returns:
        ``(loss, x)``.

    Example:
        >>> True  # exercised by catenax.design's example and tests/test_design.py
        True
    """
    net = build_network(problem.model, full_values(problem, u))
    x = equilibrium(network_energy, jax.lax.stop_gradient(x0), net, free=problem.free)
    diff = x[problem.nodes] - problem.target
    loss = jnp.mean(jnp.sum(diff**2, axis=-1)) / problem.size**2
    t = tensions(x, net)[problem.members]
    if problem.uniform_tension:
        mean = jnp.mean(t)
        loss = loss + problem.uniform_tension * jnp.var(t) / (mean**2 + 1e-30 * problem.t_ref**2)
    if problem.min_tension is not None:
        floor = problem.min_tension + MARGIN * problem.t_ref
        short = jnp.maximum(floor - t, 0.0) / problem.t_ref
        loss = loss + PENALTY * jnp.mean(short**2)
    if problem.regularization:
        loss = loss + problem.regularization * _regularization(problem, u)
    return loss, x


@dataclasses.dataclass(frozen=True)
class FitOutcome:
    """The end of the L-BFGS loop: the best ``u``, its loss, steps, status and message."""

    u: dict
    x: np.ndarray
    loss: float
    steps: int
    status: str
    message: str
    history: np.ndarray


def _compiled(problem: Problem):
    """The jitted ``(u, x0) -> ((loss, x), grad)`` and the jitted L-BFGS direction."""
    value_and_grad = jax.jit(jax.value_and_grad(partial(loss_terms, problem), has_aux=True))
    lbfgs = optax.scale_by_lbfgs()

    @jax.jit
    def direction(grad, state, u):
        scaled, state = lbfgs.update(grad, state, u)
        return jax.tree.map(jnp.negative, scaled), state

    return value_and_grad, lbfgs, direction


def _dot(a, b) -> float:
    return float(sum(jnp.vdot(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b),
                                                   strict=True)))  # fmt: skip


def _gnorm(grad) -> float:
    leaves = [np.max(np.abs(np.asarray(g))) for g in jax.tree.leaves(grad) if np.size(g)]
    return float(max(leaves)) if leaves else 0.0


def fit(
    problem: Problem,
    x0,
    max_steps: int,
    tol: float,
    progress: Callable[[int, float, float], None] | None = None,
) -> FitOutcome:
    """Minimise the design loss with L-BFGS from the start values (see the module doc).

    Args:
        problem: the :class:`Problem`.
        x0: the start equilibrium (or the initial positions).
        max_steps: the most L-BFGS steps.
        tol: stop when the largest gradient component is at most ``tol``.
        progress: called ``progress(step, loss, grad_max)`` after each step.

    Returns:
        A :class:`FitOutcome` (``status`` ``"converged"``, ``"max_steps"`` or ``"failed"``).

    Example:
        >>> True  # exercised by catenax.design's example and tests/test_design.py
        True
    """
    u = {var.name: jnp.asarray(var.initial(), x0.dtype) for var in problem.variables}
    value_and_grad, lbfgs, direction = _compiled(problem)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EquilibriumWarning)
        (loss, x), grad = value_and_grad(u, x0)
        point = (u, x, float(loss), grad)
        if not (np.isfinite(point[2]) and np.isfinite(_gnorm(grad))):
            return _outcome(point, 0, "failed", _failed_message(0, caught), [point[2]])
        state = lbfgs.init(u)
        return _loop(point, state, (value_and_grad, lbfgs, direction),
                     (max_steps, tol, progress), caught)  # fmt: skip


def _failed_message(k: int, caught) -> str:
    why = next((str(w.message) for w in reversed(caught)
                if issubclass(w.category, EquilibriumWarning)), None)  # fmt: skip
    text = f"step {k}: the loss or its gradient is not finite: the trial design has no stable "
    text += "equilibrium" + (f" ({why})" if why else "")
    return text + "; vary fewer or other keys, add bounds or regularization, or start closer"


def _outcome(point, k, status, message, history) -> FitOutcome:
    u, x, loss = point[:3]
    return FitOutcome(u, np.asarray(x), float(loss), k, status, message, np.asarray(history))


def _line_search(point, d, value_and_grad):
    """Armijo backtracking from step 1 along ``d``; a non-finite trial halves the step.

    Returns the new point, or ``None`` when no step lowers the loss.
    """
    u, x, loss, grad = point
    slope = _dot(grad, d)
    t = 1.0
    for _ in range(LINE_SEARCH_STEPS):
        trial = jax.tree.map(lambda a, b, t=t: a + t * b, u, d)
        (val, x_new), g_new = value_and_grad(trial, x)
        val = float(val)
        if np.isfinite(val) and np.isfinite(_gnorm(g_new)) and val <= loss + 1e-4 * t * slope:
            return (trial, x_new, val, g_new)
        t *= 0.5
    return None


def _loop(point, state, compiled, settings, caught) -> FitOutcome:
    value_and_grad, lbfgs, direction = compiled
    max_steps, tol, progress = settings
    history, gmax, k, stall = [point[2]], _gnorm(point[3]), 0, 0
    while gmax > tol and k < max_steps and stall < STALL_STEPS:
        d, new_state = direction(point[3], state, point[0])
        if not _dot(point[3], d) < 0:  # not a descent direction: restart from the gradient
            new_state = lbfgs.init(point[0])
            d, new_state = direction(point[3], new_state, point[0])
        new = _line_search(point, d, value_and_grad)
        if new is None:
            if not caught or k == 0:
                stall = STALL_STEPS
                break
            return _outcome(point, k, "failed", _failed_message(k, caught), history)
        k += 1
        same = abs(new[2] - point[2]) <= 1e-14 * max(abs(point[2]), 1e-300)
        stall = stall + 1 if same else 0
        point, state, gmax = new, new_state, _gnorm(new[3])
        history.append(point[2])
        if progress is not None:
            progress(k, point[2], gmax)
    if gmax <= tol:
        message = f"the largest gradient component {gmax:.3g} <= tol {tol:g}"
        return _outcome(point, k, "converged", message, history)
    if stall >= STALL_STEPS:
        message = f"the loss stopped decreasing at its precision (largest gradient {gmax:.3g})"
        return _outcome(point, k, "converged", message, history)
    message = (f"used all {max_steps} steps (largest gradient component {gmax:.3g} > tol "
               f"{tol:g}); raise `max_steps` or `tol`")  # fmt: skip
    return _outcome(point, k, "max_steps", message, history)
