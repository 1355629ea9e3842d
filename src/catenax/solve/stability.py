"""The stability verdict: is a stationary point a minimum, a saddle, or singular?

At a stationary point ``x`` the lowest Hessian eigenvalue ``lambda_min`` (over
the free coordinates) decides, against a threshold relative to the Hessian's
scale ``s = max(|lambda_min|, |lambda_max|)``:

* ``minimum`` (``stable``): ``lambda_min > tau``, ``tau = 1e3 eps s``
  (:func:`eigen_threshold`: 2.2e-13 relative in float64, 1.2e-4 in float32) —
  a strict local minimum;
* ``saddle``: ``lambda_min < -tau``, or ``lambda_min < -res`` where its sign is
  *resolved* (proven beyond round-off: an exact route, or a Ritz residual that
  keeps it negative), ``res = 64 eps s`` (:func:`eigen_resolution`): some
  displacement lowers the energy. A resolved negative eigenvalue is a saddle
  however stiff the structure (whatever ``tau``);
* ``singular`` otherwise: ``lambda_min`` is zero to within ``tau`` (a
  mechanism, a slack cable); not stable, not a strict minimum.

:func:`stability_verdict` computes the extreme eigenvalues by the route that
fits the energy (:mod:`catenax.solve.eigen_routes`): exact tridiagonal
eigenvalues for the chain, Cholesky factorisations of the block-tridiagonal
free Hessian (the inertia test) and shift-invert Lanczos for spring networks,
the dense Hessian for other small energies, and Lanczos (an estimate) beyond
that. It says whether ``lambda_min`` is ``certified`` or estimated. The rule
(:func:`is_stable`, :func:`is_saddle`, :func:`verdict_name`) and the status it
implies (:func:`verdict_status`) are the same for :func:`catenax.minimize` and
for sweeps, which compute the eigenvalues in batches.
"""

from __future__ import annotations

import math
from dataclasses import replace

import jax.numpy as jnp
import numpy as np

from .chain_route import chain_extremes
from .checks import check_problem
from .eigen_routes import (
    generic_extremes,
    is_network,
    lanczos_coefficients,
    network_extremes,
    tridiagonal_extremes,
)
from .result import CONVERGED, SADDLE, STATUSES, Result
from .spectrum import ritz_extremes

__all__ = [
    "RESOLUTION_FACTOR",
    "STABLE_FACTOR",
    "VERDICTS",
    "attach_verdict",
    "eigen_resolution",
    "eigen_threshold",
    "is_saddle",
    "is_stable",
    "lanczos_coefficients",
    "ritz_extremes",
    "stability_verdict",
    "tridiagonal_extremes",
    "verdict_name",
    "verdict_status",
]

#: ``tau = STABLE_FACTOR * eps * scale``: stable only above it.
STABLE_FACTOR = 1e3
#: ``res = RESOLUTION_FACTOR * eps * scale``: a resolved eigenvalue below ``-res`` is negative.
RESOLUTION_FACTOR = 64.0
#: The verdict's names ("unknown": the eigenvalues overflow the dtype, no verdict).
VERDICTS = ("minimum", "singular", "saddle", "unknown")


