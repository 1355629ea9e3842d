"""Figures of spring networks: springs coloured by tension, supports, loads.

Every function draws on a matplotlib ``ax`` it is given (a 3D axes for
:func:`plot_network_3d`), so the CLI and notebooks stay in charge of figures.
:func:`save_network_plot` and :func:`animate_network` make their own
off-screen figure (never pyplot's) and write it atomically (PNG, SVG or PDF
by suffix; GIF for the animation). The core of catenax never imports this.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax.numpy as jnp
import matplotlib as mpl
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.collections import LineCollection
from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

from catenax.io import atomic_write, check_output_path
from catenax.model import Network, fixed_coordinates
from catenax.model import tensions as spring_tensions

from .figure import blank_figure, save_figure

__all__ = [
    "animate_network",
    "plot_network",
    "plot_network_2d",
    "plot_network_3d",
    "save_network_plot",
]

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def _tensions(x, net):
    return np.asarray(spring_tensions(jnp.asarray(x, net.positions.dtype), net))


def _norm(values, cmap_name):
    vmin, vmax = float(np.min(values, initial=0.0)), float(np.max(values, initial=0.0))
    if vmin < 0 < vmax:  # tension and compression: centre the colours on 0
        m = max(-vmin, vmax)
        return mpl.colors.TwoSlopeNorm(0.0, -m, m), "coolwarm"
    if vmax <= vmin:
        vmax = vmin + 1.0
    return mpl.colors.Normalize(vmin, vmax), cmap_name


def plot_network_2d(
    ax,
    x,
    net: Network,
    tensions=None,
    colorbar: bool = True,
    loads: bool = True,
    cmap: str = "viridis",
    linewidth: float = 2.0,
):
    """Draw a 2D network: springs coloured by tension, supports, load arrows.

    Args:
        ax: a matplotlib axes.
        x: node positions, shape ``(n, 2)``.
        net: the network.
        tensions: spring forces to colour by (default: computed at ``x``).
        colorbar: add a colour bar labelled "tension".
        loads: draw point loads as arrows.
        cmap: colour map (``coolwarm`` centred on 0 when there is compression).
        linewidth: spring line width.

    Returns:
        The :class:`~matplotlib.collections.LineCollection` of the springs.

    Example:
        >>> import catenax
        >>> from catenax.plot import new_figure, plot_network_2d
        >>> net = catenax.chain2d(5)
        >>> fig, ax = new_figure()
        >>> lc = plot_network_2d(ax, net.positions, net)
        >>> len(lc.get_segments())
        6
    """
    x = np.asarray(x, dtype=float)
    springs = np.asarray(net.springs)
    t = _tensions(x, net) if tensions is None else np.asarray(tensions, dtype=float)
    norm, cmap = _norm(t, cmap)
    lc = LineCollection(x[springs], array=t, cmap=cmap, norm=norm, linewidths=linewidth)
    ax.add_collection(lc)
    free = ~fixed_coordinates(net).any(axis=1)
    ax.plot(x[free, 0], x[free, 1], "o", ms=3, color="0.2", zorder=3)
    sup = ~free
    ax.plot(x[sup, 0], x[sup, 1], "^", ms=9, color="tab:red", zorder=4, label="support", ls="none")
    f = np.asarray(net.loads)
    has = np.linalg.norm(f, axis=1) > 0
    if loads and has.any():
        span = float(np.ptp(x, axis=0).max()) or 1.0
        scale = 0.15 * span / np.linalg.norm(f[has], axis=1).max()
        ax.quiver(
            x[has, 0], x[has, 1], f[has, 0] * scale, f[has, 1] * scale,
            angles="xy", scale_units="xy", scale=1.0, color="tab:orange", zorder=5,
            width=0.004, label="load",
        )  # fmt: skip
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if colorbar:
        ax.figure.colorbar(lc, ax=ax, label="tension")
    return lc


def _face_tensions(net: Network, t):
    """Mean tension of the springs along each quad's edges (NaN where an edge has none)."""
    springs = np.asarray(net.springs)
    faces = np.asarray(net.faces)
    lookup = {(min(a, b), max(a, b)): k for k, (a, b) in enumerate(springs.tolist())}
    out = np.full(len(faces), np.nan)
    for f, quad in enumerate(faces.tolist()):
        ks = [
            lookup.get((min(a, b), max(a, b)))
            for a, b in zip(quad, quad[1:] + quad[:1], strict=True)
        ]
        ks = [k for k in ks if k is not None]
        if ks:
            out[f] = float(np.mean(t[ks]))
    return out


