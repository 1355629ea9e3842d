"""Figures of spring networks: springs coloured by tension, supports, loads.

What the colours, markers and arrows mean (the colour scale spans the data;
compression blue, tension red; pins and rollers; units on the axes) is the
rule of :mod:`catenax.plot.network_marks`, shared by every figure here.
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
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.collections import LineCollection
from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

from catenax.io import atomic_write, check_output_path
from catenax.model import Network, fixed_coordinates
from catenax.model import tensions as spring_tensions

from .figure import blank_figure, save_figure
from .network_marks import (
    axis_label,
    draw_loads,
    draw_supports,
    face_corners,
    set_equal_3d,
    tension_label,
    tension_norm,
)

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


def plot_network_2d(
    ax,
    x,
    net: Network,
    tensions=None,
    colorbar: bool = True,
    loads: bool = True,
    cmap: str = "viridis",
    linewidth: float = 2.0,
    units: dict | None = None,
):
    """Draw a 2D network: springs coloured by tension, supports by type, load arrows.

    Colours, markers and arrows follow :mod:`catenax.plot.network_marks`: the
    colour bar spans the tensions' min..max; members in compression are blue
    and those in tension red when any member is in compression; pins are
    filled triangles, rollers open circles (both in the legend); lengths are
    drawn to equal scale.

    Args:
        ax: a matplotlib axes.
        x: node positions, shape ``(n, 2)``.
        net: the network.
        tensions: spring forces to colour by (default: computed at ``x``).
        colorbar: add a colour bar labelled "tension [force unit]".
        loads: draw point loads as arrows.
        cmap: colour map when no member is in compression.
        linewidth: spring line width.
        units: ``None`` or ``{"length": ..., "force": ...}`` for the labels.

    Returns:
        The :class:`~matplotlib.collections.LineCollection` of the springs.

    Example:
        >>> import catenax
        >>> from catenax.plot import new_figure, plot_network_2d
        >>> net = catenax.chain2d(5)
        >>> fig, ax = new_figure()
        >>> lc = plot_network_2d(ax, net.positions, net, units={"length": "m", "force": "N"})
        >>> len(lc.get_segments()), ax.get_xlabel()
        (6, 'x [m]')
    """
    x = np.asarray(x, dtype=float)
    springs = np.asarray(net.springs)
    t = _tensions(x, net) if tensions is None else np.asarray(tensions, dtype=float)
    norm, cmap = tension_norm(t, cmap)
    lc = LineCollection(x[springs], array=t, cmap=cmap, norm=norm, linewidths=linewidth)
    ax.add_collection(lc)
    free = ~fixed_coordinates(net).any(axis=1)
    ax.plot(x[free, 0], x[free, 1], "o", ms=3, color="0.2", zorder=3)
    marks = draw_supports(ax, x, net)
    if loads:
        arrows, tips = draw_loads(ax, x, net)
        if arrows is not None:
            marks.append(arrows)
            ax.update_datalim(tips)
    ax.update_datalim(x)
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(axis_label("x", units))
    ax.set_ylabel(axis_label("y", units))
    if marks:
        ax.legend(handles=marks, loc="best", fontsize="small")
    if colorbar:
        ax.figure.colorbar(lc, ax=ax, label=tension_label(units))
    return lc


def _face_tensions(net: Network, t):
    """Mean tension of the springs along each face's edges (NaN where an edge has none)."""
    springs = np.asarray(net.springs)
    faces = face_corners(net.faces)
    lookup = {(min(a, b), max(a, b)): k for k, (a, b) in enumerate(springs.tolist())}
    out = np.full(len(faces), np.nan)
    for f, quad in enumerate(faces):
        ks = [
            lookup.get((min(a, b), max(a, b)))
            for a, b in zip(quad, quad[1:] + quad[:1], strict=True)
        ]
        ks = [k for k in ks if k is not None]
        if ks:
            out[f] = float(np.mean(t[ks]))
    return out


