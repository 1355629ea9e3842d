"""What every method sees (``Problem``) and what every method provides (``Method``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import jax.numpy as jnp

__all__ = ["Method", "Problem"]


class Problem(NamedTuple):
    """An energy with its parameters bound, as the driver hands it to a method.

    Attributes:
        value_and_grad: ``x -> (E(x), grad E(x))`` with fixed coordinates masked
            to zero in the gradient.
        energy: ``x -> E(x)``.
        hvp: ``(x, v) -> H(x) v`` (Hessian-vector product, masked).
        structure: the energy function itself, whose optional attributes
            (``hessian_tridiagonal``, ``force_scale``) describe its structure.
        params: the parameters bound after ``x``.
        free: mask of free coordinates (1.0 free, 0.0 fixed), shape of ``x``.
        aux: host-prepared arrays a method asked for, see ``Method.prepare``
            (a pytree of arrays, or ``None``): the driver calls
            ``method.prepare(energy, x0, params, free)`` on the host before the
            jitted run and passes its result into the run as an argument.
    """

    value_and_grad: Callable
    energy: Callable
    hvp: Callable
    structure: Any
    params: tuple
    free: Any
    aux: Any = None


class Method(Protocol):
    """A pluggable minimisation method.

    A method is a hashable object (a frozen dataclass) with a ``name`` and two
    pure functions that the driver calls inside ``jit``:

    * ``init(problem, x, e, g) -> state``
    * ``step(problem, x, e, g, state, k) -> (x, e, g, state, stalled)``

    where ``e, g`` are the energy and masked gradient at ``x``, ``k`` is the
    step index (0-based) and ``stalled`` is a boolean scalar that is true when
    the method can make no further progress (e.g. a line search failed).

    Optionally, ``prepare(energy, x0, params, free) -> aux`` (a pytree of arrays,
    or ``None``): called by the driver on the host, with concrete values, before
    the jitted run; ``aux`` reaches ``init`` and ``step`` as ``problem.aux``. It
    is an argument of the compiled run, never a constant baked into it, so a new
    ``aux`` of the same shapes compiles nothing new.
    """

    name: str

    def init(self, problem: Problem, x, e, g) -> Any: ...

    def step(self, problem: Problem, x, e, g, state, k) -> tuple: ...


def no_stall():
    """The ``stalled`` flag of a method that never stalls."""
    return jnp.asarray(False)
