"""Benchmark: sweeps of many lesson chains and of load cases on a cable net.

Runs, in one process and on the same machine (float64, newton, default tolerance
``max|grad E| <= 1e-10 * F``):

1. **Chain sweeps**, N = 20 masses, 10^5 cases each, parameters varied over a
   grid: ``spring`` 1..10 x ``mass_g`` 0.05..0.2 x ``length`` either 0.5..0.95
   (convex) or 0.5..1.5 (through the convex/non-convex transition at l = 1).
   Throughput of ``catenax.sweep`` with the results kept in memory and streaming
   every row to a CSV file (compilation excluded: a small sweep with the same
   settings runs first), against a Python
   loop over ``scipy.optimize.minimize(L-BFGS-B)`` with a NumPy energy and gradient
   and against a Python loop over single ``catenax.minimize`` calls, both timed on
   an evenly spread subset of the same cases and extrapolated to cases/s. The
   answers are compared on the subset.
2. **Network sweep**: a 30 x 30 cable net fixed at its edges (k = 50, rest length
   0.9, weight 0.2 per node: the issue-4 benchmark net) under a point load at its
   centre swept over ``--net-cases`` values, against a loop of single
   ``catenax.minimize`` calls on a subset.
3. **Devices**: the chain sweeps (in memory) in fresh processes with the CPU split
   into one and two JAX devices (``jax_num_cpu_devices``).
4. **Memory**: peak RSS of fresh processes sweeping 10^4 and 10^5 chains to a CSV.

Usage::

    python benchmarks/sweep.py [--cases 100000] [--subset 200] [--net-cases 1000]

It prints Markdown tables for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import catenax  # noqa: E402
from catenax import parse_scenario, solve_scenario  # noqa: E402
from catenax.sweeps import chain_engine as sweepchain  # noqa: E402

GRIDS = {
    "convex (l 0.5..0.95)": "0.5:0.95",
    "through l = 1 (l 0.5..1.5)": "0.5:1.5",
}
NET = {
    "structure": {
        "builder": "net", "rows": 30, "cols": 30, "supports": "edges", "stiffness": 50.0,
        "rest_length": 0.9, "mass": 0.02, "gravity": [0.0, 0.0, -9.81],
        "loads": [[435, 0.0, 0.0, -1.0]],
    }
}  # fmt: skip


def chain_grid(lengths: str, cases: int) -> dict:
    """spring x mass_g x length with about ``cases`` cases (50 x 40 x cases/2000)."""
    n_l = max(1, round(cases / 2000))
    return {"spring": "1:10:50", "mass_g": "0.05:0.2:40", "length": f"{lengths}:{n_l}"}


def np_energy_grad(y, k, length, mg):
    yp = np.concatenate([[0.0], y, [0.0]])
    d = np.diff(yp)
    s = np.sqrt(d * d + 1.0)
    e = 0.5 * k * np.sum((s - length) ** 2) + mg * np.sum(y)
    f = k * (s - length) * d / s
    return e, f[:-1] - f[1:] + mg


def subset(table_or_grid, n_cases, k):
    return np.unique(np.linspace(0, n_cases - 1, k).round().astype(int))


def time_chain_sweep(grid, out, chunk, cases):
    """Seconds of the sweep streamed to ``out`` and of the same sweep kept in memory."""
    if chunk is None:  # the default for this many cases, also for the warm-up
        chunk = sweepchain.default_chunk(1, cases)
    kw = dict(**grid, chunk_size=chunk)
    catenax.sweep(**{**kw, "spring": "1:10:10", "mass_g": "0.1"})  # compile (same chunk)
    t = time.perf_counter()
    catenax.sweep(**kw)
    dt_mem = time.perf_counter() - t
    t = time.perf_counter()
    r = catenax.sweep(**kw, out=out, overwrite=True)
    return r, time.perf_counter() - t, dt_mem


#: scipy loop cases/s per chain grid, measured by chain_rows (for the devices table)
SCIPY_RATES: dict = {}


def chain_rows(args, tmp):
    rows = []
    for name, lengths in GRIDS.items():
        grid = chain_grid(lengths, args.cases)
        out = Path(tmp) / "chain.csv"
        r, dt, dt_mem = time_chain_sweep(grid, out, args.chunk, args.cases)
        t = catenax.io.read_table(out)
        idx = subset(t, r.n_cases, args.subset)
        params = [(t["spring"][i], t["length"][i], t["mass_g"][i]) for i in idx]
        # catenax minimize, one case at a time (compiled once, then warm)
        catenax.minimize(catenax.chain_energy, jnp.zeros(20), *params[0])
        t0 = time.perf_counter()
        singles = [catenax.minimize(catenax.chain_energy, jnp.zeros(20), *p) for p in params]
        dt_min = time.perf_counter() - t0
        e_diff = max(abs(s.energy - t["energy"][i]) for s, i in zip(singles, idx, strict=True))
        same_status = sum(s.status == t["status"][i] for s, i in zip(singles, idx, strict=True))
        # scipy L-BFGS-B with a NumPy gradient, to the same tolerance
        from scipy.optimize import minimize as sp_minimize

        reached, sp_diff = 0, 0.0
        t0 = time.perf_counter()
        sols = []
        for p in params:
            res = sp_minimize(
                np_energy_grad, np.zeros(20), args=p, jac=True, method="L-BFGS-B",
                options={"gtol": 0.0, "ftol": 0.0, "maxiter": 100_000, "maxfun": 10**6},
                callback=_stop_at(*p),
            )  # fmt: skip
            sols.append(res.x)
        dt_sp = time.perf_counter() - t0
        for p, y, s in zip(params, sols, singles, strict=True):
            e, g = np_energy_grad(y, *p)
            f = float(catenax.chain_force_scale(jnp.asarray(y), *p))
            reached += bool(np.max(np.abs(g)) <= 1e-10 * f)
            sp_diff = max(sp_diff, abs(e - s.energy))
        rate, rate_mem = r.n_cases / dt, r.n_cases / dt_mem
        rate_min = len(idx) / dt_min
        rate_sp = len(idx) / dt_sp
        counts = ", ".join(f"{v} {k}" for k, v in sorted(r.counts.items()))
        SCIPY_RATES[name] = rate_sp
        rows.append(
            f"| {name} | {r.n_cases:,} | {rate_mem:,.0f} | {rate:,.0f} | {rate_min:,.0f} | "
            f"{rate_sp:,.0f} | **{rate_mem / rate_sp:,.0f}x** / **{rate / rate_sp:,.0f}x** | "
            f"{rate_mem / rate_min:,.0f}x | {counts} | "
            f"{same_status}/{len(idx)}, {e_diff:.1e} | {reached}/{len(idx)}, {sp_diff:.1e} |"
        )
        print(rows[-1], flush=True)
    return rows


class _Converged(Exception):
    pass


def _stop_at(k, length, mg):
    """scipy callback: stop at max|grad E| <= 1e-10 * F, the catenax rule."""

    def callback(intermediate_result):
        y = intermediate_result.x
        _, g = np_energy_grad(y, k, length, mg)
        s = np.sqrt(np.diff(np.concatenate([[0.0], y, [0.0]])) ** 2 + 1)
        f = max(mg, float(np.max(np.abs(k * (s - length)))))
        if np.max(np.abs(g)) <= 1e-10 * f:
            raise StopIteration

    return callback


def net_rows(args, tmp):
    vary = {"structure.loads[0][3]": f"-0.2:-5:{args.net_cases}"}
    c = args.net_chunk
    catenax.sweep(NET, {"structure.loads[0][3]": f"-0.2:-5:{c}"}, chunk_size=c)  # compile
    t0 = time.perf_counter()
    r = catenax.sweep(NET, vary, out=Path(tmp) / "net.csv", overwrite=True, chunk_size=c)
    dt = time.perf_counter() - t0
    t = catenax.io.read_table(Path(tmp) / "net.csv")
    idx = subset(t, r.n_cases, max(3, args.subset // 20))
    import copy

    scens = []
    for i in idx:
        d = copy.deepcopy(NET)
        d["structure"]["loads"][0][3] = float(t["structure.loads[0][3]"][i])
        scens.append(parse_scenario(d))
    solve_scenario(scens[0])
    t1 = time.perf_counter()
    singles = [solve_scenario(s) for s in scens]
    dt_min = time.perf_counter() - t1
    e_diff = max(abs(s.energy - t["energy"][i]) for s, i in zip(singles, idx, strict=True))
    counts = ", ".join(f"{v} {k}" for k, v in sorted(r.counts.items()))
    rate, rate_min = r.n_cases / dt, len(idx) / dt_min
    row = (
        f"| 30 x 30 net, point load, {c} lanes | {r.n_cases:,} | {rate:,.1f} | "
        f"{rate_min:,.1f} ({len(idx)} cases) | {rate / rate_min:.2f}x | {counts} | {e_diff:.1e} |"
    )
    print(row, flush=True)
    return [row]


DEVICES_CHILD = textwrap.dedent(
    """
    import sys, time, jax
    jax.config.update("jax_num_cpu_devices", int(sys.argv[1]))
    jax.config.update("jax_enable_x64", True)
    import catenax
    from catenax.sweeps import chain_engine as sweepchain
    n, lengths = int(sys.argv[2]), sys.argv[3]
    grid = dict(spring="1:10:50", mass_g="0.05:0.2:40", length=f"{lengths}:{max(1, n // 2000)}")
    chunk = sweepchain.default_chunk(len(jax.devices()), n)
    catenax.sweep(**grid, chunk_size=chunk)  # compile
    t = time.perf_counter()
    r = catenax.sweep(**grid, chunk_size=chunk)
    print(r.n_cases / (time.perf_counter() - t))
    """
)


def devices_rows(args):
    """Chain sweeps (in memory) with the CPU split into 1 and 2 JAX devices."""
    rows = []
    for name, lengths in GRIDS.items():
        rates = []
        for d in (1, 2):
            p = subprocess.run(
                [sys.executable, "-c", DEVICES_CHILD, str(d), str(args.cases), lengths],
                capture_output=True, text=True, check=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )  # fmt: skip
            rates.append(float(p.stdout.split()[-1]))
        sp = SCIPY_RATES.get(name)
        vs = " / ".join(f"**{r / sp:,.0f}x**" for r in rates) if sp else "n/a"
        rows.append(
            f"| {name} | {rates[0]:,.0f} | {rates[1]:,.0f} | {rates[1] / rates[0]:.2f}x | {vs} |"
        )
        print(rows[-1], flush=True)
    return rows


MEMORY_CHILD = textwrap.dedent(
    """
    import resource, sys, time, jax
    jax.config.update("jax_enable_x64", True)
    import catenax
    n = int(sys.argv[1])
    grid = dict(spring="1:10:50", mass_g="0.05:0.2:40", length=f"0.5:0.95:{max(1, n // 2000)}")
    t = time.perf_counter()
    r = catenax.sweep(**grid, out=sys.argv[2], overwrite=True)
    print(r.n_cases, time.perf_counter() - t,
          resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    """
)


def memory_rows(tmp):
    rows = []
    for n in (10_000, 100_000):
        p = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, str(n), str(Path(tmp) / f"m{n}.csv")],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )  # fmt: skip
        cases, secs, mb = p.stdout.split()
        size = (Path(tmp) / f"m{n}.csv").stat().st_size / 2**20
        rows.append(f"| {int(cases):,} | {float(secs):.1f} | {float(mb):,.0f} | {size:,.1f} |")
        print(rows[-1], flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000, help="chain cases per sweep")
    ap.add_argument("--subset", type=int, default=200, help="cases timed in the loops")
    ap.add_argument("--net-cases", type=int, default=1000, help="load cases on the net")
    ap.add_argument(
        "--chunk", type=int, default=None, help="cases per call of the chain sweeps (default: auto)"
    )
    ap.add_argument("--net-chunk", type=int, default=16, help="lanes of the network sweep")
    ap.add_argument(
        "--skip", default="", help="comma list of parts to skip: chain,net,devices,memory"
    )
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; python "
        f"{platform.python_version()}, jax {jax.__version__}, numpy {np.__version__}, "
        f"devices {jax.devices()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        if "chain" not in skip:
            print(
                "\n| chain sweep, N = 20 | cases | catenax sweep cases/s (in memory) "
                "| catenax sweep cases/s (CSV) | minimize loop cases/s "
                "| scipy L-BFGS-B loop cases/s | sweep / scipy (memory / CSV) "
                "| sweep / minimize loop | statuses | minimize loop: same status, max dE "
                "| scipy: reached tol, max dE |"
            )
            print("|" + "---|" * 11)
            chain_rows(args, tmp)
        if "net" not in skip:
            print(
                "\n| network sweep | cases | catenax sweep cases/s | minimize loop cases/s "
                "| sweep / loop | statuses | max dE vs loop |"
            )
            print("|" + "---|" * 7)
            net_rows(args, tmp)
        if "devices" not in skip:
            print(
                "\n| chain sweep (in memory) | 1 CPU device cases/s | 2 CPU devices cases/s "
                "| 2 / 1 device | sweep / scipy loop (1 / 2 devices) |"
            )
            print("|---|---|---|---|---|")
            devices_rows(args)
        if "memory" not in skip:
            print("\n| chains swept to CSV | seconds | peak RSS MiB | CSV MiB |")
            print("|---|---|---|---|")
            memory_rows(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
