"""What a design returns (:class:`DesignResult`) and the designed scenario it writes.

:func:`designed_scenario` is the scenario of the designed structure in the
same schema as the one it started from: the varied keys replaced by lists per
spring (``rest_length``, ``stiffness``, ``ea``, ``prestress``,
``force_density``) or per node (``mass``; ``loads`` as rows
``[node, f_1, ..., f_d]``); a ``builder = ...`` scenario (or a network without
a file) is written in the explicit form (:func:`explicit_structure`). A
relative ``mesh`` path is rewritten when the file is written
(:func:`catenax.io.write_scenario`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from catenax.model import Network

__all__ = ["DESIGN_KEYS", "DesignResult", "designed_scenario", "explicit_structure"]

#: The keys of :meth:`DesignResult.to_dict` (and of ``catenax design --json``), in order.
DESIGN_KEYS = (
    "status",
    "converged",
    "steps",
    "loss",
    "max_deviation",
    "min_tension",
    "stable",
    "min_eigenvalue",
    "variables",
    "positions",
    "message",
)


@dataclasses.dataclass(frozen=True)
class DesignResult:
    """The outcome of :func:`catenax.design`.

    Attributes:
        status: ``"converged"`` (the optimiser's tolerance was met),
            ``"max_steps"`` (the step budget ran out) or ``"failed"`` (the
            loss diverged, or the designed structure has no stable equilibrium).
        converged: ``status == "converged"``.
        steps: outer (L-BFGS) steps taken.
        loss: the final loss (dimensionless: see :func:`catenax.design`).
        max_deviation: the largest distance of a target node from its target
            (length units), at the relaxed designed structure.
        min_tension: the lowest tension of the cables (of all springs when
            there are none) there.
        stable: whether that equilibrium is a stable minimum (``None``: no verdict).
        min_eigenvalue: its lowest Hessian eigenvalue (free coordinates).
        variables: name -> the designed values of each varied key, per spring
            or node (all of them, the unvaried ones as they were; ``loads`` is
            ``(n, d)``).
        positions: the relaxed designed structure, ``(n, d)``.
        message: what happened, in words.
        network: the designed :class:`~catenax.Network`.
        scenario: the designed scenario as a dict (write it with
            :func:`catenax.io.write_scenario`).
        history: the loss after each step.
        target_nodes: the nodes the target gives.
        target_positions: their target positions.
        base_dir: the folder relative paths of the scenario start from.
    """

    status: str
    converged: bool
    steps: int
    loss: float
    max_deviation: float
    min_tension: float
    stable: bool | None
    min_eigenvalue: float | None
    variables: dict
    positions: np.ndarray
    message: str
    network: Network
    scenario: dict
    history: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    target_nodes: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, int))
    target_positions: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 2)))
    base_dir: Any = None

    def to_dict(self) -> dict:
        """The JSON object of the result: :data:`DESIGN_KEYS` in order, then ``steps_history``.

        Example:
            >>> r = DesignResult("converged", True, 3, 0.0, 0.0, 1.0, True, 2.0,
            ...                  {"mass": np.ones(2)}, np.zeros((2, 2)), "ok", None, {})
            >>> list(r.to_dict())[:3], r.to_dict()["variables"]
            (['status', 'converged', 'steps'], {'mass': [1.0, 1.0]})
        """
        out = {key: getattr(self, key) for key in DESIGN_KEYS}
        out["variables"] = {k: np.asarray(v).tolist() for k, v in self.variables.items()}
        out["positions"] = np.asarray(self.positions).tolist()
        out["loss_history"] = np.asarray(self.history).tolist()
        return out


def _axes(row) -> str:
    return "".join(a for a, held in zip("xyz", row, strict=False) if held)


def explicit_structure(net: Network) -> dict:
    """The explicit ``[structure]`` table of a network (every value per spring/node).

    Args:
        net: the network.

    Returns:
        A dict with ``dim``, ``nodes``, ``springs``, ``stiffness``,
        ``rest_length``, ``mass``, ``gravity``, ``fixed`` (indices, rollers
        as ``[node, "AXES"]``), ``cables`` and ``loads`` (only nodes with a load).

    Example:
        >>> import catenax
        >>> s = explicit_structure(catenax.chain2d(1))
        >>> s["fixed"], s["springs"], s["cables"]
        ([0, 2], [[0, 1], [1, 2]], False)
    """
    fixed = np.asarray(net.fixed, bool)
    if fixed.ndim == 1:
        fixed_list: list = np.flatnonzero(fixed).tolist()
    else:
        fixed_list = [int(i) if row.all() else [int(i), _axes(row)]
                      for i, row in enumerate(fixed) if row.any()]  # fmt: skip
    cables = np.asarray(net.tension_only, bool)
    out = {
        "dim": int(net.dim),
        "nodes": np.asarray(net.positions, float).tolist(),
        "springs": np.asarray(net.springs).tolist(),
        "stiffness": np.asarray(net.stiffness, float).tolist(),
        "rest_length": np.asarray(net.rest_length, float).tolist(),
        "mass": np.asarray(net.mass, float).tolist(),
        "gravity": np.asarray(net.gravity, float).tolist(),
        "fixed": fixed_list,
        "cables": bool(cables.all()) if cables.all() or not cables.any()
        else np.flatnonzero(cables).tolist(),
    }  # fmt: skip
    rows = _load_rows(np.asarray(net.loads, float))
    if rows:
        out["loads"] = rows
    return out


def _load_rows(loads: np.ndarray) -> list:
    return [[int(i), *loads[i].tolist()] for i in np.flatnonzero(np.any(loads != 0, axis=1))]


def designed_scenario(raw: dict | None, net: Network, values: dict, explicit: bool) -> dict:
    """The designed scenario: ``raw`` with the varied keys replaced by their designed values.

    Args:
        raw: the scenario dict it started from (``None``: a network without a file).
        net: the designed network.
        values: name -> the designed values of each varied key (per spring or
            node; ``mass`` is the nodes' own mass when the scenario gives
            ``line_mass``).
        explicit: write the structure in the explicit form (a builder scenario,
            or no ``raw``).

    Returns:
        A new scenario dict (``title``, ``description``, ``[solver]`` and
        ``[units]`` kept).

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(1)
        >>> s = designed_scenario(None, net, {"rest_length": np.array([0.5, 0.7])}, True)
        >>> s["structure"]["rest_length"]
        [0.5, 0.7]
    """
    raw = dict(raw or {})
    if explicit or "structure" not in raw:
        structure = explicit_structure(net)
    else:
        structure = dict(raw["structure"])
    for name, value in values.items():
        arr = np.asarray(value, float)
        structure[name] = _load_rows(arr) if name == "loads" else arr.tolist()
    if "loads" in structure and not structure["loads"]:
        del structure["loads"]
    raw["structure"] = structure
    return raw
