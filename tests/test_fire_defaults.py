"""FIRE's defaults relax every shipped example; each method's divergence advice speaks of its step.

FIRE's time step is capped from the problem (the curvature along every step,
optionally a power-iteration estimate of lambda_max at the start) and a step
that climbs is undone: checked against dense eigenvalues, on every sample scenario
(against newton's answer), from an all-slack start and with a far too large
first step. The advice of :mod:`catenax.solve.advice` is checked for each kind of
method against eigenvalues computed here.
"""

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catenax
from catenax.solve import make_problem
from catenax.solve.advice import diverged_advice, largest_eigenvalue
from catenax.solvers import FIRE
from catenax.solvers.fire import stiffest_curvature, verlet_bound

SCENARIOS = Path(__file__).resolve().parents[1] / "examples" / "scenarios"
SAMPLES = sorted(p for p in SCENARIOS.iterdir() if p.suffix in (".toml", ".json"))
LESSON = (5.0, 0.8, 0.1)


def dense_free_eigenvalues(energy, x, params, free):
    """Eigenvalues of the Hessian restricted to the free coordinates (dense, numpy)."""
    h = np.asarray(jax.jit(jax.hessian(energy))(x, *params)).reshape(x.size, x.size)
    keep = np.asarray(free).ravel() > 0
    return np.linalg.eigvalsh(h[np.ix_(keep, keep)])


def slack_tent(stiffness=500.0):
    """A weight hung on three cables that all start slack (rest 2, start length ~1.1)."""
    pos = [[0, 0, 0.5], [1, 0, 1], [-0.5, 0.866, 1], [-0.5, -0.866, 1]]
    return catenax.from_arrays(pos, [[0, 1], [0, 2], [0, 3]], stiffness=stiffness,
                               rest_length=2.0, mass=[1.0, 0, 0, 0], gravity=[0, 0, -9.81],
                               fixed=[1, 2, 3], cables=True)  # fmt: skip


# ------------------------------------------------------------ the safe step


def test_verlet_bound():
    assert float(verlet_bound(4.0)) == 1.0
    assert float(verlet_bound(1e6)) == pytest.approx(2e-3)
    assert math.isinf(float(verlet_bound(0.0))) and math.isinf(float(verlet_bound(-1.0)))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_stiffest_curvature_is_a_close_lower_estimate(path):
    net = catenax.load_scenario(path).network
    free = catenax.free_mask(net)
    ev = dense_free_eigenvalues(catenax.network_energy, net.positions, (net,), free)
    top = max(abs(ev[0]), abs(ev[-1]))
    problem = make_problem(catenax.network_energy, (net,), free)
    est = float(jax.jit(lambda x: stiffest_curvature(problem, x))(net.positions))
    assert 0.85 * top <= est <= top * (1 + 1e-9)


def test_the_first_step_is_a_quarter_of_the_safe_cap():
    net = catenax.load_scenario(SCENARIOS / "cloth.toml").network  # lambda_max ~ 2900
    problem = make_problem(catenax.network_energy, (net,), catenax.free_mask(net))
    x = net.positions
    e, g = problem.value_and_grad(x)
    state = FIRE(power_iterations=10).init(problem, x, e, g)
    lam = float(state.lam)
    assert float(state.dt) == pytest.approx(0.25 * 0.6 * 2 / math.sqrt(lam))
    assert float(state.dt) < 0.1  # the requested dt = 0.1 is far beyond 2/sqrt(2900) = 0.037
    # on the soft lesson chain (lambda_max 4) the requested dt stands
    p = make_problem(catenax.chain_energy, LESSON, jnp.ones(20))
    s = FIRE(power_iterations=10).init(p, jnp.zeros(20), *p.value_and_grad(jnp.zeros(20)))
    assert float(s.dt) == 0.1
    # by default there is no estimate at the start: the steps' curvatures set the cap
    assert float(FIRE().init(problem, x, e, g).dt) == 0.1


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="dt_safety"):
        FIRE(dt_safety=1.5)
    with pytest.raises(ValueError, match="dt_safety"):
        FIRE(dt_safety=0.0)
    with pytest.raises(ValueError, match="power_iterations"):
        FIRE(power_iterations=-1)
    assert FIRE(power_iterations=0).power_iterations == 0


# ------------------------------------------------- every example, relaxed


@pytest.fixture(scope="module")
def newton_answers():
    return {p.name: catenax.solve_scenario(catenax.load_scenario(p)) for p in SAMPLES}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_fire_defaults_relax_every_shipped_example(path, newton_answers):
    s = catenax.load_scenario(path)
    r = catenax.solve_scenario(s, method="fire", max_steps=20_000, history=False)
    assert r.status == "converged", r.message
    ref = newton_answers[path.name]
    assert ref.status == "converged"
    assert r.energy == pytest.approx(ref.energy, rel=1e-9, abs=1e-9)
    if path.name == "cloth.toml":
        return  # the curtain wrinkles: two mirror-image minima of the same energy
    # both meet max|grad| <= 1e-10 F; positions agree to that over lambda_min
    bound = 2 * r.threshold / ref.extra["min_eigenvalue"] + 1e-12
    np.testing.assert_allclose(r.positions, ref.positions, atol=bound)


