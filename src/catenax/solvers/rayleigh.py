"""The extreme eigenvalues of a symmetric tridiagonal matrix in a few solves.

:func:`rayleigh_extremes` replaces tens of Sturm-count bisection steps
(:func:`catenax.solvers.tridiagonal.extreme_eigenvalues`) by inverse and
Rayleigh-quotient iteration and one Sturm count that certifies the result;
:func:`dense_extremes` takes small matrices on the host, with no program to
compile. Matrices are ``(lower, diag, upper)`` as in
:mod:`catenax.solvers.tridiagonal`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .tridiagonal import count_below, gershgorin, inverse_iteration, matvec, start_vector

__all__ = ["dense_extremes", "rayleigh_extremes"]


def rayleigh_extremes(lower, diag, upper, iters=2, rqi=2):
    """Both extreme eigenvalues by inverse and Rayleigh-quotient iteration, ``lmin`` certified.

    A handful of tridiagonal solves instead of tens of Sturm counts: inverse
    iteration from just below Gershgorin's lower bound (``iters`` solves), then
    ``rqi`` Rayleigh-quotient steps (cubic convergence) give ``lmin`` as a Rayleigh
    quotient ``rho``, an upper bound of the lowest eigenvalue. One Sturm count
    (:func:`count_below`) at ``rho - r - 8 eps s`` (``r``: the residual
    ``|H v - rho v|``, ``s``: the spectrum's scale) then proves that no eigenvalue
    lies below that bound: the bracket ``[bound, rho]`` is certified. The count
    fails (``certified`` false) when the iteration settled on another
    eigenvalue, e.g. when Gershgorin's bound lies far below the spectrum (a
    saddle): callers then fall back to bisection (:func:`extreme_eigenvalues`).
    ``lmax`` is the Rayleigh quotient of inverse iteration from above
    Gershgorin's upper bound, run until it settles to 1e-12 of the scale (a
    lower bound, not certified: it only sets a step size).

    Args:
        lower, diag, upper: the matrix, shape ``(N,)`` each.
        iters: inverse iterations per end (static).
        rqi: Rayleigh-quotient steps for ``lmin`` (static).

    Returns:
        ``(lmin, lmax, certified, bound)``: ``bound <= lambda_min <= lmin`` when
        ``certified``.

    Example:
        >>> lo = jnp.array([0.0, -1.0, -1.0]); up = jnp.array([-1.0, -1.0, 0.0])
        >>> lmin, lmax, ok, bound = rayleigh_extremes(lo, jnp.array([2.0, 2.0, 2.0]), up)
        >>> round(float(lmin), 9), round(float(lmax), 9), bool(ok)  # 2 -+ sqrt(2)
        (0.585786438, 3.414213562, True)
    """
    gl, gu = gershgorin(lower, diag, upper)
    eps = jnp.finfo(diag.dtype).eps
    scale = jnp.maximum(jnp.maximum(jnp.abs(gl), jnp.abs(gu)), jnp.finfo(diag.dtype).tiny)

    def refine(lo, di, up, shift, steps):
        v, rho = inverse_iteration(lo, di, up, shift, iters)
        for _ in range(steps):
            v, rho = inverse_iteration(lo, di, up, rho, 1, v)
        return rho, jnp.linalg.norm(matvec(lo, di, up, v) - rho * v)

    lmin, r = refine(lower, diag, upper, gl - 4 * eps * scale, rqi)
    bound = lmin - r - 8 * eps * scale
    certified = jnp.isfinite(bound) & (count_below(lower, diag, upper, bound) == 0)
    return lmin, _highest(lower, diag, upper, gu + 4 * eps * scale, 1e-12 * scale), certified, bound


def _highest(lower, diag, upper, shift, tol, max_iter=24):
    """Inverse iteration from ``shift`` above the spectrum until the Rayleigh quotient settles.

    Every Rayleigh quotient is a lower bound of the highest eigenvalue and they
    increase towards it; a Rayleigh-quotient step could jump to an interior
    eigenvalue, so none is taken.
    """
    v0 = start_vector(diag.shape[0], diag.dtype)

    def step(c):
        k, v, rho, _ = c
        v, rho1 = inverse_iteration(lower, diag, upper, shift, 1, v)
        return k + 1, v, rho1, rho

    def go(c):
        k, _, rho, prev = c
        return (k < max_iter) & ~(jnp.abs(rho - prev) <= tol)

    inf = jnp.asarray(jnp.inf, diag.dtype)
    return jax.lax.while_loop(go, step, (0, v0 / jnp.linalg.norm(v0), -inf, inf))[2]


def dense_extremes(lower, diag, upper):
    """Lowest and highest eigenvalue of a small tridiagonal matrix, on the host (NumPy).

    The dense ``numpy.linalg.eigvalsh`` (LAPACK ``syevd``): exact to round-off and,
    for a few hundred rows, cheaper than compiling any JAX program.

    Args:
        lower, diag, upper: the matrix, shape ``(N,)`` each (NumPy or JAX arrays).

    Returns:
        ``(lambda_min, lambda_max)`` as Python floats.

    Example:
        >>> lo = np.array([0.0, -1.0, -1.0]); up = np.array([-1.0, -1.0, 0.0])
        >>> [round(v, 9) for v in dense_extremes(lo, np.array([2.0, 2.0, 2.0]), up)]
        [0.585786438, 3.414213562]
    """
    diag = np.asarray(diag, np.float64)
    h = np.diag(diag)
    if diag.shape[0] > 1:
        off = np.asarray(upper, np.float64)[:-1]
        h += np.diag(off, 1) + np.diag(off, -1)
    w = np.linalg.eigvalsh(h)
    return float(w[0]), float(w[-1])
