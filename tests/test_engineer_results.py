"""Issue 12, results: the engineer's keys of the JSON/NPZ result, units in the summary, --compas.

The numbers are computed by hand here (strain energy ½k(L−L0)², 0 for a slack
cable; displacements x − x0), not by the functions under test.
"""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

import catenax
from catenax.cli.report import scenario_summary, unit_suffixes
from catenax.io import RESULT_KEYS, result_to_dict, write_network_result
from catenax.io.results import ENGINEER_KEYS, check_units

UNITS = {"length": "m", "force": "kN"}

#: Three nodes, two springs: k = 10, L0 = 0.8 and k = 20, L0 = 1.5.
X0 = [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]
#: A displaced state: spring 0 stretched to sqrt(1.25), spring 1 shortened to sqrt(0.85).
X = [[0.0, 0.0], [1.1, 0.2], [2.0, 0.0]]


def two_springs(cables):
    return catenax.from_arrays(
        X0, [[0, 1], [1, 2]], rest_length=[0.8, 1.5], stiffness=[10.0, 20.0],
        fixed=[0, 2], cables=cables,
    )  # fmt: skip


def fake_result(x):
    """What result_to_dict reads of a Result, at positions ``x``."""
    return SimpleNamespace(
        positions=np.asarray(x), status="converged", converged=True, steps=3, energy=1.0,
        grad_max=0.0, message="converged", method="newton", extra={},
    )  # fmt: skip


@pytest.mark.parametrize("cables", [False, [1]])
def test_engineer_keys_by_hand(cables):
    net = two_springs(cables)
    d = result_to_dict(fake_result(X), net, units=UNITS)
    assert list(d)[: len(RESULT_KEYS)] == list(RESULT_KEYS)
    assert list(d)[len(RESULT_KEYS) :][:6] == ["method", *ENGINEER_KEYS]
    assert d["springs"] == [[0, 1], [1, 2]]
    assert d["rest_lengths"] == [0.8, 1.5]
    np.testing.assert_allclose(d["displacements"], [[0, 0], [0.1, 0.2], [0, 0]], atol=1e-15)
    stretched = 0.5 * 10.0 * (math.sqrt(1.25) - 0.8) ** 2
    compressed = 0.5 * 20.0 * (math.sqrt(0.85) - 1.5) ** 2  # 0 when spring 1 is a cable (slack)
    expected = stretched + (0.0 if cables else compressed)
    assert d["strain_energy"] == pytest.approx(expected, rel=1e-12)
    assert d["units"] == UNITS
    json.dumps(d, allow_nan=False)  # strict JSON


def test_units_default_none_and_checked():
    net = two_springs(False)
    assert result_to_dict(fake_result(X0), net)["units"] is None
    assert result_to_dict(fake_result(X0), net, units={"force": "N"})["units"] == {
        "length": None,
        "force": "N",
    }
    with pytest.raises(ValueError, match="units: unknown key 'mass'"):
        check_units({"mass": "kg"})
    with pytest.raises(TypeError, match="units"):
        check_units({"length": 1})
    with pytest.raises(TypeError, match="units"):
        check_units("m")


def test_relaxed_strain_energy_and_displacements_by_hand():
    """A real solve: the V of two springs under a load; keys against hand formulas."""
    net = catenax.from_arrays(
        [[0.0, 0.0], [1.0, -0.5], [2.0, 0.0]], [[0, 1], [1, 2]], rest_length=1.0,
        stiffness=100.0, fixed=[0, 2], loads=[[1, 0.0, -10.0]], mass=0.0,
    )  # fmt: skip
    r = catenax.minimize(catenax.network_energy, net.positions, net, free=catenax.free_mask(net))
    d = result_to_dict(r, net)
    x = np.asarray(d["positions"])
    lengths = np.linalg.norm(x[[1, 2]] - x[[0, 1]], axis=1)
    assert d["strain_energy"] == pytest.approx(np.sum(50.0 * (lengths - 1.0) ** 2), rel=1e-12)
    np.testing.assert_allclose(d["displacements"], x - np.asarray(net.positions), atol=1e-15)
    # symmetric: each spring carries half the load along its own direction
    sin_a = -x[1, 1] / lengths[0]
    np.testing.assert_allclose(d["tensions"], 10.0 / (2 * sin_a), rtol=1e-9)


