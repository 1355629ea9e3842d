"""Benchmark: the notebook's own loop against catenax.minimize on the lesson chain.

Runs, in one process and on the same machine:

1. 60 steps of gradient descent (eta = 0.2) and of Adam (lr 0.1), float32 like
   the notebook: the notebook's Python loop calling the un-jitted ``grad_E``
   against ``catenax.minimize(..., tol=None, max_steps=60)``;
2. gradient descent to convergence (max|grad E| <= 1e-10 * F, float64): the
   notebook's loop with that stopping test added, against ``catenax.minimize``;
   (the stability verdict, which the notebook does not compute, is switched
   off so that both sides do the same work);
3. whole-process time of ``catenax relax --json`` against
   ``python -c "import jax, optax"`` (median of several runs).

The answers are checked to agree before any time is reported. Usage::

    python benchmarks/lesson.py [--repeats 5]

It prints Markdown tables for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from functools import partial

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import catenax  # noqa: E402
from catenax import chain_energy  # noqa: E402

PARAMS = (5.0, 0.8, 0.1)


def notebook_gd(dtype, steps, tol=None):
    """The notebook's loop: ``y = y - eta * grad_E(y)``, un-jitted."""
    grad_e = jax.grad(chain_energy)
    y = jnp.zeros(20, dtype)
    k = 0
    while k < steps:
        g = grad_e(y, *PARAMS)
        if tol is not None:
            f = float(catenax.chain_force_scale(y, *PARAMS))
            if float(jnp.max(jnp.abs(g))) <= tol * f:
                break
        y = y - 0.2 * g
        k += 1
    return np.asarray(y), k


def notebook_adam(dtype, steps, tol=None):
    grad_e = jax.grad(chain_energy)
    y = jnp.zeros(20, dtype)
    opt = optax.adam(0.1)
    state = opt.init(y)
    for _ in range(steps):
        updates, state = opt.update(grad_e(y, *PARAMS), state)
        y = optax.apply_updates(y, updates)
    return np.asarray(y), steps


def catenax_run(method, lr, dtype, steps, tol):
    r = catenax.minimize(
        chain_energy, jnp.zeros(20, dtype), *PARAMS,
        method=method, learning_rate=lr, max_steps=steps, tol=tol, stability=False,
    )  # fmt: skip
    return r.positions, r.steps


def timed(fn, repeats):
    """Return (result, first-call seconds, best warm seconds)."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t0)
    return out, first, min(warm, default=first)


def process_time(cmd, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    rows = []
    cases = [
        ("gd, 60 steps, float32", "float32", 60, None, "gd", 0.2, notebook_gd),
        ("adam, 60 steps, float32", "float32", 60, None, "adam", 0.1, notebook_adam),
        ("gd to tol 1e-10, float64", "float64", 100_000, 1e-10, "gd", 0.2, notebook_gd),
    ]
    for label, dtype, steps, tol, method, lr, nb in cases:
        (y_nb, k_nb), _, t_nb = timed(partial(nb, dtype, steps, tol), 0 if tol else 1)
        (y_cx, k_cx), t_first, t_cx = timed(
            partial(catenax_run, method, lr, dtype, steps, tol), args.repeats
        )
        err = float(np.max(np.abs(y_nb - y_cx)))
        atol = 1e-5 if dtype == "float32" else 1e-10
        if k_nb != k_cx or err > atol:
            raise SystemExit(f"{label}: answers differ (steps {k_nb} vs {k_cx}, max diff {err})")
        rows.append((label, k_cx, t_nb / k_nb * 1e3, t_cx / k_cx * 1e6, t_first, t_nb / t_cx, err))

    bare = process_time([sys.executable, "-c", "import jax, optax"], args.repeats)
    cli = process_time([sys.executable, "-m", "catenax", "relax", "--json"], args.repeats)

    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores; python "
        f"{platform.python_version()}, jax {jax.__version__}, optax {optax.__version__}, "
        f"numpy {np.__version__}"
    )
    print(
        "| run | steps | notebook ms/step | catenax us/step (warm) | catenax first call s "
        "| per-step speed-up | max abs diff |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, k, nb_ms, cx_us, first, ratio, err in rows:
        cells = [label, k, f"{nb_ms:.2f}", f"{cx_us:.2f}", f"{first:.2f}", f"{ratio:,.0f}x"]
        print("| " + " | ".join(map(str, cells)) + f" | {err:.1e} |")
    print()
    print("| process | median s | ratio to bare import |")
    print("|---|---|---|")
    print(f"| python -c 'import jax, optax' | {bare:.2f} | 1.00 |")
    print(f"| catenax relax --json | {cli:.2f} | {cli / bare:.2f} |")


if __name__ == "__main__":
    main()
