"""Newton on spring networks: each linear back-end against a dense solve, and hard starts."""

import jax.numpy as jnp
import numpy as np
import pytest
from _nets import grid_net

import catenax
from catenax.solvers import block_newton as bn
from catenax.solvers import multigrid as mg

BACKENDS = ["dense", "cg", "amg", "direct"]


def dense_hessian(x, net):
    """The free Hessian with identity on fixed coordinates, assembled in NumPy."""
    free = np.asarray(catenax.free_mask(net))
    r, c, v = (np.asarray(a) for a in catenax.hessian_coo(x, net, free))
    h = np.zeros((free.size, free.size))
    np.add.at(h, (r, c), v)
    return h


def sagged(net, depth=2.0):
    """A smooth sagged geometry (so every block has all three directions)."""
    x = np.asarray(net.positions).copy()
    m = int(round(np.sqrt(x.shape[0])))
    s = np.sin(np.pi * x[:, 0] / (m - 1)) * np.sin(np.pi * x[:, 1] / (m - 1))
    x[:, 2] -= depth * s
    return jnp.asarray(x)


@pytest.mark.parametrize("kind", BACKENDS)
def test_linear_backend_matches_dense_solve(kind):
    net = grid_net(14)
    x = sagged(net)
    free = catenax.free_mask(net)
    g = jnp.asarray(np.random.default_rng(1).standard_normal(x.shape)) * free
    parts = catenax.hessian_springs(x, net)
    h = mg.build_hierarchy(np.asarray(net.springs), np.asarray(free), coarse_nodes=20)
    assert len(h.levels) >= 2  # a real multigrid cycle, not a two-level one
    sol = bn.solve_blocks(kind, parts, free, g, 1e-13 * float(jnp.linalg.norm(g)), 2000, 0.0, h)
    ref = np.linalg.solve(dense_hessian(x, net), -np.asarray(g).ravel()).reshape(x.shape)
    assert bool(sol.ok) and float(sol.mu) == 0.0
    np.testing.assert_allclose(np.asarray(sol.p), ref, rtol=0, atol=1e-9 * np.abs(ref).max())


def test_coarse_operator_is_galerkin_product():
    """Each level's operator equals P^T A P with P the aggregation's prolongation."""
    net = grid_net(9)
    x = sagged(net)
    free = catenax.free_mask(net)
    h = mg.build_hierarchy(np.asarray(net.springs), np.asarray(free), coarse_nodes=5)
    op = mg.block_operator(net.springs, catenax.hessian_blocks(x, net), free)
    lev = h.levels[0]
    n, d = free.shape
    nc = lev.free.shape[0]
    p = np.zeros((n * d, nc * d))
    for i, agg in enumerate(np.asarray(lev.agg)):
        for a in range(d):
            if agg < nc and free[i, a] > 0:
                p[i * d + a, agg * d + a] = 1.0
    a_fine = np.asarray(mg.dense(op)) - np.diag(1.0 - np.asarray(free).ravel())
    coarse = mg.dense(mg.coarsen(op, lev))
    expect = p.T @ a_fine @ p + np.diag(1.0 - np.asarray(lev.free).ravel())
    np.testing.assert_allclose(np.asarray(coarse), expect, atol=1e-10)
    assert nc < 0.4 * np.count_nonzero(np.asarray(free).any(axis=1))  # aggregates of ~4 nodes


@pytest.mark.parametrize("kind", BACKENDS)
def test_each_backend_reaches_the_same_equilibrium(kind):
    net = grid_net(12)
    free = catenax.free_mask(net)
    ref = catenax.minimize(
        catenax.network_energy,
        net.positions,
        net,
        free=free,
        tol=1e-10,
        method=catenax.Newton(linear_solver="dense"),
        stability=False,
    )
    r = catenax.minimize(
        catenax.network_energy,
        net.positions,
        net,
        free=free,
        tol=1e-10,
        method=catenax.Newton(linear_solver=kind),
        stability=False,
    )
    assert r.status == "converged" and r.steps <= 30
    np.testing.assert_allclose(r.positions, ref.positions, atol=1e-8)
    # Equilibrium: supports carry the whole weight.
    reac = np.asarray(catenax.reactions(jnp.asarray(r.positions), net))
    assert abs(reac[:, 2].sum() - 0.2 * 144) < 1e-8  # every node weighs 0.2, fixed ones too


