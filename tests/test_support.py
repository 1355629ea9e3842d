"""Structures that are not held: parts joined to no support, found from the graph before solving.

``check_held`` against hand-built cases (each message names the nodes of the
part), every shipped example and every builder default (all held),
``components`` against scipy's connected components, and the ``runaway``
backstop. The CLI case runs the real entry point.
"""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run_cli
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import catenax
from catenax.errors import FieldError
from catenax.model import check_chain_held, check_held, components, runaway, runaway_radius

SCENARIOS = Path(__file__).resolve().parents[1] / "examples" / "scenarios"
SAMPLES = sorted(p for p in SCENARIOS.iterdir() if p.suffix in (".toml", ".json"))


def held(net, free=None):
    check_held(net.positions, net, free)


def not_held(net, free=None, field="fixed"):
    with pytest.raises(FieldError) as e:
        check_held(net.positions, net, free)
    assert e.value.field == field
    return str(e.value)


def two_bars(**kw):
    """Nodes 0-1 (0 fixed) and, apart, nodes 2-3-4: a bar and a separate part."""
    pos = [[0, 0], [1, 0], [3, 0], [4, 0], [5, 0]]
    return catenax.from_arrays(pos, [[0, 1], [2, 3], [3, 4]], **kw)


# ------------------------------------------------------------- held: passes


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_shipped_example_is_held(path):
    held(catenax.load_scenario(path).network)


@pytest.mark.parametrize(
    "build",
    [
        catenax.model.chain,
        catenax.chain2d,
        catenax.chain_network,
        catenax.net,
        catenax.cloth,
        lambda: catenax.net(supports="edges"),
        lambda: catenax.net(supports="sides"),
        lambda: catenax.net(supports="top"),
        lambda: catenax.cloth(supports="corners", bending_stiffness=1.0),
    ],
)
def test_every_builder_default_is_held(build):
    held(build())


def test_the_network_energy_carries_the_checks():
    assert catenax.network_energy.check_held is check_held
    assert catenax.network_energy.runaway is runaway


def test_a_fully_fixed_part_and_a_neutral_roller_are_held():
    # every node fixed: nothing can move
    net = two_bars(fixed=[0, 1, 2, 3, 4])
    held(net)
    # a bar on rollers that fix y only, no force along x: it may slide (a
    # mechanism the graph test leaves to the run), but nothing pulls it away
    pos = [[0, 0], [1, 0]]
    fixed = np.array([[False, True], [False, True]])
    held(catenax.from_arrays(pos, [[0, 1]], gravity=9.81, fixed=fixed))


def test_balanced_loads_on_an_axis_with_no_support_are_held():
    # a roller chain fixed in y, with loads along x that cancel
    fixed = np.array([[False, True]] * 3)
    loads = [[0, 1.0, 0.0], [2, -1.0, 0.0]]
    net = catenax.from_arrays([[0, 0], [1, 0], [2, 0]], [[0, 1], [1, 2]], fixed=fixed,
                              loads=loads)  # fmt: skip
    held(net)


# ---------------------------------------------------------- not held: raises


def test_no_support_at_all_names_every_node():
    net = catenax.from_arrays([[0, 0], [1, 0], [2, 0]], [[0, 1], [1, 2]], gravity=9.81)
    msg = not_held(net)
    assert msg.startswith("fixed: nodes 0, 1, 2 (3 nodes) form a part joined to no support")
    assert "fall (or float) forever" in msg and "`fixed`" in msg


def test_no_support_and_no_weight_still_floats():
    net = catenax.from_arrays([[0, 0], [1, 0]], [[0, 1]])
    assert "nodes 0, 1 (2 nodes)" in not_held(net)


def test_a_separate_part_is_named_alone():
    msg = not_held(two_bars(gravity=9.81, fixed=[0]))
    assert "nodes 2, 3, 4 (3 nodes)" in msg
    assert "node 0" not in msg and "nodes 0" not in msg


