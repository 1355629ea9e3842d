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
as stable but marginal.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from catenax.solvers import tridiagonal as tri

__all__ = ["stability_verdict"]


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
        lmin, lmax = _tridiagonal_extremes(energy)(x, params, mask)
    else:
        n_free = int(np.count_nonzero(np.asarray(mask)))
        if n_free == 0:
            lmin = lmax = 0.0
        else:
            steps = min(lanczos_steps, n_free)
            alpha, beta = _lanczos(energy, steps, x.shape, x.dtype)(x, params, mask)
            alpha, beta = np.asarray(alpha, float), np.asarray(beta, float)
            k = _valid_length(beta, steps)
            t = np.diag(alpha[:k]) + np.diag(beta[: k - 1], 1) + np.diag(beta[: k - 1], -1)
            ev = np.linalg.eigvalsh(t)
            lmin, lmax = ev[0], ev[-1]
    lmin, lmax = float(lmin), float(lmax)
    eps = float(jnp.finfo(x.dtype).eps)
    thr = math.sqrt(eps) * max(abs(lmin), abs(lmax))
    stable = bool(lmin >= -thr) if math.isfinite(lmin) else False
    return {
        "min_eigenvalue": lmin,
        "max_eigenvalue": lmax,
        "stable": stable,
        "gd_step_max": 2.0 / lmax if lmax > 0 else math.inf,
        "eigen_threshold": thr,
    }


def _valid_length(beta, steps):
    # Lanczos stops early (beta ~ 0) when the Krylov space is invariant.
    scale = max(float(np.max(np.abs(beta))) if beta.size else 0.0, 1e-300)
    for i, b in enumerate(beta[: steps - 1]):
        if not abs(b) > 1e-12 * scale:
            return i + 1
    return steps


@functools.lru_cache(maxsize=64)
def _tridiagonal_extremes(energy):
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
def _lanczos(energy, steps, shape, dtype):
    size = math.prod(shape)
    reorth = size * steps <= 50_000_000

    def run(x, params, free):
        def hvp(v):
            grad = lambda z: jax.grad(energy)(z, *params)  # noqa: E731
            return jax.jvp(grad, (x,), (v * free,))[1] * free

        i = jnp.arange(size, dtype=dtype).reshape(shape)
        v = (jnp.cos(1.2345 * i + 0.3) + 0.5 * jnp.sin(0.377 * i * i / size) + 0.1) * free
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
