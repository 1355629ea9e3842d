"""Files in and out: atomic writes, scenario files, result files, sweep tables."""

from .files import (
    RESULT_SUFFIXES,
    atomic_write,
    check_output_path,
    json_text,
    to_jsonable,
    write_result,
)
from .mesh_files import (
    MeshData,
    boundary_vertices,
    read_compas,
    read_mesh,
    read_obj,
    write_compas,
    write_obj,
)
from .network_files import NETWORK_SUFFIXES, write_network_result
from .results import RESULT_KEYS, result_to_dict
from .scenario import (
    BUILDERS,
    Scenario,
    ScenarioText,
    load_scenario,
    parse_scenario,
    solve_scenario,
)
from .scenario_text import decode_scenario, read_scenario_text
from .scenario_write import SCENARIO_SUFFIXES, scenario_toml, write_scenario
from .tables import (
    TABLE_SUFFIXES,
    TableWriter,
    check_rows,
    count_rows,
    csv_header,
    format_rows,
    meta_path,
    npz_path,
    read_table,
    shapes_path,
    write_npz,
)

__all__ = [
    "BUILDERS",
    "NETWORK_SUFFIXES",
    "RESULT_KEYS",
    "RESULT_SUFFIXES",
    "SCENARIO_SUFFIXES",
    "TABLE_SUFFIXES",
    "atomic_write",
    "boundary_vertices",
    "check_output_path",
    "check_rows",
    "count_rows",
    "csv_header",
    "decode_scenario",
    "format_rows",
    "json_text",
    "load_scenario",
    "meta_path",
    "npz_path",
    "parse_scenario",
    "read_compas",
    "read_mesh",
    "read_obj",
    "read_scenario_text",
    "read_table",
    "result_to_dict",
    "scenario_toml",
    "shapes_path",
    "solve_scenario",
    "to_jsonable",
    "write_compas",
    "write_network_result",
    "write_npz",
    "write_obj",
    "write_result",
    "write_scenario",
    "MeshData",
    "Scenario",
    "ScenarioText",
    "TableWriter",
]
