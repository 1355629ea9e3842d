"""What a network figure shows besides the springs: colours, supports, loads, axes.

The rules every network figure (2D, 3D, still or animated) shares, each in one place:

* **Colours** (:func:`tension_norm`): the colour scale spans the data, from the
  smallest to the largest value (never from 0; a constant value gets a small
  symmetric pad), so tensions between 1400 and 1400.8 still get different
  colours. With no member in compression, the given sequential map
  (``viridis``) is used. With compression, members in compression are blue and
  members in tension red: ``coolwarm`` with its white centre moved to 0 when
  both signs occur (the scale stays linear from min to max), its blue half
  when every member is in compression.
* **Supports** (:func:`draw_supports`): a pin (every coordinate of the node
  held) is a filled red triangle; a roller (some coordinates held, the others
  free) an open red circle. The legend names both.
* **Loads** (:func:`draw_loads`): point loads as orange arrows, in 2D and 3D,
  scaled so that the largest is 15 % of the structure's size.
* **Axes** (:func:`axis_label`, :func:`set_equal_3d`): labels carry the
  length unit (``x [m]``), and lengths are drawn to the same scale on every
  axis (2D: equal aspect; 3D: box aspect from the data ranges).
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

from catenax.model import Network, fixed_coordinates

__all__ = [
    "COMPRESSION_CMAP",
    "axis_label",
    "draw_loads",
    "draw_supports",
    "face_corners",
    "set_equal_3d",
    "support_kinds",
    "tension_label",
    "tension_norm",
]

#: The diverging map of members in compression (blue) and tension (red).
COMPRESSION_CMAP = "coolwarm"

#: Markers of the supports, by type.
PIN_STYLE = {"marker": "^", "color": "tab:red", "label": "pin (all coordinates held)"}
ROLLER_STYLE = {"marker": "o", "color": "tab:red", "label": "roller (some coordinates held)"}


def _unit(units, key: str) -> str | None:
    return (units or {}).get(key) or None


def axis_label(axis: str, units=None) -> str:
    """An axis label with the length unit: ``"x [m]"``, or ``"x"`` when unknown.

    Args:
        axis: ``"x"``, ``"y"`` or ``"z"``.
        units: ``None`` or ``{"length": ..., "force": ...}``.

    Returns:
        The label.

    Example:
        >>> axis_label("z", {"length": "m", "force": "kN"}), axis_label("x")
        ('z [m]', 'x')
    """
    unit = _unit(units, "length")
    return f"{axis} [{unit}]" if unit else axis


def tension_label(units=None, what: str = "") -> str:
    """The colour bar's label: ``"tension [kN]"`` (``what`` appended after a comma).

    Example:
        >>> tension_label({"force": "kN"}), tension_label(None, "mean over each face's edges")
        ('tension [kN]', "tension, mean over each face's edges")
    """
    unit = _unit(units, "force")
    label = f"tension [{unit}]" if unit else "tension"
    return f"{label}, {what}" if what else label


def _padded(lo: float, hi: float) -> tuple[float, float]:
    """``(lo, hi)``, or a small symmetric pad around a constant value."""
    if hi > lo:
        return lo, hi
    pad = 0.01 * abs(lo) if lo else 0.5
    return lo - pad, lo + pad


def tension_norm(values, cmap="viridis"):
    """The colour scale of member forces: a norm spanning the data, and the colour map.

    The rule is in the module doc: the scale runs from the smallest to the
    largest finite value (a constant gets a pad of 1 % of it, or 0.5 at 0);
    with no negative value, ``cmap``; with negative values (compression),
    ``coolwarm`` with its white centre moved to 0 (blue compression, red
    tension; the scale stays linear from min to max), or its blue half when
    nothing is in tension.

    Args:
        values: forces, positive in tension (NaN ignored).
        cmap: the sequential map used when nothing is in compression.

    Returns:
        ``(norm, cmap)``: a :class:`matplotlib.colors.Normalize` from the
        smallest to the largest value, and a colour map or its name.

    Example:
        >>> norm, cmap = tension_norm([1400.0, 1400.3, 1400.8])
        >>> (norm.vmin, norm.vmax), cmap
        ((1400.0, 1400.8), 'viridis')
        >>> norm, cmap = tension_norm([-2.0, 5.0])
        >>> (norm.vmin, norm.vmax), cmap.name, round(float(norm(0.0)), 4)  # white at 0
        ((-2.0, 5.0), 'compression_tension', 0.2857)
        >>> tension_norm([3.0, 3.0])[0].vmin
        2.97
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return mpl.colors.Normalize(0.0, 1.0), cmap
    lo, hi = float(v.min()), float(v.max())
    norm = mpl.colors.Normalize(*_padded(lo, hi))
    diverging = mpl.colormaps[COMPRESSION_CMAP]
    if lo < 0.0 < hi:  # both: blue below 0, white at 0, red above; linear from lo to hi
        zero, u = -lo / (hi - lo), np.linspace(0.0, 1.0, 9)
        stops = [(zero * a, diverging(0.5 * a)) for a in u]
        stops += [(zero + (1.0 - zero) * a, diverging(0.5 + 0.5 * a)) for a in u[1:]]
        n = int(min(2**16, np.ceil(256 / min(zero, 1.0 - zero))))  # 256 shades on each side
        return norm, mpl.colors.LinearSegmentedColormap.from_list("compression_tension", stops, n)
    if lo < 0.0:  # every member in compression (or slack): the blue half
        blues = diverging(np.linspace(0.0, 0.45, 128))
        return norm, mpl.colors.ListedColormap(blues, name="compression")
    return norm, cmap


