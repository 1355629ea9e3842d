"""Issue 12, figures: colour bars spanning the data, units on the axes, 3D loads, supports
by type, compression in the other colour, faces of any size, --plot with a scenario's units."""

import numpy as np
import pytest
from matplotlib.colors import to_rgba

import catenax
from catenax.plot import new_figure, plot_network_2d, plot_network_3d, save_network_plot
from catenax.plot.figure import blank_figure
from catenax.plot.network_marks import PIN_STYLE, ROLLER_STYLE, draw_loads, tension_norm

UNITS = {"length": "m", "force": "kN"}


def ax3d():
    return blank_figure((6, 5)).add_subplot(projection="3d")


def truss2d(cables=False):
    """A triangle with a pin at 0 and a roller (y held) at 2, loaded at the top."""
    return catenax.from_arrays(
        [[0, 0], [1, 1], [2, 0]], [[0, 1], [1, 2], [0, 2]], stiffness=100.0,
        fixed=[[True, True], [False, False], [False, True]], loads=[[1, 0.0, -10.0]],
        cables=cables,
    )  # fmt: skip


def tent3d():
    """A pyramid: four supports (two pins, two rollers), the apex loaded."""
    pos = [[0, 0, 0], [2, 0, 0], [2, 2, 0], [0, 2, 0], [1, 1, 1]]
    fixed = [[True] * 3, [True] * 3, [False, False, True], [True, False, True], [False] * 3]
    return catenax.from_arrays(
        pos, [[0, 4], [1, 4], [2, 4], [3, 4], [0, 1], [1, 2], [2, 3], [3, 0]],
        stiffness=10.0, fixed=fixed, loads=[[4, 0.5, 0.0, -3.0]],
    )  # fmt: skip


def test_colour_bar_spans_the_data_not_zero():
    net = truss2d()
    t = np.array([1400.0, 1400.3, 1400.8])
    fig, ax = new_figure()
    lc = plot_network_2d(ax, net.positions, net, tensions=t, units=UNITS)
    assert lc.get_clim() == (1400.0, 1400.8)
    cbar = lc.colorbar
    assert (cbar.vmin, cbar.vmax) == (1400.0, 1400.8)
    assert cbar.ax.get_ylabel() == "tension [kN]"
    colours = {tuple(c) for c in lc.to_rgba(t)}
    assert len(colours) == 3  # three tensions, three colours
    # 3D too, and the constant case gets a small symmetric pad
    coll = plot_network_3d(ax3d(), tent3d().positions, tent3d(), tensions=np.full(8, 5.0))
    lo, hi = coll.get_clim()
    assert lo < 5.0 < hi and hi - 5.0 == pytest.approx(5.0 - lo) and hi - lo < 1.0


def test_axis_labels_carry_units_and_equal_aspect():
    net = truss2d()
    fig, ax = new_figure()
    plot_network_2d(ax, net.positions, net, units=UNITS)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x [m]", "y [m]")
    assert ax.get_aspect() == 1.0
    net3 = tent3d()
    ax = ax3d()
    plot_network_3d(ax, net3.positions, net3, units=UNITS)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("x [m]", "y [m]", "z [m]")
    ranges = np.array([np.ptp(ax.get_xlim()), np.ptp(ax.get_ylim()), np.ptp(ax.get_zlim())])
    box = np.asarray(ax.get_box_aspect())
    np.testing.assert_allclose(box / box[0], ranges / ranges[0], rtol=1e-9)  # equal scales
    ax = ax3d()
    plot_network_3d(ax, net3.positions, net3)
    assert ax.get_zlabel() == "z"  # no units: bare names


def test_loads_drawn_in_3d_and_2d():
    net3 = tent3d()
    ax = ax3d()
    plot_network_3d(ax, net3.positions, net3)
    loads = [c for c in ax.collections if c.get_gid() == "loads"]
    assert len(loads) == 1 and loads[0].get_label() == "load"
    assert "load" in [t.get_text() for t in ax.get_legend().get_texts()]
    # the arrow starts at the apex, along the load, the largest 15 % of the structure's size
    _, tips = draw_loads(ax3d(), net3.positions, net3)
    f = np.array([0.5, 0.0, -3.0])
    np.testing.assert_allclose(tips, [[1, 1, 1] + f * 0.15 * 2.0 / np.linalg.norm(f)])
    fig, ax = new_figure()
    plot_network_2d(ax, truss2d().positions, truss2d())
    assert [c.get_gid() for c in ax.collections].count("loads") == 1


