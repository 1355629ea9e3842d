"""``catenax sweep`` through its entry point: outputs, figures, bad input, Ctrl-C and resume."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from catenax import cli
from catenax.io import tables as sweepio
from catenax.sweeps.api import sweep

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NET_TOML = """
[structure]
builder = "net"
rows = 4
cols = 4
stiffness = 50.0
mass = 0.02
gravity = [0.0, 0.0, -9.81]
loads = [[5, 0.0, 0.0, -0.5]]
"""


def _env():
    return {**os.environ, "PYTHONWARNINGS": "ignore", "CATENAX_CACHE_DIR": "off"}


@pytest.fixture
def invoke(monkeypatch):
    monkeypatch.setenv("CATENAX_CACHE_DIR", "off")
    runner = CliRunner()

    def _invoke(*args):
        return runner.invoke(cli.app, ["sweep", *map(str, args)])

    return _invoke


def test_the_exercise_through_the_entry_point(tmp_path):
    # the "done when": l from 0.8 to 1.4, across the convex/non-convex transition
    p = subprocess.run(
        [sys.executable, "-m", "catenax", "sweep", "--length", "0.8:1.4:61",
         "--plot", "sweep.png", "--out", "sweep.csv"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env=_env(),
    )  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    assert "catenax sweep: 61 cases over length 0.8..1.4 (61): 61 converged" in p.stdout
    assert (tmp_path / "sweep.png").read_bytes().startswith(PNG_MAGIC)
    t = sweepio.read_table(tmp_path / "sweep.csv")
    assert t["case"].tolist() == list(range(61))
    np.testing.assert_array_equal(t["length"], np.linspace(0.8, 1.4, 61))
    assert set(t["status"]) == {"converged"} and t["stable"].all()
    # the flat start has negative curvature exactly where l > 1
    np.testing.assert_array_equal(t["start_min_eigenvalue"] < -1e-9, t["length"] > 1 + 1e-12)
    mem = sweep(length="0.8:1.4:61")
    np.testing.assert_array_equal(t["energy"], mem.table["energy"])


def test_two_parameter_heat_maps_with_multistart(invoke, tmp_path):
    r = invoke("--length", "0.8:1.3:6", "--mass-g", "0,0.1", "--multistart", "3",
               "--plot", tmp_path / "maps.png", "--out", tmp_path / "maps.jsonl")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (tmp_path / "maps.png").read_bytes().startswith(PNG_MAGIC)
    rows = [json.loads(x) for x in (tmp_path / "maps.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and {"n_minima", "start"} <= set(rows[0])
    assert max(r["n_minima"] for r in rows if r["length"] > 1) > 1


def test_scenario_sweep(invoke, tmp_path):
    scen = tmp_path / "net.toml"
    scen.write_text(NET_TOML)
    r = invoke(scen, "--vary", "structure.stiffness=30,60", "--vary",
               "structure.loads[0][3]=-0.5:-2:3", "--out", tmp_path / "n.csv",
               "--keep-shapes")  # fmt: skip
    assert r.exit_code == 0, r.output
    t = sweepio.read_table(tmp_path / "n.csv")
    assert t["structure.stiffness"].tolist() == [30.0] * 3 + [60.0] * 3
    assert set(t["status"]) == {"converged"}
    assert np.load(tmp_path / "n.npz")["positions"].shape == (6, 16, 3)
    # more load, lower net
    assert t["lowest"][2] < t["lowest"][1] < t["lowest"][0]


def test_summary_table_without_out(invoke):
    r = invoke("--length", "0.8,1.2")
    assert r.exit_code == 0, r.output
    assert "2 converged" in r.stdout and "length" in r.stdout.splitlines()[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--length", ""], "--length: an empty value"),
        (["--length", "1:2"], "--length: '1:2' is not a range start:stop:count"),
        (["--spring", "1:2:0"], "--spring: range '1:2:0' is empty"),
        (["--spring", "1:b:3"], "--spring: 'b' is not a number"),
        (["--length", "0.8,-1"], "--length: -1.0 must be a finite number > 0"),
        (["--n", "2.5"], "--n: 2.5 is not a whole number"),
        (["--n", "0,5"], "--n: 0 must be >= 1"),
        (["--vary", "structure.stiffness=1,2"], "--vary: changes keys of a scenario file"),
        (
            ["--spring", "1:2:5000", "--length", "0.5:1.5:5000"],
            "--max-cases: the grid has 25,000,000 cases, more than --max-cases 10,000,000; "
            "add --force",
        ),
        (["--length", "0.8:1.2:11", "--max-cases", "10"], "--max-cases: the grid has 11 cases"),
        (["--steps", "0"], "--steps: 0 must be >= 1"),
        (["--method", "nope"], "--method: unknown method 'nope'"),
        (["--lr", "-1"], "--lr: -1.0 must be > 0"),
        (["--tol", "x"], "--tol: 'x' is not a number"),
        (["--dtype", "float16"], "--dtype: 'float16' is not float64 or float32"),
        (["--keep-shapes"], "--out: --keep-shapes writes OUT's .npz"),
        (["--resume"], "--out: --resume and --overwrite refer to --out"),
        (["--out", "r.txt"], "--out: cannot write 'r.txt': unknown suffix '.txt'"),
        (["--out", "nodir/r.csv"], "--out: cannot write 'nodir/r.csv': folder 'nodir'"),
        (["--plot", "p.gif"], "--plot: cannot write 'p.gif'"),
        (
            ["--plot", "p.png", "--length", "1,2", "--spring", "1,2", "--mass-g", "0,1"],
            "--plot: figures are drawn for sweeps of 1 or 2 parameters; this one varies 3",
        ),
        (["--plot", "p.png"], "--plot: figures are drawn for sweeps of 1 or 2 parameters"),
        (["--coordinator", "h:1"], "--distributed: --coordinator/--num-processes/--process-id"),
        (["--distributed", "--coordinator", "nohost"], "--coordinator: 'nohost' is not host:port"),
        (["--multistart", "0"], "--multistart: 0 must be >= 1"),
    ],
)
def test_bad_input_exits_2_names_the_option(invoke, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    assert f"error: {message}" in r.output
    assert "Traceback" not in r.output
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(
    "vary, message",
    [
        ("structure.nope=1,2", "--vary structure.nope: no key structure.nope in net.toml"),
        ("structure.builder=1,2", "--vary structure.builder: structure.builder is the builder"),
        ("structure.gravity=1,2", "--vary structure.gravity: structure.gravity is a list"),
        (
            "structure.loads[0][0]=1,2",
            "--vary structure.loads[0][0]: structure.loads[0][0] is not a load value",
        ),
        ("structure.stiffness=-5,5", "--vary structure.stiffness: value -5.0 is invalid"),
        ("structure.stiffness=1:2", "--vary structure.stiffness: '1:2' is not a range"),
        ("stiffness", "--vary: 'stiffness' is not KEY=VALUES"),
    ],
)
def test_bad_scenario_keys(invoke, tmp_path, vary, message):
    scen = tmp_path / "net.toml"
    scen.write_text(NET_TOML)
    r = invoke(scen, "--vary", vary)
    assert r.exit_code == 2, r.output
    assert f"error: {message}" in r.output


def test_chain_options_with_a_scenario(invoke, tmp_path):
    scen = tmp_path / "net.toml"
    scen.write_text(NET_TOML)
    r = invoke(scen, "--length", "1,2", "--vary", "structure.mass=0.01,0.02")
    assert r.exit_code == 2 and "error: --length: applies to the lesson chain" in r.output


def test_existing_out_needs_resume_or_overwrite(invoke, tmp_path):
    out = tmp_path / "r.csv"
    out.write_text("keep me\n")
    r = invoke("--length", "0.8,1.0", "--out", out)
    assert r.exit_code == 2
    assert "error: --out: '" in r.output and "exists; add --overwrite" in r.output
    assert out.read_text() == "keep me\n"
    assert not sweepio.meta_path(out).exists()
    r = invoke("--length", "0.8,1.0", "--out", out, "--overwrite")
    assert r.exit_code == 0 and out.read_text().startswith("case,")
    r = invoke("--length", "0.8,1.0,1.2", "--out", out, "--resume")
    assert r.exit_code == 2 and "error: --out: cannot resume" in r.output


def test_force_runs_a_grid_over_max_cases(invoke):
    r = invoke("--length", "0.8:1.0:3", "--max-cases", "2", "--force")
    assert r.exit_code == 0, r.output


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
# preexec_fn makes Popen fork; once an earlier test has started JAX in this process,
# JAX warns at every fork. The child only resets SIGINT and execs, so nothing can deadlock.
@pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")
def test_ctrl_c_leaves_a_valid_file_and_resume_completes_it(tmp_path):
    # Big enough that the run cannot finish between the poll and the signal.
    args = ["--length", "0.5:1.5:2000", "--mass-g", "0.05,0.1", "--chunk-size", "8"]
    cmd = [sys.executable, "-m", "catenax", "sweep", *args, "--out", "r.csv", "--no-progress"]
    # A job started in the background (as CI may run us) inherits SIGINT ignored,
    # and Python then never raises KeyboardInterrupt: restore the default.
    p = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=_env(),
                         preexec_fn=_default_sigint)  # fmt: skip
    out = tmp_path / "r.csv"
    deadline = time.time() + 300
    while time.time() < deadline:
        if out.exists() and out.read_bytes().count(b"\n") > 1 + 16:
            break
        time.sleep(0.05)
    assert p.poll() is None, "the sweep finished before it could be interrupted"
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=300)
    assert p.returncode == 130, stderr[-2000:]
    assert "interrupted after" in stderr and "continue with --resume" in stderr
    rows, end, size = sweepio.count_rows(out, header=True)
    assert end == size and rows % 8 == 0 and 16 <= rows < 4000  # whole chunks only
    assert sweepio.read_table(out)["case"].tolist() == list(range(rows))
    r = subprocess.run([*cmd, "--resume"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600, env=_env())  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"resumed at case {rows:,}" in r.stdout
    whole = tmp_path / "whole.csv"
    sweep(length="0.5:1.5:2000", mass_g="0.05,0.1", chunk_size=8, out=whole)
    assert out.read_bytes() == whole.read_bytes()
