"""Figures: functions draw into a given ax; the GIF writer gives a real GIF."""

import numpy as np
import pytest

from catenax import plot


def test_frame_indices_keep_ends_and_are_denser_early():
    idx = plot.frame_indices(np.arange(1001), 20)
    assert idx[0] == 0 and idx[-1] == 1000 and len(idx) <= 20
    assert idx == sorted(set(idx))
    assert idx[5] < 100  # log spacing: many frames early
    assert plot.frame_indices([0, 5, 9], 10) == [0, 1, 2]


def test_plot_chain_history_draws_one_line_per_shape():
    fig, ax = plot.new_figure()
    shapes = -np.linspace(0, 1, 7)[:, None] * np.sin(np.linspace(0, np.pi, 12))
    lines = plot.plot_chain_history(ax, shapes)
    assert len(lines) == 7
    assert ax.get_title() == "Chain under gravity"
    assert ax.get_xlabel() and ax.get_ylabel()
    np.testing.assert_array_equal(lines[-1].get_xdata(), np.arange(12))
    plot.close(fig)


def test_plot_convergence_log_scale_and_checks():
    fig, ax = plot.new_figure()
    h = {"gd": {"energy_history": [3.0, 2.0, 1.0], "grad_history": [1.0, 0.5, 0.25]}}
    plot.plot_convergence(ax, h, quantity="energy", e_star=1.0)
    assert ax.get_yscale() == "log"
    y = ax.get_lines()[0].get_ydata()
    assert np.isnan(y[-1]) and y[0] == 2.0  # E - E* = 0 cannot sit on a log axis
    with pytest.raises(ValueError, match="e_star"):
        plot.plot_convergence(ax, h, quantity="energy")
    with pytest.raises(ValueError, match="quantity"):
        plot.plot_convergence(ax, h, quantity="nope")
    plot.close(fig)


def test_save_chain_gif(tmp_path):
    fig, ax = plot.new_figure()
    shapes = -np.linspace(0, 1, 30)[:, None] * np.sin(np.linspace(0, np.pi, 8))
    n = plot.save_chain_gif(fig, ax, shapes, np.arange(30), tmp_path / "a.gif", n_frames=10)
    plot.close(fig)
    assert 2 <= n <= 10
    assert (tmp_path / "a.gif").read_bytes()[:6] in (b"GIF87a", b"GIF89a")
