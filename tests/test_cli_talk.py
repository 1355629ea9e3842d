"""The CLI talks while it works (issue 11, item 7): "compiling …" and the progress of long runs.

Before: ``relax`` printed nothing until the result (even for 10^6-step runs),
``lesson`` and ``compare`` compiled for 17-30 s in silence.
"""

import io
import json
import time

import jax.numpy as jnp
import numpy as np
import pytest

import catenax
from catenax.cli import talk
from catenax.solve import report_progress
from catenax.solve import segments as segments_module


def _chain(**kw):
    return catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1, **kw)


# --- the library: progress between calls of the compiled loop --------------------------------

RUNS = [
    dict(method="gd", max_steps=3000, tol=None),
    dict(method="gd", max_steps=3000, tol=None, history=False),
    dict(method="gd", max_steps=3000, tol=None, record_every=700),
    dict(method="gd", max_steps=3000, tol=None, record_every=700, history=False),
    dict(method="gd", learning_rate=0.05, max_steps=4000, multistart=3, perturbation=1.0,
         stability=False),
    dict(method="lbfgs", max_steps=3000),
]  # fmt: skip


@pytest.mark.parametrize("kw", RUNS)
def test_a_reported_run_is_the_same_run_bit_for_bit(kw):
    plain = _chain(**kw)
    seen = []
    with report_progress(lambda k, g, n: seen.append((k, g, n)), interval=1e-9):
        reported = _chain(**kw)
    assert (reported.steps, reported.status) == (plain.steps, plain.status)
    for field in ("positions", "energy_history", "grad_history", "iterates", "iterate_steps"):
        np.testing.assert_array_equal(getattr(reported, field), getattr(plain, field), field)
    if plain.steps > 1024:  # the first call runs 1024 steps; later ones are reported
        steps = [k for k, _, _ in seen]
        assert steps and 1024 <= min(steps) and max(steps) < kw["max_steps"]
        if "multistart" not in kw:  # (the driver may rerun the start it picks: a second run)
            assert steps == sorted(steps)
        assert all(n == kw["max_steps"] and np.isfinite(g) for _, g, n in seen)


def test_without_a_reporter_a_run_is_one_call(monkeypatch):
    # Progress off costs nothing: the compiled loop runs the whole budget in one call,
    # exactly as before (no chunks, no callback inside the loop).
    calls = []
    real = segments_module.runner

    def counting(*key):
        run, resume = real(*key)
        return (lambda *a: calls.append("run") or run(*a),
                lambda *a: calls.append("resume") or resume(*a))  # fmt: skip

    monkeypatch.setattr(catenax.solve.driver, "runner", counting)
    _chain(method="gd", max_steps=20_000, tol=None, history=False, stability=False)
    assert calls == ["run"]
    calls.clear()
    with report_progress(lambda *a: None, interval=1e-9):
        _chain(method="gd", max_steps=20_000, tol=None, history=False, stability=False)
    assert calls[0] == "run" and len(calls) > 1


def test_reports_are_throttled_by_wall_clock():
    seen = []
    t0 = time.monotonic()
    with report_progress(lambda k, g, n: seen.append(time.monotonic()), interval=0.2):
        _chain(method="gd", max_steps=200_000, tol=None, history=False, stability=False)
    elapsed = time.monotonic() - t0
    assert len(seen) <= elapsed / 0.2 + 1
    assert all(b - a >= 0.2 for a, b in zip(seen, seen[1:], strict=False))


@pytest.mark.parametrize("interval", [0, -1.0, float("nan"), "fast"])
def test_a_bad_interval_is_refused(interval):
    with pytest.raises(ValueError, match="interval"), report_progress(print, interval):
        pass


# --- the CLI: what stderr shows ----------------------------------------------------------------


def test_relax_says_it_is_compiling_and_keeps_stdout_clean(invoke):
    res = invoke("relax", "--n", "3", "--json")
    assert res.exit_code == 0, res.output
    assert "compiling and relaxing n=3 with newton …" in res.stderr
    json.loads(res.stdout)  # stdout is the JSON object alone


def test_quiet_says_nothing(invoke):
    res = invoke("relax", "--n", "3", "--json", "--quiet")
    assert res.exit_code == 0 and res.stderr == ""


def test_compare_says_it_is_compiling(invoke):
    res = invoke("compare", "--methods", "gd", "--n", "3", "--steps", "5")
    assert res.exit_code == 0, res.output
    assert "compiling and timing gd on n=3 …" in res.stderr


def test_lesson_says_it_is_compiling_before_the_work(invoke, tmp_path, monkeypatch):
    # (the lesson's three compiles take a while: stop it at the first, by Ctrl-C)
    from catenax.cli import lesson

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(lesson, "_exact_equilibrium", interrupted)
    res = invoke("lesson", "--out", tmp_path / "lesson")
    assert res.exit_code == 130
    assert "compiling and running the lesson" in res.stderr
    assert "error: interrupted" in res.stderr


def test_progress_lines_when_asked_and_not_on_a_terminal(invoke, monkeypatch):
    monkeypatch.setattr(talk, "PLAIN_INTERVAL", 0.0)
    res = invoke("relax", "--n", "3", "--method", "gd", "--steps", "20000", "--tol", "none",
                 "--progress", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stderr.splitlines() if ": step " in ln]
    assert lines and "of 20,000" in lines[0] and "max|∇E|" in lines[0]
    assert json.loads(res.stdout)["steps"] == 20000
    # not asked for, not a terminal: no progress lines
    res = invoke("relax", "--n", "3", "--method", "gd", "--steps", "20000", "--tol", "none")
    assert ": step " not in res.stderr


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_a_status_line_shows_the_progress(monkeypatch):
    callbacks = []

    def fake_report(callback, interval):
        callbacks.append((callback, interval))
        return report_progress(callback, interval)

    monkeypatch.setattr(talk, "report_progress", fake_report)
    screen = _Terminal()
    with talk.working("relaxing n=3 with gd", stream=screen):
        time.sleep(0.3)  # the status line refreshes 12.5 times a second
        callback, interval = callbacks[0]
        callback(4096, 1.5e-3, 10_000)
        time.sleep(0.3)
    assert interval == talk.TTY_INTERVAL
    shown = screen.getvalue()
    assert "compiling and relaxing n=3 with gd …" in shown
    assert "relaxing n=3 with gd: step 4,096 of 10,000 (41.0 %), max|∇E| 0.0015" in shown
    assert shown.endswith("\x1b[2K")  # the status line is cleared at the end


def test_the_overhead_benchmark_runs_in_smoke_size():
    """benchmarks/progress_overhead.py --smoke: both columns timed, the ratio printed."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "progress_overhead.py"
    proc = subprocess.run([sys.executable, str(script), "--smoke"], capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split() for line in proc.stdout.splitlines()[2:]]
    assert [r[0] for r in rows] == ["False", "True"]
    assert all(float(r[1]) > 0 and float(r[2]) > 0 for r in rows)
