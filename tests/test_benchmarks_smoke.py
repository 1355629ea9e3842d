"""benchmarks/net_scaling.py: its peers solve the same problem as catenax, on a tiny net.

The full benchmark runs every solver in fresh processes and takes minutes; these
checks take seconds: the peers' own energy and sparse Hessian against catenax's,
and the scipy sparse-direct Newton peer run through the benchmark's child.
"""

import importlib.util
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import catenax

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "net_scaling.py"


def _load():
    spec = importlib.util.spec_from_file_location("net_scaling", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ns = _load()


def _perturbed(net, seed=0):
    dx = 0.3 * np.random.default_rng(seed).standard_normal(net.x0.shape)
    return net.x0 + dx * net.free


def test_the_net_is_the_issues_net():
    net = ns.Net(4)
    assert net.n == 16 and len(net.springs) == 2 * 4 * 3  # 4-neighbour springs
    assert int(np.sum(net.free[:, 0] == 0)) == 12  # every boundary node fixed
    # flat start: every spring at length 1, tension k (1 - 0.9) = 5 > weight 0.2
    assert abs(float(catenax.force_scale(jnp.asarray(net.x0), net.network)) - 5.0) < 1e-12


def test_peer_energy_and_gradient_are_catenaxs():
    net = ns.Net(5)
    x = jnp.asarray(_perturbed(net))
    e, g = jax.jit(jax.value_and_grad(ns.energy))(x, net.data)
    e_ref, g_ref = jax.jit(jax.value_and_grad(catenax.network_energy))(x, net.network)
    assert abs(float(e - e_ref)) <= 1e-12 * abs(float(e))
    g_ref = g_ref * net.free
    np.testing.assert_allclose(g, g_ref, rtol=0, atol=1e-12)


def test_peer_hessian_is_the_dense_free_hessian():
    net = ns.Net(5)
    x = _perturbed(net, seed=1)
    h = ns.FreeHessian(net).matrix(x).toarray()
    flat = lambda z: catenax.network_energy(z.reshape(x.shape), net.network)  # noqa: E731
    dense = np.asarray(jax.jit(jax.hessian(flat))(jnp.asarray(x.ravel())))
    f = net.free.ravel() > 0
    np.testing.assert_allclose(h, dense[np.ix_(f, f)], rtol=0, atol=1e-11 * np.abs(dense).max())


def test_scipy_newton_peer_meets_the_tolerance_in_a_few_steps():
    recs = []
    ns.child("scipy Newton", 6, limit=60.0, emit=lambda s: recs.append(json.loads(s)))
    first, warm = recs
    assert first["ok"] and warm["ok"]
    assert first["ratio"] <= ns.RTOL  # checked with catenax's gradient and force scale
    assert 2 <= warm["steps"] <= 8
    assert ns.verdict(warm, 60.0) == "converged"


def test_cli_speed_benchmark_runs_in_smoke_size():
    """benchmarks/cli_speed.py --smoke: both targets measured as whole processes, ratios printed."""
    import subprocess
    import sys

    script = SCRIPT.parent / "cli_speed.py"
    out = subprocess.run(
        [sys.executable, str(script), "--smoke"], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    assert "a. catenax / scipy peer at N=300" in out.stdout
    assert "b. catenax relax --json (N=20) / import jax, optax" in out.stdout
    assert "Heights agree to" in out.stdout
