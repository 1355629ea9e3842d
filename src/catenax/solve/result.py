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

from catenax.solvers import REGISTRY, takes_learning_rate

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
    "budget_advice",
    "default_rtol",
    "stall_advice",
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
            ``certified``, ``gd_step_max``; each also a property of the
            result, ``None`` without a verdict) and, for multistart runs,
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

        A singular point (:attr:`verdict` ``"singular"``) is converged but not
        stable: check :attr:`stable` for a stable minimum.
        """
        return self.status == "converged"

    @property
    def min_eigenvalue(self) -> float | None:
        """The lowest Hessian eigenvalue at :attr:`positions` (free coordinates).

        ``None`` when no stability verdict was computed (``stability=False``,
        or a diverged run). Also in ``extra["min_eigenvalue"]``.

        Example:
            >>> import catenax, jax.numpy as jnp
            >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1)
            >>> round(r.min_eigenvalue, 6), r.stable, r.verdict, r.certified
            (0.046278, True, 'minimum', True)
            >>> round(r.max_eigenvalue, 3), round(r.gd_step_max, 4)
            (8.379, 0.2387)
        """
        return self.extra.get("min_eigenvalue")

    @property
    def max_eigenvalue(self) -> float | None:
        """The highest Hessian eigenvalue at :attr:`positions` (``None`` without a verdict)."""
        return self.extra.get("max_eigenvalue")

    @property
    def stable(self) -> bool | None:
        """True at a strict local minimum (lowest eigenvalue above the threshold).

        ``None`` when no stability verdict was computed.
        """
        return self.extra.get("stable")

    @property
    def verdict(self) -> str | None:
        """``"minimum"``, ``"saddle"`` or ``"singular"`` (``None`` without a verdict)."""
        return self.extra.get("verdict")

    @property
    def certified(self) -> bool | None:
        """Whether :attr:`min_eigenvalue` is proven (an exact route), not estimated."""
        return self.extra.get("certified")

    @property
    def gd_step_max(self) -> float | None:
        """``2 / max_eigenvalue``: the largest stable gradient-descent step near the result.

        ``None`` without a verdict or when ``max_eigenvalue <= 0``.
        """
        return self.extra.get("gd_step_max")

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


def status_message(status, name, steps, gm, thr, max_steps, dtype=None) -> str:
    """What a run's status means, and what to try next with this method.

    The advice speaks of the method's own knobs (:func:`budget_advice`,
    :func:`stall_advice`) and names arguments in backquotes (```max_steps```,
    ```method='newton'```) so that the CLI can name its options instead.

    Args:
        status: the status name.
        name: the method's name.
        steps: the steps taken.
        gm: max|grad E| at the result.
        thr: the stopping threshold, or ``None`` without a stopping test.
        max_steps: the step budget.
        dtype: the run's float dtype (``None``: unknown; float64 is then
            not suggested).

    Returns:
        The message (``diverged``: without the step-size advice, see
        :func:`catenax.solve.diverged_advice`).

    Example:
        >>> status_message("converged", "newton", 5, 1e-12, 1e-10, 100)
        'converged in 5 steps: max|grad E| = 1e-12 <= tolerance 1e-10.'
        >>> msg = status_message("max_steps", "adam", 100, 1e-3, 1e-10, 100)
        >>> msg.split(". ")[-1].split(", ")
        ['Raise `max_steps`', 'try another `learning_rate` or a `schedule`',
         "or use `method='newton'` (a few steps)."]
    """
    if status == "converged":
        return f"converged in {steps} steps: max|grad E| = {gm:.3g} <= tolerance {thr:.3g}."
    if status == "max_steps":
        if thr is None:
            return f"ran the requested {steps} steps (no stopping test); max|grad E| = {gm:.3g}."
        return (
            f"not converged after {max_steps} steps: max|grad E| = {gm:.3g} > tolerance "
            f"{thr:.3g}. {budget_advice(name, dtype)}"
        )
    if status == "stalled":
        if thr is None:
            return (
                f"stalled at step {steps}: {name} can make no further progress "
                f"(max|grad E| = {gm:.3g}; no stopping test was asked for)."
            )
        return (
            f"stalled at step {steps}: {name} can make no further progress "
            f"(max|grad E| = {gm:.3g} > tolerance {thr:.3g}); {stall_advice(name, dtype)}"
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


def _wider(dtype) -> str:
    """``" or float64"`` when the run is in a narrower float, else nothing."""
    if dtype is None or np.dtype(dtype).itemsize >= 8:
        return ""
    return f", or run in float64 ({np.dtype(dtype).name} resolves less)"


def budget_advice(name, dtype=None) -> str:
    """What to try when ``name`` ran out of steps: its own knobs first.

    Args:
        name: the method's name.
        dtype: the run's float dtype, if known.

    Returns:
        A sentence.

    Example:
        >>> budget_advice("newton", "float64")[:60]
        'Raise `max_steps`: newton usually needs only a few steps, so'
    """
    newton = "or use `method='newton'` (a few steps)"
    if name == "newton":
        return (
            "Raise `max_steps`: newton usually needs only a few steps, so a long run "
            "means a start far from the equilibrium or a nearly singular structure; "
            f"start nearer the equilibrium, or loosen `tol`{_wider(dtype)}."
        )
    if name == "lbfgs":
        return (
            f"Raise `max_steps`, give lbfgs a longer memory (`method=LBFGS(history=20)`), {newton}."
        )
    if name == "fire":
        return (
            "Raise `max_steps`, let FIRE take longer steps (a larger first step "
            f"`learning_rate`, or `method=FIRE(dt_max=...)`), {newton}."
        )
    if name in REGISTRY and takes_learning_rate(name):
        return f"Raise `max_steps`, try another `learning_rate` or a `schedule`, {newton}."
    return f"Raise `max_steps`, {newton}."


def stall_advice(name, dtype=None) -> str:
    """What to try when ``name`` stalled above the tolerance.

    Args:
        name: the method's name.
        dtype: the run's float dtype, if known (float64 is suggested only in
            a narrower float).

    Returns:
        A clause (ends with a full stop).

    Example:
        >>> stall_advice("newton", "float64")
        'the gradient is at its round-off floor: try a looser `tol`.'
        >>> stall_advice("lbfgs", "float32")
        "try `method='newton'` or a looser `tol`, or run in float64 (float32 resolves less)."
    """
    if name == "newton":
        return f"the gradient is at its round-off floor: try a looser `tol`{_wider(dtype)}."
    return f"try `method='newton'` or a looser `tol`{_wider(dtype)}."
