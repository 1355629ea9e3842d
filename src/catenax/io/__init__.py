"""Files in and out: atomic writes, scenario files, result files, sweep tables."""

from .files import RESULT_SUFFIXES, atomic_write, check_output_path, to_jsonable, write_result
from .network_files import NETWORK_SUFFIXES, write_network_result, write_obj
from .scenario import (
    BUILDERS,
    RESULT_KEYS,
    Scenario,
    ScenarioText,
    load_scenario,
    parse_scenario,
    result_to_dict,
    solve_scenario,
)
from .tables import read_table

__all__ = [
    "BUILDERS",
    "NETWORK_SUFFIXES",
    "RESULT_KEYS",
    "RESULT_SUFFIXES",
    "atomic_write",
    "check_output_path",
    "load_scenario",
    "parse_scenario",
    "read_table",
    "result_to_dict",
    "solve_scenario",
    "to_jsonable",
    "write_network_result",
    "write_obj",
    "write_result",
    "Scenario",
    "ScenarioText",
]
