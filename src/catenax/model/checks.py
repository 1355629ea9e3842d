"""The field checks of a :class:`~catenax.Network`: one named check per field.

:func:`checked_fields` runs them in a fixed order (positions, springs, the
per-spring and per-node numbers, gravity, loads, fixed, faces, then the
springs that hold every free node), so the first problem found is the one
reported. Every check raises :class:`catenax.errors.FieldError` (a
``ValueError`` that names the field) or ``TypeError`` for non-numeric input.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from catenax.errors import FieldError

#: How far :func:`_warn_duplicates` is from the caller of ``Network(...)``:
#: _warn_duplicates <- _springs <- checked_fields <- __post_init__ <- __init__ <- caller.
_WARN_STACKLEVEL = 6


def as_float(name, value, shape_hint):
    """``value`` as a float numpy array, refusing what is not a number.

    Booleans, strings, complex numbers and other non-numeric input raise a
    ``TypeError`` naming ``name`` (numpy would turn ``True`` into 1.0 and
    ``"9.81"`` into 9.81); an integer too large for a float64 raises a
    :class:`~catenax.errors.FieldError`. Only concrete values reach this function.
    """
    raw = value if isinstance(value, (np.ndarray, jax.Array)) else _plain(value)
    kind = np.dtype(raw.dtype).kind if hasattr(raw, "dtype") else "O"
    if kind == "b" or (kind in "iuf" and _has_bool(value)):
        raise TypeError(f"{name}: expected numbers ({shape_hint}), got booleans {short(value)}")
    if kind not in "iuf" and kind != "O":
        raise TypeError(f"{name}: expected numbers ({shape_hint}), got {short(value)}")
    try:
        arr = np.asarray(raw, dtype=float)
    except OverflowError:
        raise FieldError(
            name, f"a number in {short(value)} is too large for a float64 (at most "
            f"{np.finfo(np.float64).max:.4g}); give finite numbers"
        ) from None  # fmt: skip
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected numbers ({shape_hint}), got {short(value)}") from None
    return arr


def _has_bool(value) -> bool:
    """A ``True``/``False`` inside nested lists (numpy would take it as 1.0 or 0.0)."""
    if not isinstance(value, (list, tuple)):
        return isinstance(value, (bool, np.bool_))
    stack = [value]
    while stack:
        for item in stack.pop():
            kind = type(item)
            if kind is list or kind is tuple:
                stack.append(item)
            elif kind is bool or kind is np.bool_:
                return True
    return False


def _plain(value):
    """A list or number as a numpy array, keeping what numpy makes of it (objects for huge ints)."""
    try:
        return np.asarray(value)
    except (TypeError, ValueError, OverflowError):  # ragged lists: let the float cast decide
        return np.asarray(value, dtype=object) if isinstance(value, (list, tuple)) else value


def short(value, limit=80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages."""
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def finite(name, arr):
    """Refuse a non-finite entry of ``arr``, naming its index."""
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f"[{', '.join(map(str, idx))}]" if idx else ""
        raise FieldError(name, f"{name}{where} = {arr[idx]!r} is not finite; give a finite number")


def check_positions_shape(pos):
    """Refuse positions that are not one row of 2 or 3 numbers per node."""
    if pos.ndim != 2 or pos.shape[1] not in (2, 3):
        raise FieldError(
            "positions",
            f"expected shape (n, 2) or (n, 3) (one row per node), got shape {pos.shape}",
        )


def _positions(value):
    pos = as_float("positions", value, "an (n, d) array")
    check_positions_shape(pos)
    if pos.shape[0] < 1:
        raise FieldError("positions", "no nodes given; give at least one row")
    finite("positions", pos)
    return pos


def _spring_indices(value):
    """Springs as an integer array (floats with integer values are accepted)."""
    springs = np.asarray(value)
    if springs.size == 0:
        springs = np.zeros((0, 2), dtype=np.int32)
    if springs.dtype.kind == "f":
        if not np.all(np.isfinite(springs)) or np.any(springs != np.round(springs)):
            raise TypeError(f"springs: node indices must be integers, got {short(springs)}")
        springs = springs.astype(np.int64)
    if springs.dtype.kind == "O" and all(isinstance(v, int) for v in springs.ravel()):
        raise FieldError(  # an index too big for int64
            "springs", f"a spring refers to a node that does not exist, in {short(value)}"
        )
    if springs.dtype.kind not in "iu":
        raise TypeError(f"springs: node indices must be integers, got {short(value)}")
    if springs.ndim != 2 or springs.shape[1] != 2:
        raise FieldError(
            "springs", f"expected shape (m, 2) (one [i, j] pair per spring), got {springs.shape}"
        )
    return springs


