"""Spring networks in 2D and 3D: :class:`Network`, its pytree, validation, masks, ``from_arrays``.

A network is a pytree of arrays (a frozen dataclass registered with JAX), so it
can be passed to ``jit``-, ``grad``- and ``vmap``-transformed functions and to
:func:`catenax.minimize` as a parameter::

    net = catenax.net(10, 10, supports="corners")
    r = catenax.minimize(catenax.network_energy, net.positions, net,
                         free=catenax.free_mask(net))

Shapes (``n`` nodes, ``m`` springs, ``d`` = 2 or 3 dimensions):

=============  ===========  ==============================================
field          shape        meaning
=============  ===========  ==============================================
positions      (n, d)       initial node positions
springs        (m, 2) int   node index pairs
rest_length    (m,)         rest length of each spring
stiffness      (m,)         spring constant of each spring
mass           (n,)         mass of each node (weight = mass * gravity)
gravity        (d,)         gravitational acceleration vector
fixed          (n,) or      True where a node (or one coordinate of it) is
               (n, d) bool  held in place by a support
loads          (n, d)       point loads (external forces) at the nodes
faces          (f, k) int   faces known to a builder or a mesh (for .obj files and
                            figures), ``-1`` padding a shorter face; or (0, 4)
tension_only   (m,) bool    which springs are cables (no force when shorter than rest)
cables         static bool  whether any spring is tension-only
=============  ===========  ==============================================

Fixed nodes are exact: :func:`free_mask` turns ``fixed`` into the ``free``
mask of :func:`catenax.minimize`, so fixed coordinates are masked, never
penalised. ``fixed`` of shape ``(n, d)`` holds single coordinates (a roller
support); :func:`catenax.model.chain` uses it to keep the lesson's masses on
their vertical lines. The builders are in :mod:`catenax.model.builders`, the
field checks in :mod:`catenax.model.checks`, the conversions of
:func:`from_arrays`' arguments in :mod:`catenax.model.convert`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from catenax.errors import FieldError

from .checks import as_float, check_positions_shape, checked_fields
from .convert import cable_flags, fixed_arg, loads_arg, rest_length_arg, vector

__all__ = [
    "ARRAY_FIELDS",
    "Network",
    "fixed_coordinates",
    "free_mask",
    "from_arrays",
    "support_nodes",
    "unflatten",
    "validate",
]

#: The array fields of a :class:`Network`, in pytree order.
ARRAY_FIELDS = (
    "positions",
    "springs",
    "rest_length",
    "stiffness",
    "mass",
    "gravity",
    "fixed",
    "loads",
    "faces",
    "tension_only",
)


#: Errors about one field of a network (the name predates :class:`catenax.errors.FieldError`).
NetworkError = FieldError


@dataclasses.dataclass(frozen=True, eq=False)
class Network:
    """A network of springs joining point masses, in 2D or 3D.

    Build one with :func:`from_arrays` or a builder (:func:`chain`,
    :func:`chain2d`, :func:`net`, :func:`cloth`); calling ``Network(...)``
    directly validates too. Inside JAX transformations the pytree machinery
    rebuilds networks without validation (the leaves may be tracers).

    Attributes:
        positions: node positions, shape ``(n, d)``, d = 2 or 3.
        springs: node index pairs, shape ``(m, 2)``, integer.
        rest_length: rest length per spring, shape ``(m,)``, >= 0.
        stiffness: spring constant per spring, shape ``(m,)``, >= 0.
        mass: mass per node, shape ``(n,)``, >= 0.
        gravity: gravitational acceleration, shape ``(d,)``; the weight of
            node i is ``mass[i] * gravity``.
        fixed: supports, bool of shape ``(n,)`` (whole nodes) or ``(n, d)``
            (single coordinates).
        loads: point loads, shape ``(n, d)``.
        faces: faces known to a builder or a mesh, shape ``(f, k)`` with
            ``k >= 3`` node indices per row, ``-1`` padding a face with fewer
            corners (``(0, 4)`` when none); used by the ``.obj`` writer and plots.
        cables: which springs are tension-only: ``True`` (all), ``False``
            (none), spring indices, or a boolean mask of shape ``(m,)``. Stored
            as the static flag "any spring is a cable"; the springs themselves
            are in ``tension_only``.
        tension_only: the per-spring mask, shape ``(m,)`` bool. Leave it
            ``None``: it is made from ``cables``.

    Raises:
        ValueError: a field has the wrong shape, a non-finite or negative
            value, an index out of range, a spring joins a node to itself, or
            a free node has no spring (see :func:`validate`).
        TypeError: a field is not numeric.

    Example:
        >>> import catenax
        >>> net = catenax.Network(
        ...     positions=[[0.0, 0.0], [1.0, 0.0]], springs=[[0, 1]], rest_length=[1.0],
        ...     stiffness=[10.0], mass=[1.0, 1.0], gravity=[0.0, -9.81],
        ...     fixed=[True, False], loads=[[0.0, 0.0], [0.0, 0.0]])
        >>> net.n_nodes, net.n_springs, net.dim
        (2, 1, 2)
    """

    positions: Any
    springs: Any
    rest_length: Any
    stiffness: Any
    mass: Any
    gravity: Any
    fixed: Any
    loads: Any
    faces: Any = None
    cables: Any = False
    tension_only: Any = None

    def __post_init__(self):
        raw = {name: getattr(self, name) for name in ARRAY_FIELDS if name != "tension_only"}
        fields = checked_fields(raw)
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        mask = self.tension_only
        if isinstance(mask, jax.core.Tracer):  # rebuilt inside a transformation
            return
        mask = cable_flags(self.cables, mask, jnp.shape(fields["springs"])[-2])
        object.__setattr__(self, "cables", bool(np.any(mask)))
        object.__setattr__(self, "tension_only", jnp.asarray(mask))

    @property
    def n_nodes(self) -> int:
        """Number of nodes ``n``."""
        return self.positions.shape[-2]

    @property
    def n_springs(self) -> int:
        """Number of springs ``m``."""
        return self.springs.shape[-2]

    @property
    def dim(self) -> int:
        """Spatial dimension ``d`` (2 or 3)."""
        return self.positions.shape[-1]

    def replace(self, **changes) -> Network:
        """A copy with some fields changed (validated again).

        A new ``cables`` (without a new ``tension_only``) makes the mask anew.

        Example:
            >>> import catenax
            >>> catenax.chain2d(3).replace(cables=True).cables
            True
            >>> catenax.chain2d(3).replace(cables=[0, 2]).tension_only.tolist()
            [True, False, True, False]
        """
        if "cables" in changes:
            changes.setdefault("tension_only", None)
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        try:
            return (
                f"Network(n_nodes={self.n_nodes}, n_springs={self.n_springs}, "
                f"dim={self.dim}, cables={self.cables})"
            )
        except Exception:  # leaves that are not arrays (inside tree utilities)
            return "Network(...)"


def _flatten(net):
    return tuple(getattr(net, f) for f in ARRAY_FIELDS), net.cables


def _flatten_with_keys(net):
    children = tuple((jax.tree_util.GetAttrKey(f), getattr(net, f)) for f in ARRAY_FIELDS)
    return children, net.cables


def unflatten(cables, children):
    """A Network from its pytree leaves, without validation (the leaves may be tracers).

    Args:
        cables: the static ``cables`` flag.
        children: the array fields in the order of :data:`ARRAY_FIELDS`.

    Returns:
        The :class:`Network` (unchecked: use :func:`validate` for concrete data).

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(3)
        >>> same = unflatten(net.cables, [getattr(net, f) for f in ARRAY_FIELDS])
        >>> same.positions.shape == net.positions.shape
        True
    """
    obj = object.__new__(Network)
    for name, value in zip(ARRAY_FIELDS, children, strict=True):
        object.__setattr__(obj, name, value)
    object.__setattr__(obj, "cables", cables)
    return obj


jax.tree_util.register_pytree_with_keys(Network, _flatten_with_keys, unflatten, _flatten)


def validate(net: Network) -> Network:
    """Check a network again (e.g. one assembled by tree utilities) and return it.

    Checks: positions of shape (n, 2) or (n, 3); springs of shape (m, 2) with
    integer indices in 0..n-1 and no spring joining a node to itself (duplicate
    pairs only warn); rest lengths, stiffnesses and masses finite and >= 0 with
    one value per spring/node; gravity of shape (d,); loads of shape (n, d);
    fixed of shape (n,) or (n, d); every node with a free coordinate joined by
    at least one spring.

    Args:
        net: the network.

    Returns:
        A validated copy with fields as JAX arrays.

    Raises:
        ValueError: a check fails; the message names the field, the value and the fix.
        TypeError: a field is not numeric.

    Example:
        >>> import catenax
        >>> catenax.validate(catenax.chain2d(4)).n_nodes
        6
    """
    return dataclasses.replace(net)


# ---------------------------------------------------------------------- masks


def _fixed_mask(net: Network):
    """``fixed`` broadcast to the positions' shape ``(n, d)``: True where a coordinate is held."""
    fixed = jnp.asarray(net.fixed)
    if fixed.ndim == net.positions.ndim - 1:
        fixed = jnp.broadcast_to(fixed[..., None], net.positions.shape)
    return fixed


