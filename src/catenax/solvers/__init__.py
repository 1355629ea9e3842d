"""Minimisation methods, one file each, and the registry of their names.

A method is any object following :class:`catenax.solvers.base.Method`; names
map to built-in methods, and every optax optimizer that takes a learning rate
is available by its optax name (the table is :data:`REGISTRY`, in
:mod:`catenax.solvers.registry`).
"""

from .base import Method, Problem
from .block_newton import DENSE_COORDINATES
from .fire import FIRE
from .gd import GradientDescent
from .lbfgs import LBFGS
from .newton import Newton
from .optax_method import OptaxMethod
from .registry import (
    BUILTIN_METHODS,
    DEFAULT_LEARNING_RATE,
    DEFAULT_METHOD,
    METHODS,
    OPTAX_METHODS,
    REGISTRY,
    MethodSpec,
    check_learning_rate,
    default_learning_rate,
    resolve_method,
    takes_learning_rate,
)
from .schedules import SCHEDULES, make_schedule, parse_schedule

__all__ = [
    "DENSE_COORDINATES",
    "BUILTIN_METHODS",
    "DEFAULT_METHOD",
    "DEFAULT_LEARNING_RATE",
    "FIRE",
    "GradientDescent",
    "LBFGS",
    "METHODS",
    "Method",
    "MethodSpec",
    "Newton",
    "OPTAX_METHODS",
    "OptaxMethod",
    "Problem",
    "REGISTRY",
    "SCHEDULES",
    "check_learning_rate",
    "default_learning_rate",
    "make_schedule",
    "parse_schedule",
    "resolve_method",
    "takes_learning_rate",
]
