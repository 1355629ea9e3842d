"""Spring geometry shared by the energy and its Hessian: spring vectors, a NaN-free sqrt."""

from __future__ import annotations

import jax.numpy as jnp


def safe_sqrt(s):
    """sqrt with a zero (not NaN) derivative at 0."""
    pos = s > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, s, 1.0)), 0.0)


def spring_vectors(x, net):
    """``x[j] - x[i]`` for each spring ``(i, j)``, shape ``(m, d)``."""
    return x[net.springs[:, 1]] - x[net.springs[:, 0]]
