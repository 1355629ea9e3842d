"""catenax.equilibrium: derivatives of the equilibrium by the implicit function theorem (issue 13).

Checked against central finite differences (through catenax.minimize for the chain),
against autodiff unrolled through a hand-written dense Newton, jacfwd against jacrev,
the Taylor remainder's slope, vmap against a loop, jit, and NaN with a warning where
the point is not a converged stable minimum.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catenax
from catenax import EquilibriumWarning, equilibrium

E = catenax.network_energy
RTOL = 1e-6


def close(a, b, rtol=RTOL):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(np.max(np.abs(b)), 1e-300)
    assert np.max(np.abs(a - b)) <= rtol * scale, (a, b)


def central(f, p, v, h=1e-5):
    return (f(p + h * v) - f(p - h * v)) / (2 * h)


# ------------------------------------------------------------------ the chain


def chain_min(spring, length, mass_g, n=20):
    return jnp.min(equilibrium(catenax.chain_energy, jnp.zeros(n), spring, length, mass_g))


def minimize_min(spring, length, mass_g, n=20):
    r = catenax.minimize(catenax.chain_energy, jnp.zeros(n), spring, length, mass_g,
                         tol=1e-13, stability=False, history=False)  # fmt: skip
    assert r.status == "converged"
    return float(np.min(r.positions))


def test_chain_lowest_point_against_the_issue_and_finite_differences():
    p = (5.0, 0.8, 0.1)
    grads = jax.grad(chain_min, argnums=(0, 1, 2))(*p)
    # The issue's number: d(min y)/dl at the lesson's parameters.
    assert abs(float(grads[1]) - (-9.38564391)) < 1e-7
    for i, g in enumerate(grads):
        e = np.eye(3)[i]
        fd = central(lambda t: minimize_min(*(np.array(p) + t * e)), 0.0, 1.0)  # noqa: B023
        close(g, fd)


def test_chain_against_newton_unrolled_by_autodiff():
    # A tiny dense Newton, differentiated step by step: from x* it converges in a
    # few steps, and so do its derivatives, to the implicit ones.
    n, p = 6, jnp.array([5.0, 0.8, 0.1])
    x_star = equilibrium(catenax.chain_energy, jnp.zeros(n), *p)

    def unrolled(q):
        x = jax.lax.stop_gradient(x_star) + 1e-3
        for _ in range(6):
            g = jax.grad(catenax.chain_energy)(x, *q)
            x = x - jnp.linalg.solve(jax.hessian(catenax.chain_energy)(x, *q), g)
        return x

    implicit = jax.jacrev(lambda q: equilibrium(catenax.chain_energy, jnp.zeros(n), *q))(p)
    close(implicit, jax.jacrev(unrolled)(p), 1e-10)


def test_chain_jacfwd_equals_jacrev_and_vmap_equals_a_loop():
    def heights(q):
        return equilibrium(catenax.chain_energy, jnp.zeros(20), q[0], q[1], q[2])

    q = jnp.array([5.0, 0.8, 0.1])
    close(jax.jacfwd(heights)(q), jax.jacrev(heights)(q), 1e-12)
    lengths = jnp.array([0.5, 0.8, 1.1])
    batched = jax.vmap(jax.grad(lambda length: chain_min(5.0, length, 0.1)))(lengths)
    loop = [jax.grad(lambda length: chain_min(5.0, length, 0.1))(length) for length in lengths]
    close(batched, loop, 1e-12)


def test_jit_gives_the_same_gradients():
    f = lambda length: chain_min(5.0, length, 0.1)  # noqa: E731
    close(jax.jit(jax.grad(f))(0.8), jax.grad(f)(0.8), 1e-12)


# ------------------------------------------------------------------ a 3D net


@pytest.fixture(scope="module")
def net():
    return catenax.net(4, 4)


def sag(net, weights):
    """A scalar of the whole shape, so every coordinate's derivative counts."""

    def f(changed):
        x = equilibrium(E, net.positions, changed)
        return jnp.sum(weights * x)

    return f


@pytest.fixture(scope="module")
def weights(net):
    return jnp.asarray(np.random.default_rng(1).normal(size=net.positions.shape))


