"""Energy of a spring network: Hooke springs with rest length, gravity, point loads.

.. math::

    E(x) = \\sum_{s=(i,j)} \\tfrac12 k_s\\, e_s^2
           \\;-\\; \\sum_i m_i\\, g \\cdot x_i \\;-\\; \\sum_i f_i \\cdot x_i,
    \\qquad e_s = \\lVert x_j - x_i \\rVert - l_s,

with ``e_s`` replaced by ``max(e_s, 0)`` for tension-only springs
(the springs of ``net.tension_only``). The scalar spring law (:func:`spring_energy`,
:func:`spring_tension`) is kept apart from the code that gathers node
positions and sums it over the springs (:func:`network_energy`), as in
jax-md. Everything is pure JAX: ``jit``, ``grad`` and ``vmap`` work, also over
the network (a pytree) itself.

The Hessian of this energy, in closed form, is in :mod:`catenax.model.hessian`;
:func:`network_energy` carries it (and :func:`force_scale`) as attributes that
the driver and the solvers read.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .geometry import safe_sqrt, spring_vectors
from .hessian import (
    hessian_blocks,
    hessian_diagonal,
    hessian_edges,
    hessian_matvec,
    hessian_springs,
)
from .network import _fixed_mask, free_mask
from .support import check_held, runaway

__all__ = [
    "applied_forces",
    "cable_mask",
    "force_scale",
    "gradient_floor",
    "network_energy",
    "node_forces",
    "reactions",
    "spring_energy",
    "spring_lengths",
    "spring_tension",
    "strain_energy",
    "tensions",
]


# ----------------------------------------------------------- the scalar law


def spring_energy(length_sq, rest_length, stiffness, tension_only=False):
    """Hooke's law with a rest length, elementwise: ``k/2 (L - l)^2``.

    Written in the squared length ``L^2`` so that a zero-rest-length spring is
    the smooth ``k/2 L^2`` even where its two nodes coincide.

    Args:
        length_sq: squared spring lengths ``L^2``, any shape.
        rest_length: rest lengths ``l`` (broadcast with ``length_sq``).
        stiffness: spring constants ``k``.
        tension_only: if true, ``k/2 max(L - l, 0)^2`` (a cable goes slack);
            a boolean array (broadcast) picks the cables among the springs.

    Returns:
        Energies, the broadcast shape.

    Example:
        >>> float(spring_energy(4.0, 1.0, 2.0))  # L = 2, l = 1, k = 2
        1.0
        >>> float(spring_energy(0.25, 1.0, 2.0, tension_only=True))
        0.0
    """
    length = safe_sqrt(length_sq)
    ext = _slack(length - rest_length, tension_only)
    return jnp.where(rest_length == 0, 0.5 * stiffness * length_sq, 0.5 * stiffness * ext * ext)


def spring_tension(length, rest_length, stiffness, tension_only=False):
    """Axial force ``k (L - l)`` of springs, positive in tension, elementwise.

    Args:
        length: spring lengths ``L``.
        rest_length: rest lengths ``l``.
        stiffness: spring constants ``k``.
        tension_only: if true, 0 where ``L < l`` (a slack cable); a boolean
            array picks the cables.

    Returns:
        Tensions, the broadcast shape.

    Example:
        >>> float(spring_tension(1.5, 1.0, 10.0)), float(spring_tension(0.5, 1.0, 10.0, True))
        (5.0, 0.0)
    """
    return _slack(stiffness * (length - rest_length), tension_only)


def _slack(value, tension_only):
    """``max(value, 0)`` where a spring is tension-only (a flag, or a mask of the cables)."""
    if isinstance(tension_only, (bool, np.bool_)):
        return jnp.maximum(value, 0.0) if tension_only else value
    return jnp.where(tension_only, jnp.maximum(value, 0.0), value)


def cable_mask(net):
    """What the spring law takes as ``tension_only`` for ``net``: ``False`` or the mask.

    ``False`` (a Python flag, so nothing of the cable law is compiled) when no
    spring is a cable; else ``net.tension_only``.

    Example:
        >>> import catenax
        >>> cable_mask(catenax.chain2d(2))
        False
        >>> cable_mask(catenax.chain2d(2, cables=True)).tolist()
        [True, True, True]
    """
    return net.tension_only if net.cables else False


# ------------------------------------------------------ summed over a network


def spring_lengths(x, net):
    """Length of each spring at positions ``x``.

    Args:
        x: node positions, shape ``(n, d)``.
        net: the :class:`~catenax.Network`.

    Returns:
        Lengths, shape ``(m,)``.

    Example:
        >>> import catenax
        >>> net = catenax.chain_network(2)
        >>> catenax.spring_lengths(net.positions, net).tolist()
        [1.0, 1.0, 1.0]
    """
    v = spring_vectors(x, net)
    return safe_sqrt(jnp.sum(v * v, axis=-1))


def applied_forces(net):
    """External forces on the nodes: weights ``mass * gravity`` plus point loads.

    Args:
        net: the network.

    Returns:
        Forces, shape ``(n, d)``.

    Example:
        >>> import catenax
        >>> catenax.applied_forces(catenax.chain2d(1, mass=2.0, gravity=10.0))[1].tolist()
        [0.0, -20.0]
    """
    return net.mass[:, None] * net.gravity[None, :] + net.loads


def network_energy(x, net):
    """Potential energy of a spring network at node positions ``x``.

    ``E = sum_s k_s/2 (L_s - l_s)^2 - sum_i (m_i g + f_i) . x_i`` (tension-only
    springs where ``net.tension_only``). Fixed nodes are not special here: hold them
    with ``free=free_mask(net)`` in :func:`catenax.minimize`.

    Attributes read by the driver and solvers: ``network_energy.force_scale``
    (:func:`force_scale`), ``network_energy.hessian_diagonal``
    (:func:`hessian_diagonal`), ``network_energy.hessian_blocks``
    (:func:`hessian_blocks`) and ``network_energy.hessian_matvec``.

    Args:
        x: node positions, shape ``(n, d)``.
        net: the :class:`~catenax.Network` (a pytree: may be batched under ``vmap``).

    Returns:
        The scalar energy.

    Example:
        >>> import catenax, jax
        >>> net = catenax.chain2d(10, span=1.0)
        >>> r = catenax.minimize(catenax.network_energy, net.positions, net,
        ...                      free=catenax.free_mask(net), method="adam",
        ...                      max_steps=20, tol=None)
        >>> r.positions.shape
        (12, 2)
    """
    return strain_energy(x, net) - jnp.sum(applied_forces(net) * x)


def strain_energy(x, net):
    """Elastic energy stored in the springs: ``sum_s k_s/2 (L_s - l_s)^2``.

    Slack cables store nothing; the weights' and loads' potential (which
    :func:`network_energy` adds, on absolute positions) is left out, so this
    is the number a textbook calls the strain energy.

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network.

    Returns:
        The scalar strain energy (>= 0).

    Example:
        >>> import catenax
        >>> net = catenax.chain_network(2)  # three springs of k = 5, l = 0.8, at L = 1
        >>> round(float(catenax.strain_energy(net.positions, net)), 6)  # 3 * 0.5 * 5 * 0.2**2
        0.3
    """
    v = spring_vectors(x, net)
    e = spring_energy(jnp.sum(v * v, axis=-1), net.rest_length, net.stiffness, cable_mask(net))
    return jnp.sum(e)


def tensions(x, net):
    """Axial force in each spring, positive in tension (0 for a slack cable).

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network.

    Returns:
        Tensions, shape ``(m,)``.

    Example:
        >>> import catenax
        >>> net = catenax.chain_network(2)  # springs of rest length 0.8 stretched to 1
        >>> [round(t, 6) for t in catenax.tensions(net.positions, net).tolist()]
        [1.0, 1.0, 1.0]
    """
    return spring_tension(spring_lengths(x, net), net.rest_length, net.stiffness, cable_mask(net))


def node_forces(x, net):
    """Resultant force on each node from its springs, weight and load: ``-grad E``.

    Zero at every free node in equilibrium.

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network.

    Returns:
        Forces, shape ``(n, d)``.

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(1, mass=1.0, gravity=10.0)
        >>> abs(catenax.node_forces(net.positions, net)[1, 0].item()) < 1e-9  # symmetric start
        True
    """
    return -jax.grad(network_energy)(x, net)


def reactions(x, net):
    """Forces the supports exert on the fixed nodes (zero rows at free nodes).

    A support holds its node in place, so the reaction balances everything
    else acting on it: ``R_i = -(spring forces + weight + load) = grad_i E``
    at a fixed coordinate, and 0 at a free one. In equilibrium
    ``sum_i R_i + sum_i (m_i g + f_i) = 0`` (springs are internal forces).

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network.

    Returns:
        Reactions, shape ``(n, d)``. Use :func:`catenax.support_nodes` for
        the indices of the rows that can be non-zero.

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(1, mass=1.0, gravity=10.0, rest_length=0.5, span=1.0,
        ...                       sag=0.0)
        >>> r = catenax.reactions(net.positions, net)  # a straight chain, before relaxing
        >>> r.shape
        (3, 2)
    """
    g = jax.grad(network_energy)(x, net)
    return jnp.where(_fixed_mask(net), g, 0.0)


def force_scale(x, net):
    """The network's force scale: the largest spring force or external force.

    ``F = max(max_s |T_s|, max_i |m_i g|, max_i |f_i|)``, the scale of the
    stopping rule ``max|grad E| <= atol + rtol * F`` of :func:`catenax.minimize`.

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network.

    Returns:
        A scalar.

    Example:
        >>> import catenax
        >>> net = catenax.chain_network(3)
        >>> round(float(catenax.force_scale(net.positions, net)), 6)
        1.0
    """
    t = jnp.max(jnp.abs(tensions(x, net)), initial=0.0)
    w = jnp.abs(net.mass) * jnp.sqrt(jnp.sum(net.gravity * net.gravity))
    f = safe_sqrt(jnp.sum(net.loads * net.loads, axis=-1))
    return jnp.maximum(t, jnp.maximum(jnp.max(w, initial=0.0), jnp.max(f, initial=0.0)))


def gradient_floor(x, net):
    """The rounding error of the network's gradient: no rule can ask for less.

    A spring's tension ``k (L - l)`` is computed from coordinates that carry a
    relative rounding error ``eps``, so it is known only to about
    ``eps * k * (|x_i| + |x_j| + l)``; a stiff member (k = 1e10 on a unit
    geometry: 2e-6 in float64) makes that larger than ``rtol * F``. The driver
    adds this floor to the stopping threshold, so such a structure converges at
    the accuracy its own arithmetic allows instead of running out of steps.

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network.

    Returns:
        ``eps * max_s k_s (|x_i|_inf + |x_j|_inf + l_s)`` (a scalar).

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(5, stiffness=1e10)
        >>> 1e-7 < float(gradient_floor(net.positions, net)) < 1e-5
        True
    """
    size = jnp.max(jnp.abs(x), axis=-1)
    i, j = net.springs[:, 0], net.springs[:, 1]
    scale = jnp.abs(net.stiffness) * (size[i] + size[j] + jnp.abs(net.rest_length))
    return jnp.finfo(x.dtype).eps * jnp.max(scale, initial=0.0)


# The driver reads these to find a force scale and the Hessian's structure.
network_energy.force_scale = force_scale
network_energy.gradient_floor = gradient_floor
network_energy.hessian_diagonal = hessian_diagonal
network_energy.hessian_blocks = hessian_blocks
network_energy.hessian_matvec = hessian_matvec
network_energy.hessian_springs = hessian_springs
network_energy.hessian_edges = hessian_edges
# Before solving the driver asks whether the structure is held (a part joined to no
# support raises); after every step, whether a node has run away (an energy that
# keeps falling).
network_energy.check_held = check_held
# Without a ``free`` mask the driver holds the network's supports (its fixed nodes).
network_energy.default_free = lambda x, net: free_mask(net)
network_energy.runaway = runaway
