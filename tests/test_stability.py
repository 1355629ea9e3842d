"""The stability verdict: extreme eigenvalues against dense references."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _data import lesson_reference

import catenax
from catenax.solvers import tridiagonal as tri

REF = lesson_reference()
E = catenax.chain_energy


def plain(y, spring, length, mass_g):
    return E(y, spring, length, mass_g)


@pytest.mark.parametrize("energy", [E, plain], ids=["tridiagonal", "dense"])
def test_reference_eigenvalues_at_lesson_equilibrium(energy):
    eq = REF["equilibrium"]
    v = catenax.stability_verdict(energy, jnp.asarray(eq["y"]), 5.0, 0.8, 0.1)
    assert v["min_eigenvalue"] == pytest.approx(eq["hessian_eigenvalue_min"], rel=1e-9)
    assert v["max_eigenvalue"] == pytest.approx(eq["hessian_eigenvalue_max"], rel=1e-9)
    assert v["gd_step_max"] == pytest.approx(
        eq["largest_stable_gd_step_near_equilibrium"], rel=1e-9
    )
    assert v["stable"] is True


@pytest.mark.parametrize("length", [0.8, 1.0, 1.2])
@pytest.mark.parametrize("energy", [E, plain], ids=["tridiagonal", "dense"])
def test_min_eigenvalue_matches_eigvalsh(energy, length):
    rng = np.random.default_rng(int(10 * length))
    for n in (1, 5, 30):
        y = jnp.asarray(rng.normal(size=n))
        ev = np.linalg.eigvalsh(np.asarray(jax.hessian(E)(y, 5.0, length, 0.1)))
        v = catenax.stability_verdict(energy, y, 5.0, length, 0.1)
        scale = max(abs(ev[0]), abs(ev[-1]))
        assert abs(v["min_eigenvalue"] - ev[0]) <= 1e-9 * scale
        assert abs(v["max_eigenvalue"] - ev[-1]) <= 1e-9 * scale
        assert v["stable"] == bool(ev[0] > v["eigen_threshold"])
        assert v["certified"] is True


def test_free_mask_restricts_the_spectrum():
    y = jnp.asarray(REF["equilibrium"]["y"])
    free = np.ones(20)
    free[[0, 9, 15]] = 0
    dense = np.asarray(jax.hessian(E)(y, 5.0, 0.8, 0.1))[np.ix_(free > 0, free > 0)]
    ev = np.linalg.eigvalsh(dense)
    for energy in (E, plain):
        v = catenax.stability_verdict(energy, y, 5.0, 0.8, 0.1, free=jnp.asarray(free))
        assert v["min_eigenvalue"] == pytest.approx(ev[0], rel=1e-9)
        assert v["max_eigenvalue"] == pytest.approx(ev[-1], rel=1e-9)


def test_result_carries_the_verdict_and_it_can_be_switched_off():
    r = catenax.minimize(E, jnp.zeros(20), 5.0, 0.8, 0.1)
    d = r.to_dict()
    keys = ("min_eigenvalue", "max_eigenvalue", "stable", "verdict", "certified", "gd_step_max")
    for key in keys:
        assert key in d
    json.dumps(d)
    r = catenax.minimize(E, jnp.zeros(20), 5.0, 0.8, 0.1, stability=False)
    assert "min_eigenvalue" not in r.extra


def test_tridiagonal_extremes_at_large_n_bracket_the_truth():
    # uniform chain Laplacian: eigenvalues 2 - 2 cos(k pi / (n + 1)), known exactly
    n = 200_000
    lo = jnp.full(n, -1.0).at[0].set(0.0)
    up = jnp.full(n, -1.0).at[-1].set(0.0)
    lmin, lmax = jax.jit(tri.extreme_eigenvalues)(lo, jnp.full(n, 2.0), up)
    assert float(lmin) == pytest.approx(2 - 2 * math.cos(math.pi / (n + 1)), abs=2e-8)
    assert float(lmax) == pytest.approx(2 - 2 * math.cos(n * math.pi / (n + 1)), abs=1e-6)


def test_diverged_gd_suggests_the_step_at_the_equilibrium():
    r = catenax.minimize(E, jnp.zeros(20), 5.0, 0.8, 0.1, method="gd", learning_rate=1.0,
                         max_steps=2000)  # fmt: skip
    assert r.status == "diverged"
    assert "0.2387" in r.message and "equilibrium" in r.message
