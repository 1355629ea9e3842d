"""Figures of sweeps: shapes against one parameter, heat maps over two.

The drawing functions take a ``fig`` (their layouts have several axes) and
return the axes; :func:`save_sweep_plot` makes its own off-screen figure
(never pyplot's) and writes it atomically.

* One varied parameter: the final shapes overlaid, coloured by the parameter
  (a colour bar), beside the summary numbers against it: lowest point, energy
  and largest tension, and the lowest Hessian eigenvalue at the result and at
  the start. Where the start has negative curvature (for the lesson chain,
  ``l > 1``: the problem is non-convex) the background is shaded, and cases
  that did not converge to a stable minimum are marked.
* Two varied parameters: heat maps of energy, lowest point and the stability
  verdict (stable minimum / saddle / not converged / diverged); hatched where
  the start sits on negative curvature, dotted where multistart found several
  minima.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from .figure import blank_figure, save_figure

__all__ = ["plot_heatmaps", "plot_one_parameter", "save_sweep_plot"]

#: Categories of the stability map: (label, colour).
VERDICTS = (
    ("stable minimum", "#4c9a2a"),
    ("saddle", "#e6a100"),
    ("not converged", "#8c8c8c"),
    ("diverged", "#c0392b"),
)


def _verdict_codes(status) -> np.ndarray:
    status = np.asarray(status).astype(str)
    code = np.full(status.shape, 2)
    code[status == "converged"] = 0
    code[status == "saddle"] = 1
    code[status == "diverged"] = 3
    return code


def _runs(mask):
    """Contiguous runs of True as (first, last) index pairs."""
    out, start = [], None
    for i, m in enumerate(np.asarray(mask, bool).tolist() + [False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            out.append((start, i - 1))
            start = None
    return out


def _shade_nonconvex(ax, p, start_eig, label=True):
    neg = np.asarray(start_eig) < 0
    if not neg.any() or len(p) < 2:
        return
    edges = np.concatenate([[p[0]], 0.5 * (p[1:] + p[:-1]), [p[-1]]])
    for k, (a, b) in enumerate(_runs(neg)):
        ax.axvspan(
            edges[a], edges[b + 1], color="0.85", zorder=0,
            label="start on negative curvature" if (label and k == 0) else None,
        )  # fmt: skip


def _shape_lines(ax, sample, name, values, kind, cmap):
    norm = Normalize(vmin=float(np.min(values)), vmax=float(np.max(values)))
    if np.isclose(norm.vmin, norm.vmax):
        norm = Normalize(vmin=norm.vmin - 0.5, vmax=norm.vmax + 0.5)
    colors = cmap(norm(np.asarray(sample[name], float)))
    for x, c in zip(sample["positions"], colors, strict=True):
        x = np.asarray(x, float)
        if kind == "chain":
            y = np.concatenate([[0.0], x[np.isfinite(x)], [0.0]])
            ax.plot(np.arange(len(y)), y, color=c, lw=1.2)
        else:
            ax.plot(x[:, 0], x[:, -1], ".", color=c, ms=2)
    sm = ScalarMappable(norm=norm, cmap=cmap)
    ax.figure.colorbar(sm, ax=ax, label=name)
    if kind == "chain":
        ax.set_xlabel("x (mass index; ends pinned at 0 and N+1)")
        ax.set_ylabel("height y")
        ax.set_title("Chain under gravity: equilibrium shapes")
    else:
        ax.set_xlabel("first coordinate")
        ax.set_ylabel("last coordinate (height)")
        ax.set_title("Equilibrium node positions")


def plot_one_parameter(fig, table: dict, name: str, sample: dict | None, kind: str = "chain"):
    """Draw a 1-parameter sweep: shapes coloured by ``name`` plus summary curves.

    Args:
        fig: a matplotlib Figure (cleared axes are added to it).
        table: the sweep's columns (``status``, ``energy``, ``lowest``, ...).
        name: the varied parameter (a column of ``table``).
        sample: ``{"positions": [...], name: values}`` of the shapes to draw,
            or ``None`` to draw summary curves only.
        kind: ``"chain"`` or ``"network"``.

    Returns:
        The list of Axes.

    Example:
        >>> from matplotlib.figure import Figure
        >>> fig = Figure()
        >>> t = {"length": np.array([0.8, 1.2]), "status": np.array(["converged", "saddle"]),
        ...      "energy": np.array([-1.0, -9.0]), "lowest": np.array([-4.0, -9.0]),
        ...      "max_tension": np.array([1.0, 2.0]), "min_eigenvalue": np.array([0.1, -0.1]),
        ...      "start_min_eigenvalue": np.array([0.02, -3.9])}
        >>> len(plot_one_parameter(fig, t, "length", None))
        3
    """
    p = np.asarray(table[name], float)
    order = np.argsort(p, kind="stable")
    p = p[order]
    col = {k: np.asarray(v)[order] for k, v in table.items()}
    cmap = mpl.colormaps["viridis"]
    if sample is not None:
        gs = fig.add_gridspec(3, 2, width_ratios=(1.5, 1.0))
        ax_shapes = fig.add_subplot(gs[:, 0])
        _shape_lines(ax_shapes, sample, name, p, kind, cmap)
        right = [fig.add_subplot(gs[i, 1]) for i in range(3)]
    else:
        right = [fig.add_subplot(3, 1, i + 1) for i in range(3)]
    ax_low, ax_e, ax_eig = right
    start_eig = col.get("start_min_eigenvalue", np.full(p.shape, np.nan))
    bad = _verdict_codes(col["status"]) != 0
    for k, ax in enumerate(right):
        _shade_nonconvex(ax, p, start_eig, label=(k == 0))
    ax_low.plot(p, col["lowest"], "-", color="C0", label="lowest point")
    ax_low.set_ylabel("lowest point")
    if bad.any():
        ax_low.plot(p[bad], col["lowest"][bad], "x", color="C3", label="not a stable minimum")
    ax_low.legend(fontsize="small", loc="best")
    ax_e.plot(p, col["energy"], "-", color="C1")
    ax_e.set_ylabel("energy", color="C1")
    ax_t = ax_e.twinx()
    ax_t.plot(p, col["max_tension"], "--", color="C2")
    ax_t.set_ylabel("largest tension", color="C2")
    ax_eig.plot(p, col["min_eigenvalue"], "-", color="C4", label="at the result")
    ax_eig.plot(p, start_eig, ":", color="C5", label="at the start")
    ax_eig.axhline(0.0, color="k", lw=0.6)
    ax_eig.set_yscale("symlog", linthresh=1e-2)
    ax_eig.set_ylabel("lowest eigenvalue")
    ax_eig.legend(fontsize="small", loc="best")
    for ax in right:
        ax.set_xlabel(name)
    return ([ax_shapes] if sample is not None else []) + right


def _edges(v):
    v = np.asarray(v, float)
    if len(v) == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5]), True
    if not (np.all(np.diff(v) > 0) or np.all(np.diff(v) < 0)):
        return np.arange(len(v) + 1) - 0.5, False
    mid = 0.5 * (v[1:] + v[:-1])
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]]), True


def plot_heatmaps(fig, table: dict, names, shape):
    """Draw a 2-parameter sweep: heat maps of energy, lowest point and stability.

    Args:
        fig: a matplotlib Figure.
        table: the sweep's columns, in case order (first parameter slowest).
        names: the two varied parameters ``(rows, columns)``.
        shape: the grid's shape over them.

    Returns:
        The three Axes.

    Example:
        >>> from matplotlib.figure import Figure
        >>> fig = Figure()
        >>> t = {"a": np.repeat([1.0, 2.0], 2), "b": np.tile([0.5, 1.5], 2),
        ...      "status": np.array(["converged"] * 4), "energy": np.arange(4.0),
        ...      "lowest": -np.arange(4.0), "start_min_eigenvalue": np.array([1, -1, 1, -1.0])}
        >>> len(plot_heatmaps(fig, t, ("a", "b"), (2, 2)))
        3
    """
    a, b = names
    va = np.asarray(table[a], float).reshape(shape)[:, 0]
    vb = np.asarray(table[b], float).reshape(shape)[0, :]
    ea, ok_a = _edges(va)
    eb, ok_b = _edges(vb)
    axes = fig.subplots(1, 3, sharey=True)
    grid = {k: np.asarray(v).reshape(shape) for k, v in table.items()}
    for ax, key, label, cmap in (
        (axes[0], "energy", "energy", "viridis"),
        (axes[1], "lowest", "lowest point", "magma"),
    ):
        m = ax.pcolormesh(eb, ea, np.asarray(grid[key], float), cmap=cmap, shading="flat")
        fig.colorbar(m, ax=ax, label=label, shrink=0.9)
        ax.set_title(label)
    code = _verdict_codes(grid["status"])
    cmap = ListedColormap([c for _, c in VERDICTS])
    axes[2].pcolormesh(eb, ea, code, cmap=cmap, vmin=-0.5, vmax=3.5, shading="flat")
    axes[2].set_title("stability")
    handles = [Rectangle((0, 0), 1, 1, color=c) for _, c in VERDICTS]
    labels = [t for t, _ in VERDICTS]
    cb, ca = 0.5 * (eb[1:] + eb[:-1]), 0.5 * (ea[1:] + ea[:-1])
    if "start_min_eigenvalue" in grid:
        neg = np.asarray(grid["start_min_eigenvalue"], float) < 0
        if neg.any():
            for ax in axes:
                ax.contourf(cb, ca, neg.astype(float), levels=[0.5, 1.5], colors="none",
                            hatches=["//"])  # fmt: skip
            handles.append(Rectangle((0, 0), 1, 1, fill=False, hatch="//"))
            labels.append("start on negative curvature")
    if "n_minima" in grid:
        several = np.asarray(grid["n_minima"], float) > 1
        if several.any():
            yy, xx = np.meshgrid(ca, cb, indexing="ij")
            axes[2].plot(xx[several], yy[several], "k.", ms=3)
            handles.append(Line2D([], [], color="k", marker=".", ls=""))
            labels.append("several minima (multistart)")
    axes[2].legend(handles, labels, fontsize="small", loc="upper left",
                   bbox_to_anchor=(1.02, 1.0))  # fmt: skip
    for ax in axes:
        ax.set_xlabel(b)
        if not ok_b:
            ax.set_xticks(range(len(vb)), [f"{v:g}" for v in vb])
    axes[0].set_ylabel(a)
    if not ok_a:
        axes[0].set_yticks(range(len(va)), [f"{v:g}" for v in va])
    return list(axes)


def save_sweep_plot(path, table: dict, varied, sample=None, kind="chain", title=None) -> None:
    """Draw the figure for a sweep with one or two varied parameters and save it atomically.

    Args:
        path: ``.png``, ``.svg`` or ``.pdf``.
        table: the sweep's columns in case order.
        varied: ``[(name, length), ...]`` of the varied parameters (1 or 2).
        sample: shapes to overlay (1-parameter sweeps).
        kind: ``"chain"`` or ``"network"``.
        title: a figure title.

    Raises:
        ValueError: not 1 or 2 varied parameters.

    Example:
        >>> import tempfile, pathlib
        >>> t = {"length": np.array([0.8, 1.2]), "status": np.array(["converged"] * 2),
        ...      "energy": np.array([-1.0, -9.0]), "lowest": np.array([-4.0, -9.0]),
        ...      "max_tension": np.array([1.0, 2.0]), "min_eigenvalue": np.array([0.1, 0.1])}
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.png"
        >>> save_sweep_plot(p, t, [("length", 2)])
        >>> p.exists()
        True
    """
    if len(varied) == 1:
        fig = blank_figure((13, 7.5), layout="constrained")
        plot_one_parameter(fig, table, varied[0][0], sample, kind)
    elif len(varied) == 2:
        fig = blank_figure((17, 5.2), layout="constrained")
        plot_heatmaps(fig, table, (varied[0][0], varied[1][0]), (varied[0][1], varied[1][1]))
    else:
        raise ValueError(
            f"plot: figures are drawn for sweeps of 1 or 2 parameters; this one varies "
            f"{len(varied)}"
        )
    if title:
        fig.suptitle(title)
    save_figure(fig, path, dpi=100)
