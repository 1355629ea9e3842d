"""The engineer's model against forces by hand and independent solves.

Each structure is small and statically determinate (or has a closed form), so
the member forces and reactions follow from equilibrium of the *relaxed*
geometry alone: the test reads the angles from catenax's answer and checks
the forces it reports against the hand calculation to 1e-8, which a wrong
roller, a wrong cable mask or a wrong EA conversion would break. The same
structures are written as scenario files (``ea``, ``prestress``,
``force_density``, ``cables`` lists, ``[node, "AXES"]`` rollers, ``line_mass``)
and must give the library's numbers.
"""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

import catenax
from catenax.model import lumped_line_mass, rest_length_from_prestress, stiffness_from_ea


def relax(net, tol=1e-14, **kw):
    r = catenax.minimize(
        catenax.network_energy, net.positions, net, free=catenax.free_mask(net), tol=tol, **kw
    )
    assert r.status == "converged", r.message
    x = np.asarray(r.positions)
    return (
        x,
        np.asarray(catenax.tensions(r.positions, net)),
        np.asarray(catenax.reactions(r.positions, net)),
    )


def unit(x, i, j):
    v = x[j] - x[i]
    return v / np.linalg.norm(v)


# ------------------------------------------------------------ a truss on a roller


def roller_truss(P=10.0, EA=1e6):
    """A triangle: pin at 0, roller (y held) at 1, apex 2 loaded by P downwards."""
    pos = np.array([[0.0, 0.0], [2.0, 0.0], [0.7, 1.0]])
    springs = np.array([[0, 2], [1, 2], [0, 1]])
    L = np.linalg.norm(pos[springs[:, 1]] - pos[springs[:, 0]], axis=1)
    fixed = np.array([[True, True], [False, True], [False, False]])
    return catenax.from_arrays(
        pos, springs, rest_length=L, stiffness=stiffness_from_ea(EA, L), mass=0.0,
        fixed=fixed, loads=[[2, 0.0, -P]],
    )  # fmt: skip


def test_truss_on_a_roller_forces_by_hand():
    P = 10.0
    net = roller_truss(P)
    x, t, react = relax(net)
    # Roller 1 carries no horizontal reaction, so member 0-1 balances member 1-2's
    # horizontal pull at node 1; node 2 is balanced by members 0-2 and 1-2.
    u02, u12 = unit(x, 0, 2), unit(x, 1, 2)
    # At node 2: -N02 u02 - N12 u12 + (0, -P) = 0 (a member in tension pulls node 2 back).
    n02, n12 = np.linalg.solve(np.column_stack([u02, u12]), [0.0, -P])
    np.testing.assert_allclose(t[:2], [n02, n12], rtol=1e-8)
    assert n02 < 0 and n12 < 0  # both rafters in compression
    # node 1 along x (free): N01 u10x + N12 u12x = 0
    n01 = n12 * unit(x, 1, 2)[0] / unit(x, 0, 1)[0]
    np.testing.assert_allclose(t[2], n01, rtol=1e-8)
    assert t[2] > 0  # the tie in tension
    # Reactions: the roller only along y, the pin both; together they carry P.
    assert react[1, 0] == 0.0
    np.testing.assert_allclose(react.sum(axis=0), [0.0, P], rtol=1e-9, atol=1e-9)
    # Moments about node 0 at the relaxed geometry give the roller's reaction.
    np.testing.assert_allclose(react[1, 1] * x[1, 0], P * x[2, 0], rtol=1e-8)


def test_roller_left_free_along_x_moves_and_a_pin_would_not():
    x, _, _ = relax(roller_truss(P=1e3, EA=1e4))
    assert x[1, 0] > 2.0 + 1e-3  # the roller slides out as the tie stretches
    assert x[1, 1] == 0.0 and np.all(x[0] == 0.0)


# ------------------------------------------------------ mixed cables and struts


def king_post(P=5.0, h=0.5, EA=1e7, flip=False):
    """Top chord 0-2-1 (struts), post 2-3 (strut), cables 0-3 and 3-1 below."""
    pos = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [1.0, -h]])
    springs = np.array([[0, 2], [2, 1], [2, 3], [0, 3], [3, 1]])
    L = np.linalg.norm(pos[springs[:, 1]] - pos[springs[:, 0]], axis=1)
    fixed = np.array([[True, True], [False, True], [False, False], [False, False]])
    return catenax.from_arrays(
        pos, springs, rest_length=L, stiffness=stiffness_from_ea(EA, L), mass=0.0,
        fixed=fixed, loads=[[2, 0.0, P if flip else -P]], cables=[3, 4],
    )  # fmt: skip


