"""A free hanging chain in 2D against the analytic catenary y = a cosh(x / a) + c.

40 masses hang between two supports 1 apart; the chain is 1.5 long and stiff
(EA = 1e4 times its weight), so it hardly stretches and its nodes lie on the
catenary through the supports up to a discretisation error of order 1/n^2.
Writes docs/img/hanging_chain.png.

Run: python examples/hanging_chain.py [--out FIG.png] [--smoke]
"""

import argparse
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import scipy.optimize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import catenax  # noqa: E402
from catenax.plot import plot_network_2d  # noqa: E402

SPAN, LENGTH, WEIGHT, EA, N = 1.0, 1.5, 1.0, 1e4, 40


IMG = Path(__file__).resolve().parents[1] / "docs" / "img" / "hanging_chain.png"


def main(out=IMG, smoke=False):
    """Relax the chain, print its deviation from the catenary, draw it; ``smoke``: 10 masses."""
    n = 10 if smoke else N
    h = LENGTH / (n + 1)  # each node carries the weight of one segment
    net = catenax.chain2d(n, span=SPAN, rest_length=h, stiffness=EA / h, mass=WEIGHT / (n + 1),
                          gravity=1.0)  # fmt: skip
    r = catenax.minimize(catenax.network_energy, net.positions, net,
                         free=catenax.free_mask(net), method="newton")  # fmt: skip
    x = np.asarray(r.positions)
    # the catenary through both supports with the chain's length: 2 a sinh(SPAN / 2a) = LENGTH
    a = scipy.optimize.brentq(lambda a: 2 * a * np.sinh(SPAN / (2 * a)) - LENGTH, 0.05, 100.0)
    c = -a * np.cosh(SPAN / (2 * a))
    dev = np.abs(x[:, 1] - (a * np.cosh(x[:, 0] / a) + c)).max()
    print(f"{r.status} in {r.steps} steps; max |y - catenary| = {dev:.2e} (a = {a:.4f})")

    fig = Figure(figsize=(6, 4.5))
    ax = fig.add_subplot()
    xs = np.linspace(-SPAN / 2, SPAN / 2, 400)
    ax.plot(xs, a * np.cosh(xs / a) + c, "--", color="tab:orange", lw=1, label="catenary")
    plot_network_2d(ax, x, net)
    ax.set_title(f"Hanging chain, {n} masses: max deviation from catenary {dev:.1e}")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")
    return dev


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="the figure to write")
    parser.add_argument("--smoke", action="store_true", help="a small, fast version (tests)")
    args = parser.parse_args()
    main(args.out, smoke=args.smoke)


if __name__ == "__main__":
    cli()
