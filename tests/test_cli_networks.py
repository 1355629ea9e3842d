"""``catenax relax SCENARIO`` through the real entry point: the JSON contract, files, errors.

Two subprocess runs (``python -m catenax``) cover the path a user takes; the
rest runs in-process through typer's CliRunner on the same app, where JAX's
compiled loops are shared between cases (so every sample scenario compiles once).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from _cli import run_cli
from PIL import Image

import catenax
from catenax.cli.network import MAX_FRAMES, NETWORK_OUT_SUFFIXES
from catenax.io import RESULT_KEYS, load_scenario, result_to_dict, solve_scenario
from catenax.io.network_files import NETWORK_SUFFIXES
from catenax.model.network import fixed_coordinates

SCENARIOS = Path(__file__).resolve().parents[1] / "examples" / "scenarios"
SAMPLES = sorted(p.name for p in SCENARIOS.iterdir() if p.suffix in (".toml", ".json"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

#: The keys of the JSON result that the issue makes a contract.
CONTRACT = (
    "status", "converged", "steps", "energy", "grad_max", "min_eigenvalue", "stable",
    "positions", "lengths", "tensions", "reactions", "message",
)  # fmt: skip


def scenario(name):
    return SCENARIOS / name


def assert_balanced(data, net):
    """Reactions + weights + loads sum to zero (every free node is in balance)."""
    react = np.sum([r["force"] for r in data["reactions"]], axis=0)
    weights = np.asarray(net.mass)[:, None] * np.asarray(net.gravity)[None, :]
    applied = weights.sum(axis=0) + np.asarray(net.loads).sum(axis=0)
    scale = max(1.0, float(np.abs(weights).sum() + np.abs(np.asarray(net.loads)).sum()))
    np.testing.assert_allclose(react + applied, 0.0, atol=1e-8 * scale)


# --------------------------------------------------------------------------
# Subprocess: the real entry point
# --------------------------------------------------------------------------


def test_relax_scenario_subprocess_json_obj_and_plot(tmp_path):
    obj, png = tmp_path / "net.obj", tmp_path / "net.png"
    path = scenario("chain_with_load.toml")
    proc = run_cli("relax", path, "--json", "--out", obj, "--plot", png)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # one JSON object, nothing else on stdout
    assert set(CONTRACT) <= set(data)
    net = load_scenario(path).network
    assert data["status"] == "converged" and data["converged"] is True
    assert data["stable"] is True and data["min_eigenvalue"] > 0
    assert np.asarray(data["positions"]).shape == (net.n_nodes, 2)
    assert [r["node"] for r in data["reactions"]] == [0, 8]
    assert_balanced(data, net)
    lines = obj.read_text().splitlines()
    assert sum(line.startswith("v ") for line in lines) == net.n_nodes
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert "wrote" in proc.stderr


def test_malformed_scenario_subprocess_exit_2_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(scenario("chain_with_load.toml").read_text().replace("[0, 8]", "[0, 80]"))
    out = tmp_path / "r.json"
    out.write_bytes(b"precious")
    proc = run_cli("relax", bad, "--json", "--out", out, "--plot", tmp_path / "p.png")
    assert proc.returncode == 2
    assert "bad.toml" in proc.stderr and "fixed" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert out.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "r.json"]


# --------------------------------------------------------------------------
# In-process: every sample scenario, overrides, outputs, errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_scenario_converges_and_equals_library(invoke, name):
    path = scenario(name)
    res = invoke("relax", path, "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert list(data)[: len(CONTRACT)] == list(CONTRACT) == list(RESULT_KEYS)
    assert data["status"] == "converged" and data["converged"] is True
    assert data["stable"] is True and data["min_eigenvalue"] > 0
    scn = load_scenario(path)
    net = scn.network
    assert np.asarray(data["positions"]).shape == (net.n_nodes, net.dim)
    assert len(data["lengths"]) == len(data["tensions"]) == net.n_springs
    assert_balanced(data, net)
    if net.cables:  # no cable pushes (struts may)
        assert np.asarray(data["tensions"])[np.asarray(net.tension_only)].min() >= 0.0
    held = fixed_coordinates(net)  # supports do not move
    np.testing.assert_array_equal(
        np.asarray(data["positions"])[held], np.asarray(net.positions)[held]
    )
    # the JSON is the library's result, plus where it came from and the settings used
    lib = result_to_dict(solve_scenario(scn), net, units=scn.units)
    for key, value in lib.items():
        assert data[key] == value, key
    assert data["scenario"]["path"] == str(path)
    assert data["scenario"]["nodes"] == net.n_nodes
    assert data["params"]["method"] == scn.solver_settings.get("method", "newton")


def test_options_override_the_solver_table(invoke):
    path = scenario("hanging_chain.toml")  # [solver] method = "newton"
    res = invoke("relax", path, "--method", "gd", "--steps", "3", "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["steps"] == 3 and data["status"] == "max_steps" and data["method"] == "gd"
    assert data["params"]["method"] == "gd" and data["params"]["steps"] == 3
    scn = load_scenario(path)
    lib = result_to_dict(solve_scenario(scn, method="gd", max_steps=3), scn.network)
    # the same run; only the advice speaks the interface's language (--steps, max_steps)
    assert {k: data[k] for k in lib if k != "message"} == {
        k: v for k, v in lib.items() if k != "message"
    }
    assert "--steps" in data["message"] and "max_steps" in lib["message"]
    # --tol none: exactly --steps steps; a file's max_steps is kept when --steps is absent
    path = scenario("chain_with_load.toml")  # max_steps = 500, tol = 1e-10
    res = invoke("relax", path, "--method", "gd", "--lr", "1e-4", "--tol", "none", "--json")
    data = json.loads(res.stdout)
    assert data["steps"] == 500 and data["status"] == "max_steps"
    assert data["params"]["tol"] is None and data["params"]["steps"] == 500


@pytest.mark.parametrize("suffix", NETWORK_SUFFIXES)
def test_out_formats(invoke, tmp_path, suffix):
    path = tmp_path / f"tent{suffix}"
    res = invoke("relax", scenario("tent.json"), "--out", path, "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    n = len(data["positions"])
    if suffix == ".json":
        assert json.loads(path.read_text()) == data
    elif suffix == ".npz":
        with np.load(path) as z:  # no pickle
            np.testing.assert_array_equal(z["positions"], data["positions"])
            np.testing.assert_array_equal(z["tensions"], data["tensions"])
            assert str(z["status"]) == "converged"
    elif suffix == ".csv":
        rows = path.read_text().splitlines()
        kinds = [r.split(",")[0] for r in rows[1:]]
        assert kinds.count("node") == n and kinds.count("spring") == len(data["tensions"])
    else:
        lines = path.read_text().splitlines()
        assert sum(line.startswith("v ") for line in lines) == n
        assert sum(line.startswith("l ") for line in lines) == 3
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left
    assert NETWORK_OUT_SUFFIXES == NETWORK_SUFFIXES


def test_plot_and_animation_2d_and_3d(invoke, tmp_path):
    # 2D, first order: many steps, so the GIF is thinned to at most MAX_FRAMES frames
    png, gif = tmp_path / "c.png", tmp_path / "c.gif"
    res = invoke(
        "relax", scenario("chain_with_load.toml"), "--method", "gd", "--lr", "1e-4",
        "--steps", "400", "--plot", png, "--animate", gif,
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert png.read_bytes()[:8] == PNG_MAGIC
    with Image.open(gif) as im:
        assert 20 <= im.n_frames <= MAX_FRAMES
    assert "verdict" in res.stdout and "max_steps" in res.stdout
    # 3D
    png, gif = tmp_path / "t.svg", tmp_path / "t.gif"
    res = invoke("relax", scenario("tent.json"), "--plot", png, "--animate", gif)
    assert res.exit_code == 0, res.stderr
    assert b"<svg" in png.read_bytes()[:2000]
    with Image.open(gif) as im:
        assert im.n_frames >= 2


def test_human_summary_reports_forces_and_reactions(invoke):
    res = invoke("relax", scenario("tent.json"))
    assert res.exit_code == 0, res.stderr
    for word in ("converged", "verdict", "stable minimum", "2/λmax", "tension", "reactions"):
        assert word in res.stdout, word


def test_float32(invoke):
    res = invoke("relax", scenario("hanging_chain.toml"), "--dtype", "float32", "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["converged"] is True and data["params"]["dtype"] == "float32"
    assert data["params"]["tol"] == catenax.DEFAULT_RTOL["float32"]
    assert np.asarray(data["positions"]).shape == (32, 2)


def test_divergence_exits_1_and_writes_nothing(invoke, tmp_path):
    out = tmp_path / "r.json"
    out.write_bytes(b"precious")
    res = invoke(
        "relax", scenario("chain_with_load.toml"), "--method", "gd", "--lr", "1.0",
        "--out", out, "--plot", tmp_path / "p.png",
    )  # fmt: skip
    assert res.exit_code == 1
    assert "diverged at step" in res.stderr
    assert out.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


GOOD = scenario("chain_with_load.toml").read_text()

MALFORMED = [
    # (file name, text, words the message must hold)
    ("syntax.toml", GOOD.replace("stiffness = 2800.0", "stiffness = = 2800.0"),
     ["syntax.toml:", "stiffness"]),
    ("self.toml", GOOD.replace("[7, 8]]", "[7, 7]]"), ["self.toml:", "springs", "itself"]),
    ("unknown.toml", GOOD.replace("cables = false", "cable = false"), ["unknown.toml:", "cable"]),
    ("missing.toml", GOOD.replace("mass = 1.0\n", ""), ["missing.toml:", "mass"]),
    ("method.toml", GOOD.replace('method = "newton"', 'method = "nosuch"'),
     ["method.toml:", "solver.method", "nosuch"]),
    ("seed.toml", GOOD + 'seed = "abc"\n', ["seed.toml:", "solver.seed"]),
    ("schedule.toml", GOOD + 'schedule = "nosuch"\n', ["schedule.toml:", "solver.schedule"]),
    ("bad.json", '{"structure": {"dim": 2,}}', ["bad.json:1", "JSON"]),
    ("notes.txt", GOOD, ["notes.txt", ".toml or .json"]),
]  # fmt: skip


@pytest.mark.parametrize("name, text, words", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_scenario_exit_2_names_file_and_key(invoke, tmp_path, name, text, words):
    bad = tmp_path / name
    bad.write_text(text)
    out = tmp_path / "r.json"
    out.write_bytes(b"precious")
    res = invoke("relax", bad, "--out", out, "--plot", tmp_path / "p.png", "--json")
    assert res.exit_code == 2, res.output
    for word in words:
        assert word in res.stderr, (word, res.stderr)
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert out.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "r.json"])


def test_line_of_the_bad_key(invoke, tmp_path):
    bad = tmp_path / "line.toml"
    bad.write_text(GOOD.replace("[7, 8]]", "[7, 7]]"))
    res = invoke("relax", bad)
    line = next(k for k, t in enumerate(bad.read_text().splitlines(), 1) if "springs =" in t)
    assert f"line.toml:{line}: structure.springs" in res.stderr


def test_missing_scenario_file(invoke, tmp_path):
    res = invoke("relax", tmp_path / "nosuch.toml", "--json")
    assert res.exit_code == 2
    assert "nosuch.toml" in res.stderr and res.stdout == ""


@pytest.mark.parametrize(
    "args",
    [["--n", "5"], ["--spring", "3"], ["--length", "1.2"], ["--mass-g", "0.2"]],
    ids=lambda a: a[0],
)
def test_chain_option_with_scenario_exit_2(invoke, tmp_path, args):
    out = tmp_path / "r.json"
    res = invoke("relax", scenario("tent.json"), *args, "--out", out)
    assert res.exit_code == 2
    assert args[0] in res.stderr and "scenario" in res.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "args, option",
    [
        (["--method", "nosuch"], "--method"),
        (["--lr", "-1"], "--lr"),
        (["--steps", "0"], "--steps"),
        (["--tol", "abc"], "--tol"),
        (["--multistart", "0"], "--multistart"),
        (["--schedule", "nosuch"], "--schedule"),
        (["--out", "NEW/x.txt"], "--out"),
        (["--plot", "NEW/nodir/x.png"], "--plot"),
        (["--animate", "NEW/x.mp4"], "--animate"),
    ],
)
def test_bad_option_with_scenario_exit_2(invoke, tmp_path, args, option):
    args = [a.replace("NEW", str(tmp_path)) for a in args]
    res = invoke("relax", scenario("tent.json"), *args, "--json")
    assert res.exit_code == 2, res.output
    assert option in res.stderr and res.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_obj_is_for_networks_only(invoke, tmp_path):
    res = invoke("relax", "--out", tmp_path / "chain.obj")
    assert res.exit_code == 2 and "--out" in res.stderr
