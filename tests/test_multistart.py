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


def test_the_batch_pick_agrees_with_the_pick_over_single_results():
    k, seed = 12, 0
    r = catenax.minimize(E, jnp.zeros(20), 5.0, 1.2, 0.1, multistart=k, seed=seed)
    noise = jax.random.normal(jax.random.key(seed), (k, 20))
    singles = [catenax.minimize(E, 0.5 * noise[i], 5.0, 1.2, 0.1) for i in range(k)]
    ref = catenax.solve.pick(singles, dict(starts=k, seed=seed, perturbation=0.5))
    assert r.extra["start_index"] == ref.extra["start_index"]
    assert [(m["count"], m["start"]) for m in r.extra["minima"]] == [
        (m["count"], m["start"]) for m in ref.extra["minima"]
    ]
    np.testing.assert_allclose([m["energy"] for m in r.extra["minima"]],
                               [m["energy"] for m in ref.extra["minima"]], atol=1e-12)  # fmt: skip
    assert r.message.split("; best:")[0] == ref.message.split("; best:")[0]


def test_one_verdict_per_distinct_point():
    from catenax.solve import Result, pick_batch

    k = 50
    x = np.zeros((k, 3))
    x[k // 2 :] = 1.0  # two distinct points
    out = dict(x=x, e=np.where(np.arange(k) < k // 2, 2.0, 1.0), gmax=np.zeros(k),
               status=np.ones(k, int))  # fmt: skip
    calls = []

    def verdict(p):
        calls.append(p)
        return {"stable": True, "verdict": "minimum", "min_eigenvalue": 1.0}

    def result(i):
        return Result(x[i], float(out["e"][i]), 0.0, 3, "converged", "converged.", "newton")

    p = pick_batch(out, {"starts": k}, result, verdict)
    assert len(calls) == 2 and p.extra["start_index"] == k // 2
    assert [m["count"] for m in p.extra["minima"]] == [k // 2, k // 2]


def test_clustering_thousands_of_starts_is_fast():
    import time

    from catenax.solve import cluster_starts

    rng = np.random.default_rng(0)
    xs = rng.integers(0, 3, size=(1, 4000, 1)).astype(float) * np.ones((1, 4000, 20))
    t = time.perf_counter()
    owner = cluster_starts(xs, np.ones((1, 4000), bool), 2.2e-16)
    assert time.perf_counter() - t < 5  # a double loop in Python took minutes
    assert len(np.unique(owner)) == 3


def test_a_long_multistart_run_keeps_the_picked_history_whole():
    kw = dict(method="gd", learning_rate=0.05, max_steps=3000, tol=1e-9)
    r = catenax.minimize(E, jnp.zeros(20), 5.0, 0.8, 0.1, multistart=3, **kw)
    assert r.steps > 1024 and len(r.energy_history) == r.steps + 1
    assert np.all(np.isfinite(r.energy_history))
    assert r.energy_history[-1] == pytest.approx(r.energy)
