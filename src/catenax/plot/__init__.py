"""Figures and animations of chains, networks and sweeps; every function takes an ``ax``."""

from .chain import (
    animate_chain,
    close,
    frame_indices,
    new_figure,
    plot_chain_history,
    plot_convergence,
    plot_grad_histories,
    plot_relaxation,
    save_animation,
    save_chain_gif,
)
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
    "save_network_plot",
    "save_sweep_plot",
]