def free_mask(net: Network):
    """The ``free`` mask of :func:`catenax.minimize` for a network: 1 free, 0 fixed.

    Args:
        net: the network.

    Returns:
        Array of shape ``(n, d)`` and the positions' dtype.

    Example:
        >>> import catenax
        >>> catenax.free_mask(catenax.chain2d(2))[:, 0].tolist()
        [0.0, 1.0, 1.0, 0.0]
    """
    return jnp.where(_fixed_mask(net), 0.0, 1.0).astype(net.positions.dtype)


def fixed_coordinates(net: Network) -> np.ndarray:
    """``fixed`` as a boolean numpy array of shape ``(n, d)`` (for files and figures).

    Args:
        net: the network.

    Returns:
        A new boolean array, True where a coordinate is held by a support.

    Example:
        >>> import catenax
        >>> fixed_coordinates(catenax.chain2d(1)).tolist()
        [[True, True], [False, False], [True, True]]
    """
    return np.array(_fixed_mask(net), dtype=bool)


def support_nodes(net: Network) -> np.ndarray:
    """Indices of the nodes held by a support (any coordinate fixed).

    Example:
        >>> import catenax
        >>> catenax.support_nodes(catenax.chain2d(3)).tolist()
        [0, 4]
    """
    return np.flatnonzero(fixed_coordinates(net).any(axis=1))


