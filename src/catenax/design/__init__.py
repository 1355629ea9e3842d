"""Inverse design: the values that make a structure's equilibrium match a target shape.

:func:`design` (:mod:`catenax.design.api`) fits design variables
(:mod:`catenax.design.variables`: rest lengths, stiffnesses or EA, prestress
or force densities, masses, loads; per spring/node or a subset) so that the
equilibrium of the network they make reaches a target
(:mod:`catenax.design.targets`), with optional terms for uniform tensions, a
lowest cable tension and regularisation; the loss and its L-BFGS loop, through
:func:`catenax.equilibrium`, are in :mod:`catenax.design.fit`, the
:class:`DesignResult` and the designed scenario in :mod:`catenax.design.result`.
"""

from .api import design, load_design_scenario
from .result import DESIGN_KEYS, DesignResult, designed_scenario, explicit_structure
from .targets import TARGET_SUFFIXES, Target, make_target, read_target
from .variables import VARIABLES, build_network, design_model, parse_subset, parse_vary

__all__ = [
    "DESIGN_KEYS",
    "TARGET_SUFFIXES",
    "VARIABLES",
    "DesignResult",
    "Target",
    "build_network",
    "design",
    "design_model",
    "designed_scenario",
    "explicit_structure",
    "load_design_scenario",
    "make_target",
    "parse_subset",
    "parse_vary",
    "read_target",
]
