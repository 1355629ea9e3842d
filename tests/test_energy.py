"""Network energy: closed-form Hessian pieces against jax.hessian, equilibria against
closed forms (zero-rest-length parabola, catenary), force balance, symmetry, cables."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize
import scipy.sparse
from _network_solver import newton_solve

import catenax
from catenax import model as N


def _perturbed(net, scale=0.05, seed=0):
    noise = jax.random.normal(jax.random.PRNGKey(seed), net.positions.shape)
    return net.positions + scale * noise


SMALL = {
    "chain2d": lambda: catenax.chain2d(5),
    "zero_rest": lambda: catenax.chain2d(4, rest_length=0.0),
    "net_cables": lambda: catenax.net(3, 4),
    "cloth_bending": lambda: catenax.cloth(4, 3, bending_stiffness=2.0),
    "cloth_cables": lambda: catenax.cloth(3, 3, bending_stiffness=1.0, cables=True),
}


_hessian = jax.jit(jax.hessian(catenax.network_energy))


def _dense_hessian(x, net):
    return np.asarray(_hessian(x, net)).reshape(x.size, x.size)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_sparse_hessian_equals_jax_hessian(name):
    net = SMALL[name]()
    x = _perturbed(net)
    H = _dense_hessian(x, net)
    r, c, v = catenax.hessian_coo(x, net)
    Hs = scipy.sparse.coo_array((np.asarray(v), (np.asarray(r), np.asarray(c))), shape=H.shape)
    scale = np.abs(H).max()
    np.testing.assert_allclose(Hs.toarray(), H, atol=1e-12 * scale)
    # hessian_diagonal and hessian_matvec agree with the same matrix
    np.testing.assert_allclose(
        np.asarray(catenax.hessian_diagonal(x, net)).ravel(), np.diag(H), atol=1e-12 * scale
    )
    v = np.asarray(_perturbed(net, 1.0, seed=1))
    np.testing.assert_allclose(
        np.asarray(catenax.hessian_matvec(x, net, jnp.asarray(v))).ravel(),
        H @ v.ravel(),
        atol=1e-11 * scale * np.abs(v).max(),
    )


def test_slack_cables_are_in_the_test():
    # the cable cloth above must really have slack and taut springs, or the check is empty
    net = SMALL["cloth_cables"]()
    x = _perturbed(net)
    ext = np.asarray(catenax.spring_lengths(x, net) - net.rest_length)
    assert (ext < 0).any() and (ext > 0).any()
    t = np.asarray(catenax.tensions(x, net))
    assert np.all(t[ext < 0] == 0) and np.all(t[ext > 0] > 0)


def test_masked_coo_is_free_hessian_with_identity_on_fixed():
    net = catenax.chain2d(4)
    x = _perturbed(net)
    free = np.asarray(catenax.free_mask(net)).ravel()
    r, c, v = catenax.hessian_coo(x, net, catenax.free_mask(net))
    Hm = scipy.sparse.coo_array((np.asarray(v), (np.asarray(r), np.asarray(c)))).toarray()
    H = _dense_hessian(x, net)
    expect = H * free[:, None] * free[None, :] + np.diag(1.0 - free)
    np.testing.assert_allclose(Hm, expect, atol=1e-12 * np.abs(H).max())


def test_energy_gradient_taylor_remainder_is_second_order():
    net = catenax.cloth(4, 4, bending_stiffness=3.0)
    x = _perturbed(net, 0.02)
    dx = _perturbed(net, 1.0, seed=3) - net.positions
    e = catenax.network_energy
    g = jax.grad(e)(x, net)
    eps = np.array([1e-2, 5e-3, 2.5e-3])
    rem = [abs(float(e(x + t * dx, net) - e(x, net) - t * jnp.sum(g * dx))) for t in eps]
    slope = np.polyfit(np.log(eps), np.log(rem), 1)[0]
    assert 1.9 < slope < 2.1


def test_energy_by_hand():
    # two springs, one slack cable, gravity and a load: numbers by hand
    pos = [[0.0, 0.0], [3.0, 4.0], [3.0, 0.0]]
    net = catenax.from_arrays(
        pos, [[0, 1], [1, 2]], rest_length=[4.0, 5.0], stiffness=[2.0, 7.0], mass=[0, 2.0, 0],
        gravity=[0.0, -10.0], fixed=[0, 2], loads=[[1, 1.0, 0.0]],
    )  # fmt: skip
    # spring 0: L = 5, e = 1 -> 1; spring 1: L = 4, e = -1 -> 3.5; gravity 2*10*4; load -3
    assert float(catenax.network_energy(net.positions, net)) == pytest.approx(1 + 3.5 + 80 - 3)
    cab = net.replace(cables=True)
    assert float(catenax.network_energy(cab.positions, cab)) == pytest.approx(1 + 80 - 3)
    np.testing.assert_allclose(catenax.tensions(net.positions, net), [2.0, -7.0])
    np.testing.assert_allclose(catenax.tensions(cab.positions, cab), [2.0, 0.0])
    assert float(catenax.force_scale(net.positions, net)) == pytest.approx(20.0)


def test_jit_vmap_over_networks_equals_loop():
    nets = [catenax.chain2d(6, stiffness=k, mass=m) for k, m in ((100.0, 0.1), (300.0, 0.2))]
    batch = jax.tree.map(lambda *a: jnp.stack(a), *nets)
    xs = jnp.stack([_perturbed(n, 0.01, seed=i) for i, n in enumerate(nets)])
    got = jax.jit(jax.vmap(jax.grad(catenax.network_energy)))(xs, batch)
    for i, n in enumerate(nets):
        np.testing.assert_allclose(got[i], jax.grad(catenax.network_energy)(xs[i], n), rtol=1e-13)


# ----------------------------------------------------------------- equilibria


def test_lesson_chain_as_network_equals_chain_model():
    net = N.chain(20)
    y = jax.random.normal(jax.random.PRNGKey(0), (20,))
    x = net.positions.at[1:-1, 1].set(y)
    assert float(catenax.network_energy(x, net)) == pytest.approx(
        float(catenax.chain_energy(y, 5.0, 0.8, 0.1)), rel=1e-14
    )
    # the notebook's 60 gd steps, through the network and through the chain model
    r_net = catenax.minimize(
        catenax.network_energy, net.positions, net, free=catenax.free_mask(net),
        method="gd", learning_rate=0.2, max_steps=60, tol=None,
    )  # fmt: skip
    r_chain = catenax.minimize(
        catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1,
        method="gd", learning_rate=0.2, max_steps=60, tol=None,
    )  # fmt: skip
    np.testing.assert_allclose(r_net.positions[1:-1, 1], r_chain.positions, atol=1e-13)
    np.testing.assert_array_equal(r_net.positions[:, 0], np.arange(22.0))
    # and the equilibrium, against scipy on the chain model
    x_eq, _ = newton_solve(net)
    e = jax.jit(catenax.chain_energy)
    g = jax.jit(jax.grad(catenax.chain_energy))
    ref = scipy.optimize.minimize(
        lambda y: float(e(y, 5.0, 0.8, 0.1)), np.zeros(20),
        jac=lambda y: np.asarray(g(y, 5.0, 0.8, 0.1)), method="BFGS", options={"gtol": 1e-12},
    )  # fmt: skip
    np.testing.assert_allclose(x_eq[1:-1, 1], ref.x, atol=1e-8)
    assert float(catenax.force_scale(x_eq, net)) == pytest.approx(
        float(catenax.chain_force_scale(x_eq[1:-1, 1], 5.0, 0.8, 0.1))
    )


@pytest.mark.parametrize("ya,yb", [(0.0, 0.0), (0.3, -0.5)])
def test_zero_rest_length_chain_is_an_exact_parabola(ya, yb):
    # E = sum k/2 |x_{i+1} - x_i|^2 + sum m g y_i is quadratic: stationarity gives
    # x_{i+1} - 2 x_i + x_{i-1} = 0 and y_{i+1} - 2 y_i + y_{i-1} = m g / k, so
    # x_i = x_A + i (x_B - x_A) / (n + 1),
    # y_i = y_A + i (y_B - y_A) / (n + 1) + (m g / 2k) i (i - n - 1).
    n, k, m, g, span = 12, 40.0, 0.3, 9.81, 2.0
    net = catenax.chain2d(n, span=span, rest_length=0.0, stiffness=k, mass=m, gravity=g)
    pos = net.positions.at[0, 1].set(ya).at[-1, 1].set(yb)
    net = net.replace(positions=pos)
    i = np.arange(n + 2)
    expect = np.stack(
        [
            -span / 2 + i * span / (n + 1),
            ya + i * (yb - ya) / (n + 1) + m * g / (2 * k) * i * (i - n - 1),
        ],
        axis=1,
    )
    x, steps = newton_solve(net)
    assert steps <= 2  # a linear problem: one Newton step
    np.testing.assert_allclose(x, expect, atol=1e-9)
    # the jitted driver gets there too (gd on a quadratic; lambda_max < 4k)
    r = catenax.minimize(
        catenax.network_energy, net.positions, net, free=catenax.free_mask(net),
        method="gd", learning_rate=1.0 / (4 * k), max_steps=20_000, tol=1e-13,
    )  # fmt: skip
    assert r.status == "converged"
    np.testing.assert_allclose(r.positions, expect, atol=1e-9)


SPAN, L0, W = 1.0, 1.5, 1.0  # supports 1 apart, chain 1.5 long, total weight 1


def _elastic_catenary(ea):
    """The extensible catenary through (-SPAN/2, 0) and (SPAN/2, 0), by unstretched arc s.

    With horizontal tension H, weight w per unstretched length and V = W/2 at each
    support: dx/ds = H/T + H/EA, dy/ds = (ws - V)/T + (ws - V)/EA, T = |(H, ws - V)|.
    """
    w, v = W / L0, W / 2

    def span_error(h):
        return h * L0 / ea + 2 * h / w * np.arcsinh(v / h) - SPAN

    h = scipy.optimize.brentq(span_error, 1e-6, 1e3, xtol=1e-15)

    def curve(s):
        x = -SPAN / 2 + h * s / ea + h / w * (np.arcsinh((w * s - v) / h) + np.arcsinh(v / h))
        y = (w * s * s / 2 - v * s) / ea + (np.hypot(h, w * s - v) - np.hypot(h, v)) / w
        return np.stack([x, y], axis=1)

    return curve


def _hanging_chain(n, ea):
    h = L0 / (n + 1)  # consistent lumping: each interior node carries one segment's weight
    return catenax.chain2d(n, span=SPAN, rest_length=h, stiffness=ea / h, mass=W / (n + 1),
                           gravity=1.0)  # fmt: skip


def test_chain_converges_to_elastic_catenary_at_second_order():
    ea, ns = 50.0, np.array([10, 20, 40, 80])
    curve = _elastic_catenary(ea)
    errors = []
    for n in ns:
        x, _ = newton_solve(_hanging_chain(n, ea))
        errors.append(np.abs(x - curve(L0 / (n + 1) * np.arange(n + 2))).max())
    order = -np.polyfit(np.log(ns), np.log(errors), 1)[0]
    assert 1.85 < order < 2.15, (order, errors)
    assert errors[-1] < 1e-4


def test_stiff_chain_approaches_the_catenary_as_one_over_n_squared():
    # inextensible limit y = a cosh(x / a) + c with 2 a sinh(SPAN / 2a) = L0
    a = scipy.optimize.brentq(lambda a: 2 * a * np.sinh(SPAN / (2 * a)) - L0, 0.05, 100.0)
    c = -a * np.cosh(SPAN / (2 * a))
    ns, errors = np.array([10, 20, 40]), []
    for n in ns:
        x = None
        for ea in (50.0, 1e3, 1e4, 1e5, 1e6):  # continuation in the stiffness
            net = _hanging_chain(n, ea)
            x, _ = newton_solve(net, x0=x)
        errors.append(np.abs(x[:, 1] - (a * np.cosh(x[:, 0] / a) + c)).max())
    order = -np.polyfit(np.log(ns), np.log(errors), 1)[0]
    assert 1.8 < order < 2.2, (order, errors)


def _balance_checks(x, net):
    x = jnp.asarray(x)
    f = np.asarray(catenax.node_forces(x, net))
    free = np.asarray(catenax.free_mask(net))
    scale = float(catenax.force_scale(x, net))
    assert np.abs(f * free).max() <= 1e-9 * scale  # every free node in balance
    react = np.asarray(catenax.reactions(x, net))
    assert np.all(react * free == 0)
    total = react.sum(axis=0) + np.asarray(catenax.applied_forces(net)).sum(axis=0)
    assert np.abs(total).max() <= 1e-9 * scale


def test_reactions_balance_applied_forces_2d_with_loads():
    net = catenax.chain2d(15, span=2.0, stiffness=200.0, mass=0.1, gravity=9.81)
    loads = np.zeros((17, 2))
    loads[4] = [0.5, -2.0]
    loads[11] = [-0.2, 0.7]
    net = net.replace(loads=loads)
    x, _ = newton_solve(net)
    _balance_checks(x, net)
    # the supports carry every weight (their own included) and the loads
    react = np.asarray(catenax.reactions(jnp.asarray(x), net))
    assert react[:, 1].sum() == pytest.approx(17 * 0.1 * 9.81 + 2.0 - 0.7, rel=1e-10)
    assert react[:, 0].sum() == pytest.approx(-0.3, abs=1e-9)


def test_reaction_sign_single_hanging_mass():
    # a mass hangs on one spring below a support: the support pulls up by the weight
    net = catenax.from_arrays(
        [[0.0, 0.0], [0.0, -1.0]], [[0, 1]], rest_length=1.0, stiffness=100.0,
        mass=[0.0, 2.0], gravity=9.81, fixed=[0],
    )  # fmt: skip
    x, _ = newton_solve(net)
    assert x[1, 1] == pytest.approx(-1.0 - 2.0 * 9.81 / 100.0, abs=1e-12)
    np.testing.assert_allclose(catenax.reactions(jnp.asarray(x), net)[0], [0.0, 2 * 9.81])
    assert float(catenax.tensions(jnp.asarray(x), net)[0]) == pytest.approx(2 * 9.81)


def test_symmetric_net_gives_symmetric_shape_and_balances():
    rows, cols = 7, 7
    net = catenax.net(rows, cols, supports="corners", mass=0.05)
    x, _ = newton_solve(net, x0=_perturbed(net, 1e-3) * catenax.free_mask(net)
                        + net.positions * (1 - catenax.free_mask(net)))  # fmt: skip
    _balance_checks(x, net)
    g = x.reshape(rows, cols, 3)
    w = (cols - 1) * 1.0
    np.testing.assert_allclose(g[:, ::-1, 0], w - g[:, :, 0], atol=1e-9)  # mirror in x
    np.testing.assert_allclose(g[::-1, :, 1], w - g[:, :, 1], atol=1e-9)  # mirror in y
    np.testing.assert_allclose(g[:, ::-1, 2], g[:, :, 2], atol=1e-9)
    np.testing.assert_allclose(g.transpose(1, 0, 2)[..., 2], g[..., 2], atol=1e-9)  # diagonal
    assert g[3, 3, 2] < -0.1  # it sags


def test_tension_only_spring_goes_slack_instead_of_pushing():
    # a node between supports at x = -1 and x = 1, springs of rest length 1, load F along +x.
    # Springs: each carries half, u = F / 2k, tensions +F/2 and -F/2.
    # Cables: the right one goes slack, the left carries all: u = F / k, tensions F and 0.
    k, f = 100.0, 3.0
    base = catenax.from_arrays([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]], [[0, 1], [1, 2]],
                               rest_length=1.0, stiffness=k, mass=0.0, fixed=[0, 2],
                               loads=[[1, f, 0.0]])  # fmt: skip
    x, _ = newton_solve(base)
    assert x[1, 0] == pytest.approx(f / (2 * k), abs=1e-12)
    np.testing.assert_allclose(catenax.tensions(jnp.asarray(x), base), [f / 2, -f / 2], atol=1e-10)
    cab = base.replace(cables=True)
    x, _ = newton_solve(cab)
    assert x[1, 0] == pytest.approx(f / k, abs=1e-12)
    np.testing.assert_allclose(catenax.tensions(jnp.asarray(x), cab), [f, 0.0], atol=1e-10)
    _balance_checks(x, cab)


def test_cable_net_under_point_load_has_slack_cables_never_compressed():
    net = catenax.net(5, 5, supports="edges", rest_length=1.0, mass=0.0)
    loads = np.zeros((25, 3))
    loads[12] = [0.0, 0.0, -1.0]
    loads[6] = [10.0, 10.0, 0.0]  # pulls a node sideways: some cables must go slack
    net = net.replace(loads=loads)
    x0 = net.positions.at[:, 2].add(-0.1 * (1 - np.asarray(net.fixed, float)))
    x, _ = newton_solve(net, x0=x0)
    _balance_checks(x, net)
    ext = np.asarray(catenax.spring_lengths(jnp.asarray(x), net)) - 1.0
    t = np.asarray(catenax.tensions(jnp.asarray(x), net))
    assert (ext < -1e-6).any()  # slack cables exist ...
    assert np.all(t >= 0) and np.all(t[ext < 0] == 0)  # ... and carry nothing


def test_minimize_newton_on_networks_when_available():
    pytest.importorskip("catenax.solvers.newton")
    net = catenax.net(6, 6, supports="corners", mass=0.05)
    r = catenax.minimize(catenax.network_energy, net.positions, net,
                         free=catenax.free_mask(net), method="newton")  # fmt: skip
    assert r.status == "converged"
    x, _ = newton_solve(net)
    np.testing.assert_allclose(r.positions, x, atol=1e-8)
    _balance_checks(r.positions, net)
