"""Newton's linear solve for energies whose Hessian is a sum of spring blocks.

A spring network's Hessian is a sum over springs s = (i, j) of
``K_s = a_s I + b_s u_s u_s^T`` added at (i, i), (j, j) and subtracted at
(i, j), (j, i) (:mod:`catenax.model.hessian`). ``a_s = k_s (1 - l_s/L_s)`` is
negative for a compressed spring, so the Hessian can be indefinite; all-slack
cables make it singular.

**Levenberg–Marquardt regularisation.** Newton solves
``(H + mu K) p = -g`` on the free coordinates, where ``K = sum_s k_s
(e_i - e_j)(e_i - e_j)^T ⊗ I`` is the stiffness graph Laplacian — positive
definite whenever every part of the structure is joined to a support (checked
before solving), so ``H + mu K`` is positive definite for ``mu`` large enough
whatever the geometry. ``mu`` starts at 0 (the pure Newton step), grows when a
solve meets negative curvature (a negative pivot, or a CG direction of
non-positive curvature) or a line search must cut the step, and shrinks by 8
after each full step, so near a stable minimum the steps are Newton's and
converge quadratically.

**Back-ends** (``linear_solver``), all solving the same system:

* ``"dense"`` — the free system as a dense matrix and its Cholesky factor
  (positive definite exactly when the factor exists): pure JAX, for small
  structures (``auto`` up to :data:`DENSE_COORDINATES` free coordinates).

* ``"cg"`` — conjugate gradients on the block matrix with a 3 x 3 (d x d)
  block-Jacobi preconditioner: pure JAX, small program, any device.
* ``"amg"`` — conjugate gradients preconditioned by the aggregation multigrid
  cycle of :mod:`catenax.solvers.multigrid` (built for the positive
  semidefinite part ``H+``, compressed springs' negative stiffness dropped):
  pure JAX, iteration counts that grow slowly with the net.
* ``"direct"`` — a sparse LU with symmetric pivoting (SciPy's SuperLU, called
  from inside the jitted loop with ``jax.pure_callback``); the signs of its
  pivots give the inertia, so an indefinite system is detected exactly. Needs
  SciPy (``pip install "catenax[sparse]"``).
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import multigrid as mg

__all__ = [
    "BLOCK_SOLVERS",
    "LinearSolve",
    "block_system",
    "next_mu",
    "pcg",
    "prepare",
    "solve_blocks",
]

BLOCK_SOLVERS = ("dense", "cg", "amg", "direct")
#: ``mu`` used the first time a pure Newton solve fails.
MU_START = 1e-6
#: Attempts with a growing ``mu`` in one step.
MU_TRIES = 12
#: ``auto`` solves densely up to this many coordinates.
DENSE_COORDINATES = 1500


class LinearSolve(NamedTuple):
    """One regularised Newton solve: step, success, curvature direction, counts."""

    p: jax.Array
    ok: jax.Array
    d: jax.Array
    has_d: jax.Array
    mu: jax.Array
    iterations: jax.Array


def block_system(u, a, b, k, mu, psd=False):
    """The blocks ``K_s + mu k_s I`` of the regularised system, shape ``(m, d, d)``.

    Args:
        u: unit spring vectors, shape ``(m, d)``.
        a, b: coefficients of ``K_s = a I + b u u^T``, shape ``(m,)``.
        k: spring constants (the regulariser's weights), shape ``(m,)``.
        mu: the regularisation (a scalar).
        psd: drop the negative part of ``a`` (compressed springs): the result is
            positive semidefinite.

    Returns:
        Blocks, shape ``(m, d, d)``.

    Example:
        >>> u = jnp.array([[1.0, 0.0]])
        >>> block_system(u, jnp.array([-1.0]), jnp.array([5.0]), jnp.array([5.0]), 0.0,
        ...              psd=True).tolist()
        [[[5.0, 0.0], [0.0, 0.0]]]
    """
    a = jnp.maximum(a, 0.0) if psd else a
    eye = jnp.eye(u.shape[-1], dtype=u.dtype)
    diag = (a + mu * k)[:, None, None] * eye[None]
    return diag + b[:, None, None] * (u[:, :, None] * u[:, None, :])


def pcg(matvec, precond, rhs, tol, max_iter):
    """Preconditioned conjugate gradients, stopped at non-positive curvature.

    Args:
        matvec: ``v -> A v``.
        precond: ``r -> M^{-1} r`` (symmetric positive definite).
        rhs: the right-hand side.
        tol: stop when ``||r|| <= tol``.
        max_iter: the most iterations.

    Returns:
        ``(x, negative, d, iterations)``: the solution (the last iterate when
        curvature was non-positive, then ``d`` is the direction along which it
        was found).

    Example:
        >>> a = jnp.array([[4.0, 1.0], [1.0, 3.0]])
        >>> x, neg, _, _ = pcg(lambda v: a @ v, lambda r: r, jnp.array([1.0, 2.0]), 1e-12, 10)
        >>> [round(float(v), 6) for v in x], bool(neg)
        ([0.090909, 0.636364], False)
    """
    dt = rhs.dtype
    tiny = jnp.finfo(dt).tiny
    small = jnp.sqrt(jnp.finfo(dt).eps)
    z0 = precond(rhs)
    zero = jnp.zeros_like(rhs)
    rz0 = jnp.vdot(rhs, z0)
    go0 = jnp.linalg.norm(rhs.ravel()) > tol
    carry = (0, zero, rhs, z0, rz0, jnp.asarray(False), zero, go0, jnp.zeros((), dt))

    def cond(c):
        i, _, _, _, _, neg, _, go, _ = c
        return (i < max_iter) & go & ~neg

    def body(c):
        i, x, r, s, rz, _, _, _, hmax = c
        hs = matvec(s)
        curv = jnp.vdot(s, hs)
        ss = jnp.vdot(s, s)
        hmax = jnp.maximum(hmax, jnp.abs(curv) / jnp.maximum(ss, tiny))
        neg = (curv <= small * hmax * ss) | ~jnp.isfinite(curv)
        alpha = rz / jnp.where(neg, 1.0, curv)
        x1 = jnp.where(neg, x, x + alpha * s)
        r1 = jnp.where(neg, r, r - alpha * hs)
        z1 = precond(r1)
        rz1 = jnp.vdot(r1, z1)
        s1 = jnp.where(neg, s, z1 + (rz1 / jnp.where(rz > 0, rz, 1.0)) * s)
        go = jnp.linalg.norm(r1.ravel()) > tol
        return (i + 1, x1, r1, s1, rz1, neg, s, go, hmax)

    i, x, _, _, _, neg, d, _, _ = jax.lax.while_loop(cond, body, carry)
    return x, neg, d, i


_HIERARCHIES: dict = {}


def _hierarchy(edges, free):
    """The multigrid levels of a topology, built once (a few are kept)."""
    key = hashlib.blake2b(edges.tobytes() + b"|" + (free > 0).tobytes(), digest_size=16)
    key = (edges.shape, free.shape, key.hexdigest())
    if key not in _HIERARCHIES:
        if len(_HIERARCHIES) >= 4:
            _HIERARCHIES.pop(next(iter(_HIERARCHIES)))
        _HIERARCHIES[key] = mg.build_hierarchy(edges, free)
    return _HIERARCHIES[key]


def next_mu(mu, x, p, xp, accepted):
    """Levenberg–Marquardt update: shrink after a full step, grow after a failed search.

    A step the line search had to cut keeps ``mu``: cutting is the line search's
    job, and growing ``mu`` there too made the curtain example take more steps.

    Args:
        mu: the regularisation used for the step.
        x, p: the point and the step.
        xp: the line search's point.
        accepted: whether the line search accepted it.

    Returns:
        The next step's first ``mu``.

    Example:
        >>> x = jnp.zeros(2); p = jnp.ones(2)
        >>> float(next_mu(jnp.asarray(8.0), x, p, x + p, jnp.asarray(True)))
        1.0
    """
    full = accepted & jnp.all(xp == x + p)
    shrink = jnp.where(mu / 8 < MU_START, 0.0, mu / 8)
    grow = jnp.maximum(4.0 * mu, MU_START)
    return jnp.where(full, shrink, jnp.where(accepted, mu, grow))


def prepare(linear_solver, energy, x0, params, free, amg_nodes):
    """Host-side set-up of newton's network back-ends, before the jitted run.

    Args:
        linear_solver: the back-end asked for (``"auto"`` or a name).
        energy: the energy function (with ``hessian_edges`` for networks).
        x0: the start (concrete).
        params: the energy's parameters (concrete).
        free: the free mask.
        amg_nodes: ``auto`` builds multigrid levels from this many nodes.

    Returns:
        The multigrid :class:`~catenax.solvers.multigrid.Hierarchy` (cached
        per topology), or ``None``.

    Raises:
        ImportError: ``"direct"`` without SciPy, naming the extra to install.

    Example:
        >>> import catenax
        >>> net = catenax.net(4, 4)
        >>> args = (catenax.network_energy, net.positions, (net,), catenax.free_mask(net))
        >>> prepare("auto", *args, amg_nodes=10) is not None, prepare("cg", *args, 10)
        (True, None)
    """
    edges_of = getattr(energy, "hessian_edges", None)
    if edges_of is None or np.ndim(x0) != 2:
        return None
    if linear_solver == "direct":
        try:
            import scipy.sparse.linalg  # noqa: F401, PLC0415
        except ImportError as err:
            raise ImportError(
                "linear_solver: 'direct' needs SciPy; install it with "
                "pip install 'catenax[sparse]', or use 'amg' or 'cg'"
            ) from err
        return None
    n = np.shape(x0)[0]
    if linear_solver == "amg" or (linear_solver == "auto" and n >= amg_nodes):
        return _hierarchy(np.asarray(edges_of(*params)), np.asarray(free))
    return None


def _direct_host(edges, blocks, free, rhs):
    """SuperLU with symmetric pivoting on the host: solution and 'positive definite'."""
    from scipy.sparse import csc_array  # noqa: PLC0415 - optional dependency
    from scipy.sparse.linalg import splu  # noqa: PLC0415

    edges, blocks = np.asarray(edges), np.asarray(blocks)
    free, rhs = np.asarray(free), np.asarray(rhs)
    n, d = free.shape
    f = free.ravel()
    i, j = edges[:, 0], edges[:, 1]
    ar = np.arange(d)
    rn = np.stack([i, j, i, j])[:, :, None, None] * d + ar[None, None, :, None]
    cn = np.stack([i, j, j, i])[:, :, None, None] * d + ar[None, None, None, :]
    sign = np.array([1.0, 1.0, -1.0, -1.0])[:, None, None, None]
    rows = np.broadcast_to(rn, (4,) + blocks.shape).ravel()
    cols = np.broadcast_to(cn, (4,) + blocks.shape).ravel()
    vals = (sign * blocks[None]).ravel() * f[rows] * f[cols]
    diag = np.arange(n * d)
    mat = csc_array(
        (
            np.concatenate([vals, 1.0 - f]),
            (np.concatenate([rows, diag]), np.concatenate([cols, diag])),
        ),
        shape=(n * d, n * d),
    )
    try:
        lu = splu(mat, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                  options=dict(SymmetricMode=True))  # fmt: skip
    except RuntimeError:  # exactly singular
        return np.zeros_like(rhs), np.asarray(False)
    piv = lu.U.diagonal()
    scale = np.max(np.abs(piv), initial=0.0)
    ok = bool(np.all(piv > 64 * np.finfo(piv.dtype).eps * scale))
    x = lu.solve(rhs.ravel()).reshape(rhs.shape)
    ok = ok and bool(np.all(np.isfinite(x)))
    return x.astype(rhs.dtype), np.asarray(ok)


def _solve_direct(edges, blocks, free, rhs):
    out = (jax.ShapeDtypeStruct(rhs.shape, rhs.dtype), jax.ShapeDtypeStruct((), jnp.bool_))
    x, ok = jax.pure_callback(_direct_host, out, edges, blocks, free, rhs,
                              vmap_method="sequential")  # fmt: skip
    return x * free, ok


def solve_blocks(kind, parts, free, g, tol, max_iter, mu0, hierarchy=None) -> LinearSolve:
    """Solve ``(H + mu K) p = -g``, raising ``mu`` until the system is positive definite.

    Args:
        kind: one of :data:`BLOCK_SOLVERS`.
        parts: ``(edges, u, a, b, k)`` of the energy's ``hessian_springs``.
        free: the free mask, shape of ``g``.
        g: the masked gradient, shape ``(n, d)``.
        tol: CG stops when the residual norm is at most this.
        max_iter: CG iterations per solve.
        mu0: the regularisation to try first.
        hierarchy: the multigrid levels (``"amg"``).

    Returns:
        A :class:`LinearSolve`; ``ok`` is false when no ``mu`` tried gave a
        positive definite system.

    Example:
        >>> import catenax
        >>> net = catenax.net(5, 5, supports="edges", rest_length=0.9)
        >>> parts = catenax.hessian_springs(net.positions, net)
        >>> free = catenax.free_mask(net); g = -free
        >>> s = solve_blocks("cg", parts, free, g, 1e-12, 200, 0.0)
        >>> bool(s.ok), float(s.mu)
        (True, 0.0)
    """
    edges, u, a, b, k = parts
    dt = g.dtype
    fmax = jnp.max(jnp.abs(k), initial=0.0)
    kreg = jnp.where(k > 0, k, 1e-3 * fmax)  # also hold nodes whose springs have k = 0

    def attempt(mu):
        exact = block_system(u, a, b, kreg, mu)
        op = mg.block_operator(edges, exact, free)
        if kind == "direct":
            p, ok = _solve_direct(edges, exact, free, -g)
            return p, ok, jnp.zeros_like(g), jnp.asarray(False), jnp.int32(1)
        if kind == "dense":
            chol = jnp.linalg.cholesky(mg.dense(op))
            p = jax.scipy.linalg.cho_solve((chol, True), -g.ravel()).reshape(g.shape) * free
            ok = jnp.all(jnp.isfinite(p))
            return p, ok, jnp.zeros_like(g), jnp.asarray(False), jnp.int32(1)
        if kind == "amg":
            psd = mg.block_operator(edges, block_system(u, a, b, kreg, mu, psd=True), free)
            precond = mg.multigrid_preconditioner(psd, hierarchy)
        else:
            inv = mg.block_inverse(op)
            precond = lambda r: jnp.einsum("nab,nb->na", inv, r)  # noqa: E731
        p, neg, d, it = pcg(lambda v: mg.apply(op, v), precond, -g, tol, max_iter)
        ok = ~neg & jnp.all(jnp.isfinite(p))
        return p, ok, d, neg & jnp.all(jnp.isfinite(d)), it

    def cond(c):
        tries, _, sol = c
        return (tries < MU_TRIES) & ~sol.ok

    def body(c):
        tries, mu, sol = c
        p, ok, d, has_d, it = attempt(mu)
        d = jnp.where(sol.has_d, sol.d, d)  # keep the first curvature direction
        has_d = sol.has_d | has_d
        nxt = jnp.where(ok, mu, jnp.maximum(8.0 * mu, MU_START))
        return tries + 1, nxt, LinearSolve(p, ok, d, has_d, mu, sol.iterations + it)

    zero = jnp.zeros_like(g)
    start = LinearSolve(zero, jnp.asarray(False), zero, jnp.asarray(False),
                        jnp.asarray(mu0, dt), jnp.int32(0))  # fmt: skip
    _, _, sol = jax.lax.while_loop(cond, body, (0, jnp.asarray(mu0, dt), start))
    return sol
