"""An independent solver for network tests: damped Newton with a dense scipy Cholesky.

It shares only the energy with catenax (its gradient by ``jax.grad`` and the
closed-form Hessian assembled from :func:`catenax.hessian_coo`); the linear
algebra, the globalisation (a Levenberg shift until the Cholesky succeeds,
Armijo backtracking) and the stopping test are its own.
"""

from __future__ import annotations

import jax
import numpy as np
import scipy.linalg
import scipy.sparse

import catenax

_energy = jax.jit(catenax.network_energy)
_grad = jax.jit(jax.grad(catenax.network_energy))
_coo = jax.jit(catenax.hessian_coo)
_scale = jax.jit(catenax.force_scale)


def newton_solve(net, x0=None, rtol=1e-12, xtol=1e-13, max_steps=200, verbose=False):
    """Relax ``net`` from ``x0`` (default its positions); return (x, steps).

    Stops when max|grad E| <= rtol * F, or when a full Newton step moves no
    coordinate by more than ``xtol * (1 + max|x|)`` (very stiff springs, whose
    forces carry round-off of order k * eps, stop there).
    """
    x = np.asarray(net.positions if x0 is None else x0, dtype=float)
    free = np.asarray(catenax.free_mask(net), dtype=float)
    n = x.size
    for k in range(max_steps):
        g = np.asarray(_grad(x, net)) * free
        if np.abs(g).max() <= rtol * float(_scale(x, net)):
            return x, k
        r, c, v = (np.asarray(a) for a in _coo(x, net, free))
        H = scipy.sparse.coo_array((v, (r, c)), shape=(n, n)).toarray()
        shift = 0.0
        scale = np.abs(np.diag(H)).max()
        while True:
            try:
                cf = scipy.linalg.cho_factor(H + shift * np.diag(free.ravel()))
                break
            except np.linalg.LinAlgError:
                shift = max(2 * shift, 1e-10 * scale)
        p = -scipy.linalg.cho_solve(cf, g.ravel()).reshape(x.shape) * free
        if verbose:
            print(k, np.abs(g).max(), np.abs(p).max(), shift)
        if shift == 0.0 and np.abs(p).max() <= xtol * (1 + np.abs(x).max()):
            return x + p, k + 1
        e0, slope, t = float(_energy(x, net)), float(np.sum(g * p)), 1.0
        gnorm = np.abs(g).max()
        for _ in range(60):
            x1 = x + t * p
            e1 = float(_energy(x1, net))
            g1 = np.abs(np.asarray(_grad(x1, net)) * free).max()
            if e1 <= e0 + 1e-4 * t * slope or g1 < gnorm:
                break
            t *= 0.5
        x = x1
    raise RuntimeError(f"newton_solve: not converged in {max_steps} steps")
