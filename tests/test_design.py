"""catenax.design: known rest lengths recovered, subsets, tension terms, errors, scenarios.

Each design is small (a chain of a few masses) and runs in float64. The round
trip is the issue's: a statically determinate chain with random rest lengths
hangs in some shape; from uniform rest lengths, the design must find that
shape to 1e-8 and the rest lengths to 1e-6 (they are unique: each spring's
length and tension follow from the shape by equilibrium of its nodes).
"""

import jax
import numpy as np
import pytest

import catenax
from catenax.design import Target, parse_subset, parse_vary, read_target
from catenax.design.variables import design_model

N = 6  # free masses


@pytest.fixture(autouse=True)
def x64():
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def _chain(rest, cables=False, mass=0.1):
    n = len(rest) - 1
    x = np.linspace(0.0, 1.0, n + 2)
    return {
        "structure": {
            "dim": 2,
            "nodes": np.stack([x, 0 * x], 1).tolist(),
            "springs": [[i, i + 1] for i in range(n + 1)],
            "stiffness": 400.0,
            "rest_length": list(map(float, rest)),
            "mass": mass,
            "gravity": [0.0, -9.81],
            "fixed": [0, n + 1],
            "cables": cables,
        }
    }


def _relaxed(scenario):
    return np.array(catenax.solve_scenario(catenax.parse_scenario(scenario)).positions)


@pytest.fixture(scope="module")
def known():
    rng = np.random.default_rng(3)
    rest = rng.uniform(0.13, 0.2, N + 1)
    return rest


def test_round_trip_recovers_the_shape_and_the_rest_lengths(known):
    goal = _relaxed(_chain(known))
    start = _chain(np.full(N + 1, known.mean()))
    r = catenax.design(start, goal, vary="rest_length")
    assert r.status == "converged" and r.converged and r.stable
    assert r.max_deviation < 1e-8
    np.testing.assert_allclose(r.variables["rest_length"], known, atol=1e-6)
    assert np.max(np.abs(r.positions - goal)) < 1e-8
    assert r.min_eigenvalue > 0 and r.loss < 1e-16 and r.steps >= 1
    # the designed scenario loads and relaxes to the achieved shape
    again = _relaxed(r.scenario)
    np.testing.assert_allclose(again, r.positions, atol=1e-8)


def test_a_subset_of_nodes_and_of_springs(known):
    goal = _relaxed(_chain(known))
    start = _chain(np.full(N + 1, known.mean()))
    # two target nodes (4 equations, 5 unknowns: reachable); springs 0 and 6 keep theirs
    r = catenax.design(start, goal, vary="rest_length:1-5", nodes=[2, 4])
    assert r.status == "converged" and r.max_deviation < 1e-7
    assert r.variables["rest_length"][0] == pytest.approx(known.mean(), abs=1e-15)
    assert r.variables["rest_length"][6] == pytest.approx(known.mean(), abs=1e-15)
    # and a {node: position} target gives the same as nodes=
    r2 = catenax.design(start, {2: goal[2], 4: goal[4]}, vary="rest_length:1-5")
    np.testing.assert_allclose(r2.positions, r.positions, atol=1e-7)


def _spread(t):
    return float(np.std(t) / np.mean(t))


def test_uniform_tension_reduces_the_spread(known):
    s = _chain(known)
    goal = _relaxed(s)
    t0 = np.asarray(catenax.tensions(goal, catenax.parse_scenario(s).network))
    r = catenax.design(s, goal, vary="rest_length", uniform_tension=10.0)
    t = np.asarray(catenax.tensions(r.positions, r.network))
    assert _spread(t) < 0.5 * _spread(t0)
    assert r.stable


def test_min_tension_makes_every_cable_at_least_that_tight(known):
    s = _chain(known, cables=True)
    goal = _relaxed(s)
    t0 = np.asarray(catenax.tensions(goal, catenax.parse_scenario(s).network))
    floor = 1.3 * float(t0.min())
    r = catenax.design(s, goal, vary=["rest_length", "mass"], min_tension=floor)
    t = np.asarray(catenax.tensions(r.positions, r.network))
    assert t.min() >= floor and r.min_tension == pytest.approx(t.min())
    assert r.stable and r.status in ("converged", "max_steps")


def test_subsets_and_variables_parse():
    assert parse_subset("0-3,7,2", 10, "spring", "x").tolist() == [0, 1, 2, 3, 7]
    m = design_model(catenax.chain2d(3))
    (v,) = parse_vary("mass:0,4", m)
    np.testing.assert_allclose(np.asarray(v.value(v.initial())), v.start, rtol=1e-12)
    (b,) = parse_vary("rest_length", m, bounds={"rest_length": (0.1, 0.5)})
    val = np.asarray(b.value(np.array([-50.0, 0.0, 50.0, 3.0])))
    assert val.min() >= 0.1 and val.max() <= 0.5


@pytest.mark.parametrize(
    ("vary", "words"),
    [
        ("length", "unknown variable 'length'"),
        ("prestress", "the scenario gives rest_length, not prestress; vary rest_length"),
        ("ea", "the scenario gives stiffness, not ea"),
        ("rest_length:0-40", "spring index 40 is out of range; springs run from 0 to 6"),
        ("rest_length:a", "is not a spring index or a range"),
    ],
)
def test_bad_variables_are_refused(known, vary, words):
    with pytest.raises(ValueError, match=words):
        catenax.design(_chain(known), np.zeros((N + 2, 2)), vary=vary)


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("t.csv", "node,x,y\n1,0.0\n", r"t.csv:2: 2 fields but the network is 2D"),
        ("t.csv", "node,x,y\n99,0.0,1.0\n", "node index 99 is out of range"),
        ("t.csv", "node,x,y\none,0.0,1.0\n", r"t.csv:2: .* is not a node index"),
        ("t.json", '{"positions": [[0, 0], [1, 1]]}', "2 rows of positions for a network of 8"),
        ("t.json", "{oops", "t.json:1: not valid JSON"),
        ("t.txt", "", "unknown target format"),
    ],
)
def test_bad_targets_are_refused(tmp_path, name, text, words):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(ValueError, match=words):
        read_target(p, N + 2, 2)


def test_targets_from_json_npz_and_obj(tmp_path):
    pos = np.arange(12.0).reshape(4, 3)
    np.savez(tmp_path / "t.npz", positions=pos)
    (tmp_path / "t.json").write_text('{"positions": ' + str(pos.tolist()) + "}")
    (tmp_path / "t.obj").write_text("".join(f"v {a} {b} {c}\n" for a, b, c in pos))
    for name in ("t.npz", "t.json", "t.obj"):
        t = read_target(tmp_path / name, 4, 3)
        assert isinstance(t, Target) and t.nodes.tolist() == [0, 1, 2, 3]
        np.testing.assert_array_equal(t.positions, pos)


def test_the_designed_scenario_keeps_the_schema_and_mesh_paths(tmp_path):
    from catenax.io import write_scenario

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "m.obj").write_text("v 0 0 0\nv 1 0 0\nv 1 1 0\nf 1 2 3\n")
    data = {"title": "x", "structure": {"mesh": "m.obj", "stiffness": 5.0, "rest_length":
            "initial", "mass": 0.1, "fixed": [0, 1]}}  # fmt: skip
    for suffix in (".toml", ".json"):
        out = write_scenario(tmp_path / "b" / f"s{suffix}", data, base_dir=tmp_path / "a")
        scn = catenax.load_scenario(out)
        assert scn.network.n_nodes == 3 and scn.title == "x"
