"""Messages that fit the run (issue 11, item 5) and the verdict as Result properties (item 8).

The advice depends on the method and the dtype: newton is never told to use
newton, float64 is never suggested in float64, each method hears of its own
knobs; the CLI names its options (``--steps``, ``--lr``) where the library names
its arguments (```max_steps```, ```learning_rate```).
"""

import json

import jax.numpy as jnp
import numpy as np
import pytest

import catenax
from catenax.cli.common import COMPARE_OPTION_NAMES, option_message, option_text
from catenax.solve import budget_advice, stall_advice, status_message

E = catenax.chain_energy
CHAIN = (5.0, 0.8, 0.1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_newton_out_of_steps_is_not_told_to_use_newton(dtype):
    msg = status_message("max_steps", "newton", 3, 1e-3, 1e-10, 3, dtype)
    assert "`max_steps`" in msg and "'newton'" not in msg
    assert ("float64" in msg) == (dtype == "float32")


def test_a_real_newton_run_out_of_steps():
    r = catenax.minimize(E, jnp.zeros(20), *CHAIN, method="newton", max_steps=1)
    assert r.status == "max_steps"
    assert "method='newton'" not in r.message and "float64" not in r.message
    assert "`max_steps`" in r.message


@pytest.mark.parametrize(
    "name, words",
    [
        ("gd", ["`learning_rate`", "`schedule`", "`method='newton'`"]),
        ("adam", ["`learning_rate`", "`schedule`", "`method='newton'`"]),
        ("lbfgs", ["LBFGS(history=", "`method='newton'`"]),
        ("fire", ["FIRE(dt_max=", "`learning_rate`", "`method='newton'`"]),
    ],
)
def test_each_method_hears_of_its_own_knobs_when_out_of_steps(name, words):
    msg = budget_advice(name, "float64")
    assert msg.startswith("Raise `max_steps`")
    for w in words:
        assert w in msg, (w, msg)
    if name in ("lbfgs", "fire"):
        assert "schedule" not in msg  # they take none
    if name == "lbfgs":
        assert "learning_rate" not in msg  # it takes none


def test_stall_advice_fits_method_and_dtype():
    assert "float64" not in stall_advice("newton", "float64")
    assert "float64" in stall_advice("newton", "float32")
    assert "'newton'" not in stall_advice("newton", "float32")
    assert "`method='newton'`" in stall_advice("lbfgs", "float64")
    msg = status_message("stalled", "newton", 9, 1e-9, 1e-10, 100, np.float64)
    assert "try float64" not in msg and "float64" not in msg


def test_diverged_gd_names_the_learning_rate_to_use():
    r = catenax.minimize(E, jnp.zeros(20), *CHAIN, method="gd", learning_rate=1.0)
    assert r.status == "diverged"
    assert "`learning_rate=0.215`" in r.message, r.message
    assert "--lr 0.215" in option_text(r.message)


def test_option_text_rewrites_every_named_field():
    msg = status_message("max_steps", "gd", 5, 0.1, 1e-10, 5, "float64")
    cli = option_text(msg)
    assert "--steps" in cli and "--lr" in cli and "--schedule" in cli
    assert "--method newton" in cli and "`" not in cli and "max_steps" not in cli
    # values that are not plain words stay in the library's words
    assert option_text("use `method=FIRE(dt=0.1)`") == "use `method=FIRE(dt=0.1)`"
    assert option_text("fix `fixed`") == "fix `fixed`"


def test_option_message_rewrites_the_lead_and_the_body():
    msg = "max_steps: 2147483648 is more than the loop can count; lower `max_steps`"
    assert option_message(msg) == (
        "--steps: 2147483648 is more than the loop can count; lower --steps"
    )
    assert option_message("method: try `method='gd'`", COMPARE_OPTION_NAMES) == (
        "--methods: try --methods gd"
    )


def test_the_cli_prints_its_option_names(invoke):
    res = invoke("relax", "--n", "5", "--method", "gd", "--steps", "2", "--json")
    data = json.loads(res.stdout)
    assert data["status"] == "max_steps"
    assert "--steps" in data["message"] and "max_steps`" not in data["message"]
    assert "--method newton" in data["message"]
    res = invoke("relax", "--n", "5", "--method", "newton", "--steps", "1")
    assert "--steps" in res.stdout and "--method newton" not in res.stdout


def test_the_verdict_is_a_property_of_the_result():
    r = catenax.minimize(E, jnp.zeros(20), *CHAIN)
    for key in ("min_eigenvalue", "max_eigenvalue", "stable", "verdict", "certified",
                "gd_step_max"):  # fmt: skip
        assert getattr(r, key) == r.extra[key]
    assert r.stable is True and r.verdict == "minimum" and r.min_eigenvalue > 0
    assert r.gd_step_max == pytest.approx(2 / r.max_eigenvalue)
    bare = catenax.minimize(E, jnp.zeros(20), *CHAIN, stability=False)
    assert bare.stable is None and bare.min_eigenvalue is None and bare.verdict is None


def test_saddle_advice_names_multistart():
    r = catenax.minimize(E, jnp.zeros(20), 5.0, 1.2, 0.0)  # the flat chain, no weight
    assert r.status == "saddle"
    assert "`multistart=16`" in r.message
    assert "--multistart 16" in option_text(r.message)
