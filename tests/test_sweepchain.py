"""The chain's hand-batched sweep engine: same answers as newton's general engine."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catenax
from catenax.model import chain_terms
from catenax.solvers.newton import backtrack
from catenax.sweeps import chain_engine as sweepchain
from catenax.sweeps.api import sweep
from catenax.sweeps.chain_verdict import flat_start_extremes, lowest_eigenvalue, on_lanes


def _dense(lower, diag):
    return np.diag(diag) + np.diag(lower[1:], 1) + np.diag(lower[1:], -1)


def _random_tridiagonals(rng, n, lanes):
    lower = rng.normal(size=(n, lanes)) * rng.choice([0.0, 1e-3, 1.0, 30.0], size=(1, lanes))
    lower[0] = 0.0
    diag = rng.normal(size=(n, lanes)) * rng.choice([0.0, 1.0, 5.0], size=(1, lanes))
    diag[:, 0] = 2.0  # clustered: the 1-D Laplacian, 2 - 2 cos(j pi / (n + 1))
    lower[1:, 0] = -1.0
    return lower, diag


@pytest.mark.parametrize("n", [1, 2, 7, 20, 64])
def test_laguerre_gives_both_extreme_eigenvalues(n):
    lower, diag = _random_tridiagonals(np.random.default_rng(n), n, 40)
    lo, di = jnp.asarray(lower), jnp.asarray(diag)
    lmin = np.asarray(lowest_eigenvalue(lo, di))
    lmax = -np.asarray(lowest_eigenvalue(-lo, -di))
    for j in range(lower.shape[1]):
        ev = np.linalg.eigvalsh(_dense(lower[:, j], diag[:, j]))
        scale = max(1.0, np.abs(ev).max())
        assert abs(lmin[j] - ev[0]) <= 1e-12 * scale, (j, lmin[j], ev[0])
        assert abs(lmax[j] - ev[-1]) <= 1e-12 * scale, (j, lmax[j], ev[-1])
        assert lmin[j] <= ev[0] + 1e-13 * scale  # monotone from below


@pytest.mark.parametrize("length", [0.6, 1.0, 1.4])
def test_flat_start_eigenvalues_in_closed_form(length):
    lmin, lmax = flat_start_extremes(20, 3.0, length)
    lo, di, up = catenax.chain_hessian_tridiagonal(jnp.zeros(20), 3.0, length, 0.1)
    ev = np.linalg.eigvalsh(_dense(np.asarray(lo), np.asarray(di)))
    np.testing.assert_allclose([lmin, lmax], [ev[0], ev[-1]], rtol=1e-12, atol=1e-14)


def test_batched_backtracking_equals_lane_by_lane():
    # Newton-like steps that overshoot on a chain: lanes need 0, 1 or several halvings.
    rng = np.random.default_rng(1)
    params = [(5.0, 0.8, 0.1), (1.0, 0.5, 0.2), (9.0, 0.95, 0.05)]
    xs = jnp.asarray(rng.normal(size=(3, 20)) * 0.5)
    ps = jnp.asarray(rng.normal(size=(3, 20)) * [[0.1], [3.0], [30.0]])
    single = []
    for x, p, par in zip(xs, ps, params, strict=True):
        e, g = jax.value_and_grad(catenax.chain_energy)(x, *par)
        p = -jnp.sign(jnp.vdot(g, p)) * p  # downhill
        single.append((backtrack(jax.value_and_grad(lambda y, par=par: catenax.chain_energy(
            y, *par)), x, e, g, p, 1e-4, 40), p, e, g))  # fmt: skip
    k, length, mg = (jnp.asarray(v) for v in zip(*params, strict=True))

    def vg(y):  # the engine's (N, L) layout broadcasts per-lane values on purpose
        with jax.numpy_rank_promotion("allow"):
            e, g, _, _ = chain_terms(y, k, length, mg, axis=0)
        return e, g

    x = xs.T
    p = jnp.stack([s[1] for s in single], axis=1)
    e, g = vg(x)
    x1, e1, g1, ok = backtrack(vg, x, e, g, p, 1e-4, 40, lanes=1)
    for j, ((sx, se, _, sok), *_rest) in enumerate(single):
        assert bool(ok[j]) == bool(sok)
        np.testing.assert_allclose(x1[:, j], sx, rtol=0, atol=1e-13)
        np.testing.assert_allclose(e1[j], se, rtol=1e-13)
    assert (
        len(
            {
                float(jnp.max(jnp.abs(x1[:, j] - x[:, j]) / jnp.max(jnp.abs(p[:, j]))))
                for j in range(3)
            }
        )
        > 1
    )  # fmt: skip  (the lanes took different step lengths)


def test_chain_engine_equals_the_general_engine(monkeypatch):
    # Convex, singular (l = 1), non-convex with and without gravity (a stationary
    # saddle at the start), soft and stiff: statuses and steps exactly, numbers to round-off.
    kw = dict(spring="0.5,5,40", length="0.6,1.0,1.05,1.3", mass_g="0,0.02,0.2", keep_shapes=True)
    calls = []
    real = sweepchain.ChainEngine.solve

    def spy(self, *a, **k):
        calls.append(1)
        return real(self, *a, **k)

    monkeypatch.setattr(sweepchain.ChainEngine, "solve", spy)
    fast = sweep(**kw)
    assert calls
    monkeypatch.setattr(sweepchain, "eligible", lambda problem, settings: False)
    slow = sweep(**kw)
    assert len(calls) == 1
    a, b = fast.table, slow.table
    assert a["status"].tolist() == b["status"].tolist()
    assert a["steps"].tolist() == b["steps"].tolist()
    assert set(a["status"]) >= {"converged", "saddle"}
    np.testing.assert_allclose(fast.positions, slow.positions, rtol=0, atol=1e-10)
    for key in ("energy", "lowest", "max_tension", "min_eigenvalue", "max_eigenvalue",
                "start_min_eigenvalue"):  # fmt: skip
        np.testing.assert_allclose(a[key], b[key], rtol=1e-10, atol=1e-10, err_msg=key)
    assert a["stable"].tolist() == b["stable"].tolist()


def test_chunks_and_lanes_do_not_change_a_case():
    kw = dict(spring="1:10:7", length="0.7:1.3:9", keep_shapes=True)
    whole = sweep(**kw)
    small = sweep(**kw, chunk_size=5)  # 13 calls of 5 lanes, refilled
    assert whole.table["steps"].tolist() == small.table["steps"].tolist()
    assert whole.table["status"].tolist() == small.table["status"].tolist()
    np.testing.assert_allclose(whole.positions, small.positions, rtol=0, atol=1e-12)


def test_float32_chain_engine_converges():
    r = sweep(length="0.8,1.2", mass_g="0.1", dtype="float32", keep_shapes=True)
    assert r.table["status"].tolist() == ["converged", "converged"]
    m = catenax.minimize(
        catenax.chain_energy, jnp.zeros(20, jnp.float32), 5.0, 0.8, 0.1
    )  # fmt: skip
    np.testing.assert_allclose(r.positions[0], m.positions, atol=1e-5)


def test_streamed_numbers_read_back_exactly():
    from catenax.io.tables import format_rows

    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(size=500) * 10.0 ** rng.integers(-300, 300, 500),
                        [0.0, -0.0, 5e-324, 1e16, 0.1, np.nan, np.inf, -np.inf]])  # fmt: skip
    ints = rng.integers(-(2**40), 2**40, len(x))
    text = format_rows({"i": ints, "x": x}, {"i": "int", "x": "float"}, "csv").decode()
    rows = [line.split(",") for line in text.splitlines()]
    assert [int(r[0]) for r in rows] == ints.tolist()
    back = np.array([float(r[1]) if r[1] else np.nan for r in rows])
    finite = np.isfinite(x)
    assert np.array_equal(back[finite], x[finite])
    assert np.all(np.isnan(back[~finite]))
    assert np.signbit(back[np.flatnonzero(x == 0)[1]])  # -0.0 keeps its sign


@pytest.mark.parametrize("n", [1, 3, 20, 33, 64, 65])
def test_thomas_solves_lanes_of_definite_systems(n):
    from catenax.solvers import tridiagonal as tri

    rng = np.random.default_rng(n)
    lanes = 5
    c = rng.uniform(0.1, 3.0, size=(n + 1, lanes))  # spring-like: c tridiag(-1, 2, -1) blocks
    lower = np.concatenate([np.zeros((1, lanes)), -c[1:-1]])
    diag = c[:-1] + c[1:]
    upper = np.concatenate([lower[1:], np.zeros((1, lanes))])
    b = rng.normal(size=(n, lanes))
    x = np.asarray(jax.jit(tri.thomas)(*map(jnp.asarray, (lower, diag, upper, b))))
    for j in range(lanes):
        want = np.linalg.solve(_dense(lower[:, j], diag[:, j]), b[:, j])
        np.testing.assert_allclose(x[:, j], want, rtol=1e-11, atol=1e-12)
        if n <= tri.SEQUENTIAL_MAX:  # tri.solve takes thomas here (LAPACK beyond)
            one = jax.jit(tri.solve)(*(jnp.asarray(a[:, j]) for a in (lower, diag, upper, b)))
            np.testing.assert_array_equal(one, x[:, j])


def test_on_lanes_touches_only_the_masked_lanes():
    mask = jnp.asarray(np.arange(300) % 7 == 3)  # 43 lanes: several groups of 8
    args = {"v": jnp.arange(2 * 300.0).reshape(2, 300)}
    out = jnp.full((2, 300), -1.0)
    res = on_lanes(mask, lambda a: 10 * a["v"], args, out, group=8)
    want = np.where(np.asarray(mask), 10 * np.asarray(args["v"]), -1.0)
    np.testing.assert_array_equal(res, want)
