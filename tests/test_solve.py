"""The driver: the notebook's runs step for step, stopping rule, statuses, schedules."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from _data import lesson_reference

import catenax
from catenax import chain_energy, minimize

REFERENCE = lesson_reference()
RUNS = REFERENCE["lesson_runs_60_steps"]
LESSON = (5.0, 0.8, 0.1)
TOL = {"float32": 1e-5, "float64": 1e-10}


def notebook_loop(method, dtype, steps=60):
    """The notebook's own Python loop (un-jitted), as an independent check."""
    grad_e = jax.grad(chain_energy)
    y = jnp.zeros(20, dtype)
    if method == "gd":
        for _ in range(steps):
            y = y - 0.2 * grad_e(y, *LESSON)
        return np.asarray(y)
    opt = optax.adam(0.1)
    state = opt.init(y)
    for _ in range(steps):
        updates, state = opt.update(grad_e(y, *LESSON), state)
        y = optax.apply_updates(y, updates)
    return np.asarray(y)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "method,lr,key", [("gd", 0.2, "gradient_descent_eta_0.2"), ("adam", 0.1, "adam_lr_0.1")]
)
def test_lesson_runs_match_reference(dtype, method, lr, key):
    r = minimize(
        chain_energy, jnp.zeros(20, dtype), *LESSON,
        method=method, learning_rate=lr, max_steps=60, tol=None, record_every=1,
    )  # fmt: skip
    ref = RUNS[key][dtype]
    assert r.status == "max_steps" and r.steps == 60
    assert r.positions.dtype == np.dtype(dtype)
    np.testing.assert_allclose(r.positions, ref["y"], atol=TOL[dtype], rtol=0)
    assert r.energy == pytest.approx(ref["energy"], abs=TOL[dtype])
    np.testing.assert_allclose(r.positions, notebook_loop(method, dtype), atol=TOL[dtype], rtol=0)
    # every intermediate shape is kept: the start plus 60 steps
    assert r.iterates.shape == (61, 20)
    np.testing.assert_array_equal(r.iterate_steps, np.arange(61))
    np.testing.assert_array_equal(r.iterates[0], 0.0)
    np.testing.assert_array_equal(r.iterates[-1], r.positions)
    assert r.energy_history.shape == (61,) and r.grad_history.shape == (61,)
    assert r.energy_history[-1] == pytest.approx(r.energy)


def test_history_is_energy_and_gradient_of_each_iterate():
    r = minimize(chain_energy, jnp.zeros(20), *LESSON, method="gd", max_steps=7, tol=None,
                 record_every=1)  # fmt: skip
    for k in range(8):
        y = jnp.asarray(r.iterates[k])
        assert r.energy_history[k] == pytest.approx(float(chain_energy(y, *LESSON)), rel=1e-14)
        g = jax.grad(chain_energy)(y, *LESSON)
        assert r.grad_history[k] == pytest.approx(float(jnp.max(jnp.abs(g))), rel=1e-14)


def test_record_every_keeps_start_every_kth_and_final():
    r = minimize(chain_energy, jnp.zeros(20), *LESSON, method="gd", max_steps=25, tol=None,
                 record_every=10)  # fmt: skip
    np.testing.assert_array_equal(r.iterate_steps, [0, 10, 20, 25])
    np.testing.assert_array_equal(r.iterates[-1], r.positions)


def test_converged_meets_the_stopping_rule():
    r = minimize(chain_energy, jnp.zeros(20), *LESSON, method="gd", max_steps=50_000, tol=1e-9)
    assert r.status == "converged" and r.converged
    fs = float(catenax.chain_force_scale(jnp.asarray(r.positions), *LESSON))
    assert r.force_scale == pytest.approx(fs)
    assert r.threshold == pytest.approx(1e-9 * fs)
    assert r.grad_max <= r.threshold
    # it stopped at the first step that met the rule
    assert r.grad_history[-2] > 1e-9 * 0.9 * fs
    assert "converged" in r.message


def test_converged_at_start_takes_zero_steps():
    y = jnp.asarray(REFERENCE["equilibrium"]["y"])
    r = minimize(chain_energy, y, *LESSON, method="gd", tol=1e-8)
    assert r.status == "converged" and r.steps == 0


def test_budget_exhausted_says_max_steps_and_suggests_newton():
    r = minimize(chain_energy, jnp.zeros(20), *LESSON, method="adam", max_steps=300, tol=1e-10)
    assert r.status == "max_steps" and not r.converged
    assert "newton" in r.message
    assert r.grad_max > r.threshold


