"""The registry of method names: one table, and everything that reads it.

:data:`REGISTRY` maps each name to a :class:`MethodSpec` (its factory, whether
it takes a learning rate, its default learning rate, whether it takes a
schedule). :func:`resolve_method`, :func:`default_learning_rate`,
:func:`takes_learning_rate` and the name lists :data:`METHODS`,
:data:`BUILTIN_METHODS`, :data:`OPTAX_METHODS` and
:data:`DEFAULT_LEARNING_RATE` are all read from it.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import optax

from .base import Method
from .fire import FIRE
from .gd import GradientDescent
from .lbfgs import LBFGS
from .newton import Newton
from .optax_method import OptaxMethod
from .schedules import make_schedule, parse_schedule

__all__ = [
    "BUILTIN_METHODS",
    "DEFAULT_LEARNING_RATE",
    "DEFAULT_METHOD",
    "METHODS",
    "MethodSpec",
    "OPTAX_METHODS",
    "REGISTRY",
    "check_learning_rate",
    "default_learning_rate",
    "resolve_method",
    "takes_learning_rate",
]

#: The learning rate of a method whose entry gives none (``None``).
_OTHER_DEFAULT_LR = 0.1


class MethodSpec(NamedTuple):
    """One entry of :data:`REGISTRY`.

    Attributes:
        factory: ``factory(learning_rate)`` (or ``factory()`` when the method
            takes no learning rate) returns the method object; the learning
            rate may be a number or a schedule ``k -> rate``.
        takes_learning_rate: ``False`` for methods whose step comes from the
            Hessian or a line search (a learning rate given is checked, then ignored).
        default_learning_rate: the rate used when none is given; ``None``
            means the common default, 0.1.
        takes_schedule: whether a learning-rate schedule may be given.
    """

    factory: Callable[..., Method]
    takes_learning_rate: bool = True
    default_learning_rate: float | None = None
    takes_schedule: bool = True


def _optax_factory(name: str) -> Callable[[Any], Method]:
    def make(learning_rate):
        return OptaxMethod(getattr(optax, name)(learning_rate=learning_rate), name)

    return make


#: Built-in methods (not optax). ``lbfgs`` is ours (with a line search), not optax's.
_BUILTIN = {
    "newton": MethodSpec(Newton, takes_learning_rate=False, takes_schedule=False),
    "lbfgs": MethodSpec(LBFGS, takes_learning_rate=False, takes_schedule=False),
    # for fire the learning rate is the initial time step dt; it adapts its own step,
    # capped from the curvature it meets (see FIRE: a safe step on stiff problems)
    "fire": MethodSpec(FIRE, default_learning_rate=0.1, takes_schedule=False),
    "gd": MethodSpec(GradientDescent, default_learning_rate=0.2),  # the notebook's eta
}

#: optax optimizers that take ``learning_rate`` first (those this optax has).
_OPTAX_NAMES = (
    "adabelief", "adadelta", "adafactor", "adagrad", "adam", "adamax", "adamaxw",
    "adamw", "adan", "amsgrad", "fromage", "lamb", "lars", "lion", "nadam",
    "nadamw", "noisy_sgd", "novograd", "optimistic_adam", "optimistic_gradient_descent",
    "radam", "rmsprop", "rprop", "sgd", "sign_sgd", "signum", "sm3", "yogi",
)  # fmt: skip

#: Every method name -> its :class:`MethodSpec`: the built-in methods, then optax's.
REGISTRY: dict[str, MethodSpec] = {
    **_BUILTIN,
    **{
        name: MethodSpec(_optax_factory(name), default_learning_rate=0.2 if name == "sgd" else None)
        for name in _OPTAX_NAMES
        if hasattr(optax, name)
    },
}

#: The method used when none is named (library and CLI).
DEFAULT_METHOD = "newton"

#: Built-in methods (not optax). ``lbfgs`` is ours (with a line search), not optax's.
BUILTIN_METHODS = tuple(_BUILTIN)

#: optax optimizers available by name (each takes ``learning_rate`` first).
OPTAX_METHODS = tuple(name for name in REGISTRY if name not in _BUILTIN)

#: Every method name :func:`resolve_method` accepts.
METHODS = BUILTIN_METHODS + OPTAX_METHODS

#: The learning rates that differ from the common default 0.1 or are set on purpose:
#: the notebook's values; for ``fire`` it is the initial time step dt. ``newton`` and
#: ``lbfgs`` take no learning rate (their steps come from the Hessian or a line
#: search); one given is ignored.
DEFAULT_LEARNING_RATE = {
    name: spec.default_learning_rate
    for name, spec in REGISTRY.items()
    if spec.default_learning_rate is not None
}


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
    spec = REGISTRY.get(name)
    return spec is None or spec.takes_learning_rate


def check_learning_rate(lr, field: str = "learning_rate", example: str = "0.1") -> None:
    """Refuse a learning rate that is not a finite number > 0 (``None`` passes).

    Args:
        lr: the value to check.
        field: the name the message gives the value (``"--lr"`` in the CLI).
        example: a valid value for the message's "use e.g." hint.

    Raises:
        ValueError: ``"field: value is not a number; use e.g. example"`` (a
            bool or a string is not), ``"... is not a finite number ..."`` or
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
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise ValueError(f"{field}: {lr!r} is not a number; use e.g. {example}")
    if not math.isfinite(lr):
        raise ValueError(f"{field}: {lr!r} is not a finite number; use e.g. {example}")
    if lr <= 0:
        raise ValueError(f"{field}: {lr!r} must be > 0; use e.g. {example}")


