"""What to try after a run diverged: each method's advice speaks of its own step.

* gradient descent and the optax optimizers take a learning rate: gradient
  descent is stable only below ``2 / lambda_max``;
* FIRE takes a time step: velocity Verlet is stable only below
  ``2 / sqrt(lambda_max)`` (unit masses);
* newton and lbfgs take no learning rate (their steps come from the Hessian or
  a line search): the advice says what to check instead.

``lambda_max`` is the largest Hessian eigenvalue at the equilibrium when a
solver is given to find it, else where the run was last finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import numpy as np

from catenax.solvers import FIRE, takes_learning_rate

from .stability import stability_verdict

__all__ = ["diverged_advice", "largest_eigenvalue"]

#: Problems up to this many coordinates are solved with newton to find the equilibrium.
_EQUILIBRIUM_SIZE = 100_000

_NO_LEARNING_RATE = {
    "newton": "its step comes from the Hessian, with a line search",
    "lbfgs": "its step comes from a line search along a quasi-Newton direction",
}


def largest_eigenvalue(energy, params, x, x0=None, *, free=None, solve: Callable | None = None):
    """The largest Hessian eigenvalue that bounds a stable step, and where it was taken.

    With ``solve`` (:func:`catenax.minimize`) and ``x0``, the equilibrium is
    first found with ``newton`` (energies with a tridiagonal Hessian, or up to
    10⁵ coordinates) and ``lambda_max`` is taken there: the bound that holds to
    the end of a run. Otherwise, or when that solve does not converge, it is the
    stability verdict's largest eigenvalue at ``x`` (see
    :func:`catenax.stability_verdict`).

    Args:
        energy: the energy function.
        params: its parameters (after ``x``).
        x: the last finite iterate.
        x0: the run's start, if known.
        free: the free mask (1 free, 0 fixed) of the run, if any.
        solve: ``minimize``-like ``solve(energy, x0, *params, method=, max_steps=, free=)``.

    Returns:
        ``(lambda_max, where)``: a float (``nan`` when unknown) and the words
        ``"at the equilibrium"`` or ``"where the run was last finite"``.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> lam, where = largest_eigenvalue(catenax.chain_energy, (5.0, 0.8, 0.1), jnp.zeros(20),
        ...                                 jnp.zeros(20), solve=catenax.minimize)
        >>> round(2 / lam, 4), where
        (0.2387, 'at the equilibrium')
    """
    structured = getattr(energy, "hessian_tridiagonal", None) is not None
    if solve is not None and x0 is not None and (structured or np.size(x0) <= _EQUILIBRIUM_SIZE):
        try:
            r = solve(energy, x0, *params, method="newton", max_steps=200, free=free)
            lam = float(r.extra["max_eigenvalue"]) if r.converged else math.nan
        except Exception:  # advice only: fall back to the local estimate
            lam = math.nan
        if math.isfinite(lam):
            return lam, "at the equilibrium"
    try:
        lam = float(stability_verdict(energy, x, *params, free=free)["max_eigenvalue"])
    except Exception:  # advice only
        lam = math.nan
    return lam, "where the run was last finite"


def diverged_advice(energy, params, x, name, x0=None, *, free=None, solve=None) -> str:
    """A sentence on what to try after a diverged run, about the method's own step.

    gradient descent and optax optimizers: ``eta < 2 / lambda_max``; ``fire``:
    ``dt < 2 / sqrt(lambda_max)``; ``newton``/``lbfgs`` (no learning rate): what to
    check instead (supports, loads, parameters, the start). ``lambda_max`` comes
    from :func:`largest_eigenvalue` (at the equilibrium when ``solve`` and ``x0``
    are given).

    Args:
        energy: the energy function.
        params: its parameters (after ``x``).
        x: the last finite iterate.
        name: the method's name.
        x0: the run's start, if known.
        free: the run's free mask (1 free, 0 fixed), if any.
        solve: :func:`catenax.minimize` (used to find the equilibrium).

    Returns:
        A sentence (with a leading space) to append to the message.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> diverged_advice(catenax.chain_energy, (5.0, 0.8, 0.1), jnp.zeros(20), "gd",
        ...                 x0=jnp.zeros(20), solve=catenax.minimize)[:42]
        ' The step size is too large: gradient desc'
        >>> diverged_advice(catenax.chain_energy, (5.0, 0.8, 0.1), jnp.zeros(20), "newton")[:40]
        ' newton takes no learning rate (its step'
    """
    if not takes_learning_rate(name):
        return _no_learning_rate(energy, params, x, name, x0)
    lam, where = largest_eigenvalue(energy, params, x, x0, free=free, solve=solve)
    known = math.isfinite(lam) and lam > 0
    if name == "fire":
        return _fire(lam, where) if known else (
            " Try a smaller initial time step dt (the `learning_rate`), or `method='newton'`."
        )  # fmt: skip
    if not known:
        return " Try a smaller `learning_rate`, or `method='newton'`."
    step = 2.0 / lam
    return (
        f" The step size is too large: gradient descent is stable only for a step "
        f"below 2/lambda_max = {step:.4g} (lambda_max = {lam:.4g}, the largest Hessian "
        f"eigenvalue {where}). Try `learning_rate={0.9 * step:.3g}`, or `method='newton'`."
    )


def _fire(lam: float, where: str) -> str:
    bound = 2.0 / math.sqrt(lam)
    safety = FIRE().dt_safety
    return (
        f" FIRE's time step dt may be too large for the stiffest mode: its velocity-Verlet "
        f"step is stable only for dt below 2/sqrt(lambda_max) = {bound:.4g} "
        f"(lambda_max = {lam:.4g}, the largest Hessian eigenvalue {where}). Try "
        f"`method=FIRE(dt={0.25 * safety * bound:.3g}, dt_max={safety * bound:.3g})` (the "
        f"`learning_rate` is FIRE's first dt), or `method='newton'`. FIRE already caps dt at "
        f"{safety:g} of that bound as it estimates it and undoes steps that climb, so if "
        f"the energy kept falling, check that the structure is held."
    )


def _no_learning_rate(energy, params, x, name, x0) -> str:
    how = _NO_LEARNING_RATE.get(name, "its step does not come from a learning rate")
    fell = ""
    if x0 is not None:
        try:
            e0, e1 = (float(jax.device_get(energy(p, *params))) for p in (x0, x))
            if math.isfinite(e0) and math.isfinite(e1) and e1 < e0:
                fell = f" (the energy fell from {e0:.4g} to {e1:.4g} before it did)"
        except Exception:  # advice only
            fell = ""
    return (
        f" {name} takes no learning rate ({how}), so no step size is to blame: the "
        f"energy or the positions stopped being finite{fell}. Check that the structure "
        "is held (every part joined to a support, no weight or load pulling a part "
        "away forever, no mechanism), that the parameters are finite and of a sensible "
        "size, and that the start has no coincident nodes; or start nearer the "
        "equilibrium."
    )