def _is_sheet(net: Network) -> bool:
    """A sheet (cloth): quads, and springs across them (shear or bending), not only edges."""
    faces = np.asarray(net.faces)
    if faces.size == 0:
        return False
    edges = {
        (min(a, b), max(a, b))
        for quad in faces.tolist()
        for a, b in zip(quad, quad[1:] + quad[:1], strict=True)
    }
    return any((min(a, b), max(a, b)) not in edges for a, b in np.asarray(net.springs).tolist())


def plot_network_3d(
    ax,
    x,
    net: Network,
    tensions=None,
    colorbar: bool = True,
    cmap: str = "viridis",
    linewidth: float = 1.2,
    surface: bool | None = None,
):
    """Draw a 3D network coloured by tension: a wireframe, or a surface for a sheet.

    The wireframe draws every spring as a line coloured by its tension; the
    surface (for cloth) fills each quad of ``net.faces``, coloured by the mean
    tension of the springs along its edges, with thin grid lines on top. The
    colour scale runs from the smallest to the largest value with a sequential
    colour map, so small forces stay visible (a negative end of the colour bar
    means compression). Supports are marked with red triangles.

    Args:
        ax: a 3D axes (``fig.add_subplot(projection="3d")``).
        x: node positions, shape ``(n, 3)``.
        net: the network.
        tensions: spring forces to colour by (default: computed at ``x``).
        colorbar: add a colour bar labelled "tension".
        cmap: colour map.
        linewidth: line width of the wireframe.
        surface: draw the quads as a surface; ``None`` (default) does so for a
            sheet: a network with quads and springs across them (shear or
            bending springs, as :func:`catenax.cloth` makes).

    Returns:
        The collection coloured by tension: a
        :class:`~mpl_toolkits.mplot3d.art3d.Line3DCollection` of the springs,
        or a :class:`~mpl_toolkits.mplot3d.art3d.Poly3DCollection` of the quads.

    Example:
        >>> import catenax
        >>> from matplotlib.figure import Figure
        >>> from catenax.plot import plot_network_3d
        >>> net = catenax.net(3, 3)
        >>> ax = Figure().add_subplot(projection="3d")
        >>> plot_network_3d(ax, net.positions, net).get_array().shape
        (12,)
    """
    x = np.asarray(x, dtype=float)
    springs = np.asarray(net.springs)
    t = _tensions(x, net) if tensions is None else np.asarray(tensions, dtype=float)
    if surface is None:
        surface = _is_sheet(net)
    faces = np.asarray(net.faces)
    if surface and faces.size:
        values = _face_tensions(net, t)
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        norm = mpl.colors.Normalize(lo, hi if hi > lo else lo + 1.0)
        coll = Poly3DCollection(
            x[faces], array=values, cmap=cmap, norm=norm, edgecolors=(0, 0, 0, 0.25),
            linewidths=0.3,
        )  # fmt: skip
        ax.add_collection3d(coll)
        label = "tension (mean over each quad's edges)"
    else:
        lo, hi = float(np.min(t, initial=0.0)), float(np.max(t, initial=0.0))
        norm = mpl.colors.Normalize(lo, hi if hi > lo else lo + 1.0)
        coll = Line3DCollection(x[springs], array=t, cmap=cmap, norm=norm, linewidths=linewidth)
        ax.add_collection3d(coll)
        label = "tension"
    sup = fixed_coordinates(net).any(axis=1)
    size = 40 if sup.sum() <= 20 else 8
    ax.scatter(
        x[sup, 0], x[sup, 1], x[sup, 2], marker="^", s=size, color="tab:red", depthshade=False
    )
    lo, hi = x.min(axis=0), x.max(axis=0)
    mid, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1e-9)
    ax.set_xlim(mid[0] - half, mid[0] + half)
    ax.set_ylim(mid[1] - half, mid[1] + half)
    ax.set_zlim(mid[2] - half, mid[2] + half)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel("z")
    if colorbar:
        ax.figure.colorbar(coll, ax=ax, label=label, shrink=0.7)
    return coll


def plot_network(ax, x, net: Network, **kwargs):
    """Draw a network on ``ax``: :func:`plot_network_2d` or :func:`plot_network_3d` by dimension.

    Args:
        ax: a matplotlib axes (3D for a 3D network).
        x: node positions, shape ``(n, d)``.
        net: the network.
        **kwargs: passed on.

    Returns:
        The springs' line collection.

    Example:
        >>> import catenax
        >>> from catenax.plot import new_figure, plot_network
        >>> net = catenax.chain2d(3)
        >>> _ = plot_network(new_figure()[1], net.positions, net)
    """
    if np.asarray(x).shape[1] == 3:
        return plot_network_3d(ax, x, net, **kwargs)
    return plot_network_2d(ax, x, net, **kwargs)