@pytest.mark.parametrize("dim", [2, 3])
def test_pins_and_rollers_get_different_markers(dim):
    net = truss2d() if dim == 2 else tent3d()
    if dim == 2:
        fig, ax = new_figure()
        plot_network_2d(ax, net.positions, net)
    else:
        ax = ax3d()
        plot_network_3d(ax, net.positions, net)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert PIN_STYLE["label"] in legend and ROLLER_STYLE["label"] in legend
    assert PIN_STYLE["marker"] != ROLLER_STYLE["marker"]
    labelled = {a.get_label(): a for a in [*ax.lines, *ax.collections]}
    pin, roller = labelled[PIN_STYLE["label"]], labelled[ROLLER_STYLE["label"]]
    if dim == 2:
        assert pin.get_marker() == "^" and roller.get_marker() == "o"
        assert roller.get_markerfacecolor() == "none"  # open
        np.testing.assert_allclose(roller.get_xydata(), [[2.0, 0.0]])
    else:
        assert len(pin.get_offsets()) == 2 and len(roller.get_offsets()) == 2
        assert roller.get_facecolor().size == 0 or roller.get_facecolor()[0][3] == 0


def test_compression_in_the_other_colour():
    net = truss2d()
    t = np.array([-3.0, 5.0, 12.0])
    fig, ax = new_figure()
    lc = plot_network_2d(ax, net.positions, net, tensions=t)
    assert lc.get_clim() == (-3.0, 12.0)
    rgba = lc.to_rgba(t)
    assert rgba[0][2] > rgba[0][0]  # compression: blue
    assert rgba[1][0] > rgba[1][2] and rgba[2][0] > rgba[2][2]  # tension: red
    np.testing.assert_allclose(lc.to_rgba(0.0)[:3], to_rgba("white")[:3], atol=0.15)
    # every member in compression: still blue, from min to max
    norm, cmap = tension_norm([-7.0, -2.0])
    assert (norm.vmin, norm.vmax) == (-7.0, -2.0)
    for v in (-7.0, -2.0):
        r, _, b, _ = cmap(norm(v))
        assert b > r
    # no compression: the sequential map, as before
    assert tension_norm([1.0, 2.0])[1] == "viridis"


def test_faces_with_padding_draw_as_polygons(tmp_path):
    pos = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0.5, 1.8, 0.2], [2, 0, 0]]
    springs = [[0, 1], [1, 2], [2, 3], [3, 0], [2, 4], [4, 3], [0, 2], [1, 5]]
    faces = [[0, 1, 2, 3], [3, 2, 4, -1]]  # a quad and a triangle; node -1 (5) is on neither
    net = catenax.from_arrays(pos, springs, fixed=[0, 1, 5], faces=faces, stiffness=1.0)
    ax = ax3d()
    coll = plot_network_3d(ax, net.positions, net, surface=True)
    ax.figure.canvas.draw()
    finite = [p.vertices[np.isfinite(p.vertices).all(axis=1)] for p in coll.get_paths()]
    corners = sorted(len(np.unique(v, axis=0)) for v in finite)  # matplotlib pads with NaN
    assert corners == [3, 4]  # the padding is no corner (it would be node -1, the last)
    assert coll.get_array().shape == (2,)
    p = save_network_plot(tmp_path / "faces.png", net.positions, net, units=UNITS)
    assert p.stat().st_size > 0


def test_plot_option_uses_the_scenario_units(invoke, tmp_path, monkeypatch):
    import catenax.plot as cplot

    seen = {}
    real = cplot.save_network_plot

    def spy(path, x, net, title=None, units=None, **kw):
        seen["units"] = units
        return real(path, x, net, title=title, units=units, **kw)

    monkeypatch.setattr(cplot, "save_network_plot", spy)
    path = tmp_path / "v.toml"
    path.write_text(
        "[structure]\ndim = 2\nnodes = [[0.0, 0.0], [1.0, -0.5], [2.0, 0.0]]\n"
        "springs = [[0, 1], [1, 2]]\nstiffness = 100.0\nrest_length = 1.0\nmass = 0.0\n"
        'fixed = [0, 2]\nloads = [[1, 0.0, -10.0]]\n[units]\nlength = "m"\nforce = "kN"\n'
    )
    png = tmp_path / "v.png"
    res = invoke("relax", path, "--plot", png)
    assert res.exit_code == 0, res.stderr
    assert seen["units"] == UNITS and png.stat().st_size > 0