def _springs(value, n):
    springs = _spring_indices(value)
    out_of_range = (springs < 0) | (springs >= n)
    if out_of_range.any():
        k = int(np.argwhere(out_of_range)[0][0])
        raise FieldError(
            "springs",
            f"springs[{k}] = {springs[k].tolist()} refers to a node that does not exist; "
            f"node indices run from 0 to {n - 1}",
        )
    self_loop = springs[:, 0] == springs[:, 1]
    if self_loop.any():
        k = int(np.argwhere(self_loop)[0][0])
        raise FieldError(
            "springs",
            f"springs[{k}] = {springs[k].tolist()} joins node {springs[k, 0]} to itself; "
            f"remove it or join two different nodes",
        )
    if springs.shape[0]:
        _warn_duplicates(springs)
    return springs


def _warn_duplicates(springs):
    key = np.sort(springs, axis=1)
    _, first, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = key[first[counts > 1][0]].tolist()
        warnings.warn(
            f"springs: the pair {dup} appears {counts[counts > 1][0]} times "
            f"({int((counts > 1).sum())} duplicated pair(s) in all); duplicates add "
            f"their stiffness — remove them unless that is intended",
            stacklevel=_WARN_STACKLEVEL,
        )


def _per(name, value, length, what):
    """One number (broadcast) or one per spring/node, finite."""
    arr = as_float(name, value, f"one number or {length} numbers")
    if arr.ndim == 0:
        arr = np.full((length,), float(arr))
    if arr.shape != (length,):
        raise FieldError(
            name,
            f"expected one number or one per {what} (shape ({length},)), got shape {arr.shape}",
        )
    finite(name, arr)
    return arr


def _non_negative(rest, stiff, mass):
    for name, arr, fix in (
        ("rest_length", rest, "use a length >= 0"),
        ("stiffness", stiff, "use a spring constant >= 0"),
        ("mass", mass, "use a mass >= 0 (gravity sets the direction of the weight)"),
    ):
        if (arr < 0).any():
            k = int(np.argwhere(arr < 0)[0][0])
            raise FieldError(name, f"{name}[{k}] = {arr[k]!r} is negative; {fix}")


def _gravity(value, d):
    grav = as_float("gravity", value, f"a vector of {d} numbers")
    if grav.shape != (d,):
        raise FieldError(
            "gravity", f"expected a vector of {d} numbers (dim = {d}), got shape {grav.shape}"
        )
    finite("gravity", grav)
    return grav


def _loads(value, n, d):
    loads = np.zeros((n, d)) if value is None else as_float("loads", value, f"an ({n}, {d}) array")
    if loads.shape != (n, d):
        raise FieldError(
            "loads", f"expected shape ({n}, {d}) (one force vector per node), got {loads.shape}"
        )
    finite("loads", loads)
    return loads


def _fixed(value, n, d):
    fixed = np.zeros(n, bool) if value is None else np.asarray(value)
    if fixed.dtype != bool:
        if fixed.dtype.kind in "iuf" and np.isin(fixed, (0, 1)).all():
            fixed = fixed.astype(bool)
        else:
            raise TypeError(
                f"fixed: expected a boolean mask of shape ({n},) or ({n}, {d}), got "
                f"{short(value)}; to give node indices use from_arrays(fixed=[...])"
            )
    if fixed.shape not in ((n,), (n, d)):
        raise FieldError(
            "fixed", f"expected a boolean mask of shape ({n},) or ({n}, {d}), got {fixed.shape}"
        )
    return fixed


def _faces(value, n):
    faces = np.zeros((0, 4), np.int32) if value is None else np.asarray(value)
    if faces.size == 0:
        faces = np.zeros((0, 4), np.int32)
    if faces.ndim != 2 or faces.shape[1] < 3 or faces.dtype.kind not in "iu":
        raise FieldError(
            "faces", f"expected integer faces of shape (f, k) with k >= 3, got {faces.shape}"
        )
    if ((faces < -1) | (faces >= n)).any():
        raise FieldError("faces", f"a face refers to a node outside 0..{n - 1} (-1 pads)")
    if faces.size and ((faces >= 0).sum(axis=1) < 3).any():
        raise FieldError("faces", "a face has fewer than 3 corners; give 3 or more node indices")
    return faces


def _fits(name, arr, dtype):
    """Refuse a value the network's float type cannot hold (float32 when float64 is off)."""
    top = float(np.finfo(dtype).max)
    big = np.abs(arr) > top
    if big.any():
        idx = tuple(int(i) for i in np.argwhere(big)[0])
        where = f"[{', '.join(map(str, idx))}]" if idx else ""
        raise FieldError(
            name,
            f"{name}{where} = {float(arr[idx])!r} is beyond {np.dtype(dtype).name} (at most "
            f"{top:.4g}); use smaller units, or run in float64 (jax_enable_x64; "
            f"--dtype float64 on the command line)",
        )


def _every_free_node_joined(fixed, springs, n):
    """A node with a free coordinate and no spring would fall (or drift) forever."""
    free_node = ~fixed.all(axis=1) if fixed.ndim == 2 else ~fixed
    joined = np.zeros(n, bool)
    joined[springs.ravel()] = True
    lonely = np.flatnonzero(free_node & ~joined)
    if lonely.size:
        listed = ", ".join(map(str, lonely[:10])) + (", ..." if lonely.size > 10 else "")
        one = lonely.size == 1
        raise FieldError(
            "springs",
            f"node {listed} {'is' if one else 'are'} free but joined by no "
            f"spring (it would fall forever); add a spring to "
            f"{'it' if one else 'them'} or fix {'it' if one else 'them'}",
        )


def checked_fields(raw: dict) -> dict:
    """Validate raw field values and return them as JAX arrays (see :func:`catenax.validate`).

    Every field but ``tension_only`` (made from ``cables`` by
    :func:`~catenax.model.convert.cable_flags`). Inside a JAX transformation
    (any field a tracer) nothing is checked.
    """
    if any(isinstance(v, jax.core.Tracer) for v in raw.values()):
        return raw  # built inside a transformation: nothing concrete to check
    pos = _positions(raw["positions"])
    n, d = pos.shape
    springs = _springs(raw["springs"], n)
    m = springs.shape[0]
    rest = _per("rest_length", raw["rest_length"], m, "spring")
    stiff = _per("stiffness", raw["stiffness"], m, "spring")
    mass = _per("mass", raw["mass"], n, "node")
    _non_negative(rest, stiff, mass)
    grav = _gravity(raw["gravity"], d)
    loads = _loads(raw["loads"], n, d)
    fixed = _fixed(raw["fixed"], n, d)
    faces = _faces(raw["faces"], n)
    _every_free_node_joined(fixed, springs, n)
    fdt = jnp.result_type(float)
    for name, arr in (("positions", pos), ("rest_length", rest), ("stiffness", stiff),
                      ("mass", mass), ("gravity", grav), ("loads", loads)):  # fmt: skip
        _fits(name, arr, fdt)
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


def check_dtype_range(net, dtype) -> None:
    """Refuse a network whose forces or energy would overflow in ``dtype``.

    The solvers square forces (norms in the line search, CG and the stability
    verdict's Lanczos vectors), so the force scale ``F`` (stiffness times the
    network's length scale, weights, loads) times ``sqrt(n d)`` must stay
    below ``sqrt(max(dtype)) / 10``, and the energy scale below ``max(dtype) / 10``.
    Computed on the host in float64 from concrete values.

    Args:
        net: a validated :class:`~catenax.Network` (concrete arrays).
        dtype: the dtype of the run (``"float32"`` or ``"float64"``).

    Raises:
        FieldError: the field that sets the largest scale (``stiffness``,
            ``mass``, ``gravity``, ``loads`` or ``positions``), with the limit.

    Example:
        >>> import catenax
        >>> check_dtype_range(catenax.chain2d(3), "float32")
        >>> check_dtype_range(catenax.chain2d(3, stiffness=1e30), "float32")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: stiffness: forces of 1.3e+30 ... would overflow in float32; ...
    """
    info = np.finfo(np.dtype(dtype))
    pos = np.asarray(net.positions, np.float64)
    n_coords = max(pos.size, 1)
    extent = float(np.max(np.ptp(pos, axis=0))) if pos.size else 0.0
    rest = np.asarray(net.rest_length, np.float64)
    length = max(extent + (float(rest.max()) if rest.size else 0.0), 1.0)
    stiff = np.asarray(net.stiffness, np.float64)
    weights = np.abs(np.asarray(net.mass, np.float64)).max() * np.abs(net.gravity).max()
    scales = {
        "stiffness": (float(stiff.max()) if stiff.size else 0.0) * length,
        "mass": float(weights),
        "loads": float(np.abs(np.asarray(net.loads, np.float64)).max()),
        "positions": float(np.abs(pos).max()),
    }
    field, force = max(scales.items(), key=lambda kv: kv[1])
    limit = float(np.sqrt(info.max)) / 10
    energy = force * length * n_coords
    if force * np.sqrt(n_coords) > limit or energy > float(info.max) / 10:
        name = np.dtype(dtype).name
        other = ", or float64" if info.bits < 64 else ""
        raise FieldError(
            field,
            f"forces of {force:.2g} (with lengths up to {length:.2g} and {n_coords} coordinates) "
            f"would overflow in {name}; keep forces times sqrt(coordinates) below "
            f"{limit:.2g}: use smaller values (other units){other}",
        )