def test_npz_and_json_carry_the_engineer_keys(tmp_path):
    net = two_springs([1])
    d = result_to_dict(fake_result(X), net, units=UNITS)
    write_network_result(tmp_path / "r.npz", d, net)
    with np.load(tmp_path / "r.npz", allow_pickle=False) as z:
        np.testing.assert_array_equal(z["springs"], [[0, 1], [1, 2]])
        np.testing.assert_array_equal(z["rest_lengths"], [0.8, 1.5])
        np.testing.assert_allclose(z["displacements"], d["displacements"])
        assert float(z["strain_energy"]) == d["strain_energy"]
        assert str(z["units_length"]) == "m" and str(z["units_force"]) == "kN"
        assert json.loads(str(z["units"])) == UNITS
    write_network_result(tmp_path / "r.json", d, net)
    assert json.loads((tmp_path / "r.json").read_text())["units"] == UNITS
    # without units, and from positions alone: computed from the network
    write_network_result(tmp_path / "p.npz", {"positions": X}, net)
    with np.load(tmp_path / "p.npz", allow_pickle=False) as z:
        assert float(z["strain_energy"]) == pytest.approx(d["strain_energy"], rel=1e-12)
        assert str(z["units"]) == "null" and str(z["units_force"]) == ""


# ------------------------------------------------------------------ summary


def summary_data(net, tensions, units):
    d = result_to_dict(fake_result(net.positions), net, units=units)
    d["tensions"] = tensions
    d["scenario"] = {
        "path": "s.toml", "title": None, "dim": 2, "nodes": net.n_nodes,
        "springs": net.n_springs, "cables": net.cables,
        "cable_springs": int(np.sum(net.tension_only)),
    }  # fmt: skip
    d["params"] = {"method": "newton", "dtype": "float64"}
    return d


def test_summary_shows_units():
    net = two_springs(False)
    lines = scenario_summary(summary_data(net, [12.3, -4.0], UNITS), net)
    text = "\n".join(lines)
    row = {line.split()[0]: line for line in lines[1:]}
    assert "max 12.3 kN, min -4 kN" in row["tension"] and "1 springs in compression" in text
    assert row["strain"].rstrip().endswith("kN·m") and row["energy"].rstrip().endswith("kN·m")
    assert row["reactions"].rstrip().endswith("kN") and "length m, force kN" in row["units"]
    # without units: bare numbers, no units row
    lines = scenario_summary(summary_data(net, [12.3, -4.0], None), net)
    assert not any("kN" in line or line.split()[0] == "units" for line in lines[1:])
    assert unit_suffixes({"length": "m", "force": None}) == ("", " m", "")


def test_summary_counts_slack_cables_and_compressed_struts_apart():
    net = catenax.from_arrays(
        [[0, 0], [1, 0], [2, 0], [3, 0]], [[0, 1], [1, 2], [2, 3]], fixed=[0, 3], cables=[0, 1]
    )
    d = summary_data(net, [0.0, 5.0, -2.0], None)
    lines = scenario_summary(d, net)
    assert "3 springs, 2D, 2 of them cables (tension only)" in lines[0]
    tension = next(line for line in lines if line.split()[0] == "tension")
    assert "(1 slack cables, 1 springs in compression)" in tension


# ------------------------------------------------------------------ the CLI

V_TOML = """
title = "V"
[structure]
dim = 2
nodes = [[0.0, 0.0], [1.0, -0.5], [2.0, 0.0]]
springs = [[0, 1], [1, 2]]
stiffness = 100.0
rest_length = 1.0
mass = 0.0
fixed = [0, 2]
loads = [[1, 0.0, -10.0]]
[units]
length = "m"
force = "kN"
"""

ROOF_OBJ = """v 0 0 0
v 1 0 0
v 2 0 0
v 0 1 0
v 1 1 0
v 2 1 0
v 0 2 0
v 1 2 0
v 2 2 0
v 0.5 2.8 0
f 1 2 5 4
f 2 3 6 5
f 4 5 8 7
f 5 6 9 8
f 7 8 10
"""

