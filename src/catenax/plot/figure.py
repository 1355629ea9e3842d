"""Figures that catenax makes itself: off-screen, outside pyplot, saved atomically.

A figure made here is a plain :class:`matplotlib.figure.Figure` with an Agg
canvas: it is never registered with pyplot, so it neither changes the backend
nor shows up in (or needs closing from) a notebook's list of open figures.
In a notebook, make figures with pyplot as usual and pass the ``ax`` to the
plotting functions.
"""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from catenax.io import atomic_write

__all__ = ["close", "new_figure"]


def blank_figure(figsize, layout: str | None = None) -> Figure:
    """An empty off-screen figure (Agg canvas, not known to pyplot).

    Args:
        figsize: ``(width, height)`` in inches.
        layout: matplotlib's layout engine, e.g. ``"constrained"``, or ``None``.

    Returns:
        The :class:`~matplotlib.figure.Figure`.

    Example:
        >>> fig = blank_figure((4, 3))
        >>> fig.get_size_inches().tolist(), fig.canvas.manager is None
        ([4.0, 3.0], True)
    """
    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def new_figure(figsize=(6.4, 4.4), nrows: int = 1, ncols: int = 1):
    """A new figure and its Axes (``nrows`` x ``ncols``, as ``plt.subplots``).

    The figure is off-screen and not known to pyplot (see the module doc);
    its layout is ``"constrained"``. Close it with :func:`close`.

    Args:
        figsize: ``(width, height)`` in inches.
        nrows: rows of axes.
        ncols: columns of axes.

    Returns:
        ``(fig, ax)``; ``ax`` is one Axes, or an array of them when
        ``nrows * ncols > 1`` (as ``plt.subplots``).

    Example:
        >>> fig, axes = new_figure(figsize=(8, 3), nrows=1, ncols=2)
        >>> axes.shape
        (2,)
        >>> close(fig)
    """
    fig = blank_figure(figsize, layout="constrained")
    return fig, fig.subplots(nrows, ncols)


def close(fig) -> None:
    """Close a figure made by :func:`new_figure` (or by pyplot).

    A figure of :func:`new_figure` holds no window or pyplot slot: nothing to
    release. A pyplot figure is closed with ``plt.close``.

    Args:
        fig: the figure.

    Example:
        >>> fig, ax = new_figure()
        >>> close(fig)
    """
    if getattr(fig.canvas, "manager", None) is not None:
        import matplotlib.pyplot as plt  # only a figure pyplot made has a manager

        plt.close(fig)


def save_figure(fig, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Save ``fig`` atomically; the suffix of ``path`` picks the format.

    Args:
        fig: the figure.
        path: the destination; its folder must exist.
        dpi: resolution of raster output.

    Returns:
        The destination as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile, pathlib
        >>> fig, ax = new_figure()
        >>> save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "f.png").stat().st_size > 0
        True
    """
    return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi))
