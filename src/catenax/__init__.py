"""catenax: equilibrium shapes of spring-mass structures by energy minimisation in JAX."""

from .chain import (
    LESSON,
    chain_energy,
    chain_force_scale,
    chain_hessian_tridiagonal,
    pad_ends,
    validate_chain_params,
)
from .solve import DEFAULT_RTOL, STATUSES, Result, minimize
from .solvers import METHODS, SCHEDULES, GradientDescent, OptaxMethod, resolve_method

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_RTOL",
    "GradientDescent",
    "LESSON",
    "METHODS",
    "OptaxMethod",
    "Result",
    "SCHEDULES",
    "STATUSES",
    "chain_energy",
    "chain_force_scale",
    "chain_hessian_tridiagonal",
    "minimize",
    "pad_ends",
    "resolve_method",
    "validate_chain_params",
]