def test_king_post_truss_struts_in_compression_cables_in_tension():
    P = 5.0
    net = king_post(P)
    assert net.tension_only.tolist() == [False, False, False, True, True]
    x, t, react = relax(net)
    # Every node balances: its members' pulls, its load and its support's reaction.
    pull = np.zeros_like(x)
    for (i, j), n in zip(net.springs.tolist(), t, strict=True):
        pull[i] += n * unit(x, i, j)
        pull[j] += n * unit(x, j, i)
    pull[2, 1] -= P
    np.testing.assert_allclose(pull + react, 0.0, atol=1e-9 * P)
    assert react[1, 0] == 0.0 and np.all(react[2:] == 0.0)
    assert t[0] < 0 and t[1] < 0 and t[2] < 0  # chords and post push
    assert t[3] > 0 and t[4] > 0  # cables pull
    # By hand on the drawn geometry (small strains): post P, cables P/(2 sin a),
    # chord T cos a; the relaxed values are within the strain P/EA of these.
    a = math.atan2(0.5, 1.0)
    hand = [
        -P / 2 / math.tan(a),
        -P / 2 / math.tan(a),
        -P,
        P / (2 * math.sin(a)),
        P / (2 * math.sin(a)),
    ]
    np.testing.assert_allclose(t, hand, rtol=1e-5)
    np.testing.assert_allclose(react[[0, 1], 1], [P / 2, P / 2], rtol=1e-5)


def test_king_post_with_all_struts_is_the_same_when_nothing_is_slack():
    x_mixed, t_mixed, _ = relax(king_post())
    x_all, t_all, _ = relax(king_post().replace(cables=False))
    np.testing.assert_allclose(x_mixed, x_all, atol=1e-12)
    np.testing.assert_allclose(t_mixed, t_all, rtol=1e-9)


def test_king_post_lifted_slackens_its_cables_only():
    # Lifting the midspan puts the cables in compression: they go slack (tension 0),
    # and the chords and post (struts) then carry the load in bending-free arch action.
    net = king_post(P=5.0, flip=True).replace(
        fixed=np.array([[True, True], [True, True], [False, False], [False, False]])
    )
    x, t, _ = relax(net)
    assert np.all(t[3:] == 0.0)
    assert t[0] > 0 and t[1] > 0  # the chords now pull the lifted node back


# ----------------------------------------------- a cable under its own weight


def discrete_catenary(n_links, span, L0, EA, w):
    """The exact discrete catenary with lumped weights, pinned at equal heights.

    Links of rest length L0 and axial stiffness EA; interior node k carries w
    (its two half-links). Horizontal tension H is constant; the vertical force
    in link k is V_k = V_0 - k w with V_0 = (n_links - 1) w / 2; each link
    stretches to L0 (1 + T_k / EA). H solves the span equation.
    """
    k = np.arange(n_links)
    V = (n_links - 1) * w / 2 - k * w

    def links(H):
        T = np.hypot(H, V)
        a = L0 * (1 + T / EA)
        return a * H / T, -a * V / T, T

    H = brentq(lambda H: links(H)[0].sum() - span, 1e-9, 1e9, xtol=1e-15, rtol=1e-15)
    dx, dy, T = links(H)
    pts = np.column_stack(
        [np.concatenate([[0.0], np.cumsum(dx)]), np.concatenate([[0.0], np.cumsum(dy)])]
    )
    return pts, T


def test_cable_under_line_mass_is_the_discrete_catenary():
    n_links, span, L0, EA, mu, g = 12, 10.0, 1.0, 5e4, 2.0, 9.81
    pos = np.column_stack([np.linspace(0, span, n_links + 1), np.zeros(n_links + 1)])
    springs = np.column_stack([np.arange(n_links), np.arange(1, n_links + 1)])
    mass = lumped_line_mass(springs, np.full(n_links, L0), mu, n_links + 1)
    # the sag starts from a parabola so that the cables are taut from step one
    pos[:, 1] = -0.3 * pos[:, 0] * (span - pos[:, 0]) / span
    net = catenax.from_arrays(
        pos, springs, rest_length=L0, stiffness=stiffness_from_ea(EA, L0), mass=mass,
        gravity=g, fixed=[0, n_links], cables=True,
    )  # fmt: skip
    x, t, react = relax(net)
    pts, T = discrete_catenary(n_links, span, L0, EA, mu * L0 * g)
    np.testing.assert_allclose(x, pts, atol=1e-9)
    np.testing.assert_allclose(t, T, rtol=1e-8)
    # The supports carry the whole weight, their own half-links included.
    np.testing.assert_allclose(react[:, 1].sum(), mu * L0 * n_links * g, rtol=1e-10)