def test_all_slack_cables_take_a_regularised_step():
    """A weight on four cables that all start slack: the free Hessian is zero at the start."""
    pos = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [0.5, 0.5, 0.0]], float)
    k, w = 100.0, 1.0
    net = catenax.from_arrays(
        pos,
        [[0, 4], [1, 4], [2, 4], [3, 4]],
        rest_length=1.0,
        stiffness=k,
        mass=[0, 0, 0, 0, w],
        gravity=1.0,
        fixed=[0, 1, 2, 3],
        cables=True,
    )
    r = catenax.minimize(catenax.network_energy, net.positions, net, free=catenax.free_mask(net))
    assert r.status == "converged" and r.steps <= 30
    # Closed form by bisection: 4 T z / L = w with T = k (L - 1), L^2 = 1/2 + z^2.
    lo, hi = 0.5, 2.0
    for _ in range(200):
        z = 0.5 * (lo + hi)
        length = np.sqrt(0.5 + z * z)
        lo, hi = (z, hi) if 4 * k * (length - 1) * z / length < w else (lo, z)
    np.testing.assert_allclose(r.positions[4], [0.5, 0.5, -z], atol=1e-9)


@pytest.mark.parametrize("k", [1.0, 1e3, 1e6, 1e9, 1e10])
def test_stiff_hanging_chain_converges(k):
    """A 100-link hanging chain from its sagging start, from soft to nearly inextensible."""
    net = catenax.chain2d(99, stiffness=k)
    r = catenax.minimize(
        catenax.network_energy, net.positions, net, free=catenax.free_mask(net), max_steps=60
    )
    assert r.status == "converged", r.message
    assert r.steps <= 60
    if k >= 1e6:  # nearly inextensible: the same shape as the stiffest chain
        stiff = catenax.chain2d(99, stiffness=1e10)
        ref = catenax.minimize(
            catenax.network_energy,
            stiff.positions,
            stiff,
            free=catenax.free_mask(stiff),
            max_steps=60,
        )
        # the sag differs by the members' stretch, about 2e-3 * (1e6 / k)
        np.testing.assert_allclose(r.positions, ref.positions, atol=4e-3 * 1e6 / k + 2e-6)


def test_stiffest_chain_is_never_converged_with_a_wrong_shape():
    net = catenax.chain2d(99, stiffness=1e12)
    r = catenax.minimize(
        catenax.network_energy, net.positions, net, free=catenax.free_mask(net), max_steps=200
    )
    ref_net = catenax.chain2d(99, stiffness=1e10)
    ref = catenax.minimize(
        catenax.network_energy,
        ref_net.positions,
        ref_net,
        free=catenax.free_mask(ref_net),
        max_steps=60,
    )
    assert r.status in ("converged", "stalled", "max_steps")
    if r.status == "converged":
        np.testing.assert_allclose(r.positions, ref.positions, atol=1e-6)


def test_a_compressed_strut_start_reaches_the_hanging_minimum():
    """A mass upright on a spring above its support: Newton leaves the indefinite start."""
    net = catenax.from_arrays(
        [[0.0, 0.0], [0.05, 1.0]],
        [[0, 1]],
        rest_length=1.0,
        stiffness=100.0,
        mass=[0.0, 1.0],
        gravity=1.0,
        fixed=[0],
    )
    r = catenax.minimize(catenax.network_energy, net.positions, net, free=catenax.free_mask(net))
    assert r.status == "converged"
    np.testing.assert_allclose(r.positions[1], [0.0, -1.01], atol=1e-9)  # L = 1 + w/k


def test_amg_is_picked_for_large_nets_and_cg_without_a_hierarchy():
    newton = catenax.Newton()
    small, large = grid_net(10), grid_net(60)
    for net, want in ((small, None), (large, mg.Hierarchy)):
        free = np.asarray(catenax.free_mask(net))
        aux = newton.prepare(catenax.network_energy, net.positions, (net,), free)
        assert (aux is None) if want is None else isinstance(aux, want)


def test_direct_backend_names_its_extra_when_scipy_is_missing(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError("no scipy")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    net = grid_net(5)
    with pytest.raises(ImportError, match=r"catenax\[sparse\]"):
        catenax.Newton(linear_solver="direct").prepare(
            catenax.network_energy, net.positions, (net,), catenax.free_mask(net)
        )


def test_unknown_linear_solver_is_refused():
    with pytest.raises(ValueError, match="linear_solver"):
        catenax.Newton(linear_solver="lu")
    with pytest.raises(ValueError, match="amg"):
        catenax.minimize(
            catenax.chain_energy,
            jnp.zeros(5),
            5.0,
            0.8,
            0.1,
            method=catenax.Newton(linear_solver="amg"),
        )
