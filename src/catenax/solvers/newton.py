"""Newton's method with the Hessian's structure, globalised for non-convex energies.

Never forms a dense N×N Hessian. The linear-solve path is chosen from the
energy's structure (``problem.structure`` is the energy function; its optional
attributes describe it):

* **tridiagonal** — when the energy has ``hessian_tridiagonal(x, *params)``
  returning ``(lower, diag, upper)`` (layout of
  ``jax.lax.linalg.tridiagonal_solve``) and ``x`` is 1-D: the exact Hessian is
  solved directly. This is the lesson's chain (:func:`catenax.chain_energy`).
* **cg** — otherwise: matrix-free preconditioned conjugate gradients on
  Hessian-vector products (``problem.hvp``), truncated when it meets negative
  curvature (Newton-CG in the style of Steihaug; Nocedal & Wright, Alg. 7.1).
  Jacobi-preconditioned when the energy has ``hessian_diagonal(x, *params)``
  (same shape as ``x``).

The contract for other structures (e.g. spring networks, positions of shape
``(n, d)``): ``energy(x, *params) -> scalar`` for ``x`` of any shape; fixed
coordinates are given by the driver's ``free`` mask (1 free, 0 fixed, shape of
``x``) and never move; optional attributes ``hessian_diagonal(x, *params)``
(the Hessian's diagonal, shape of ``x``: Jacobi preconditioner) and
``force_scale(x, *params)`` (used by the stopping rule).

Globalisation (one step, both paths):

1. **Positive definite Hessian** (tridiagonal: a cheap diagonal-dominance test,
   else the LDLᵀ pivot signs counted by a blocked Möbius scan, see
   :mod:`catenax.solvers.tridiagonal`; cg: no negative curvature met):
   the Newton step ``p = -H⁻¹ g`` with an Armijo backtracking line search
   (safeguarded quadratic interpolation, so huge steps are cut fast).
2. **Indefinite or singular Hessian**: a shifted step
   ``p = -(H + mu I)⁻¹ g`` with ``mu = 1.5 |lambda_lo| + delta`` (``lambda_lo``
   a certified lower bound of the lowest eigenvalue from a few bisection steps
   on Sturm counts, ``delta = sqrt(eps) ||H|| + sqrt(max|g|)``), and a
   **negative-curvature direction** ``d`` (a few inverse iterations with
   ``H - lambda_lo I`` from a fixed start vector that is *not* symmetric, so
   symmetric saddles are escaped; cg path: the CG direction along which
   curvature was found non-positive). ``d`` is searched with an expanding or
   shrinking step (its length is remembered between steps) and the candidate
   with the lower energy wins.
3. **Stall**: if neither candidate lowers the energy (or, in the round-off
   regime, the gradient), the method reports ``stalled``. A full Newton step
   whose energy change is at round-off level is accepted when it reduces
   max|grad E|, so float32 runs do not stall before the tolerance is met.

The flat start of the lesson's chain at l = 1.2 is symmetric and the
symmetric stationary point (E = -9.0781 at mass_g = 0.1) is a saddle: step 2
leaves it and the run ends at a stable, non-symmetric minimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import block_newton as bn
from . import multigrid as mg
from . import tridiagonal as tri
from .base import Problem
from .linesearch import backtrack

# backtrack: re-exported from .linesearch
__all__ = ["Newton", "NewtonState", "backtrack", "definiteness_tolerance", "positive_definite"]

LINEAR_SOLVERS = ("auto", "tridiagonal", "dense", "cg", "amg", "direct")
#: ``auto`` uses the multigrid back-end for spring networks from this many nodes.
AMG_NODES = 3000
#: A step fails for good (``stalled``) only once the regularisation exceeds this.
MU_STALL = 1e3


class NewtonState(NamedTuple):
    """Newton's state between steps (the chain sweep engine keeps one per lane)."""

    nc_step: jax.Array  # length (max-norm) of the last accepted negative-curvature step
    gnorm0: jax.Array  # ||grad E|| at the start (for the CG forcing term)
    mu: jax.Array | None = None  # Levenberg-Marquardt regularisation (spring networks)


