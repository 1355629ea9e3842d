"""Network: pytree behaviour, builders, and validation messages that name the field."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catenax
from catenax import model as N


def _two(**kw):
    args = dict(
        positions=[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]], springs=[[0, 1], [1, 2]],
        rest_length=1.0, stiffness=10.0, mass=1.0, gravity=9.81, fixed=[0, 2],
    )  # fmt: skip
    args.update(kw)
    return catenax.from_arrays(args.pop("positions"), args.pop("springs"), **args)


def test_network_is_a_pytree_with_static_cables():
    net = catenax.net(3, 3)
    leaves, tree = jax.tree.flatten(net)
    assert len(leaves) == len(catenax.model.ARRAY_FIELDS) == 10
    back = jax.tree.unflatten(tree, leaves)
    assert back.cables is True and back.n_nodes == 9
    assert jax.tree.structure(net.replace(cables=False)) != tree  # cables is static
    np.testing.assert_array_equal(back.springs, net.springs)


@pytest.mark.parametrize(
    "kw, field, words",
    [
        ({"springs": [[0, 1], [1, 5]]}, "springs", ["springs[1]", "[1, 5]", "0 to 2"]),
        ({"springs": [[0, 1], [1, 1]]}, "springs", ["itself", "node 1"]),
        ({"stiffness": [10.0, -1.0]}, "stiffness", ["stiffness[1]", "-1.0", ">= 0"]),
        ({"mass": [1.0, -2.0, 1.0]}, "mass", ["mass[1]", "negative"]),
        ({"rest_length": -1.0}, "rest_length", ["negative"]),
        ({"stiffness": [10.0, np.inf]}, "stiffness", ["not finite"]),
        ({"positions": [[0.0, 0.0], [np.nan, 0.0], [2.0, 0.0]]}, "positions", ["positions[1, 0]"]),
        ({"positions": [[0.0], [1.0], [2.0]]}, "positions", ["(n, 2) or (n, 3)"]),
        ({"gravity": [0.0, 1.0, 2.0]}, "gravity", ["2 numbers"]),
        ({"springs": [[0, 1]]}, "springs", ["node 2", "free", "no spring"]),
        ({"fixed": [0, 7]}, "fixed", ["7", "does not exist"]),
        ({"stiffness": [1.0, 2.0, 3.0]}, "stiffness", ["shape (2,)"]),
        ({"loads": [[9, 1.0, 0.0]]}, "loads", ["loads[0]", "node 9", "0 to 2"]),
        ({"loads": [[1, 1.0]]}, "loads", ["3 numbers"]),
    ],
)
def test_validation_names_field_value_and_fix(kw, field, words):
    if kw.get("springs") == [[0, 1]]:
        kw["fixed"] = [0]
    with pytest.raises(ValueError) as info:
        _two(**kw)
    msg = str(info.value)
    assert msg.startswith(field + ":"), msg
    for w in words:
        assert w in msg, (w, msg)


def test_non_numeric_is_a_type_error():
    with pytest.raises(TypeError, match="stiffness"):
        _two(stiffness="stiff")
    with pytest.raises(TypeError, match="springs"):
        _two(springs=[[0, 1.5], [1, 2]])


def test_duplicate_springs_warn():
    with pytest.warns(UserWarning, match=r"springs: the pair \[0, 1\] appears 2 times"):
        _two(springs=[[0, 1], [1, 2], [1, 0]])


def test_no_warning_without_duplicates():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        catenax.cloth(4, 4, bending_stiffness=1.0)


def test_direct_constructor_validates_and_replace_revalidates():
    net = _two()
    with pytest.raises(ValueError, match="stiffness"):
        net.replace(stiffness=jnp.asarray([1.0, -1.0]))
    with pytest.raises(ValueError, match="positions"):
        catenax.Network(
            positions=np.zeros((2, 4)), springs=[[0, 1]], rest_length=[1.0], stiffness=[1.0],
            mass=[1.0, 1.0], gravity=[0, 0, 0, 0], fixed=[True, False], loads=None,
        )  # fmt: skip


def test_free_mask_and_supports():
    net = catenax.chain2d(3)
    assert catenax.free_mask(net).shape == (5, 2)
    assert catenax.support_nodes(net).tolist() == [0, 4]
    lesson = N.chain(4)  # x fixed everywhere, y free at the 4 masses
    np.testing.assert_array_equal(catenax.free_mask(lesson)[:, 0], 0.0)
    np.testing.assert_array_equal(catenax.free_mask(lesson)[:, 1], [0, 1, 1, 1, 1, 0])
    assert catenax.support_nodes(lesson).size == 6
    assert catenax.chain_network is N.chain


def test_builders_shapes():
    n = catenax.net(4, 5, supports="edges")
    assert (n.n_nodes, n.n_springs, n.dim) == (20, 4 * 4 + 3 * 5, 3)
    assert len(catenax.support_nodes(n)) == 2 * 5 + 2 * 2
    assert n.faces.shape == (12, 4)
    np.testing.assert_allclose(n.rest_length, 0.9)
    assert catenax.support_nodes(catenax.net(3, 3, supports=[4])).tolist() == [4]
    assert catenax.support_nodes(catenax.net(3, 3, supports="sides")).tolist() == [0, 2, 3, 5, 6, 8]
    c = catenax.cloth(5, 4, bending_stiffness=1.0)
    assert c.n_springs == (5 * 3 + 4 * 4) + 2 * 4 * 3 + (5 * 2 + 3 * 4)
    np.testing.assert_allclose(catenax.spring_lengths(c.positions, c), c.rest_length)
    ch = catenax.chain2d(9, span=2.0)
    lengths = np.asarray(catenax.spring_lengths(ch.positions, ch))
    assert np.ptp(lengths) < 1e-2 * lengths.mean()  # equal arc length start
    assert lengths.sum() == pytest.approx(1.2 * 2.0, rel=0.02)  # about the rest length
    with pytest.raises(ValueError, match="supports"):
        catenax.net(3, 3, supports="middle")
    with pytest.raises(ValueError, match="rows"):
        catenax.net(1, 3)
    with pytest.raises(ValueError, match="span"):
        catenax.chain2d(3, span=-1.0)


def test_lesson_view_from_heights():
    y = np.linspace(-1, -2, 5)
    net = N.chain(y=y)
    assert net.n_nodes == 7
    np.testing.assert_allclose(net.positions[1:-1, 1], y)
    assert float(catenax.network_energy(net.positions, net)) == pytest.approx(
        float(catenax.chain_energy(jnp.asarray(y), 5.0, 0.8, 0.1)), rel=1e-13
    )
