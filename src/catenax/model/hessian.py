"""The Hessian of :func:`~catenax.model.energy.network_energy`, in closed form.

The Hessian is sparse: spring s = (i, j) contributes one d x d block

.. math::

    K_s = k_s \\left[\\left(1 - \\frac{l_s}{L_s}\\right) I
          + \\frac{l_s}{L_s}\\, u_s u_s^T\\right],
    \\qquad u_s = \\frac{x_j - x_i}{L_s},

added at (i, i) and (j, j) and subtracted at (i, j) and (j, i) (``K_s = k_s I``
for zero rest length, ``0`` for a slack cable). :func:`hessian_blocks`,
:func:`hessian_coo`, :func:`hessian_diagonal` and :func:`hessian_matvec` give it
in closed form; gravity and loads are linear and add nothing.
"""

from __future__ import annotations

import jax.numpy as jnp

from .geometry import safe_sqrt, spring_vectors

__all__ = [
    "hessian_blocks",
    "hessian_coo",
    "hessian_diagonal",
    "hessian_edges",
    "hessian_matvec",
    "hessian_springs",
]


def _block_parts(x, net):
    """Per spring: unit vector u, and the coefficients a, b of K = a I + b u u^T."""
    v = spring_vectors(x, net)
    s2 = jnp.sum(v * v, axis=-1)
    length = safe_sqrt(s2)
    pos = length > 0
    inv = jnp.where(pos, 1.0 / jnp.where(pos, length, 1.0), 0.0)
    u = v * inv[:, None]
    k, rest = net.stiffness, net.rest_length
    ratio = rest * inv
    a = k * (1.0 - ratio)
    b = k * ratio
    if net.cables:
        taut = (length >= rest) | ~net.tension_only
        a = jnp.where(taut, a, 0.0)
        b = jnp.where(taut, b, 0.0)
    zero_rest = rest == 0
    a = jnp.where(zero_rest, k, a)
    b = jnp.where(zero_rest, 0.0, b)
    return u, a, b


def hessian_edges(net):
    """The node pairs of the Hessian's off-diagonal blocks: the springs, shape ``(m, 2)``.

    Args:
        net: the network.

    Returns:
        ``net.springs``.

    Example:
        >>> import catenax
        >>> hessian_edges(catenax.chain_network(2)).tolist()
        [[0, 1], [1, 2], [2, 3]]
    """
    return net.springs


def hessian_springs(x, net):
    """The Hessian as spring blocks ``K_s = a_s I + b_s u_s u_s^T``, for Newton's solvers.

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network.

    Returns:
        ``(springs, u, a, b, k)``: the node pairs ``(m, 2)``, unit vectors
        ``(m, d)``, the coefficients ``a`` and ``b`` ``(m,)`` (``a < 0`` for a
        compressed spring, both 0 for a slack cable) and the spring constants
        ``k`` (the weights of Newton's regularisation).

    Example:
        >>> import catenax
        >>> net = catenax.chain_network(1)  # l = 0.8 stretched to 1: a = 5 (1 - 0.8), b = 4
        >>> _, u, a, b, k = catenax.hessian_springs(net.positions, net)
        >>> [round(float(v), 6) for v in (a[0], b[0], k[0])]
        [1.0, 4.0, 5.0]
    """
    u, a, b = _block_parts(x, net)
    k = jnp.broadcast_to(jnp.asarray(net.stiffness, x.dtype), a.shape)
    return net.springs, u, a, b, k


def hessian_blocks(x, net):
    """The d x d Hessian block of each spring, in closed form.

    ``K_s = k (1 - l/L) I + k (l/L) u u^T`` (``k I`` for zero rest length, 0 for
    a slack cable). The full Hessian is the sum over springs s = (i, j) of
    ``K_s`` at blocks (i, i) and (j, j) and ``-K_s`` at (i, j) and (j, i).

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network.

    Returns:
        Blocks, shape ``(m, d, d)``.

    Example:
        >>> import catenax
        >>> net = catenax.chain_network(1)
        >>> catenax.hessian_blocks(net.positions, net)[0].round(6).tolist()  # l = 0.8, L = 1
        [[5.0, 0.0], [0.0, 1.0]]
    """
    u, a, b = _block_parts(x, net)
    eye = jnp.eye(x.shape[-1], dtype=x.dtype)
    return a[:, None, None] * eye[None, :, :] + b[:, None, None] * (u[:, :, None] * u[:, None, :])


