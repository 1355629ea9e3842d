"""The chain's stability verdict in batches, and work on a subset of lanes.

The verdict at the result uses Laguerre's iteration on the LDLᵀ pivots, which
converges monotonically (and cubically) to the lowest eigenvalue from below the
spectrum: exact to round-off, like the bisection route of
:func:`catenax.stability_verdict`. At the flat start ``y = 0`` every spring has
curvature ``c = K (1 - l)``, so the Hessian is ``c`` tridiag(-1, 2, -1), with the
eigenvalues ``4 c sin²(j pi / (2 (N + 1)))``, j = 1..N.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from catenax.model import spring_curvature, spring_tridiagonal, stretched_lengths
from catenax.solvers import tridiagonal as tri

__all__ = ["chain_verdict", "flat_start_extremes", "lowest_eigenvalue", "on_lanes"]


def lowest_eigenvalue(lower, diag, max_iter=100):
    """Lowest eigenvalue of each lane's tridiagonal matrix by Laguerre's iteration.

    From ``sigma`` below Gershgorin's bound, ``sigma += n / (|G| + sqrt((n-1)(n H - G^2)))``
    with ``G = (log det(H - sigma))'`` and ``H = -G'`` from the LDLᵀ pivots and their
    derivatives; for a polynomial with real roots the iterates increase
    monotonically to the lowest root. Stops at round-off (or when a pivot turns
    non-positive: ``sigma`` reached the spectrum).

    Args:
        lower, diag: symmetric tridiagonal matrices, shape ``(N, lanes)``
            (``lower[0] = 0``).
        max_iter: the most iterations.

    Returns:
        The lowest eigenvalue per lane (``-lowest_eigenvalue(-lower, -diag)``
        is the highest).

    Example:
        >>> lo = jnp.array([[0.0], [-1.0], [-1.0]])
        >>> round(float(lowest_eigenvalue(lo, jnp.full((3, 1), 2.0))[0]), 9)  # 2 - sqrt(2)
        0.585786438
    """

    n = diag.shape[0]
    dt = diag.dtype
    eps = jnp.finfo(dt).eps
    r = jnp.abs(lower) + jnp.abs(jnp.concatenate([lower[1:], jnp.zeros_like(lower[:1])]))
    gl, gu = jnp.min(diag - r, axis=0), jnp.max(diag + r, axis=0)
    span = jnp.maximum(gu - gl, jnp.finfo(dt).tiny)
    b2 = lower * lower
    unroll = tri.unroll_for(n)

    def g_and_h(sigma):
        def row(c, ab):
            q, dp, dpp, g, h, pos = c
            a, bb = ab
            q2 = q * q
            dpp = bb * (dpp * q2 - 2 * dp * dp * q2 * q)
            dp = -1 + bb * dp * q2
            d = a - sigma - bb * q
            q = 1 / d
            t = dp * q
            return (q, dp, dpp, g + t, h + t * t - dpp * q, pos & (d > 0)), None

        one = jnp.ones_like(sigma)
        zero = 0 * one
        c0 = (one, zero, zero, zero, zero, jnp.ones(sigma.shape, bool))
        (_, _, _, g, h, pos), _ = jax.lax.scan(row, c0, (diag, b2), unroll=unroll)
        return g, h, pos

    def cond(c):
        return (c[0] < max_iter) & jnp.any(c[2])

    def body(c):
        i, sigma, go = c
        g, h, pos = g_and_h(sigma)
        disc = jnp.sqrt(jnp.maximum((n - 1) * (n * h - g * g), 0.0))
        step = -n / (g - disc)
        ok = pos & jnp.isfinite(step) & (step > 0)
        sigma1 = jnp.where(go & ok, sigma + step, sigma)
        go = go & ok & (step > 4 * eps * jnp.maximum(jnp.abs(sigma1), 1e-3 * span))
        return i + 1, sigma1, go

    sigma0 = gl - 1e-3 * span
    return jax.lax.while_loop(cond, body, (0, sigma0, jnp.ones(sigma0.shape, bool)))[1]


def flat_start_extremes(n, spring, length):
    """Extreme eigenvalues at ``y = 0``: ``c`` tridiag(-1, 2, -1), ``c = K (1 - l)``.

    Args:
        n: the number of masses.
        spring, length: K and l (one per lane).

    Returns:
        ``(lmin, lmax)`` from ``4 c sin²(j pi / (2 (N + 1)))``, j = 1 and N.

    Example:
        >>> [round(float(v), 6) for v in flat_start_extremes(3, 1.0, 0.0)]
        [0.585786, 3.414214]
    """

    c = spring * (1.0 - length)
    first, last = (4 * math.sin(j * math.pi / (2 * (n + 1))) ** 2 for j in (1, n))
    return jnp.where(c >= 0, c * first, c * last), jnp.where(c >= 0, c * last, c * first)


def chain_verdict(x, spring, length, n):
    """``lmin``, ``lmax`` at heights ``x`` (N, L) and (suffix ``0``) at the flat start.

    Args:
        x: heights, masses along axis 0, lanes along axis 1.
        spring, length: K and l per lane.
        n: the number of masses.

    Returns:
        ``{"lmin", "lmax", "lmin0", "lmax0"}``, one value per lane each.
    """
    _, s = stretched_lengths(x, axis=0)
    lower, diag, _ = spring_tridiagonal(spring_curvature(s, spring, length))
    lmin0, lmax0 = flat_start_extremes(n, spring, length)
    return {
        "lmin": lowest_eigenvalue(lower, diag),
        "lmax": -lowest_eigenvalue(-lower, -diag),
        "lmin0": lmin0,
        "lmax0": lmax0,
    }


def on_lanes(mask, fn, args, out, group=64):
    """``out[..., i] = fn(args[..., i])`` for the lanes ``i`` where ``mask``, ``group`` at a time.

    Lanes are the last axis of every array in the pytrees ``args`` and ``out``
    (``fn`` maps a group of lanes of ``args`` to a group of lanes of ``out``). The
    work is proportional to the lanes in ``mask``, not to the batch.

    Args:
        mask: which lanes, shape ``(lanes,)``.
        fn: maps a group of lanes of ``args`` to a group of lanes of ``out``.
        args, out: pytrees of arrays with lanes along the last axis.
        group: lanes per call of ``fn``.

    Returns:
        ``out`` with the masked lanes replaced.

    Example:
        >>> mask = jnp.array([True, False, True])
        >>> on_lanes(mask, lambda a: 10 * a, jnp.arange(3.0), jnp.zeros(3), group=2).tolist()
        [0.0, 0.0, 20.0]
    """

    n_lanes = mask.shape[0]
    ids = jnp.nonzero(mask, size=-(-n_lanes // group) * group, fill_value=n_lanes)[0]
    count = jnp.sum(mask)

    def body(c):
        j, out = c
        idx = jax.lax.dynamic_slice(ids, (j * group,), (group,))
        at = jnp.minimum(idx, n_lanes - 1)
        res = fn(jax.tree.map(lambda a: a[..., at], args))
        return j + 1, jax.tree.map(lambda o, r: o.at[..., idx].set(r, mode="drop"), out, res)

    return jax.lax.while_loop(lambda c: c[0] * group < count, body, (0, out))[1]