def stability_verdict(
    energy, x, *params, free=None, lanczos_steps: int = 64, shift_solve=None
) -> dict:
    """Extreme Hessian eigenvalues at ``x`` and the verdict minimum/saddle/singular.

    Args:
        energy: ``energy(x, *params) -> scalar``; a ``hessian_tridiagonal``
            attribute selects the exact tridiagonal route, a ``hessian_blocks``
            attribute with a network first parameter the factorisation route
            (see :mod:`catenax.solve.eigen_routes`).
        x: the point (usually a result's positions).
        *params: the energy's parameters.
        free: optional mask (1 free, 0 fixed) of the shape of ``x``.
        lanczos_steps: Krylov dimension of the Lanczos estimates (capped at the
            number of free coordinates).
        shift_solve: optional ``sigma -> solve``, ``solve(b) ~ (H - sigma I)^{-1} b``
            on the free coordinates (arrays of the shape of ``x``, zero where
            fixed): used for shift-invert Lanczos where no exact route fits
            (the result stays an estimate).

    Returns:
        A dict with ``min_eigenvalue``, ``max_eigenvalue`` (floats), ``stable``
        (bool), ``verdict`` (``"minimum"``, ``"saddle"`` or ``"singular"``;
        ``"unknown"`` when the eigenvalues are not finite in ``x``'s dtype),
        ``certified`` (bool: ``min_eigenvalue`` is proven, not estimated),
        ``route`` (how it was computed), ``gd_step_max`` (``2 / max_eigenvalue``:
        the largest step size at which gradient descent is stable near ``x``;
        ``inf`` when ``max_eigenvalue <= 0``) and ``eigen_threshold``
        (``tau``). With no free coordinate nothing can move: a minimum.

    Raises:
        ValueError: ``lanczos_steps`` below 1.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1)
        >>> v = stability_verdict(catenax.chain_energy, r.positions, 5.0, 0.8, 0.1)
        >>> round(v["min_eigenvalue"], 6), v["stable"], round(v["gd_step_max"], 4)
        (0.046278, True, 0.2387)
        >>> v["verdict"], v["certified"]
        ('minimum', True)
    """
    if isinstance(lanczos_steps, bool) or not isinstance(lanczos_steps, int) or lanczos_steps < 1:
        raise ValueError(f"lanczos_steps: {lanczos_steps!r} must be an integer >= 1; use e.g. 64")
    # Host-side set-up in NumPy: each eager JAX op compiles on first use, which
    # would dominate the start-up of a short CLI run.
    params = tuple(params)
    x, mask = check_problem(energy, x, params, free, finite=False)
    v = _extremes(energy, x, params, mask, lanczos_steps, shift_solve)
    lmin, lmax = float(v["lmin"]), float(v["lmax"])
    if v["route"] == "none":
        stable, saddle = True, False
    elif not _scale(lmin, lmax) <= math.sqrt(float(jnp.finfo(x.dtype).max)):  # overflowed
        v["certified"], v["unknown"] = False, True
        stable, saddle = False, False
    else:
        stable = bool(is_stable(lmin, lmax, x.dtype))
        saddle = bool(is_saddle(lmin, lmax, x.dtype, v["resolved"]))
    return {
        "min_eigenvalue": lmin,
        "max_eigenvalue": lmax,
        "stable": stable,
        "verdict": "unknown" if v.get("unknown") else verdict_name(stable, saddle),
        "certified": bool(v["certified"]),
        "route": v["route"],
        "gd_step_max": 2.0 / lmax if lmax > 0 else math.inf,
        "eigen_threshold": float(eigen_threshold(lmin, lmax, x.dtype)),
    }


def _extremes(energy, x, params, mask, steps, shift_solve) -> dict:
    """The route's ``{"lmin", "lmax", "certified", "resolved", "route"}``."""
    if getattr(energy, "hessian_tridiagonal", None) is not None and x.ndim == 1:
        return chain_extremes(energy, x, params, mask)
    if int(np.count_nonzero(np.asarray(mask))) == 0:
        return {"lmin": 0.0, "lmax": 0.0, "certified": True, "resolved": True, "route": "none"}

    def bounds(lmin, lmax):
        return float(eigen_threshold(lmin, lmax, x.dtype)), float(
            eigen_resolution(lmin, lmax, x.dtype)
        )

    route = network_extremes if is_network(energy, x, params) else generic_extremes
    return route(energy, x, params, mask, steps, bounds, shift_solve)


def _scale(lmin, lmax):
    with np.errstate(invalid="ignore"):
        return np.maximum(np.abs(lmin), np.abs(lmax))


