"""The members of an explicit ``[structure]`` table as an engineer gives them.

A spring of a :class:`~catenax.Network` is a spring constant and a rest length;
a scenario may give each member instead by

* ``stiffness`` (a spring constant k) or ``ea`` (the axial stiffness EA, force
  units: ``k = EA / rest length``);
* ``rest_length``, ``prestress`` (the tension T0 at the drawn geometry) or
  ``force_density`` (``q = T0 / L``): the rest length follows from T0
  (``L / (1 + T0/EA)`` with ``ea``, ``L - T0/k`` with ``stiffness``);
* ``cables``: ``true``/``false`` or a list of tension-only spring indices;
* ``line_mass``: mass per unit rest length, lumped half onto each end node
  (added to ``mass``, which then defaults to 0).

The conversions are :mod:`catenax.model.members`'; this module reads the keys,
checks them and says which spring is wrong. Every error is the ``ValueError``
of :meth:`ScenarioText.error` ("file:line: structure.key: ...").
"""

from __future__ import annotations

import numpy as np

from catenax.model import (
    lumped_line_mass,
    prestress_from_force_density,
    rest_length_from_prestress,
    stiffness_from_ea,
)

from .scenario_text import ScenarioText
from .scenario_values import (
    is_number,
    read_bool,
    read_indices,
    read_number_or_list,
    show_value,
)

__all__ = ["ALTERNATIVES", "EXCLUSIVE", "read_cables", "read_members"]

_T = "structure"

#: Groups of keys of which at most one may be given.
EXCLUSIVE = (("stiffness", "ea"), ("rest_length", "prestress", "force_density"))

#: A key of the explicit form -> the keys that may stand in for it.
ALTERNATIVES = {
    "stiffness": ("ea",),
    "rest_length": ("prestress", "force_density"),
    "mass": ("line_mass",),
}


def read_cables(ctx: ScenarioText, value, m: int) -> np.ndarray:
    """The ``cables`` key: ``true``/``false`` or a list of spring indices -> a mask ``(m,)``.

    Args:
        ctx: the scenario's text (for messages).
        value: the key's value.
        m: the number of springs.

    Returns:
        A boolean mask, True for a tension-only spring.

    Raises:
        ValueError: not a boolean or a list, or a spring index outside ``0..m-1``.

    Example:
        >>> ctx = ScenarioText("s.toml", None)
        >>> read_cables(ctx, [0, 2], 3).tolist(), read_cables(ctx, True, 2).tolist()
        ([True, False, True], [True, True])
    """
    if isinstance(value, list):
        what = "give the indices of the tension-only springs (or true/false)"
        mask = np.zeros(m, bool)
        mask[read_indices(ctx, _T, "cables", value, what, m, noun="spring")] = True
        return mask
    if isinstance(value, (bool, np.bool_)):
        return np.full(m, read_bool(ctx, _T, "cables", value))
    raise ctx.error(
        _T,
        "cables",
        f"{show_value(value)} is not true or false (or a list of spring indices); write "
        f"cables = true, cables = false or cables = [0, 2] (no quotes)",
    )


