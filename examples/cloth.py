"""A square of cloth draped over two parallel rods.

A 21 x 21 cloth (structural, shear and bending springs) rests on two rods:
the nodes of columns 6 and 14 are held in place, the rest hangs under gravity.
Writes docs/img/cloth.png.

Run: python examples/cloth.py
"""

from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import catenax  # noqa: E402
from catenax.plot.network import plot_network_3d  # noqa: E402

ROWS = COLS = 21


IMG = Path(__file__).resolve().parents[1] / "docs" / "img" / "cloth.png"


def main(out=IMG):
    idx = np.arange(ROWS * COLS).reshape(ROWS, COLS)
    rods = np.concatenate([idx[:, 6], idx[:, 14]]).tolist()
    net = catenax.cloth(ROWS, COLS, spacing=0.05, supports=rods, stiffness=400.0,
                        bending_stiffness=2.0, mass=0.001)  # fmt: skip
    r = catenax.minimize(catenax.network_energy, net.positions, net,
                         free=catenax.free_mask(net), method="newton", max_steps=500)  # fmt: skip
    x = np.asarray(r.positions)
    print(f"{r.status} in {r.steps} steps; the flaps hang {-x[:, 2].min():.3f} below the rods")

    fig = plt.figure(figsize=(7, 6))
    ax = fig.add_subplot(projection="3d")
    plot_network_3d(ax, x, net)
    ax.view_init(elev=22, azim=-55)
    ax.set_title("Cloth draped over two rods (colour: tension)")
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")
    return r


if __name__ == "__main__":
    main()