def test_diverging_gd_names_step_and_a_stable_step_size():
    r = minimize(chain_energy, jnp.zeros(20), *LESSON, method="gd", learning_rate=1.0,
                 max_steps=1000)  # fmt: skip
    assert r.status == "diverged"
    assert np.all(np.isfinite(r.positions)) and np.isfinite(r.energy)
    assert f"step {r.steps}" in r.message
    assert "2/lambda_max" in r.message
    # the history stops at the last finite step
    assert len(r.energy_history) == r.steps
    assert np.all(np.isfinite(r.energy_history))


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adabelief", "lion", "adamw", "nadam"])
def test_optax_methods_by_name_decrease_energy(name):
    r = minimize(chain_energy, jnp.zeros(20), *LESSON, method=name, learning_rate=0.01,
                 max_steps=200, tol=None)  # fmt: skip
    assert r.method == name and r.status == "max_steps"
    assert r.energy < float(chain_energy(jnp.zeros(20), *LESSON)) - 0.3


def test_optax_object_equals_named_method():
    a = minimize(chain_energy, jnp.zeros(20), *LESSON, method="adam", learning_rate=0.05,
                 max_steps=40, tol=None)  # fmt: skip
    b = minimize(chain_energy, jnp.zeros(20), *LESSON, method=optax.adam(0.05), max_steps=40,
                 tol=None)  # fmt: skip
    np.testing.assert_array_equal(a.positions, b.positions)


@pytest.mark.parametrize(
    "schedule,expected",
    [
        ("constant", lambda k: 0.2),
        ("exponential_decay:transition_steps=5,decay_rate=0.5", lambda k: 0.2 * 0.5 ** (k / 5)),
        ("cosine_decay", lambda k: 0.2 * 0.5 * (1 + np.cos(np.pi * k / 30))),
        ("warmup_cosine_decay:warmup_steps=10", None),
    ],
)
def test_gd_schedule_equals_hand_written_loop(schedule, expected):
    r = minimize(chain_energy, jnp.zeros(20), *LESSON, method="gd", learning_rate=0.2,
                 schedule=schedule, max_steps=30, tol=None)  # fmt: skip
    if expected is None:
        sched = optax.warmup_cosine_decay_schedule(0.0, 0.2, 10, 30, 0.0)
        expected = lambda k: float(sched(k))  # noqa: E731
    y = jnp.zeros(20)
    for k in range(30):
        y = y - expected(k) * jax.grad(chain_energy)(y, *LESSON)
    np.testing.assert_allclose(r.positions, y, rtol=1e-12, atol=1e-12)


def test_free_mask_holds_coordinates():
    free = jnp.ones(20).at[3].set(0.0)
    r = minimize(chain_energy, jnp.zeros(20), *LESSON, method="adam", max_steps=50, tol=None,
                 free=free)  # fmt: skip
    assert r.positions[3] == 0.0 and r.positions[4] != 0.0


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"method": "bogus"}, "method"),
        ({"method": "gd", "learning_rate": -0.1}, "learning_rate"),
        ({"method": "gd", "learning_rate": float("nan")}, "learning_rate"),
        ({"method": "gd", "schedule": "wiggle"}, "schedule"),
        ({"method": "gd", "schedule": "cosine_decay:beta=2"}, "schedule"),
        ({"method": "gd", "max_steps": 0}, "max_steps"),
        ({"method": "gd", "max_steps": 2.5}, "max_steps"),
        ({"method": "gd", "max_steps": 2**31}, "max_steps"),
        ({"method": "gd", "tol": -1.0}, "tol"),
        ({"method": "gd", "record_every": 0}, "record_every"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        minimize(chain_energy, jnp.zeros(5), *LESSON, **kwargs)


def test_unknown_method_lists_valid_ones():
    with pytest.raises(ValueError, match="adam") as info:
        minimize(chain_energy, jnp.zeros(5), *LESSON, method="adamm")
    assert "gd" in str(info.value)


def test_to_dict_is_json_ready():
    r = minimize(chain_energy, jnp.zeros(4), *LESSON, method="gd", max_steps=3, tol=None)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["steps"] == 3 and d["status"] == "max_steps" and d["converged"] is False
    assert d["positions"] == pytest.approx(r.positions.tolist())


def test_history_off_keeps_the_answer_and_drops_the_buffers():
    kw = dict(method="gd", max_steps=5000, tol=1e-9)
    a = minimize(chain_energy, jnp.zeros(20), *LESSON, **kw)
    b = minimize(chain_energy, jnp.zeros(20), *LESSON, history=False, **kw)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert (a.steps, a.status) == (b.steps, b.status)
    assert len(a.energy_history) == a.steps + 1
    assert b.energy_history.shape == (0,) and b.grad_history.shape == (0,)


def test_stalled_without_a_stopping_test_still_explains():
    from catenax.solve import status_message as _message

    msg = _message("stalled", "newton", 7, 1e-13, None, 100)
    assert "step 7" in msg and "no stopping test" in msg


def test_stalled_newton_is_not_told_to_try_newton():
    from catenax.solve import status_message as _message

    assert "'newton'" not in _message("stalled", "newton", 9, 1e-9, 1e-10, 100)
    assert "'newton'" in _message("stalled", "lbfgs", 9, 1e-9, 1e-10, 100)