def eigen_threshold(lmin, lmax, dtype):
    """The stability threshold ``tau``: stable only when ``lmin > tau``.

    Args:
        lmin, lmax: the extreme eigenvalues (numbers or arrays).
        dtype: the run's float dtype.

    Returns:
        ``STABLE_FACTOR * eps * max(|lmin|, |lmax|)`` (1e3 eps: 2.2e-13 relative
        in float64, 1.2e-4 in float32; round-off puts a zero eigenvalue within
        about 10 eps of zero).

    Example:
        >>> float(eigen_threshold(-1.0, 4.0, np.float64))
        8.881784197001252e-13
    """
    return STABLE_FACTOR * float(jnp.finfo(dtype).eps) * _scale(lmin, lmax)


def eigen_resolution(lmin, lmax, dtype):
    """The resolution ``res``: a resolved eigenvalue below ``-res`` is negative.

    Args:
        lmin, lmax: the extreme eigenvalues (numbers or arrays).
        dtype: the run's float dtype.

    Returns:
        ``RESOLUTION_FACTOR * eps * max(|lmin|, |lmax|)``.

    Example:
        >>> float(eigen_resolution(-1.0, 4.0, np.float64))
        5.684341886080802e-14
    """
    return RESOLUTION_FACTOR * float(jnp.finfo(dtype).eps) * _scale(lmin, lmax)


def is_stable(lmin, lmax, dtype):
    """The stability rule: a stationary point is a (strict) minimum when ``lmin > tau``.

    ``tau`` is :func:`eigen_threshold`; a zero eigenvalue (a free mechanism) is
    not stable (it is ``singular``), nor is a non-finite ``lmin``.

    Args:
        lmin, lmax: the extreme Hessian eigenvalues (numbers, or arrays: one per case).
        dtype: the run's float dtype.

    Returns:
        A NumPy boolean (array).

    Example:
        >>> [bool(is_stable(v, 5.0, np.float64)) for v in (1e-6, 0.0, -1e-12, -0.1)]
        [True, False, False, False]
    """
    thr = eigen_threshold(lmin, lmax, dtype)
    with np.errstate(invalid="ignore"):
        return np.isfinite(lmin) & (lmin > thr)


def is_saddle(lmin, lmax, dtype, resolved=False):
    """The saddle rule: ``lmin < -tau``, or ``lmin < -res`` where its sign is resolved.

    Args:
        lmin, lmax: the extreme Hessian eigenvalues (numbers or arrays).
        dtype: the run's float dtype.
        resolved: whether ``lmin`` is proven to round-off (an exact route: the
            chain's tridiagonal eigenvalues, a factorisation, a dense
            eigensolver; or a Ritz residual that keeps it negative).

    Returns:
        A NumPy boolean (array).

    Example:
        >>> # an upright pendulum on a stiff spring: lambda_min = -1, lambda_max = 2e13
        >>> bool(is_saddle(-1.0, 2e13, np.float64)), bool(is_saddle(-1.0, 2e13, np.float64, True))
        (False, True)
    """
    tau = eigen_threshold(lmin, lmax, dtype)
    res = eigen_resolution(lmin, lmax, dtype)
    with np.errstate(invalid="ignore"):
        return (lmin < -tau) | (np.asarray(resolved, bool) & (lmin < -res))


def verdict_name(stable, saddle):
    """``"minimum"``, ``"saddle"`` or ``"singular"`` from :func:`is_stable` and :func:`is_saddle`.

    Example:
        >>> verdict_name(True, False), verdict_name(False, True), verdict_name(False, False)
        ('minimum', 'saddle', 'singular')
    """
    return "minimum" if stable else "saddle" if saddle else "singular"


