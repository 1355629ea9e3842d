"""The command line refuses bad input up front (issue 11): duplicate options, sizes, huge integers.

Each test reproduces a failure of the issue's table: ``--n 5 --n 6`` silently
took 6; ``relax --n 1000000000`` tried to allocate ~240 GiB; huge integers
surfaced MLIR internals; ``compare --tol none`` was refused; the help did not
name the default method, networks, sweeps or every exit code.
"""

import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catenax.cli.common import EXIT_MEANINGS
from catenax.limits import memory_limit, set_memory_limit

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _default_memory_limit():
    """``--max-memory`` sets a process-wide limit: put the default back after each test."""
    old = set_memory_limit(None)
    yield
    set_memory_limit(old)


def _refused(res, option):
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert option in res.stderr
    for internal in ("Traceback", "mlir", "get():", "XlaRuntimeError"):
        assert internal not in res.output, res.output


# --- 1. an option given twice is an error -----------------------------------------------------


@pytest.mark.parametrize(
    "args, option",
    [
        (("relax", "--n", "5", "--n", "6"), "--n"),
        (("relax", "--n=5", "--n", "6"), "--n"),
        (("relax", "--json", "--json"), "--json"),
        (("relax", "--progress", "--quiet"), "--progress/--quiet"),
        (("compare", "--steps", "10", "--steps", "20"), "--steps"),
        (("lesson", "--dtype", "float32", "--dtype", "float64"), "--dtype"),
        (("sweep", "--length", "0.8", "--length", "1.2"), "--length"),
    ],
)
def test_an_option_given_twice_is_refused(invoke, args, option):
    res = invoke(*args)
    _refused(res, option)
    assert "given more than once" in res.stderr


def test_a_repeatable_option_may_repeat(invoke):
    # sweep's --vary takes one KEY=VALUES per use: repeating it is its normal use
    res = invoke("sweep", "--vary", "a=1", "--vary", "b=2")
    assert res.exit_code == 2 and "given more than once" not in res.stderr
    assert "--vary" in res.stderr  # refused for its own reason: no scenario file


# --- 2. memory: refused before allocating, --max-memory ---------------------------------------


def test_a_chain_too_large_for_memory_is_refused_before_allocating(invoke):
    res = invoke("relax", "--n", "1000000000")
    _refused(res, "--n")
    assert "would need" in res.stderr and "GiB" in res.stderr
    assert "--max-memory" in res.stderr  # how to raise the limit, in the CLI's words


def test_max_memory_sets_the_limit(invoke):
    res = invoke("relax", "--n", "100000", "--max-memory", "1M")
    _refused(res, "--n")
    assert "1.0 MiB" in res.stderr
    for command in ("compare", "lesson"):
        res = invoke(command, "--max-memory", "1K", "--n" if command == "compare" else "--dtype",
                     "100000" if command == "compare" else "float32")  # fmt: skip
        assert res.exit_code == 2 and "would need" in res.stderr, (command, res.output)


@pytest.mark.parametrize("value", ["lots", "0", "-1G", "1e999G", "nan"])
def test_a_bad_max_memory_is_refused(invoke, value):
    _refused(invoke("relax", "--max-memory", value), "--max-memory")


def test_a_long_step_budget_alone_costs_nothing(invoke):
    # Only the chain's arrays count; no history grows with the budget.
    res = invoke("relax", "--n", "5", "--steps", "2000000000", "--max-memory", "64M", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["status"] == "converged" and data["steps"] < 20
    assert "energy_history" not in data


def test_relax_keeps_no_history():
    from catenax.cli.relax import run_chain

    r, _ = run_chain(
        {"n": 3, "spring": 5.0, "length": 0.8, "mass_g": 0.1},
        {"method": "gd", "lr": None, "schedule": None, "steps": 3000, "dtype": "float64",
         "tol_given": True, "tol": None, "multistart": None, "seed": None},
        False,
    )  # fmt: skip
    assert r.steps == 3000 and r.energy_history.size == 0 and r.grad_history.size == 0


# --- 3. huge integers: a message, never MLIR internals -----------------------------------------

HUGE = 99999999999999999999


@pytest.mark.parametrize(
    "args, option",
    [
        (("relax", "--n", HUGE), "--n"),
        (("relax", "--multistart", HUGE), "--multistart"),
        (("relax", "--steps", HUGE), "--steps"),
        (("relax", "--steps", 4294967297, "--method", "gd", "--tol", "none"), "--steps"),
        (("relax", "--seed", HUGE, "--multistart", "2"), "--seed"),
        (("relax", "--seed", "-1", "--multistart", "2"), "--seed"),
        (("compare", "--n", HUGE), "--n"),
        (("compare", "--steps", HUGE), "--steps"),
    ],
)
def test_huge_integers_are_refused_by_name(invoke, args, option):
    _refused(invoke(*args), option)


#: Smallest values out of range: the step budget and the seed by their integer types,
#: the chain and the number of starts by the memory they would need (2**40 masses or
#: starts need petabytes).
TOO_LARGE = {"--n": 2**40, "--steps": 2**31 - 1, "--multistart": 2**40, "--seed": 2**32}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), option=st.sampled_from(sorted(TOO_LARGE)))
def test_out_of_range_integers_never_reach_jax(invoke, data, option):
    value = data.draw(
        st.one_of(st.integers(min_value=TOO_LARGE[option], max_value=10**40),
                  st.integers(min_value=-(10**40), max_value=-1)),
        label="value",
    )  # fmt: skip
    extra = ("--multistart", "2") if option == "--seed" else ()
    res = invoke("relax", option, str(value), *extra)
    _refused(res, option)


# --- 6. compare --tol none, the help texts, the licence --------------------------------------


def test_compare_tol_none_runs_every_step(invoke):
    res = invoke("compare", "--methods", "gd,adam", "--n", "3", "--steps", "30", "--tol", "none",
                 "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["problem"]["tol"] is None
    assert [r["steps"] for r in out["rows"]] == [30, 30]
    assert all(r["status"] == "max_steps" for r in out["rows"])
    _refused(invoke("compare", "--tol", "abc"), "--tol")


def test_the_help_names_networks_sweeps_and_the_default_method(invoke):
    top = invoke("--help").stdout
    assert "network" in top and "sweep" in top
    relax = invoke("relax", "--help").stdout
    assert "[default: newton]" in relax
    assert "--max-memory" in relax and "--progress" in relax


@pytest.mark.parametrize(
    "command, codes",
    [("relax", (0, 1, 2, 3, 130)), ("lesson", (0, 2, 3, 130)), ("compare", (0, 2, 3, 130)),
     ("sweep", (0, 2, 3, 130))],
)  # fmt: skip
def test_every_command_lists_its_exit_codes(invoke, command, codes):
    text = " ".join(invoke(command, "--help").stdout.split())
    assert "Exit codes:" in text
    for code in codes:
        assert f"{code} {' '.join(EXIT_MEANINGS[code].split())}" in text, (command, code)


def test_licence_and_python_version():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "MIT"}
    assert project["requires-python"] == ">=3.11"


def test_memory_limit_is_back_to_default():
    # the fixture above undoes --max-memory of in-process runs
    assert memory_limit() > 2**20
