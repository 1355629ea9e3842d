"""Typed errors: what failed travels with the error, so every layer can say it its own way.

* :class:`FieldError` — a bad value of one named input field (a library
  argument, a network field, a scenario key). ``.field`` names it; the CLI maps
  it to its option (``spring`` -> ``--spring``) and exits with code 2.
* :class:`ResourceLimit` — a :class:`FieldError` for a request that would need
  more memory than the limit (:mod:`catenax.limits`); exit code 2 as well.
* :class:`InvalidInput` — a bad command-line value; its message already names
  the option.
* :class:`SweepInterrupted` — Ctrl-C or SIGTERM stopped a sweep; the finished
  chunks are on disk and ``--resume`` continues.
* :class:`EquilibriumWarning` — :func:`catenax.equilibrium` could not
  differentiate: the point is not a converged, stable minimum (its gradient is NaN).

Example:
    >>> from catenax.errors import FieldError
    >>> e = FieldError("stiffness", "-1.0 must be >= 0")
    >>> isinstance(e, ValueError), e.field, str(e)
    (True, 'stiffness', 'stiffness: -1.0 must be >= 0')
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["EquilibriumWarning", "FieldError", "InvalidInput", "ResourceLimit", "SweepInterrupted"]


class FieldError(ValueError):
    """A :class:`ValueError` about one input field (``.field`` names it).

    Args:
        field: the field's name as the caller spelled it (e.g. ``"rest_length"``).
        message: what is wrong and how to fix it.

    Attributes:
        field: the field's name.
        detail: the message without the field's name.
    """

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class ResourceLimit(FieldError):
    """A request that would need more memory than :func:`catenax.limits.memory_limit`.

    Args:
        field: the input that decides the size.
        message: how much it would need, the limit and the fix.
        needed: the estimated bytes.
        limit: the limit in bytes.

    Attributes:
        needed: the estimated bytes.
        limit: the limit in bytes.
    """

    def __init__(self, field: str, message: str, needed: float = 0.0, limit: int = 0):
        super().__init__(field, message)
        self.needed, self.limit = needed, limit


class EquilibriumWarning(UserWarning):
    """:func:`catenax.equilibrium` met a point that is not a converged, stable minimum.

    The forward solve did not converge, or the Hessian at the solution is not
    positive definite (a saddle, a maximum, a singular system), or its linear
    solve failed: the returned positions are not a stable equilibrium and the
    derivatives through it are NaN. The message says which.
    """


class InvalidInput(ValueError):
    """A bad command-line value; the message names the option."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped a sweep; the finished chunks are on disk.

    Attributes:
        done: cases written (including rows from before a resume).
        total: cases in the sweep.
        path: the table file (``None`` for an in-memory sweep).
    """

    def __init__(self, done: int, total: int, path: Path | None):
        super().__init__(f"interrupted after {done} of {total} cases")
        self.done, self.total, self.path = done, total, path
