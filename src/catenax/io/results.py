"""The JSON result of a relaxed network: :func:`result_to_dict` and its keys.

The keys of :data:`RESULT_KEYS` come first, in order (a contract); ``method``
and the engineer's keys of :data:`ENGINEER_KEYS` (springs, rest lengths, strain
energy, displacements, units) follow. Everything is a plain Python value
(strict JSON; NaN as ``None``).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax.numpy as jnp
import numpy as np

from catenax.model import (
    Network,
    reactions,
    spring_lengths,
    strain_energy,
    support_nodes,
    tensions,
)

from .files import to_jsonable

__all__ = ["ENGINEER_KEYS", "RESULT_KEYS", "UNIT_KEYS", "check_units", "result_to_dict"]

#: Keys of :func:`result_to_dict`, in order (``method`` and extras follow).
RESULT_KEYS = (
    "status",
    "converged",
    "steps",
    "energy",
    "grad_max",
    "min_eigenvalue",
    "stable",
    "positions",
    "lengths",
    "tensions",
    "reactions",
    "message",
)

#: Keys that follow ``method``: what an engineer rebuilds and checks the structure with.
ENGINEER_KEYS = ("springs", "rest_lengths", "strain_energy", "displacements", "units")

#: The entries of a ``units`` dict (metadata only: nothing is converted).
UNIT_KEYS = ("length", "force")


def check_units(units) -> dict | None:
    """``units`` as ``{"length": str | None, "force": str | None}``, or ``None``.

    Args:
        units: ``None``, or a mapping with some of the keys ``length`` and
            ``force`` (strings, or ``None`` for unknown).

    Returns:
        ``None``, or a new dict with both keys.

    Raises:
        TypeError: ``units`` is not a mapping, or a value is not a string.
        ValueError: a key other than ``length`` and ``force``.

    Example:
        >>> check_units({"force": "kN"})
        {'length': None, 'force': 'kN'}
        >>> check_units(None) is None
        True
    """
    if units is None:
        return None
    if not isinstance(units, Mapping):
        raise TypeError(
            f"units: {units!r} is not a dict; use e.g. {{'length': 'm', 'force': 'kN'}}"
        )
    unknown = sorted(set(units) - set(UNIT_KEYS))
    if unknown:
        raise ValueError(f"units: unknown key {unknown[0]!r}; use 'length' and 'force'")
    out = {k: units.get(k) for k in UNIT_KEYS}
    for k, v in out.items():
        if v is not None and not isinstance(v, str):
            raise TypeError(f"units: {k} = {v!r} is not a string; use e.g. {k} = 'm'")
    return out


def result_to_dict(result, net: Network, units=None) -> dict:
    """The JSON result of a relaxed network (strict JSON types, NaN as ``None``).

    Keys, in order: ``status``, ``converged``, ``steps``, ``energy``,
    ``grad_max``, ``min_eigenvalue`` and ``stable`` (from ``result.extra``
    when the stability verdict ran, else ``None``), ``positions`` (all nodes,
    fixed ones included), ``lengths``, ``tensions`` (positive in tension, 0 for
    a slack cable), ``reactions`` (``{"node": i, "force": [...]}`` for each
    support), ``message``, then ``method``; then the keys of
    :data:`ENGINEER_KEYS`: ``springs`` (the node index pairs ``[i, j]``, so
    the structure can be rebuilt), ``rest_lengths``, ``strain_energy``
    (``sum 1/2 k (L - L0)^2`` over the stretched members, a slack cable
    counting 0: :func:`catenax.strain_energy`, without the loads' potential
    that ``energy`` adds on absolute positions), ``displacements`` (positions
    minus the network's initial positions, every node) and ``units``
    (``{"length": ..., "force": ...}`` or ``None``); then any other entries of
    ``result.extra``.

    Args:
        result: a :class:`catenax.Result` of relaxing ``net``.
        net: the network that was relaxed.
        units: ``None`` or ``{"length": str | None, "force": str | None}``
            (metadata, e.g. a scenario's ``[units]`` table; see :func:`check_units`).

    Returns:
        A dict of plain Python values.

    Raises:
        TypeError, ValueError: ``units`` is not such a dict.

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(4)
        >>> r = catenax.minimize(catenax.network_energy, net.positions, net,
        ...                      free=catenax.free_mask(net), method="adam",
        ...                      max_steps=5, tol=None)
        >>> d = result_to_dict(r, net)
        >>> list(d)[:4], d["reactions"][0]["node"]
        (['status', 'converged', 'steps', 'energy'], 0)
        >>> d["springs"][:2], d["displacements"][0], d["units"]
        ([[0, 1], [1, 2]], [0.0, 0.0], None)
    """
    units = check_units(units)
    x = jnp.asarray(result.positions, net.positions.dtype)
    extra = dict(getattr(result, "extra", {}) or {})
    react = np.asarray(reactions(x, net))
    out = {
        "status": result.status,
        "converged": bool(result.converged),
        "steps": int(result.steps),
        "energy": float(result.energy),
        "grad_max": float(result.grad_max),
        "min_eigenvalue": extra.pop("min_eigenvalue", None),
        "stable": extra.pop("stable", None),
        "positions": np.asarray(x).tolist(),
        "lengths": np.asarray(spring_lengths(x, net)).tolist(),
        "tensions": np.asarray(tensions(x, net)).tolist(),
        "reactions": [{"node": int(i), "force": react[i].tolist()} for i in support_nodes(net)],
        "message": result.message,
        "method": getattr(result, "method", None),
        "springs": None,  # below: plain ints already, so not walked pair by pair
        "rest_lengths": np.asarray(net.rest_length),  # arrays: to_jsonable's fast path
        "strain_energy": float(strain_energy(x, net)),
        "displacements": np.asarray(x) - np.asarray(net.positions),
        "units": units,
    }
    for k, v in extra.items():
        out.setdefault(k, v)
    out = to_jsonable(out)
    out["springs"] = np.asarray(net.springs).tolist()
    return out
