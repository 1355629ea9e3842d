"""The linear systems of implicit differentiation: the Hessian at ``x*`` on the free coordinates.

:func:`catenax.equilibrium` differentiates ``x*(p)`` by one solve with the
Hessian ``H = ∇²ₓE(x*, p)`` restricted to the free coordinates (identity rows
on the fixed ones, the layout of every catenax solver). :func:`linear_system`
builds that system with the same structured solve as Newton, and a
stability test that does not depend on the right-hand side:

* ``"tridiagonal"`` — energies with ``hessian_tridiagonal`` and 1-D ``x``
  (the lesson's chain): the closed-form tridiagonal Hessian, solved directly
  (:func:`catenax.solvers.tridiagonal.solve`); *stable* when no LDLᵀ pivot of
  ``H - tau I`` is ``<= 0`` (Sylvester's inertia, exact, O(N)).
* ``"dense"`` — spring networks (``hessian_springs``) up to
  :data:`~catenax.solvers.DENSE_COORDINATES` coordinates: the spring blocks
  assembled densely and factored by Cholesky, which exists exactly when the
  free Hessian is positive definite (exact).
* ``"cg"`` — larger spring networks: conjugate gradients on the spring blocks
  with a block-Jacobi preconditioner (the back-end of Newton's ``"cg"``, with
  ``mu = 0``: no regularisation, which would change the derivative).
* ``"hvp"`` — any other energy: CG on Hessian-vector products (Jacobi
  preconditioned when the energy has ``hessian_diagonal``).

For the two CG paths, *stable* means a CG solve with a fixed, non-symmetric
probe right-hand side converged without meeting non-positive curvature;
every CG solve (probe or not) also fails on non-positive curvature or when it
does not converge in its iteration budget. A failed solve returns NaN.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from catenax.solvers import DENSE_COORDINATES
from catenax.solvers import block_newton as bn
from catenax.solvers import multigrid as mg
from catenax.solvers import newton as newton_method
from catenax.solvers import tridiagonal as tri

__all__ = ["LINEAR_PATHS", "LinearSystem", "linear_path", "linear_system"]

LINEAR_PATHS = ("tridiagonal", "dense", "cg", "hvp")


class LinearSystem(NamedTuple):
    """The free Hessian at ``x*``: ``matvec(v)``, ``solve(matvec, b)`` and ``stable``."""

    matvec: object
    solve: object
    stable: jax.Array


def linear_path(energy, x, linear_solver="auto") -> str:
    """Which structured solve :func:`linear_system` uses (decided from static shapes).

    Args:
        energy: the energy function (its ``hessian_tridiagonal`` or
            ``hessian_springs`` attribute picks the structure).
        x: positions (only the shape is read).
        linear_solver: ``"auto"`` or a name of :data:`LINEAR_PATHS`; Newton's
            ``"amg"`` and ``"direct"`` map to ``"cg"``.

    Returns:
        One of :data:`LINEAR_PATHS`.

    Raises:
        ValueError: a structure the energy does not have (``"tridiagonal"``
            without ``hessian_tridiagonal`` and 1-D ``x``; ``"dense"`` without
            ``hessian_springs``), or an unknown name.

    Example:
        >>> import catenax
        >>> square = lambda x: x @ x
        >>> linear_path(catenax.chain_energy, jnp.zeros(5)), linear_path(square, jnp.zeros(2))
        ('tridiagonal', 'hvp')
    """
    shape = jnp.shape(x)
    has_tri = getattr(energy, "hessian_tridiagonal", None) is not None and len(shape) == 1
    springs = getattr(energy, "hessian_springs", None) is not None and len(shape) == 2
    kind = {"amg": "cg", "direct": "cg"}.get(linear_solver, linear_solver)
    if kind not in ("auto",) + LINEAR_PATHS:
        raise ValueError(
            f"linear_solver: unknown solver {linear_solver!r}; use auto, " + ", ".join(LINEAR_PATHS)
        )
    if kind == "tridiagonal" and not has_tri:
        raise ValueError("linear_solver: 'tridiagonal' needs hessian_tridiagonal and 1-D x")
    if kind == "dense" and not springs:
        raise ValueError("linear_solver: 'dense' needs a spring network (hessian_springs)")
    if has_tri and kind in ("auto", "tridiagonal"):
        return "tridiagonal"
    if springs and kind != "hvp":
        size = int(jnp.size(x)) if shape else 1
        if kind == "dense" or (kind == "auto" and size <= DENSE_COORDINATES):
            return "dense"
        return "cg"
    return "hvp"


def linear_system(path, energy, x, params, free, rtol, max_iter) -> LinearSystem:
    """The free Hessian of ``energy`` at ``x``, its structured solve and its stability test.

    Args:
        path: one of :data:`LINEAR_PATHS` (:func:`linear_path`).
        energy: ``energy(x, *params) -> scalar``.
        x: the point (an equilibrium).
        params: the energy's parameters (a tuple).
        free: the free mask, shape of ``x``.
        rtol: CG stops at a residual of ``rtol * ||b||`` (CG paths).
        max_iter: CG iterations; a solve that needs more fails (NaN).

    Returns:
        A :class:`LinearSystem`: ``matvec`` applies ``F H F + (I - F)``,
        ``solve(matvec, b)`` solves it (NaN when the solve fails) and
        ``stable`` is true when the free Hessian is positive definite.

    Example:
        >>> import catenax
        >>> s = linear_system("tridiagonal", catenax.chain_energy, jnp.zeros(3),
        ...                   (5.0, 0.8, 0.1), jnp.ones(3), 1e-12, 100)
        >>> bool(s.stable), [round(float(v), 6) for v in s.solve(s.matvec, jnp.ones(3))]
        (True, [1.5, 2.0, 1.5])
    """
    if path == "tridiagonal":
        return _tridiagonal(energy, x, params, free)
    if path in ("dense", "cg"):
        parts = energy.hessian_springs(x, *params)
        edges, u, a, b, k = parts
        dt = x.dtype
        blocks = bn.block_system(u.astype(dt), a.astype(dt), b.astype(dt), k.astype(dt), 0.0)
        op = mg.block_operator(edges, blocks, free)
        matvec = lambda v: mg.apply(op, v)  # noqa: E731
        if path == "dense":
            return _dense(op, free, matvec)
        inv = mg.block_inverse(op)
        precond = lambda r: jnp.einsum("nab,nb->na", inv, r)  # noqa: E731
        return _cg_system(matvec, precond, free, rtol, max_iter)
    if path != "hvp":
        raise ValueError(f"path: unknown {path!r}; use one of {', '.join(LINEAR_PATHS)}")
    grad = lambda z: jax.grad(energy)(z, *params)  # noqa: E731

    def matvec(v):
        return jax.jvp(grad, (x,), (v * free,))[1] * free + (1.0 - free) * v

    hd = getattr(energy, "hessian_diagonal", None)
    m = jnp.ones_like(x)
    if hd is not None:
        a = jnp.abs(jnp.asarray(hd(x, *params), x.dtype))
        floor = 1e-12 * jnp.max(a) + jnp.finfo(x.dtype).tiny
        m = jnp.where(free > 0, jnp.maximum(a, floor), jnp.ones_like(a))
    return _cg_system(matvec, lambda r: r / m, free, rtol, max_iter)


def _tridiagonal(energy, x, params, free):
    dt = x.dtype
    lo, di, up = energy.hessian_tridiagonal(x, *params)
    lo, di, up = tri.mask_tridiagonal(lo.astype(dt), di.astype(dt), up.astype(dt), free)
    _, tau = newton_method.definiteness_tolerance(lo, di, up)
    stable = tri.count_below(lo, di, up, tau) == 0

    def solve(_matvec, b):
        return tri.solve(lo, di, up, b)

    return LinearSystem(lambda v: tri.matvec(lo, di, up, v), solve, stable)


def _dense(op, free, matvec):
    a = mg.dense(op)
    chol = jnp.linalg.cholesky(a)
    piv = jnp.diagonal(chol)
    scale = jnp.max(jnp.abs(jnp.diagonal(a)))
    # Cholesky exists exactly for a positive definite matrix; a pivot at round-off
    # level is a singular one.
    tau = 64 * jnp.finfo(a.dtype).eps * scale
    stable = jnp.all(jnp.isfinite(chol)) & jnp.all(piv * piv > tau)

    def solve(_matvec, b):
        x = jax.scipy.linalg.cho_solve((chol, True), b.ravel()).reshape(b.shape)
        return jnp.where(stable, x, jnp.nan) * free

    return LinearSystem(matvec, solve, stable)


def _cg_system(matvec, precond, free, rtol, max_iter):
    def solve(_matvec, b):
        tol = rtol * jnp.linalg.norm(b.ravel())
        x, neg, _, it = bn.pcg(matvec, precond, b, tol, max_iter)
        # A NaN right-hand side (reverse mode at a failed point) stops CG at once:
        # keep it NaN.
        ok = ~neg & (it < max_iter) & jnp.all(jnp.isfinite(x)) & jnp.all(jnp.isfinite(b))
        return jnp.where(ok, x, jnp.nan)

    probe = tri.start_vector(free.size, free.dtype).reshape(free.shape) * free
    stable = jnp.all(jnp.isfinite(solve(matvec, probe)))
    return LinearSystem(matvec, solve, stable)