ROOF_TOML = """
title = "roof"
[structure]
mesh = "roof.obj"
supports = "boundary"
stiffness = 100.0
rest_length = 0.9
mass = 0.0
loads = [[4, 0.0, 0.0, -5.0]]
[units]
length = "m"
force = "kN"
"""


def test_cli_json_and_summary_carry_units(invoke, tmp_path):
    path = tmp_path / "v.toml"
    path.write_text(V_TOML)
    res = invoke("relax", path, "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert list(data)[: len(RESULT_KEYS)] == list(RESULT_KEYS)
    assert data["units"] == UNITS and data["springs"] == [[0, 1], [1, 2]]
    assert data["rest_lengths"] == [1.0, 1.0]
    x = np.asarray(data["positions"])
    x0 = [[0.0, 0.0], [1.0, -0.5], [2.0, 0.0]]  # the file's nodes
    np.testing.assert_allclose(data["displacements"], x - x0, atol=1e-12)
    sin_a = -x[1, 1] / np.asarray(data["lengths"])[0]  # vertical balance: 2 T sin(a) = 10 kN
    np.testing.assert_allclose(2 * np.asarray(data["tensions"]) * sin_a, 10.0, rtol=1e-9)
    lengths = np.asarray(data["lengths"])
    assert data["strain_energy"] == pytest.approx(np.sum(50.0 * (lengths - 1.0) ** 2), rel=1e-12)
    s = data["scenario"]
    assert list(s)[:6] == ["path", "title", "dim", "nodes", "springs", "cables"]
    assert s["cables"] is False and s["cable_springs"] == 0 and s["springs"] == 2
    res = invoke("relax", path)
    assert res.exit_code == 0, res.stderr
    assert "kN·m" in res.stdout and "units" in res.stdout
    tension = next(line for line in res.stdout.splitlines() if line.split()[:1] == ["tension"])
    assert tension.count("kN") == 2


def test_cli_mesh_out_obj_faces_and_compas(invoke, tmp_path):
    compas = pytest.importorskip("compas")
    (tmp_path / "roof.obj").write_text(ROOF_OBJ)
    path = tmp_path / "roof.toml"
    path.write_text(ROOF_TOML)
    obj, cj = tmp_path / "out.obj", tmp_path / "out.json"
    res = invoke("relax", path, "--json", "--out", obj, "--compas", cj)
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    faces = [line.split()[1:] for line in obj.read_text().splitlines() if line.startswith("f ")]
    assert faces == [["1", "2", "5", "4"], ["2", "3", "6", "5"], ["4", "5", "8", "7"],
                     ["5", "6", "9", "8"], ["7", "8", "10"]]  # fmt: skip
    mesh = compas.json_load(str(cj))
    assert type(mesh).__name__ == "Mesh"
    assert mesh.number_of_vertices() == 10 and mesh.number_of_faces() == 5
    xyz = [mesh.vertex_coordinates(v) for v in sorted(mesh.vertices())]
    np.testing.assert_allclose(xyz, data["positions"], atol=1e-12)
    assert data["positions"][4][2] < 0  # the loaded middle node moved down


def test_compas_refused_for_the_chain_and_a_wrong_suffix(invoke, tmp_path):
    res = invoke("relax", "--n", "3", "--compas", tmp_path / "c.json")
    assert res.exit_code == 2
    assert "--compas" in res.stderr and "scenario" in res.stderr
    path = tmp_path / "v.toml"
    path.write_text(V_TOML)
    res = invoke("relax", path, "--compas", tmp_path / "c.obj", "--out", tmp_path / "r.json")
    assert res.exit_code == 2
    assert "--compas" in res.stderr and ".json" in res.stderr
    res = invoke("relax", path, "--compas", tmp_path / "r.json", "--out", tmp_path / "r.json")
    assert res.exit_code == 2 and "--out" in res.stderr
    res = invoke("relax", path, "--method", "gd", "--lr", "1.0", "--compas", tmp_path / "d.json")
    assert res.exit_code == 1  # diverged: nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.toml"]
    res = invoke("relax", "--help")
    assert "--compas" in res.stdout and "COMPAS" in res.stdout
