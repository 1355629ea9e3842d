"""The public contract of the layout change (issue 9): names, entry points and old import paths."""

import importlib
import subprocess
import sys

import pytest

import catenax

#: catenax.__all__ before the package was split into folders; it may only grow.
PUBLIC = [
    "DEFAULT_RTOL", "FIRE", "GradientDescent", "LBFGS", "LESSON", "METHODS", "Network",
    "Newton", "OptaxMethod", "Result", "SCHEDULES", "STATUSES", "Scenario",
    "SweepInterrupted", "SweepResult", "applied_forces", "chain2d", "chain_energy",
    "chain_force_scale", "chain_hessian_tridiagonal", "chain_network", "cloth", "compare",
    "force_scale", "free_mask", "from_arrays", "hessian_blocks", "hessian_coo",
    "hessian_diagonal", "hessian_matvec", "load_scenario", "minimize", "net",
    "network_energy", "node_forces", "pad_ends", "parse_scenario", "reactions",
    "resolve_method", "result_to_dict", "solve_scenario", "spring_energy", "spring_lengths",
    "spring_tension", "stability_verdict", "support_nodes", "sweep", "tensions", "validate",
    "validate_chain_params",
]  # fmt: skip
#: Names importable from catenax.solvers before the split.
SOLVERS = [
    "BUILTIN_METHODS", "DEFAULT_LEARNING_RATE", "DEFAULT_METHOD", "FIRE", "GradientDescent",
    "LBFGS", "METHODS", "Method", "Newton", "OPTAX_METHODS", "OptaxMethod", "Problem",
    "SCHEDULES", "default_learning_rate", "make_schedule", "parse_schedule", "resolve_method",
]  # fmt: skip
#: What catenax.sweepio offered (its __all__ and the SIGTERM helper).
OLD_SWEEPIO = [
    "Progress", "TableWriter", "count_rows", "deferred_interrupts", "format_rows",
    "meta_path", "npz_path", "shapes_path", "write_npz", "sigterm_as_interrupt",
]  # fmt: skip
SOLVER_MODULES = ["base", "fire", "gd", "lbfgs", "newton", "optax_method", "schedules",
                  "tridiagonal"]  # fmt: skip


def test_all_keeps_every_public_name():
    assert set(PUBLIC) <= set(catenax.__all__)
    for name in catenax.__all__:
        assert getattr(catenax, name) is not None, name


def test_the_function_sweep_is_not_shadowed_by_a_module():
    assert callable(catenax.sweep) and callable(catenax.compare)


#: Inverse design (issue 13).
DESIGN = ["DesignResult", "design"]


def test_design_names_are_public_and_the_function_design_is_not_shadowed():
    import catenax.design.fit  # noqa: F401 - importing a submodule must not rebind the name

    assert set(DESIGN) <= set(catenax.__all__)
    assert callable(catenax.design) and catenax.design.__module__ == "catenax.design.api"


def test_equilibrium_is_public():
    assert {"equilibrium", "EquilibriumWarning"} <= set(catenax.__all__)
    assert catenax.equilibrium is catenax.solve.equilibrium
    assert issubclass(catenax.EquilibriumWarning, UserWarning)


def test_solvers_keep_their_names_and_modules():
    import catenax.solvers as solvers

    for name in SOLVERS:
        assert hasattr(solvers, name), name
    for module in SOLVER_MODULES:
        importlib.import_module(f"catenax.solvers.{module}")
    from catenax.solvers.newton import backtrack

    assert backtrack is solvers.linesearch.backtrack


def test_errors_carry_the_field():
    from catenax.errors import FieldError

    with pytest.raises(FieldError) as e:
        catenax.chain2d(3, stiffness=-1.0)
    assert isinstance(e.value, ValueError) and e.value.field == "stiffness"


def test_old_paths_still_work_and_warn(tmp_path):
    import catenax.netplot
    import catenax.sweepio

    table = tmp_path / "t.csv"
    catenax.sweep(length="0.8,0.9", n="3", out=table)
    with pytest.warns(DeprecationWarning, match="catenax.io"):
        read = catenax.sweepio.read_table
    assert list(read(table)["length"]) == [0.8, 0.9]
    with pytest.warns(DeprecationWarning, match="catenax.plot"):
        assert catenax.netplot.plot_network is catenax.plot.plot_network
    for name in OLD_SWEEPIO:
        with pytest.warns(DeprecationWarning):
            assert callable(getattr(catenax.sweepio, name)), name
    with pytest.raises(AttributeError):
        catenax.sweepio.no_such_name  # noqa: B018


def test_python_m_catenax_and_the_entry_point_agree():
    from catenax.cli import main

    assert callable(main)
    proc = subprocess.run(
        [sys.executable, "-m", "catenax", "--version"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout.startswith("catenax ")


def test_import_catenax_loads_no_matplotlib():
    code = "import sys, catenax; print('matplotlib' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr
