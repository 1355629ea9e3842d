"""Solving: the one driver (minimize), its Result and statuses, stability verdicts, comparisons."""

from .compare import DEFAULT_COMPARE_METHODS, compare
from .driver import DEFAULT_RTOL, STATUSES, Result, minimize
from .stability import stability_verdict

__all__ = [
    "DEFAULT_COMPARE_METHODS",
    "DEFAULT_RTOL",
    "STATUSES",
    "compare",
    "minimize",
    "stability_verdict",
    "Result",
]
