"""Property tests of the scenario side: random valid networks survive the files unchanged.

* a network written as a scenario (the explicit ``[structure]`` form, as JSON
  and as TOML) and parsed back is the network ``from_arrays`` builds from the
  same arrays, field by field;
* the result files (.npz, .csv, .json) of a network give back the positions,
  springs, supports and tensions they were given.
"""

import csv
import json
import math
import pathlib
import tempfile

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import catenax
from catenax.io import load_scenario, parse_scenario, write_network_result
from catenax.model import ARRAY_FIELDS

FAST = settings(max_examples=25, deadline=None)

_coord = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)
_nonneg = st.floats(0.0, 100.0, allow_nan=False, allow_infinity=False)
_force = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False)


@st.composite
def scenarios(draw):
    """A valid explicit ``[structure]`` table: every node joined, no duplicate springs."""
    n = draw(st.integers(2, 6))
    d = draw(st.sampled_from([2, 3]))
    nodes = [[draw(_coord) for _ in range(d)] for _ in range(n)]
    order = draw(st.permutations(range(n)))
    pairs = {tuple(sorted(p)) for p in zip(order, order[1:], strict=False)}  # a path: all joined
    others = [(i, j) for i in range(n) for j in range(i + 1, n) if (i, j) not in pairs]
    if others:
        pairs |= set(draw(st.lists(st.sampled_from(others), max_size=3, unique=True)))
    springs = [list(p) for p in sorted(pairs)]
    m = len(springs)

    def per(count, strategy):  # one number or one per spring/node
        one = draw(st.booleans())
        return draw(strategy) if one else [draw(strategy) for _ in range(count)]

    structure = {
        "dim": d,
        "nodes": nodes,
        "springs": springs,
        "stiffness": per(m, _nonneg),
        "rest_length": draw(st.sampled_from(["initial", "numbers"])),
        "mass": per(n, _nonneg),
        "fixed": sorted(draw(st.sets(st.integers(0, n - 1), max_size=n))),
    }
    if structure["rest_length"] == "numbers":
        structure["rest_length"] = per(m, _nonneg)
    if draw(st.booleans()):
        structure["gravity"] = [draw(_force) for _ in range(d)]
    if draw(st.booleans()):
        structure["cables"] = draw(st.booleans())
    if draw(st.booleans()):
        rows = st.tuples(st.integers(0, n - 1), *[_force] * d).map(list)
        structure["loads"] = draw(st.lists(rows, min_size=1, max_size=3))
    return structure


def _expected(s):
    """The same network built from the same arrays with :func:`catenax.from_arrays`."""
    return catenax.from_arrays(
        s["nodes"],
        np.asarray(s["springs"], dtype=np.int64),
        rest_length=s["rest_length"],
        stiffness=s["stiffness"],
        mass=s["mass"],
        gravity=s.get("gravity", [0.0] * s["dim"]),
        fixed=s["fixed"],
        loads=s.get("loads"),
        cables=s.get("cables", False),
    )


def _assert_same(a, b):
    for name in ARRAY_FIELDS:
        np.testing.assert_array_equal(np.asarray(getattr(a, name)), np.asarray(getattr(b, name)))
    assert a.cables == b.cables


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, str)):
        return json.dumps(v)  # repr of a finite float is valid TOML and round-trips
    return "[" + ", ".join(_toml_value(x) for x in v) + "]"


def _toml(structure):
    body = "\n".join(f"{k} = {_toml_value(v)}" for k, v in structure.items())
    return "[structure]\n" + body + "\n"


@FAST
@given(scenarios())
def test_scenario_json_round_trip_gives_the_same_network(structure):
    data = json.loads(json.dumps({"structure": structure}))
    _assert_same(parse_scenario(data).network, _expected(structure))


@FAST
@given(scenarios())
def test_scenario_toml_file_gives_the_same_network(structure):
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "s.toml"
        path.write_text(_toml(structure), encoding="utf-8")
        scenario = load_scenario(path)
    _assert_same(scenario.network, _expected(structure))
    assert scenario.solver_settings == {}


@FAST
@given(scenarios(), st.data())
def test_network_result_files_give_back_what_they_were_given(structure, data):
    net = _expected(structure)
    n, d = net.positions.shape
    x = np.asarray([[data.draw(_coord) for _ in range(d)] for _ in range(n)])
    tens = [data.draw(_force) for _ in range(net.n_springs)]
    result = {"positions": x.tolist(), "tensions": tens, "status": "converged"}
    fixed = catenax.model.fixed_coordinates(net)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        with np.load(write_network_result(tmp / "r.npz", result, net)) as z:
            np.testing.assert_array_equal(z["positions"], x)
            np.testing.assert_array_equal(z["springs"], np.asarray(net.springs))
            np.testing.assert_array_equal(z["fixed"], fixed)
            np.testing.assert_array_equal(z["tensions"], tens)
            assert str(z["status"]) == "converged"
        with write_network_result(tmp / "r.csv", result, net).open(newline="") as f:
            rows = list(csv.DictReader(f))
        nodes = [r for r in rows if r["kind"] == "node"]
        got = [[float(r[a]) for a in "xyz"[:d]] for r in nodes]
        np.testing.assert_array_equal(got, x)
        assert [int(r["fixed"]) for r in nodes] == fixed.any(axis=1).astype(int).tolist()
        spring_rows = [r for r in rows if r["kind"] == "spring"]
        assert [[int(r["i"]), int(r["j"])] for r in spring_rows] == np.asarray(net.springs).tolist()
        assert [float(r["tension"]) for r in spring_rows] == tens
        back = json.loads(write_network_result(tmp / "r.json", result, net).read_text())
    assert back == result and all(math.isfinite(t) for t in back["tensions"])
