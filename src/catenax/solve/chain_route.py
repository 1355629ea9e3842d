"""The chain's verdict route: the extreme eigenvalues of a ``hessian_tridiagonal`` energy.

Small chains take the dense eigenvalues on the host; large ones inverse and
Rayleigh-quotient iteration with a Sturm-count certificate
(:mod:`catenax.solvers.rayleigh`), and bisection (:func:`tridiagonal_extremes`,
also the batched form that sweeps use) only where that certificate fails.
"""

from __future__ import annotations

import functools

import jax

from catenax.solvers import rayleigh
from catenax.solvers import tridiagonal as tri

from .eigen_routes import _park_fixed, tridiagonal_extremes

__all__ = ["TRIDIAGONAL_DENSE_MAX", "chain_extremes"]

#: Up to this size the chain route takes the dense eigenvalues on the host (no
#: eigenvalue program to trace, lower and load: a short CLI run's start-up).
TRIDIAGONAL_DENSE_MAX = 256


def chain_extremes(energy, x, params, free) -> dict:
    """The chain route: the extreme eigenvalues of a ``hessian_tridiagonal`` energy.

    The free Hessian comes from one small compiled program; up to
    :data:`TRIDIAGONAL_DENSE_MAX` coordinates its eigenvalues are the dense
    ones on the host (:func:`catenax.solvers.tridiagonal.dense_extremes`),
    beyond by inverse and Rayleigh-quotient iteration with a Sturm-count
    certificate (:func:`catenax.solvers.tridiagonal.rayleigh_extremes`: a few
    solves, about 10x less work than bisection at N = 10^6), and by bisection
    (:func:`tridiagonal_extremes`) where that certificate fails. Exact to
    round-off, certified either way.

    Args:
        energy: an energy with a ``hessian_tridiagonal(x, *params)`` attribute.
        x: 1-D positions; params: the energy's parameters; free: the mask.

    Returns:
        ``{"lmin", "lmax", "certified", "resolved", "route"}`` (route ``"tridiagonal"``).

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> v = chain_extremes(catenax.chain_energy, jnp.zeros(3), (1.0, 0.0, 0.1), jnp.ones(3))
        >>> round(v["lmin"], 6), round(v["lmax"], 6), v["certified"]
        (0.585786, 3.414214, True)
    """
    out = {"certified": True, "resolved": True, "route": "tridiagonal"}
    if x.shape[0] <= TRIDIAGONAL_DENSE_MAX:
        lmin, lmax = rayleigh.dense_extremes(*_free_hessian(energy)(x, params, free))
        return {"lmin": lmin, "lmax": lmax, **out}
    lmin, lmax, ok, _ = _rayleigh_program(energy)(x, params, free)
    if not bool(ok):
        lmin, lmax = tridiagonal_extremes(energy)(x, params, free)
    return {"lmin": float(lmin), "lmax": float(lmax), **out}


@functools.lru_cache(maxsize=64)
def _free_hessian(energy):
    def run(x, params, free):
        lo, di, up = energy.hessian_tridiagonal(x, *params)
        return _park_fixed(*tri.mask_tridiagonal(lo, di, up, free), free)

    return jax.jit(run)


@functools.lru_cache(maxsize=64)
def _rayleigh_program(energy):
    def run(x, params, free):
        lo, di, up = energy.hessian_tridiagonal(x, *params)
        return rayleigh.rayleigh_extremes(
            *_park_fixed(*tri.mask_tridiagonal(lo, di, up, free), free)
        )

    return jax.jit(run)
