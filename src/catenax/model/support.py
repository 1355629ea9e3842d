"""Is a structure held? Parts joined to no support, found before solving; a runaway test after.

A part of a network (a connected component of the graph of springs with
stiffness > 0) that no support holds has a rigid-body motion of zero energy:
with a net weight or load along it the energy falls without bound, without one
the part floats. Newton, FIRE and the optax methods all fail on such a
structure in their own way (a stall, a fall for every step of the budget, a
free fall to ``E = -1e54``), so :func:`check_held` finds it from the graph, on
the host, before any solve, and raises a :class:`~catenax.errors.FieldError`
that names the nodes of the part. What the graph cannot show (a mechanism such
as a hinged bar, an energy that keeps falling for another reason) is caught
during the run by :func:`runaway`.

The graph search is vectorised NumPy: minimum-label propagation over the
springs with pointer jumping (10⁶ nodes and 2·10⁶ springs: 0.6 s for a 1000 x 1000
net, 1.6 s with its nodes numbered at random, on one CPU core).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from catenax.errors import FieldError

from .network import free_mask

__all__ = ["check_chain_held", "check_held", "components", "runaway", "runaway_radius"]

#: How many node indices a message lists before "...".
_SHOWN = 10
_AXES = "xyz"


def components(n: int, springs) -> np.ndarray:
    """Connected components of a graph: the smallest node index of each node's component.

    Args:
        n: the number of nodes.
        springs: edges, an integer array of shape ``(m, 2)``.

    Returns:
        An int array of shape ``(n,)``: ``labels[i]`` is the smallest node index
        of the component of node ``i`` (a node without edges is its own).

    Example:
        >>> components(6, [[0, 1], [4, 3], [1, 2]]).tolist()
        [0, 0, 0, 3, 3, 5]
    """
    labels = np.arange(n)
    edges = np.asarray(springs, dtype=np.int64).reshape(-1, 2)
    if n == 0 or edges.shape[0] == 0:
        return labels
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    owners = src[starts]
    while True:
        new = labels.copy()
        # each node takes the smallest label among itself and its neighbours ...
        new[owners] = np.minimum(new[owners], np.minimum.reduceat(labels[dst], starts))
        # ... and so does the node its old label points at (hooking the roots) ...
        np.minimum.at(new, labels[owners], new[owners])
        # ... then every label jumps to its root
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, labels):
            return labels
        labels = new


def _nodes_text(nodes: np.ndarray, word: str = "node", plural: str = "nodes") -> str:
    """``"nodes 3, 4, 5 (3 nodes)"``: the first ten indices and the count."""
    shown = ", ".join(str(int(i)) for i in nodes[:_SHOWN])
    more = ", ..." if nodes.size > _SHOWN else ""
    name = word if nodes.size == 1 else plural
    return f"{name} {shown}{more} ({nodes.size} {name})"


def _is_concrete(*trees) -> bool:
    leaves = jax.tree_util.tree_leaves(trees)
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)


def check_held(x, net, free=None) -> None:
    """Raise when a part of the network is joined to no support (it would fall or float).

    Host-side, on concrete values, before solving. With ``labels`` the connected
    components of the springs with stiffness > 0, a component that has a free
    coordinate is **not held** when

    * no node in it has any coordinate fixed (it floats, and falls under any
      weight or load), or
    * along some axis no node in it has that coordinate fixed and the applied
      forces on it (weights ``mass * gravity`` plus loads) add up to a non-zero
      force along that axis (it falls along it forever).

    Nodes with every coordinate fixed are supports; a part made only of them
    is held. A network whose free nodes have only springs of stiffness 0 gets
    the error on ``stiffness``.

    Args:
        x: the start positions, shape ``(n, d)`` (the graph test does not use
            them; they keep the signature of the energy's attributes).
        net: the :class:`~catenax.Network` (a leading batch axis is checked
            case by case).
        free: the free mask (1 free, 0 fixed) of shape ``(n, d)``; default
            :func:`~catenax.free_mask` of ``net``.

    Raises:
        FieldError: ``field="fixed"``, naming the nodes of the first part
            that is not held (the first ten indices and the count), or
            ``field="stiffness"`` when every spring has stiffness 0.

    Example:
        >>> import catenax
        >>> net = catenax.from_arrays([[0, 0], [1, 0], [3, 0], [4, 0]], [[0, 1], [2, 3]],
        ...                           gravity=9.81, fixed=[0])
        >>> check_held(net.positions, net)
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: fixed: nodes 2, 3 (2 nodes) form a part joined to no \
support: it would fall (or float) forever; fix one of its nodes in `fixed` or connect it \
with a spring
    """
    if not _is_concrete(x, net, free):
        return
    pos = np.asarray(net.positions)
    if pos.ndim > 2:  # a batch of networks: a leading axis on every field
        for i in range(pos.shape[0]):
            one = jax.tree.map(lambda a, i=i: np.asarray(a)[i], net)
            check_held(None, one, None if free is None else np.asarray(free)[i])
        return
    mask = np.asarray(free_mask(net) if free is None else free).reshape(pos.shape)
    fixed = mask == 0
    movable = ~fixed.all(axis=1)
    if not movable.any():
        return
    stiffness = np.asarray(net.stiffness)
    springs = np.asarray(net.springs).reshape(-1, 2)
    if not (stiffness > 0).any():
        raise FieldError(
            "stiffness",
            "every spring has stiffness 0, so nothing holds the free nodes "
            f"({_nodes_text(np.flatnonzero(movable))}); give the springs a stiffness > 0",
        )
    _check_parts(pos.shape, fixed, movable, components(pos.shape[0], springs[stiffness > 0]), net)


def check_chain_held(y, spring, length, mass_g, free=None) -> None:
    """Raise when the lesson's chain has no stiffness: its masses would fall (or float).

    The chain's ends are pinned inside :func:`~catenax.chain_energy`, so its only
    way of not being held is ``spring == 0``: then every free mass is a part of its
    own. Host-side, on concrete values (checks nothing under ``jit``).

    Args:
        y: the start heights, shape ``(N,)``.
        spring, length, mass_g: as in :func:`~catenax.chain_energy` (``spring``
            may hold one value per case of a batch).
        free: the free mask (1 free, 0 fixed) of the shape of ``y``; default all free.

    Raises:
        FieldError: ``field="spring"``, naming the masses (first ten indices of
            ``y`` and the count) when some spring constant is 0 and a mass is free.

    Example:
        >>> import jax.numpy as jnp
        >>> check_chain_held(jnp.zeros(3), 5.0, 0.8, 0.1)
        >>> check_chain_held(jnp.zeros(3), 0.0, 0.8, 0.1)
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: spring: 0 holds nothing: masses 0, 1, 2 (3 masses) \
would fall (or float) forever; use a spring constant > 0, e.g. 5.0
    """
    if not _is_concrete(y, spring, free) or not np.any(np.asarray(spring) == 0):
        return
    shape = np.shape(y)
    mask = np.ones(shape) if free is None else np.asarray(free).reshape(shape)
    loose = np.flatnonzero(mask.reshape(-1, shape[-1]).any(axis=0)) if shape else np.zeros(0)
    if loose.size == 0:
        return
    raise FieldError(
        "spring",
        f"0 holds nothing: {_nodes_text(loose, 'mass', 'masses')} would fall (or float) "
        "forever; use a spring constant > 0, e.g. 5.0",
    )


def _check_parts(shape, fixed, movable, labels, net) -> None:
    """Raise for the first component (by smallest node) that is not held."""
    n, d = shape
    count = lambda w: np.bincount(labels, weights=w.astype(float), minlength=n)  # noqa: E731
    has_movable = count(movable) > 0
    fixed_axis = np.stack([count(fixed[:, a]) > 0 for a in range(d)], axis=1)
    force = np.asarray(net.mass)[:, None] * np.asarray(net.gravity)[None, :] + np.asarray(
        net.loads
    ).reshape(n, d)
    total = np.stack([count(force[:, a]) for a in range(d)], axis=1)
    scale = np.stack([count(np.abs(force[:, a])) for a in range(d)], axis=1)
    floating = has_movable & ~fixed_axis.any(axis=1)
    falling = has_movable[:, None] & ~fixed_axis & (np.abs(total) > 1e-9 * scale)
    bad = floating | falling.any(axis=1)
    if not bad.any():
        return
    root = int(np.flatnonzero(bad)[0])
    nodes = np.flatnonzero(labels == root)
    others = int(bad.sum()) - 1
    more = f" (and {others} more part{'s' if others > 1 else ''} like it)" if others else ""
    if floating[root]:
        raise FieldError(
            "fixed",
            f"{_nodes_text(nodes)} form a part joined to no support: it would fall (or "
            "float) forever; fix one of its nodes in `fixed` or connect it with a spring" + more,
        )
    a = int(np.flatnonzero(falling[root])[0])
    axis = _AXES[a] if d <= 3 else str(a)
    raise FieldError(
        "fixed",
        f"{_nodes_text(nodes)} form a part that no support holds along {axis} while "
        f"the weights and loads on it add up to {total[root, a]:.4g} along {axis}: it "
        f"would fall forever; fix the {axis} coordinate of one of its nodes in `fixed` "
        "or connect it with a spring" + more,
    )


def runaway_radius(net):
    """How far a node may move from its start before a run counts as running away.

    ``R = 1e6 * (1 + extent + sum of rest lengths)``, with ``extent`` the
    diagonal of the bounding box of ``net.positions``: no equilibrium of a held
    structure is that far off. Jittable.

    Args:
        net: the network.

    Returns:
        The scalar ``R``.

    Example:
        >>> import catenax
        >>> float(runaway_radius(catenax.chain2d(1, span=2.0, rest_length=1.0)))
        5000000.0
    """
    pos = net.positions
    box = jnp.max(pos, axis=-2) - jnp.min(pos, axis=-2)
    extent = jnp.sqrt(jnp.sum(box * box, axis=-1))
    return 1e6 * (1.0 + extent + jnp.sum(net.rest_length, axis=-1))


def runaway(x, net):
    """True when some node is farther than :func:`runaway_radius` from its start.

    A backstop for energies that keep falling (a mechanism, a part the graph
    test cannot see): the driver ends such a run ``diverged``. Pure JAX
    (jittable, vmappable).

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network (its ``positions`` are the reference).

    Returns:
        A boolean scalar.

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(2)
        >>> bool(runaway(net.positions, net)), bool(runaway(net.positions + 1e9, net))
        (False, True)
    """
    u = x - net.positions
    far = jnp.sum(u * u, axis=-1) > runaway_radius(net)[..., None] ** 2
    return jnp.any(far, axis=-1)
