"""The Python API refuses every bad argument up front, naming it (issue 11, item 1).

Each case here was a silent wrong answer, an error from deep inside JAX, or an
allocation without bound before the checks of :mod:`catenax.solve.checks`.
"""

import math
import re
import time

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catenax
from catenax.errors import FieldError, ResourceLimit
from catenax.limits import set_memory_limit
from catenax.solve import attach_verdict

E = catenax.chain_energy
CHAIN = (5.0, 0.8, 0.1)


def solve(x0=None, *params, **kw):
    kw = {"method": "gd", "max_steps": 3, **kw}
    return catenax.minimize(E, jnp.zeros(4) if x0 is None else x0, *(params or CHAIN), **kw)


def refused(field, exc=(ValueError, TypeError), **kw):
    with pytest.raises(exc) as info:
        solve(**kw)
    assert str(info.value).startswith(f"{field}:"), str(info.value)
    return str(info.value)


# ------------------------------------------------------------------ free


@pytest.mark.parametrize("free", [np.zeros(1), 2.0, np.ones((4, 1)), np.ones(5), [1, 1]])
def test_free_must_have_the_shape_of_x0_exactly(free):
    # np.zeros(1) used to broadcast: every coordinate fixed, "converged" at the start
    msg = refused("free", free=free)
    assert "(4,)" in msg


@pytest.mark.parametrize("free", [np.full(4, 2.0), np.array([1, 0, -1, 1]), np.full(4, 0.5)])
def test_free_values_are_0_or_1(free):
    assert "0 or 1" in refused("free", free=free)


def test_free_of_strings_is_a_type_error():
    refused("free", exc=TypeError, free=np.array(["1", "0", "1", "1"]))


def test_a_good_free_mask_of_bools_or_ints_holds_coordinates():
    for free in (np.array([True, False, True, True]), [1, 0, 1, 1]):
        r = solve(free=free, max_steps=5, tol=None)
        assert r.positions[1] == 0.0 and r.positions[0] != 0.0


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize("field", ["tol", "atol"])
@pytest.mark.parametrize("value", [True, False, "1e-8", math.nan, math.inf, -1.0, [1e-8]])
def test_tolerances_are_finite_numbers_not_bools(field, value):
    # tol=True was taken as 1.0: "converged" at the start
    refused(field, **{field: value})


@pytest.mark.parametrize(
    "field, value",
    [
        ("max_steps", True), ("max_steps", 2**31), ("max_steps", 4294967297), ("max_steps", 1.0),
        ("max_steps", "10"), ("record_every", True), ("record_every", 0),
        ("multistart", True), ("multistart", 0), ("multistart", 2.0),
        ("seed", -1), ("seed", 2**32), ("seed", 2**70), ("seed", 1.5), ("seed", "a"),
        ("seed", True), ("perturbation", 0.0), ("perturbation", math.nan),
        ("perturbation", "0.5"), ("perturbation", True), ("learning_rate", "0.1"),
        ("learning_rate", True), ("learning_rate", math.nan), ("learning_rate", 0.0),
    ],
)  # fmt: skip
def test_settings_are_checked(field, value):
    refused(field, **{field: value})


@pytest.mark.parametrize("field", ["stability", "history"])
@pytest.mark.parametrize("value", ["no", "yes", 0, 1, None])
def test_flags_are_bools_not_strings(field, value):
    refused(field, exc=TypeError, **{field: value})


def test_a_seed_is_checked_without_multistart_too():
    refused("seed", seed=-3)


# ------------------------------------------------------------------ x0 and parameters


@pytest.mark.parametrize(
    "x0, exc",
    [
        (jnp.zeros(0), ValueError), (np.zeros((0, 3)), ValueError), ("abc", TypeError),
        (np.array(["a", "b"]), TypeError), (np.array([True, False]), TypeError),
        ([[0.0], [0.0, 1.0]], TypeError), (np.array([0.0, np.nan, 0.0]), ValueError),
        (np.array([0.0, np.inf]), ValueError), (None, TypeError),
    ],
)  # fmt: skip
def test_x0_is_a_non_empty_finite_numeric_array(x0, exc):
    with pytest.raises(exc) as info:
        catenax.minimize(E, x0, *CHAIN, method="gd", max_steps=3)
    assert str(info.value).startswith("x0:"), str(info.value)


