"""The lesson's model: a chain of masses that move only vertically.

N masses sit at x = 1..N with unit horizontal spacing; only their heights ``y``
move; both ends are pinned at height 0 (x = 0 and x = N + 1). The energy is

.. math::

    E(y) = \\sum_{j=0}^{N} \\tfrac12 K \\left(\\sqrt{(y_{j+1} - y_j)^2 + 1} - l\\right)^2
           + mg \\sum_{j=1}^{N} y_j ,  \\qquad y_0 = y_{N+1} = 0,

i.e. N - 1 inner springs, two springs to the pinned ends, and gravity.
``spring`` is K, ``length`` is l (the rest length) and ``mass_g`` is mg.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .chain_params import check_chain_params, check_chain_scale, validate_chain_params
from .support import check_chain_held

__all__ = [
    "LESSON",
    "check_chain_params",
    "check_chain_scale",
    "chain_energy",
    "chain_force_scale",
    "chain_hessian_tridiagonal",
    "chain_terms",
    "pad_ends",
    "spring_curvature",
    "spring_tridiagonal",
    "stretched_lengths",
    "validate_chain_params",
]

#: The notebook's defaults: N = 20 masses, K = 5.0, l = 0.8, mg = 0.1, y0 = 0.
LESSON = {"n": 20, "spring": 5.0, "length": 0.8, "mass_g": 0.1}


def pad_ends(y, axis=-1):
    """Append the pinned boundary heights (zeros) to both ends of ``y``.

    Args:
        y: heights of the N masses, shape ``(..., N)`` (or N along ``axis``).
        axis: the axis of the masses.

    Returns:
        Array with N + 2 entries along ``axis``: a zero before and after ``y``.

    Example:
        >>> pad_ends(jnp.array([1.0, 2.0])).tolist()
        [0.0, 1.0, 2.0, 0.0]
    """
    y = jnp.asarray(y)
    shape = list(y.shape)
    shape[axis] = 1
    zero = jnp.zeros(shape, y.dtype)
    return jnp.concatenate([zero, y, zero], axis=axis)


def stretched_lengths(y, axis=-1):
    """Vertical offsets and lengths of the chain's springs, pinned ends included.

    Args:
        y: heights, masses along ``axis`` (other axes: independent chains).
        axis: the axis of the masses.

    Returns:
        ``(d, s)``: each spring's vertical offset ``d = y_{j+1} - y_j`` and its
        length ``s = sqrt(d^2 + 1)``, with N + 1 entries along ``axis``.

    Example:
        >>> d, s = stretched_lengths(jnp.array([1.0]))
        >>> d.tolist(), [round(float(v), 6) for v in s]
        ([1.0, -1.0], [1.414214, 1.414214])
    """
    d = jnp.diff(pad_ends(y, axis), axis=axis)
    return d, jnp.sqrt(d * d + 1.0)


def spring_curvature(s, spring, length):
    """Each spring's second derivative ``c = K (1 - l / s^3)`` with respect to its offset.

    ``d^2/dd^2`` of ``K/2 (sqrt(d^2 + 1) - l)^2``: the Hessian's building block.

    Args:
        s: spring lengths (:func:`stretched_lengths`).
        spring, length: K and l, broadcastable against ``s``.

    Returns:
        ``c``, the shape of ``s``.

    Example:
        >>> [round(float(v), 6) for v in spring_curvature(jnp.ones(2), 5.0, 0.8)]
        [1.0, 1.0]
    """
    return spring * (1.0 - length / s**3)


def spring_tridiagonal(c):
    """The tridiagonal Hessian assembled from spring curvatures, along axis 0.

    Each spring adds ``c`` to the two diagonal entries it touches and ``-c``
    off the diagonal. Trailing axes are independent chains (lanes of a batch).

    Args:
        c: curvatures (:func:`spring_curvature`), shape ``(N + 1, ...)``.

    Returns:
        ``(lower, diag, upper)``, shape ``(N, ...)`` each, in the layout of
        ``jax.lax.linalg.tridiagonal_solve``: ``lower[0] = 0``, ``upper[-1] = 0``.

    Example:
        >>> lo, di, up = spring_tridiagonal(jnp.ones(3))
        >>> lo.tolist(), di.tolist(), up.tolist()
        ([0.0, -1.0], [2.0, 2.0], [-1.0, 0.0])
    """
    off = -c[1:-1]
    zero = jnp.zeros_like(c[:1])
    return jnp.concatenate([zero, off]), c[:-1] + c[1:], jnp.concatenate([off, zero])


def _energy(y, s, spring, length, mass_g, axis):
    return 0.5 * spring * jnp.sum((s - length) ** 2, axis=axis) + mass_g * jnp.sum(y, axis=axis)


def _force_scale(s, spring, length, mass_g, axis):
    return jnp.maximum(jnp.abs(mass_g), jnp.max(jnp.abs(spring * (s - length)), axis=axis))


def chain_terms(y, spring, length, mass_g, axis=-1):
    """Energy, gradient, spring curvatures and force scale of chains, in closed form.

    The same formulas as :func:`chain_energy`, :func:`chain_force_scale` and
    :func:`chain_hessian_tridiagonal`, for a batch of chains at once (masses
    along ``axis``, other axes independent chains, parameters broadcast against
    one value per chain), with the gradient written out:
    ``dE/dy_j = f_{j-1} - f_j + mg`` with spring forces ``f = K (s - l) d / s``.

    Args:
        y: heights, masses along ``axis``.
        spring, length, mass_g: as in :func:`chain_energy`, one per chain.
        axis: the axis of the masses (0 or -1).

    Returns:
        ``(energy, gradient, curvature, force_scale)``: one energy and force
        scale per chain, the gradient of ``y``'s shape, and N + 1 curvatures
        (:func:`spring_curvature`) along ``axis``.

    Example:
        >>> e, g, c, fs = chain_terms(jnp.zeros((3, 2)), 5.0, 0.8, 0.1, axis=0)
        >>> [round(float(v), 6) for v in e], [round(float(v), 6) for v in g[:, 0]]
        ([0.4, 0.4], [0.1, 0.1, 0.1])
    """
    d, s = stretched_lengths(y, axis)
    ext = s - length
    e = _energy(y, s, spring, length, mass_g, axis)
    f = spring * ext * d / s
    n = f.shape[axis]
    g = jax.lax.slice_in_dim(f, 0, n - 1, axis=axis) - jax.lax.slice_in_dim(f, 1, n, axis=axis)
    return (
        e,
        g + mass_g,
        spring_curvature(s, spring, length),
        _force_scale(s, spring, length, mass_g, axis),
    )


def chain_energy(y, spring, length, mass_g):
    """Potential energy of the lesson's hanging chain.

    Exactly the notebook's model (see the module docstring): N + 1 springs of
    stiffness ``spring`` and rest length ``length`` between N masses at unit
    horizontal spacing and two pinned ends at height 0, plus gravity
    ``mass_g * sum(y)``. Pure and compatible with ``jit``, ``grad`` and ``vmap``;
    float32 and float64 both work (the result has the dtype of ``y``).

    Args:
        y: heights of the N masses, shape ``(N,)`` (ends excluded).
        spring: spring constant K.
        length: rest length l of every spring.
        mass_g: weight of one mass (m times g).

    Returns:
        The scalar energy E(y).

    Example:
        >>> import jax
        >>> e = chain_energy(jnp.zeros(20), 5.0, 0.8, 0.1)
        >>> round(float(e), 6)  # 21 springs stretched from 0.8 to 1
        2.1
        >>> [round(float(v), 6) for v in jax.grad(chain_energy)(jnp.zeros(3), 5.0, 0.8, 0.1)]
        [0.1, 0.1, 0.1]
    """
    _, s = stretched_lengths(y)
    return _energy(y, s, spring, length, mass_g, None)


def chain_force_scale(y, spring, length, mass_g):
    """The chain's force scale: the largest spring force or external force.

    Used by the stopping rule ``max|grad E| <= atol + rtol * F``: forces in
    stiff springs carry round-off of order ``K * eps``, so the tolerance scales
    with them.

    Args:
        y: heights, shape ``(N,)``.
        spring, length, mass_g: as in :func:`chain_energy`.

    Returns:
        ``F = max(|mass_g|, max_j |K (s_j - l)|)``, a scalar.

    Example:
        >>> round(float(chain_force_scale(jnp.zeros(4), 5.0, 0.8, 0.1)), 6)
        1.0
    """
    _, s = stretched_lengths(y)
    return _force_scale(s, spring, length, mass_g, None)


def chain_hessian_tridiagonal(y, spring, length, mass_g):
    """The exact tridiagonal Hessian of :func:`chain_energy`, in closed form.

    Spring j joins heights ``y_j`` and ``y_{j+1}`` with vertical offset ``d``
    and length ``s = sqrt(d^2 + 1)``; its energy ``K/2 (s - l)^2`` has second
    derivative ``c = K (1 - l / s^3)`` with respect to ``d``. Each spring adds
    ``c`` to the two diagonal entries it touches and ``-c`` off the diagonal.

    Args:
        y: heights, shape ``(N,)``.
        spring, length, mass_g: as in :func:`chain_energy` (``mass_g`` does not
            enter the Hessian).

    Returns:
        ``(lower, diag, upper)``, each of shape ``(N,)`` in the layout of
        ``jax.lax.linalg.tridiagonal_solve``: ``lower[0] = 0`` and
        ``upper[-1] = 0``.

    Example:
        >>> lo, di, up = chain_hessian_tridiagonal(jnp.zeros(3), 5.0, 0.8, 0.1)
        >>> [round(float(v), 6) for v in di]
        [2.0, 2.0, 2.0]
    """
    del mass_g
    _, s = stretched_lengths(y)
    return spring_tridiagonal(spring_curvature(s, spring, length))


# The driver reads these to pick a force scale and a Hessian structure.
chain_energy.force_scale = chain_force_scale
chain_energy.hessian_tridiagonal = chain_hessian_tridiagonal
# Before solving, the driver refuses a chain that nothing holds (spring = 0 with weight).
chain_energy.check_held = check_chain_held
# ... and checks its parameters for the run's dtype (types, ranges, overflow).
chain_energy.check_params = check_chain_params
