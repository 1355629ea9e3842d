"""Newton: tridiagonal and CG paths, globalisation from the flat start, the Hessian."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _data import lesson_reference

import catenax
from catenax.solve import make_problem
from catenax.solvers import Newton
from catenax.solvers import tridiagonal as tri

REF = lesson_reference()
if not REF:  # pragma: no cover
    raise RuntimeError("reference file missing")
E = catenax.chain_energy
Y_STAR = np.asarray(REF["equilibrium"]["y"])


def plain(y, spring, length, mass_g):
    """The chain energy without structure attributes: newton takes the CG path."""
    return E(y, spring, length, mass_g)


def jacobi(y, spring, length, mass_g):
    return E(y, spring, length, mass_g)


jacobi.hessian_diagonal = lambda y, *p: catenax.chain_hessian_tridiagonal(y, *p)[1]


def test_newton_is_the_default_and_reaches_the_lesson_equilibrium():
    r = catenax.minimize(E, jnp.zeros(20), 5.0, 0.8, 0.1)
    assert r.method == "newton" and r.status == "converged" and r.steps <= 8
    np.testing.assert_allclose(r.positions, Y_STAR, atol=1e-10)
    assert abs(r.energy - REF["equilibrium"]["energy"]) < 1e-12


def test_newton_float32_converges_without_false_stall():
    r = catenax.minimize(E, jnp.zeros(20, jnp.float32), 5.0, 0.8, 0.1)
    assert r.status == "converged", r.message
    np.testing.assert_allclose(r.positions, Y_STAR, atol=2e-4)


@pytest.mark.parametrize("energy", [plain, jacobi], ids=["cg", "cg-jacobi"])
def test_cg_path_agrees_with_tridiagonal_path(energy):
    x0 = jnp.zeros(20)
    prob = make_problem(energy, (5.0, 0.8, 0.1), jnp.ones(20))
    assert Newton().path(prob, x0) == "cg"
    assert Newton().path(make_problem(E, (5.0, 0.8, 0.1), jnp.ones(20)), x0) == "tridiagonal"
    a = catenax.minimize(E, x0, 5.0, 0.8, 0.1)
    b = catenax.minimize(energy, x0, 5.0, 0.8, 0.1)
    assert a.status == b.status == "converged"
    np.testing.assert_allclose(a.positions, b.positions, atol=1e-9)
    np.testing.assert_allclose(b.extra["min_eigenvalue"], a.extra["min_eigenvalue"], rtol=1e-8)


def test_both_paths_respect_the_free_mask():
    free = jnp.ones(20).at[4].set(0.0).at[13].set(0.0)
    x0 = jnp.zeros(20).at[4].set(-1.0)
    for energy in (E, plain):
        r = catenax.minimize(energy, x0, 5.0, 0.8, 0.1, free=free)
        assert r.status == "converged"
        assert r.positions[4] == -1.0 and r.positions[13] == 0.0
    a = catenax.minimize(E, x0, 5.0, 0.8, 0.1, free=free)
    b = catenax.minimize(plain, x0, 5.0, 0.8, 0.1, free=free)
    np.testing.assert_allclose(a.positions, b.positions, atol=1e-9)


def test_cg_path_works_for_2d_positions():
    """Positions of shape (n, 2): a zero-rest-length 2D chain is a linear problem."""

    def energy(x, k, w):
        full = jnp.concatenate([jnp.zeros((1, 2)), x, jnp.array([[6.0, 0.0]])])
        d = jnp.diff(full, axis=0)
        return 0.5 * k * jnp.sum(d * d) + w * jnp.sum(x[:, 1])

    x0 = jnp.stack([jnp.arange(1.0, 6.0), jnp.zeros(5)], axis=1)
    r = catenax.minimize(energy, x0, 2.0, 0.1)
    assert r.status == "converged" and r.steps <= 3
    # closed form: parabola y_i = w/(2k) * i * (i - 6)
    i = np.arange(1, 6)
    np.testing.assert_allclose(r.positions[:, 1], 0.1 / 4.0 * i * (i - 6), atol=1e-10)
    np.testing.assert_allclose(r.positions[:, 0], i, atol=1e-10)


@pytest.mark.parametrize("length", [1.0, 1.2])
def test_newton_from_flat_start_ends_at_a_stable_minimum(length):
    r = catenax.minimize(E, jnp.zeros(20), 5.0, length, 0.1)
    assert r.status == "converged", r.message
    assert r.grad_max <= r.threshold
    assert r.extra["stable"] and r.extra["min_eigenvalue"] > 0
    if length == 1.0:
        ref = REF["exercise_equilibria_from_flat_start_newton"]["length_1.0"]
        assert abs(r.energy - ref["energy"]) < 1e-11
        assert abs(r.positions.min() - ref["min_y"]) < 1e-6
    else:  # the flat start is symmetric; the symmetric stationary point is a saddle
        assert r.energy < -9.0
        assert abs(r.energy - -9.0781166670789) > 1e-3
        assert np.max(np.abs(r.positions - r.positions[::-1])) > 1e-3


def test_exact_saddle_is_reported_and_a_perturbed_start_escapes():
    r = catenax.minimize(E, jnp.zeros(20), 5.0, 1.2, 0.0)
    assert r.status == "saddle" and not r.converged
    assert r.extra["min_eigenvalue"] < -1.0 and not r.extra["stable"]
    assert "saddle" in r.message and "multistart" in r.message
    y0 = 1e-3 * jax.random.normal(jax.random.key(1), (20,))
    r = catenax.minimize(E, y0, 5.0, 1.2, 0.0)
    assert r.status == "converged" and r.extra["stable"] and r.extra["min_eigenvalue"] > 0
    # without gravity E >= 0; the flat saddle has E = 21 * K/2 * 0.2^2 = 2.1
    assert 0 <= r.energy < 0.05


@pytest.mark.parametrize("length", [0.8, 1.2])
def test_tridiagonal_hessian_equals_jax_hessian(length):
    y = jnp.asarray(np.random.default_rng(0).normal(size=9))
    dense = np.asarray(jax.hessian(E)(y, 5.0, length, 0.1))
    lo, di, up = catenax.chain_hessian_tridiagonal(y, 5.0, length, 0.1)
    band = np.diag(di) + np.diag(up[:-1], 1) + np.diag(lo[1:], -1)
    np.testing.assert_allclose(band, dense, atol=1e-12)
    assert lo[0] == 0 and up[-1] == 0
    # newton's view: the masked tridiagonal matrix times v equals the masked HVP
    free = jnp.ones(9).at[2].set(0.0)
    prob = make_problem(E, (5.0, length, 0.1), free)
    mlo, mdi, mup = tri.mask_tridiagonal(lo, di, up, free)
    v = jnp.asarray(np.random.default_rng(1).normal(size=9)) * free
    np.testing.assert_allclose(tri.matvec(mlo, mdi, mup, v), prob.hvp(y, v), atol=1e-12)


def test_inertia_count_matches_eigvalsh():
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 50, 300):
        d, e = rng.normal(size=n), rng.normal(size=n - 1)
        lo, up = np.concatenate([[0.0], e]), np.concatenate([e, [0.0]])
        ev = np.linalg.eigvalsh(np.diag(d) + np.diag(e, 1) + np.diag(e, -1))
        for s in (-1.5, 0.0, 0.4):
            got = int(tri.count_below(jnp.asarray(lo), jnp.asarray(d), jnp.asarray(up), s))
            assert got == int(np.sum(ev < s))


def test_newton_options_are_validated():
    with pytest.raises(ValueError, match="linear_solver"):
        Newton(linear_solver="lu")
    with pytest.raises(ValueError, match="cg_max_iter"):
        Newton(cg_max_iter=0)
    with pytest.raises(ValueError, match="hessian_tridiagonal"):
        catenax.minimize(plain, jnp.zeros(5), 5.0, 0.8, 0.1, method=Newton("tridiagonal"))
