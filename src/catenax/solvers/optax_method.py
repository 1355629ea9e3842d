"""Any optax ``GradientTransformation`` as a catenax method."""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import optax

from .base import Problem, no_stall

__all__ = ["OptaxMethod"]


@dataclass(frozen=True, eq=False)
class OptaxMethod:
    """Wrap an optax optimizer so the catenax driver can run it.

    Each step calls ``tx.update(grad, state, x)`` (with ``value``, ``grad`` and
    ``value_fn`` as extra arguments for transformations that take them, such as
    ``optax.lbfgs``) and applies the update with ``optax.apply_updates``.

    Args:
        tx: the optax transformation, e.g. ``optax.adam(0.1)``.
        name: the name reported in results.

    Example:
        >>> import optax, catenax
        >>> m = OptaxMethod(optax.adam(0.1), "adam")
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1,
        ...                      method=m, max_steps=60, tol=None)
    """

    tx: optax.GradientTransformation
    name: str = "optax"

    def init(self, problem: Problem, x, e, g):
        return self.tx.init(x)

    def step(self, problem: Problem, x, e, g, state, k):
        if isinstance(self.tx, optax.GradientTransformationExtraArgs):
            updates, state = self.tx.update(g, state, x, value=e, grad=g, value_fn=problem.energy)
        else:
            updates, state = self.tx.update(g, state, x)
        x1 = optax.apply_updates(x, jnp.asarray(updates, x.dtype) * problem.free)
        e1, g1 = problem.value_and_grad(x1)
        return x1, e1, g1, state, no_stall()
