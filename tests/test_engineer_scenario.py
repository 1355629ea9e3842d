"""The engineer's scenario keys (issue 12): ``ea``, ``prestress``, ``force_density``,
``cables`` lists, rollers in ``fixed``, ``line_mass``, ``[units]``, ``mesh`` and
``supports = "boundary"``, from TOML and JSON, each checked by numbers worked
out by hand, and every bad value refused with the file, the line and the key.
"""

import json
import math

import numpy as np
import pytest

import catenax
from catenax import sweep

FORMATS = ["toml", "json"]


def _toml_value(v):
    return json.dumps(v)  # numbers, strings, booleans and lists are the same in TOML


def to_text(data, fmt):
    """A scenario dict as the text of a .toml or .json file (one key per line)."""
    if fmt == "json":
        return json.dumps(data, indent=1)
    lines = []
    for table, keys in data.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def load(tmp_path, data, fmt="toml", name="s"):
    p = tmp_path / f"{name}.{fmt}"
    p.write_text(to_text(data, fmt))
    return catenax.load_scenario(p)


def line_of(text, table, key, fmt):
    """The 1-based line of ``key`` in ``[table]`` of a file written by :func:`to_text`."""
    lines = text.splitlines()
    head = f"[{table}]" if fmt == "toml" else f'"{table}": {{'
    start = next(i for i, s in enumerate(lines) if s.strip() == head)
    want = f"{key} = " if fmt == "toml" else f'"{key}": '
    return next(i + 1 for i in range(start, len(lines)) if lines[i].strip().startswith(want))


def refused(tmp_path, data, fmt, table, key, *words):
    """Loading ``data`` fails with "bad.fmt:LINE: table.key: ..." and the words."""
    text = to_text(data, fmt)
    p = tmp_path / f"bad.{fmt}"
    p.write_text(text)
    with pytest.raises(ValueError) as info:
        catenax.load_scenario(p)
    msg = str(info.value)
    assert msg.startswith(f"bad.{fmt}:{line_of(text, table, key, fmt)}: {table}.{key}:"), msg
    for w in words:
        assert w in msg, (w, msg)
    return msg


def cross(**members):
    """A plus-shaped 2D net: centre node 4 joined to four held nodes; no load, no gravity.

    Spring lengths 1, 2 (along x) and 1.5, 0.5 (along y).
    """
    structure = {
        "dim": 2,
        "nodes": [[-1.0, 0.0], [2.0, 0.0], [0.0, -1.5], [0.0, 0.5], [0.0, 0.0]],
        "springs": [[0, 4], [4, 1], [2, 4], [4, 3]],
        "mass": 0.0,
        "fixed": [0, 1, 2, 3],
    }
    structure.update(members)
    return {"structure": structure}


LENGTHS = np.array([1.0, 2.0, 1.5, 0.5])


def relaxed_tensions(net):
    r = catenax.minimize(
        catenax.network_energy, net.positions, net, free=catenax.free_mask(net), tol=1e-13
    )
    assert r.status == "converged", r.message
    return np.asarray(catenax.tensions(r.positions, net)), np.asarray(r.positions)


# ------------------------------------------------------------------ ea


@pytest.mark.parametrize("fmt", FORMATS)
def test_ea_with_rest_length_gives_ea_over_l(tmp_path, fmt):
    rest = [0.9, 1.8, 1.5, 0.25]
    net = load(tmp_path, cross(ea=[1000.0, 2000.0, 300.0, 50.0], rest_length=rest), fmt).network
    assert net.stiffness.tolist() == [1000.0 / 0.9, 2000.0 / 1.8, 300.0 / 1.5, 50.0 / 0.25]
    assert net.rest_length.tolist() == rest
    one = load(tmp_path, cross(ea=600.0, rest_length="initial"), fmt).network
    assert one.stiffness.tolist() == (600.0 / LENGTHS).tolist()
    np.testing.assert_array_equal(one.rest_length, LENGTHS)


