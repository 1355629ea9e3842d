"""Every script in examples/ runs, in its small ``--smoke`` size, and checks what it claims."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p.stem for p in EXAMPLES.glob("*.py"))


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_is_covered():
    assert SCRIPTS == ["cable_net", "cloth", "hanging_chain"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_script_runs_from_the_command_line(name, tmp_path):
    out = tmp_path / f"{name}.png"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "converged" in proc.stdout
    assert out.stat().st_size > 10_000  # a real PNG, not an empty canvas


def test_hanging_chain_lies_on_the_catenary(tmp_path):
    dev = _load("hanging_chain").main(tmp_path / "c.png", smoke=True)
    assert dev < 4e-3  # discretisation error O(1/n^2): 2.7e-3 with 10 masses; a wrong shape: > 0.1


def test_cable_net_corner_reactions_carry_the_weight(tmp_path):
    r, carried, weight = _load("cable_net").main(tmp_path / "n.png", smoke=True)
    assert r.status == "converged"
    np.testing.assert_allclose(carried, weight, rtol=1e-9)


def test_cloth_hangs_below_its_rods(tmp_path):
    r = _load("cloth").main(tmp_path / "c.png", smoke=True)
    assert r.status == "converged"
    assert float(np.min(np.asarray(r.positions)[:, 2])) < 0
