"""L-BFGS with a zoom (strong Wolfe) line search, built on ``optax.lbfgs``."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

from .base import Problem

__all__ = ["LBFGS"]


@dataclass(frozen=True)
class LBFGS:
    """Limited-memory BFGS (Nocedal & Wright, Alg. 7.5) with optax's zoom line search.

    Each step runs ``optax.lbfgs``: the two-loop recursion over the last
    ``history`` pairs ``(s_k, y_k)`` gives a quasi-Newton direction, and a zoom
    line search finds a step satisfying the strong Wolfe conditions. The energy
    and gradient the line search computed at the accepted point are reused
    (no extra evaluation). Fixed coordinates (``problem.free == 0``) are pinned
    inside the function the line search sees, so they never move.

    Near the minimum, where E changes only at round-off level, a step is also
    accepted when it does not raise E beyond round-off and lowers max|grad E|
    (the unit quasi-Newton step is tried when the line search fails). A step that
    still fails clears the memory and restarts; two failures in a row make the
    step ``stalled``.
    Learning rates do not apply.

    Args:
        history: number of stored correction pairs (optax's ``memory_size``).
        max_linesearch_steps: zoom line-search evaluations per step.
        name: the name reported in results.

    Raises:
        ValueError: ``history`` or ``max_linesearch_steps`` below 1.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1,
        ...                      method=LBFGS(history=10), max_steps=500)
        >>> r.status
        'converged'
    """

    history: int = 10
    max_linesearch_steps: int = 30
    name: str = "lbfgs"

    def __post_init__(self):
        for key in ("history", "max_linesearch_steps"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{key}: {v!r} must be an integer >= 1; use e.g. 10")

    def _tx(self):
        return optax.lbfgs(
            memory_size=self.history,
            linesearch=optax.scale_by_zoom_linesearch(
                max_linesearch_steps=self.max_linesearch_steps,
                initial_guess_strategy="one",
            ),
        )

    def init(self, problem: Problem, x, e, g):
        return self._tx().init(x), jnp.zeros((), jnp.int32)

    def step(self, problem: Problem, x, e, g, state, k):
        state, fails = state
        free = problem.free
        pinned = x * (1 - free)

        def value_fn(z):
            return problem.energy(z * free + pinned)

        root_n = jnp.sqrt(jnp.asarray(max(x.size, 1), x.dtype))
        # The unit quasi-Newton step, kept as a fallback for the round-off regime.
        direction, _ = optax.scale_by_lbfgs(memory_size=self.history).update(g, state[0], x)
        updates, state = self._tx().update(g, state, x, value=e, grad=g, value_fn=value_fn)
        x1 = x + jnp.asarray(updates, x.dtype) * free
        e1 = jnp.asarray(optax.tree_utils.tree_get(state, "value"), x.dtype)
        g1 = jnp.asarray(optax.tree_utils.tree_get(state, "grad"), x.dtype) * free
        gmax = jnp.max(jnp.abs(g)) if g.size else jnp.zeros((), x.dtype)
        gmax1 = jnp.max(jnp.abs(g1)) if g.size else jnp.zeros((), x.dtype)
        # Progress: a lower energy, or (at round-off level) an unchanged one with a smaller
        # gradient. Anything else is a failed line search: keep x and report a stall.
        eps = jnp.finfo(x.dtype).eps
        noise = 16 * eps * root_n * (jnp.abs(e) + jnp.abs(e1))
        flat = (e1 - e <= noise) & (gmax1 < gmax)
        ok = jnp.isfinite(e1) & ((e1 < e) | flat) & jnp.any(x1 != x)
        # Near the minimum E stops changing at round-off level and the line search
        # fails: accept the unit quasi-Newton step there if it lowers max|grad E|.
        xf = x - jnp.asarray(direction, x.dtype) * free
        ef, gf = problem.value_and_grad(xf)
        gmaxf = jnp.max(jnp.abs(gf)) if g.size else jnp.zeros((), x.dtype)
        okf = ~ok & jnp.isfinite(ef) & (ef - e <= 16 * eps * root_n * jnp.abs(e)) & (gmaxf < gmax)
        x1, e1, g1 = (jnp.where(okf, a, b) for a, b in ((xf, x1), (ef, e1), (gf, g1)))
        ok = ok | okf
        x1 = jnp.where(ok, x1, x)
        e1 = jnp.where(ok, e1, e)
        g1 = jnp.where(ok, g1, g)
        # A failed step restarts the method (memory cleared); two in a row is a stall.
        fresh = self._tx().init(x)
        state = jax.tree.map(lambda a, b: jnp.where(ok, a, b), state, fresh)
        fails = jnp.where(ok, 0, fails + 1).astype(jnp.int32)
        return x1, e1, g1, (state, fails), fails >= 2