def test_fire_relaxes_a_weight_on_cables_that_all_start_slack():
    net = slack_tent()
    free = catenax.free_mask(net)
    r = catenax.minimize(catenax.network_energy, net.positions, net, free=free, method="fire",
                         max_steps=5000)  # fmt: skip
    assert r.status == "converged", r.message
    # at rest the three cable tensions carry the weight
    t = np.asarray(catenax.tensions(r.positions, net))
    u = (np.asarray(net.positions)[1:] - np.asarray(r.positions)[0]) / np.asarray(
        catenax.spring_lengths(r.positions, net)
    )[:, None]
    np.testing.assert_allclose((t[:, None] * u).sum(axis=0), [0.0, 0.0, 9.81], atol=1e-8)


@pytest.mark.parametrize("fire", [FIRE(10.0), FIRE(10.0, power_iterations=10)])
def test_a_far_too_large_time_step_is_cut_to_a_stable_one(fire):
    # chain_with_load: lambda_max = 1.1e4, so dt must stay below 0.019; asked for 10
    s = catenax.load_scenario(SCENARIOS / "chain_with_load.toml")
    r = catenax.solve_scenario(s, method=fire, max_steps=5000, stability=False)
    assert r.status == "converged", r.message


def test_a_kink_that_the_gradient_never_resolves_stalls():
    # E = |x|: max|grad E| = 1 at every x != 0, so the stopping rule can never pass;
    # near the kink every step overshoots and climbs, dt is halved each time, and
    # the run reports that it cannot progress instead of spending its budget
    r = catenax.minimize(lambda x: jnp.sum(jnp.abs(x)), jnp.array([1.0, 0.7]), method="fire",
                         max_steps=20_000, stability=False)  # fmt: skip
    assert r.status == "stalled", r.message
    assert r.steps < 5000 and np.abs(r.positions).max() < 1e-100


# ------------------------------------------------------ the divergence advice


def _lesson_lambda_max_at_equilibrium():
    r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), *LESSON)
    return dense_free_eigenvalues(catenax.chain_energy, r.positions, LESSON, jnp.ones(20))[-1]


def test_gradient_descent_advice_is_its_learning_rate_bound():
    lam = _lesson_lambda_max_at_equilibrium()
    for name in ("gd", "adam"):
        msg = diverged_advice(catenax.chain_energy, LESSON, jnp.zeros(20), name,
                              x0=jnp.zeros(20), solve=catenax.minimize)  # fmt: skip
        assert f"2/lambda_max = {2 / lam:.4g}" in msg and "equilibrium" in msg
        assert "0.2387" in msg and "`learning_rate=0.215`" in msg


def test_fire_advice_is_its_time_step_bound():
    lam = _lesson_lambda_max_at_equilibrium()
    msg = diverged_advice(catenax.chain_energy, LESSON, jnp.zeros(20), "fire",
                          x0=jnp.zeros(20), solve=catenax.minimize)  # fmt: skip
    bound = 2 / math.sqrt(lam)
    assert f"2/sqrt(lambda_max) = {bound:.4g}" in msg and "FIRE's time step dt" in msg
    assert f"dt_max={0.6 * bound:.3g}" in msg
    assert "gradient descent" not in msg and "`learning_rate=" not in msg


@pytest.mark.parametrize("name, how", [("newton", "Hessian"), ("lbfgs", "line search")])
def test_newton_and_lbfgs_advice_has_no_learning_rate(name, how):
    # a falling energy: a free node pulled down forever
    def energy(x):
        return -jnp.sum(x**3)

    x0, x = jnp.ones(2), jnp.full(2, 10.0)
    msg = diverged_advice(energy, (), x, name, x0=x0, solve=catenax.minimize)
    assert f"{name} takes no learning rate" in msg and how in msg
    assert "the energy fell from -2 to -2000" in msg and "held" in msg
    assert "2/lambda_max" not in msg and "`learning_rate=" not in msg


def test_advice_on_a_network_uses_the_free_mask():
    net = catenax.chain2d(6, stiffness=100.0)
    free = catenax.free_mask(net)
    lam, where = largest_eigenvalue(catenax.network_energy, (net,), net.positions,
                                    net.positions, free=free, solve=catenax.minimize)  # fmt: skip
    assert where == "at the equilibrium"
    r = catenax.minimize(catenax.network_energy, net.positions, net, free=free)
    ev = dense_free_eigenvalues(catenax.network_energy, r.positions, (net,), free)
    assert lam == pytest.approx(ev[-1], rel=1e-6)
    msg = diverged_advice(catenax.network_energy, (net,), net.positions, "fire",
                          x0=net.positions, free=free, solve=catenax.minimize)  # fmt: skip
    assert f"{2 / math.sqrt(ev[-1]):.4g}" in msg


def test_advice_without_a_positive_eigenvalue_says_try_smaller():
    def flat(x):
        return -jnp.sum(x)  # Hessian 0

    assert "smaller `learning_rate`" in diverged_advice(flat, (), jnp.zeros(3), "gd")
    assert "smaller initial time step dt" in diverged_advice(flat, (), jnp.zeros(3), "fire")
