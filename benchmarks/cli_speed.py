"""Benchmark: the CLI at both ends, as whole processes (issue 11, item 6).

Two targets, each a ratio of median wall times of fresh processes, run
interleaved (A B A B ...) so that load from other work hits both alike:

a. ``catenax relax --n 1000000 --json`` against a scipy banded-Newton process
   that solves the same chain (the lesson's energy, K = 5, l = 0.8, mg = 0.1,
   flat start, float64) to the same stopping rule (``max|grad E| <= 1e-10 F``)
   and prints the same heights as JSON: once with the standard ``json`` module
   (``peer json``) and once with orjson (``peer orjson``, what catenax uses).
   Target: catenax / peer <= 1.
b. ``catenax relax --json`` (N = 20) against a bare ``python -c "import jax, optax"``.
   Target: <= 2.

Before the timed rounds every command runs once untimed (that run fills the
compilation cache; its time is reported as "first"). A child process also
reports the in-process breakdown of the big run: solve, verdict (first call in
the process and warm), JSON building and text.

Usage::

    python benchmarks/cli_speed.py [--n 1000000] [--repeats 5]
    python benchmarks/cli_speed.py --smoke      # seconds: N = 300, one round
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

K, L, MG = 5.0, 0.8, 0.1
RTOL = 1e-10  # catenax's default relative tolerance in float64


# ----------------------------------------------------------------------------- the peer
def peer(n: int, writer: str) -> None:
    """Relax the chain by banded Newton (scipy) and print ``{"y": [...]}`` (a child process)."""
    import numpy as np
    from scipy.linalg import solveh_banded

    def energy_grad(y):
        d = np.diff(np.concatenate([[0.0], y, [0.0]]))
        s = np.sqrt(d * d + 1.0)
        e = 0.5 * K * np.sum((s - L) ** 2) + MG * np.sum(y)
        f = K * (s - L) * d / s  # dE/dd for each spring
        return e, f[:-1] - f[1:] + MG, max(MG, float(np.max(np.abs(K * (s - L)))))

    def hessian_banded(y):
        s = np.sqrt(np.diff(np.concatenate([[0.0], y, [0.0]])) ** 2 + 1.0)
        c = K * (1.0 - L / s**3)
        ab = np.zeros((2, len(y)))
        ab[1] = c[:-1] + c[1:]
        ab[0, 1:] = -c[1:-1]
        return ab

    y = np.zeros(n)
    e, g, scale = energy_grad(y)
    while np.max(np.abs(g)) > RTOL * scale:  # catenax's stopping rule
        p = -solveh_banded(hessian_banded(y), g, check_finite=False)
        t, gmax = 1.0, np.max(np.abs(g))
        while True:  # Armijo, or a step lost in round-off that lowers the gradient
            e1, g1, scale1 = energy_grad(y + t * p)
            roundoff = abs(e1 - e) <= 1e-12 * max(abs(e), 1.0)
            if e1 <= e + 1e-4 * t * g @ p or (roundoff and np.max(np.abs(g1)) < gmax) or t < 1e-12:
                break
            t *= 0.5
        y, e, g, scale = y + t * p, e1, g1, scale1
    if writer == "orjson":
        import orjson

        text = orjson.dumps({"y": y}, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    else:
        text = json.dumps({"y": y.tolist()})
    sys.stdout.write(text + "\n")


# ----------------------------------------------------------------------------- in-process breakdown
def breakdown(n: int) -> None:
    """Print the in-process cost of the big run's parts as JSON (a child process)."""
    t0 = time.perf_counter()
    import catenax.cli.app  # noqa: F401  (the CLI's imports)
    from catenax.cli.common import setup_jax

    setup_jax(x64=True)
    import jax.numpy as jnp

    import catenax
    from catenax.cli.report import result_json
    from catenax.io import json_text

    out = {"import": time.perf_counter() - t0}
    for label in ("first", "warm"):
        t = time.perf_counter()
        r = catenax.minimize(catenax.chain_energy, jnp.zeros(n), K, L, MG, stability=False)
        t1 = time.perf_counter()
        v = catenax.stability_verdict(catenax.chain_energy, r.positions, K, L, MG)
        t2 = time.perf_counter()
        data = result_json(r, {"n": n})
        t3 = time.perf_counter()
        json_text(data)
        t4 = time.perf_counter()
        out[label] = {"solve": t1 - t, "verdict": t2 - t1, "result_json": t3 - t2,
                      "json_text": t4 - t3}  # fmt: skip
    out["min_eigenvalue"], out["max_eigenvalue"] = v["min_eigenvalue"], v["max_eigenvalue"]
    print(json.dumps(out))


# ----------------------------------------------------------------------------- whole processes
def _timed(cmd: list[str], out: Path) -> float:
    with open(out, "wb") as f:
        t = time.perf_counter()
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, check=False)
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()}")
    return wall


