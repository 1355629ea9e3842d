"""catenax: equilibrium shapes of spring-mass structures by energy minimisation in JAX."""

from .chain import (
    LESSON,
    chain_energy,
    chain_force_scale,
    chain_hessian_tridiagonal,
    pad_ends,
    validate_chain_params,
)
from .compare import compare
from .energy import (
    applied_forces,
    force_scale,
    hessian_blocks,
    hessian_coo,
    hessian_diagonal,
    hessian_matvec,
    network_energy,
    node_forces,
    reactions,
    spring_energy,
    spring_lengths,
    spring_tension,
    tensions,
)
from .network import (
    Network,
    chain2d,
    chain_network,
    cloth,
    free_mask,
    from_arrays,
    net,
    support_nodes,
    validate,
)
from .scenario import Scenario, load_scenario, parse_scenario, result_to_dict, solve_scenario
from .solve import DEFAULT_RTOL, STATUSES, Result, minimize
from .solvers import (
    FIRE,
    LBFGS,
    METHODS,
    SCHEDULES,
    GradientDescent,
    Newton,
    OptaxMethod,
    resolve_method,
)
from .stability import stability_verdict
from .sweep import SweepInterrupted, SweepResult, sweep

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_RTOL",
    "FIRE",
    "GradientDescent",
    "LBFGS",
    "LESSON",
    "METHODS",
    "Newton",
    "OptaxMethod",
    "Result",
    "SCHEDULES",
    "STATUSES",
    "chain_energy",
    "chain_force_scale",
    "chain_hessian_tridiagonal",
    "compare",
    "minimize",
    "pad_ends",
    "resolve_method",
    "stability_verdict",
    "validate_chain_params",
    # spring networks (issue 4)
    "Network",
    "Scenario",
    "applied_forces",
    "chain2d",
    "chain_network",
    "cloth",
    "force_scale",
    "free_mask",
    "from_arrays",
    "hessian_blocks",
    "hessian_coo",
    "hessian_diagonal",
    "hessian_matvec",
    "load_scenario",
    "net",
    "network_energy",
    "node_forces",
    "parse_scenario",
    "reactions",
    "result_to_dict",
    "solve_scenario",
    "spring_energy",
    "spring_lengths",
    "spring_tension",
    "support_nodes",
    "tensions",
    "validate",
    # sweeps (issue 5)
    "SweepInterrupted",
    "SweepResult",
    "sweep",
]
