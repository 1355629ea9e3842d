"""The command line through its real entry point: JSON equals the library, exit codes, files.

Subprocess runs (``python -m catenax``) cover the paths a user or script takes;
the many bad-input cases run in-process through typer's CliRunner, which calls
the same typer app. Subprocesses cost ~1-2 s each, so there are few of them.
"""

import inspect
import json
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run_cli
from _data import lesson_reference

import catenax
import catenax.solvers
from catenax.cli import common, compare, report

REFERENCE = lesson_reference()
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GIF_MAGIC = (b"GIF87a", b"GIF89a")


def library_result(dtype="float64", method=None, lr=None, steps=10_000, tol="default", **kw):
    """The library's run that ``catenax relax`` makes (it keeps no history, issue 11)."""
    p = {**catenax.LESSON, **kw}
    extra = {} if tol == "default" else {"tol": tol}
    return catenax.minimize(
        catenax.chain_energy,
        jnp.zeros(p["n"], dtype),
        p["spring"],
        p["length"],
        p["mass_g"],
        method=method or catenax.solvers.DEFAULT_METHOD,
        learning_rate=lr,
        max_steps=steps,
        history=False,
        **extra,
    )


def assert_json_matches(data, result):
    """The CLI's JSON holds exactly the library Result's fields (positions as y)."""
    expected = result.to_dict()
    y = expected.pop("positions")
    expected["message"] = common.option_text(expected["message"])  # the CLI names its options
    for key, value in expected.items():
        assert data[key] == value, key
    assert data["y"] == y
    for key in ("method", "status", "converged", "steps", "energy", "grad_max", "y", "message"):
        assert key in data
    assert isinstance(data["converged"], bool)


def assert_no_traceback(text):
    assert "Traceback" not in text


# --------------------------------------------------------------------------
# Subprocess: the real entry point
# --------------------------------------------------------------------------


