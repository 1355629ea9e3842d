"""The arguments of :func:`~catenax.model.network.from_arrays` as network fields.

Numbers and node indices are turned into the arrays a :class:`~catenax.Network`
holds: a number ``g`` into a gravity vector, node indices into a mask, rows
``[node, f...]`` into loads, ``"initial"`` into rest lengths. The field checks
proper are in :mod:`catenax.model.checks`.
"""

from __future__ import annotations

import numpy as np

from catenax.errors import FieldError

from .checks import as_float, finite, short

__all__ = ["cable_flags", "loads_from_rows"]


def vector(name, value, d):
    """A vector of ``d`` numbers, or a number ``g``: ``-g`` along the last axis."""
    arr = as_float(name, value, f"a number or a vector of {d} numbers")
    if arr.ndim == 0:
        # A number g means "downwards along the last axis" with magnitude g.
        vec = np.zeros(d)
        vec[-1] = -float(arr)
        return vec
    if arr.shape != (d,):
        raise FieldError(name, f"expected a number or a vector of {d} numbers, got {short(value)}")
    return arr


def indices_mask(name, value, n):
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
    if arr.dtype.kind == "O" and all(isinstance(v, int) for v in arr.ravel()):
        big = next(v for v in arr.ravel() if not -(2**63) <= v < 2**63)  # too big for int64
        raise FieldError(
            name, f"node index {short(big)} does not exist; node indices run from 0 to {n - 1}"
        )
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise TypeError(f"{name}: expected a list of node indices, got {short(value)}")
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        raise FieldError(
            name,
            f"node index {int(arr[bad][0])} does not exist; node indices run from 0 to {n - 1}",
        )
    mask = np.zeros(n, bool)
    mask[arr] = True
    return mask


def rest_length_arg(rest_length, pos, spr):
    """``rest_length`` as given, or the spring lengths at ``pos`` for ``"initial"``."""
    if not isinstance(rest_length, str):
        return rest_length
    if rest_length != "initial":
        raise FieldError(
            "rest_length",
            f"{rest_length!r} is not understood; give a number, one number per spring, "
            f"or 'initial'",
        )
    if spr.size and spr.ndim == 2 and spr.shape[1] == 2 and spr.dtype.kind in "iu":
        ok = (spr >= 0).all() and (spr < pos.shape[0]).all()
        return np.linalg.norm(pos[spr[:, 1]] - pos[spr[:, 0]], axis=1) if ok else 1.0
    return 1.0  # shape errors in springs are reported by validation


def fixed_arg(fixed, n, d):
    """``fixed`` as given when it is a boolean mask, else node indices -> a node mask."""
    fixed_arr = None if fixed is None else np.asarray(fixed)
    if fixed_arr is not None and not (
        fixed_arr.dtype == bool and fixed_arr.shape in ((n,), (n, d))
    ):
        fixed_arr = indices_mask("fixed", fixed, n)
    return fixed_arr


def loads_arg(loads, n, d):
    """``loads`` as an ``(n, d)`` array (from rows ``[node, f...]`` if need be), or ``None``."""
    if loads is None:
        return None
    load_arr = as_float("loads", loads, f"an ({n}, {d}) array or rows [node, f...]")
    if load_arr.size == 0:
        return None
    if load_arr.shape != (n, d):
        return loads_from_rows(load_arr, n, d)
    return load_arr


def loads_from_rows(rows, n: int, d: int) -> np.ndarray:
    """Point loads from rows ``[node, f_1, ..., f_d]``; loads on the same node add up.

    The rule of the ``loads`` rows of :func:`from_arrays` and of scenario files.

    Args:
        rows: a float array of shape ``(k, d + 1)``.
        n: number of nodes.
        d: dimension (2 or 3).

    Returns:
        The loads, shape ``(n, d)``.

    Raises:
        ValueError: rows of the wrong length, a non-finite number, or a node
            index that is not an integer in ``0..n-1`` (field ``loads``).

    Example:
        >>> import numpy as np
        >>> loads_from_rows(np.array([[1, 0.0, -2.0], [1, 0.5, 0.0]]), 3, 2).tolist()
        [[0.0, 0.0], [0.5, -2.0], [0.0, 0.0]]
    """
    if rows.ndim != 2 or rows.shape[1] != d + 1:
        raise FieldError(
            "loads",
            f"expected rows [node, f_1, ..., f_{d}] ({d + 1} numbers each) or an ({n}, {d}) "
            f"array, got shape {rows.shape}",
        )
    finite("loads", rows)
    idx = rows[:, 0]
    if np.any(idx != np.round(idx)) or np.any((idx < 0) | (idx >= n)):
        k = int(np.argwhere((idx != np.round(idx)) | (idx < 0) | (idx >= n))[0][0])
        raise FieldError(
            "loads",
            f"loads[{k}] starts with node {rows[k, 0]:g}, which does not exist; node indices "
            f"run from 0 to {n - 1}",
        )
    out = np.zeros((n, d))
    np.add.at(out, idx.astype(np.int64), rows[:, 1:])
    return out


def cable_flags(cables, value, m):
    """The per-spring cable mask from ``tension_only`` (when given) or ``cables``.

    ``cables`` is ``True``/``False`` (every spring or none), spring indices, or
    a boolean mask of shape ``(m,)``.
    """
    if value is not None:
        mask = np.asarray(value)
        if mask.dtype != bool or mask.shape != (m,):
            raise FieldError(
                "tension_only", f"expected a boolean mask of shape ({m},), got {short(value)}"
            )
        return mask
    if isinstance(cables, (bool, np.bool_)):
        return np.full(m, bool(cables))
    if isinstance(cables, (str, bytes)) or np.ndim(cables) != 1:
        raise TypeError(
            f"cables: expected True or False, spring indices or a mask of {m} booleans, got "
            f"{short(cables)}; strings and numbers are not taken as booleans"
        )
    arr = np.asarray(cables)
    if arr.dtype == bool:
        if arr.shape != (m,):
            raise FieldError(
                "cables", f"a mask needs {m} booleans (one per spring), got {arr.size}"
            )
        return arr
    if arr.size and (arr.dtype.kind not in "iu"):
        raise TypeError(f"cables: expected spring indices (integers), got {short(cables)}")
    arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= m)
    if bad.any():
        raise FieldError(
            "cables",
            f"spring index {int(arr[bad][0])} does not exist; spring indices run from 0 to {m - 1}",
        )
    mask = np.zeros(m, bool)
    mask[arr] = True
    return mask
