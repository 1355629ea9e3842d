"""What a run returns: :class:`Result`, the statuses and their messages.

Statuses: ``converged`` (the stopping rule held at a point that is not a
saddle: a stable minimum, or a singular point whose lowest Hessian eigenvalue
is zero, which the verdict in ``extra`` says), ``saddle`` (it held, but the
lowest Hessian eigenvalue is negative: see :mod:`catenax.solve.stability`),
``max_steps``, ``diverged`` (non-finite energy
or positions), ``stalled`` (the method can make no further progress). Inside the
jitted loop a status is an int32 code, an index into :data:`STATUSES`; each
status's message says what to try next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "CONVERGED",
    "DEFAULT_RTOL",
    "DIVERGED",
    "MAX_STEPS",
    "RUNNING",
    "SADDLE",
    "STALLED",
    "STATUSES",
    "Result",
    "default_rtol",
    "status_message",
]

#: Status names, indexed by the integer codes the jitted loop uses.
STATUSES = ("running", "converged", "max_steps", "diverged", "stalled", "saddle")
RUNNING, CONVERGED, MAX_STEPS, DIVERGED, STALLED, SADDLE = range(6)

#: Default relative tolerance per dtype name.
DEFAULT_RTOL = {"float64": 1e-10, "float32": 1e-5, "float16": 1e-2, "bfloat16": 1e-2}


def default_rtol(dtype) -> float:
    """The default relative tolerance ``rtol`` of the stopping rule for a dtype.

    Args:
        dtype: a NumPy/JAX float dtype.

    Returns:
        :data:`DEFAULT_RTOL` for its name, 1e-6 for other dtypes.

    Example:
        >>> default_rtol(np.float64), default_rtol(np.float32)
        (1e-10, 1e-05)
    """
    return DEFAULT_RTOL.get(np.dtype(dtype).name, 1e-6)


@dataclass(frozen=True)
class Result:
    """What :func:`catenax.minimize` found, and how it got there.

    Attributes:
        positions: the final iterate (the last finite one if the run diverged).
        energy: E at ``positions``.
        grad_max: max |grad E| over free coordinates at ``positions``.
        steps: number of steps taken (for ``diverged``: the step that failed).
        status: one of ``converged``, ``max_steps``, ``diverged``, ``stalled``,
            ``saddle``.
        extra: further JSON-able fields merged into :meth:`to_dict`: the
            stability verdict (``min_eigenvalue``, ``max_eigenvalue``,
            ``stable``, ``verdict`` — ``minimum``, ``saddle`` or ``singular`` —,
            ``certified``, ``gd_step_max``) and, for multistart runs,
            ``multistart``, ``start_index`` and ``minima``.
        message: what happened, and what to try next.
        method: the method's name.
        threshold: the stopping threshold ``atol + rtol * F`` at ``positions``
            (``nan`` when no stopping test was asked for).
        force_scale: ``F`` at ``positions``.
        energy_history: E after each step, shape ``(steps + 1,)`` (index 0 is the start).
        grad_history: max |grad E| after each step, same shape.
        iterates: recorded iterates, shape ``(k, *positions.shape)``.
        iterate_steps: the step index of each recorded iterate.
    """

    positions: np.ndarray
    energy: float
    grad_max: float
    steps: int
    status: str
    message: str
    method: str
    threshold: float = math.nan
    force_scale: float = math.nan
    energy_history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    grad_history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    iterates: np.ndarray = field(default_factory=lambda: np.zeros(0))
    iterate_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    extra: dict = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        """True when the stopping rule was met at a point that is not a saddle.

        A singular point (``extra["verdict"] == "singular"``) is converged but
        not stable: check ``extra["stable"]`` for a stable minimum.
        """
        return self.status == "converged"

    def to_dict(self) -> dict:
        """The scalar fields and positions as plain Python values (for JSON).

        Example:
            >>> import catenax, jax.numpy as jnp
            >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(3), 5.0, 0.8, 0.1,
            ...                      method="gd", max_steps=5, tol=None)
            >>> d = r.to_dict()
            >>> d["status"], "min_eigenvalue" in d
            ('max_steps', True)
        """
        return {
            "method": self.method,
            "status": self.status,
            "converged": self.converged,
            "steps": int(self.steps),
            "energy": float(self.energy),
            "grad_max": float(self.grad_max),
            "positions": np.asarray(self.positions).tolist(),
            "message": self.message,
            **self.extra,
        }


def status_message(status, name, steps, gm, thr, max_steps) -> str:
    """What a run's status means, and what to try next.

    Args:
        status: the status name.
        name: the method's name.
        steps: the steps taken.
        gm: max|grad E| at the result.
        thr: the stopping threshold, or ``None`` without a stopping test.
        max_steps: the step budget.

    Returns:
        The message (``diverged``: without the step-size advice, see
        :func:`catenax.solve.diverged_advice`).

    Example:
        >>> status_message("converged", "newton", 5, 1e-12, 1e-10, 100)
        'converged in 5 steps: max|grad E| = 1e-12 <= tolerance 1e-10.'
    """
    if status == "converged":
        return f"converged in {steps} steps: max|grad E| = {gm:.3g} <= tolerance {thr:.3g}."
    if status == "max_steps":
        if thr is None:
            return f"ran the requested {steps} steps (no stopping test); max|grad E| = {gm:.3g}."
        return (
            f"not converged after {max_steps} steps: max|grad E| = {gm:.3g} > tolerance "
            f"{thr:.3g}. Raise max_steps, or use method 'newton', which converges in a "
            f"few steps."
        )
    if status == "stalled":
        if thr is None:
            return (
                f"stalled at step {steps}: {name} can make no further progress "
                f"(max|grad E| = {gm:.3g}; no stopping test was asked for)."
            )
        fix = "a looser tol or float64" if name == "newton" else "method 'newton' or a looser tol"
        return (
            f"stalled at step {steps}: {name} can make no further progress "
            f"(max|grad E| = {gm:.3g} > tolerance {thr:.3g}); try {fix}."
        )
    if status == "diverged":
        if steps == 0:
            return (
                "diverged: the energy or gradient is not finite at the start x0; "
                "check x0 and the parameters."
            )
        return (
            f"diverged at step {steps}: the energy or positions became non-finite "
            f"(the result holds step {steps - 1}, the last finite iterate)."
        )
    return f"{status} after {steps} steps."
