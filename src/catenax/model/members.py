"""Members as engineers give them: axial stiffness EA, prestress, force density, line mass.

A spring of a :class:`~catenax.Network` is a spring constant ``k`` and a rest
length ``l``; an engineer's member is an axial stiffness ``EA`` (force), a
tension ``T0`` at the drawn geometry (prestress, or the force density
``q = T0 / L``), and a weight per unit length. These functions are the one
place where one becomes the other; they are plain arithmetic, so they work on
numpy arrays and, traced, inside ``jax.grad``:

* ``k = EA / l`` (:func:`stiffness_from_ea`);
* ``T0 = k (L - l)`` solved for ``l``: ``l = L / (1 + T0/EA)`` with EA, or
  ``l = L - T0/k`` with a spring constant (:func:`rest_length_from_prestress`);
* ``T0 = q L`` (:func:`prestress_from_force_density`);
* a member's weight ``mu l g`` lumped half onto each end node
  (:func:`lumped_line_mass`).
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = [
    "lumped_line_mass",
    "prestress_from_force_density",
    "rest_length_from_prestress",
    "stiffness_from_ea",
]


def stiffness_from_ea(ea, rest_length):
    """Spring constants ``k = EA / l`` of members of axial stiffness ``EA``.

    Args:
        ea: axial stiffness (force units), one number or one per member.
        rest_length: rest lengths ``l > 0``, one per member.

    Returns:
        ``ea / rest_length`` (broadcast).

    Example:
        >>> stiffness_from_ea(2000.0, jnp.array([0.5, 2.0])).tolist()
        [4000.0, 1000.0]
    """
    return jnp.asarray(ea) / jnp.asarray(rest_length)


def rest_length_from_prestress(length, prestress, *, ea=None, stiffness=None):
    """The rest lengths that give tension ``T0`` at length ``L``.

    With ``ea``: ``l = L / (1 + T0/EA)`` (the spring constant ``EA/l`` then
    follows the rest length); with ``stiffness``: ``l = L - T0/k``. Exactly one
    of the two is given.

    Args:
        length: member lengths ``L`` at the initial geometry.
        prestress: tensions ``T0`` there (positive in tension).
        ea: axial stiffness (force units).
        stiffness: spring constants.

    Returns:
        Rest lengths (broadcast); a value <= 0 means no rest length can give
        that tension (the caller refuses it).

    Raises:
        TypeError: neither or both of ``ea`` and ``stiffness``.

    Example:
        >>> float(rest_length_from_prestress(2.0, 100.0, ea=1e4))  # 2 / 1.01
        1.9801980198019802
        >>> float(rest_length_from_prestress(2.0, 100.0, stiffness=1000.0))
        1.9
    """
    if (ea is None) == (stiffness is None):
        raise TypeError("rest_length_from_prestress: give exactly one of ea and stiffness")
    length, prestress = jnp.asarray(length), jnp.asarray(prestress)
    if ea is not None:
        return length / (1.0 + prestress / jnp.asarray(ea))
    return length - prestress / jnp.asarray(stiffness)


def prestress_from_force_density(force_density, length):
    """Tensions ``T0 = q L`` of members of force density ``q`` at length ``L``.

    Example:
        >>> float(prestress_from_force_density(5.0, 2.0))
        10.0
    """
    return jnp.asarray(force_density) * jnp.asarray(length)


def lumped_line_mass(springs, rest_length, line_mass, n_nodes):
    """Node masses from member self-weight: half of ``mu l`` onto each end node.

    Args:
        springs: node index pairs, shape ``(m, 2)``.
        rest_length: rest lengths, shape ``(m,)``.
        line_mass: mass per unit rest length, one number or one per member.
        n_nodes: number of nodes ``n``.

    Returns:
        Masses, shape ``(n,)`` (add them to the nodes' own masses).

    Example:
        >>> lumped_line_mass(jnp.array([[0, 1], [1, 2]]), jnp.array([2.0, 4.0]), 0.5, 3).tolist()
        [0.5, 1.5, 1.0]
    """
    springs = jnp.asarray(springs)
    rest = jnp.asarray(rest_length)
    half = 0.5 * jnp.broadcast_to(jnp.asarray(line_mass, rest.dtype) * rest, rest.shape)
    out = jnp.zeros(n_nodes, rest.dtype)
    return out.at[springs[:, 0]].add(half).at[springs[:, 1]].add(half)
