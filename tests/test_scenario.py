"""Scenario files (the contract), the JSON result, result files and figures."""

import csv
import json

import jax
import matplotlib
import numpy as np
import pytest

import catenax
from catenax.io.network_files import write_network_result
from catenax.io.scenario import RESULT_KEYS

matplotlib.use("Agg")

GOOD = """\
[structure]
dim = 2
nodes = [[-2.0, 1.0], [-1.0, 0.5], [0.0, 0.3], [1.0, 0.5], [2.0, 1.0]]
springs = [[0, 1], [1, 2], [2, 3], [3, 4]]
stiffness = 2800.0
rest_length = 0.0
mass = 1.0
gravity = [0.0, -9.81]
fixed = [0, 4]
cables = false
loads = [[2, 0.0, -2.0]]

[solver]
method = "gd"
tol = 1e-10
max_steps = 500
"""


def _write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_contract_example_loads(tmp_path):
    s = catenax.load_scenario(_write(tmp_path, GOOD))
    net = s.network
    assert (net.n_nodes, net.n_springs, net.dim) == (5, 4, 2)
    np.testing.assert_allclose(net.stiffness, 2800.0)
    np.testing.assert_allclose(net.loads[2], [0.0, -2.0])
    assert catenax.support_nodes(net).tolist() == [0, 4]
    assert s.solver_settings == {"method": "gd", "tol": 1e-10, "max_steps": 500}


def test_json_is_the_same_schema(tmp_path):
    import tomllib

    data = tomllib.loads(GOOD)
    s1 = catenax.load_scenario(_write(tmp_path, GOOD))
    s2 = catenax.load_scenario(_write(tmp_path, json.dumps(data), "s.json"))
    for a, b in zip(*(jax.tree.leaves(s.network) for s in (s1, s2)), strict=True):
        np.testing.assert_array_equal(a, b)
    assert s1.solver_settings == s2.solver_settings


def test_rest_length_initial_and_per_node_mass(tmp_path):
    text = GOOD.replace("rest_length = 0.0", 'rest_length = "initial"').replace(
        "mass = 1.0", "mass = [1, 2, 3, 4, 5]"
    )
    net = catenax.load_scenario(_write(tmp_path, text)).network
    np.testing.assert_allclose(net.rest_length, catenax.spring_lengths(net.positions, net))
    np.testing.assert_allclose(net.mass, [1, 2, 3, 4, 5])


def test_builder_form(tmp_path):
    text = """
[structure]
builder = "net"
rows = 4
cols = 5
supports = "corners"
stiffness = 50.0
loads = [[7, 0.0, 0.0, -1.0]]
[solver]
method = "gd"
"""
    net = catenax.load_scenario(_write(tmp_path, text)).network
    assert (net.n_nodes, net.dim) == (20, 3)
    np.testing.assert_allclose(net.loads[7], [0, 0, -1.0])
    for b in ("chain", "chain2d", "cloth"):
        s = catenax.load_scenario(_write(tmp_path, f'[structure]\nbuilder = "{b}"\n'))
        assert s.network.n_nodes > 2


BAD = [
    # (replace this, with this, key expected in the message, more words)
    ("dim = 2", "dim = 2\ndim = 3", None, ["bad.toml:3:", "not valid TOML", "line 3"]),
    ("nodes = [[-2.0, 1.0],", "nodes = [[-2.0, 1.0,", None, ["structure.nodes", "line 4"]),
    ("springs = [[0, 1], [1, 2], [2, 3], [3, 4]]\n", "", "springs", ["missing"]),
    ("[[0, 1], [1, 2]", "[[0, 1], [1, 9]", "springs", ["springs[1]", "[1, 9]", "0 to 4"]),
    ("[[0, 1], [1, 2]", "[[0, 1], [1, 1]", "springs", ["itself"]),
    ("stiffness = 2800.0", "stiffness = -2800.0", "stiffness", ["negative"]),
    ("stiffness = 2800.0", "stiffness = nan", "stiffness", ["not finite"]),
    ("mass = 1.0", "mass = [1.0, 2.0]", "mass", ["one per node"]),
    ("mass = 1.0", "mass = -1.0", "mass", ["negative"]),
    ("[2, 3], [3, 4]]", "[2, 4], [0, 4]]", "springs", ["node 3", "no spring"]),
    ("gravity = [0.0, -9.81]", "gravity = [0.0, -9.81, 0.0]", "gravity", ["dim = 2"]),
    ("dim = 2", "dim = 3", "nodes", ["dim = 3"]),
    ("dim = 2", "dim = 4", "dim", ["2 or 3"]),
    ("fixed = [0, 4]", "fixed = [0, 7]", "fixed", ["7"]),
    ("loads = [[2, 0.0, -2.0]]", "loads = [[2, 0.0]]", "loads", ["3 numbers"]),
    ("loads = [[2, 0.0, -2.0]]", "loads = [[12, 0.0, -2.0]]", "loads", ["12"]),
    ("cables = false", "cables = 3", "cables", ["true or false"]),
    ("cables = false", "cable = false", "cable", ["unknown"]),
    ('method = "gd"', 'method = "bogus"', "method", ["valid methods"]),
    ("max_steps = 500", "max_steps = 0", "max_steps", [">= 1"]),
    ("max_steps = 500", "maxsteps = 500", "maxsteps", ["unknown", "max_steps"]),
    ("[solver]", "[solvers]", "solvers", ["unknown"]),
    ("stiffness = 2800.0", 'stiffness = "stiff"', "stiffness", ["not a number"]),
]