# ------------------------------------------- a prestressed cable and a point load


@pytest.mark.parametrize("P_over_T0", [1e-2, 1e-4])
def test_prestressed_cable_point_load_tends_to_the_small_deflection_limit(P_over_T0):
    a, T0, EA = 3.0, 1000.0, 1e5
    P = P_over_T0 * T0
    pos = np.array([[0.0, 0.0], [a, 0.0], [2 * a, 0.0]])
    springs = np.array([[0, 1], [1, 2]])
    L0 = rest_length_from_prestress(np.array([a, a]), T0, ea=EA)
    net = catenax.from_arrays(
        pos, springs, rest_length=L0, stiffness=stiffness_from_ea(EA, L0), mass=0.0,
        fixed=[0, 2], loads=[[1, 0.0, -P]], cables=True,
    )  # fmt: skip
    x, t, _ = relax(net)
    delta = -x[1, 1]
    # Exact: 2 T sin(theta) = P with T = EA (L - L0) / L0 at the deflected length.
    L = math.hypot(a, delta)
    np.testing.assert_allclose(2 * t[0] * delta / L, P, rtol=1e-9)
    np.testing.assert_allclose(t[0], EA * (L - L0[0]) / L0[0], rtol=1e-9)
    # Small-deflection limit: delta = P a / (2 T0). The stretch adds EA (delta/a)^2 / 2
    # to the tension, so delta falls short of it by that fraction of T0.
    limit = P * a / (2 * T0)
    shortfall = EA / T0 * (limit / a) ** 2 / 2
    assert 0 < 1 - delta / limit < 1.5 * shortfall
    assert 1 - delta / limit > 0.5 * shortfall


# ---------------------------------------------- the same structures as scenario files


KING_POST_TOML = """
[structure]
dim = 2
nodes = [[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [1.0, -0.5]]
springs = [[0, 2], [2, 1], [2, 3], [0, 3], [3, 1]]
ea = 1e7
rest_length = "initial"
cables = [3, 4]
fixed = [0, [1, "y"]]
mass = 0.0
loads = [[2, 0.0, -5.0]]
[solver]
tol = 1e-14
"""

CATENARY_TOML = """
[structure]
dim = 2
nodes = {nodes}
springs = {springs}
ea = 5e4
rest_length = 1.0
line_mass = 2.0
gravity = [0.0, -9.81]
fixed = [0, 12]
cables = true
[solver]
tol = 1e-14
"""


def test_king_post_scenario_equals_the_library_structure(tmp_path):
    path = tmp_path / "king_post.toml"
    path.write_text(KING_POST_TOML)
    net = catenax.load_scenario(path).network
    ref = king_post()
    for field in ("stiffness", "rest_length", "tension_only", "fixed", "loads", "mass"):
        np.testing.assert_allclose(getattr(net, field), getattr(ref, field), rtol=1e-15)
    r = catenax.solve_scenario(catenax.load_scenario(path))
    x, t, _ = relax(ref)
    np.testing.assert_allclose(r.positions, x, atol=1e-12)


def test_catenary_scenario_with_line_mass_is_the_discrete_catenary(tmp_path):
    xs = np.linspace(0, 10.0, 13)
    nodes = np.column_stack([xs, -0.3 * xs * (10.0 - xs) / 10.0]).tolist()
    springs = [[k, k + 1] for k in range(12)]
    path = tmp_path / "catenary.toml"
    path.write_text(CATENARY_TOML.format(nodes=nodes, springs=springs))
    scn = catenax.load_scenario(path)
    r = catenax.solve_scenario(scn)
    pts, T = discrete_catenary(12, 10.0, 1.0, 5e4, 2.0 * 1.0 * 9.81)
    np.testing.assert_allclose(r.positions, pts, atol=1e-9)
    np.testing.assert_allclose(catenax.tensions(r.positions, scn.network), T, rtol=1e-8)
