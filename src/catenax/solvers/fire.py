"""FIRE: the Fast Inertial Relaxation Engine (Bitzek et al., PRL 97, 170201, 2006).

With a time step that is safe from the problem itself: velocity Verlet is
stable only for ``dt < 2 / sqrt(lambda_max)`` (unit masses, ``lambda_max`` the
largest Hessian eigenvalue), and a spring network's ``lambda_max`` ranges over
many orders of magnitude (the lesson's chain: 4 to 9; the shipped cloth: 3000;
a chain of 2800 N/m springs: 10⁴). A fixed default step diverged on most of the
shipped examples; here the step is kept below a fraction of that bound, tracked
along the run (and, optionally, estimated at the start), and a step that climbs
is undone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from .base import Problem

__all__ = ["FIRE", "FireState", "stiffest_curvature", "verlet_bound"]


class FireState(NamedTuple):
    """FIRE's state between steps."""

    v: jax.Array  # velocity, shape of x
    dt: jax.Array  # current time step
    alpha: jax.Array  # current mixing parameter
    n_pos: jax.Array  # steps since the power F·v was last non-positive
    lam: jax.Array  # the largest curvature seen (a lower bound of lambda_max)


def verlet_bound(lam):
    """The largest stable velocity-Verlet time step ``2 / sqrt(lambda)`` (unit masses).

    Args:
        lam: the largest Hessian eigenvalue (a number or an array); ``<= 0``
            gives ``inf`` (no bound).

    Returns:
        ``2 / sqrt(lam)``, ``inf`` where ``lam <= 0``.

    Example:
        >>> float(verlet_bound(4.0)), float(verlet_bound(0.0))
        (1.0, inf)
    """
    lam = jnp.asarray(lam)
    pos = lam > 0
    return jnp.where(pos, 2.0 / jnp.sqrt(jnp.where(pos, lam, 1.0)), jnp.inf)


def stiffest_curvature(problem: Problem, x, iterations: int = 10):
    """A cheap lower estimate of the Hessian's largest ``|eigenvalue|`` at ``x``.

    Power iteration on Hessian-vector products (``problem.hvp``, fixed
    coordinates masked) from a fixed start vector that is not symmetric; the
    estimate is the largest ``||H v||`` over unit vectors ``v`` met, so it never
    exceeds ``max |lambda|`` (within 10 % of it after 10 iterations on every
    shipped example). Jittable.

    Args:
        problem: the :class:`~catenax.solvers.Problem`.
        x: the point.
        iterations: the number of Hessian-vector products.

    Returns:
        A scalar ``>= 0`` (0 where every coordinate is fixed or the Hessian is 0).

    Example:
        >>> import jax.numpy as jnp
        >>> from catenax.solve import make_problem
        >>> p = make_problem(lambda x: 0.5 * (x[0] ** 2 + 9.0 * x[1] ** 2), (), jnp.ones(2))
        >>> round(float(stiffest_curvature(p, jnp.zeros(2), 40)), 6)
        9.0
    """
    i = jnp.arange(x.size, dtype=x.dtype).reshape(x.shape)
    v = problem.free * (1.0 + 0.5 * jnp.sin(2.2646329987 * i + 0.3))

    def unit(w):
        n = jnp.linalg.norm(w.ravel())
        return w / jnp.where(n > 0, n, 1.0), n

    def body(_, carry):
        v, lam = carry
        w, n = unit(problem.hvp(x, v))
        return w, jnp.maximum(lam, n)

    v, _ = unit(v)
    return jax.lax.fori_loop(0, iterations, body, (v, jnp.zeros((), x.dtype)))[1]