def test_a_load_on_a_separate_part_without_weight():
    msg = not_held(two_bars(fixed=[0], loads=[[3, 0.0, -1.0]]))
    assert "nodes 2, 3, 4 (3 nodes)" in msg


def test_a_part_joined_only_by_a_spring_of_stiffness_zero():
    # 0-1-2 in a line, node 0 fixed; spring 1-2 has k = 0, so node 2 hangs on nothing
    net = catenax.from_arrays([[0, 0], [1, 0], [2, 0]], [[0, 1], [1, 2]],
                              stiffness=[10.0, 0.0], gravity=9.81, fixed=[0])  # fmt: skip
    assert "node 2 (1 node) form" in not_held(net)
    held(net.replace(stiffness=jnp.array([10.0, 1e-12])))


def test_zero_stiffness_everywhere_names_stiffness():
    net = catenax.chain2d(4, stiffness=0.0)
    msg = not_held(net, field="stiffness")
    assert "every spring has stiffness 0" in msg and "(nodes 1, 2, 3, 4 (4 nodes))" in msg


def test_zero_stiffness_with_every_node_fixed_is_fine():
    net = catenax.chain2d(2, stiffness=0.0)
    held(net, free=np.zeros(net.positions.shape))


def test_a_part_on_rollers_falls_along_the_axis_it_is_free_in():
    # rollers fix x only; gravity along -y pulls the bar down forever
    fixed = np.array([[True, False], [True, False]])
    net = catenax.from_arrays([[0, 0], [1, 0]], [[0, 1]], mass=0.5, gravity=9.81, fixed=fixed)
    msg = not_held(net)
    assert "nodes 0, 1 (2 nodes)" in msg
    assert "no support holds along y" in msg and "-9.81 along y" in msg
    # in 3D, along z
    fixed3 = np.array([[True, True, False]] * 2)
    net3 = catenax.from_arrays([[0, 0, 0], [1, 0, 0]], [[0, 1]], gravity=1.0, fixed=fixed3)
    assert "along z" in not_held(net3)


def test_the_free_mask_given_is_the_truth():
    net = catenax.chain2d(3)
    held(net)
    msg = not_held(net, free=np.ones(net.positions.shape))  # nothing fixed after all
    assert "nodes 0, 1, 2, 3, 4 (5 nodes)" in msg


def test_a_long_part_lists_ten_nodes_and_the_count_and_more_parts():
    n = 30
    pos = np.stack([np.arange(n), np.zeros(n)], axis=1)
    springs = [[i, i + 1] for i in range(n - 1) if i not in (4, 19)]  # parts 0-4, 5-19, 20-29
    net = catenax.from_arrays(pos, springs, gravity=9.81, fixed=[0])
    msg = not_held(net)
    assert "nodes 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, ... (15 nodes)" in msg
    assert "(and 1 more part like it)" in msg


def test_a_batch_of_networks_is_checked_case_by_case():
    good, bad = catenax.chain2d(3), catenax.chain2d(3).replace(fixed=jnp.zeros(5, bool))
    batch = jax.tree.map(lambda a, b: np.stack([a, b]), good, bad)
    with pytest.raises(FieldError, match="nodes 0, 1, 2, 3, 4"):
        check_held(batch.positions, batch)
    held_batch = jax.tree.map(lambda a, b: np.stack([a, b]), good, good)
    check_held(held_batch.positions, held_batch)


def test_under_jit_it_checks_nothing():
    net = catenax.from_arrays([[0, 0], [1, 0]], [[0, 1]], gravity=9.81)
    out = jax.jit(lambda n: (check_held(n.positions, n), n.positions.sum())[1])(net)
    assert float(out) == 1.0