def verdict_status(status, stable, saddle=None):
    """The status after the verdict: a converged saddle becomes ``saddle``.

    A converged singular point (neither stable nor a saddle) stays
    ``converged``: its verdict says ``singular``.

    Args:
        status: int status codes (see :data:`~catenax.solve.STATUSES`).
        stable: :func:`is_stable`, the shape of ``status``.
        saddle: :func:`is_saddle`, the shape of ``status`` (``None``: every
            point that is not stable counts as a saddle).

    Returns:
        The codes, ``CONVERGED`` replaced by ``SADDLE`` at saddles.

    Example:
        >>> from catenax.solve import STATUSES
        >>> c = STATUSES.index("converged")
        >>> [STATUSES[int(verdict_status(c, False, saddle))] for saddle in (True, False)]
        ['saddle', 'converged']
    """
    status = np.asarray(status)
    saddle = ~np.asarray(stable, bool) if saddle is None else np.asarray(saddle, bool)
    return np.where((status == CONVERGED) & saddle, SADDLE, status)


def attach_verdict(res: Result, energy, params, free, stability=True) -> Result:
    """Attach the stability verdict to a result; a converged saddle becomes ``saddle``.

    Args:
        res: the driver's result.
        energy, params, free: the problem.
        stability: ``False`` returns ``res`` unchanged (so does a diverged run).

    Returns:
        The result with ``min_eigenvalue``, ``max_eigenvalue``, ``stable``,
        ``verdict``, ``certified`` and ``gd_step_max`` in ``extra``, and its
        status and message updated (a converged singular point stays
        ``converged``, not stable, and its message says singular).

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1,
        ...                      stability=False)
        >>> r = attach_verdict(r, catenax.chain_energy, (5.0, 0.8, 0.1), None)
        >>> r.extra["stable"], r.extra["verdict"], r.message[-66:]
        (True, 'minimum', 'Stable minimum (lowest Hessian eigenvalue 0.04628 > 0, certified).')
    """
    if not stability or res.status == "diverged":
        return res
    v = stability_verdict(energy, res.positions, *params, free=free)
    keys = ("min_eigenvalue", "max_eigenvalue", "stable", "verdict", "certified")
    extra = {**res.extra, **{k: v[k] for k in keys}}
    extra["gd_step_max"] = v["gd_step_max"] if math.isfinite(v["gd_step_max"]) else None
    saddle = v["verdict"] == "saddle"
    status = STATUSES[int(verdict_status(STATUSES.index(res.status), v["stable"], saddle))]
    return replace(res, status=status, message=_message(res, status, v), extra=extra)


def _message(res: Result, status: str, v: dict) -> str:
    """The run's message with the verdict's sentence."""
    lam = f"{v['min_eigenvalue']:.4g}"
    how = "certified" if v["certified"] else "estimated"
    if status == "saddle":
        return (
            f"stopped at a saddle point after {res.steps} steps: max|grad E| = "
            f"{res.grad_max:.3g} is below the tolerance, but the lowest Hessian eigenvalue "
            f"is {lam} < 0 ({how}), so some displacement lowers the energy. "
            f"Start from a perturbed x0 or use multistart (e.g. `multistart=16`) to reach a "
            f"stable minimum."
        )
    if status != "converged":
        return res.message
    if v["verdict"] == "unknown":
        return res.message + (
            f" No stability verdict: the Hessian's eigenvalues (about {v['max_eigenvalue']:.3g}) "
            f"overflow {np.asarray(res.positions).dtype} when squared; rescale the problem "
            "(smaller stiffnesses or loads) to get one."
        )
    if v["verdict"] == "minimum":
        return res.message + f" Stable minimum (lowest Hessian eigenvalue {lam} > 0, {how})."
    return res.message + (
        f" Singular, not a stable minimum: the lowest Hessian eigenvalue {lam} ({how}) is zero "
        f"to within {v['eigen_threshold']:.3g}, so some displacement (a mechanism, a slack "
        f"cable) changes the energy only at higher order; add supports or stiffness to hold it."
    )
