"""Figures and animations of chains, networks and sweeps; every function takes an ``ax``.

No module here switches matplotlib's backend. The figures catenax makes for
itself (:func:`new_figure`, the ``save_*`` helpers) are off-screen figures
that pyplot never sees; in a notebook, make figures with pyplot and pass the
``ax``.
"""

from .chain import (
    animate_chain,
    frame_indices,
    plot_chain_history,
    plot_convergence,
    plot_grad_histories,
    plot_relaxation,
    save_animation,
    save_chain_gif,
)
from .figure import close, new_figure, save_figure
from .network import (
    animate_network,
    plot_network,
    plot_network_2d,
    plot_network_3d,
    save_network_plot,
)
from .sweep import plot_heatmaps, plot_one_parameter, save_sweep_plot

__all__ = [
    "animate_chain",
    "animate_network",
    "close",
    "new_figure",
    "frame_indices",
    "plot_chain_history",
    "plot_convergence",
    "plot_grad_histories",
    "plot_heatmaps",
    "plot_network",
    "plot_network_2d",
    "plot_network_3d",
    "plot_one_parameter",
    "plot_relaxation",
    "save_animation",
    "save_chain_gif",
    "save_figure",
    "save_network_plot",
    "save_sweep_plot",
]