def test_the_lesson_chain_without_stiffness_is_not_held():
    check_chain_held(jnp.zeros(20), 5.0, 0.8, 0.1)
    with pytest.raises(FieldError) as e:
        check_chain_held(jnp.zeros(20), 0.0, 0.8, 0.1)
    assert e.value.field == "spring"
    assert "masses 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... (20 masses)" in str(e.value)
    # without weight it still floats; with one mass free, that mass is named
    with pytest.raises(FieldError, match="spring: 0 holds nothing"):
        check_chain_held(jnp.zeros(3), 0.0, 0.8, 0.0)
    with pytest.raises(FieldError, match=r"mass 1 \(1 mass\)"):
        check_chain_held(jnp.zeros(3), 0.0, 0.8, 0.1, free=jnp.array([0.0, 1.0, 0.0]))
    check_chain_held(jnp.zeros(3), 0.0, 0.8, 0.1, free=jnp.zeros(3))  # nothing moves
    with pytest.raises(FieldError):  # one case of a batch of spring constants
        check_chain_held(jnp.zeros(3), jnp.array([5.0, 0.0]), 0.8, 0.1)


# ------------------------------------------------------- connected components


def _scipy_labels(n, edges):
    e = np.asarray(edges).reshape(-1, 2)
    a = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    _, lab = connected_components(a, directed=False)
    # relabel each component by its smallest node, as components() does
    first = np.full(lab.max() + 1, n)
    np.minimum.at(first, lab, np.arange(n))
    return first[lab]


@pytest.mark.parametrize("seed", range(6))
def test_components_match_scipy_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    m = int(rng.integers(0, 2 * n))
    edges = rng.integers(0, n, size=(m, 2))
    np.testing.assert_array_equal(components(n, edges), _scipy_labels(n, edges))


def test_components_of_a_long_path_in_reverse_and_a_big_grid():
    n = 100_000
    path = np.stack([np.arange(n - 1, 0, -1), np.arange(n - 2, -1, -1)], axis=1)
    assert (components(n, path) == 0).all()
    m = 1000  # 10^6 nodes, 2 * 10^6 springs, the supports cut off one corner node
    idx = np.arange(m * m).reshape(m, m)
    edges = np.concatenate([np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], 1),
                            np.stack([idx[:-1, :].ravel(), idx[1:, :].ravel()], 1)])  # fmt: skip
    keep = ~np.isin(edges, [m * m - 1]).any(axis=1)
    lab = components(m * m, edges[keep])
    assert (lab[:-1] == 0).all() and lab[-1] == m * m - 1


# ------------------------------------------------------------------- runaway


def test_runaway_radius_and_test():
    net = catenax.from_arrays([[0, 0], [3, 4]], [[0, 1]], rest_length=2.0)
    r = float(runaway_radius(net))
    assert r == 1e6 * (1 + 5.0 + 2.0)
    x = np.asarray(net.positions)
    f = jax.jit(runaway)
    assert not bool(f(x, net))
    assert not bool(f(x + [0.0, 0.99 * r], net))
    assert bool(f(x + [[0.0, 0.0], [1.01 * r, 0.0]], net))  # one node is enough
    assert not bool(f(x + 0.7 * r, net))  # each node sqrt(2) * 0.7 r = 0.99 r away


def test_runaway_under_vmap():
    net = catenax.chain2d(3)
    xs = jnp.stack([net.positions, net.positions.at[2, 1].set(-1e12)])
    assert jax.vmap(runaway, in_axes=(0, None))(xs, net).tolist() == [False, True]


# ----------------------------------------------------------------------- CLI


def test_cli_refuses_a_falling_part_before_solving(tmp_path):
    text = (SCENARIOS / "chain_with_load.toml").read_text().replace("fixed = [0, 8]", "fixed = [0]")
    text = text.replace("[3, 4], [4, 5]", "[4, 5]")  # cut the chain after node 3
    bad = tmp_path / "cut.toml"
    bad.write_text(text)
    out = tmp_path / "r.json"
    proc = run_cli("relax", bad, "--json", "--out", out)
    assert proc.returncode == 2, proc.stderr
    assert "nodes 4, 5, 6, 7, 8 (5 nodes)" in proc.stderr and "fixed" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not out.exists()