def _figure(net, title):
    fig = blank_figure((7, 5) if net.dim == 2 else (7, 6))
    ax = fig.add_subplot(projection="3d" if net.dim == 3 else None)
    if title:
        ax.set_title(title)
    return fig, ax


def save_network_plot(
    path: str | os.PathLike, x, net: Network, title: str | None = None, dpi: int = 100
) -> Path:
    """Draw ``x`` (the relaxed network) and save it atomically (.png, .svg or .pdf).

    Args:
        path: destination; its folder must exist.
        x: node positions, shape ``(n, d)``.
        net: the network.
        title: optional title.
        dpi: resolution of raster output.

    Returns:
        The destination as a :class:`~pathlib.Path`.

    Raises:
        ValueError: unknown suffix or missing folder.

    Example:
        >>> import catenax, tempfile, pathlib
        >>> from catenax.plot import save_network_plot
        >>> net = catenax.chain2d(4)
        >>> p = save_network_plot(pathlib.Path(tempfile.mkdtemp()) / "c.png", net.positions, net)
        >>> p.stat().st_size > 0
        True
    """
    path = check_output_path(path, PLOT_SUFFIXES, "plot")
    fig, ax = _figure(net, title)
    plot_network(ax, x, net)
    if net.dim == 2:
        fig.tight_layout()
    return save_figure(fig, path, dpi=dpi)


def animate_network(
    path: str | os.PathLike, iterates, net: Network, steps=None, fps: int = 10, dpi: int = 80
) -> Path:
    """Write a GIF of a network relaxing: one frame per recorded iterate.

    Args:
        path: destination ``.gif``; its folder must exist.
        iterates: positions, shape ``(k, n, d)`` (e.g. ``result.iterates`` of
            :func:`catenax.minimize` with ``record_every``).
        net: the network.
        steps: optional step number of each frame (shown as a counter).
        fps: frames per second.
        dpi: resolution.

    Returns:
        The destination as a :class:`~pathlib.Path`.

    Raises:
        ValueError: unknown suffix, missing folder or no iterates.

    Example:
        >>> import catenax, tempfile, pathlib, numpy as np
        >>> from catenax.plot import animate_network
        >>> net = catenax.chain2d(3)
        >>> frames = np.stack([net.positions] * 2)
        >>> p = animate_network(pathlib.Path(tempfile.mkdtemp()) / "a.gif", frames, net)
        >>> p.stat().st_size > 0
        True
    """
    path = check_output_path(path, (".gif",), "animate")
    frames = np.asarray(iterates, dtype=float)
    if frames.ndim != 3 or frames.shape[0] == 0:
        raise ValueError("iterates: need positions of shape (k, n, d) with k >= 1")
    fig, ax = _figure(net, None)
    t_all = np.stack([_tensions(f, net) for f in frames])
    coll = plot_network(ax, frames[-1], net, tensions=t_all[-1])
    faces = np.asarray(net.faces)
    sheet = net.dim == 3 and not hasattr(coll, "set_segments")
    values = np.stack([_face_tensions(net, t) for t in t_all]) if sheet else t_all
    finite = values[np.isfinite(values)]
    if finite.size and finite.max() > finite.min():
        coll.set_clim(float(finite.min()), float(finite.max()))
    _fit_limits(ax, frames)
    label = ax.set_title("")
    springs = np.asarray(net.springs)

    def update(k):
        if sheet:
            coll.set_verts(frames[k][faces])
        else:
            coll.set_segments(frames[k][springs])
        coll.set_array(values[k])
        label.set_text(f"step {int(steps[k]) if steps is not None else k}")
        return (coll, label)

    anim = FuncAnimation(fig, update, frames=len(frames), blit=False)
    return atomic_write(path, lambda tmp: anim.save(tmp, writer=PillowWriter(fps=fps), dpi=dpi))


def _fit_limits(ax, frames) -> None:
    """Axis limits that hold every frame (equal scales in 3D)."""
    lo = frames.reshape(-1, frames.shape[-1]).min(axis=0)
    hi = frames.reshape(-1, frames.shape[-1]).max(axis=0)
    if frames.shape[-1] == 3:
        mid, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1e-9)
        ax.set_xlim(mid[0] - half, mid[0] + half)
        ax.set_ylim(mid[1] - half, mid[1] + half)
        ax.set_zlim(mid[2] - half, mid[2] + half)
    else:
        ax.update_datalim(frames.reshape(-1, 2))
        ax.autoscale_view()
