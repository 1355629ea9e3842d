"""Plain gradient descent: the notebook's update ``x <- x - eta * grad E(x)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp

from .base import Problem, no_stall

__all__ = ["GradientDescent"]


@dataclass(frozen=True)
class GradientDescent:
    """Gradient descent with a fixed step or an optax schedule.

    The update is exactly the notebook's ``y = y - eta * grad_E(y)``; it is
    stable only for ``eta < 2 / lambda_max`` of the Hessian.

    Args:
        learning_rate: the step size eta, or a schedule ``k -> eta_k``.

    Example:
        >>> import catenax
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1,
        ...                      method=GradientDescent(0.2), max_steps=60, tol=None)
    """

    learning_rate: Any = 0.2
    name: str = "gd"

    def _eta(self, k, dtype):
        lr = self.learning_rate
        # Evaluate schedules in the precision of the run (optax would use float32).
        return lr(jnp.asarray(k, dtype)) if callable(lr) else lr

    def init(self, problem: Problem, x, e, g):
        return ()

    def step(self, problem: Problem, x, e, g, state, k):
        eta = self._eta(k, x.dtype)
        x1 = x - eta * g
        e1, g1 = problem.value_and_grad(x1)
        return x1, e1, g1, state, no_stall()