def test_integer_x0_becomes_float():
    r = catenax.minimize(E, [0, 0, 0, 0], *CHAIN, method="gd", max_steps=5, tol=None)
    assert r.positions.dtype.kind == "f"


@pytest.mark.parametrize(
    "params, field",
    [
        (("abc", 0.8, 0.1), "spring"), ((5.0, None, 0.1), "length"),
        ((5.0, 0.8, True), "mass_g"), ((5.0, -0.8, 0.1), "length"),
        ((5.0, 0.8, math.nan), "mass_g"), ((-1.0, 0.8, 0.1), "spring"),
    ],
)  # fmt: skip
def test_chain_parameters_are_named(params, field):
    with pytest.raises((ValueError, TypeError)) as info:
        catenax.minimize(E, jnp.zeros(4), *params, method="gd", max_steps=3)
    assert str(info.value).startswith(f"{field}:"), str(info.value)


def test_parameters_of_any_energy_are_named_by_its_signature_or_position():
    def energy(x, stiffness):
        return 0.5 * stiffness * jnp.sum(x**2)

    with pytest.raises(TypeError, match=r"^stiffness: 'abc' is not a number"):
        catenax.minimize(energy, jnp.ones(3), "abc")
    with pytest.raises(TypeError, match=r"^stiffness: None is not a number"):
        catenax.minimize(energy, jnp.ones(3), None)

    def loose(x, *args):
        return jnp.sum(x**2) * args[0]

    with pytest.raises(TypeError, match=r"^params\[0\]: True is not a number"):
        catenax.minimize(loose, jnp.ones(3), True)


def test_energy_must_be_callable():
    with pytest.raises(TypeError, match="^energy:"):
        catenax.minimize("chain", jnp.zeros(3), *CHAIN)


# ------------------------------------------------------------------ overflow


@pytest.mark.parametrize(
    "params, dtype, field",
    [
        ((1e308, 0.8, 0.1), "float64", "spring"), ((1e160, 0.8, 0.1), "float64", "spring"),
        ((5.0, 1e200, 0.1), "float64", "length"), ((5.0, 0.8, 1e300), "float64", "mass_g"),
        ((1e19, 0.8, 0.1), "float32", "spring"), ((5.0, 0.8, 1e18), "float32", "mass_g"),
    ],
)  # fmt: skip
def test_chain_parameters_that_overflow_are_refused_with_the_limit(params, dtype, field):
    # spring=1e308 used to overflow the verdict and call the convex chain a saddle
    with pytest.raises(FieldError) as info:
        catenax.minimize(E, jnp.zeros(20, dtype), *params)
    msg = str(info.value)
    assert msg.startswith(f"{field}:") and dtype in msg and "limit" in msg and "below" in msg
    fit = float(msg.rsplit("below ", 1)[1])
    other = dict(zip(("spring", "length", "mass_g"), params, strict=True))
    other[field] = fit  # the suggested value passes
    catenax.validate_chain_params(20, *other.values(), dtype)


def test_validate_chain_params_and_the_verdict_share_the_overflow_rule():
    with pytest.raises(FieldError, match="^spring: .*float64"):
        catenax.validate_chain_params(20, 1e308, 0.8, 0.1)
    with pytest.raises(FieldError, match="^spring: .*float32"):
        catenax.validate_chain_params(20, 1e19, 0.8, 0.1, "float32")
    with pytest.raises(FieldError, match="^spring:"):
        catenax.stability_verdict(E, jnp.zeros(20), 1e308, 0.8, 0.1)
    assert catenax.validate_chain_params(20, 1e150, 0.8, 0.1) == (20, 1e150, 0.8, 0.1)


