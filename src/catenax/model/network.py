"""Spring networks in 2D and 3D: :class:`Network`, its validation and its builders.

A network is a pytree of arrays (a frozen dataclass registered with JAX), so it
can be passed to ``jit``-, ``grad``- and ``vmap``-transformed functions and to
:func:`catenax.minimize` as a parameter::

    net = catenax.net(10, 10, supports="corners")
    r = catenax.minimize(catenax.network_energy, net.positions, net,
                         free=catenax.free_mask(net))

Shapes (``n`` nodes, ``m`` springs, ``d`` = 2 or 3 dimensions):

=============  ===========  ==============================================
field          shape        meaning
=============  ===========  ==============================================
positions      (n, d)       initial node positions
springs        (m, 2) int   node index pairs
rest_length    (m,)         rest length of each spring
stiffness      (m,)         spring constant of each spring
mass           (n,)         mass of each node (weight = mass * gravity)
gravity        (d,)         gravitational acceleration vector
fixed          (n,) or      True where a node (or one coordinate of it) is
               (n, d) bool  held in place by a support
loads          (n, d)       point loads (external forces) at the nodes
faces          (f, 4) int   quads known to a builder (for .obj files), or (0, 4)
cables         static bool  tension-only springs (no force when shorter than rest)
=============  ===========  ==============================================

Fixed nodes are exact: :func:`free_mask` turns ``fixed`` into the ``free``
mask of :func:`catenax.minimize`, so fixed coordinates are masked, never
penalised. ``fixed`` of shape ``(n, d)`` holds single coordinates (a roller
support); :func:`chain` uses it to keep the lesson's masses on their vertical
lines.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from catenax.errors import FieldError

__all__ = [
    "Network",
    "chain",
    "chain2d",
    "chain_network",
    "cloth",
    "free_mask",
    "from_arrays",
    "net",
    "support_nodes",
    "validate",
]

#: The array fields of a :class:`Network`, in pytree order.
ARRAY_FIELDS = (
    "positions",
    "springs",
    "rest_length",
    "stiffness",
    "mass",
    "gravity",
    "fixed",
    "loads",
    "faces",
)


#: Errors about one field of a network (the name predates :class:`catenax.errors.FieldError`).
NetworkError = FieldError


@dataclasses.dataclass(frozen=True, eq=False)
class Network:
    """A network of springs joining point masses, in 2D or 3D.

    Build one with :func:`from_arrays` or a builder (:func:`chain`,
    :func:`chain2d`, :func:`net`, :func:`cloth`); calling ``Network(...)``
    directly validates too. Inside JAX transformations the pytree machinery
    rebuilds networks without validation (the leaves may be tracers).

    Attributes:
        positions: node positions, shape ``(n, d)``, d = 2 or 3.
        springs: node index pairs, shape ``(m, 2)``, integer.
        rest_length: rest length per spring, shape ``(m,)``, >= 0.
        stiffness: spring constant per spring, shape ``(m,)``, >= 0.
        mass: mass per node, shape ``(n,)``, >= 0.
        gravity: gravitational acceleration, shape ``(d,)``; the weight of
            node i is ``mass[i] * gravity``.
        fixed: supports, bool of shape ``(n,)`` (whole nodes) or ``(n, d)``
            (single coordinates).
        loads: point loads, shape ``(n, d)``.
        faces: quads ``(a, b, c, d)`` known to a builder, shape ``(f, 4)``
            (``(0, 4)`` when none); used by the ``.obj`` writer and plots.
        cables: static flag; when true every spring is tension-only.

    Raises:
        ValueError: a field has the wrong shape, a non-finite or negative
            value, an index out of range, a spring joins a node to itself, or
            a free node has no spring (see :func:`validate`).
        TypeError: a field is not numeric.

    Example:
        >>> import catenax
        >>> net = catenax.Network(
        ...     positions=[[0.0, 0.0], [1.0, 0.0]], springs=[[0, 1]], rest_length=[1.0],
        ...     stiffness=[10.0], mass=[1.0, 1.0], gravity=[0.0, -9.81],
        ...     fixed=[True, False], loads=[[0.0, 0.0], [0.0, 0.0]])
        >>> net.n_nodes, net.n_springs, net.dim
        (2, 1, 2)
    """

    positions: Any
    springs: Any
    rest_length: Any
    stiffness: Any
    mass: Any
    gravity: Any
    fixed: Any
    loads: Any
    faces: Any = None
    cables: bool = False

    def __post_init__(self):
        fields = _checked_fields(
            {name: getattr(self, name) for name in ARRAY_FIELDS}, bool(self.cables)
        )
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "cables", bool(self.cables))

    @property
    def n_nodes(self) -> int:
        """Number of nodes ``n``."""
        return self.positions.shape[-2]

    @property
    def n_springs(self) -> int:
        """Number of springs ``m``."""
        return self.springs.shape[-2]

    @property
    def dim(self) -> int:
        """Spatial dimension ``d`` (2 or 3)."""
        return self.positions.shape[-1]

    def replace(self, **changes) -> Network:
        """A copy with some fields changed (validated again).

        Example:
            >>> import catenax
            >>> catenax.chain2d(3).replace(cables=True).cables
            True
        """
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        try:
            return (
                f"Network(n_nodes={self.n_nodes}, n_springs={self.n_springs}, "
                f"dim={self.dim}, cables={self.cables})"
            )
        except Exception:  # leaves that are not arrays (inside tree utilities)
            return "Network(...)"


def _flatten(net):
    return tuple(getattr(net, f) for f in ARRAY_FIELDS), net.cables


def _flatten_with_keys(net):
    children = tuple((jax.tree_util.GetAttrKey(f), getattr(net, f)) for f in ARRAY_FIELDS)
    return children, net.cables


def unflatten(cables, children):
    """A Network from its pytree leaves, without validation (the leaves may be tracers).

    Args:
        cables: the static ``cables`` flag.
        children: the array fields in the order of :data:`ARRAY_FIELDS`.

    Returns:
        The :class:`Network` (unchecked: use :func:`validate` for concrete data).

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(3)
        >>> same = unflatten(net.cables, [getattr(net, f) for f in ARRAY_FIELDS])
        >>> same.positions.shape == net.positions.shape
        True
    """
    obj = object.__new__(Network)
    for name, value in zip(ARRAY_FIELDS, children, strict=True):
        object.__setattr__(obj, name, value)
    object.__setattr__(obj, "cables", cables)
    return obj


jax.tree_util.register_pytree_with_keys(Network, _flatten_with_keys, unflatten, _flatten)


# ----------------------------------------------------------------- validation


def _float_dtype():
    return jnp.result_type(float)


def _as_float(name, value, shape_hint):
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected numbers ({shape_hint}), got {_short(value)}") from None
    return arr


def _short(value, limit=80) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _finite(name, arr):
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f"[{', '.join(map(str, idx))}]" if idx else ""
        raise NetworkError(
            name, f"{name}{where} = {arr[idx]!r} is not finite; give a finite number"
        )


def _checked_fields(raw: dict, cables: bool) -> dict:
    """Validate raw field values and return them as JAX arrays (see :func:`validate`)."""
    if any(isinstance(v, jax.core.Tracer) for v in raw.values()):
        return raw  # built inside a transformation: nothing concrete to check
    pos = _as_float("positions", raw["positions"], "an (n, d) array")
    if pos.ndim != 2 or pos.shape[1] not in (2, 3):
        raise NetworkError(
            "positions",
            f"expected shape (n, 2) or (n, 3) (one row per node), got shape {pos.shape}",
        )
    if pos.shape[0] < 1:
        raise NetworkError("positions", "no nodes given; give at least one row")
    _finite("positions", pos)
    n, d = pos.shape

    springs = np.asarray(raw["springs"])
    if springs.size == 0:
        springs = np.zeros((0, 2), dtype=np.int32)
    if springs.dtype.kind == "f":
        if not np.all(np.isfinite(springs)) or np.any(springs != np.round(springs)):
            raise TypeError(f"springs: node indices must be integers, got {_short(springs)}")
        springs = springs.astype(np.int64)
    if springs.dtype.kind not in "iu":
        raise TypeError(f"springs: node indices must be integers, got {_short(raw['springs'])}")
    if springs.ndim != 2 or springs.shape[1] != 2:
        raise NetworkError(
            "springs", f"expected shape (m, 2) (one [i, j] pair per spring), got {springs.shape}"
        )
    m = springs.shape[0]
    out_of_range = (springs < 0) | (springs >= n)
    if out_of_range.any():
        k = int(np.argwhere(out_of_range)[0][0])
        raise NetworkError(
            "springs",
            f"springs[{k}] = {springs[k].tolist()} refers to a node that does not exist; "
            f"node indices run from 0 to {n - 1}",
        )
    self_loop = springs[:, 0] == springs[:, 1]
    if self_loop.any():
        k = int(np.argwhere(self_loop)[0][0])
        raise NetworkError(
            "springs",
            f"springs[{k}] = {springs[k].tolist()} joins node {springs[k, 0]} to itself; "
            f"remove it or join two different nodes",
        )
    if m:
        key = np.sort(springs, axis=1)
        _, first, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
        if (counts > 1).any():
            dup = key[first[counts > 1][0]].tolist()
            warnings.warn(
                f"springs: the pair {dup} appears {counts[counts > 1][0]} times "
                f"({int((counts > 1).sum())} duplicated pair(s) in all); duplicates add "
                f"their stiffness — remove them unless that is intended",
                stacklevel=4,
            )

    def per(name, value, length, what):
        arr = _as_float(name, value, f"one number or {length} numbers")
        if arr.ndim == 0:
            arr = np.full((length,), float(arr))
        if arr.shape != (length,):
            raise NetworkError(
                name,
                f"expected one number or one per {what} (shape ({length},)), got shape {arr.shape}",
            )
        _finite(name, arr)
        return arr

    rest = per("rest_length", raw["rest_length"], m, "spring")
    stiff = per("stiffness", raw["stiffness"], m, "spring")
    mass = per("mass", raw["mass"], n, "node")
    for name, arr, fix in (
        ("rest_length", rest, "use a length >= 0"),
        ("stiffness", stiff, "use a spring constant >= 0"),
        ("mass", mass, "use a mass >= 0 (gravity sets the direction of the weight)"),
    ):
        if (arr < 0).any():
            k = int(np.argwhere(arr < 0)[0][0])
            raise NetworkError(name, f"{name}[{k}] = {arr[k]!r} is negative; {fix}")

    grav = _as_float("gravity", raw["gravity"], f"a vector of {d} numbers")
    if grav.shape != (d,):
        raise NetworkError(
            "gravity", f"expected a vector of {d} numbers (dim = {d}), got shape {grav.shape}"
        )
    _finite("gravity", grav)

    loads = raw["loads"]
    loads = np.zeros((n, d)) if loads is None else _as_float("loads", loads, f"an ({n}, {d}) array")
    if loads.shape != (n, d):
        raise NetworkError(
            "loads", f"expected shape ({n}, {d}) (one force vector per node), got {loads.shape}"
        )
    _finite("loads", loads)

    fixed = raw["fixed"]
    fixed = np.zeros(n, bool) if fixed is None else np.asarray(fixed)
    if fixed.dtype != bool:
        if fixed.dtype.kind in "iuf" and np.isin(fixed, (0, 1)).all():
            fixed = fixed.astype(bool)
        else:
            raise TypeError(
                f"fixed: expected a boolean mask of shape ({n},) or ({n}, {d}), got "
                f"{_short(raw['fixed'])}; to give node indices use from_arrays(fixed=[...])"
            )
    if fixed.shape not in ((n,), (n, d)):
        raise NetworkError(
            "fixed", f"expected a boolean mask of shape ({n},) or ({n}, {d}), got {fixed.shape}"
        )

    faces = raw["faces"]
    faces = np.zeros((0, 4), np.int32) if faces is None else np.asarray(faces)
    if faces.size == 0:
        faces = np.zeros((0, 4), np.int32)
    if faces.ndim != 2 or faces.shape[1] != 4 or faces.dtype.kind not in "iu":
        raise NetworkError("faces", f"expected integer quads of shape (f, 4), got {faces.shape}")
    if ((faces < 0) | (faces >= n)).any():
        raise NetworkError("faces", f"a face refers to a node outside 0..{n - 1}")

    # A node with a free coordinate and no spring would fall (or drift) forever.
    free_node = ~fixed.all(axis=1) if fixed.ndim == 2 else ~fixed
    joined = np.zeros(n, bool)
    joined[springs.ravel()] = True
    lonely = np.flatnonzero(free_node & ~joined)
    if lonely.size:
        listed = ", ".join(map(str, lonely[:10])) + (", ..." if lonely.size > 10 else "")
        raise NetworkError(
            "springs",
            f"node {listed} {'is' if lonely.size == 1 else 'are'} free but joined by no "
            f"spring (it would fall forever); add a spring to "
            f"{'it' if lonely.size == 1 else 'them'} or fix {'it' if lonely.size == 1 else 'them'}",
        )

    fdt = _float_dtype()
    return {
        "positions": jnp.asarray(pos, fdt),
        "springs": jnp.asarray(springs, jnp.int32),
        "rest_length": jnp.asarray(rest, fdt),
        "stiffness": jnp.asarray(stiff, fdt),
        "mass": jnp.asarray(mass, fdt),
        "gravity": jnp.asarray(grav, fdt),
        "fixed": jnp.asarray(fixed, bool),
        "loads": jnp.asarray(loads, fdt),
        "faces": jnp.asarray(faces, jnp.int32),
    }


def validate(net: Network) -> Network:
    """Check a network again (e.g. one assembled by tree utilities) and return it.

    Checks: positions of shape (n, 2) or (n, 3); springs of shape (m, 2) with
    integer indices in 0..n-1 and no spring joining a node to itself (duplicate
    pairs only warn); rest lengths, stiffnesses and masses finite and >= 0 with
    one value per spring/node; gravity of shape (d,); loads of shape (n, d);
    fixed of shape (n,) or (n, d); every node with a free coordinate joined by
    at least one spring.

    Args:
        net: the network.

    Returns:
        A validated copy with fields as JAX arrays.

    Raises:
        ValueError: a check fails; the message names the field, the value and the fix.
        TypeError: a field is not numeric.

    Example:
        >>> import catenax
        >>> catenax.validate(catenax.chain2d(4)).n_nodes
        6
    """
    return dataclasses.replace(net)


# ------------------------------------------------------------------ helpers


def free_mask(net: Network):
    """The ``free`` mask of :func:`catenax.minimize` for a network: 1 free, 0 fixed.

    Args:
        net: the network.

    Returns:
        Array of shape ``(n, d)`` and the positions' dtype.

    Example:
        >>> import catenax
        >>> catenax.free_mask(catenax.chain2d(2))[:, 0].tolist()
        [0.0, 1.0, 1.0, 0.0]
    """
    fixed = jnp.asarray(net.fixed)
    if fixed.ndim == net.positions.ndim - 1:
        fixed = jnp.broadcast_to(fixed[..., None], net.positions.shape)
    return jnp.where(fixed, 0.0, 1.0).astype(net.positions.dtype)


def fixed_coordinates(net: Network) -> np.ndarray:
    """``fixed`` as a boolean array of shape ``(n, d)``."""
    fixed = np.asarray(net.fixed)
    if fixed.ndim == 1:
        fixed = np.repeat(fixed[:, None], net.dim, axis=1)
    return fixed


def support_nodes(net: Network) -> np.ndarray:
    """Indices of the nodes held by a support (any coordinate fixed).

    Example:
        >>> import catenax
        >>> catenax.support_nodes(catenax.chain2d(3)).tolist()
        [0, 4]
    """
    return np.flatnonzero(fixed_coordinates(net).any(axis=1))


def _vector(name, value, d):
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        # A number g means "downwards along the last axis" with magnitude g.
        vec = np.zeros(d)
        vec[-1] = -float(arr)
        return vec
    if arr.shape != (d,):
        raise NetworkError(
            name, f"expected a number or a vector of {d} numbers, got {_short(value)}"
        )
    return arr


def _indices_mask(name, value, n):
    """A boolean node mask from indices (list of ints) or a mask (list of bools)."""
    if value is None:
        return np.zeros(n, bool)
    arr = np.asarray(value)
    if arr.size == 0:
        return np.zeros(n, bool)
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise TypeError(f"{name}: expected a list of node indices, got {_short(value)}")
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        raise NetworkError(
            name,
            f"node index {int(arr[bad][0])} does not exist; node indices run from 0 to {n - 1}",
        )
    mask = np.zeros(n, bool)
    mask[arr] = True
    return mask


def from_arrays(
    positions,
    springs,
    *,
    rest_length: Any = "initial",
    stiffness: Any = 1.0,
    mass: Any = 1.0,
    gravity: Any = None,
    fixed: Any = None,
    loads: Any = None,
    cables: bool = False,
    faces: Any = None,
) -> Network:
    """Build a network from plain arrays, broadcasting numbers.

    Args:
        positions: node positions, shape ``(n, d)``, d = 2 or 3.
        springs: node index pairs, shape ``(m, 2)``.
        rest_length: one number, one per spring, or ``"initial"`` (the spring
            lengths at ``positions``).
        stiffness: one number or one per spring.
        mass: one number or one per node.
        gravity: a vector of d numbers, or a number g meaning ``-g`` along the
            last axis; ``None`` for no gravity.
        fixed: node indices held in place (a list of ints), or a boolean mask
            of shape ``(n,)`` or ``(n, d)``.
        loads: ``None``, an ``(n, d)`` array, or a list of rows
            ``[node, f_1, ..., f_d]`` (loads on the same node add up).
        cables: tension-only springs.
        faces: optional quads, shape ``(f, 4)``.

    Returns:
        A validated :class:`Network`.

    Raises:
        ValueError: bad shapes or values (see :func:`validate`).
        TypeError: non-numeric input.

    Example:
        >>> import catenax
        >>> net = catenax.from_arrays([[0, 0], [1, 0], [2, 0]], [[0, 1], [1, 2]],
        ...                           stiffness=100.0, gravity=9.81, fixed=[0, 2])
        >>> net.rest_length.tolist(), [round(g, 6) for g in net.gravity.tolist()]
        ([1.0, 1.0], [0.0, -9.81])
    """
    pos = _as_float("positions", positions, "an (n, d) array")
    if pos.ndim != 2 or pos.shape[1] not in (2, 3):
        raise NetworkError(
            "positions",
            f"expected shape (n, 2) or (n, 3) (one row per node), got shape {pos.shape}",
        )
    n, d = pos.shape
    spr = np.asarray(springs)
    if isinstance(rest_length, str):
        if rest_length != "initial":
            raise NetworkError(
                "rest_length",
                f"{rest_length!r} is not understood; give a number, one number per spring, "
                f"or 'initial'",
            )
        if spr.size and spr.ndim == 2 and spr.shape[1] == 2 and spr.dtype.kind in "iu":
            ok = (spr >= 0).all() and (spr < n).all()
            rest_length = np.linalg.norm(pos[spr[:, 1]] - pos[spr[:, 0]], axis=1) if ok else 1.0
        else:
            rest_length = 1.0  # shape errors in springs are reported by validation
    grav = np.zeros(d) if gravity is None else _vector("gravity", gravity, d)
    fixed_arr = None if fixed is None else np.asarray(fixed)
    if fixed_arr is not None and not (
        fixed_arr.dtype == bool and fixed_arr.shape in ((n,), (n, d))
    ):
        fixed_arr = _indices_mask("fixed", fixed, n)
    load_arr = None
    if loads is not None:
        load_arr = _as_float("loads", loads, f"an ({n}, {d}) array or rows [node, f...]")
        if load_arr.size == 0:
            load_arr = None
        elif load_arr.shape != (n, d):
            load_arr = _load_rows(load_arr, n, d)
    return Network(
        positions=pos,
        springs=spr,
        rest_length=rest_length,
        stiffness=stiffness,
        mass=mass,
        gravity=grav,
        fixed=fixed_arr,
        loads=load_arr,
        faces=faces,
        cables=cables,
    )


def _load_rows(rows, n, d):
    if rows.ndim != 2 or rows.shape[1] != d + 1:
        raise NetworkError(
            "loads",
            f"expected rows [node, f_1, ..., f_{d}] ({d + 1} numbers each) or an ({n}, {d}) "
            f"array, got shape {rows.shape}",
        )
    _finite("loads", rows)
    idx = rows[:, 0]
    if np.any(idx != np.round(idx)) or np.any((idx < 0) | (idx >= n)):
        k = int(np.argwhere((idx != np.round(idx)) | (idx < 0) | (idx >= n))[0][0])
        raise NetworkError(
            "loads",
            f"loads[{k}] starts with node {rows[k, 0]:g}, which does not exist; node indices "
            f"run from 0 to {n - 1}",
        )
    out = np.zeros((n, d))
    np.add.at(out, idx.astype(np.int64), rows[:, 1:])
    return out


# ----------------------------------------------------------------- builders


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise NetworkError(name, f"{value} is too small; use an integer >= {minimum}")
    return int(value)


def _check_positive(name, value, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name}: expected a number, got {value!r}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        need = ">= 0" if allow_zero else "> 0"
        raise NetworkError(name, f"{value!r} must be a finite number {need}")
    return float(value)


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
        y = np.asarray(y, dtype=float).ravel()
        n = y.size
    n = _check_count("n", n, 1)
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
        raise NetworkError(
            "supports",
            f"unknown supports {supports!r}; use 'corners', 'edges', 'sides', 'top' or a "
            f"list of node indices (node = row * cols + col)",
        )
    return np.flatnonzero(_indices_mask("supports", supports, n))


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