KINDS = {
    "rest_length": lambda net, v: net.replace(rest_length=v),
    "stiffness": lambda net, v: net.replace(stiffness=v),
    "loads": lambda net, v: net.replace(loads=v),
    "mass": lambda net, v: net.replace(mass=v),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_net_gradients_match_finite_differences(net, weights, kind):
    start = {"rest_length": net.rest_length, "stiffness": net.stiffness,
             "loads": net.loads + 0.01, "mass": net.mass}[kind]  # fmt: skip
    f = jax.jit(lambda v: sag(net, weights)(KINDS[kind](net, v)))
    g = jax.grad(f)(start)
    v = jnp.asarray(np.random.default_rng(2).normal(size=start.shape))
    close(jnp.vdot(g, v), central(f, start, v))


def test_net_prestress_and_ea_through_the_member_formulas(net, weights):
    length = catenax.spring_lengths(net.positions, net)

    def f(t0, ea):
        rest = catenax.rest_length_from_prestress(length, t0, ea=ea)
        k = catenax.stiffness_from_ea(ea, rest)
        return sag(net, weights)(net.replace(rest_length=rest, stiffness=k))

    t0, ea = jnp.full(net.n_springs, 4.0), jnp.asarray(60.0)
    gt, ge = jax.grad(f, argnums=(0, 1))(t0, ea)
    v = jnp.asarray(np.random.default_rng(3).normal(size=t0.shape))
    close(jnp.vdot(gt, v), central(lambda t: f(t, ea), t0, v))
    close(ge, central(lambda e: f(t0, e), ea, 1.0, h=1e-4))


def test_net_against_newton_unrolled_by_autodiff(net):
    free = catenax.free_mask(net)
    x_star = equilibrium(E, net.positions, net)
    idx = np.flatnonzero(np.asarray(free).ravel())
    shape = net.positions.shape

    def unrolled(rest):
        changed = net.replace(rest_length=rest)
        # From near x*, three steps converge (quadratically) to round-off.
        x = jax.lax.stop_gradient(x_star) + 1e-4 * free
        for _ in range(3):
            g = jax.grad(E)(x, changed).ravel()[idx]
            h = jax.hessian(lambda z: E(z.reshape(shape), changed))(x.ravel())
            step = jnp.linalg.solve(h[np.ix_(idx, idx)], g)
            x = x.ravel().at[idx].add(-step).reshape(shape)
        return x

    implicit = jax.jacrev(lambda r: equilibrium(E, net.positions, net.replace(rest_length=r)))
    close(implicit(net.rest_length), jax.jacrev(unrolled)(net.rest_length), 1e-9)


@pytest.mark.parametrize("linear_solver", ["dense", "cg"])
def test_net_jacfwd_equals_jacrev(net, linear_solver):
    def shape(rest):
        return equilibrium(E, net.positions, net.replace(rest_length=rest),
                           linear_solver=linear_solver)  # fmt: skip

    close(jax.jacfwd(shape)(net.rest_length), jax.jacrev(shape)(net.rest_length), 1e-9)


def test_taylor_remainder_has_slope_two(net, weights):
    f = jax.jit(lambda rest: sag(net, weights)(net.replace(rest_length=rest)))
    p = net.rest_length
    v = jnp.asarray(np.random.default_rng(4).normal(size=p.shape)) * 0.05
    slope = float(jnp.vdot(jax.grad(f)(p), v))
    hs = np.array([0.4, 0.2, 0.1, 0.05])
    rem = np.array([abs(float(f(p + h * v) - f(p) - h * slope)) for h in hs])
    order = np.polyfit(np.log(hs), np.log(rem), 1)[0]
    assert 1.8 < order < 2.2, (order, rem)


def test_vmap_over_network_parameters_equals_a_loop(net, weights):
    f = jax.grad(lambda s: sag(net, weights)(net.replace(stiffness=s * net.stiffness)))
    scales = jnp.array([0.8, 1.0, 1.5])
    close(jax.vmap(f)(scales), [f(s) for s in scales], 1e-10)


def test_moving_a_support_moves_the_net(net, weights):
    # Fixed coordinates follow x0; the free nodes answer through the Hessian.
    def f(x0):
        return jnp.sum(weights * equilibrium(E, x0, net))

    corner = jnp.zeros_like(net.positions).at[0, 2].set(1.0)
    g = jax.grad(f)(net.positions)
    close(jnp.vdot(g, corner), central(f, net.positions, corner))


def test_has_aux_reports_the_status():
    net = catenax.net(3, 3)
    x, info = equilibrium(E, net.positions, net, has_aux=True)
    assert catenax.STATUSES[int(info["status"])] == "converged"
    assert bool(info["converged"]) and bool(info["stable"]) and int(info["steps"]) > 0
    assert float(jnp.max(jnp.abs(catenax.node_forces(x, net) * catenax.free_mask(net)))) < 1e-9


# ------------------------------------------------------------ not a stable minimum


def upright_pendulum():
    """A mass held above its support on a stiff spring: straight up is a saddle."""
    up = [[0.0, 0.0], [0.0, 1.0]]
    return catenax.from_arrays(up, [[0, 1]], rest_length=1.0, stiffness=100.0,
                               mass=[0.0, 1.0], gravity=9.81, fixed=[0])  # fmt: skip


@pytest.mark.parametrize("linear_solver", ["dense", "cg"])
def test_saddle_gives_nan_and_a_warning(linear_solver):
    pend = upright_pendulum()

    def height(rest):
        x = equilibrium(E, pend.positions, pend.replace(rest_length=rest),
                        linear_solver=linear_solver)  # fmt: skip
        return x[1, 1]

    rest = jnp.array([1.0])
    assert abs(float(height(rest)) - (1.0 - 9.81 / 100.0)) < 1e-9  # it did converge there
    with pytest.warns(EquilibriumWarning, match="not a stable minimum"):
        assert np.isnan(jax.grad(height)(rest)).all()
    if linear_solver == "dense":
        with pytest.warns(EquilibriumWarning, match="not a stable minimum"):
            assert np.isnan(jax.jacfwd(height)(rest)).all()
        with pytest.warns(EquilibriumWarning, match="not a stable minimum"):
            assert np.isnan(jax.jit(jax.grad(height))(rest)).all()
            jax.effects_barrier()
    _, info = equilibrium(E, pend.positions, pend, has_aux=True, linear_solver=linear_solver)
    assert bool(info["converged"]) and not bool(info["stable"])


def test_chain_at_a_maximum_gives_nan():
    # No weight and rest length 1.2 > 1: the flat chain is compressed, a maximum of E.
    def f(length):
        return jnp.sum(equilibrium(catenax.chain_energy, jnp.zeros(5), 5.0, length, 0.0))

    with pytest.warns(EquilibriumWarning, match="not a stable minimum"):
        assert np.isnan(jax.grad(f)(1.2))


def test_forward_solve_out_of_steps_gives_nan_and_says_so():
    def f(length):
        return jnp.sum(equilibrium(catenax.chain_energy, jnp.zeros(20), 5.0, length, 0.1,
                                   max_steps=1))  # fmt: skip

    with pytest.warns(EquilibriumWarning, match="'max_steps', not converged"):
        assert np.isnan(jax.grad(f)(0.8))
    with pytest.warns(EquilibriumWarning, match="'max_steps', not converged"):
        f(0.8)  # the value alone is no equilibrium either
    with pytest.warns(EquilibriumWarning, match="max_steps"):
        g = jax.jit(jax.vmap(jax.grad(f)))(jnp.array([0.8, 0.7]))
        jax.effects_barrier()
    assert np.isnan(g).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="free: shape"):
        equilibrium(catenax.chain_energy, jnp.zeros(4), 5.0, 0.8, 0.1, free=jnp.ones(3))
    with pytest.raises(TypeError, match="unknown option"):
        equilibrium(catenax.chain_energy, jnp.zeros(4), 5.0, 0.8, 0.1, method="gd", tolerance=1)
    with pytest.raises(ValueError, match="linear_solver"):
        equilibrium(catenax.chain_energy, jnp.zeros(4), 5.0, 0.8, 0.1, linear_solver="dense")
    with pytest.raises(ValueError, match="max_steps"):
        equilibrium(catenax.chain_energy, jnp.zeros(4), 5.0, 0.8, 0.1, max_steps=0)
