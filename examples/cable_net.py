"""A square cable net hanging from its four corners, relaxed by Newton in 3D.

20 x 20 nodes on a unit grid, cables of stiffness 50 and rest length 0.9 (so
the flat start is pre-tensioned), weight about 0.2 per node. Prints the sag,
the largest cable force and the corner reactions (they carry the whole
weight), and writes docs/img/cable_net.png.

Run: python examples/cable_net.py [--out FIG.png] [--smoke]
"""

import argparse
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import catenax  # noqa: E402
from catenax.plot import plot_network_3d  # noqa: E402

IMG = Path(__file__).resolve().parents[1] / "docs" / "img" / "cable_net.png"


def main(out=IMG, smoke=False):
    """Relax the net, print its checks, draw it to ``out``; ``smoke``: 6 x 6 nodes."""
    n = 6 if smoke else 20
    net = catenax.net(n, n, supports="corners", stiffness=50.0, rest_length=0.9, mass=0.02)
    r = catenax.minimize(catenax.network_energy, net.positions, net,
                         free=catenax.free_mask(net), method="newton")  # fmt: skip
    d = catenax.result_to_dict(r, net)
    x = np.asarray(d["positions"])
    react = np.array([rr["force"] for rr in d["reactions"]])
    weight = float(np.sum(net.mass)) * 9.81
    print(f"{r.status} in {r.steps} steps: sag {-x[:, 2].min():.3f}, "
          f"max cable force {max(d['tensions']):.3f}, slack cables "
          f"{sum(t == 0 for t in d['tensions'])}")  # fmt: skip
    print(f"corner reactions carry {react[:, 2].sum():.6f} of the weight {weight:.6f}")

    fig = Figure(figsize=(7, 6))
    ax = fig.add_subplot(projection="3d")
    plot_network_3d(ax, x, net)
    ax.view_init(elev=25, azim=-60)
    ax.set_title("Cable net hanging from its corners (colour: cable force)")
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")
    return r, react[:, 2].sum(), weight


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="the figure to write")
    parser.add_argument("--smoke", action="store_true", help="a small, fast version (tests)")
    args = parser.parse_args()
    main(args.out, smoke=args.smoke)


if __name__ == "__main__":
    cli()
