"""The lesson's model: energy, gradient, Hessian and equilibrium, checked independently."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _data import lesson_reference
from scipy.optimize import minimize as scipy_minimize

import catenax
from catenax.model import chain_energy, chain_force_scale, chain_hessian_tridiagonal, pad_ends

REFERENCE = lesson_reference()
LESSON = (5.0, 0.8, 0.1)


def numpy_energy(y, K, rest, mg):
    """The notebook's energy written out term by term in plain NumPy."""
    y = np.asarray(y, dtype=np.float64)
    e = 0.0
    for j in range(len(y) - 1):
        e += 0.5 * K * (np.sqrt((y[j + 1] - y[j]) ** 2 + 1) - rest) ** 2
    e += 0.5 * K * (np.sqrt(y[0] ** 2 + 1) - rest) ** 2
    e += 0.5 * K * (np.sqrt(y[-1] ** 2 + 1) - rest) ** 2
    return e + mg * np.sum(y)


@pytest.mark.parametrize("n", [1, 2, 7, 20])
@pytest.mark.parametrize("params", [LESSON, (2.0, 1.2, 0.0), (0.3, 1.0, 2.5)])
def test_energy_matches_numpy(n, params):
    rng = np.random.default_rng(n)
    y = rng.normal(size=n)
    assert float(chain_energy(jnp.asarray(y), *params)) == pytest.approx(
        numpy_energy(y, *params), rel=1e-13, abs=1e-13
    )


def test_energy_float32_keeps_dtype():
    e = chain_energy(jnp.zeros(20, jnp.float32), *LESSON)
    assert e.dtype == jnp.float32
    assert float(e) == pytest.approx(21 * 0.5 * 5.0 * 0.2**2, rel=1e-6)


def test_grad_matches_central_differences():
    rng = np.random.default_rng(0)
    y = jnp.asarray(rng.normal(size=12))
    g = np.asarray(jax.grad(chain_energy)(y, *LESSON))
    h = 1e-6
    fd = np.array(
        [
            (numpy_energy(y + h * e, *LESSON) - numpy_energy(y - h * e, *LESSON)) / (2 * h)
            for e in np.eye(12)
        ]
    )
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-8)


def test_taylor_remainder_has_slope_two():
    rng = np.random.default_rng(1)
    y, v = jnp.asarray(rng.normal(size=10)), jnp.asarray(rng.normal(size=10))
    e0 = chain_energy(y, *LESSON)
    g = jax.grad(chain_energy)(y, *LESSON)
    hs = np.array([1e-2, 5e-3, 2.5e-3, 1.25e-3])
    rem = [abs(float(chain_energy(y + h * v, *LESSON) - e0 - h * jnp.vdot(g, v))) for h in hs]
    slope = np.polyfit(np.log(hs), np.log(rem), 1)[0]
    assert slope == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("length", [0.8, 1.0, 1.2])
def test_tridiagonal_hessian_equals_jax_hessian(length):
    rng = np.random.default_rng(2)
    y = jnp.asarray(rng.normal(size=9))
    dense = np.asarray(jax.hessian(chain_energy)(y, 5.0, length, 0.1))
    lo, di, up = (np.asarray(a) for a in chain_hessian_tridiagonal(y, 5.0, length, 0.1))
    built = np.diag(di) + np.diag(lo[1:], -1) + np.diag(up[:-1], 1)
    np.testing.assert_allclose(built, dense, rtol=1e-12, atol=1e-12)
    assert lo[0] == 0.0 and up[-1] == 0.0


def test_force_scale_is_largest_spring_or_external_force():
    y = jnp.array([0.0, -3.0, 0.0])
    s = np.sqrt(np.diff([0.0, 0.0, -3.0, 0.0, 0.0]) ** 2 + 1)
    expected = max(0.1, np.max(np.abs(5.0 * (s - 0.8))))
    assert float(chain_force_scale(y, *LESSON)) == pytest.approx(expected)
    assert float(chain_force_scale(jnp.zeros(3), 0.0, 0.8, 0.7)) == pytest.approx(0.7)


def test_equilibrium_matches_scipy_and_reference():
    f = jax.jit(jax.value_and_grad(chain_energy))

    def fun(y):
        e, g = f(jnp.asarray(y), *LESSON)
        return float(e), np.asarray(g)

    sp = scipy_minimize(fun, np.zeros(20), jac=True, method="BFGS", options={"gtol": 1e-12})
    ours = catenax.minimize(
        chain_energy, jnp.zeros(20), *LESSON, method="gd", max_steps=100_000, tol=1e-12
    )
    assert ours.status == "converged"
    np.testing.assert_allclose(ours.positions, sp.x, atol=1e-8)
    np.testing.assert_allclose(ours.positions, REFERENCE["equilibrium"]["y"], atol=1e-9)
    assert ours.energy == pytest.approx(REFERENCE["equilibrium"]["energy"], abs=1e-12)


def test_vmap_over_parameters_equals_loop():
    lengths = jnp.array([0.6, 0.8, 0.9, 1.1])
    springs = jnp.array([5.0, 3.0, 8.0, 1.0])
    y = jnp.linspace(-1.0, 0.5, 15)
    batched = jax.vmap(chain_energy, in_axes=(None, 0, 0, None))(y, springs, lengths, 0.1)
    grads = jax.vmap(jax.grad(chain_energy), in_axes=(None, 0, 0, None))(y, springs, lengths, 0.1)
    for i in range(4):
        assert float(batched[i]) == float(chain_energy(y, springs[i], lengths[i], 0.1))
        np.testing.assert_array_equal(
            grads[i], jax.grad(chain_energy)(y, springs[i], lengths[i], 0.1)
        )


def test_pad_ends_batches():
    out = pad_ends(jnp.ones((2, 3)))
    assert out.shape == (2, 5)
    np.testing.assert_array_equal(out[:, 0], 0.0)
    np.testing.assert_array_equal(out[:, -1], 0.0)