@pytest.mark.parametrize("old, new, key, words", BAD)
def test_bad_scenario_names_file_key_and_line(tmp_path, old, new, key, words):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    with pytest.raises(ValueError) as info:
        catenax.load_scenario(_write(tmp_path, text, "bad.toml"))
    msg = str(info.value)
    assert msg.startswith("bad.toml"), msg
    if key is not None:
        assert f".{key}:" in msg or f" {key}:" in msg, msg
        # the line is given wherever the key is in the file
        lines = [i + 1 for i, s in enumerate(text.splitlines()) if s.startswith(key + " ")]
        if lines:
            assert msg.startswith(f"bad.toml:{lines[0]}:"), msg
    for w in words:
        assert w in msg, (w, msg)


def test_malformed_json_has_line(tmp_path):
    with pytest.raises(ValueError, match=r"bad.json:2: not valid JSON.*line 2"):
        catenax.load_scenario(_write(tmp_path, '{"structure":\n {"dim": 2,,}}', "bad.json"))


def test_missing_file_and_suffix(tmp_path):
    with pytest.raises(ValueError, match="no such scenario file"):
        catenax.load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ValueError, match=r"\.yaml"):
        catenax.load_scenario(_write(tmp_path, "", "s.yaml"))


def test_builder_errors_name_key(tmp_path):
    cases = [
        ('builder = "nett"', "builder", "unknown builder"),
        ('builder = "net"\nrows = 1', "rows", ">= 2"),
        ('builder = "net"\nsupports = "middle"', "supports", "corners"),
        ('builder = "net"\ncolumns = 3', "columns", "cols"),
        ('builder = "chain2d"\ndim = 3', "dim", "2D"),
    ]
    for body, key, word in cases:
        with pytest.raises(ValueError) as info:
            catenax.load_scenario(_write(tmp_path, "[structure]\n" + body + "\n", "b.toml"))
        msg = str(info.value)
        assert msg.startswith("b.toml:") and f"structure.{key}:" in msg and word in msg, msg


def _solved(tmp_path):
    s = catenax.load_scenario(_write(tmp_path, GOOD))
    r = catenax.solve_scenario(s, method="gd", learning_rate=1.0 / (4 * 2800.0), max_steps=20_000)
    return s.network, r


def test_result_dict_keys_and_physics(tmp_path):
    net, r = _solved(tmp_path)
    assert r.status == "converged"
    d = catenax.result_to_dict(r, net)
    assert list(d)[: len(RESULT_KEYS)] == list(RESULT_KEYS)
    assert d["min_eigenvalue"] is None or isinstance(d["min_eigenvalue"], float)
    json.dumps(d, allow_nan=False)
    x = np.asarray(d["positions"])
    assert x.shape == (5, 2)
    np.testing.assert_allclose(x[[0, 4]], [[-2.0, 1.0], [2.0, 1.0]])  # fixed nodes unchanged
    assert [rr["node"] for rr in d["reactions"]] == [0, 4]
    react = np.array([rr["force"] for rr in d["reactions"]])
    # supports carry 5 weights and the 2.0 load
    # (to the stopping rule's accuracy: max|grad E| <= 1e-10 * F with F ~ 1e4 here)
    np.testing.assert_allclose(react.sum(axis=0), [0.0, 5 * 9.81 + 2.0], atol=1e-5)
    np.testing.assert_allclose(d["tensions"], 2800.0 * np.asarray(d["lengths"]), rtol=1e-12)