def from_arrays(
    positions,
    springs,
    *,
    rest_length: Any = "initial",
    stiffness: Any = 1.0,
    mass: Any = 1.0,
    gravity: Any = None,
    fixed: Any = None,
    loads: Any = None,
    cables: Any = False,
    faces: Any = None,
) -> Network:
    """Build a network from plain arrays, broadcasting numbers.

    Args:
        positions: node positions, shape ``(n, d)``, d = 2 or 3.
        springs: node index pairs, shape ``(m, 2)``.
        rest_length: one number, one per spring, or ``"initial"`` (the spring
            lengths at ``positions``).
        stiffness: one number or one per spring.
        mass: one number or one per node.
        gravity: a vector of d numbers, or a number g meaning ``-g`` along the
            last axis; ``None`` for no gravity.
        fixed: node indices held in place (a list of ints), or a boolean mask
            of shape ``(n,)`` or ``(n, d)``.
        loads: ``None``, an ``(n, d)`` array, or a list of rows
            ``[node, f_1, ..., f_d]`` (loads on the same node add up).
        cables: tension-only springs: ``True`` (all), ``False`` (none), a
            list of spring indices, or a boolean mask of shape ``(m,)``.
        faces: optional faces, shape ``(f, k)`` (``-1`` pads a shorter face).

    Returns:
        A validated :class:`Network`.

    Raises:
        ValueError: bad shapes or values (see :func:`validate`).
        TypeError: non-numeric input.

    Example:
        >>> import catenax
        >>> net = catenax.from_arrays([[0, 0], [1, 0], [2, 0]], [[0, 1], [1, 2]],
        ...                           stiffness=100.0, gravity=9.81, fixed=[0, 2])
        >>> net.rest_length.tolist(), [round(g, 6) for g in net.gravity.tolist()]
        ([1.0, 1.0], [0.0, -9.81])
    """
    pos = as_float("positions", positions, "an (n, d) array")
    check_positions_shape(pos)
    n, d = pos.shape
    spr = np.asarray(springs)
    rest_length = rest_length_arg(rest_length, pos, spr)
    grav = np.zeros(d) if gravity is None else vector("gravity", gravity, d)
    return Network(
        positions=pos,
        springs=spr,
        rest_length=rest_length,
        stiffness=stiffness,
        mass=mass,
        gravity=grav,
        fixed=fixed_arg(fixed, n, d),
        loads=loads_arg(loads, n, d),
        faces=faces,
        cables=cables,
    )