def test_ea_and_hand_converted_stiffness_are_the_same_network(tmp_path):
    a = load(tmp_path, cross(ea=800.0, rest_length=0.4)).network
    b = load(tmp_path, cross(stiffness=2000.0, rest_length=0.4)).network
    for f in ("stiffness", "rest_length", "mass", "positions"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


# ------------------------------------------------------------ prestress


@pytest.mark.parametrize("fmt", FORMATS)
def test_prestress_with_ea_gives_the_rest_length_and_the_tension_back(tmp_path, fmt):
    EA = np.array([1000.0, 2000.0, 400.0, 800.0])
    T0 = np.array([30.0, 30.0, 12.0, 12.0])  # x pair and y pair balance at the centre
    net = load(tmp_path, cross(ea=EA.tolist(), prestress=T0.tolist()), fmt).network
    rest = LENGTHS / (1.0 + T0 / EA)
    np.testing.assert_allclose(net.rest_length, rest, rtol=1e-15)
    np.testing.assert_allclose(net.stiffness, EA / rest, rtol=1e-15)
    t, x = relaxed_tensions(net)
    np.testing.assert_allclose(t, T0, rtol=1e-9)
    np.testing.assert_allclose(x, np.asarray(net.positions), atol=1e-12)  # nothing moved


@pytest.mark.parametrize("fmt", FORMATS)
def test_prestress_with_stiffness_gives_l_minus_t0_over_k(tmp_path, fmt):
    k = np.array([500.0, 250.0, 100.0, 300.0])
    net = load(tmp_path, cross(stiffness=k.tolist(), prestress=20.0), fmt).network
    np.testing.assert_allclose(net.rest_length, LENGTHS - 20.0 / k, rtol=1e-15)
    np.testing.assert_array_equal(net.stiffness, k)
    t, _ = relaxed_tensions(net)
    np.testing.assert_allclose(t, 20.0, rtol=1e-9)


@pytest.mark.parametrize("fmt", FORMATS)
def test_force_density_is_prestress_q_times_length(tmp_path, fmt):
    q = [10.0, 5.0, 4.0, 12.0]  # q L = 10, 10, 6, 6: balanced
    a = load(tmp_path, cross(ea=900.0, force_density=q), fmt).network
    b = load(tmp_path, cross(ea=900.0, prestress=[10.0, 10.0, 6.0, 6.0]), fmt).network
    np.testing.assert_allclose(a.rest_length, b.rest_length, rtol=1e-15)
    np.testing.assert_allclose(a.stiffness, b.stiffness, rtol=1e-15)
    c = load(tmp_path, cross(stiffness=100.0, force_density=2.0), fmt).network
    np.testing.assert_allclose(c.rest_length, LENGTHS - 2.0 * LENGTHS / 100.0, rtol=1e-15)
    t, _ = relaxed_tensions(a)
    np.testing.assert_allclose(t, [10.0, 10.0, 6.0, 6.0], rtol=1e-9)


def test_zero_prestress_keeps_the_drawn_length_even_at_zero_stiffness(tmp_path):
    net = load(tmp_path, cross(stiffness=[0.0, 1.0, 1.0, 1.0], prestress=0.0)).network
    np.testing.assert_array_equal(net.rest_length, LENGTHS)


def test_compression_prestress_on_a_strut_is_allowed(tmp_path):
    net = load(tmp_path, cross(ea=1000.0, prestress=-10.0, cables=[])).network
    np.testing.assert_allclose(net.rest_length, LENGTHS / (1.0 - 0.01), rtol=1e-15)


# ------------------------------------------------------------ cables


@pytest.mark.parametrize("fmt", FORMATS)
def test_cables_list_is_the_tension_only_mask(tmp_path, fmt):
    net = load(tmp_path, cross(stiffness=1.0, rest_length="initial", cables=[3, 1]), fmt).network
    assert net.tension_only.tolist() == [False, True, False, True]
    assert net.cables is True
    none = load(tmp_path, cross(stiffness=1.0, rest_length="initial", cables=[]), fmt).network
    assert none.tension_only.tolist() == [False] * 4 and none.cables is False
    every = load(tmp_path, cross(stiffness=1.0, rest_length="initial", cables=True), fmt)
    assert every.network.tension_only.tolist() == [True] * 4


def test_a_slack_cable_carries_nothing_a_strut_pushes(tmp_path):
    # every spring 10% too long: compression everywhere, only the struts carry it
    data = cross(stiffness=100.0, rest_length=(LENGTHS * 1.1).tolist(), cables=[0, 2])
    net = load(tmp_path, data).network
    t = np.asarray(catenax.tensions(net.positions, net))
    np.testing.assert_allclose(t, [0.0, -100.0 * 0.2, 0.0, -100.0 * 0.05], atol=1e-12)


# ------------------------------------------------------------ rollers


def roller_truss(fixed, P=10.0):
    """A triangle truss, apex 2 loaded by P downwards."""
    return {
        "structure": {
            "dim": 2,
            "nodes": [[0.0, 0.0], [2.0, 0.0], [0.7, 1.0]],
            "springs": [[0, 2], [1, 2], [0, 1]],
            "ea": 1e6,
            "rest_length": "initial",
            "mass": 0.0,
            "fixed": fixed,
            "loads": [[2, 0.0, -P]],
        }
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_roller_holds_its_axes_and_its_reaction_is_zero_along_the_others(tmp_path, fmt):
    s = load(tmp_path, roller_truss([0, [1, "y"]]), fmt)
    net = s.network
    assert np.asarray(net.fixed).tolist() == [[True, True], [False, True], [False, False]]
    r = catenax.solve_scenario(s, method="newton", tol=1e-13)
    assert r.status == "converged"
    react = np.asarray(catenax.reactions(r.positions, net))
    assert react.shape == (3, 2)
    assert react[1, 0] == 0.0  # free along x: no reaction there, exactly
    assert react[2].tolist() == [0.0, 0.0]
    # moments about node 0 on the relaxed geometry: R1y x1 = P x2
    x = np.asarray(r.positions)
    np.testing.assert_allclose(react[1, 1], 10.0 * x[2, 0] / x[1, 0], rtol=1e-9)
    np.testing.assert_allclose(react[0], [0.0, 10.0 - react[1, 1]], atol=1e-9)
    assert x[1, 1] == 0.0 and x[1, 0] != 2.0  # the roller slid along x, kept y


def test_roller_entries_on_one_node_combine_and_3d_axes(tmp_path):
    data = roller_truss([[0, "x"], [0, "y"], [1, "y"]])
    mask = np.asarray(load(tmp_path, data).network.fixed)
    assert mask.tolist() == [[True, True], [False, True], [False, False]]
    s3 = {
        "structure": {
            "dim": 3,
            "nodes": [[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]],
            "springs": [[0, 1], [1, 2], [2, 3]],
            "stiffness": 1.0,
            "rest_length": "initial",
            "mass": 1.0,
            "fixed": [0, [3, "xz"], [2, "zy"]],
        }
    }
    mask = np.asarray(load(tmp_path, s3, "json").network.fixed)
    assert mask.tolist() == [[True] * 3, [False] * 3, [False, True, True], [True, False, True]]
    plain = load(tmp_path, roller_truss([0, 1])).network
    assert np.asarray(plain.fixed).tolist() == [True, True, False]  # node form kept


# ------------------------------------------------------------ line mass


@pytest.mark.parametrize("fmt", FORMATS)
def test_line_mass_is_lumped_half_onto_each_end(tmp_path, fmt):
    data = cross(stiffness=1.0, rest_length=[1.0, 2.0, 3.0, 4.0], line_mass=[0.5, 1.0, 2.0, 0.25])
    data["structure"]["mass"] = [0.1, 0.2, 0.3, 0.4, 0.5]
    net = load(tmp_path, data, fmt).network
    # member masses mu l: 0.5, 2.0, 6.0, 1.0; centre node 4 is an end of all four
    expect = [0.1 + 0.25, 0.2 + 1.0, 0.3 + 3.0, 0.4 + 0.5, 0.5 + (0.5 + 2.0 + 6.0 + 1.0) / 2]
    np.testing.assert_allclose(net.mass, expect, rtol=1e-15)
    del data["structure"]["mass"]  # optional with line_mass: 0
    net = load(tmp_path, data, fmt).network
    np.testing.assert_allclose(net.mass, np.array(expect) - [0.1, 0.2, 0.3, 0.4, 0.5], rtol=1e-14)


def test_line_mass_uses_the_rest_lengths_after_prestress(tmp_path):
    net = load(tmp_path, cross(ea=100.0, prestress=1.0, line_mass=3.0)).network
    rest = LENGTHS / 1.01
    np.testing.assert_allclose(net.mass[:4], 1.5 * rest, rtol=1e-14)
    np.testing.assert_allclose(net.mass[4], 1.5 * rest.sum(), rtol=1e-14)


# ------------------------------------------------------------ units


@pytest.mark.parametrize("fmt", FORMATS)
def test_units_table(tmp_path, fmt):
    data = {**cross(stiffness=1.0, rest_length=0.5), "units": {"length": "m", "force": "kN"}}
    assert load(tmp_path, data, fmt).units == {"length": "m", "force": "kN"}
    data["units"] = {"force": "lbf"}
    assert load(tmp_path, data, fmt).units == {"length": None, "force": "lbf"}
    assert load(tmp_path, cross(stiffness=1.0, rest_length=0.5), fmt).units is None


# ------------------------------------------------------------ mesh

#: A 3x3 grid of vertices, four quads, the centre raised; a line 4-9 to a mast top.
ROOF_OBJ = """\
# a small roof
v 0 0 0
v 1 0 0
v 2 0 0
v 0 1 0
v 1 1 0.5
v 2 1 0
v 0 2 0
v 1 2 0
v 2 2 0
v 1 1 2
f 1 2 5 4
f 2 3 6 5
f 4 5 8 7
f 5 6 9 8
l 5 10
"""


@pytest.mark.parametrize("fmt", FORMATS)
def test_mesh_gives_nodes_springs_faces_and_boundary_supports(tmp_path, fmt):
    (tmp_path / "roof.obj").write_text(ROOF_OBJ)
    data = {
        "structure": {
            "mesh": "roof.obj",
            "supports": "boundary",
            "fixed": [9],
            "ea": 1000.0,
            "prestress": 5.0,
            "mass": 0.0,
        },
        "units": {"length": "m", "force": "kN"},
    }
    s = load(tmp_path, data, fmt)
    net = s.network
    assert (net.n_nodes, net.dim) == (10, 3)
    assert net.n_springs == 12 + 1  # each face edge once, plus the line
    pairs = {tuple(sorted(p)) for p in np.asarray(net.springs).tolist()}
    assert (4, 9) in pairs and (0, 1) in pairs and (1, 4) in pairs
    assert np.asarray(net.faces).tolist() == [
        [0, 1, 4, 3],
        [1, 2, 5, 4],
        [3, 4, 7, 6],
        [4, 5, 8, 7],
    ]
    assert catenax.support_nodes(net).tolist() == [0, 1, 2, 3, 5, 6, 7, 8, 9]  # centre free
    x = np.asarray(net.positions)
    L = np.linalg.norm(x[np.asarray(net.springs)[:, 1]] - x[np.asarray(net.springs)[:, 0]], axis=1)
    np.testing.assert_allclose(net.rest_length, L / 1.005, rtol=1e-15)
    np.testing.assert_allclose(net.positions[4], [1.0, 1.0, 0.5])


def test_mesh_from_another_folder_dim_2_and_rollers(tmp_path):
    (tmp_path / "geo").mkdir()
    flat = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0.5 0.5 0\nf 1 2 5\nf 2 3 5\nf 3 4 5\nf 4 1 5\n"
    (tmp_path / "geo" / "flat.obj").write_text(flat)
    data = {
        "structure": {
            "mesh": "geo/flat.obj",
            "dim": 2,
            "supports": "boundary",
            "fixed": [[4, "x"]],
            "stiffness": 1.0,
            "rest_length": "initial",
            "line_mass": 1.0,
        }
    }
    net = load(tmp_path, data).network
    assert net.dim == 2 and net.positions.shape == (5, 2)
    assert np.asarray(net.fixed).tolist() == [[True, True]] * 4 + [[True, False]]
    diag = math.sqrt(0.5)  # four rim edges of 1, four spokes of sqrt(0.5)
    np.testing.assert_allclose(net.mass[4], 4 * diag / 2, rtol=1e-14)
    np.testing.assert_allclose(net.mass[0], (1.0 + 1.0 + diag) / 2, rtol=1e-14)


def test_mesh_from_an_absolute_path_and_a_dict(tmp_path):
    (tmp_path / "roof.obj").write_text(ROOF_OBJ)
    data = {"structure": {"mesh": str(tmp_path / "roof.obj"), "supports": "boundary",
                          "fixed": [9], "stiffness": 1.0, "rest_length": "initial",
                          "mass": 1.0}}  # fmt: skip
    assert catenax.parse_scenario(data).network.n_nodes == 10


# ------------------------------------------------------------ bad input

BASE = cross(ea=1000.0, prestress=[30.0, 30.0, 12.0, 12.0])["structure"]


def _with(**changes):
    s = {k: v for k, v in BASE.items() if changes.get(k, 0) is not None}
    s.update({k: v for k, v in changes.items() if v is not None})
    return {"structure": s}


BAD = [
    # (structure changes, key in the message, words)
    (dict(stiffness=5.0), "ea", ["ea and stiffness", "keep one"]),
    (dict(ea=None, prestress=None, stiffness=5.0, rest_length=1.0, force_density=2.0),
     "force_density", ["force_density and rest_length"]),
    (dict(rest_length=1.0), "prestress", ["prestress and rest_length"]),
    (dict(force_density=1.0), "force_density", ["force_density and prestress"]),
    (dict(ea=-1000.0), "ea", ["negative", "ea > 0"]),
    (dict(ea=[1000.0, 0.0, 1.0, 1.0]), "ea", ["ea[1] = 0.0", "ea > 0"]),
    (dict(ea=[1.0, 2.0]), "ea", ["2 numbers for 4 springs"]),
    (dict(ea=None, stiffness=10.0, prestress=[30.0, 30.0, 12.0, 12.0]), "prestress",
     ["prestress[0] = 30.0", "spring 0", "length 1", "rest length", "k L = 10"]),
    (dict(prestress=[-1000.0, 30.0, 12.0, 12.0]), "prestress",
     ["spring 0", "rest length", "-EA = -1000"]),
    (dict(prestress=-1.0, cables=[2]), "prestress",
     ["spring 2", "cable", "cannot be prestressed in compression"]),
    (dict(prestress=None, force_density=-1.0, cables=True), "force_density", ["spring 0", "cable"]),
    (dict(nodes=[[-1.0, 0.0], [2.0, 0.0], [0.0, -1.5], [0.0, 0.0], [0.0, 0.0]]), "prestress",
     ["spring 3", "length 0", "same point"]),
    (dict(prestress=None, rest_length=[1.0, 0.0, 1.0, 1.0]), "rest_length",
     ["rest_length[1] = 0.0", "ea", "> 0"]),
    (dict(fixed=[0, 1, 2, [3, "w"]]), "fixed", ['fixed[3] = [3, "w"]', "axis 'w'"]),
    (dict(fixed=[0, 1, 2, [3, "z"]]), "fixed", ["axis 'z'", "2D", '"xy"']),
    (dict(fixed=[0, 1, 2, [3, ""]]), "fixed", ["no axis"]),
    (dict(fixed=[0, 1, 2, [3, "yy"]]), "fixed", ["repeated"]),
    (dict(fixed=[0, 1, 2, [7, "y"]]), "fixed", ["fixed[3] = [7, \"y\"]", "0 to 4"]),
    (dict(fixed=[0, 1, 2, [3, 1]]), "fixed", ["[node, \"AXES\"]"]),
    (dict(cables=[0, 4]), "cables", ["cables[1] = 4", "spring index", "0 to 3"]),
    (dict(cables="yes"), "cables", ["true or false"]),
    (dict(line_mass=-1.0), "line_mass", ["negative"]),
    (dict(mass=None), "mass", ["mass (or line_mass)"]),
    (dict(ea=None), "stiffness", ["stiffness (or ea)"]),
    (dict(prestress=None), "rest_length", ["rest_length (or prestress or force_density)"]),
    (dict(supports="boundary"), "supports", ["needs the faces of a mesh"]),
    (dict(supports="corners"), "supports", ["unknown supports value", "boundary"]),
    (dict(mesh="roof.obj"), "mesh", ["mesh and nodes"]),
]  # fmt: skip


def _missing_key_line(data, key):
    return key not in data["structure"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("changes, key, words", BAD)
def test_bad_engineer_keys_name_file_line_and_key(tmp_path, fmt, changes, key, words):
    data = _with(**changes)
    if key in data["structure"]:
        refused(tmp_path, data, fmt, "structure", key, *words)
    else:  # a missing key: no line to give
        p = tmp_path / f"bad.{fmt}"
        p.write_text(to_text(data, fmt))
        with pytest.raises(ValueError) as info:
            catenax.load_scenario(p)
        msg = str(info.value)
        assert msg.startswith(f"bad.{fmt}: structure.{key}: missing key(s)"), msg
        for w in words:
            assert w in msg, (w, msg)


MESH_BAD = [
    ("nope.obj", None, ["nope.obj", "not found"]),
    ("roof.stl", "solid x\n", ["roof.stl", "not an .obj"]),
    ("roof.obj", "v 0 0 0\nv 1 0 zero\n", ["roof.obj"]),
    ("roof.json", '{"dtype": "compas.geometry/Point", "data": {}}', ["roof.json"]),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name, content, words", MESH_BAD)
def test_bad_mesh_files_are_refused_under_the_mesh_key(tmp_path, fmt, name, content, words):
    if content is not None:
        (tmp_path / name).write_text(content)
    data = {"structure": {"mesh": name, "supports": "boundary", "stiffness": 1.0,
                          "rest_length": "initial", "mass": 1.0}}  # fmt: skip
    refused(tmp_path, data, fmt, "structure", "mesh", *words)


def test_bad_mesh_dim_and_closed_surfaces(tmp_path):
    (tmp_path / "roof.obj").write_text(ROOF_OBJ)
    data = {"structure": {"mesh": "roof.obj", "dim": 2, "supports": "boundary",
                          "stiffness": 1.0, "rest_length": "initial", "mass": 1.0}}  # fmt: skip
    refused(tmp_path, data, "toml", "structure", "dim", "vertex 4", "z = 0.5")
    tetra = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 3 4\nf 1 4 2\nf 2 4 3\n"
    (tmp_path / "tetra.obj").write_text(tetra)
    data["structure"].update(mesh="tetra.obj", dim=3)
    refused(tmp_path, data, "json", "structure", "supports", "closed surface")
    del data["structure"]["supports"]
    p = tmp_path / "bad.toml"
    p.write_text(to_text(data, "toml"))
    with pytest.raises(ValueError, match=r"structure.fixed: missing key\(s\): fixed \(or supp"):
        catenax.load_scenario(p)


UNITS_BAD = [
    ({"length": "m", "mass": "kg"}, "mass", ["unknown key", "length, force"]),
    ({"length": 1.0}, "length", ["not a string"]),
    ({"force": ""}, "force", ["not a unit name"]),
    ({"force": "kilonewtons per square"}, "force", ["not a unit name", "1 to 16"]),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("units, key, words", UNITS_BAD)
def test_bad_units_are_refused(tmp_path, fmt, units, key, words):
    data = {**cross(stiffness=1.0, rest_length=0.5), "units": units}
    refused(tmp_path, data, fmt, "units", key, *words)


def test_units_must_be_a_table(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({**cross(stiffness=1.0, rest_length=0.5), "units": "SI"}))
    with pytest.raises(ValueError, match=r"bad.json:1: units: must be a table"):
        catenax.load_scenario(p)


def test_the_cli_exits_2_without_a_traceback(invoke, tmp_path):
    cases = [
        (dict(stiffness=5.0), "structure.ea"),
        (dict(prestress=-1.0, cables=[2]), "structure.prestress"),
        (dict(fixed=[0, 1, 2, [3, "w"]]), "structure.fixed"),
        (dict(mesh="missing.obj"), "structure.mesh"),
    ]
    for changes, where in cases:
        p = tmp_path / "bad.toml"
        p.write_text(to_text(_with(**changes), "toml"))
        r = invoke("relax", p)
        assert r.exit_code == 2, r.output
        assert where in r.output and "Traceback" not in r.output, r.output
    p.write_text(to_text({**cross(stiffness=1.0, rest_length=0.5), "units": {"x": "m"}}, "toml"))
    r = invoke("relax", p)
    assert r.exit_code == 2 and "units.x" in r.output, r.output


# ------------------------------------------------------------ sweeps


def test_a_sweep_varies_ea_and_prestress(tmp_path):
    data = cross(ea=1000.0, prestress=20.0, cables=[0, 1, 2, 3], loads=[[4, 0.0, -1.0]])
    with pytest.warns(UserWarning, match="not change the network linearly"):
        r = sweep(data, {"structure.prestress": "10,20,40"}, keep_shapes=True)
    for i, t0 in enumerate((10.0, 20.0, 40.0)):
        d = cross(ea=1000.0, prestress=t0, cables=[0, 1, 2, 3], loads=[[4, 0.0, -1.0]])
        m = catenax.solve_scenario(catenax.parse_scenario(d))
        assert r.table["status"][i] == m.status == "converged"
        np.testing.assert_allclose(r.positions[i], m.positions, atol=1e-10)
    assert r.positions[0][4, 1] < r.positions[1][4, 1] < r.positions[2][4, 1] < 0  # less sag
    # ea with rest lengths: k = EA / l is linear in EA, so the lanes are built on the device
    data = cross(ea=1000.0, rest_length=(0.99 * LENGTHS).tolist(), loads=[[4, 0.0, -1.0]])
    r = sweep(tmp_path_scenario(tmp_path, data), {"structure.ea": "500,1000"}, keep_shapes=True)
    for i, ea in enumerate((500.0, 1000.0)):
        d = cross(ea=ea, rest_length=(0.99 * LENGTHS).tolist(), loads=[[4, 0.0, -1.0]])
        m = catenax.solve_scenario(catenax.parse_scenario(d))
        np.testing.assert_allclose(r.positions[i], m.positions, atol=1e-10)


def tmp_path_scenario(tmp_path, data):
    p = tmp_path / "sweep.toml"
    p.write_text(to_text(data, "toml"))
    return p


def test_a_sweep_over_a_mesh_scenario_finds_the_mesh_next_to_the_file(tmp_path, monkeypatch):
    (tmp_path / "roof.obj").write_text(ROOF_OBJ)
    data = {"structure": {"mesh": "roof.obj", "supports": "boundary", "fixed": [9],
                          "stiffness": 10.0, "rest_length": "initial", "mass": 0.01,
                          "gravity": [0.0, 0.0, -9.81]}}  # fmt: skip
    p = tmp_path_scenario(tmp_path, data)
    monkeypatch.chdir(tmp_path.parent)
    r = sweep(p, {"structure.mass": "0.01,0.02"})
    assert r.table["status"].tolist() == ["converged", "converged"]
    with pytest.raises(ValueError, match="structure.mesh is the mesh file"):
        sweep(p, {"structure.mesh": "1,2"})


def test_same_topology_compares_the_cable_masks():
    from catenax.sweeps.scenario_keys import same_topology

    a = catenax.parse_scenario(cross(stiffness=1.0, rest_length=0.5, cables=[0])).network
    b = catenax.parse_scenario(cross(stiffness=1.0, rest_length=0.5, cables=[1])).network
    same_topology("k", a, a)
    with pytest.raises(ValueError, match="joined or held"):
        same_topology("k", a, b)


def test_mesh_from_a_compas_json_file(tmp_path):
    compas = pytest.importorskip("compas")
    from compas.datastructures import Mesh

    verts = [[0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0], [1, 1, 0.5], [2, 1, 0]]
    mesh = Mesh.from_vertices_and_faces(verts, [[0, 1, 4, 3], [1, 2, 5, 4]])
    compas.json_dump(mesh, str(tmp_path / "roof.json"))
    data = {"structure": {"mesh": "roof.json", "supports": "boundary", "stiffness": 1.0,
                          "rest_length": "initial", "mass": 1.0}}  # fmt: skip
    net = load(tmp_path, data, "json").network
    assert (net.n_nodes, net.n_springs, net.dim) == (6, 7, 3)
    np.testing.assert_allclose(net.positions, verts)
    assert sorted(map(sorted, np.asarray(net.faces).tolist())) == [[0, 1, 3, 4], [1, 2, 4, 5]]
    assert catenax.support_nodes(net).tolist() == [0, 1, 2, 3, 4, 5]