@dataclass(frozen=True)
class FIRE:
    """Damped molecular dynamics that mixes the velocity towards the force.

    With force ``F = -grad E`` and unit masses, each step (Bitzek et al. 2006)::

        v <- v + dt/2 F(x);  x <- x + dt v;  v <- v + dt/2 F(x)   (velocity Verlet)
        P = F·v                                                  (at the new point)
        if P > 0:  v <- (1 - alpha) v + alpha |v| F/|F|
                   if n_pos > n_min: dt <- min(f_inc dt, dt_max); alpha <- f_alpha alpha
        else:      v <- 0; dt <- f_dec dt; alpha <- alpha_start; n_pos <- 0

    Testing the power after the MD step (as jax-md does), not before it, matters:
    on the lesson chain with N = 1000 the other order needs ~800 000 steps, this
    one ~5 000.

    **A safe time step.** Velocity Verlet is stable only for
    ``dt < 2 / sqrt(lambda_max)`` (:func:`verlet_bound`). FIRE keeps
    ``dt <= dt_safety * 2 / sqrt(lam)`` where ``lam`` is the largest curvature
    seen along the steps, ``(grad E(x1) - grad E(x)) . dx / |dx|^2`` (a Rayleigh
    quotient of the Hessian averaged over the step, so a lower estimate of
    ``lambda_max``; free, both gradients are computed anyway): a structure that
    stiffens as it deforms (cables pulled taut) lowers the cap as it happens.
    Optionally ``power_iterations`` Hessian-vector products
    (:func:`stiffest_curvature`) estimate it at the start too (then the first
    step is ``min(dt, cap / 4)``); off by default, because the tracked curvature
    and the test below need about as many steps on the shipped examples (cloth
    6972 against 6940, cable net 577 against 592, tent 116 against 93) and the
    Hessian-vector product adds about 1 s to the compilation of a network's run.
    And a step that climbs (the trapezoid estimate
    ``(grad E(x) + grad E(x1)) / 2 . dx`` of the energy change is positive
    beyond round-off: exact for a quadratic, and free of the cancellation in
    ``E`` itself) is undone like an uphill step of the power test
    (``v <- 0``, ``dt <- f_dec dt``). A run whose step keeps being undone until
    ``dt`` is below ``sqrt(eps)`` times the cap reports ``stalled``.

    Fixed coordinates have zero force and zero velocity, so they never move.

    Args:
        dt: the initial time step (``learning_rate`` of the driver; default 0.1);
            a first step that climbs is undone and halved, and the cap applies
            from there.
        dt_max: the largest time step (default ``4 * dt``, jax-md's 0.4 for
            dt = 0.1), lowered to the safe cap on stiff problems.
        n_min: steps of positive power before ``dt`` may grow (5).
        f_inc: growth factor of ``dt`` (1.1).
        f_dec: shrink factor of ``dt`` after an uphill step (0.5).
        alpha_start: initial mixing parameter (0.1).
        f_alpha: decay factor of ``alpha`` (0.99).
        dt_safety: the cap as a fraction of the Verlet bound ``2/sqrt(lam)`` (0.6;
            at most 1).
        power_iterations: Hessian-vector products of an estimate of
            ``lambda_max`` at the start (default 0: the cap comes from the
            steps' curvatures alone; 10 gives within 15 % on the shipped examples).
        name: the name reported in results.

    Raises:
        ValueError: a non-positive or non-finite parameter, ``dt_safety > 1``,
            or a negative integer.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1,
        ...                      method=FIRE(0.1), max_steps=5000)
        >>> r.status
        'converged'
    """

    dt: float = 0.1
    dt_max: float | None = None
    n_min: int = 5
    f_inc: float = 1.1
    f_dec: float = 0.5
    alpha_start: float = 0.1
    f_alpha: float = 0.99
    dt_safety: float = 0.6
    power_iterations: int = 0
    name: str = "fire"

    def __post_init__(self):
        keys = ("dt", "dt_max", "f_inc", "f_dec", "alpha_start", "f_alpha", "dt_safety")
        for key in keys:
            v = getattr(self, key)
            if v is None and key == "dt_max":
                continue
            bad = isinstance(v, bool) or not isinstance(v, (int, float))
            if bad or not 0 < v < math.inf:
                raise ValueError(f"{key}: {v!r} must be a finite number > 0")
        if self.dt_safety > 1:
            raise ValueError(
                f"dt_safety: {self.dt_safety!r} must be <= 1 (a fraction of the largest "
                "stable step); use e.g. 0.6"
            )
        for key, example in (("n_min", 5), ("power_iterations", 10)):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{key}: {v!r} must be an integer >= 0; use e.g. {example}")

    def cap(self, lam, dtype):
        """The largest time step allowed when ``lam`` is the stiffest curvature seen."""
        dt_max = jnp.asarray(4 * self.dt if self.dt_max is None else self.dt_max, dtype)
        return jnp.minimum(dt_max, self.dt_safety * verlet_bound(lam)).astype(dtype)

    def init(self, problem: Problem, x, e, g):
        dtype = x.dtype
        lam = jnp.zeros((), dtype)
        if self.power_iterations:
            lam = stiffest_curvature(problem, x, self.power_iterations).astype(dtype)
        dt0 = jnp.minimum(jnp.asarray(self.dt, dtype), self.cap(lam, dtype) / 4)
        return FireState(
            jnp.zeros_like(x), dt0, jnp.asarray(self.alpha_start, dtype),
            jnp.zeros((), jnp.int32), lam,
        )  # fmt: skip

    def step(self, problem: Problem, x, e, g, state, k):
        dtype = x.dtype
        v, dt, alpha, n_pos, lam = state
        v = v - 0.5 * dt * g
        dx = dt * v
        x1 = x + dx
        e1, g1 = problem.value_and_grad(x1)
        v = (v - 0.5 * dt * g1) * problem.free
        # the curvature along the step: a Rayleigh quotient of the mean Hessian
        dd = jnp.vdot(dx, dx)
        lam = jnp.maximum(lam, jnp.vdot(g1 - g, dx) / jnp.where(dd > 0, dd, 1.0))
        cap = self.cap(lam, dtype)
        # the energy change by the trapezoid rule; positive: the step climbed
        terms = 0.5 * (g + g1) * dx
        eps = jnp.finfo(dtype).eps
        climbed = jnp.sum(terms) > 16 * eps * jnp.sum(jnp.abs(terms))
        f = -g1
        power = jnp.vdot(f, v)
        fn = jnp.linalg.norm(f.ravel())
        vn = jnp.linalg.norm(v.ravel())
        up = (power > 0) & ~climbed
        mixed = (1 - alpha) * v + alpha * vn * f / jnp.where(fn > 0, fn, 1.0)
        v = jnp.where(up, mixed, jnp.zeros_like(v))
        grow = up & (n_pos > self.n_min)
        dt = jnp.minimum(jnp.where(up, jnp.where(grow, dt * self.f_inc, dt), dt * self.f_dec), cap)
        alpha = jnp.where(up, jnp.where(grow, alpha * self.f_alpha, alpha), self.alpha_start)
        alpha = alpha.astype(dtype)
        n_pos = jnp.where(up, n_pos + 1, 0).astype(jnp.int32)
        x1, e1, g1 = (jnp.where(climbed, old, new) for old, new in ((x, x1), (e, e1), (g, g1)))
        stalled = climbed & (dt < jnp.sqrt(eps) * cap)
        return x1, e1, g1, FireState(v, dt.astype(dtype), alpha, n_pos, lam), stalled
