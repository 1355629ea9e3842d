"""Result files of a relaxed network: .json, .npz, .csv and .obj, written atomically.

All writers go through :func:`catenax.io.atomic_write` (a temporary file
beside the destination, then ``os.replace``), so a reader never sees a
half-written file and a failed write leaves an existing file untouched.

* ``.json``: the dict of :func:`catenax.io.result_to_dict` (strict JSON).
* ``.npz``: arrays ``positions (n, d)``, ``springs (m, 2)``, ``lengths``,
  ``tensions``, ``reactions (n, d)`` (zero rows at free nodes),
  ``support_nodes``, ``fixed``, ``faces``, ``rest_lengths (m,)``,
  ``displacements (n, d)``, ``strain_energy`` (a scalar), the units as strings
  (``units_length`` and ``units_force``, ``""`` when unknown, and ``units``,
  the JSON text of the dict or ``"null"``), and the other fields (scalars as
  they are, anything else as its JSON text); loads with ``np.load`` without
  pickle.
* ``.csv``: one table with a ``kind`` column: ``node`` rows
  (``index, x, y[, z], fixed, rx, ry[, rz]``) then ``spring`` rows
  (``index, i, j, length, tension``); unused cells are empty.
* ``.obj``: vertices ``v x y z`` (z = 0 in 2D), the builder's quads as faces
  ``f`` and every spring that is not a quad edge as a line ``l`` (1-based
  indices), for CAD.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

from catenax.model import Network, fixed_coordinates, strain_energy

from .files import atomic_write, check_output_path, to_jsonable
from .mesh_files import write_obj

__all__ = ["NETWORK_SUFFIXES", "write_network_result"]

#: Suffixes :func:`write_network_result` can write.
NETWORK_SUFFIXES = (".json", ".npz", ".csv", ".obj")


def write_network_result(path: str | os.PathLike, data: Mapping[str, Any], net: Network) -> Path:
    """Write a relaxed network's result; the suffix picks the format (see module doc).

    Args:
        path: destination ending in .json, .npz, .csv or .obj; its folder must exist.
        data: the dict of :func:`catenax.result_to_dict` (``positions`` at least).
        net: the network that was relaxed (springs, supports, faces).

    Returns:
        The destination as a :class:`~pathlib.Path`.

    Raises:
        ValueError: unknown suffix, missing folder, or ``positions`` of the
            wrong shape for ``net``.

    Example:
        >>> import catenax, tempfile, pathlib
        >>> net = catenax.net(2, 2)
        >>> data = {"positions": net.positions.tolist()}
        >>> p = write_network_result(pathlib.Path(tempfile.mkdtemp()) / "n.obj", data, net)
        >>> p.read_text().splitlines()[-1]
        'f 1 2 4 3'
    """
    path = check_output_path(path, NETWORK_SUFFIXES, "path")
    x = np.asarray(data["positions"], dtype=float)
    if x.shape != tuple(net.positions.shape):
        raise ValueError(
            f"positions: shape {x.shape} does not match the network's {tuple(net.positions.shape)}"
        )
    suffix = path.suffix.lower()
    if suffix == ".obj":
        return write_obj(path, x, net)
    plain = to_jsonable(dict(data))
    if suffix == ".json":
        text = json.dumps(plain, indent=1) + "\n"
        return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    cols = _columns(x, data, net)
    if suffix == ".npz":
        arrays = _npz_arrays(cols, data, plain, net)

        def write_npz(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

        return atomic_write(path, write_npz)
    return atomic_write(path, lambda tmp: _write_csv(tmp, cols))


class _Columns(NamedTuple):
    """The per-node and per-spring numbers of a result file."""

    positions: np.ndarray  # (n, d)
    springs: np.ndarray  # (m, 2)
    fixed: np.ndarray  # (n, d) bool
    reactions: np.ndarray  # (n, d), zero rows at free nodes
    lengths: np.ndarray  # (m,)
    tensions: np.ndarray  # (m,), NaN where unknown


def _columns(x, data: Mapping[str, Any], net: Network) -> _Columns:
    springs = np.asarray(net.springs)
    reactions = np.zeros_like(x)
    for r in data.get("reactions") or []:
        reactions[int(r["node"])] = r["force"]
    lengths = np.asarray(
        data.get("lengths", np.linalg.norm(x[springs[:, 1]] - x[springs[:, 0]], axis=1)),
        dtype=float,
    )
    tens = np.asarray(
        [np.nan if t is None else t for t in data.get("tensions", [np.nan] * len(springs))],
        dtype=float,
    )
    return _Columns(x, springs, fixed_coordinates(net), reactions, lengths, tens)


def _npz_arrays(cols: _Columns, data: Mapping[str, Any], plain: dict, net: Network) -> dict:
    """The arrays of the .npz file: the columns, then every other entry of ``data``."""
    arrays = {
        "positions": cols.positions,
        "springs": cols.springs,
        "lengths": cols.lengths,
        "tensions": cols.tensions,
        "reactions": cols.reactions,
        "support_nodes": np.flatnonzero(cols.fixed.any(axis=1)),
        "fixed": cols.fixed,
        "faces": np.asarray(net.faces),
        **_engineer_arrays(cols.positions, data, net),
    }
    for key in data:
        if key in arrays or key in ("reactions",):
            continue
        value = plain[key]
        if value is None:
            arrays[key] = np.asarray(np.nan)
        elif isinstance(value, (bool, int, float, str)):
            arrays[key] = np.asarray(value)
        else:
            arrays[key] = np.asarray(json.dumps(value))
    return arrays


def _engineer_arrays(x, data: Mapping[str, Any], net: Network) -> dict:
    """Rest lengths, displacements, strain energy and units: from ``data``, else from ``net``."""
    if "strain_energy" in data and data["strain_energy"] is not None:
        energy = float(data["strain_energy"])
    else:
        energy = float(strain_energy(jnp.asarray(x, net.positions.dtype), net))
    units = data.get("units") or {}
    return {
        "rest_lengths": np.asarray(data.get("rest_lengths", net.rest_length), dtype=float),
        "displacements": np.asarray(
            data.get("displacements", x - np.asarray(net.positions)), dtype=float
        ),
        "strain_energy": np.asarray(energy),
        "units": np.asarray(json.dumps(data.get("units"))),
        "units_length": np.asarray(units.get("length") or ""),
        "units_force": np.asarray(units.get("force") or ""),
    }


def _write_csv(tmp: Path, cols: _Columns) -> None:
    """One table with a ``kind`` column: node rows, then spring rows (see the module doc)."""
    x, springs, fixed, reactions = cols.positions, cols.springs, cols.fixed, cols.reactions
    d = x.shape[1]
    axes = "xyz"[:d]
    header = (
        ["kind", "index"]
        + list(axes)
        + ["fixed"]
        + [f"r{a}" for a in axes]
        + ["i", "j", "length", "tension"]
    )
    blank_spring = ["", "", "", ""]
    blank_node = [""] * (2 * d + 1)
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in range(x.shape[0]):
            w.writerow(
                ["node", i]
                + [repr(float(v)) for v in x[i]]
                + [int(fixed[i].any())]
                + [repr(float(v)) for v in reactions[i]]
                + blank_spring
            )
        for s in range(springs.shape[0]):
            w.writerow(
                ["spring", s]
                + blank_node
                + [int(springs[s, 0]), int(springs[s, 1])]
                + [repr(float(cols.lengths[s])), repr(float(cols.tensions[s]))]
            )