def _heights_agree(a: Path, b: Path) -> float:
    import numpy as np

    ya = np.asarray(json.loads(a.read_text())["y"])
    yb = np.asarray(json.loads(b.read_text())["y"])
    return float(np.max(np.abs(ya - yb)) / max(np.max(np.abs(yb)), 1e-300))


def measure(commands: dict[str, list[str]], repeats: int, folder: Path, first=True) -> dict:
    """First run (untimed for the medians), then ``repeats`` interleaved rounds: medians."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    runs = [(name, folder / f"{i}.json", cmd) for i, (name, cmd) in enumerate(commands.items())]
    first = {name: _timed(cmd, out) for name, out, cmd in runs} if first else {}
    for _ in range(repeats):
        for i, (name, cmd) in enumerate(commands.items()):
            times[name].append(_timed(cmd, folder / f"{i}.json"))
    return {name: {"first": first.get(name, math.nan), "median": statistics.median(t), "all": t}
            for name, t in times.items()}  # fmt: skip


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="masses of target a's chain")
    ap.add_argument("--repeats", type=int, default=5, help="timed rounds (interleaved)")
    ap.add_argument("--smoke", action="store_true", help="N = 300, one round, no first run")
    ap.add_argument("--peer", nargs=2, metavar=("N", "WRITER"), help=argparse.SUPPRESS)
    ap.add_argument("--breakdown", type=int, metavar="N", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.peer:
        return peer(int(args.peer[0]), args.peer[1])
    if args.breakdown:
        return breakdown(args.breakdown)
    n, repeats = (300, 1) if args.smoke else (args.n, args.repeats)
    me, py = [sys.executable, __file__], sys.executable
    catenax_cli = [py, "-m", "catenax"]
    env_note = os.environ.get("CATENAX_CACHE_DIR", "~/.cache/catenax/jax")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big = measure(
            {
                "catenax relax --json": [*catenax_cli, "relax", "--n", str(n), "--json"],
                "peer json": [*me, "--peer", str(n), "json"],
                "peer orjson": [*me, "--peer", str(n), "orjson"],
            },
            repeats,
            folder,
            first=not args.smoke,
        )
        agree = _heights_agree(folder / "0.json", folder / "1.json")
        small = measure(
            {
                "catenax relax --json (N=20)": [*catenax_cli, "relax", "--json"],
                "import jax, optax": [py, "-c", "import jax, optax"],
            },
            repeats,
            folder,
            first=not args.smoke,
        )
        parts = json.loads(subprocess.run([*me, "--breakdown", str(n)], capture_output=True,
                                          check=True, text=True).stdout)  # fmt: skip
    report(n, repeats, big, small, parts, agree, env_note)


def report(n, repeats, big, small, parts, agree, cache) -> None:
    """Print the tables (Markdown) and the ratios."""
    import jax
    import numpy
    import orjson

    print(f"python {platform.python_version()}, jax {jax.__version__}, numpy {numpy.__version__}, "
          f"orjson {orjson.__version__}; {os.cpu_count()} CPUs, load average "
          f"{'/'.join(f'{v:.1f}' for v in os.getloadavg())}; compile cache {cache}")  # fmt: skip
    print(f"\nWhole processes, median of {repeats} interleaved rounds (s); first = the untimed "
          "first run:\n")  # fmt: skip
    print("| command | first | median | all |\n|---|---:|---:|---|")
    for name, t in {**big, **small}.items():
        label = name if "N=20" in name or "import" in name else f"{name} (N={n})"
        runs = ", ".join(f"{v:.2f}" for v in t["all"])
        print(f"| {label} | {t['first']:.2f} | {t['median']:.2f} | {runs} |")
    cat = big["catenax relax --json"]["median"]
    ratio_json = cat / big["peer json"]["median"]
    ratio_orjson = cat / big["peer orjson"]["median"]
    ratio_small = (
        small["catenax relax --json (N=20)"]["median"] / small["import jax, optax"]["median"]
    )
    print(
        f"\na. catenax / scipy peer at N={n}: {ratio_json:.2f} (peer json), "
        f"{ratio_orjson:.2f} (peer orjson); target <= 1. Heights agree to {agree:.1e} (relative)"
    )
    print(f"b. catenax relax --json (N=20) / import jax, optax: {ratio_small:.2f}; target <= 2")
    print(f"\nIn-process breakdown at N={n} (s): import {parts['import']:.2f}")
    print("| call | solve | verdict | result_json | json_text | verdict / solve |")
    print("|---|---:|---:|---:|---:|---:|")
    for label in ("first", "warm"):
        p = parts[label]
        print(f"| {label} | {p['solve']:.3f} | {p['verdict']:.3f} | {p['result_json']:.3f} | "
              f"{p['json_text']:.3f} | {p['verdict'] / p['solve']:.0%} |")  # fmt: skip
    print(f"lowest / highest Hessian eigenvalue: {parts['min_eigenvalue']!r} / "
          f"{parts['max_eigenvalue']!r}")  # fmt: skip


if __name__ == "__main__":
    main()
