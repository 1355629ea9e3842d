"""Solving: the one driver (minimize), its Result and statuses, stability verdicts, comparisons.

Besides the public API (re-exported by :mod:`catenax`), this package exports the
pieces that sweeps reuse so that each rule has one definition: the driver's loop
(:func:`make_run`, :func:`make_problem`) and its per-case rules
(:func:`grad_max`, :func:`all_finite`, :func:`stop_test`, :func:`start_status`,
:func:`step_status`), the status codes, the setting checks, the stability rule
(:func:`is_stable`, :func:`verdict_status`) and its eigenvalue routes, and the
multistart pick (:func:`cluster_starts`, :func:`best_start`).
"""

from .advice import diverged_advice, largest_eigenvalue
from .checks import (
    MAX_SEED,
    MAX_STEPS_LIMIT,
    check_flag,
    check_int,
    check_max_steps,
    check_problem,
    check_run_memory,
    check_seed,
    check_tolerances,
    run_bytes,
)
from .compare import DEFAULT_COMPARE_METHODS, compare
from .driver import minimize
from .equilibrium import equilibrium, equilibrium_message
from .loop import (
    all_finite,
    force_scale_fn,
    grad_max,
    make_problem,
    make_run,
    start_status,
    step_status,
    stop_test,
)
from .multistart import (
    best_start,
    cluster_starts,
    default_perturbation,
    perturbation_scale,
    pick,
    pick_batch,
)
from .result import (
    CONVERGED,
    DEFAULT_RTOL,
    DIVERGED,
    MAX_STEPS,
    RUNNING,
    SADDLE,
    STALLED,
    STATUSES,
    Result,
    budget_advice,
    default_rtol,
    stall_advice,
    status_message,
)
from .segments import report_progress
from .stability import (
    VERDICTS,
    attach_verdict,
    eigen_resolution,
    eigen_threshold,
    is_saddle,
    is_stable,
    lanczos_coefficients,
    ritz_extremes,
    stability_verdict,
    tridiagonal_extremes,
    verdict_name,
    verdict_status,
)

__all__ = [
    "CONVERGED",
    "DEFAULT_COMPARE_METHODS",
    "DEFAULT_RTOL",
    "DIVERGED",
    "MAX_SEED",
    "MAX_STEPS_LIMIT",
    "MAX_STEPS",
    "RUNNING",
    "SADDLE",
    "STALLED",
    "STATUSES",
    "VERDICTS",
    "all_finite",
    "attach_verdict",
    "best_start",
    "budget_advice",
    "check_flag",
    "check_int",
    "check_max_steps",
    "check_problem",
    "check_run_memory",
    "check_seed",
    "check_tolerances",
    "cluster_starts",
    "compare",
    "default_perturbation",
    "default_rtol",
    "diverged_advice",
    "equilibrium",
    "equilibrium_message",
    "largest_eigenvalue",
    "eigen_resolution",
    "eigen_threshold",
    "force_scale_fn",
    "grad_max",
    "is_saddle",
    "is_stable",
    "lanczos_coefficients",
    "make_problem",
    "make_run",
    "minimize",
    "perturbation_scale",
    "pick",
    "pick_batch",
    "report_progress",
    "ritz_extremes",
    "run_bytes",
    "stability_verdict",
    "stall_advice",
    "start_status",
    "status_message",
    "step_status",
    "stop_test",
    "tridiagonal_extremes",
    "verdict_name",
    "verdict_status",
    "Result",
]
