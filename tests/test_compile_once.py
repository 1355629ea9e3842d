"""Compiled once: a new step budget, or new values of the same shapes, compile nothing new.

Compilations are counted with JAX's monitoring events (one
``/jax/core/compile/backend_compile_duration`` event per program handed to XLA),
never timed. Also here: the driver's hooks that ride on the compiled loop — a
method's host-side ``prepare`` (its ``aux`` is an argument of the program, not a
constant), the energy's ``check_held`` and ``runaway`` — and the histories of a
run longer than one segment.
"""

import contextlib
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catenax
from catenax.errors import FieldError
from catenax.solve import make_run
from catenax.solve.loop import SEGMENT
from catenax.solvers import resolve_method

LESSON = (5.0, 0.8, 0.1)
COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def compiled():
    """The names of the programs compiled inside the block."""
    names = []

    def listen(event, duration, **kw):
        if event == COMPILE_EVENT:
            names.append(kw.get("fun_name", "?"))

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield names
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)


def _chain(**kw):
    return catenax.minimize(catenax.chain_energy, jnp.zeros(20), *LESSON, **kw)


def test_the_counter_sees_a_compilation():
    # Guard for the tests below: a fresh program is counted.
    x = np.arange(7.0)
    with compiled() as names:
        jax.jit(lambda x: jnp.sin(x) * 3.25)(x)
    assert names == ["jit(<lambda>)"]


def test_a_new_step_budget_compiles_nothing_for_the_chain_with_gd():
    first = _chain(method="gd", max_steps=50, tol=None)
    with compiled() as names:
        second = _chain(method="gd", max_steps=500, tol=None)
    assert names == []
    assert (first.steps, second.steps) == (50, 500)
    assert len(second.energy_history) == 501
    # the same budget as before gives the same result, bit for bit
    with compiled() as names:
        again = _chain(method="gd", max_steps=50, tol=None)
    assert names == []
    np.testing.assert_array_equal(again.positions, first.positions)
    np.testing.assert_array_equal(again.energy_history, first.energy_history)


def test_runs_longer_than_a_segment_compile_one_more_program_once():
    _chain(method="gd", max_steps=50, tol=None, stability=False)
    with compiled() as names:
        _chain(method="gd", max_steps=3 * SEGMENT, tol=None, stability=False)
    assert len(names) <= 1  # the program that resumes a run (none if already compiled)
    with compiled() as names:
        for budget in (2 * SEGMENT + 7, 20 * SEGMENT):
            _chain(method="gd", max_steps=budget, tol=None, stability=False)
    assert names == []


def test_histories_across_segments_equal_one_static_run():
    # The driver runs long budgets in segments; the host joins their histories.
    steps = 2 * SEGMENT + 300
    r = _chain(method="gd", max_steps=steps, tol=None, stability=False)
    run = jax.jit(make_run(catenax.chain_energy, resolve_method("gd"), steps, None, False))
    out = run(jnp.zeros(20), LESSON, jnp.ones(20), 0.0, 0.0)
    assert r.steps == steps and len(r.energy_history) == steps + 1
    np.testing.assert_array_equal(r.energy_history, np.asarray(out["he"]))
    np.testing.assert_array_equal(r.grad_history, np.asarray(out["hg"]))
    np.testing.assert_array_equal(r.positions, np.asarray(out["x"]))


def test_multistart_histories_across_segments():
    # Starts stop at different steps, some after the first segment.
    r = _chain(method="gd", learning_rate=0.05, max_steps=20_000, multistart=3,
               perturbation=1.0, stability=False)  # fmt: skip
    assert r.status == "converged" and r.steps > SEGMENT
    assert len(r.energy_history) == r.steps + 1 == len(r.grad_history)
    assert np.all(np.isfinite(r.energy_history))
    assert r.energy_history[-1] == r.energy and r.grad_history[-1] == r.grad_max
    assert np.all(np.diff(r.energy_history) <= 1e-12)  # gradient descent below 2/lambda_max


def _net(stiffness=50.0, mass=0.02, rest_length=0.9):
    return catenax.net(8, 8, supports="edges", stiffness=stiffness, rest_length=rest_length,
                       mass=mass)  # fmt: skip


def _relax(net, **kw):
    free = catenax.free_mask(net)
    return catenax.minimize(catenax.network_energy, net.positions, net, free=free, **kw)


def test_a_network_with_newton_compiles_once_for_any_budget_and_values():
    first = _relax(_net(), method="newton", max_steps=50)
    assert first.status == "converged"
    with compiled() as names:
        second = _relax(_net(), method="newton", max_steps=500)
    assert names == []
    np.testing.assert_array_equal(second.positions, first.positions)
    # the same shapes with other values: stiffness, loads, rest length
    with compiled() as names:
        other = _relax(_net(stiffness=80.0, mass=0.05, rest_length=0.95), method="newton",
                       max_steps=77)  # fmt: skip
    assert names == []
    assert other.status == "converged"
    assert other.energy != first.energy


def test_a_network_with_fire_compiles_once_for_any_budget():
    _relax(_net(), method="fire", max_steps=40, stability=False)
    with compiled() as names:
        r = _relax(_net(mass=0.03), method="fire", max_steps=400, stability=False)
    assert names == []
    assert r.steps > 40


