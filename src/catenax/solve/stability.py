"""The stability verdict: is a stationary point a minimum or a saddle?

At a stationary point ``x`` the lowest Hessian eigenvalue decides: positive
means a strict local minimum, negative means a saddle (some displacement
lowers the energy). :func:`stability_verdict` computes the two extreme eigenvalues
without ever forming all of them:

* energies with ``hessian_tridiagonal(x, *params)`` and 1-D ``x`` (the chain):
  exact, by bisection on Sturm counts refined by inverse iteration
  (:func:`catenax.solvers.tridiagonal.extreme_eigenvalues`), O(N) memory and
  about half a second at N = 10⁶ on one CPU core;
* any other energy: Lanczos on Hessian-vector products (restricted to the free
  coordinates) from a fixed, non-symmetric start vector, with full
  re-orthogonalisation while the Krylov basis is small. Ritz values lie inside
  the spectrum, so the reported ``min_eigenvalue`` is an upper bound that is
  exact when ``steps >=`` the number of free coordinates.

The point is ``stable`` unless ``min_eigenvalue < -threshold`` with
``threshold = sqrt(eps) * max(|lambda_min|, |lambda_max|)`` (1.5e-8 relative in
float64, 3.5e-4 in float32): a zero eigenvalue (a free mechanism) is reported
as stable but marginal. That rule (:func:`is_stable`) and the saddle status it
implies (:func:`verdict_status`) are the same for :func:`catenax.minimize` and
for sweeps, which compute the eigenvalues in batches.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from catenax.solvers import tridiagonal as tri

from .result import CONVERGED, SADDLE, STATUSES, Result

__all__ = [
    "attach_verdict",
    "eigen_threshold",
    "is_stable",
    "lanczos_coefficients",
    "ritz_extremes",
    "stability_verdict",
    "tridiagonal_extremes",
    "verdict_status",
]


def stability_verdict(energy, x, *params, free=None, lanczos_steps: int = 64) -> dict:
    """Extreme Hessian eigenvalues at ``x`` and the verdict minimum/saddle.

    Args:
        energy: ``energy(x, *params) -> scalar``; a ``hessian_tridiagonal``
            attribute selects the exact tridiagonal route.
        x: the point (usually a result's positions).
        *params: the energy's parameters.
        free: optional mask (1 free, 0 fixed) of the shape of ``x``.
        lanczos_steps: Krylov dimension of the Lanczos route (capped at the
            number of free coordinates).

    Returns:
        A dict with ``min_eigenvalue``, ``max_eigenvalue`` (floats), ``stable``
        (bool), ``gd_step_max`` (``2 / max_eigenvalue``: the largest step size
        at which gradient descent is stable near ``x``; ``inf`` when
        ``max_eigenvalue <= 0``) and ``eigen_threshold``.

    Raises:
        ValueError: ``lanczos_steps`` below 1.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1)
        >>> v = stability_verdict(catenax.chain_energy, r.positions, 5.0, 0.8, 0.1)
        >>> round(v["min_eigenvalue"], 6), v["stable"], round(v["gd_step_max"], 4)
        (0.046278, True, 0.2387)
    """
    if isinstance(lanczos_steps, bool) or not isinstance(lanczos_steps, int) or lanczos_steps < 1:
        raise ValueError(f"lanczos_steps: {lanczos_steps!r} must be an integer >= 1; use e.g. 64")
    # Host-side set-up in NumPy: each eager JAX op compiles on first use, which
    # would dominate the start-up of a short CLI run.
    x = x if isinstance(x, jax.Array) else np.asarray(x)
    mask = np.ones(x.shape, x.dtype) if free is None else free
    mask = mask if isinstance(mask, jax.Array) else np.asarray(mask, x.dtype)
    params = tuple(params)
    if getattr(energy, "hessian_tridiagonal", None) is not None and x.ndim == 1:
        lmin, lmax = tridiagonal_extremes(energy)(x, params, mask)
    else:
        n_free = int(np.count_nonzero(np.asarray(mask)))
        if n_free == 0:
            lmin = lmax = 0.0
        else:
            steps = min(lanczos_steps, n_free)
            alpha, beta = lanczos_coefficients(energy, steps, x.shape, x.dtype)(x, params, mask)
            lmin, lmax = ritz_extremes(alpha, beta)
    lmin, lmax = float(lmin), float(lmax)
    thr = float(eigen_threshold(lmin, lmax, x.dtype))
    return {
        "min_eigenvalue": lmin,
        "max_eigenvalue": lmax,
        "stable": bool(is_stable(lmin, lmax, x.dtype)),
        "gd_step_max": 2.0 / lmax if lmax > 0 else math.inf,
        "eigen_threshold": thr,
    }


def eigen_threshold(lmin, lmax, dtype):
    """How negative the lowest eigenvalue may be and still count as zero.

    Args:
        lmin, lmax: the extreme eigenvalues (numbers or arrays).
        dtype: the run's float dtype.

    Returns:
        ``sqrt(eps) * max(|lmin|, |lmax|)``.

    Example:
        >>> float(eigen_threshold(-1.0, 4.0, np.float64))
        5.960464477539063e-08
    """
    eps = float(jnp.finfo(dtype).eps)
    return math.sqrt(eps) * np.maximum(np.abs(lmin), np.abs(lmax))


def is_stable(lmin, lmax, dtype):
    """The stability rule: a stationary point is a minimum unless ``lmin < -threshold``.

    ``threshold`` is :func:`eigen_threshold`; a zero eigenvalue (a free
    mechanism) counts as stable (marginal); a non-finite ``lmin`` does not.

    Args:
        lmin, lmax: the extreme Hessian eigenvalues (numbers, or arrays: one per case).
        dtype: the run's float dtype.

    Returns:
        A NumPy boolean (array).

    Example:
        >>> bool(is_stable(-1e-12, 5.0, np.float64)), bool(is_stable(-0.1, 5.0, np.float64))
        (True, False)
    """
    thr = eigen_threshold(lmin, lmax, dtype)
    with np.errstate(invalid="ignore"):
        return np.isfinite(lmin) & (lmin >= -thr)


def verdict_status(status, stable):
    """The status after the verdict: a converged point that is not stable is a saddle.

    Args:
        status: int status codes (see :data:`~catenax.solve.STATUSES`).
        stable: :func:`is_stable`, the shape of ``status``.

    Returns:
        The codes, ``CONVERGED`` replaced by ``SADDLE`` where not stable.

    Example:
        >>> from catenax.solve import STATUSES
        >>> STATUSES[int(verdict_status(STATUSES.index("converged"), False))]
        'saddle'
    """
    status = np.asarray(status)
    return np.where((status == CONVERGED) & ~np.asarray(stable, bool), SADDLE, status)


def attach_verdict(res: Result, energy, params, free, stability=True) -> Result:
    """Attach the stability verdict to a result; a converged saddle becomes ``saddle``.

    Args:
        res: the driver's result.
        energy, params, free: the problem.
        stability: ``False`` returns ``res`` unchanged (so does a diverged run).

    Returns:
        The result with ``min_eigenvalue``, ``max_eigenvalue``, ``stable`` and
        ``gd_step_max`` in ``extra``, and its status and message updated.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1,
        ...                      stability=False)
        >>> attach_verdict(r, catenax.chain_energy, (5.0, 0.8, 0.1), None).extra["stable"]
        True
    """
    if not stability or res.status == "diverged":
        return res
    v = stability_verdict(energy, res.positions, *params, free=free)
    extra = {**res.extra, **{k: v[k] for k in ("min_eigenvalue", "max_eigenvalue", "stable")}}
    extra["gd_step_max"] = v["gd_step_max"] if math.isfinite(v["gd_step_max"]) else None
    status = STATUSES[int(verdict_status(STATUSES.index(res.status), v["stable"]))]
    message = res.message
    if status == "saddle":
        message = (
            f"stopped at a saddle point after {res.steps} steps: max|grad E| = "
            f"{res.grad_max:.3g} is below the tolerance, but the lowest Hessian eigenvalue "
            f"is {v['min_eigenvalue']:.4g} < 0, so some displacement lowers the energy. "
            f"Start from a perturbed x0 or use multistart (e.g. multistart=16) to reach a "
            f"stable minimum."
        )
    elif status == "converged":
        message += f" Stable minimum (lowest Hessian eigenvalue {v['min_eigenvalue']:.4g} > 0)."
    return replace(res, status=status, message=message, extra=extra)


def ritz_extremes(alpha, beta):
    """The extreme Ritz values of Lanczos coefficients (host, NumPy).

    The Lanczos tridiagonal matrix is cut where ``beta`` vanishes (the Krylov
    space was invariant) and its extreme eigenvalues are taken with
    ``numpy.linalg.eigvalsh``.

    Args:
        alpha, beta: :func:`lanczos_coefficients`' output, shape ``(..., steps)``;
            leading axes are independent cases.

    Returns:
        ``(lmin, lmax)``: floats, or float arrays of the leading shape.

    Example:
        >>> lmin, lmax = ritz_extremes(np.array([2.0, 2.0]), np.array([1.0, 0.0]))
        >>> round(float(lmin), 12), round(float(lmax), 12)
        (1.0, 3.0)
    """
    a, b = np.asarray(alpha, float), np.asarray(beta, float)
    steps = a.shape[-1]
    lmin, lmax = np.empty(a.shape[:-1]), np.empty(a.shape[:-1])
    for i in np.ndindex(*a.shape[:-1]):
        k = _valid_length(b[i], steps)
        t = np.diag(a[i][:k]) + np.diag(b[i][: k - 1], 1) + np.diag(b[i][: k - 1], -1)
        ev = np.linalg.eigvalsh(t)
        lmin[i], lmax[i] = ev[0], ev[-1]
    if not a.shape[:-1]:
        return float(lmin), float(lmax)
    return lmin, lmax


def _valid_length(beta, steps):
    # Lanczos stops early (beta ~ 0) when the Krylov space is invariant.
    scale = max(float(np.max(np.abs(beta))) if beta.size else 0.0, 1e-300)
    for i, b in enumerate(beta[: steps - 1]):
        if not abs(b) > 1e-12 * scale:
            return i + 1
    return steps


@functools.lru_cache(maxsize=64)
def tridiagonal_extremes(energy):
    """The exact extreme Hessian eigenvalues of an energy with ``hessian_tridiagonal``.

    Sturm-count bisection refined by inverse iteration
    (:func:`catenax.solvers.tridiagonal.extreme_eigenvalues`) on the Hessian
    restricted to the free coordinates; compiled once per energy.

    Args:
        energy: an energy with a ``hessian_tridiagonal(x, *params)`` attribute.

    Returns:
        A jitted ``run(x, params, free) -> (lmin, lmax)`` (vmap-able).

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> run = tridiagonal_extremes(catenax.chain_energy)
        >>> [round(float(v), 6) for v in run(jnp.zeros(3), (1.0, 0.0, 0.1), jnp.ones(3))]
        [0.585786, 3.414214]
    """

    def run(x, params, free):
        lo, di, up = energy.hessian_tridiagonal(x, *params)
        lo, di, up = tri.mask_tridiagonal(lo, di, up, free)
        lmin, lmax = tri.extreme_eigenvalues(*_park_fixed(lo, di, up, free))
        return lmin, lmax

    return jax.jit(run)


def _park_fixed(lo, di, up, free):
    # A diagonal entry of the free block is a Rayleigh quotient, so it lies inside
    # that block's spectrum; the decoupled fixed rows then never set an extreme.
    f = free > 0
    nf = jnp.maximum(jnp.sum(f), 1)
    mid = jnp.sum(jnp.where(f, di, jnp.zeros_like(di))) / nf
    return lo, jnp.where(f, di, mid), up


@functools.lru_cache(maxsize=64)
def lanczos_coefficients(energy, steps, shape, dtype):
    """Lanczos on Hessian-vector products from the fixed start vector (compiled once).

    The start vector is :func:`catenax.solvers.tridiagonal.start_vector` on the
    free coordinates; the Krylov basis is fully re-orthogonalised while it holds
    at most 5e7 numbers.

    Args:
        energy: ``energy(x, *params) -> scalar``.
        steps: the Krylov dimension.
        shape, dtype: of ``x``.

    Returns:
        A jitted ``run(x, params, free) -> (alpha, beta)``, each of shape
        ``(steps,)``; :func:`ritz_extremes` turns them into eigenvalues.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> run = lanczos_coefficients(catenax.chain_energy, 3, (3,), jnp.float64)
        >>> a, b = run(jnp.zeros(3), (1.0, 0.0, 0.1), jnp.ones(3))
        >>> [round(v, 6) for v in ritz_extremes(a, b)]
        [0.585786, 3.414214]
    """
    size = math.prod(shape)
    reorth = size * steps <= 50_000_000

    def run(x, params, free):
        def hvp(v):
            grad = lambda z: jax.grad(energy)(z, *params)  # noqa: E731
            return jax.jvp(grad, (x,), (v * free,))[1] * free

        v = tri.start_vector(size, dtype).reshape(shape) * free
        v = v / jnp.linalg.norm(v.ravel())
        basis = jnp.zeros((steps if reorth else 1,) + shape, dtype)
        alphas = jnp.zeros((steps,), dtype)
        betas = jnp.zeros((steps,), dtype)

        def body(j, c):
            v, v_prev, b_prev, basis, alphas, betas = c
            if reorth:
                basis = basis.at[j].set(v)
            w = hvp(v)
            a = jnp.vdot(v, w)
            w = w - a * v - b_prev * v_prev
            if reorth:
                mask = (jnp.arange(steps) <= j).astype(dtype)
                coef = jnp.tensordot(basis, w, axes=w.ndim) * mask
                w = w - jnp.tensordot(coef, basis, axes=1)
            b = jnp.linalg.norm(w.ravel())
            v_next = w / jnp.where(b > 0, b, 1.0)
            return v_next, v, b, basis, alphas.at[j].set(a), betas.at[j].set(b)

        c = (v, jnp.zeros_like(v), jnp.zeros((), dtype), basis, alphas, betas)
        c = jax.lax.fori_loop(0, steps, body, c)
        return c[4], c[5]

    return jax.jit(run)
