"""How the verdict gets the extreme Hessian eigenvalues: one route per kind of energy.

Each route returns ``{"lmin", "lmax", "certified", "resolved", "route"}``:
``certified`` says that ``lmin`` is proven to its accuracy (not an estimate);
``resolved`` that its sign is proven beyond round-off (see
:func:`catenax.solve.is_saddle`).

* ``tridiagonal`` (an energy with ``hessian_tridiagonal`` and 1-D ``x``: the
  chain): exact (:func:`catenax.solve.chain_route.chain_extremes`): dense on
  the host when small, else
  Rayleigh-quotient iteration with a Sturm-count certificate, else bisection
  on Sturm counts refined by inverse iteration (:func:`tridiagonal_extremes`,
  also the batched form sweeps use). Certified.
* ``factorisation`` (a spring network: an energy with ``hessian_blocks`` and a
  :class:`~catenax.Network` first parameter): the free Hessian in
  block-tridiagonal form (:mod:`catenax.solve.blocktri`); ``lambda_min`` from
  Cholesky factorisations at shifts (their success or failure is the inertia
  test) and shift-invert Lanczos (:func:`catenax.solve.spectrum.lowest_by_factorisation`);
  ``lambda_max`` from Lanczos. Certified (``lambda_min`` proven to 1e-6
  relative, or to the threshold ``tau`` absolute), while ``sum_k s_k^3`` (the
  factorisation's flops) is at most :data:`FACTOR_LIMIT`; above it, the estimate
  routes below.
* ``dense`` (any other energy with at most :data:`DENSE_LIMIT` coordinates):
  the dense free Hessian (``jax.hessian``) and ``numpy.linalg.eigvalsh``.
  Certified.
* ``shift-invert`` (larger, when a ``shift_solve`` is given) and ``lanczos``
  (otherwise): Lanczos on ``(H - sigma I)^{-1}`` or on ``H`` itself from a
  fixed start vector (:func:`lanczos_coefficients`). Ritz values lie inside the
  spectrum, so ``lmin`` is an upper bound: an estimate. Its sign is resolved
  when the Ritz residual proves it: ``theta + r < -resolution``.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from catenax.solvers import tridiagonal as tri

from .blocktri import BlockTridiagonal, level_blocks
from .spectrum import (
    host_lanczos,
    lowest_by_factorisation,
    ritz,
    ritz_extremes,
    ritz_lowest_residual,
    shift_invert_lowest,
    start_vector,
)

__all__ = [
    "DENSE_LIMIT",
    "FACTOR_LIMIT",
    "dense_extremes",
    "generic_extremes",
    "is_network",
    "lanczos_coefficients",
    "lanczos_extremes",
    "network_extremes",
    "shift_invert_extremes",
    "tridiagonal_extremes",
]

#: The dense route's largest number of coordinates (numpy eigvalsh: ~1 s at 2000 on one core).
DENSE_LIMIT = 2000
#: The factorisation route's largest cost, sum_k s_k^3 (about 1 s per 1e9 on one core).
FACTOR_LIMIT = 4e9


def _start(size, perm=None):
    v = start_vector(size)
    return v if perm is None else v[perm]


def _network_coo(blocks, springs, d):
    """COO triplets of the Hessian from the per-spring blocks (as :func:`catenax.hessian_coo`)."""
    i, j = springs[:, 0], springs[:, 1]
    row_nodes, col_nodes = np.stack([i, j, i, j]), np.stack([i, j, j, i])
    sign = np.array([1.0, 1.0, -1.0, -1.0])
    ar = np.arange(d)
    rows = row_nodes[:, :, None, None] * d + ar[None, None, :, None]
    cols = col_nodes[:, :, None, None] * d + ar[None, None, None, :]
    shape = (4,) + blocks.shape
    vals = sign[:, None, None, None] * blocks[None]
    return np.broadcast_to(rows, shape).ravel(), np.broadcast_to(cols, shape).ravel(), vals.ravel()


def _not_finite(route):
    nan = float("nan")
    return {"lmin": nan, "lmax": nan, "certified": False, "resolved": False, "route": route}


@functools.lru_cache(maxsize=64)
def _jitted(fn):
    return jax.jit(fn)


@functools.lru_cache(maxsize=64)
def _dense_hessian(energy):
    return jax.jit(jax.hessian(energy))


def is_network(energy, x, params) -> bool:
    """Whether the factorisation route applies: ``hessian_blocks`` and a network first parameter.

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(3)
        >>> is_network(catenax.network_energy, net.positions, (net,))
        True
    """
    return (
        getattr(energy, "hessian_blocks", None) is not None
        and len(params) >= 1
        and hasattr(params[0], "springs")
        and np.ndim(x) == 2
    )


def network_extremes(energy, x, params, mask, steps, bounds, shift_solve=None):
    """The factorisation route (or, above :data:`FACTOR_LIMIT`, an estimate).

    Args:
        energy: a network energy (``hessian_blocks(x, *params)``).
        x, params, mask: the point, the parameters, the free mask.
        steps: Lanczos steps for ``lambda_max`` and the first ``lambda_min`` estimate.
        bounds: ``(lmin, lmax) -> (tau, resolution)``.
        shift_solve: optional, see :func:`catenax.stability_verdict`.

    Returns:
        The route's dict.

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(3)
        >>> v = network_extremes(catenax.network_energy, net.positions, (net,),
        ...                      catenax.free_mask(net), 64, lambda a, b: (1e-9, 1e-11))
        >>> v["route"], v["certified"]
        ('factorisation', True)
    """
    springs = np.asarray(params[0].springs)
    blocks = level_blocks(springs, np.asarray(mask))
    if sum(float(b.size) ** 3 for b in blocks) > FACTOR_LIMIT:
        if shift_solve is not None:
            return shift_invert_extremes(energy, x, params, mask, steps, bounds, shift_solve)
        return lanczos_extremes(energy, x, params, mask, steps, bounds)
    hb = np.asarray(_jitted(energy.hessian_blocks)(x, *params), np.float64)
    if not np.all(np.isfinite(hb)):
        return _not_finite("factorisation")
    bt = BlockTridiagonal(*_network_coo(hb, springs, x.shape[-1]), blocks, int(np.size(x)))
    v0 = _start(int(np.size(x)), bt.perm)
    alpha, beta, _ = host_lanczos(bt.matvec, v0, steps)
    theta = ritz(alpha, beta)[0]
    lmax = float(theta[-1])
    tau, res = bounds(float(theta[0]), lmax)
    scale = max(abs(float(theta[0])), abs(lmax))
    lmin, lower, _ = lowest_by_factorisation(bt, float(theta[0]), scale, tau, res, v0)
    certified = lmin - lower <= max(1e-6 * abs(lmin), tau)
    return {"lmin": lmin, "lmax": max(lmax, lmin), "certified": bool(certified),
            "resolved": True, "route": "factorisation"}  # fmt: skip


def generic_extremes(energy, x, params, mask, steps, bounds, shift_solve=None):
    """Any other energy: ``dense`` up to :data:`DENSE_LIMIT` coordinates, else an estimate.

    Args:
        energy, x, params, mask: the problem and the free mask.
        steps: Lanczos steps of the estimate routes.
        bounds: ``(lmin, lmax) -> (tau, resolution)``.
        shift_solve: optional, see :func:`catenax.stability_verdict`.

    Returns:
        The route's dict.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> v = generic_extremes(lambda y: jnp.sum(y ** 4), jnp.ones(3), (), np.ones(3), 64,
        ...                      lambda a, b: (1e-9, 1e-11))
        >>> round(v["lmin"], 9), v["route"]
        (12.0, 'dense')
    """
    if np.size(x) <= DENSE_LIMIT:
        return dense_extremes(energy, x, params, mask)
    if shift_solve is not None:
        return shift_invert_extremes(energy, x, params, mask, steps, bounds, shift_solve)
    return lanczos_extremes(energy, x, params, mask, steps, bounds)


def dense_extremes(energy, x, params, mask):
    """The dense route: ``jax.hessian`` restricted to the free coordinates, then ``eigvalsh``.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> v = dense_extremes(lambda y: jnp.sum(y ** 4) + y[0] * y[1], jnp.ones(2), (),
        ...                    np.ones(2))
        >>> round(v["lmin"], 9), v["certified"]
        (11.0, True)
    """
    size = int(np.size(x))
    h = np.asarray(_dense_hessian(energy)(x, *params), np.float64).reshape(size, size)
    keep = np.asarray(mask).ravel() > 0
    h = h[np.ix_(keep, keep)]
    if not np.all(np.isfinite(h)):
        return _not_finite("dense")
    ev = np.linalg.eigvalsh(h)
    return {"lmin": float(ev[0]), "lmax": float(ev[-1]), "certified": True, "resolved": True,
            "route": "dense"}  # fmt: skip


def lanczos_extremes(energy, x, params, mask, steps, bounds):
    """The estimate route: :func:`lanczos_coefficients` and the residual of the lowest Ritz value.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> v = lanczos_extremes(catenax.chain_energy, jnp.zeros(3), (1.0, 0.0, 0.1),
        ...                      jnp.ones(3), 3, lambda a, b: (1e-9, 1e-11))
        >>> round(v["lmin"], 6), v["certified"], v["route"]
        (0.585786, False, 'lanczos')
    """
    n_free = int(np.count_nonzero(np.asarray(mask)))
    steps = min(steps, n_free)
    alpha, beta = lanczos_coefficients(energy, steps, tuple(np.shape(x)), x.dtype)(x, params, mask)
    lmin, lmax = ritz_extremes(alpha, beta)
    r = ritz_lowest_residual(alpha, beta)
    _, res = bounds(lmin, lmax)
    return {"lmin": lmin, "lmax": lmax, "certified": False, "resolved": bool(lmin + r < -res),
            "route": "lanczos"}  # fmt: skip


def shift_invert_extremes(energy, x, params, mask, steps, bounds, shift_solve):
    """The estimate route with a solver: shift-invert Lanczos with ``shift_solve``.

    ``lambda_max`` and a first ``lambda_min`` come from :func:`lanczos_extremes`;
    the shift is ``0`` when that estimate is above the threshold, else just below
    the estimate. The Rayleigh quotient of the Ritz vector and its residual are
    taken with Hessian-vector products.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> H = jax.hessian(catenax.chain_energy)(jnp.zeros(3), 1.0, 0.0, 0.1)
        >>> solve = lambda s: lambda b: jnp.linalg.solve(H - s * jnp.eye(3), b)
        >>> v = shift_invert_extremes(catenax.chain_energy, jnp.zeros(3), (1.0, 0.0, 0.1),
        ...                           jnp.ones(3), 2, lambda a, b: (1e-9, 1e-11), solve)
        >>> round(v["lmin"], 9), v["route"]
        (0.585786438, 'shift-invert')
    """
    est = lanczos_extremes(energy, x, params, mask, steps, bounds)
    tau, res = bounds(est["lmin"], est["lmax"])
    sigma = 0.0 if est["lmin"] > tau else est["lmin"] - max(res, 1e-3 * abs(est["lmin"]))
    shape, free = np.shape(x), np.asarray(mask, np.float64).ravel() > 0
    solve_at = shift_solve(sigma)
    hvp = _jitted(_hvp_fn(energy))

    def lift(v):
        z = np.zeros(free.size)
        z[free] = v
        return z.reshape(shape)

    def solve(b):
        return np.asarray(solve_at(jnp.asarray(lift(b), x.dtype)), np.float64).ravel()[free]

    def matvec(v):
        hv = hvp(x, params, jnp.asarray(lift(v), x.dtype), jnp.asarray(mask, x.dtype))
        return np.asarray(hv, np.float64).ravel()[free]

    theta, r, _ = shift_invert_lowest(solve, matvec, sigma, _start(free.size)[free])
    lmin = min(theta, est["lmin"])
    resolved = bool(theta + r < -res) or est["resolved"]
    return {"lmin": lmin, "lmax": max(est["lmax"], lmin), "certified": False,
            "resolved": resolved, "route": "shift-invert"}  # fmt: skip


@functools.lru_cache(maxsize=64)
def _hvp_fn(energy):
    def hvp(x, params, v, free):
        grad = lambda z: jax.grad(energy)(z, *params)  # noqa: E731
        return jax.jvp(grad, (x,), (v * free,))[1] * free

    return hvp


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