def test_relax_json_equals_library_result():
    proc = run_cli("relax", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # exactly one JSON object, nothing else on stdout
    assert_json_matches(data, library_result())
    assert data["status"] == "converged" and data["converged"] is True
    assert data["params"] == {
        "n": 20,
        "spring": 5.0,
        "length": 0.8,
        "mass_g": 0.1,
        "method": catenax.solvers.DEFAULT_METHOD,
        "lr": common.effective_lr(
            catenax.solvers.DEFAULT_METHOD, None, catenax.solvers.default_learning_rate
        ),
        "schedule": None,
        "steps": 10_000,
        "tol": 1e-10,
        "dtype": "float64",
    }
    y_star = np.array(REFERENCE["equilibrium"]["y"])
    np.testing.assert_allclose(data["y"], y_star, atol=1e-8)


def test_relax_notebook_run_is_a_normal_exit():
    """The notebook's 60 gd steps use up the budget: status max_steps, exit 0."""
    proc = run_cli(
        "relax", "--method", "gd", "--lr", "0.2", "--steps", 60, "--tol", "none", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "max_steps" and data["steps"] == 60
    ref = REFERENCE["lesson_runs_60_steps"]["gradient_descent_eta_0.2"]["float64"]
    np.testing.assert_allclose(data["y"], ref["y"], atol=1e-10)
    assert data["energy"] == pytest.approx(ref["energy"], abs=1e-10)
    assert data["params"]["tol"] is None


def test_relax_writes_plot_animation_and_json(tmp_path):
    png, gif, out = tmp_path / "shape.png", tmp_path / "relax.gif", tmp_path / "r.json"
    proc = run_cli("relax", "--plot", png, "--animate", gif, "--out", out, "--steps", 3000)
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert gif.read_bytes()[:6] in GIF_MAGIC
    data = json.loads(out.read_text())
    assert_json_matches(data, library_result(steps=3000))
    assert "converged" in proc.stdout  # the human summary
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "relax.gif", "shape.png"]


def test_divergent_run_exits_1_names_the_step_and_writes_nothing(tmp_path):
    out = tmp_path / "r.json"
    out.write_bytes(b"precious")
    proc = run_cli(
        "relax", "--method", "gd", "--lr", "1.0", "--out", out, "--plot", tmp_path / "p.png"
    )
    assert proc.returncode == 1
    assert_no_traceback(proc.stderr)
    lib = library_result(method="gd", lr=1.0)
    assert lib.status == "diverged"
    assert f"diverged at step {lib.steps}" in proc.stderr
    assert "Try --lr 0.2" in proc.stderr  # the library's `learning_rate=0.2..` as the option
    assert out.read_bytes() == b"precious"
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize(
    "args, option",
    [
        (["--spring", "-1"], "--spring"),
        (["--n", "abc"], "--n"),
        (["--method", "nosuch"], "--method"),
        (["--plot", "nodir/x.png"], "--plot"),
    ],
)
def test_bad_input_subprocess(tmp_path, args, option):
    old = tmp_path / "old.json"
    old.write_bytes(b"precious")
    proc = run_cli("relax", *args, "--out", old, "--json", cwd=tmp_path)
    assert proc.returncode == 2
    assert option in proc.stderr
    assert_no_traceback(proc.stderr + proc.stdout)
    assert proc.stdout == ""
    assert old.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["old.json"]


def test_version_and_help():
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"catenax {catenax.__version__}"


@pytest.mark.slow
def test_lesson_outputs_match_reference(tmp_path):
    out = tmp_path / "lesson"
    proc = run_cli("lesson", "--out", out)
    assert proc.returncode == 0, proc.stderr
    for name in ("gradient_descent.png", "adam.png", "convergence.png"):
        assert (out / name).read_bytes()[:8] == PNG_MAGIC, name
    summary = json.loads((out / "summary.json").read_text())
    refs = REFERENCE["lesson_runs_60_steps"]
    assert set(summary["runs"]) == set(refs)
    for key, run in summary["runs"].items():
        ref = refs[key]["float32"]
        assert run["steps"] == 60
        assert run["energy"] == pytest.approx(ref["energy"], abs=1e-5)
        np.testing.assert_allclose(run["y"], ref["y"], atol=1e-5)
        y_star = np.array(REFERENCE["equilibrium"]["y"])
        assert run["max_abs_y_minus_ystar"] == pytest.approx(
            np.max(np.abs(np.array(ref["y"]) - y_star)), abs=1e-5
        )
    eq = summary["equilibrium"]
    assert eq["energy"] == pytest.approx(REFERENCE["equilibrium"]["energy"], abs=1e-12)
    np.testing.assert_allclose(eq["y"], REFERENCE["equilibrium"]["y"], atol=1e-9)
    # the terminal table
    assert "gradient_descent_eta_0.2" in proc.stdout and "adam_lr_0.1" in proc.stdout


# --------------------------------------------------------------------------
# In-process (CliRunner): the same app, many cases
# --------------------------------------------------------------------------


BAD_INPUTS = [
    (["--n", "0"], "--n"),
    (["--n", "-3"], "--n"),
    (["--n", "2.5"], "--n"),
    (["--spring", "nan"], "--spring"),
    (["--spring", "-0.5"], "--spring"),
    (["--spring", "inf"], "--spring"),
    (["--mass-g", "-0.1"], "--mass-g"),
    (["--mass-g", "inf"], "--mass-g"),
    (["--length", "0"], "--length"),
    (["--length", "-1"], "--length"),
    (["--length", "nan"], "--length"),
    (["--lr", "0"], "--lr"),
    (["--lr", "-0.1"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--method", "nosuch"], "--method"),
    (["--schedule", "nosuch"], "--schedule"),
    (["--schedule", "cosine_decay:nosuch=1"], "--schedule"),
    (["--schedule", "cosine_decay:alpha=x"], "--schedule"),
    (["--steps", "0"], "--steps"),
    (["--tol", "-1"], "--tol"),
    (["--tol", "abc"], "--tol"),
    (["--dtype", "float16"], "--dtype"),
    (["--plot", "NEW/nodir/x.png"], "--plot"),
    (["--plot", "NEW/x.jpg"], "--plot"),
    (["--animate", "NEW/x.mp4"], "--animate"),
    (["--animate", "NEW/nodir/x.gif"], "--animate"),
    (["--multistart", "0"], "--multistart"),
    (["--multistart", "2.5"], "--multistart"),
    (["--seed", "abc"], "--seed"),
    (["--seed", "99999999999999999999"], "--seed"),
]


@pytest.mark.parametrize("args, option", BAD_INPUTS)
def test_bad_input_exits_2_names_option_and_writes_nothing(invoke, tmp_path, args, option):
    old = tmp_path / "old.json"
    old.write_bytes(b"precious")
    args = [a.replace("NEW", str(tmp_path)) for a in args]
    res = invoke("relax", *args, "--out", old, "--json")
    assert res.exit_code == 2, res.output
    assert option in res.stderr
    assert res.stdout == ""
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert_no_traceback(res.stderr)
    assert old.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["old.json"]


@pytest.mark.parametrize(
    "name, message",
    [("x.txt", "unknown suffix"), ("nodir/x.json", "does not exist"), (".", "suffix")],
)
def test_bad_out_path(invoke, tmp_path, name, message):
    res = invoke("relax", "--out", tmp_path / name)
    assert res.exit_code == 2
    assert "--out" in res.stderr and message in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_method_lists_valid_ones(invoke):
    res = invoke("relax", "--method", "nosuch")
    assert res.exit_code == 2
    assert "gd" in res.stderr and "adam" in res.stderr
    res = invoke("relax", "--schedule", "nosuch")
    assert "cosine_decay" in res.stderr and "warmup_cosine_decay" in res.stderr


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_json_equals_library_in_process(invoke, dtype):
    args = ["--method", "adam", "--lr", "0.05", "--steps", "200", "--n", "7", "--spring", "3"]
    res = invoke("relax", *args, "--dtype", dtype, "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    lib = library_result(dtype, method="adam", lr=0.05, steps=200, n=7, spring=3.0)
    assert_json_matches(data, lib)
    assert data["params"]["dtype"] == dtype and data["params"]["n"] == 7
    assert data["params"]["tol"] == catenax.DEFAULT_RTOL[dtype]


def test_schedule_option(invoke):
    res = invoke(
        "relax", "--method", "sgd", "--schedule", "cosine_decay:alpha=0.1", "--steps", "50",
        "--tol", "none", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    lib = catenax.minimize(
        catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1, method="sgd",
        schedule="cosine_decay:alpha=0.1", max_steps=50, tol=None,
    )  # fmt: skip
    assert_json_matches(data, lib)
    assert data["params"]["schedule"] == "cosine_decay:alpha=0.1"


def test_default_method_is_read_at_call_time(invoke, monkeypatch):
    monkeypatch.setattr(catenax.solvers, "DEFAULT_METHOD", "adam")
    res = invoke("relax", "--steps", "20", "--json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["method"] == "adam"


def test_extra_result_fields_flow_into_json():
    r = catenax.Result(
        positions=np.array([-1.0, -1.0]),
        energy=-0.5,
        grad_max=1e-12,
        steps=4,
        status="converged",
        message="ok",
        method="newton",
        extra={"min_eigenvalue": np.float64(0.04), "stable": True, "bad": float("nan")},
    )
    data = report.result_json(r, {"n": 2})
    assert data["min_eigenvalue"] == 0.04 and data["stable"] is True
    assert data["bad"] is None  # strict JSON: no NaN
    assert data["y"] == [-1.0, -1.0] and "positions" not in data
    json.loads(json.dumps(data, allow_nan=False))


@pytest.mark.parametrize("suffix", [".npz", ".csv", ".json"])
def test_out_formats(invoke, tmp_path, suffix):
    path = tmp_path / f"result{suffix}"
    res = invoke("relax", "--n", "5", "--out", path, "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    if suffix == ".npz":
        with np.load(path) as z:  # no pickle needed
            np.testing.assert_array_equal(z["y"], data["y"])
            assert str(z["status"]) == data["status"] and float(z["energy"]) == data["energy"]
            assert json.loads(str(z["params"]))["n"] == 5
    elif suffix == ".csv":
        rows = path.read_text().splitlines()
        assert rows[0] == "j,x,y" and len(rows) == 6
        np.testing.assert_array_equal([float(r.split(",")[2]) for r in rows[1:]], data["y"])
    else:
        assert json.loads(path.read_text()) == data
    assert "wrote" in res.stderr  # notes go to stderr when stdout holds the JSON
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left


def test_plot_svg_and_pdf(invoke, tmp_path):
    res = invoke("relax", "--n", "6", "--plot", tmp_path / "a.svg")
    assert res.exit_code == 0, res.stderr
    assert b"<svg" in (tmp_path / "a.svg").read_bytes()[:2000]
    res = invoke("relax", "--n", "6", "--plot", tmp_path / "a.pdf")
    assert (tmp_path / "a.pdf").read_bytes()[:5] == b"%PDF-"


def test_human_summary(invoke):
    res = invoke("relax", "--n", "5")
    assert res.exit_code == 0
    assert "status" in res.stdout and "converged" in res.stdout and "energy" in res.stdout


def test_lesson_float64_matches_reference(invoke, tmp_path):
    res = invoke("lesson", "--out", tmp_path / "l", "--dtype", "float64")
    assert res.exit_code == 0, res.stderr
    summary = json.loads((tmp_path / "l" / "summary.json").read_text())
    for key, run in summary["runs"].items():
        ref = REFERENCE["lesson_runs_60_steps"][key]["float64"]
        assert run["energy"] == pytest.approx(ref["energy"], abs=1e-10)
        np.testing.assert_allclose(run["y"], ref["y"], atol=1e-10)


def test_lesson_out_is_a_file(invoke, tmp_path):
    f = tmp_path / "f.txt"
    f.write_bytes(b"x")
    res = invoke("lesson", "--out", f)
    assert res.exit_code == 2 and "--out" in res.stderr
    assert f.read_bytes() == b"x"


def test_cli_defaults_are_the_lesson():
    defaults = inspect.signature(compare.compare_command).parameters
    n, spring, length, mass_g = (defaults[k].default for k in ("n", "spring", "length", "mass_g"))
    assert (n, spring, length, mass_g) == tuple(catenax.LESSON.values())


def test_cli_module_does_not_import_plotting_or_scipy():
    """matplotlib loads only when a figure is asked for (start-up time of relax --json)."""
    code = (
        "import sys, catenax.cli; "
        "print(sorted(m for m in ('matplotlib', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------
# Stability verdict, multistart, compare (issue 3)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("length", ["0.8", "1.0", "1.2"])
def test_default_method_reaches_a_stable_minimum(invoke, length):
    """Issue 3's done-when: ``catenax relax`` with no method converges and says stable."""
    res = invoke("relax", "--length", length, "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["method"] == catenax.solvers.DEFAULT_METHOD
    assert data["status"] == "converged" and data["stable"] is True
    assert data["min_eigenvalue"] > 0
    assert data["gd_step_max"] == pytest.approx(2.0 / data["max_eigenvalue"])
    res = invoke("relax", "--length", length)
    assert "stable minimum" in res.stdout
    assert f"2/λmax = {data['gd_step_max']:.4g}" in res.stdout


def test_multistart_lists_distinct_minima(invoke):
    args = ["relax", "--length", "1.2", "--multistart", "16", "--seed", "0"]
    res = invoke(*args, "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    minima = data["minima"]
    assert len(minima) > 1
    assert {"energy", "count", "symmetric"} <= set(minima[0])
    assert [m["energy"] for m in minima] == sorted(m["energy"] for m in minima)
    assert data["energy"] == pytest.approx(minima[0]["energy"], abs=1e-9)
    assert sum(m["count"] for m in minima) <= 16
    assert data["stable"] is True and data["status"] == "converged"
    assert data["params"]["multistart"] == 16 and data["params"]["seed"] == 0
    lib = catenax.minimize(
        catenax.chain_energy, jnp.zeros(20), 5.0, 1.2, 0.1, multistart=16, seed=0
    )  # the library's result, field for field
    assert_json_matches(data, lib)
    # the terminal lists the same minima in a table
    res = invoke(*args)
    assert res.exit_code == 0, res.stderr
    assert "distinct stable minima found by 16 starts" in res.stdout
    rows = [line.split() for line in res.stdout.splitlines()]
    table = [r for r in rows if len(r) == 5 and r[0].isdigit()]
    assert len(table) == len(minima)
    assert [int(r[2]) for r in table] == [m["count"] for m in minima]


def test_compare_prints_table_and_writes_figure(invoke, tmp_path):
    png = tmp_path / "compare.png"
    res = invoke("compare", "--plot", png)
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    header = next(line for line in lines if "method" in line and "status" in line)
    for col in ("steps", "time", "energy", "max|∇E|"):
        assert col in header
    methods = [line.split()[0] for line in lines if line.startswith("  ") and "method" not in line]
    assert {"gd", "adam", "lbfgs", "fire", "newton"} <= set(methods)
    newton = next(line for line in lines if line.split()[:1] == ["newton"])
    assert newton.split()[-1] == "converged"
    assert png.read_bytes()[:8] == PNG_MAGIC
    # machine output: the library's rows
    res = invoke("compare", "--methods", "newton,lbfgs", "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert [r["method"] for r in data["rows"]] == ["newton", "lbfgs"]
    assert all(r["status"] == "converged" for r in data["rows"])
    assert data["problem"]["n"] == 20 and data["problem"]["tol"] == 1e-10


@pytest.mark.parametrize(
    "args, option",
    [
        (["--methods", "gd,nosuch"], "--methods"),
        (["--methods", "gd,,adam"], "--methods"),
        (["--methods", "gd,gd"], "--methods"),
        (["--lr", "adam=0"], "--lr"),
        (["--lr", "lion=0.1"], "--lr"),
        (["--steps", "0"], "--steps"),
        (["--tol", "-1"], "--tol"),
        (["--length", "0"], "--length"),
        (["--plot", "NEW/x.jpg"], "--plot"),
    ],
)
def test_compare_bad_input(invoke, tmp_path, args, option):
    args = [a.replace("NEW", str(tmp_path)) for a in args]
    res = invoke("compare", *args)
    assert res.exit_code == 2, res.output
    assert option in res.stderr and res.stdout == ""
    assert list(tmp_path.iterdir()) == []
