"""Matplotlib figures and animations of chain runs; every function takes an ``ax``.

Nothing here changes matplotlib's backend or pyplot's state: the functions
draw on the ``ax`` (and ``fig``) they are given and return what they drew.
``import catenax`` never loads this module (nor matplotlib).

Shapes are given with their pinned ends included, shape ``(k, N + 2)`` (use
:func:`catenax.pad_ends` on the recorded iterates); mass ``j`` sits at
``x = j`` for ``j = 0 .. N + 1``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter

from .figure import close, new_figure

__all__ = [
    "animate_chain",
    "close",
    "frame_indices",
    "new_figure",
    "plot_chain_history",
    "plot_convergence",
    "plot_grad_histories",
    "plot_relaxation",
    "save_animation",
    "save_chain_gif",
]

#: The notebook's colour for the chain.
ORANGE = "orange"
TITLE = "Chain under gravity"


def _label_axes(ax) -> None:
    ax.set_xlabel("x (mass index; ends pinned at 0 and N+1)")
    ax.set_ylabel("height y")


def plot_chain_history(ax, shapes, *, color: str = ORANGE, title: str = TITLE, **kwargs):
    """Draw every shape of a run, as the notebook does (orange lines, one per step).

    Args:
        ax: a matplotlib Axes.
        shapes: heights with ends included, shape ``(k, N + 2)`` (or ``(N + 2,)``).
        color: line colour (the notebook's orange by default).
        title: the axes title (the notebook's "Chain under gravity").
        **kwargs: passed to ``ax.plot``.

    Returns:
        The list of Line2D objects drawn.

    Example:
        >>> import numpy as np
        >>> from catenax.plot import new_figure
        >>> fig, ax = new_figure()
        >>> lines = plot_chain_history(ax, np.zeros((3, 5)))
        >>> len(lines)
        3
    """
    shapes = np.atleast_2d(np.asarray(shapes, dtype=float))
    x = np.arange(shapes.shape[-1])
    lines = []
    for s in shapes:
        lines += ax.plot(x, s, color=color, **kwargs)
    ax.set_title(title)
    _label_axes(ax)
    return lines


def plot_relaxation(
    ax, shapes, final, *, steps: Sequence[int] | None = None, n_faint: int = 12, title=TITLE
):
    """Draw the final shape boldly and up to ``n_faint`` intermediate shapes faintly.

    Args:
        ax: a matplotlib Axes.
        shapes: recorded shapes with ends included, shape ``(k, N + 2)``.
        final: the final shape with ends included, shape ``(N + 2,)``.
        steps: the step index of each recorded shape (for the legend).
        n_faint: how many intermediate shapes to draw.
        title: the axes title.

    Returns:
        The Line2D of the final shape.

    Example:
        >>> import numpy as np
        >>> from catenax.plot import new_figure
        >>> fig, ax = new_figure()
        >>> line = plot_relaxation(ax, np.zeros((4, 5)), -np.ones(5))
    """
    shapes = np.atleast_2d(np.asarray(shapes, dtype=float))
    final = np.asarray(final, dtype=float)
    x = np.arange(final.shape[-1])
    if len(shapes) > 1 and n_faint > 0:
        idx = frame_indices(steps if steps is not None else np.arange(len(shapes)), n_faint + 1)
        idx = [i for i in idx if i < len(shapes) - 1]
        for i in idx:
            ax.plot(x, shapes[i], color=ORANGE, alpha=0.3, lw=1)
        ax.plot([], [], color=ORANGE, alpha=0.3, lw=1, label="intermediate shapes")
    (line,) = ax.plot(x, final, color="tab:red", lw=2.2, marker="o", ms=3, label="final shape")
    ax.legend(loc="lower left", fontsize="small", frameon=False)
    ax.set_title(title)
    _label_axes(ax)
    return line


def _history(h: Any, key: str) -> np.ndarray:
    if isinstance(h, Mapping):
        return np.asarray(h[key], dtype=float)
    return np.asarray(getattr(h, key), dtype=float)


def plot_convergence(ax, histories: Mapping[str, Any], *, quantity: str = "energy", e_star=None):
    """Plot convergence against step on a log scale, one line per run.

    Args:
        ax: a matplotlib Axes.
        histories: label -> a :class:`catenax.Result` or a mapping with
            ``energy_history`` and ``grad_history`` (index = step).
        quantity: ``"energy"`` plots ``E - E*`` (needs ``e_star``);
            ``"grad"`` plots ``max|grad E|``.
        e_star: the minimum energy E* (for ``quantity="energy"``).

    Returns:
        The list of Line2D objects drawn, one per run.

    Raises:
        ValueError: unknown ``quantity``, or ``"energy"`` without ``e_star``.

    Example:
        >>> from catenax.plot import new_figure
        >>> fig, ax = new_figure()
        >>> h = {"gd": {"energy_history": [2.0, 1.0], "grad_history": [1.0, 0.5]}}
        >>> [line.get_label() for line in plot_convergence(ax, h, quantity="grad")]
        ['gd']
    """
    if quantity not in ("energy", "grad"):
        raise ValueError(f"quantity: {quantity!r} must be 'energy' or 'grad'")
    if quantity == "energy" and e_star is None:
        raise ValueError("e_star: plotting E - E* needs the minimum energy e_star")
    lines = []
    for label, h in histories.items():
        if quantity == "energy":
            y = _history(h, "energy_history") - float(e_star)
        else:
            y = _history(h, "grad_history")
        # A log axis cannot show values <= 0 (E - E* at round-off level).
        y = np.where(y > 0, y, np.nan)
        lines += ax.semilogy(np.arange(len(y)), y, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("E - E*" if quantity == "energy" else "max |∇E|")
    ax.set_title("energy above the minimum" if quantity == "energy" else "largest force")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False)
    return lines


def plot_grad_histories(ax, histories: Mapping[str, Any], *, against: str = "step"):
    """Plot max|∇E| of several runs against step or against wall time (log axes).

    The figure of ``catenax compare``: one line per method, a dot where each
    run ended. Against step, the x axis is linear up to 1 and logarithmic
    beyond (``symlog``), so a 5-step Newton run and a 20 000-step gradient
    descent both show; against time it is logarithmic (the start, at t = 0,
    is left out).

    Args:
        ax: a matplotlib Axes.
        histories: label -> a mapping with ``grad_max`` (max|∇E| after each
            step, index 0 = start; ``None`` for non-finite values) and, for
            ``against="time"``, ``time_s`` (the wall time at each step), as in
            :func:`catenax.compare`'s ``histories``.
        against: ``"step"`` or ``"time"``.

    Returns:
        The list of Line2D objects drawn: per run, its line and its end dot.

    Raises:
        ValueError: unknown ``against``.

    Example:
        >>> from catenax.plot import new_figure
        >>> fig, ax = new_figure()
        >>> h = {"gd": {"grad_max": [1.0, 0.5, 0.25], "time_s": [0.0, 1e-6, 2e-6]}}
        >>> _ = plot_grad_histories(ax, h, against="time")
        >>> ax.get_xscale(), ax.get_yscale()
        ('log', 'log')
    """
    if against not in ("step", "time"):
        raise ValueError(f"against: {against!r} must be 'step' or 'time'")
    lines = []
    for label, h in histories.items():
        g = np.asarray([np.nan if v is None else v for v in h["grad_max"]], dtype=float)
        x = np.arange(len(g), dtype=float) if against == "step" else np.asarray(h["time_s"], float)
        keep = np.isfinite(g) & (g > 0) & ((x > 0) if against == "time" else True)
        if not keep.any():
            continue
        (line,) = ax.plot(x[keep], g[keep], label=label, lw=1.6)
        lines += [line, *ax.plot(x[keep][-1], g[keep][-1], "o", color=line.get_color(), ms=5)]
    ax.set_yscale("log")
    if against == "step":
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlim(left=0)
        ax.set_xlabel("step")
    else:
        ax.set_xscale("log")
        ax.set_xlabel("wall time (s, compilation excluded)")
    ax.set_ylabel("max |∇E|")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False, fontsize="small")
    return lines


def frame_indices(steps, n_frames: int) -> list[int]:
    """Pick up to ``n_frames`` indices of recorded shapes, denser early in the run.

    Frames are spaced evenly in ``log(1 + step)``, so the fast early motion and
    the slow final creep both show. The first and last shapes are always kept.

    Args:
        steps: the step index of each recorded shape (increasing).
        n_frames: the largest number of frames wanted (>= 2).

    Returns:
        Sorted, distinct indices into ``steps``.

    Example:
        >>> frame_indices(range(11), 3)
        [0, 3, 10]
    """
    steps = np.asarray(steps, dtype=float)
    k = len(steps)
    if k <= n_frames:
        return list(range(k))
    targets = np.expm1(np.linspace(0.0, np.log1p(steps[-1] - steps[0]), n_frames)) + steps[0]
    idx = np.searchsorted(steps, targets).clip(0, k - 1)
    return sorted(set(idx.tolist()) | {0, k - 1})


def _chain_frames(fig, ax, shapes, steps, n_frames):
    """Set up the axes of a chain animation; return the frame indices and a draw function."""
    shapes = np.atleast_2d(np.asarray(shapes, dtype=float))
    steps = np.asarray(steps)
    idx = frame_indices(steps, n_frames)
    x = np.arange(shapes.shape[-1])
    lo, hi = float(np.nanmin(shapes)), float(np.nanmax(shapes))
    pad = 0.08 * max(hi - lo, 1e-3)
    ax.set_xlim(x[0] - 0.5, x[-1] + 0.5)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_title(TITLE)
    _label_axes(ax)
    (trail,) = ax.plot([], [], color=ORANGE, alpha=0.3, lw=1)
    (line,) = ax.plot([], [], color="tab:red", lw=2, marker="o", ms=3)
    counter = ax.text(0.02, 0.04, "", transform=ax.transAxes)

    def draw(i):
        j = idx[i]
        if i > 0:
            trail.set_data(x, shapes[idx[i - 1]])
        line.set_data(x, shapes[j])
        counter.set_text(f"step {int(steps[j])}")
        return trail, line, counter

    return idx, draw


def animate_chain(fig, ax, shapes, steps, *, n_frames: int = 60, interval: int = 60):
    """Animate a chain relaxing: one frame per selected shape, with a step counter.

    Args:
        fig: the matplotlib Figure holding ``ax``.
        ax: the Axes to draw in.
        shapes: recorded shapes with ends included, shape ``(k, N + 2)``.
        steps: the step index of each shape, shape ``(k,)``.
        n_frames: the largest number of frames (see :func:`frame_indices`).
        interval: milliseconds between frames.

    Returns:
        A :class:`matplotlib.animation.FuncAnimation` (for notebooks; to write a
        GIF quickly use :func:`save_chain_gif`).

    Example:
        >>> import numpy as np, tempfile, os
        >>> from catenax.plot import new_figure
        >>> fig, ax = new_figure()
        >>> anim = animate_chain(fig, ax, np.zeros((3, 5)), [0, 1, 2])
        >>> save_animation(anim, os.path.join(tempfile.mkdtemp(), "a.gif"))  # or show it
    """
    idx, draw = _chain_frames(fig, ax, shapes, steps, n_frames)
    return FuncAnimation(fig, draw, frames=len(idx), interval=interval, blit=False)


def save_animation(anim, path, *, fps: int = 15, dpi: int = 80) -> None:
    """Save a matplotlib animation as a GIF with Pillow.

    Args:
        anim: the animation (e.g. from :func:`animate_chain`).
        path: the destination, ending in ``.gif``.
        fps: frames per second.
        dpi: resolution.

    Example:
        >>> import numpy as np, tempfile, os
        >>> from catenax.plot import new_figure
        >>> fig, ax = new_figure()
        >>> anim = animate_chain(fig, ax, np.zeros((2, 4)), [0, 1])
        >>> save_animation(anim, os.path.join(tempfile.mkdtemp(), "a.gif"))
    """
    anim.save(str(path), writer=PillowWriter(fps=fps), dpi=dpi)


def save_chain_gif(
    fig, ax, shapes, steps, path, *, n_frames: int = 60, fps: int = 15, dpi: int = 80
) -> int:
    """Write a GIF of a chain relaxing (with a step counter) using ``PillowWriter``.

    Faster than saving a :class:`~matplotlib.animation.FuncAnimation`: the
    layout is computed once and each frame is drawn once.

    Args:
        fig: the Figure holding ``ax``.
        ax: the Axes to draw in.
        shapes: recorded shapes with ends included, shape ``(k, N + 2)``.
        steps: the step index of each shape, shape ``(k,)``.
        path: the destination, ending in ``.gif``.
        n_frames: the largest number of frames (see :func:`frame_indices`).
        fps: frames per second.
        dpi: resolution.

    Returns:
        The number of frames written.

    Example:
        >>> import numpy as np, tempfile, os
        >>> from catenax.plot import new_figure
        >>> fig, ax = new_figure()
        >>> save_chain_gif(fig, ax, np.zeros((3, 4)), [0, 1, 2],
        ...                os.path.join(tempfile.mkdtemp(), "a.gif"))
        3
    """
    idx, draw = _chain_frames(fig, ax, shapes, steps, n_frames)
    draw(len(idx) - 1)
    fig.canvas.draw()  # lay the figure out once, with the widest tick labels
    fig.set_layout_engine("none")
    writer = PillowWriter(fps=fps)
    with writer.saving(fig, str(path), dpi):
        for i in range(len(idx)):
            draw(i)
            writer.grab_frame()
    return len(idx)