def test_stability_fields_come_from_result_extra(tmp_path):
    import dataclasses

    net, r = _solved(tmp_path)
    r2 = dataclasses.replace(r, extra={"min_eigenvalue": 3.5, "stable": True, "lambda_max": 9.0})
    d = catenax.result_to_dict(r2, net)
    assert (d["min_eigenvalue"], d["stable"], d["lambda_max"]) == (3.5, True, 9.0)


def test_writers(tmp_path):
    net = catenax.net(3, 3, supports="corners")
    r = catenax.minimize(
        catenax.network_energy, net.positions, net, free=catenax.free_mask(net),
        method="adam", max_steps=5, tol=None,
    )  # fmt: skip
    d = catenax.result_to_dict(r, net)
    pj = write_network_result(tmp_path / "r.json", d, net)
    assert json.loads(pj.read_text()) == d
    pz = write_network_result(tmp_path / "r.npz", d, net)
    with np.load(pz) as z:
        np.testing.assert_allclose(z["positions"], d["positions"])
        np.testing.assert_allclose(z["tensions"], d["tensions"])
        assert z["reactions"].shape == (9, 3) and z["support_nodes"].tolist() == [0, 2, 6, 8]
        assert str(z["status"]) == d["status"] and str(z["message"]) == d["message"]
        assert float(z["energy"]) == d["energy"]
    pc = write_network_result(tmp_path / "r.csv", d, net)
    with pc.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["kind"] for r in rows].count("node") == 9
    springs = [r for r in rows if r["kind"] == "spring"]
    assert len(springs) == 12 and float(springs[0]["tension"]) == pytest.approx(d["tensions"][0])
    assert float(rows[2]["z"]) == pytest.approx(d["positions"][2][2])
    po = write_network_result(tmp_path / "r.obj", d, net)
    lines = po.read_text().splitlines()
    assert sum(s.startswith("v ") for s in lines) == 9
    assert sum(s.startswith("f ") for s in lines) == 4  # the quads cover every cable
    assert not any(s.startswith("l ") for s in lines)
    cl = catenax.cloth(3, 3)  # diagonals are not quad edges: written as lines
    po = write_network_result(tmp_path / "c.obj", {"positions": cl.positions.tolist()}, cl)
    assert sum(s.startswith("l ") for s in po.read_text().splitlines()) == 8
    with pytest.raises(ValueError, match="suffix"):
        write_network_result(tmp_path / "r.txt", d, net)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "c.obj", "r.csv", "r.json", "r.npz", "r.obj"
    ]  # fmt: skip


def test_failed_write_leaves_old_file(tmp_path):
    net = catenax.chain2d(3)
    p = tmp_path / "r.json"
    p.write_text("old")
    with pytest.raises(ValueError):
        write_network_result(p, {"positions": [[0.0, 0.0]]}, net)  # wrong shape
    assert p.read_text() == "old"


def test_plots_2d_3d_and_animation(tmp_path):
    from catenax.plot.network import animate_network, save_network_plot

    net = catenax.chain2d(6).replace(loads=np.eye(8, 2) * 0.5)
    p = save_network_plot(tmp_path / "c.png", net.positions, net, title="chain")
    assert p.read_bytes()[:4] == b"\x89PNG"
    n3 = catenax.net(3, 3)
    assert save_network_plot(tmp_path / "n.svg", n3.positions, n3).stat().st_size > 0
    frames = np.stack([net.positions, net.positions * 1.1])
    assert animate_network(tmp_path / "a.gif", frames, net).read_bytes()[:3] == b"GIF"
    with pytest.raises(ValueError, match="suffix"):
        save_network_plot(tmp_path / "c.bmp", net.positions, net)


def test_newton_relaxes_scenario_when_available(tmp_path):
    pytest.importorskip("catenax.solvers.newton")
    s = catenax.load_scenario(_write(tmp_path, GOOD))
    r = catenax.solve_scenario(s, method="newton")
    assert r.status == "converged"
    # zero rest length: the closed-form parabola through the supports, plus the point load
    net, r_gd = _solved(tmp_path)
    np.testing.assert_allclose(r.positions, r_gd.positions, atol=1e-9)


def test_example_scenarios_load():
    from pathlib import Path

    files = sorted((Path(__file__).parents[1] / "examples" / "scenarios").glob("*.*"))
    assert len(files) >= 4
    for f in files:
        s = catenax.load_scenario(f)
        assert s.network.n_nodes >= 2 and s.solver_settings.get("method") == "newton"
