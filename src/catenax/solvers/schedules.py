"""Learning-rate schedules by name (thin wrappers over optax's schedules)."""

from __future__ import annotations

import math
from typing import Any

import optax

__all__ = ["SCHEDULES", "make_schedule", "parse_schedule"]

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
        ValueError: unknown name, unknown parameter or a value that is not a number.

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
            raise ValueError(f"schedule: {key}={value!r} is not a number") from None
    return name, params


def _check_name(name: str) -> None:
    if name not in SCHEDULES:
        raise ValueError(
            f"schedule: unknown schedule '{name}'; valid schedules are: " + ", ".join(SCHEDULES)
        )


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
        ValueError: unknown name or parameter.

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
