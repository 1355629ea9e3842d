"""What progress reporting costs a long run (issue 11, item 7).

``catenax relax`` reports the step and max|∇E| of long runs through
:func:`catenax.solve.report_progress`: the driver takes control back between
calls of its compiled loop (sized to about ``interval`` seconds each), so
nothing runs inside the loop. Off, the run is one call, as before.

Runs gradient descent on the lesson's chain (N = 20, ``--tol none``) for
``--steps`` steps, with and without a reporter, interleaved, and prints the
median wall times and their ratio. Run it under an older checkout
(``PYTHONPATH=OLD/src``) to time the run as it was: without
``report_progress`` it times the "off" column only.

    python benchmarks/progress_overhead.py [--steps 100000] [--repeats 9] [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

import catenax  # noqa: E402

try:
    from catenax.solve import report_progress
except ImportError:  # an older checkout: no reporting to compare with
    report_progress = None


def run(steps: int, history: bool) -> float:
    """Seconds of one run (compiled before)."""
    t0 = time.perf_counter()
    r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1, method="gd",
                         max_steps=steps, tol=None, history=history, stability=False)  # fmt: skip
    jax.block_until_ready(r.positions)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--smoke", action="store_true", help="a few thousand steps, 2 repeats")
    a = ap.parse_args()
    steps, repeats = (3000, 2) if a.smoke else (a.steps, a.repeats)
    modes = {"off": contextlib.nullcontext}
    if report_progress is not None:
        calls: list[int] = []
        modes["on"] = lambda: report_progress(lambda k, g, n: calls.append(k), 0.25)
    print(f"gd, lesson chain N=20, {steps} steps, median of {repeats} (interleaved)")
    print(f"{'history':>8} {'off (ms)':>10} {'on (ms)':>10} {'on/off':>7}")
    for history in (False, True):
        times: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(repeats + 1):  # the first round compiles
            for mode, ctx in modes.items():
                with ctx():
                    times[mode].append(run(steps, history))
        med = {m: 1e3 * statistics.median(t[1:]) for m, t in times.items()}
        on = med.get("on", float("nan"))
        print(f"{history!s:>8} {med['off']:>10.1f} {on:>10.1f} {on / med['off']:>7.3f}")


if __name__ == "__main__":
    main()
