"""Minimisation methods, one file each, and the registry of their names.

A method is any object following :class:`catenax.solvers.base.Method`; names
map to built-in methods, and every optax optimizer that takes a learning rate
is available by its optax name.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import optax

from .base import Method, Problem
from .fire import FIRE
from .gd import GradientDescent
from .lbfgs import LBFGS
from .newton import Newton
from .optax_method import OptaxMethod
from .schedules import SCHEDULES, make_schedule, parse_schedule

__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_LEARNING_RATE",
    "FIRE",
    "GradientDescent",
    "LBFGS",
    "METHODS",
    "Method",
    "Newton",
    "OptaxMethod",
    "Problem",
    "SCHEDULES",
    "check_learning_rate",
    "default_learning_rate",
    "make_schedule",
    "parse_schedule",
    "resolve_method",
    "takes_learning_rate",
]

#: optax optimizers available by name (each takes ``learning_rate`` first).
OPTAX_METHODS = tuple(
    n
    for n in (
        "adabelief", "adadelta", "adafactor", "adagrad", "adam", "adamax", "adamaxw",
        "adamw", "adan", "amsgrad", "fromage", "lamb", "lars", "lion", "nadam",
        "nadamw", "noisy_sgd", "novograd", "optimistic_adam", "optimistic_gradient_descent",
        "radam", "rmsprop", "rprop", "sgd", "sign_sgd", "signum", "sm3", "yogi",
    )
    if hasattr(optax, n)
)  # fmt: skip

#: The method used when none is named (library and CLI).
DEFAULT_METHOD = "newton"

#: Built-in methods (not optax). ``lbfgs`` is ours (with a line search), not optax's.
BUILTIN_METHODS = ("newton", "lbfgs", "fire", "gd")

#: Every method name :func:`resolve_method` accepts.
METHODS = BUILTIN_METHODS + OPTAX_METHODS

#: The learning rate used when none is given: the notebook's values; for ``fire``
#: it is the initial time step dt. ``newton`` and ``lbfgs`` take no learning rate
#: (their steps come from the Hessian or a line search); one given is ignored.
DEFAULT_LEARNING_RATE = {"gd": 0.2, "sgd": 0.2, "fire": 0.1}
_OTHER_DEFAULT_LR = 0.1


def default_learning_rate(name: str) -> float:
    """The default step size of a named method (0.2 for gd/sgd, 0.1 otherwise).

    Args:
        name: a method name.

    Returns:
        The default learning rate (the initial time step for ``fire``).

    Example:
        >>> default_learning_rate("gd")
        0.2
    """
    return DEFAULT_LEARNING_RATE.get(name, _OTHER_DEFAULT_LR)


def resolve_method(
    method: Any = "gd",
    learning_rate: float | None = None,
    schedule: Any = None,
    max_steps: int = 1000,
) -> Method:
    """Turn a method name, optax transformation or method object into a method.

    Args:
        method: a name from :data:`METHODS`, an ``optax.GradientTransformation``
            or an object with ``init``/``step`` (returned unchanged).
        learning_rate: step size for named methods (default: 0.2 for ``gd`` and
            ``sgd`` as in the notebook, 0.1 otherwise). Must be finite and > 0.
        schedule: ``None``, a schedule name from :data:`SCHEDULES` (optionally
            ``"name:key=value,..."``), a ``(name, params)`` pair, or a callable
            ``k -> learning rate``.
        max_steps: the step budget, used to size schedules.

    Returns:
        A method object for :func:`catenax.minimize`.

    Raises:
        ValueError: unknown method or schedule, or a bad learning rate.
        TypeError: ``method`` is none of the accepted kinds.

    Example:
        >>> resolve_method("adam", 0.1).name
        'adam'
    """
    if isinstance(method, optax.GradientTransformation):
        return OptaxMethod(method, "optax")
    if not isinstance(method, str):
        if hasattr(method, "init") and hasattr(method, "step"):
            return method
        raise TypeError(
            f"method: expected a method name, an optax GradientTransformation or a "
            f"method object with init/step, got {type(method).__name__}"
        )
    if not takes_learning_rate(method):
        check_learning_rate(learning_rate)
        return Newton() if method == "newton" else LBFGS()
    if method not in METHODS:
        raise ValueError(
            f"method: unknown method '{method}'; valid methods are: {', '.join(METHODS)}"
        )
    lr = default_learning_rate(method) if learning_rate is None else learning_rate
    check_learning_rate(lr)
    if method == "fire":
        if schedule is not None:
            raise ValueError("schedule: fire adapts its own time step; drop the schedule")
        return FIRE(float(lr))
    if isinstance(schedule, str):
        schedule = parse_schedule(schedule)
    if isinstance(schedule, tuple):
        name, params = schedule
        return _named(method, float(lr), name, tuple(sorted(params.items())), int(max_steps))
    if schedule is None or callable(schedule):
        return _build(method, schedule if schedule is not None else float(lr))
    raise TypeError(f"schedule: expected a name or a callable, got {type(schedule).__name__}")


def takes_learning_rate(name: str) -> bool:
    """Whether a named method uses a learning rate (newton and lbfgs do not).

    Args:
        name: a method name.

    Returns:
        ``False`` for methods whose step comes from the Hessian or a line search.

    Example:
        >>> takes_learning_rate("adam"), takes_learning_rate("newton")
        (True, False)
    """
    return name not in ("newton", "lbfgs")


def check_learning_rate(lr, field: str = "learning_rate", example: str = "0.1") -> None:
    """Refuse a learning rate that is not a finite number > 0 (``None`` passes).

    Args:
        lr: the value to check.
        field: the name the message gives the value (``"--lr"`` in the CLI).
        example: a valid value for the message's "use e.g." hint.

    Raises:
        ValueError: ``"field: value is not a finite number; use e.g. example"`` or
            ``"field: value must be > 0; ..."``.

    Example:
        >>> check_learning_rate(0.1)
        >>> check_learning_rate(-1.0)
        Traceback (most recent call last):
        ...
        ValueError: learning_rate: -1.0 must be > 0; use e.g. 0.1
    """
    if lr is None:
        return
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr):
        raise ValueError(f"{field}: {lr!r} is not a finite number; use e.g. {example}")
    if lr <= 0:
        raise ValueError(f"{field}: {lr!r} must be > 0; use e.g. {example}")


@functools.lru_cache(maxsize=256)
def _named(method: str, lr: float, schedule: str | None, params: tuple, max_steps: int):
    # Cached so that the same spec gives the same (hashable) method object,
    # which lets the driver reuse its compiled loop.
    return _build(method, make_schedule(schedule, lr, max_steps, **dict(params)))


@functools.lru_cache(maxsize=256)
def _build(method: str, lr: Any) -> Method:
    if method == "gd":
        return GradientDescent(lr)
    return OptaxMethod(getattr(optax, method)(learning_rate=lr), method)
