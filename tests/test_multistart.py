"""Multistart: one vmapped batch of perturbed starts, distinct minima listed."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catenax

E = catenax.chain_energy


def test_multistart_finds_several_minima_at_l_1_2():
    r = catenax.minimize(E, jnp.zeros(20), 5.0, 1.2, 0.1, multistart=12, seed=0)
    minima = r.extra["minima"]
    energies = sorted({round(m["energy"], 6) for m in minima})
    assert len(energies) > 1  # distinct energies, not only mirror images
    assert r.status == "converged" and r.extra["stable"]
    assert r.energy == pytest.approx(min(m["energy"] for m in minima))
    assert sum(m["count"] for m in minima) <= 12
    assert all(m["symmetric"] is False for m in minima)  # the lowest minima are not symmetric
    assert r.extra["multistart"] == {"starts": 12, "seed": 0, "perturbation": 0.5}
    json.dumps(r.to_dict())


def test_multistart_equals_a_loop_of_single_solves():
    k, seed, scale = 4, 3, 0.5
    r = catenax.minimize(E, jnp.zeros(20), 5.0, 1.2, 0.1, multistart=k, seed=seed)
    noise = jax.random.normal(jax.random.key(seed), (k, 20))
    singles = [catenax.minimize(E, scale * noise[i], 5.0, 1.2, 0.1) for i in range(k)]
    best = singles[r.extra["start_index"]]
    np.testing.assert_allclose(r.positions, best.positions, atol=1e-10)
    assert r.steps == best.steps
    lows = sorted(s.energy for s in singles if s.status == "converged")
    assert r.energy == pytest.approx(lows[0], abs=1e-12)


def test_multistart_input_errors():
    with pytest.raises(ValueError, match="multistart"):
        catenax.minimize(E, jnp.zeros(5), 5.0, 1.2, 0.1, multistart=0)
    with pytest.raises(ValueError, match="perturbation"):
        catenax.minimize(E, jnp.zeros(5), 5.0, 1.2, 0.1, multistart=2, perturbation=-1.0)
