"""Learning-rate schedules by name (thin wrappers over optax's schedules)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import optax

__all__ = ["SCHEDULES", "check_schedule", "make_schedule", "parse_schedule"]

#: Schedule names and the optax parameters each takes (besides the peak rate).
SCHEDULES = {
    "constant": (),
    "exponential_decay": ("transition_steps", "decay_rate", "transition_begin", "end_value"),
    "cosine_decay": ("decay_steps", "alpha", "exponent"),
    "warmup_cosine_decay": ("warmup_steps", "decay_steps", "init_value", "end_value"),
    "linear": ("end_value", "transition_steps"),
}


def parse_schedule(text: str) -> tuple[str, dict[str, float]]:
    """Parse ``"name"`` or ``"name:key=value,key=value"`` into a name and parameters.

    Args:
        text: the schedule as written on the command line.

    Returns:
        ``(name, params)`` with float (or int-valued) parameters.

    Raises:
        ValueError: unknown name, unknown parameter or a value that is not a
            finite number.

    Example:
        >>> parse_schedule("cosine_decay:alpha=0.1")
        ('cosine_decay', {'alpha': 0.1})
    """
    name, _, rest = text.partition(":")
    name = name.strip()
    _check_name(name)
    params: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq:
            raise ValueError(
                f"schedule: '{item}' is not key=value; write e.g. "
                f"'{name}:{(SCHEDULES[name] or ('key',))[0]}=...'"
            )
        try:
            params[key] = float(value)
        except ValueError:
            raise ValueError(f"schedule: {key}={value.strip()!r} is not a number") from None
        if not math.isfinite(params[key]):
            raise ValueError(f"schedule: {key}={value.strip()} is not a finite number")
    return name, params


def _check_name(name: str) -> None:
    if name not in SCHEDULES:
        raise ValueError(
            f"schedule: unknown schedule '{name}'; valid schedules are: " + ", ".join(SCHEDULES)
        )


#: Parameters that count steps (whole numbers >= 0; ``*`` marks those that must be >= 1).
_STEP_KEYS = {"transition_steps": 1, "decay_steps": 1, "transition_begin": 0, "warmup_steps": 0}
#: Steps are counted in int32.
_MAX_STEP_COUNT = 2**31 - 2


def check_schedule(name: str, params: dict, max_steps: int) -> None:
    """Refuse schedule parameters that make the rate NaN, negative, or zero too early.

    Every value must be a finite number (no bools, no strings); step counts
    whole numbers (``transition_steps``, ``decay_steps`` >= 1); rates (``end_value``,
    ``init_value``) >= 0; ``decay_rate`` > 0; ``alpha`` in [0, 1];
    ``exponent`` > 0. A schedule that reaches a rate of 0 before the last of
    ``max_steps`` steps (``linear`` or a cosine decay ending at 0 after fewer
    steps) would stop the run for the rest of the budget: refused too.

    Args:
        name: the schedule's name.
        params: its parameters.
        max_steps: the run's step budget.

    Raises:
        ValueError: ``"schedule: <name> key=value ..."`` saying what to use.

    Example:
        >>> check_schedule("linear", {"end_value": 0.01}, 100)
        >>> check_schedule("linear", {"end_value": -1.0}, 100)
        Traceback (most recent call last):
        ...
        ValueError: schedule: linear end_value=-1.0 would drive the rate below 0; use end_value >= 0
    """

    def fail(key, why):
        raise ValueError(f"schedule: {name} {key}={params[key]!r} {why}")

    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            fail(key, "is not a number")
        if not math.isfinite(value):
            fail(key, "is not a finite number")
        if key in _STEP_KEYS and (value != int(value) or not
                                  _STEP_KEYS[key] <= value <= _MAX_STEP_COUNT):  # fmt: skip
            fail(key, f"must be a whole number of steps from {_STEP_KEYS[key]} to "
                      f"{_MAX_STEP_COUNT}")  # fmt: skip
    for key in ("end_value", "init_value"):
        if params.get(key, 0.0) < 0:
            fail(key, f"would drive the rate below 0; use {key} >= 0")
    if params.get("decay_rate", 1.0) <= 0:
        fail("decay_rate", "must be > 0 (the factor the rate is multiplied by); use e.g. 0.5")
    if not 0 <= params.get("alpha", 0.0) <= 1:
        fail("alpha", "must be from 0 to 1 (the final fraction of the rate); use e.g. 0.1")
    if params.get("exponent", 1.0) <= 0:
        fail("exponent", "must be > 0; use e.g. 1.0")
    last = {"linear": ("transition_steps", "end_value"), "cosine_decay": ("decay_steps", "alpha"),
            "warmup_cosine_decay": ("decay_steps", "end_value")}.get(name)  # fmt: skip
    if last and params.get(last[1], 0.0) == 0 and params.get(last[0], max_steps) < max_steps - 1:
        fail(last[0], f"reaches a rate of 0 after {int(params[last[0]])} of the {max_steps} "
                      f"steps and stops the run there; use {last[0]} >= {max_steps} or "
                      f"{last[1]} > 0")  # fmt: skip


def make_schedule(name: str, learning_rate: float, max_steps: int, **params: Any):
    """Build an optax schedule whose peak value is ``learning_rate``.

    Defaults fill in what a schedule needs from the step budget: decays run over
    ``max_steps``; exponential decay halves the rate every ``max_steps / 10``
    steps; warm-up takes the first 10 % of the budget.

    Args:
        name: one of :data:`SCHEDULES`.
        learning_rate: the initial (or peak) step size.
        max_steps: the step budget of the run.
        **params: optax parameters of that schedule, overriding the defaults.

    Returns:
        A function ``k -> learning rate``.

    Raises:
        ValueError: unknown name or parameter, or a value that would make the
            rate NaN, negative, or zero for the rest of the run (see
            :func:`check_schedule`).

    Example:
        >>> s = make_schedule("cosine_decay", 0.1, 100)
        >>> round(float(s(100)), 6)
        0.0
    """
    _check_name(name)
    unknown = set(params) - set(SCHEDULES[name])
    if unknown:
        allowed = ", ".join(SCHEDULES[name]) or "none"
        raise ValueError(
            f"schedule: {name} takes no parameter {', '.join(sorted(unknown))}; "
            f"its parameters are: {allowed}"
        )
    steps = max(int(max_steps), 1)
    check_schedule(name, params, steps)

    def as_int(key, default):
        return int(params.get(key, default))

    if name == "constant":
        return optax.constant_schedule(learning_rate)
    if name == "exponential_decay":
        return optax.exponential_decay(
            learning_rate,
            transition_steps=as_int("transition_steps", max(steps // 10, 1)),
            decay_rate=params.get("decay_rate", 0.5),
            transition_begin=as_int("transition_begin", 0),
            end_value=params.get("end_value"),
        )
    if name == "cosine_decay":
        return optax.cosine_decay_schedule(
            learning_rate,
            decay_steps=as_int("decay_steps", steps),
            alpha=params.get("alpha", 0.0),
            exponent=params.get("exponent", 1.0),
        )
    if name == "warmup_cosine_decay":
        warmup = as_int("warmup_steps", max(math.ceil(steps / 10), 1))
        return optax.warmup_cosine_decay_schedule(
            init_value=params.get("init_value", 0.0),
            peak_value=learning_rate,
            warmup_steps=warmup,
            decay_steps=as_int("decay_steps", max(steps, warmup + 1)),
            end_value=params.get("end_value", 0.0),
        )
    # linear
    return optax.linear_schedule(
        learning_rate,
        end_value=params.get("end_value", 0.0),
        transition_steps=as_int("transition_steps", steps),
    )
