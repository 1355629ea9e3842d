"""``catenax design SCENARIO``: the JSON keys in order, --out round trip, --plot, exit codes.

Bad input exits 2 with a message naming the problem and writes nothing; a
finished design exits 0, and its --out scenario loads with
catenax.load_scenario and relaxes to the shape the design reached.
"""

import json

import jax
import numpy as np
import pytest

import catenax
from catenax.design import DESIGN_KEYS

SCENARIO = """title = "a chain to design"
[structure]
builder = "chain2d"
n = 4
stiffness = 300.0
"""


@pytest.fixture
def files(tmp_path):
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    scn = tmp_path / "chain.toml"
    scn.write_text(SCENARIO)
    x = np.array(catenax.solve_scenario(catenax.load_scenario(scn)).positions)
    x[2, 1] -= 0.01  # lower node 2 by 1 cm: reachable with the rest lengths
    target = tmp_path / "target.csv"
    target.write_text("node,x,y\n" + "".join(f"{i},{a!r},{b!r}\n" for i, (a, b) in
                                             enumerate(x.tolist()) if i == 2))  # fmt: skip
    yield scn, target
    jax.config.update("jax_enable_x64", before)


def test_json_keys_in_order_out_round_trip_and_plot(invoke, files, tmp_path):
    scn, target = files
    out, plot = tmp_path / "designed.toml", tmp_path / "design.png"
    r = invoke("design", scn, "--vary", "rest_length", "--target", target, "--json",
               "--out", out, "--plot", plot, "--quiet")  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert list(data)[: len(DESIGN_KEYS)] == list(DESIGN_KEYS)
    assert data["status"] == "converged" and data["stable"] is True
    assert data["max_deviation"] < 1e-8
    assert len(data["variables"]["rest_length"]) == 5
    designed = catenax.load_scenario(out)
    assert designed.title == "a chain to design"
    np.testing.assert_allclose(designed.network.rest_length, data["variables"]["rest_length"])
    again = catenax.solve_scenario(designed).positions
    np.testing.assert_allclose(again, data["positions"], atol=1e-8)
    assert plot.stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--vary", "length"], "unknown variable 'length'"),
        (["--vary", "prestress"], "the scenario gives rest_length, not prestress"),
        (["--vary", "rest_length:0-9"], "spring index 9 is out of range"),
        (["--vary", "rest_length", "--target-text", "node,x,y\n17,0,0\n"],
         "node index 17 is out of range"),
        (["--vary", "rest_length", "--target-text", "node,x,y\n1,0\n"], "2 fields"),
        (["--vary", "rest_length", "--target-text", "node,x,y\nzz,0,0\n"], "is not a node index"),
        (["--vary", "rest_length", "--out", "designed.obj"], "--out"),
        (["--vary", "rest_length", "--steps", "0"], "--steps: 0 must be >= 1"),
        (["--vary", "rest_length", "--uniform-tension", "-1"], "--uniform-tension"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_and_writes_nothing(invoke, files, tmp_path, args, words):
    scn, target = files
    if "--target-text" in args:
        k = args.index("--target-text")
        bad = tmp_path / "bad.csv"
        bad.write_text(args[k + 1])
        args = [*args[:k], *args[k + 2 :]]
        target = bad
    args = [str(tmp_path / a) if a == "designed.obj" else a for a in args]
    out = tmp_path / "designed.toml"
    extra = [] if "--out" in args else ["--out", out]
    r = invoke("design", scn, "--target", target, *args, *extra, "--quiet")
    assert r.exit_code == 2, r.output
    assert words in r.output
    assert not out.exists() and not (tmp_path / "designed.obj").exists()