def support_kinds(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Which nodes are pins (every coordinate held) and which rollers (some held).

    Returns:
        ``(pins, rollers)``: boolean masks of shape ``(n,)``.

    Example:
        >>> import catenax
        >>> net = catenax.from_arrays([[0, 0], [1, 0], [2, 0]], [[0, 1], [1, 2]],
        ...                           fixed=[[True, True], [False, False], [False, True]])
        >>> [m.tolist() for m in support_kinds(net)]
        [[True, False, False], [False, False, True]]
    """
    held = fixed_coordinates(net)
    pins = held.all(axis=1)
    return pins, held.any(axis=1) & ~pins


def draw_supports(ax, x, net: Network, size: float = 9.0) -> list:
    """Mark pins (filled triangles) and rollers (open circles), labelled for the legend.

    Args:
        ax: a 2D or 3D axes (by the shape of ``x``).
        x: node positions, ``(n, 2)`` or ``(n, 3)``.
        net: the network.
        size: marker size in points.

    Returns:
        The artists drawn (none for a kind of support the network lacks).
    """
    x = np.asarray(x, dtype=float)
    artists = []
    for mask, style in zip(support_kinds(net), (PIN_STYLE, ROLLER_STYLE), strict=True):
        if not mask.any():
            continue
        filled = style is PIN_STYLE
        if x.shape[1] == 3:
            artists.append(
                ax.scatter(
                    *x[mask].T, marker=style["marker"], s=size**2 * 0.6, depthshade=False,
                    facecolors=style["color"] if filled else "none", edgecolors=style["color"],
                    linewidths=1.5, label=style["label"], zorder=4,
                )
            )  # fmt: skip
        else:
            (line,) = ax.plot(
                x[mask, 0], x[mask, 1], ls="none", marker=style["marker"], ms=size,
                color=style["color"], mfc=style["color"] if filled else "none", mew=1.5,
                label=style["label"], zorder=4,
            )  # fmt: skip
            artists.append(line)
    return artists


def draw_loads(ax, x, net: Network):
    """Draw the point loads as arrows (2D ``quiver``, 3D ``quiver``), labelled ``load``.

    Args:
        ax: a 2D or 3D axes (by the shape of ``x``).
        x: node positions, ``(n, d)``.
        net: the network (its ``loads``).

    Returns:
        ``(artist, tips)``: the quiver artist (``None`` without loads) and the
        arrow tips, shape ``(k, d)`` (for the axis limits).
    """
    x = np.asarray(x, dtype=float)
    f = np.asarray(net.loads, dtype=float)
    has = np.linalg.norm(f, axis=1) > 0
    if not has.any():
        return None, np.zeros((0, x.shape[1]))
    span = float(np.ptp(x, axis=0).max()) or 1.0
    v = f[has] * (0.15 * span / np.linalg.norm(f[has], axis=1).max())
    base = x[has]
    if x.shape[1] == 3:
        artist = ax.quiver(
            *base.T, *v.T, color="tab:orange", arrow_length_ratio=0.25, linewidths=1.5,
            label="load",
        )  # fmt: skip
    else:
        artist = ax.quiver(
            base[:, 0], base[:, 1], v[:, 0], v[:, 1], angles="xy", scale_units="xy",
            scale=1.0, color="tab:orange", zorder=5, width=0.004, label="load",
        )  # fmt: skip
    artist.set_gid("loads")
    return artist, base + v


def set_equal_3d(ax, points) -> None:
    """Equal scales on a 3D axes: limits around ``points``, box aspect from their ranges.

    An axis along which the points hardly extend (a flat roof's z) gets a
    fifth of the largest range, so the box stays visible.

    Args:
        ax: a 3D axes.
        points: positions, any shape ending in 3.

    Example:
        >>> from matplotlib.figure import Figure
        >>> ax = Figure().add_subplot(projection="3d")
        >>> set_equal_3d(ax, [[0, 0, 0], [4, 2, 1]])
        >>> [float(v) for v in ax.get_xlim() + ax.get_ylim()]
        [0.0, 4.0, 0.0, 2.0]
    """
    p = np.asarray(points, dtype=float).reshape(-1, 3)
    p = p[np.isfinite(p).all(axis=1)]
    lo, hi = (p.min(axis=0), p.max(axis=0)) if len(p) else (np.zeros(3), np.ones(3))
    span = hi - lo
    biggest = float(span.max()) or 1.0
    span = np.maximum(span, 0.2 * biggest)
    mid = (lo + hi) / 2
    lims = [(float(m - s / 2), float(m + s / 2)) for m, s in zip(mid, span, strict=True)]
    ax.set_xlim(*lims[0])
    ax.set_ylim(*lims[1])
    ax.set_zlim(*lims[2])
    ax.set_box_aspect(tuple(float(s) for s in span))


def face_corners(faces) -> list[list[int]]:
    """Each face's node indices without the ``-1`` padding.

    Example:
        >>> face_corners([[0, 1, 2, -1], [2, 3, 4, 5]])
        [[0, 1, 2], [2, 3, 4, 5]]
    """
    return [[int(v) for v in row if v >= 0] for row in np.asarray(faces).tolist()]