def hessian_coo(x, net, free=None):
    """The sparse Hessian as COO triplets (duplicates add up), without scipy.

    Coordinates are flattened row-major: coordinate ``a`` of node ``i`` is
    index ``i * d + a``. Each spring gives ``4 d^2`` entries. With ``free``
    (the mask of :func:`catenax.free_mask`), entries in a fixed row or column
    are zeroed and ``n * d`` diagonal entries ``1 - free`` are appended, so
    the matrix is the free-free Hessian with an identity on the fixed
    coordinates (ready for a sparse direct solve).

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network.
        free: optional mask of shape ``(n, d)``.

    Returns:
        ``(rows, cols, values)``, each of shape ``(4 m d^2,)`` (plus ``n d``
        with ``free``); e.g. ``scipy.sparse.coo_array((values, (rows, cols)))``.

    Example:
        >>> import catenax, numpy as np
        >>> net = catenax.chain2d(3)
        >>> r, c, v = catenax.hessian_coo(net.positions, net)
        >>> H = np.zeros((10, 10)); np.add.at(H, (r, c), v)
        >>> bool(np.allclose(H, H.T))
        True
    """
    n, d = x.shape
    blocks = hessian_blocks(x, net)  # (m, d, d)
    i, j = net.springs[:, 0], net.springs[:, 1]
    row_nodes = jnp.stack([i, j, i, j])  # (4, m)
    col_nodes = jnp.stack([i, j, j, i])
    sign = jnp.asarray([1.0, 1.0, -1.0, -1.0], x.dtype)
    ar = jnp.arange(d)
    rows = row_nodes[:, :, None, None] * d + ar[None, None, :, None]  # (4, m, d, 1)
    cols = col_nodes[:, :, None, None] * d + ar[None, None, None, :]  # (4, m, 1, d)
    rows = jnp.broadcast_to(rows, (4,) + blocks.shape).ravel()
    cols = jnp.broadcast_to(cols, (4,) + blocks.shape).ravel()
    vals = (sign[:, None, None, None] * blocks[None, :, :, :]).ravel()
    if free is not None:
        f = jnp.asarray(free, x.dtype).ravel()
        vals = vals * f[rows] * f[cols]
        diag = jnp.arange(n * d)
        rows = jnp.concatenate([rows, diag])
        cols = jnp.concatenate([cols, diag])
        vals = jnp.concatenate([vals, 1.0 - f])
    return rows, cols, vals


def hessian_diagonal(x, net):
    """The diagonal of the Hessian, in closed form, shaped like ``x``.

    For Jacobi preconditioning: entry (i, a) is the sum over the springs at
    node i of ``k (1 - l/L + (l/L) u_a^2)``.

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network.

    Returns:
        The diagonal, shape ``(n, d)``.

    Example:
        >>> import catenax
        >>> net = catenax.chain_network(1)
        >>> catenax.hessian_diagonal(net.positions, net).round(6).tolist()
        [[5.0, 1.0], [10.0, 2.0], [5.0, 1.0]]
    """
    u, a, b = _block_parts(x, net)
    diag = a[:, None] + b[:, None] * u * u  # (m, d)
    out = jnp.zeros_like(x)
    return out.at[net.springs[:, 0]].add(diag).at[net.springs[:, 1]].add(diag)


def hessian_matvec(x, net, v):
    """Hessian-vector product ``H(x) v`` from the per-spring blocks.

    Args:
        x: node positions, shape ``(n, d)``.
        net: the network.
        v: a vector shaped like ``x``.

    Returns:
        ``H v``, shape ``(n, d)``.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> net = catenax.chain2d(3)
        >>> catenax.hessian_matvec(net.positions, net, jnp.ones_like(net.positions)).shape
        (5, 2)
    """
    u, a, b = _block_parts(x, net)
    dv = v[net.springs[:, 1]] - v[net.springs[:, 0]]
    kv = a[:, None] * dv + (b * jnp.sum(u * dv, axis=-1))[:, None] * u
    out = jnp.zeros_like(v)
    return out.at[net.springs[:, 1]].add(kv).at[net.springs[:, 0]].add(-kv)
