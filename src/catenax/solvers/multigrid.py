"""Aggregation multigrid for Hessians that are sums of edge blocks (spring networks).

The Hessian of a spring network is a sum over springs s = (i, j) of one d x d
block ``K_s`` added at (i, i) and (j, j) and subtracted at (i, j) and (j, i)
(:mod:`catenax.model.hessian`). With fixed coordinates masked out (``F_i`` the
free mask of node i as a diagonal matrix) the system Newton solves is
``A = F H F + (I - F)``.

**Plain aggregation.** Nodes are grouped into aggregates of about four
(two rounds of pairwise matching on the spring graph, in the style of Notay's
AGMG); the prolongation ``P`` copies an aggregate's d coordinates to each of its
nodes' free coordinates. Then the coarse operator ``P^T A P`` is again a sum of
edge blocks — a spring between two aggregates keeps its block, a spring inside
one aggregate adds to that aggregate's diagonal — so every level is stored the
same way (diagonal blocks, edge list, edge blocks) and computed from the fine
blocks by segment sums, once per Newton step. The graph work (matching, coarse
edge lists) is done once per topology on the host (:func:`build_hierarchy`);
only the numbers change between steps.

**Cycle.** Damped block-Jacobi smoothing (one sweep before and one after), the
coarsest level (at most a few hundred nodes) solved densely by Cholesky, and
a V-cycle between them (a K-cycle would converge in fewer iterations, but
its traced program doubles with every level). The cycle is a symmetric
positive definite preconditioner for an SPD ``A``, so the outer method is
plain preconditioned CG.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "Hierarchy",
    "Level",
    "apply",
    "block_inverse",
    "block_operator",
    "build_hierarchy",
    "coarsen",
    "dense",
    "edge_matvec",
    "multigrid_preconditioner",
]

#: The coarsest level is solved densely when it has at most this many nodes.
COARSE_NODES = 256
#: Block-Jacobi damping of the smoother.
OMEGA = 0.6


class Level(NamedTuple):
    """The graph of one coarsening step (host-built integer arrays).

    Attributes:
        agg: aggregate of each node of the finer level, shape ``(n,)``
            (``n_coarse`` for nodes with no free coordinate: dropped).
        edge_to: coarse edge of each fine edge, shape ``(m,)`` (``m_coarse``
            when the edge is inside one aggregate or touches a dropped node).
        flip: the fine edge runs from the higher to the lower aggregate.
        intra: the fine edge lies inside one aggregate.
        edges: the coarse edges, shape ``(m_coarse, 2)``.
        free: the coarse free mask, shape ``(n_coarse, d)``.
    """

    agg: jax.Array
    edge_to: jax.Array
    flip: jax.Array
    intra: jax.Array
    edges: jax.Array
    free: jax.Array


class Hierarchy(NamedTuple):
    """The levels of :func:`build_hierarchy` (a pytree of arrays)."""

    levels: tuple


# ----------------------------------------------------------------- host side


def _match(n, edges, active, rng):
    """Pairwise matching by handshakes: each node proposes to a random free neighbour."""
    mate = np.full(n, -1, np.int64)
    i, j = edges[:, 0], edges[:, 1]
    ok = active[i] & active[j] & (i != j)
    src = np.concatenate([i[ok], j[ok]])
    dst = np.concatenate([j[ok], i[ok]])
    order = np.argsort(src, kind="stable")  # once: every round keeps this order
    src, dst = src[order], dst[order]
    for _ in range(8):
        live = (mate[src] < 0) & (mate[dst] < 0)
        s, t = src[live], dst[live]
        if s.size == 0:
            break
        head = np.r_[True, s[1:] != s[:-1]]
        w = rng.random(s.size)
        best = w == np.maximum.reduceat(w, np.flatnonzero(head))[np.cumsum(head) - 1]
        prop = np.full(n, -1, np.int64)
        prop[s[best]] = t[best]
        cand = np.flatnonzero(prop >= 0)
        mutual = cand[prop[prop[cand]] == cand]
        mate[mutual] = prop[mutual]
    return mate


def _aggregate(n, edges, active, rng):
    """One round of pairwise matching: aggregate index per node (-1 inactive), count."""
    mate = _match(n, edges, active, rng)
    idx = np.arange(n)
    lead = active & ((mate < 0) | (idx < mate))
    agg = np.full(n, -1, np.int64)
    agg[lead] = np.arange(np.count_nonzero(lead))
    paired = active & (mate >= 0) & (idx > mate)
    agg[paired] = agg[mate[paired]]
    return agg, int(np.count_nonzero(lead))


def _coarse_graph(agg, nc, edges):
    """Coarse edges of aggregate map ``agg`` (-1 dropped) and the fine-to-coarse maps."""
    ai, aj = agg[edges[:, 0]], agg[edges[:, 1]]
    alive = (ai >= 0) & (aj >= 0)
    intra = alive & (ai == aj)
    cross = alive & (ai != aj)
    lo, hi = np.minimum(ai, aj), np.maximum(ai, aj)
    keys = lo[cross] * nc + hi[cross]
    uniq, inv = np.unique(keys, return_inverse=True)
    edge_to = np.full(edges.shape[0], uniq.size, np.int64)
    edge_to[cross] = inv
    cedges = np.stack([uniq // nc, uniq % nc], axis=1)
    return cedges, edge_to, ai > aj, intra


def build_hierarchy(edges, free, coarse_nodes: int = COARSE_NODES, seed: int = 0) -> Hierarchy:
    """Coarsen a spring graph into multigrid levels, once per topology (host side).

    Each level merges nodes by two rounds of pairwise matching (aggregates of
    about four nodes) until at most ``coarse_nodes`` remain. Nodes with no free
    coordinate are not unknowns and are dropped.

    Args:
        edges: spring node pairs, shape ``(m, 2)``.
        free: the free mask (1 free, 0 fixed), shape ``(n, d)``.
        coarse_nodes: stop coarsening at this many nodes (or when a round no
            longer shrinks the graph).
        seed: seed of the random matching (fixed: the hierarchy is reproducible).

    Returns:
        A :class:`Hierarchy` (NumPy arrays; a pytree).

    Example:
        >>> import catenax
        >>> net = catenax.net(20, 20, supports="edges")
        >>> free = np.asarray(catenax.free_mask(net))
        >>> h = build_hierarchy(np.asarray(net.springs), free, coarse_nodes=20)
        >>> len(h.levels) >= 2, h.levels[-1].free.shape[0] <= 20
        (True, True)
    """
    edges = np.asarray(edges, np.int64).reshape(-1, 2)
    free = np.asarray(free) > 0
    rng = np.random.default_rng(seed)
    levels = []
    n = free.shape[0]
    while n > coarse_nodes:
        active = free.any(axis=1)
        agg = np.full(n, -1, np.int64)
        agg1, n1 = _aggregate(n, edges, active, rng)
        e1, _, _, _ = _coarse_graph(agg1, max(n1, 1), edges)
        agg2, n2 = _aggregate(n1, e1, np.ones(n1, bool), rng)
        agg[active] = agg2[agg1[active]]
        if n2 >= 0.9 * np.count_nonzero(active):
            break
        cedges, edge_to, flip, intra = _coarse_graph(agg, n2, edges)
        cfree = np.zeros((n2, free.shape[1]), bool)
        np.logical_or.at(cfree, agg[active], free[active])
        agg_out = np.where(agg < 0, n2, agg)
        levels.append(
            Level(
                agg_out.astype(np.int32),
                edge_to.astype(np.int32),
                flip,
                intra,
                cedges.astype(np.int32),
                cfree.astype(np.float64),
            )
        )
        edges, free, n = cedges, cfree, n2
    return Hierarchy(tuple(levels))


# ------------------------------------------------------------------ numerics


class _Operator(NamedTuple):
    """``A = Dhat + offdiag(B) + (I - F)`` on one level (arrays)."""

    diag: jax.Array  # (n, d, d), free-masked
    edges: jax.Array  # (m, 2)
    blocks: jax.Array  # (m, d, d): the (i, j) block
    free: jax.Array  # (n, d)


def edge_matvec(edges, blocks, x):
    """``sum_s`` of the off-diagonal blocks applied to ``x``.

    Row block i gets ``B_s x_j`` and row block j gets ``B_s^T x_i`` for each edge
    s = (i, j).

    Args:
        edges: node pairs, shape ``(m, 2)``.
        blocks: the (i, j) blocks, shape ``(m, d, d)``.
        x: a vector per node, shape ``(n, d)``.

    Returns:
        Shape ``(n, d)``.

    Example:
        >>> e = jnp.array([[0, 1]]); b = -jnp.eye(2)[None]
        >>> edge_matvec(e, b, jnp.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [[-3.0, -4.0], [-1.0, -2.0]]
    """
    i, j = edges[:, 0], edges[:, 1]
    yi = jnp.einsum("mab,mb->ma", blocks, x[j])
    yj = jnp.einsum("mba,mb->ma", blocks, x[i])
    return jnp.zeros_like(x).at[i].add(yi).at[j].add(yj)


def block_operator(edges, blocks, free):
    """The masked system ``F H F + (I - F)`` of a sum of edge blocks, as a level operator.

    Args:
        edges: springs, shape ``(m, 2)``.
        blocks: the symmetric block ``K_s`` of each spring, shape ``(m, d, d)``
            (the Hessian adds it at (i, i), (j, j) and subtracts it at (i, j)).
        free: the free mask, shape ``(n, d)``.

    Returns:
        An operator for :func:`multigrid_preconditioner` and :func:`apply`.

    Example:
        >>> op = block_operator(jnp.array([[0, 1]]), jnp.eye(2)[None], jnp.ones((2, 2)))
        >>> apply(op, jnp.array([[1.0, 0.0], [0.0, 0.0]])).tolist()
        [[1.0, 0.0], [-1.0, 0.0]]
    """
    i, j = edges[:, 0], edges[:, 1]
    fi, fj = free[i], free[j]
    kii = blocks * fi[:, :, None] * fi[:, None, :]
    kjj = blocks * fj[:, :, None] * fj[:, None, :]
    off = -blocks * fi[:, :, None] * fj[:, None, :]
    n, d = free.shape
    diag = jnp.zeros((n, d, d), blocks.dtype).at[i].add(kii).at[j].add(kjj)
    return _Operator(diag, edges, off, free)


def apply(op: _Operator, x):
    """``A x`` for a level operator (:func:`block_operator`).

    Args:
        op: the operator.
        x: shape ``(n, d)``.

    Returns:
        ``A x``, shape ``(n, d)``.

    Example:
        >>> op = block_operator(jnp.array([[0, 1]]), jnp.eye(1)[None], jnp.array([[1.0], [0.0]]))
        >>> apply(op, jnp.array([[2.0], [3.0]])).tolist()
        [[2.0], [3.0]]
    """
    y = jnp.einsum("nab,nb->na", op.diag, x) + edge_matvec(op.edges, op.blocks, x)
    return y + (1.0 - op.free) * x


def coarsen(op: _Operator, lev: Level):
    """The Galerkin operator ``P^T A P`` of the next level, by segment sums.

    Args:
        op: the operator of the finer level.
        lev: the coarsening step (a :class:`Level` of :func:`build_hierarchy`).

    Returns:
        The coarse operator (free-masked, identity on coarse coordinates with no
        free fine coordinate).

    Example:
        >>> lev = build_hierarchy(np.array([[0, 1], [1, 2]]), np.ones((3, 1)),
        ...                       coarse_nodes=1).levels[0]
        >>> op = block_operator(jnp.array([[0, 1], [1, 2]]), jnp.ones((2, 1, 1)), jnp.ones((3, 1)))
        >>> float(jnp.sum(dense(coarsen(op, lev))))  # constants are in the null space
        0.0
    """
    lev = jax.tree.map(jnp.asarray, lev)
    nc = lev.free.shape[0]
    mc = lev.edges.shape[0]
    b = op.blocks
    bt = jnp.swapaxes(b, 1, 2)
    diag = jax.ops.segment_sum(op.diag, lev.agg, nc + 1)[:nc]
    i = op.edges[:, 0]
    intra = jnp.where(lev.intra[:, None, None], b + bt, 0.0)
    diag = diag + jax.ops.segment_sum(intra, lev.agg[i], nc + 1)[:nc]
    oriented = jnp.where(lev.flip[:, None, None], bt, b)
    blocks = jax.ops.segment_sum(oriented, lev.edge_to, mc + 1)[:mc]
    free = jnp.asarray(lev.free, op.free.dtype)
    return _Operator(diag, lev.edges, blocks, free)


def block_inverse(op: _Operator):
    """Inverses of the diagonal blocks of ``A`` (identity on fixed coordinates), closed form.

    Args:
        op: a level operator (:func:`block_operator`), d = 2 or 3.

    Returns:
        The inverses, shape ``(n, d, d)`` (0 where a block is singular).

    Example:
        >>> op = block_operator(jnp.array([[0, 1]]), 2 * jnp.eye(2)[None], jnp.ones((2, 2)))
        >>> (block_inverse(op)[0] + 0.0).tolist()
        [[0.5, 0.0], [0.0, 0.5]]
    """
    d = op.free.shape[1]
    eye = jnp.eye(d, dtype=op.diag.dtype)
    a = op.diag + (1.0 - op.free)[:, :, None] * eye[None]
    if d == 2:
        det = a[:, 0, 0] * a[:, 1, 1] - a[:, 0, 1] * a[:, 1, 0]
        adj = jnp.stack([jnp.stack([a[:, 1, 1], -a[:, 0, 1]], -1),
                         jnp.stack([-a[:, 1, 0], a[:, 0, 0]], -1)], -2)  # fmt: skip
    else:

        def c(i, j):  # the cofactor of entry (i, j)
            i1, i2, j1, j2 = (i + 1) % 3, (i + 2) % 3, (j + 1) % 3, (j + 2) % 3
            return a[:, i1, j1] * a[:, i2, j2] - a[:, i1, j2] * a[:, i2, j1]

        adj = jnp.stack([jnp.stack([c(j, i) for j in range(3)], -1) for i in range(3)], -2)
        det = a[:, 0, 0] * c(0, 0) + a[:, 0, 1] * c(0, 1) + a[:, 0, 2] * c(0, 2)
    tiny = jnp.finfo(a.dtype).tiny
    ok = jnp.abs(det) > tiny
    return jnp.where(ok[:, None, None], adj / jnp.where(ok, det, 1.0)[:, None, None], 0.0)


def dense(op: _Operator):
    """A level operator as a dense matrix (the coarsest level), by one scatter.

    Args:
        op: the operator (:func:`block_operator`).

    Returns:
        The ``(n d) x (n d)`` matrix, coordinates flattened row-major.

    Example:
        >>> op = block_operator(jnp.array([[0, 1]]), jnp.eye(1)[None], jnp.ones((2, 1)))
        >>> dense(op).tolist()
        [[1.0, -1.0], [-1.0, 1.0]]
    """
    n, d = op.free.shape
    eye = jnp.eye(d, dtype=op.diag.dtype)
    full = op.diag + (1.0 - op.free)[:, :, None] * eye[None]
    ar = jnp.arange(d)
    i, j = op.edges[:, 0], op.edges[:, 1]
    nodes_r = jnp.concatenate([jnp.arange(n), i, j])
    nodes_c = jnp.concatenate([jnp.arange(n), j, i])
    rows = nodes_r[:, None, None] * d + ar[None, :, None]
    cols = nodes_c[:, None, None] * d + ar[None, None, :]
    vals = jnp.concatenate([full, op.blocks, jnp.swapaxes(op.blocks, 1, 2)])
    flat = (rows * (n * d) + cols).ravel()
    a = jnp.zeros(n * d * n * d, full.dtype).at[flat].add(vals.ravel())
    return a.reshape(n * d, n * d)


def multigrid_preconditioner(op: _Operator, hierarchy: Hierarchy):
    """An SPD preconditioner ``r -> M^{-1} r`` for ``A``: one V-cycle on its levels.

    Args:
        op: the finest operator (:func:`block_operator`); must be symmetric
            positive definite for the result to be.
        hierarchy: the levels from :func:`build_hierarchy` (as arrays).

    Returns:
        A function of ``r`` (shape ``(n, d)``).

    Example:
        >>> import catenax
        >>> net = catenax.net(12, 12, supports="edges")
        >>> free = catenax.free_mask(net)
        >>> h = build_hierarchy(np.asarray(net.springs), np.asarray(free), coarse_nodes=20)
        >>> op = block_operator(net.springs, catenax.hessian_blocks(net.positions, net) +
        ...                     jnp.eye(3)[None], free)
        >>> m = multigrid_preconditioner(op, h)
        >>> r = jnp.ones_like(net.positions) * free
        >>> float(jnp.vdot(r, m(r))) > 0
        True
    """
    hierarchy = jax.tree.map(jnp.asarray, hierarchy)
    ops = [op]
    for lev in hierarchy.levels:
        ops.append(coarsen(ops[-1], lev))
    invs = [block_inverse(o) for o in ops[:-1]]
    chol = jnp.linalg.cholesky(dense(ops[-1]))
    shape = ops[-1].free.shape

    def smooth(k, r):
        return OMEGA * jnp.einsum("nab,nb->na", invs[k], r)

    def cycle(k, r):
        if k == len(ops) - 1:
            return jax.scipy.linalg.cho_solve((chol, True), r.reshape(-1)).reshape(shape)
        lev = hierarchy.levels[k]
        nc = ops[k + 1].free.shape[0]
        x = smooth(k, r)
        rc = jax.ops.segment_sum(r - apply(ops[k], x), lev.agg, nc + 1)[:nc]
        xc = cycle(k + 1, rc)
        xc = jnp.concatenate([xc, jnp.zeros((1,) + xc.shape[1:], xc.dtype)])
        x = x + xc[lev.agg] * ops[k].free
        return x + smooth(k, r - apply(ops[k], x))

    return lambda r: cycle(0, r)