def test_an_overflowed_hessian_is_not_called_a_saddle():
    def chain(y, spring, length, mass_g):  # the chain, without its parameter checks
        return E(y, spring, length, mass_g)

    chain.hessian_tridiagonal = catenax.chain_hessian_tridiagonal
    v = catenax.stability_verdict(chain, jnp.zeros(20), 1e308, 0.8, 0.1)
    assert v["verdict"] == "unknown" and v["stable"] is False and v["certified"] is False
    r = catenax.Result(np.zeros(20), 0.0, 0.0, 1, "converged", "converged.", "newton")
    r = attach_verdict(r, chain, (1e308, 0.8, 0.1), None)
    assert (
        r.status == "converged" and r.verdict == "unknown" and "No stability verdict" in r.message
    )


# ------------------------------------------------------------------ networks


def test_a_network_without_free_keeps_its_supports():
    net = catenax.net(3, 3)
    # used to let the whole net fall for 10,000 steps (or refuse it as not held)
    r = catenax.minimize(catenax.network_energy, net.positions, net)
    assert r.status == "converged", r.message
    fixed = np.asarray(net.fixed)
    np.testing.assert_array_equal(np.asarray(r.positions)[fixed], np.asarray(net.positions)[fixed])
    v = catenax.stability_verdict(catenax.network_energy, r.positions, net)
    assert v["verdict"] == "minimum"


# ------------------------------------------------------------------ schedules


@pytest.mark.parametrize(
    "schedule",
    [
        "linear:end_value=-1", "exponential_decay:decay_rate=nan",
        "exponential_decay:decay_rate=0", "exponential_decay:decay_rate=-0.5",
        "cosine_decay:alpha=inf", "cosine_decay:alpha=2", "cosine_decay:exponent=0",
        "linear:transition_steps=10", "cosine_decay:decay_steps=5",
        "warmup_cosine_decay:decay_steps=20", "linear:transition_steps=2.5",
        "exponential_decay:transition_steps=0", "warmup_cosine_decay:init_value=-1",
        "exponential_decay:end_value=inf", ("linear", {"end_value": "0.1"}),
        ("linear", {"end_value": True}), ("linear",),
    ],
)  # fmt: skip
def test_schedules_that_make_the_rate_nan_negative_or_stop_are_refused(schedule):
    with pytest.raises((ValueError, TypeError)) as info:
        solve(schedule=schedule, max_steps=100)
    assert str(info.value).startswith("schedule:"), str(info.value)


def test_good_schedules_still_run():
    for schedule in ("linear:end_value=0.01,transition_steps=10", "linear"):
        assert solve(schedule=schedule, max_steps=20, tol=None).steps == 20


def test_newton_takes_no_schedule():
    assert "newton" in refused("schedule", method="newton", schedule="cosine_decay")


# ------------------------------------------------------------------ memory


def test_a_billion_starts_are_refused_before_allocating():
    t = time.perf_counter()
    with pytest.raises(ResourceLimit) as info:
        solve(multistart=10**9)
    assert str(info.value).startswith("multistart:") and "GiB" in str(info.value)
    assert time.perf_counter() - t < 5


def test_the_multistart_estimate_follows_the_limit():
    old = set_memory_limit("16M")
    try:
        with pytest.raises(ResourceLimit, match="^multistart: 5000 starts"):
            catenax.minimize(E, jnp.zeros(20), *CHAIN, multistart=5000)
    finally:
        set_memory_limit(old)


def test_recorded_iterates_are_estimated_before_allocating():
    with pytest.raises(ResourceLimit, match="^record_every:"):
        solve(max_steps=2**31 - 2, record_every=1)


def test_a_long_step_budget_alone_costs_no_memory():
    old = set_memory_limit("64M")
    try:  # a 2e9-step budget used to reserve 16 GB of history
        r = solve(max_steps=2**31 - 2)  # gd: a few hundred steps, histories and all
    finally:
        set_memory_limit(old)
    assert r.status == "converged" and len(r.energy_history) == r.steps + 1


# ------------------------------------------------------------------ generated bad values

