"""Builders of spring networks: the lesson's chain, a hanging chain, a cable net, cloth.

Each builder checks its own parameters (counts, positive sizes, supports),
lays out the nodes and springs with numpy and hands the arrays to
:func:`~catenax.model.network.from_arrays`, which validates the network.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catenax.errors import FieldError

from .checks import as_float, short
from .convert import indices_mask
from .network import Network, from_arrays
from .sizes import INDEX_MAX, check_network_size

__all__ = ["chain", "chain2d", "chain_network", "cloth", "net"]


def _check_count(name, value, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer >= {minimum}, got {short(value)}")
    if value < minimum:
        raise FieldError(name, f"{value} is too small; use an integer >= {minimum}")
    if value > INDEX_MAX:
        raise FieldError(
            name, f"{short(value)} is too large; use an integer <= {INDEX_MAX} (int32)"
        )
    return int(value)


def _check_positive(name, value, allow_zero=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name}: expected a number, got {short(value)}")
    try:
        number = float(value)
    except (OverflowError, TypeError):  # a huge Python int, a complex number
        number = float("nan")
    if not np.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        need = ">= 0" if allow_zero else "> 0"
        raise FieldError(name, f"{short(value)} must be a finite number {need}")
    return number


def _check_grid(name, rows, cols, springs_per_node, what):
    """Refuse a rows x cols grid too big for the memory limit (before anything is allocated)."""
    n = rows * cols
    check_network_size(
        name,
        n,
        springs_per_node * n,
        3,
        f"a {rows} x {cols} {what}",
        "use fewer rows and columns",
        extra=8 * 24 * n,  # the builder's own index, position and face arrays
    )


def chain(
    n: int = 20, spring: float = 5.0, length: float = 0.8, mass_g: float = 0.1, y=None
) -> Network:
    """The lesson's chain as a network (a view of :func:`catenax.chain_energy`).

    Nodes 0..n+1 sit at x = 0..n+1 (the two ends are the pinned supports at
    height 0); spring j joins nodes j and j+1. Every x coordinate is fixed
    (``fixed`` has shape ``(n + 2, 2)``), so only the heights move, exactly as
    in the lesson: ``network_energy(x, chain(...))`` equals
    ``chain_energy(x[1:-1, 1], ...)``. Each node has mass ``mass_g`` under
    gravity ``(0, -1)``.

    Args:
        n: number of moving masses (>= 1).
        spring: spring constant K.
        length: rest length l.
        mass_g: weight of one mass.
        y: optional heights of the n masses (e.g. a solution of the chain
            model), shape ``(n,)``; default zeros. ``n`` is taken from ``y``.

    Returns:
        A 2D :class:`Network` with ``n + 2`` nodes and ``n + 1`` springs.

    Raises:
        ValueError: ``n`` < 1, or negative/non-finite parameters.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> net = catenax.chain_network(3)
        >>> float(catenax.network_energy(net.positions, net)) == float(
        ...     catenax.chain_energy(jnp.zeros(3), 5.0, 0.8, 0.1))
        True
    """
    if y is not None:
        y = as_float("y", y, "n heights").ravel()
        n = y.size
    n = _check_count("n", n, 1)
    _check_chain_size(n, "a chain of")
    heights = np.zeros(n + 2)
    if y is not None:
        heights[1:-1] = y
    pos = np.stack([np.arange(n + 2, dtype=float), heights], axis=1)
    springs = np.stack([np.arange(n + 1), np.arange(1, n + 2)], axis=1)
    fixed = np.zeros((n + 2, 2), bool)
    fixed[:, 0] = True
    fixed[[0, -1], :] = True
    return from_arrays(
        pos,
        springs,
        rest_length=_check_positive("length", length),
        stiffness=_check_positive("spring", spring, allow_zero=True),
        mass=_check_positive("mass_g", mass_g, allow_zero=True),
        gravity=[0.0, -1.0],
        fixed=fixed,
    )


def _check_chain_size(n, what, extra=0.0):
    check_network_size(
        "n", n + 2, n + 1, 2, f"{what} {n} masses", "use fewer masses", extra=8 * 8 * n + extra
    )


#: The lesson's chain builder under a name that does not shadow ``catenax.chain``
#: (the module of the chain model) at the top level of the package.
chain_network = chain


def _parabola_length(span, depth):
    x = np.linspace(-span / 2, span / 2, 2049)
    y = -depth * (1.0 - (2.0 * x / span) ** 2)
    return float(np.sum(np.hypot(np.diff(x), np.diff(y))))


def _parabola_depth(span, length):
    """Depth of the parabola through the supports whose length is ``length`` (bisection)."""
    if length <= span:
        return 0.0
    lo, hi = 0.0, length
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _parabola_length(span, mid) < length else (lo, mid)
    return 0.5 * (lo + hi)


def chain2d(
    n: int = 20,
    span: float = 1.0,
    rest_length: float | None = None,
    stiffness: float = 1000.0,
    mass: float = 0.05,
    gravity: Any = 9.81,
    sag: float | None = None,
    cables: bool = False,
) -> Network:
    """A free hanging chain in 2D: n masses between two supports ``span`` apart.

    The supports are nodes 0 and n+1 at ``(-span/2, 0)`` and ``(span/2, 0)``;
    n + 1 springs join consecutive nodes. Both coordinates of the masses move.
    The start is a parabola through the supports (a straight line when
    ``sag`` is 0) with the nodes at equal arc length along it; by default its
    depth makes its length about the chain's total rest length
    ``(n + 1) * rest_length``, so the solver starts close.

    Args:
        n: number of free masses (>= 1).
        span: distance between the supports (> 0).
        rest_length: rest length of each spring (default ``1.2 * span / (n + 1)``,
            a slack chain 20% longer than the span).
        stiffness: spring constant of each spring.
        mass: mass of each node.
        gravity: a number g (weight ``mass * g`` downwards) or a 2-vector.
        sag: depth of the starting parabola (default: matched to the length).
        cables: tension-only springs.

    Returns:
        A 2D :class:`Network` with ``n + 2`` nodes and ``n + 1`` springs.

    Raises:
        ValueError: ``n`` < 1 or non-positive/non-finite parameters.

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(8, span=2.0)
        >>> net.positions[[0, -1], 0].tolist()
        [-1.0, 1.0]
    """
    n = _check_count("n", n, 1)
    # the starting parabola is laid out on 64 points per node: ~5 arrays of them
    _check_chain_size(n, "a 2D chain of", extra=8 * 5 * 64 * (n + 2))
    span = _check_positive("span", span)
    seg = 1.2 * span / (n + 1) if rest_length is None else rest_length
    seg = _check_positive("rest_length", seg, allow_zero=True)
    total = seg * (n + 1)
    if sag is None:
        sag = _parabola_depth(span, total)
    sag = _check_positive("sag", sag, allow_zero=True)
    # Nodes at equal arc length along the parabola y = -sag (1 - (2x/span)^2).
    fine = np.linspace(-span / 2, span / 2, 64 * (n + 2))
    yf = -sag * (1.0 - (2.0 * fine / span) ** 2)
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(fine), np.diff(yf)))])
    x = np.interp(np.linspace(0.0, arc[-1], n + 2), arc, fine)
    x[[0, -1]] = -span / 2, span / 2
    y = -sag * (1.0 - (2.0 * x / span) ** 2)
    springs = np.stack([np.arange(n + 1), np.arange(1, n + 2)], axis=1)
    return from_arrays(
        np.stack([x, y], axis=1),
        springs,
        rest_length=seg,
        stiffness=_check_positive("stiffness", stiffness, allow_zero=True),
        mass=_check_positive("mass", mass, allow_zero=True),
        gravity=gravity,
        fixed=[0, n + 1],
        cables=cables,
    )


def _grid(rows, cols, spacing):
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    pos = np.stack([c.ravel() * spacing, r.ravel() * spacing, np.zeros(rows * cols)], axis=1)
    idx = np.arange(rows * cols).reshape(rows, cols)
    horiz = np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], axis=1)
    vert = np.stack([idx[:-1, :].ravel(), idx[1:, :].ravel()], axis=1)
    faces = np.stack(
        [idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel(), idx[1:, :-1].ravel()],
        axis=1,
    )
    return pos, idx, np.concatenate([horiz, vert]), faces


def _supports(supports, idx):
    rows, cols = idx.shape
    n = rows * cols
    if isinstance(supports, str):
        if supports == "corners":
            return np.unique(idx[[0, 0, -1, -1], [0, -1, 0, -1]])
        if supports == "edges":
            edge = np.zeros_like(idx, bool)
            edge[[0, -1], :] = True
            edge[:, [0, -1]] = True
            return idx[edge]
        if supports == "sides":
            return np.unique(np.concatenate([idx[:, 0], idx[:, -1]]))
        if supports == "top":
            return idx[-1, :]
        raise FieldError(
            "supports",
            f"unknown supports {supports!r}; use 'corners', 'edges', 'sides', 'top' or a "
            f"list of node indices (node = row * cols + col)",
        )
    return np.flatnonzero(indices_mask("supports", supports, n))


def net(
    rows: int = 10,
    cols: int = 10,
    spacing: float = 1.0,
    supports: Any = "corners",
    stiffness: float = 50.0,
    rest_length: float | None = None,
    mass: float = 0.02,
    gravity: Any = 9.81,
    cables: bool = True,
) -> Network:
    """A rows x cols cable net in 3D, flat in the plane z = 0 at the start.

    Node ``r * cols + c`` sits at ``(c * spacing, r * spacing, 0)``; cables join
    each node to its right and upper neighbours. Gravity acts along ``-z``.

    Args:
        rows, cols: grid size (each >= 2).
        spacing: grid spacing (> 0).
        supports: ``"corners"``, ``"edges"`` (the whole boundary), ``"sides"``
            (first and last column), ``"top"`` (last row) or a list of node indices.
        stiffness: spring constant of each cable.
        rest_length: rest length of each cable (default ``0.9 * spacing``: the
            flat start is pre-tensioned).
        mass: mass of each node (default 0.02: weight about 0.2 with g = 9.81).
        gravity: a number g (along ``-z``) or a 3-vector.
        cables: tension-only springs (default true).

    Returns:
        A 3D :class:`Network` with ``rows * cols`` nodes and its quads in ``faces``.

    Raises:
        ValueError: bad sizes, supports or parameters.

    Example:
        >>> import catenax
        >>> m = catenax.net(3, 4, supports="corners")
        >>> m.n_nodes, m.n_springs, catenax.support_nodes(m).tolist()
        (12, 17, [0, 3, 8, 11])
    """
    rows, cols = _check_count("rows", rows, 2), _check_count("cols", cols, 2)
    _check_grid("rows", rows, cols, 2, "net")
    spacing = _check_positive("spacing", spacing)
    rest = 0.9 * spacing if rest_length is None else rest_length
    pos, idx, springs, faces = _grid(rows, cols, spacing)
    return from_arrays(
        pos,
        springs,
        rest_length=_check_positive("rest_length", rest, allow_zero=True),
        stiffness=_check_positive("stiffness", stiffness, allow_zero=True),
        mass=_check_positive("mass", mass, allow_zero=True),
        gravity=gravity,
        fixed=_supports(supports, idx),
        cables=cables,
        faces=faces,
    )


def cloth(
    rows: int = 15,
    cols: int = 15,
    spacing: float = 0.1,
    supports: Any = "top",
    stiffness: float = 500.0,
    shear_stiffness: float | None = None,
    bending_stiffness: float = 0.0,
    mass: float = 0.002,
    gravity: Any = 9.81,
    cables: bool = False,
) -> Network:
    """A sheet of cloth: a net with shear diagonals and optional bending springs.

    Structural springs join grid neighbours (rest length ``spacing``), shear
    springs join both diagonals of each square (rest length ``spacing * sqrt 2``)
    and, when ``bending_stiffness > 0``, bending springs join every node to the
    node two steps away along rows and columns (rest length ``2 * spacing``).
    Rest lengths equal the flat start, so the sheet starts unstressed.

    Args:
        rows, cols: grid size (each >= 2).
        spacing: grid spacing (> 0).
        supports: as in :func:`net` (default ``"top"``: the last row, a curtain).
        stiffness: spring constant of the structural springs.
        shear_stiffness: spring constant of the diagonals (default ``stiffness / 2``).
        bending_stiffness: spring constant of the bending springs (0: none).
        mass: mass of each node.
        gravity: a number g (along ``-z``) or a 3-vector.
        cables: tension-only springs.

    Returns:
        A 3D :class:`Network` with its quads in ``faces``.

    Raises:
        ValueError: bad sizes, supports or parameters.

    Example:
        >>> import catenax
        >>> c = catenax.cloth(3, 3, bending_stiffness=1.0)
        >>> c.n_springs  # 12 structural + 8 shear + 6 bending
        26
    """
    rows, cols = _check_count("rows", rows, 2), _check_count("cols", cols, 2)
    spacing = _check_positive("spacing", spacing)
    k = _check_positive("stiffness", stiffness, allow_zero=True)
    ks = (
        k / 2
        if shear_stiffness is None
        else _check_positive("shear_stiffness", shear_stiffness, allow_zero=True)
    )
    kb = _check_positive("bending_stiffness", bending_stiffness, allow_zero=True)
    _check_grid("rows", rows, cols, 6 if kb > 0 else 4, "cloth")
    pos, idx, structural, faces = _grid(rows, cols, spacing)
    shear = np.concatenate(
        [
            np.stack([idx[:-1, :-1].ravel(), idx[1:, 1:].ravel()], axis=1),
            np.stack([idx[:-1, 1:].ravel(), idx[1:, :-1].ravel()], axis=1),
        ]
    )
    parts = [structural, shear]
    stiff = [np.full(len(structural), k), np.full(len(shear), ks)]
    if kb > 0:
        bend = np.concatenate(
            [
                np.stack([idx[:, :-2].ravel(), idx[:, 2:].ravel()], axis=1),
                np.stack([idx[:-2, :].ravel(), idx[2:, :].ravel()], axis=1),
            ]
        )
        parts.append(bend)
        stiff.append(np.full(len(bend), kb))
    springs = np.concatenate(parts)
    return from_arrays(
        pos,
        springs,
        rest_length="initial",
        stiffness=np.concatenate(stiff),
        mass=_check_positive("mass", mass, allow_zero=True),
        gravity=gravity,
        fixed=_supports(supports, idx),
        cables=cables,
        faces=faces,
    )