def _is_sheet(net: Network) -> bool:
    """A sheet (cloth): faces, and springs across them (shear or bending), not only edges."""
    faces = face_corners(net.faces)
    if not faces:
        return False
    edges = {
        (min(a, b), max(a, b))
        for quad in faces
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
    loads: bool = True,
    units: dict | None = None,
):
    """Draw a 3D network coloured by tension: a wireframe, or a surface for a sheet.

    The wireframe draws every spring as a line coloured by its tension; the
    surface (for cloth) fills each face of ``net.faces`` (any number of
    corners; ``-1`` padding is dropped), coloured by the mean tension of the
    springs along its edges, with thin edges on top. Colours, supports (pins
    and rollers), load arrows and the equal scale of the axes follow
    :mod:`catenax.plot.network_marks`: the colour bar spans the data's
    min..max, compression is blue and tension red when any member is in
    compression, and the box aspect is the data's ranges.

    Args:
        ax: a 3D axes (``fig.add_subplot(projection="3d")``).
        x: node positions, shape ``(n, 3)``.
        net: the network.
        tensions: spring forces to colour by (default: computed at ``x``).
        colorbar: add a colour bar labelled "tension [force unit]".
        cmap: colour map when no member is in compression.
        linewidth: line width of the wireframe.
        surface: draw the faces as a surface; ``None`` (default) does so for a
            sheet: a network with faces and springs across them (shear or
            bending springs, as :func:`catenax.cloth` makes).
        loads: draw point loads as arrows.
        units: ``None`` or ``{"length": ..., "force": ...}`` for the labels.

    Returns:
        The collection coloured by tension: a
        :class:`~mpl_toolkits.mplot3d.art3d.Line3DCollection` of the springs,
        or a :class:`~mpl_toolkits.mplot3d.art3d.Poly3DCollection` of the faces.

    Example:
        >>> import catenax
        >>> from matplotlib.figure import Figure
        >>> from catenax.plot import plot_network_3d
        >>> net = catenax.net(3, 3)
        >>> ax = Figure().add_subplot(projection="3d")
        >>> plot_network_3d(ax, net.positions, net, units={"length": "m"}).get_array().shape
        (12,)
        >>> ax.get_zlabel()
        'z [m]'
    """
    x = np.asarray(x, dtype=float)
    springs = np.asarray(net.springs)
    t = _tensions(x, net) if tensions is None else np.asarray(tensions, dtype=float)
    if surface is None:
        surface = _is_sheet(net)
    faces = face_corners(net.faces)
    if surface and faces:
        values = _face_tensions(net, t)
        norm, cmap = tension_norm(values, cmap)
        coll = Poly3DCollection(
            [x[f] for f in faces], array=values, cmap=cmap, norm=norm,
            edgecolors=(0, 0, 0, 0.25), linewidths=0.3,
        )  # fmt: skip
        ax.add_collection3d(coll)
        label = tension_label(units, "mean over each face's edges")
    else:
        norm, cmap = tension_norm(t, cmap)
        coll = Line3DCollection(x[springs], array=t, cmap=cmap, norm=norm, linewidths=linewidth)
        ax.add_collection3d(coll)
        label = tension_label(units)
    n_sup = int(fixed_coordinates(net).any(axis=1).sum())
    marks = draw_supports(ax, x, net, size=8.0 if n_sup <= 20 else 3.5)
    tips = np.zeros((0, 3))
    if loads:
        arrows, tips = draw_loads(ax, x, net)
        if arrows is not None:
            marks.append(arrows)
    set_equal_3d(ax, np.concatenate([x, tips]))
    ax.set_xlabel(axis_label("x", units))
    ax.set_ylabel(axis_label("y", units))
    ax.set_zlabel(axis_label("z", units))
    if marks:
        ax.legend(handles=marks, loc="upper left", fontsize="small")
    if colorbar:
        ax.figure.colorbar(coll, ax=ax, label=label, shrink=0.6, pad=0.12)  # clear of z's label
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
    path: str | os.PathLike,
    x,
    net: Network,
    title: str | None = None,
    units: dict | None = None,
    dpi: int = 100,
) -> Path:
    """Draw ``x`` (the relaxed network) and save it atomically (.png, .svg or .pdf).

    Args:
        path: destination; its folder must exist.
        x: node positions, shape ``(n, d)``.
        net: the network.
        title: optional title.
        units: ``None`` or ``{"length": ..., "force": ...}`` (axis and colour-bar labels).
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
    plot_network(ax, x, net, units=units)
    if net.dim == 2:
        fig.tight_layout()
    return save_figure(fig, path, dpi=dpi)


def animate_network(
    path: str | os.PathLike,
    iterates,
    net: Network,
    steps=None,
    fps: int = 10,
    dpi: int = 80,
    units: dict | None = None,
) -> Path:
    """Write a GIF of a network relaxing: one frame per recorded iterate.

    The colour scale spans the values of every frame (the rule of
    :mod:`catenax.plot.network_marks`), and the axes hold every frame.

    Args:
        path: destination ``.gif``; its folder must exist.
        iterates: positions, shape ``(k, n, d)`` (e.g. ``result.iterates`` of
            :func:`catenax.minimize` with ``record_every``).
        net: the network.
        steps: optional step number of each frame (shown as a counter).
        fps: frames per second.
        dpi: resolution.
        units: ``None`` or ``{"length": ..., "force": ...}`` (axis and colour-bar labels).

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
    coll = plot_network(ax, frames[-1], net, tensions=t_all[-1], units=units)
    faces = face_corners(net.faces)
    sheet = net.dim == 3 and not hasattr(coll, "set_segments")
    values = np.stack([_face_tensions(net, t) for t in t_all]) if sheet else t_all
    norm, cmap = tension_norm(values)
    coll.set_norm(norm)
    coll.set_cmap(cmap)
    _fit_limits(ax, frames)
    label = ax.set_title("")
    springs = np.asarray(net.springs)

    def update(k):
        if sheet:
            coll.set_verts([frames[k][f] for f in faces])
        else:
            coll.set_segments(frames[k][springs])
        coll.set_array(values[k])
        label.set_text(f"step {int(steps[k]) if steps is not None else k}")
        return (coll, label)

    anim = FuncAnimation(fig, update, frames=len(frames), blit=False)
    return atomic_write(path, lambda tmp: anim.save(tmp, writer=PillowWriter(fps=fps), dpi=dpi))


def _fit_limits(ax, frames) -> None:
    """Axis limits that hold every frame (equal scales)."""
    if frames.shape[-1] == 3:
        set_equal_3d(ax, frames)
    else:
        ax.update_datalim(frames.reshape(-1, 2))
        ax.autoscale_view()
