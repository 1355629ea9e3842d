"""Hot paths of catenax in one line: first call and warm time of the main entry points.

Used to compare two checkouts back to back on the same machine (e.g. before and
after a refactor): run it once with each checkout's ``src`` first on PYTHONPATH.

    PYTHONPATH=/path/to/other/checkout/src python benchmarks/hot_paths.py before
    python benchmarks/hot_paths.py after

Prints a Markdown table row: label | lesson chain first call s | newton warm ms |
30x30 net first call s | net warm s | sweep first call s | 10^5 convex chains
cases/s | 2x10^4 chains through l = 1 cases/s.
"""

import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

import catenax  # noqa: E402

LESSON = (5.0, 0.8, 0.1)


def best_of(f, n=3):
    """The fastest of ``n`` warm calls of ``f`` (after one untimed call), in seconds."""
    f()
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


def first_call(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def main(label):
    def chain():
        return catenax.minimize(catenax.chain_energy, jnp.zeros(20), *LESSON).positions

    net = catenax.net(30, 30, supports="edges", stiffness=50.0, rest_length=0.9, mass=0.02)
    free = catenax.free_mask(net)

    def network():
        return catenax.minimize(catenax.network_energy, net.positions, net, free=free).positions

    row = [
        first_call(chain),
        best_of(chain, 20) * 1e3,
        first_call(network),
        best_of(network),
        first_call(lambda: catenax.sweep(length="0.5:0.95:1000")),
        100_000 / best_of(lambda: catenax.sweep(length="0.5:0.95:100000"), 2),
        20_000 / best_of(lambda: catenax.sweep(length="0.5:1.5:20000"), 2),
    ]
    fmt = ["{:.2f}", "{:.3f}", "{:.2f}", "{:.3f}", "{:.2f}", "{:,.0f}", "{:,.0f}"]
    print(" | ".join([label, *(f.format(v) for f, v in zip(fmt, row, strict=True))]))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "catenax")
