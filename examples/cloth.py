"""A square of cloth draped over two parallel rods.

A 21 x 21 cloth (structural, shear and bending springs) rests on two rods:
the nodes of columns 6 and 14 are held in place, the rest hangs under gravity.
Writes docs/img/cloth.png.

Run: python examples/cloth.py [--out FIG.png] [--smoke]
"""

import argparse
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import catenax  # noqa: E402
from catenax.plot import plot_network_3d  # noqa: E402

ROWS = COLS = 21


IMG = Path(__file__).resolve().parents[1] / "docs" / "img" / "cloth.png"


def main(out=IMG, smoke=False):
    """Drape the cloth, print the sag, draw it to ``out``; ``smoke``: 9 x 9 nodes."""
    rows = cols = 9 if smoke else ROWS
    idx = np.arange(rows * cols).reshape(rows, cols)
    rods = np.concatenate([idx[:, cols * 6 // 21], idx[:, cols * 14 // 21]]).tolist()
    net = catenax.cloth(rows, cols, spacing=0.05, supports=rods, stiffness=400.0,
                        bending_stiffness=2.0, mass=0.001)  # fmt: skip
    r = catenax.minimize(catenax.network_energy, net.positions, net,
                         free=catenax.free_mask(net), method="newton", max_steps=500)  # fmt: skip
    x = np.asarray(r.positions)
    print(f"{r.status} in {r.steps} steps; the flaps hang {-x[:, 2].min():.3f} below the rods")

    fig = Figure(figsize=(7, 6))
    ax = fig.add_subplot(projection="3d")
    plot_network_3d(ax, x, net)
    ax.view_init(elev=22, azim=-55)
    ax.set_title("Cloth draped over two rods (colour: tension)")
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")
    return r


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="the figure to write")
    parser.add_argument("--smoke", action="store_true", help="a small, fast version (tests)")
    args = parser.parse_args()
    main(args.out, smoke=args.smoke)


if __name__ == "__main__":
    cli()