_JUNK = st.sampled_from(["x", "", "1.0", "nan", b"1", [], {}, ("a", 1), object()])
_NONE = st.none()  # refused where None is not the default
_BAD = {
    "tol": st.one_of(st.booleans(), _JUNK, st.floats(max_value=-1e-300),
                     st.sampled_from([math.nan, math.inf, -math.inf])),
    "atol": st.one_of(_NONE, st.booleans(), _JUNK, st.floats(max_value=-1e-300),
                      st.sampled_from([math.nan, math.inf])),
    "max_steps": st.one_of(_NONE, st.booleans(), _JUNK, st.integers(max_value=0),
                           st.integers(min_value=2**31 - 1), st.floats()),
    "record_every": st.one_of(st.booleans(), _JUNK, st.integers(max_value=0), st.floats()),
    "multistart": st.one_of(st.booleans(), _JUNK, st.integers(max_value=0), st.floats()),
    "seed": st.one_of(_NONE, st.booleans(), _JUNK, st.integers(max_value=-1),
                      st.integers(min_value=2**32), st.floats()),
    "perturbation": st.one_of(st.booleans(), _JUNK, st.floats(max_value=0.0),
                              st.sampled_from([math.nan, math.inf])),
    "learning_rate": st.one_of(st.booleans(), _JUNK, st.floats(max_value=0.0),
                               st.sampled_from([math.nan, math.inf])),
    "stability": st.one_of(_NONE, _JUNK, st.integers(), st.text(max_size=3)),
    "history": st.one_of(_NONE, _JUNK, st.integers(), st.text(max_size=3)),
    "free": st.one_of(
        _JUNK, st.floats(), st.integers(min_value=2),
        st.lists(st.sampled_from([0.0, 1.0]), max_size=8).filter(lambda v: len(v) != 4),
        st.lists(st.floats(allow_nan=True), min_size=4, max_size=4).filter(
            lambda v: any(f not in (0.0, 1.0) for f in v)),
    ),
    "x0": st.one_of(_NONE,
        _JUNK, st.text(min_size=1, max_size=3),
        st.lists(st.sampled_from([math.nan, math.inf, -math.inf]), min_size=1, max_size=4),
        st.just(np.zeros(0)), st.just(np.array([True, False])),
    ),
    "spring": st.one_of(_NONE, st.booleans(), _JUNK, st.floats(max_value=-1e-300),
                        st.floats(min_value=1e155), st.sampled_from([math.nan, math.inf])),
}  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_bad_arguments_are_refused_by_name(data):
    field = data.draw(st.sampled_from(sorted(_BAD)))
    value = data.draw(_BAD[field])
    x0, params = jnp.zeros(4), list(CHAIN)
    kw = {"method": "gd", "max_steps": 3}
    if field == "x0":
        x0 = value
    elif field == "spring":
        params[0] = value
    else:
        kw[field] = value
    if field in ("seed", "perturbation"):
        kw["multistart"] = 2
    with pytest.raises((ValueError, TypeError)) as info:
        catenax.minimize(E, x0, *params, **kw)
    # the argument's name, or an element of it (spring[0]: ...)
    assert re.match(rf"{field}[:\[.]", str(info.value)), (field, value, str(info.value))


# ------------------------------------------------------------------ compare


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"dtype": "float99"}, "dtype"), ({"dtype": "int32"}, "dtype"),
        ({"methods": ("gd", "nosuch")}, "method"), ({"methods": ()}, "method"),
        ({"learning_rates": 0.1}, "learning_rates"), ({"n": True}, "n"),
        ({"spring": "5"}, "spring"), ({"max_steps": 2**31}, "max_steps"),
        ({"tol": True}, "tol"), ({"n": 10**13}, "n"), ({"spring": 1e200}, "spring"),
    ],
)  # fmt: skip
def test_compare_checks_everything_before_the_first_run(kw, field):
    t = time.perf_counter()
    with pytest.raises((ValueError, TypeError)) as info:
        catenax.compare(**{"methods": ("gd",), **kw})
    assert str(info.value).startswith(f"{field}:"), str(info.value)
    assert time.perf_counter() - t < 5  # nothing ran (a bad second method used to wait)