# --- the hooks -------------------------------------------------------------


def _falling(x):
    return -x[0]


_falling.runaway = lambda x: jnp.abs(x[0]) > 1e6


def test_runaway_stops_the_run_as_diverged_and_says_the_structure_is_not_held():
    r = catenax.minimize(_falling, jnp.zeros(3), method="gd", learning_rate=1e5,
                         max_steps=1000, stability=False)  # fmt: skip
    # x[0] grows by 1e5 a step: 1.1e6 > 1e6 at step 11
    assert r.status == "diverged" and r.steps == 11
    assert r.positions[0] == pytest.approx(1e6)  # the last iterate before
    assert len(r.energy_history) == 11 and r.energy_history[-1] == pytest.approx(-1e6)
    assert r.message.startswith("diverged at step 11: the structure is not held")
    assert "learning rate" not in r.message and "Support it" in r.message


def _bowl_watched(x):
    return 0.5 * jnp.sum(x**2)


_bowl_watched.runaway = lambda x: jnp.max(jnp.abs(x)) > 1e6


def test_a_step_size_blow_up_is_not_called_a_runaway():
    # gd with eta = 1000 on E = x^2/2: x grows 999-fold a step and so does E. The
    # positions pass the runaway radius, but the energy rises: a step-size blow-up,
    # reported as before (non-finite, with the step-size advice).
    r = catenax.minimize(_bowl_watched, jnp.ones(2), method="gd", learning_rate=1e3,
                         max_steps=1000, stability=False)  # fmt: skip
    assert r.status == "diverged" and r.steps == 52  # E = x^2/2 overflows at 999^52
    assert "non-finite" in r.message and "not held" not in r.message


def test_runaway_flag_in_the_loop_output_and_per_start():
    run = make_run(_falling, resolve_method("gd", 1e5), 100, None, True)
    out = run(jnp.zeros(3), (), jnp.ones(3), 1e-10, 0.0)
    assert bool(out["runaway"]) and int(out["steps"]) == 11
    ok = make_run(catenax.chain_energy, resolve_method("newton"), 50, None, True)
    assert not bool(ok(jnp.zeros(20), LESSON, jnp.ones(20), 1e-10, 0.0)["runaway"])
    r = catenax.minimize(_falling, jnp.zeros(3), method="gd", learning_rate=1e5,
                         max_steps=1000, multistart=2, stability=False)  # fmt: skip
    assert r.status == "diverged" and "not held" in r.message


def _unheld(x, k):
    return k * jnp.sum(x**2)


def _refuse(x0, k, free=None):
    if np.all(np.asarray(free) == 1):
        raise FieldError("supports", "no coordinate is fixed; fix one")


_unheld.check_held = _refuse


def test_check_held_runs_on_the_host_before_anything_compiles():
    with compiled() as names, pytest.raises(FieldError) as err:
        catenax.minimize(_unheld, jnp.ones(4), 2.0)
    assert err.value.field == "supports"
    assert "jit(run)" not in names  # the loop was never compiled
    with compiled() as names:
        r = catenax.minimize(_unheld, jnp.ones(4), 2.0, free=np.array([0.0, 1, 1, 1]))
    assert "jit(run)" in names and r.status == "converged"
    np.testing.assert_allclose(r.positions, [1.0, 0, 0, 0], atol=1e-12)


@dataclass(frozen=True)
class _Preconditioned:
    """``x <- x - P g`` with ``P = 1 / diag(H)`` prepared on the host (aux)."""

    name: str = "preconditioned"

    def prepare(self, energy, x0, params, free):
        # concrete values here: a NumPy array, computed outside jit
        (scale,) = params
        return {"p": np.full(np.shape(x0), 1.0 / (2.0 * np.asarray(scale)))}

    def init(self, problem, x, e, g):
        return ()

    def step(self, problem, x, e, g, state, k):
        x1 = x - problem.aux["p"] * g
        e1, g1 = problem.value_and_grad(x1)
        return x1, e1, g1, state, jnp.asarray(False)


def _bowl(x, scale):
    return scale * jnp.sum((x - 3.0) ** 2)


def test_prepare_passes_aux_into_the_run_as_an_argument():
    # With P = H^-1 one step lands on the minimum x = 3, whatever the scale.
    m = _Preconditioned()
    r = catenax.minimize(_bowl, jnp.zeros(5), 2.0, method=m, stability=False)
    assert r.status == "converged" and r.steps == 1
    np.testing.assert_allclose(r.positions, 3.0, rtol=1e-15)
    with compiled() as names:
        r = catenax.minimize(_bowl, jnp.zeros(5), 7.0, method=m, max_steps=9, stability=False)
    assert names == []  # a new aux (1/14 instead of 1/4) is a new argument, not a new program
    assert r.steps == 1
    np.testing.assert_allclose(r.positions, 3.0, rtol=1e-15)
    # multistart shares the one aux among its starts
    r = catenax.minimize(_bowl, jnp.zeros(5), 7.0, method=m, multistart=3, stability=False)
    assert r.extra["multistart"]["starts"] == 3 and r.steps == 1
    np.testing.assert_allclose(r.positions, 3.0, rtol=1e-15)