def read_members(s: dict, ctx: ScenarioText, nodes, springs) -> dict:
    """``stiffness``, ``rest_length``, ``mass`` and ``cables`` of :func:`~catenax.from_arrays`.

    Reads the member keys of an explicit ``[structure]`` table (see the module
    doc). A key given as in the classic form (``stiffness`` with
    ``rest_length``, no ``line_mass``) is passed on as it is, so that the
    network's own checks report it.

    Args:
        s: the ``[structure]`` table (its keys already checked: one of each
            group of :data:`ALTERNATIVES` is present).
        ctx: the scenario's text (for messages).
        nodes: node positions, shape ``(n, d)``.
        springs: node index pairs, shape ``(m, 2)``.

    Returns:
        A dict with the keys ``stiffness``, ``rest_length``, ``mass``, ``cables``.

    Raises:
        ValueError: two keys of one group of :data:`EXCLUSIVE`; a bad value
            (``ea <= 0``, a negative ``line_mass``, a wrong count); a prestress
            no rest length > 0 can give, compression on a cable, prestress on
            a spring of length 0; a rest length <= 0 with ``ea``.

    Example:
        >>> ctx = ScenarioText("s.toml", None)
        >>> s = {"ea": 100.0, "prestress": 1.0, "line_mass": 2.0, "cables": [0]}
        >>> out = read_members(s, ctx, np.array([[0.0, 0.0], [2.02, 0.0]]), np.array([[0, 1]]))
        >>> out["rest_length"].tolist(), out["stiffness"].tolist(), out["mass"].tolist()
        ([2.0], [50.0], [2.0, 2.0])
    """
    check_exclusive(s, ctx)
    n, m = len(nodes), len(springs)
    cables = read_cables(ctx, s.get("cables", False), m)
    lengths = np.linalg.norm(nodes[springs[:, 1]] - nodes[springs[:, 0]], axis=1)
    ea = _per_spring(ctx, "ea", s["ea"], m, positive=True) if "ea" in s else None
    stiffness = s.get("stiffness")
    if stiffness is not None:
        stiffness = read_number_or_list(ctx, _T, "stiffness", stiffness, _count_fix(m, "spring"))
    key = next((k for k in ("prestress", "force_density") if k in s), None)
    if key is not None:
        if ea is None:
            stiffness = _per_spring(ctx, "stiffness", s["stiffness"], m, minimum=0.0)
        rest = _rest_from_prestress(ctx, s, key, lengths, cables, ea, stiffness)
    elif ea is not None or "line_mass" in s:
        rest = _rest_array(ctx, s["rest_length"], lengths, positive=ea is not None)
    else:
        rest = _rest_length(ctx, s["rest_length"], m)
    if ea is not None:
        stiffness = np.asarray(stiffness_from_ea(ea, rest), dtype=float)
    mass = _mass(s, ctx, springs, rest, n)
    return dict(stiffness=stiffness, rest_length=rest, mass=mass, cables=cables)


def check_exclusive(s: dict, ctx: ScenarioText) -> None:
    """Refuse two keys of one group of :data:`EXCLUSIVE` (the message names both).

    Example:
        >>> check_exclusive({"ea": 1.0, "stiffness": 2.0}, ScenarioText("s.toml", None))
        Traceback (most recent call last):
        ...
        ValueError: s.toml: structure.ea: ea and stiffness are both given; keep one of them
    """
    for group in EXCLUSIVE:
        given = [k for k in group if k in s]
        if len(given) > 1:
            raise ctx.error(
                _T, given[-1], f"{given[-1]} and {given[0]} are both given; keep one of them"
            )


def _count_fix(m: int, noun: str) -> str:
    return f"give one number or {m} (one per {noun})"


def _per_spring(ctx, key, value, m, minimum=None, positive=False, noun="spring"):
    """One number or ``m`` numbers -> a float array ``(m,)``, each in range."""
    raw = value
    arr = read_number_or_list(ctx, _T, key, raw, _count_fix(m, noun))
    one = is_number(raw)
    arr = np.full(m, arr) if one else np.asarray(arr, dtype=float)
    if arr.shape != (m,):
        raise ctx.error(_T, key, f"has {arr.size} numbers for {m} {noun}s; {_count_fix(m, noun)}")
    bad = (arr <= 0) if positive else (arr < minimum) if minimum is not None else None
    if bad is not None and bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = "" if one else f"[{i}]"
        want = "> 0" if positive else f">= {minimum:g}"
        word = "negative" if arr[i] < 0 else "zero"
        raise ctx.error(
            _T, key, f"{key}{where} = {float(arr[i])!r} is {word}; give {key} {want}{_why(key)}"
        )
    return arr


def _why(key) -> str:
    if key == "ea":
        return " (a member without axial stiffness carries nothing: remove its spring)"
    return ""


def _rest_length(ctx, rest, m):
    """``rest_length`` as the classic form reads it: a number, a list or ``"initial"``."""
    if isinstance(rest, str):
        if rest != "initial":
            raise ctx.error(
                _T,
                "rest_length",
                f'{rest!r} is not understood; give a number, one number per spring, or "initial"',
            )
        return rest
    return read_number_or_list(
        ctx, _T, "rest_length", rest, f'give one number, {m} (one per spring) or "initial"'
    )


