"""Armijo backtracking: the line search of newton and of the batched chain engine."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = ["backtrack"]


def backtrack(value_and_grad, x, e, g, p, c1, max_backtracks, lanes=0, active=True, has_aux=False):
    """Armijo backtracking along ``p`` from ``alpha = 1`` (newton's line search).

    Each trial is accepted when finite and either Armijo's sufficient decrease
    holds or the energy change is at round-off level while max|grad E| falls;
    otherwise ``alpha`` shrinks by safeguarded quadratic interpolation
    (clipped to ``[alpha/10, alpha/2]``), at most ``max_backtracks`` times.

    Args:
        value_and_grad: ``x -> (E, grad E)``.
        x, e, g: the point, its energy and gradient.
        p: the search direction.
        c1: Armijo's constant.
        max_backtracks: the most halvings.
        lanes: the number of trailing axes of ``x`` that are independent lanes
            of a batch (``e`` then has their shape); each lane searches on its
            own, and the loop runs while any lane has not finished.
        active: which lanes search (shape of ``e``); the others stop at once.
        has_aux: ``value_and_grad`` returns ``((E, aux), grad E)`` (as
            ``jax.value_and_grad(..., has_aux=True)``); ``aux`` of the last
            trial is returned too.

    Returns:
        ``(x1, e1, g1, ok)``: the last trial point, its energy and gradient, and
        whether it was accepted (per lane); with ``has_aux``, ``aux`` follows.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> f = lambda x: (jnp.sum(x**2), 2 * x)
        >>> x = jnp.ones(2); x1, e1, _, ok = backtrack(f, x, 2.0, 2 * x, -3 * x, 1e-4, 40)
        >>> bool(ok), float(e1) < 2.0
        (True, True)
    """
    dt = x.dtype
    eps = jnp.finfo(dt).eps
    axes = tuple(range(x.ndim - lanes))
    size = math.prod(x.shape[: x.ndim - lanes])
    slope = jnp.sum(g * p, axis=axes)
    gmax = jnp.max(jnp.abs(g), axis=axes) if size else jnp.zeros(jnp.shape(e), dt)
    root_n = jnp.sqrt(jnp.asarray(max(size, 1), dt))

    def spread(v):  # a per-lane value against arrays of x's shape
        return jnp.reshape(v, (1,) * (x.ndim - lanes) + jnp.shape(v))

    def trial(alpha):
        x1 = x + spread(alpha) * p
        if has_aux:
            (e1, aux), g1 = value_and_grad(x1)
        else:
            (e1, g1), aux = value_and_grad(x1), ()
        noise = 16 * eps * root_n * (jnp.abs(e) + jnp.abs(e1))
        armijo = e1 <= e + c1 * alpha * slope
        flat = (e1 - e <= noise) & (jnp.max(jnp.abs(g1), axis=axes, initial=0.0) < gmax)
        ok = jnp.isfinite(e1) & jnp.all(jnp.isfinite(g1), axis=axes) & (armijo | flat)
        ok = ok & jnp.any(x1 != x, axis=axes) & (slope < 0)
        return x1, e1, g1, aux, ok

    one = jnp.ones(jnp.shape(e), dt)
    x1, e1, g1, aux, ok = trial(one)
    i0 = jnp.zeros(jnp.shape(e), jnp.int32)

    def cond(c):
        return jnp.any(active & (c[0] < max_backtracks) & ~c[-1])

    def body(c):
        i, alpha, x1, e1, g1, aux, ok = c
        go = active & (i < max_backtracks) & ~ok
        # Safeguarded quadratic interpolation: alpha <- clip(alpha*, alpha/10, alpha/2).
        denom = 2.0 * (e1 - e - slope * alpha)
        interp = -slope * alpha * alpha / jnp.where(denom > 0, denom, 1.0)
        interp = jnp.where(jnp.isfinite(e1) & (denom > 0), interp, 0.1 * alpha)
        alpha = jnp.where(go, jnp.clip(interp, 0.1 * alpha, 0.5 * alpha), alpha)
        new = trial(alpha)

        def keep(a, b):
            return jnp.where(spread(go) if a.ndim > go.ndim else go, a, b)

        old = (x1, e1, g1, aux, ok)
        return (i + go.astype(jnp.int32), alpha, *jax.tree.map(keep, new, old))

    c = jax.lax.while_loop(cond, body, (i0, one, x1, e1, g1, aux, ok))
    return (c[2], c[3], c[4], c[5], c[6]) if has_aux else (c[2], c[3], c[4], c[6])
