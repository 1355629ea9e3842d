"""Fast at both ends (issue 11, item 6): large results written without a Python step
per number, and the chain verdict by few solves, agreeing with the slow routes."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import catenax
from catenax.cli import report
from catenax.io import json_text, to_jsonable, write_result
from catenax.solve import stability_verdict
from catenax.solve.chain_route import TRIDIAGONAL_DENSE_MAX, chain_extremes
from catenax.solvers import rayleigh
from catenax.solvers import tridiagonal as tri

EDGE = [-0.0, 0.0, 1e-300, 5e-324, -1e300, 1.7976931348623157e308, 1e16, 1e-5, 0.1, 1 / 3,
        float("nan"), float("inf"), -float("inf"), -10000.799999996001]  # fmt: skip


def _old_to_jsonable(value):
    """The per-element conversion that the fast paths replace (the reference)."""
    if isinstance(value, dict):
        return {str(k): _old_to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_old_to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _old_to_jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    return value


def _same(a, b):
    """Equal JSON values, -0.0 and 0.0 told apart."""
    assert json.dumps(a) == json.dumps(b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_arrays_convert_like_the_per_element_path(dtype):
    small = [-0.0, 0.0, 0.1, 1 / 3, 1e-5, 2.5, float("nan"), float("inf"), -float("inf"), 7.0]
    a = np.array(EDGE if dtype is np.float64 else small, dtype=dtype)
    _same(to_jsonable(a), _old_to_jsonable(a))
    _same(to_jsonable(a.reshape(-1, 2)), _old_to_jsonable(a.reshape(-1, 2)))
    _same(to_jsonable(list(a.tolist())), _old_to_jsonable(list(a.tolist())))


def test_mixed_lists_keep_their_types():
    for value in ([1, 2.5, float("nan")], [True, 1.0], ["a", 1], [2**70, 1.0], [], [np.nan]):
        _same(to_jsonable(value), _old_to_jsonable(value))
    assert to_jsonable([True, 1.0]) == [True, 1.0] and to_jsonable([2**70])[0] == 2**70


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=40))
def test_json_text_reads_back_exactly(values):
    data = {"y": to_jsonable(np.array(values, dtype=np.float64)), "n": len(values)}
    back = json.loads(json_text(data))
    assert back == json.loads(json.dumps(data, allow_nan=False))
    for got, want in zip(back["y"], values, strict=True):
        if math.isfinite(want):
            assert got == want and math.copysign(1, got) == math.copysign(1, want)
        else:
            assert got is None


def test_json_text_falls_back_for_what_orjson_cannot_write():
    assert json.loads(json_text({"big": 2**70, "a": np.float32(0.5)})) == {"big": 2**70, "a": 0.5}
    assert "\n  " in json_text({"y": [1.0]}, indent=True)


def test_cli_json_and_json_file_carry_the_same_values(tmp_path):
    r = catenax.minimize(catenax.chain_energy, jnp.zeros(30), 5.0, 0.8, 0.1)
    data = report.result_json(r, {"n": 30})
    assert data["y"] == np.asarray(r.positions).tolist()  # exact floats, a plain list
    reference = _old_to_jsonable({**r.to_dict(), "params": {"n": 30}})
    reference["y"] = reference.pop("positions")
    assert json.loads(json_text(data)) == json.loads(json.dumps(reference))
    path = write_result(tmp_path / "r.json", data)
    assert json.loads(path.read_text()) == json.loads(json.dumps(reference))


def test_a_million_heights_convert_and_print_fast():
    import time

    y = np.cumsum(np.random.default_rng(0).standard_normal(1_000_000))
    start = time.process_time()
    text = json_text({"y": to_jsonable(y)})
    assert time.process_time() - start < 1.5  # the per-element path took ~3 s (issue 11)
    assert np.array_equal(np.asarray(json.loads(text)["y"]), y)


def _hessian(y):
    lo, di, up = catenax.chain_energy.hessian_tridiagonal(jnp.asarray(y), 5.0, 0.8, 0.1)
    return np.asarray(lo), np.asarray(di), np.asarray(up)


def _eigvalsh(lo, di, up):
    return np.linalg.eigvalsh(np.diag(di) + np.diag(up[:-1], 1) + np.diag(up[:-1], -1))


@pytest.mark.parametrize("n", [200, 700])
@pytest.mark.parametrize("scale", [1.0, 0.5, 0.0])
def test_chain_verdict_matches_dense_eigenvalues(n, scale):
    """Both routes (dense at N <= 256, Rayleigh + Sturm certificate beyond) against eigvalsh."""
    jax.config.update("jax_enable_x64", True)
    r = catenax.minimize(catenax.chain_energy, jnp.zeros(n), 5.0, 0.8, 0.1, stability=False)
    y = np.asarray(r.positions) * scale
    w = _eigvalsh(*_hessian(y))
    v = stability_verdict(catenax.chain_energy, y, 5.0, 0.8, 0.1)
    assert v["certified"] and v["verdict"] == "minimum" and v["route"] == "tridiagonal"
    assert abs(v["min_eigenvalue"] - w[0]) <= 1e-13 * w[-1]
    assert abs(v["max_eigenvalue"] - w[-1]) <= 1e-10 * w[-1]
    old = jax.jit(tri.extreme_eigenvalues)(*(jnp.asarray(a) for a in _hessian(y)))
    assert abs(float(old[0]) - v["min_eigenvalue"]) <= 1e-12 * w[-1]  # the bisection route


def test_rayleigh_route_certifies_or_defers_to_bisection():
    """A saddle (compressed springs): the fast route may not certify; the answer stays exact."""
    jax.config.update("jax_enable_x64", True)
    n = 700
    assert n > TRIDIAGONAL_DENSE_MAX  # the Rayleigh route
    y = 0.3 * np.sin(np.linspace(0, 9 * np.pi, n))
    params = (5.0, 1.5, 0.1)  # rest length 1.5 > spacing: springs in compression
    lo, di, up = (
        np.asarray(a) for a in catenax.chain_energy.hessian_tridiagonal(jnp.asarray(y), *params)
    )
    w = _eigvalsh(lo, di, up)
    v = chain_extremes(catenax.chain_energy, jnp.asarray(y), params, jnp.ones(n))
    assert v["certified"] and abs(v["lmin"] - w[0]) <= 1e-9 * np.max(np.abs(w))
    lmin, lmax, ok, bound = rayleigh.rayleigh_extremes(*(jnp.asarray(a) for a in (lo, di, up)))
    if bool(ok):  # certified: the bracket holds the true lowest eigenvalue
        assert float(bound) <= w[0] + 1e-12 * np.max(np.abs(w)) and float(lmin) >= w[0] - 1e-9


def test_fixed_coordinates_do_not_set_the_extremes():
    jax.config.update("jax_enable_x64", True)
    n = 700
    r = catenax.minimize(catenax.chain_energy, jnp.zeros(n), 5.0, 0.8, 0.1, stability=False)
    y = np.asarray(r.positions)
    free = np.ones(n)
    free[:100] = 0.0
    lo, di, up = _hessian(y)
    w = _eigvalsh(lo[100:] * (np.arange(n - 100) > 0), di[100:], up[100:])
    v = stability_verdict(catenax.chain_energy, y, 5.0, 0.8, 0.1, free=free)
    assert abs(v["min_eigenvalue"] - w[0]) <= 1e-12 * w[-1] and v["certified"]