def _method_object(method: Any) -> Method:
    """An optax transformation or a method object (anything but a name) as a method."""
    if isinstance(method, optax.GradientTransformation):
        return OptaxMethod(method, "optax")
    if hasattr(method, "init") and hasattr(method, "step"):
        return method
    raise TypeError(
        f"method: expected a method name, an optax GradientTransformation or a "
        f"method object with init/step, got {type(method).__name__}"
    )


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
    if not isinstance(method, str):
        return _method_object(method)
    if not takes_learning_rate(method):
        check_learning_rate(learning_rate)
        if schedule is not None:
            raise ValueError(
                f"schedule: {method} takes no learning rate, so no schedule (its step comes "
                "from the Hessian or a line search); drop the schedule"
            )
        return REGISTRY[method].factory()
    if method not in REGISTRY:
        raise ValueError(
            f"method: unknown method '{method}'; valid methods are: {', '.join(METHODS)}"
        )
    spec = REGISTRY[method]
    lr = default_learning_rate(method) if learning_rate is None else learning_rate
    check_learning_rate(lr)
    if not spec.takes_schedule:
        if schedule is not None:
            raise ValueError(f"schedule: {method} adapts its own time step; drop the schedule")
        return spec.factory(float(lr))
    if isinstance(schedule, str):
        schedule = parse_schedule(schedule)
    if isinstance(schedule, tuple):
        if len(schedule) != 2 or not isinstance(schedule[1], dict):
            raise TypeError("schedule: a tuple must be (name, {parameter: value}); use e.g. "
                            "('linear', {'end_value': 0.01})")  # fmt: skip
        name, params = schedule
        return _named(method, float(lr), name, tuple(sorted(params.items())), int(max_steps))
    if schedule is None or callable(schedule):
        return _build(method, schedule if schedule is not None else float(lr))
    raise TypeError(f"schedule: expected a name or a callable, got {type(schedule).__name__}")


@functools.lru_cache(maxsize=256)
def _named(method: str, lr: float, schedule: str | None, params: tuple, max_steps: int):
    # Cached so that the same spec gives the same (hashable) method object,
    # which lets the driver reuse its compiled loop.
    return _build(method, make_schedule(schedule, lr, max_steps, **dict(params)))


@functools.lru_cache(maxsize=256)
def _build(method: str, lr: Any) -> Method:
    return REGISTRY[method].factory(lr)