def _rest_array(ctx, value, lengths, positive):
    """``rest_length`` as an array ``(m,)`` (``"initial"``: the lengths), > 0 with ``ea``."""
    rest = _rest_length(ctx, value, len(lengths))
    initial = isinstance(rest, str)
    arr = lengths.copy() if initial else _per_spring(ctx, "rest_length", value, len(lengths))
    bad = np.flatnonzero(~(arr > 0) if positive else (arr < 0))
    if bad.size:
        i = int(bad[0])
        if initial:
            what = f'rest_length = "initial" but spring {i} has length {float(arr[i])!r}'
        else:
            what = f"rest_length{'' if is_number(value) else f'[{i}]'} = {float(arr[i])!r}"
        why = ("with ea the spring constant is EA / rest length, so rest lengths must be > 0; "
               "give rest_length > 0 (or stiffness instead of ea)") if positive else (
               "rest lengths must be >= 0; give rest_length >= 0")  # fmt: skip
        raise ctx.error(_T, "rest_length", f"{what}: {why}")
    return arr


def _rest_from_prestress(ctx, s, key, lengths, cables, ea, stiffness):
    """Rest lengths that give the prestress (or force density) at the initial geometry."""
    m = len(lengths)
    one = is_number(s[key])
    if key == "force_density":
        q = _per_spring(ctx, key, s[key], m)
        t0 = np.asarray(prestress_from_force_density(q, lengths), dtype=float)
    else:
        t0 = _per_spring(ctx, key, s[key], m)

    def fail(i, detail):
        where = "" if one else f"[{i}]"
        given = float(s[key] if one else s[key][i])
        t = f", a tension T0 = q L = {t0[i]:.6g}" if key == "force_density" else ""
        raise ctx.error(_T, key, f"{key}{where} = {given!r} on spring {i} (length "
                        f"{lengths[i]:.6g}{t}): {detail}")  # fmt: skip

    for i in np.flatnonzero(lengths == 0):
        fail(int(i), "its nodes are at the same point, so it has no tension to prescribe; "
             "move a node, or give rest_length for it")  # fmt: skip
    for i in np.flatnonzero(cables & (t0 < 0)):
        fail(int(i), "compression, but the spring is a cable (tension-only) and a cable "
             "cannot be prestressed in compression; give a tension >= 0, or make it a strut "
             "(leave it out of cables)")  # fmt: skip
    if ea is not None:
        for i in np.flatnonzero(t0 <= -ea):
            fail(int(i), f"needs a rest length L / (1 + T0/EA) <= 0 (EA = {ea[i]:.6g}); the "
                 f"most compression allowed is T0 > -EA = {-ea[i]:.6g}")  # fmt: skip
        return np.asarray(rest_length_from_prestress(lengths, t0, ea=ea), dtype=float)
    for i in np.flatnonzero((stiffness == 0) & (t0 != 0)):
        fail(int(i), "the spring has stiffness 0 and carries no force at any rest length; "
             "give it a stiffness > 0, or a prestress of 0")  # fmt: skip
    limit = stiffness * lengths
    for i in np.flatnonzero((t0 != 0) & (t0 >= limit)):
        fail(int(i), f"needs a rest length L - T0/k <= 0 (k = {stiffness[i]:.6g}); the "
             f"largest prestress allowed is below k L = {limit[i]:.6g}")  # fmt: skip
    safe = np.where(stiffness > 0, stiffness, 1.0)
    rest = np.asarray(rest_length_from_prestress(lengths, t0, stiffness=safe), dtype=float)
    return np.where(t0 == 0, lengths, rest)


def _mass(s, ctx, springs, rest, n):
    """``mass`` as given, plus the lumped ``line_mass`` (``mass`` then defaults to 0)."""
    if "line_mass" not in s:
        return read_number_or_list(ctx, _T, "mass", s["mass"], _count_fix(n, "node"))
    mu = _per_spring(ctx, "line_mass", s["line_mass"], len(springs), minimum=0.0)
    own = _per_spring(ctx, "mass", s.get("mass", 0.0), n, minimum=0.0, noun="node")
    return own + np.asarray(lumped_line_mass(springs, rest, mu, n), dtype=float)