@dataclass(frozen=True)
class Newton:
    """Structured Newton with line search, shifts and negative-curvature steps.

    See the module docstring for the algorithm and the contract an energy must
    meet. Learning rates do not apply (the step comes from the Hessian).

    Args:
        linear_solver: ``"auto"`` (tridiagonal when the energy provides
            ``hessian_tridiagonal`` and ``x`` is 1-D, else ``"cg"``),
            ``"tridiagonal"`` or ``"cg"``.
        cg_max_iter: CG iterations per Newton step (cg path).
        bisection_steps: Sturm-count bisection steps used to bound the lowest
            eigenvalue when the tridiagonal Hessian is indefinite.
        inverse_iterations: inverse iterations for the negative-curvature
            direction (tridiagonal path).
        max_backtracks: halvings of the step before the line search gives up.
        c1: Armijo sufficient-decrease constant.
        name: the name reported in results.

    Raises:
        ValueError: an unknown ``linear_solver`` or a non-positive count.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1,
        ...                      method=Newton())
        >>> r.status, r.steps <= 10
        ('converged', True)
    """

    linear_solver: str = "auto"
    cg_max_iter: int = 500
    bisection_steps: int = 12
    inverse_iterations: int = 3
    max_backtracks: int = 40
    c1: float = 1e-4
    name: str = "newton"

    def __post_init__(self):
        if self.linear_solver not in LINEAR_SOLVERS:
            raise ValueError(
                f"linear_solver: unknown solver {self.linear_solver!r}; use one of "
                f"{', '.join(LINEAR_SOLVERS)}"
            )
        for key in ("cg_max_iter", "bisection_steps", "inverse_iterations", "max_backtracks"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{key}: {v!r} must be an integer >= 1")

    # -- which path -------------------------------------------------------
    def path(self, problem: Problem, x) -> str:
        """The linear-solve path used for ``x``.

        ``"tridiagonal"`` (the chain), ``"dense"``, ``"cg"``, ``"amg"`` or ``"direct"`` for
        energies with ``hessian_springs`` (spring networks: the regularised
        block solve of :mod:`catenax.solvers.block_newton`), else
        ``"cg"`` (Jacobi-preconditioned CG on Hessian-vector products).
        """
        structure = problem.structure
        has_tri = getattr(structure, "hessian_tridiagonal", None) is not None and x.ndim == 1
        springs = getattr(structure, "hessian_springs", None) is not None and x.ndim == 2
        kind = self.linear_solver
        if kind == "tridiagonal" and not has_tri:
            raise ValueError(
                "linear_solver: 'tridiagonal' needs an energy with a "
                "hessian_tridiagonal(x, *params) attribute and 1-D x; use 'cg' or 'auto'"
            )
        if kind in ("dense", "amg", "direct") and not springs:
            raise ValueError(
                f"linear_solver: {kind!r} needs a spring-network energy (one with a "
                "hessian_springs attribute, e.g. catenax.network_energy); use 'cg' or 'auto'"
            )
        if has_tri and kind in ("auto", "tridiagonal"):
            return "tridiagonal"
        if not springs:
            return "cg"  # on Hessian-vector products (see _cg_directions)
        if kind == "auto":
            if isinstance(problem.aux, mg.Hierarchy):
                return "amg"
            return "dense" if problem.free.size <= bn.DENSE_COORDINATES else "cg"
        if kind == "amg" and not isinstance(problem.aux, mg.Hierarchy):
            return "cg"  # no hierarchy was prepared (e.g. inside a sweep's lanes)
        return kind

    def prepare(self, energy, x0, params, free):
        """Host-side set-up before the run: the multigrid levels for ``"amg"``.

        Args:
            energy: the energy function.
            x0: the start (concrete).
            params: the energy's parameters (concrete).
            free: the free mask.

        Returns:
            A :class:`~catenax.solvers.multigrid.Hierarchy`, or ``None``.

        Raises:
            ImportError: ``linear_solver="direct"`` without SciPy.
        """
        return bn.prepare(self.linear_solver, energy, x0, params, free, AMG_NODES)

    def init(self, problem: Problem, x, e, g):
        self.path(problem, x)  # validate early
        one = jnp.ones((), x.dtype)
        springs = getattr(problem.structure, "hessian_springs", None) is not None
        mu = jnp.zeros((), x.dtype) if springs and x.ndim == 2 else None
        return NewtonState(one, jnp.linalg.norm(g.ravel()), mu)

    def step(self, problem: Problem, x, e, g, state, k):
        path = self.path(problem, x)
        mu = state.mu
        if path == "tridiagonal":
            p, d, has_d = self._tridiagonal_directions(problem, x, g)
        elif mu is None:  # not a spring network: CG on Hessian-vector products
            p, d, has_d = self._cg_directions(problem, x, g, state)
        else:
            p, d, has_d, mu = self._block_directions(path, problem, x, g, state)
        xp, ep, gp, okp = self._backtrack(problem, x, e, g, p)

        def search_d(_):
            return self._curvature_search(problem, x, e, d, state.nc_step)

        def no_d(_):
            return x, e, jnp.asarray(False), state.nc_step

        if path in ("dense", "direct"):  # no curvature direction: not even traced
            xd, ed, okd, beta = no_d(None)
        else:
            xd, ed, okd, beta = jax.lax.cond(has_d, search_d, no_d, None)
        use_d = okd & (~okp | (ed < ep))

        def at_d(_):
            return problem.value_and_grad(xd)

        def at_p(_):
            return jnp.where(okp, ep, e), jnp.where(okp, gp, g)

        e1, g1 = jax.lax.cond(use_d, at_d, at_p, None)
        x1 = jnp.where(use_d, xd, jnp.where(okp, xp, x))
        stalled = ~(okp | okd)
        if mu is not None:
            stalled = stalled & (mu >= MU_STALL)
            mu = bn.next_mu(mu, x, p, xp, okp)
        state1 = NewtonState(jnp.where(okd, beta, state.nc_step), state.gnorm0, mu)
        return x1, e1, g1, state1, stalled

    # -- directions ----------------------------------------------------------
    def _tridiagonal_directions(self, problem: Problem, x, g):
        dt = x.dtype
        eps = jnp.finfo(dt).eps
        free = problem.free
        lo, di, up = problem.structure.hessian_tridiagonal(x, *problem.params)
        lo, di, up = tri.mask_tridiagonal(lo.astype(dt), di.astype(dt), up.astype(dt), free)
        hscale, tau = definiteness_tolerance(lo, di, up)
        pd = positive_definite(lo, di, up, tau)

        def newton(_):
            p = tri.solve(lo, di, up, -g)
            return p, jnp.zeros_like(x), jnp.asarray(False)

        def shifted(_):
            lam_lo, lam_hi = tri.bisect_lowest(lo, di, up, self.bisection_steps, top=tau)
            delta = jnp.sqrt(eps) * hscale + jnp.sqrt(jnp.max(jnp.abs(g)))
            mu = 1.5 * jnp.maximum(-lam_lo, 0.0) + delta
            p = tri.solve(lo, di + mu, up, -g)
            v0 = tri.start_vector(x.shape[0], dt) * free
            v, rq = tri.inverse_iteration(lo, di, up, lam_lo, self.inverse_iterations, v0)
            has_d = (lam_hi < -tau) & (rq < -tau)
            return p, v, has_d

        p, d, has_d = jax.lax.cond(pd, newton, shifted, None)
        return p, _orient(d, g), has_d

    def _cg_directions(self, problem: Problem, x, g, state):
        dt = x.dtype
        free = problem.free
        hd = getattr(problem.structure, "hessian_diagonal", None)
        if hd is None:
            m = jnp.ones_like(x)
        else:
            a = jnp.abs(jnp.asarray(hd(x, *problem.params), dt))
            floor = 1e-12 * jnp.max(a) + jnp.finfo(dt).tiny
            m = jnp.where(free > 0, jnp.maximum(a, floor), jnp.ones_like(a))
        gn = jnp.linalg.norm(g.ravel())
        eta = jnp.minimum(0.5, jnp.sqrt(gn / jnp.maximum(state.gnorm0, jnp.finfo(dt).tiny)))
        tol = eta * gn
        r0 = -g
        z0 = r0 / m
        zero = jnp.zeros_like(x)
        tiny = jnp.finfo(dt).tiny
        small = jnp.sqrt(jnp.finfo(dt).eps)
        hmax0 = jnp.zeros((), dt)
        carry0 = (0, zero, r0, z0, jnp.vdot(r0, z0), jnp.asarray(False), zero, gn > 0, hmax0)

        def cond(c):
            i, _, _, _, _, neg, _, go, _ = c
            return (i < self.cg_max_iter) & go & ~neg

        def body(c):
            i, p, r, s, rz, _, _, _, hmax = c
            hs = problem.hvp(x, s)
            curv = jnp.vdot(s, hs)
            ss = jnp.vdot(s, s)
            hmax = jnp.maximum(hmax, jnp.abs(curv) / jnp.maximum(ss, tiny))
            # Non-positive (or numerically zero) curvature: stop, keep s as direction d.
            neg = curv <= small * hmax * ss
            alpha = rz / jnp.where(neg, 1.0, curv)
            p1 = jnp.where(neg, jnp.where(i == 0, s, p), p + alpha * s)
            r1 = jnp.where(neg, r, r - alpha * hs)
            z1 = r1 / m
            rz1 = jnp.vdot(r1, z1)
            s1 = jnp.where(neg, s, z1 + (rz1 / jnp.where(rz > 0, rz, 1.0)) * s)
            go = jnp.linalg.norm(r1.ravel()) > tol
            return (i + 1, p1, r1, s1, rz1, neg, s, go, hmax)

        _, p, _, _, _, neg, d, _, _ = jax.lax.while_loop(cond, body, carry0)
        p = jnp.where(jnp.vdot(p, g) < 0, p, -g / m)  # always a descent direction
        return p, _orient(d, g), neg

    def _block_directions(self, path, problem: Problem, x, g, state):
        """Spring networks: the regularised Newton step (:mod:`catenax.solvers.block_newton`)."""
        parts = problem.structure.hessian_springs(x, *problem.params)
        dt = x.dtype
        gn = jnp.linalg.norm(g.ravel())
        eta = jnp.minimum(0.5, jnp.sqrt(gn / jnp.maximum(state.gnorm0, jnp.finfo(dt).tiny)))
        aux = problem.aux if path == "amg" else None
        sol = bn.solve_blocks(path, parts, problem.free, g, eta * gn, self.cg_max_iter,
                              state.mu, aux)  # fmt: skip
        p = jnp.where(sol.ok & (jnp.vdot(sol.p, g) < 0), sol.p, -g)
        return p, _orient(sol.d, g), sol.has_d, sol.mu

    # -- line searches -------------------------------------------------------
    def _backtrack(self, problem: Problem, x, e, g, p):
        return backtrack(problem.value_and_grad, x, e, g, p, self.c1, self.max_backtracks)

    def _curvature_search(self, problem: Problem, x, e, d, beta0):
        """Search along a negative-curvature direction ``d`` (max-norm 1)."""

        def energy(beta):
            e1 = problem.energy(x + beta * d)
            return jnp.where(jnp.isfinite(e1), e1, jnp.inf)

        e0 = energy(beta0)
        grow = e0 < e

        def cond(c):
            i, beta, eb, done = c
            return (i < self.max_backtracks) & ~done

        def body(c):
            i, beta, eb, _ = c
            nb = jnp.where(grow, 2.0 * beta, 0.5 * beta)
            en = energy(nb)
            better = jnp.where(grow, en < eb, en < e)
            # Growing: stop when the energy rises again. Shrinking: stop at the first decrease.
            done = jnp.where(grow, ~better, better)
            keep = grow & ~better
            return (i + 1, jnp.where(keep, beta, nb), jnp.where(keep, eb, en), done)

        _, beta, eb, _ = jax.lax.while_loop(cond, body, (0, beta0, e0, jnp.asarray(False)))
        ok = eb < e
        return x + beta * d, eb, ok, beta


def definiteness_tolerance(lower, diag, upper, lanes=0):
    """The scale of ``H`` and the margin ``tau`` of newton's positive-definiteness test.

    Args:
        lower, diag, upper: the matrix, shape ``(N, ...)``; the last ``lanes``
            axes are independent matrices (lanes of a batch).
        lanes: 0 or 1.

    Returns:
        ``(hscale, tau)``: ``max_i |a_i| + |b_i| + |c_i|`` (a bound on ``||H||``)
        and ``tau = 64 eps hscale``, one per matrix.

    Example:
        >>> lo = jnp.array([0.0, -1.0]); up = jnp.array([-1.0, 0.0])
        >>> hscale, tau = definiteness_tolerance(lo, jnp.array([2.0, 2.0]), up)
        >>> float(hscale), float(tau) < 1e-12
        (3.0, True)
    """
    axes = tuple(range(diag.ndim - lanes))
    eps = jnp.finfo(diag.dtype).eps
    hscale = jnp.max(jnp.abs(diag) + jnp.abs(lower) + jnp.abs(upper), axis=axes)
    return hscale, 64 * eps * hscale


def positive_definite(lower, diag, upper, tau, lanes=0):
    """Newton's test: is ``H`` positive definite (with margin ``tau``)?

    First the cheap sufficient test: irreducibly diagonally dominant with a
    diagonal above ``tau``. Where it fails, no LDLᵀ pivot of ``H - tau I`` may
    be ``<= 0`` (Sylvester's inertia: :func:`~catenax.solvers.tridiagonal.count_below`;
    lane by lane with :func:`~catenax.solvers.tridiagonal.pivot_signs`). The pivots
    are computed only when some matrix fails the cheap test (a real branch).

    Args:
        lower, diag, upper: the matrix, shape ``(N, ...)``; the last ``lanes``
            axes are independent matrices.
        tau: the margin (:func:`definiteness_tolerance`), one per matrix.
        lanes: 0 (one matrix) or 1 (matrices along the last axis).

    Returns:
        A boolean per matrix.

    Example:
        >>> lo = jnp.array([0.0, -1.0, -1.0]); up = jnp.array([-1.0, -1.0, 0.0])
        >>> bool(positive_definite(lo, jnp.array([2.0, 2.0, 2.0]), up, 1e-12))
        True
        >>> bool(positive_definite(lo, jnp.array([1.0, 1.0, 1.0]), up, 1e-12))
        False
    """
    axes = tuple(range(diag.ndim - lanes))
    margin = diag - jnp.abs(lower) - jnp.abs(upper)
    # Irreducibly diagonally dominant with a positive diagonal => positive definite.
    cheap = (
        jnp.all(margin >= 0, axis=axes)
        & jnp.any(margin > tau, axis=axes)
        & jnp.all(jnp.abs(lower[1:]) > 0, axis=axes)
        & jnp.all(diag > tau, axis=axes)
    )
    if not lanes:
        return jax.lax.cond(
            cheap,
            lambda _: jnp.asarray(True),
            lambda _: tri.count_below(lower, diag, upper, tau) == 0,
            None,
        )
    return jax.lax.cond(
        jnp.all(cheap),
        lambda: cheap,
        lambda: cheap | ~jnp.any(tri.pivot_signs(lower, diag, tau), axis=0),
    )


def _orient(d, g):
    """Scale ``d`` to max-norm 1 and point it downhill (``g·d <= 0``)."""
    n = jnp.max(jnp.abs(d)) if d.size else jnp.ones((), d.dtype)
    d = d / jnp.where(n > 0, n, 1.0)
    return jnp.where(jnp.vdot(g, d) > 0, -d, d)
