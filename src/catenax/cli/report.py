"""What ``relax`` reports: its JSON object, the human summary (chain or scenario), the files.

The JSON of a chain run is :func:`result_json`; the summary's rows share
:func:`verdict_lines` (the stability verdict) and :func:`minima_table` (the
distinct minima of a multistart run) between the chain and a scenario's network;
:func:`finish_run` prints either, then writes the output files unless the run diverged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import typer

from catenax.io import json_text, to_jsonable

from .common import EXIT_DIVERGED, EXIT_OK, error, option_text

__all__ = [
    "chain_summary",
    "finish_run",
    "minima_table",
    "number",
    "print_lines",
    "result_json",
    "scenario_summary",
    "unit_suffixes",
    "verdict_lines",
]


def result_json(result, params: dict) -> dict:
    """The CLI's JSON object for a chain run: ``result.to_dict()``, ``y`` and ``params``.

    Every field of :meth:`catenax.Result.to_dict` is kept (so fields added to
    the Result appear automatically), except ``positions``, which is reported
    as ``y`` (the N heights, ends excluded). Non-finite numbers become ``null``.

    Args:
        result: a :class:`catenax.Result` of a chain run.
        params: the run's parameters (n, spring, length, mass_g, lr, dtype, ...).

    Returns:
        A JSON-ready dict with keys ``method``, ``status``, ``converged``,
        ``steps``, ``energy``, ``grad_max``, ``message``, ..., ``y``, ``params``.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(3), 5.0, 0.8, 0.1,
        ...                      method="gd", max_steps=5, tol=None)
        >>> d = result_json(r, {"n": 3})
        >>> d["status"], len(d["y"]), d["params"]
        ('max_steps', 3, {'n': 3})
    """
    d = result.to_dict()
    del d["positions"]  # the array itself converts without a Python step per height
    return to_jsonable({**d, "y": np.asarray(result.positions), "params": params})


def number(value, fmt: str) -> str:
    """``value`` formatted with ``fmt``, or ``"nan"`` for ``None`` (a non-finite JSON number).

    Example:
        >>> number(0.123456, ".3g"), number(None, ".3g")
        ('0.123', 'nan')
    """
    return "nan" if value is None else format(value, fmt)


def verdict_lines(data: dict) -> list[tuple[str, str]]:
    """Rows of the human summary for the stability verdict of a result's JSON.

    Args:
        data: a result dict with ``status`` and, where the verdict ran,
            ``stable``, ``min_eigenvalue``, ``gd_step_max`` and (when known)
            ``verdict`` and ``certified``.

    Returns:
        ``(label, text)`` rows: the verdict (stable minimum, saddle, singular,
        or not a minimum), with whether the eigenvalue is certified or
        estimated, and the largest stable gradient-descent step
        ``2/lambda_max``; empty when the result has no verdict (e.g. a
        diverged run).

    Example:
        >>> rows = verdict_lines({"status": "converged", "stable": True,
        ...                       "min_eigenvalue": 0.0463, "gd_step_max": 0.2387})
        >>> rows[0]
        ('verdict', 'stable minimum (lowest Hessian eigenvalue 0.0463 > 0)')
        >>> rows[1][1]
        '2/λmax = 0.2387 (largest stable gradient-descent step)'
        >>> verdict_lines({"status": "converged", "stable": False, "verdict": "singular",
        ...                "certified": True, "min_eigenvalue": 0.0})[0][1]
        'singular, not a stable minimum (lowest Hessian eigenvalue 0 ≈ 0, certified)'
    """
    stable = data.get("stable")
    if stable is None:
        return []
    lam = number(data.get("min_eigenvalue"), ".4g")
    certified = data.get("certified")
    how = "" if certified is None else (", certified" if certified else ", estimated")
    singular = data.get("verdict") == "singular"
    if data["status"] == "saddle":
        text = f"saddle point, not a minimum (lowest Hessian eigenvalue {lam} < 0{how})"
    elif stable and data["status"] == "converged":
        text = f"stable minimum (lowest Hessian eigenvalue {lam} > 0{how})"
    elif singular and data["status"] == "converged":
        text = f"singular, not a stable minimum (lowest Hessian eigenvalue {lam} ≈ 0{how})"
    elif stable:
        text = f"not converged; positive curvature here (lowest Hessian eigenvalue {lam} > 0{how})"
    elif singular:
        text = f"not converged; zero curvature here (lowest Hessian eigenvalue {lam} ≈ 0{how})"
    else:
        text = f"not a minimum: negative curvature (lowest Hessian eigenvalue {lam} < 0{how})"
    rows = [("verdict", text)]
    step = data.get("gd_step_max")
    if step is not None:
        rows.append(("GD step max", f"2/λmax = {step:.4g} (largest stable gradient-descent step)"))
    return rows


def minima_table(data: dict) -> list[str]:
    """The lines of the table of distinct minima of a multistart run.

    Args:
        data: a result dict with ``minima`` (a list of dicts with ``energy``,
            ``count``, ``symmetric`` and ``min_eigenvalue``) and ``multistart``.

    Returns:
        The lines to print (empty when the result has no ``minima``).

    Example:
        >>> lines = minima_table({"minima": [{"energy": -9.15, "count": 3,
        ...     "symmetric": False, "min_eigenvalue": 0.06}], "multistart": {"starts": 4}})
        >>> lines[0]
        'distinct stable minima found by 4 starts (best first):'
    """
    minima = data.get("minima")
    if minima is None:
        return []
    info = data.get("multistart") or {}
    starts = info.get("starts", "the")
    lines = [f"distinct stable minima found by {starts} starts (best first):"]
    if not minima:
        return lines + ["  none: no start converged to a stable minimum"]
    lines.append(f"  {'#':>3} {'energy':>18} {'count':>6} {'symmetric':>10} {'min eigenvalue':>15}")
    for k, m in enumerate(minima, start=1):
        sym = {True: "yes", False: "no"}.get(m.get("symmetric"), "-")
        lines.append(
            f"  {k:>3} {number(m.get('energy'), '.12g'):>18} {m.get('count', 0):>6} "
            f"{sym:>10} {number(m.get('min_eigenvalue'), '.4g'):>15}"
        )
    return lines


def _rows_and_tail(header: str, rows: list[tuple[str, Any]], data: dict) -> list[str]:
    """The summary's lines: header, ``label value`` rows, minima table, the status message."""
    width = max([12, *(len(key) for key, _ in rows)])
    lines = [header, *(f"  {key:<{width}} {value}" for key, value in rows)]
    lines += [f"  {line}" for line in minima_table(data)]
    if data["status"] != "diverged":
        lines.append(f"  {data['message']}")
    return lines


def _status_rows(data: dict, energy_unit: str = "") -> list[tuple[str, Any]]:
    return [
        ("status", data["status"]),
        ("steps", data["steps"]),
        ("energy", number(data["energy"], ".12g") + energy_unit),
        ("max|grad E|", number(data["grad_max"], ".3g")),
    ]


def chain_summary(data: dict) -> list[str]:
    """The human summary of ``catenax relax`` on the lesson's chain.

    Args:
        data: the run's :func:`result_json`.

    Returns:
        The lines to print.

    Example:
        >>> d = {"params": {"n": 2, "spring": 5.0, "length": 0.8, "mass_g": 0.1,
        ...                 "dtype": "float64"}, "method": "newton", "status": "converged",
        ...      "steps": 5, "energy": -0.1, "grad_max": 1e-12, "y": [-0.5, -0.5],
        ...      "message": "converged"}
        >>> chain_summary(d)[1].split()
        ['status', 'converged']
    """
    p = data["params"]
    header = (
        f"catenax relax: n={p['n']} spring={p['spring']:g} length={p['length']:g} "
        f"mass_g={p['mass_g']:g}, method {data['method']}, {p['dtype']}"
    )
    rows = [
        *_status_rows(data),
        ("lowest y", f"{min(data['y']):.9g}" if data["y"] else "-"),
        *verdict_lines(data),
    ]
    return _rows_and_tail(header, rows, data)


def print_lines(lines: list[str]) -> None:
    """Print ``lines`` on stdout."""
    for line in lines:
        typer.echo(line)


def unit_suffixes(units: dict | None) -> tuple[str, str, str]:
    """The suffixes ``" kN"``, ``" m"`` and ``" kN·m"`` of forces, lengths and energies.

    Each is ``""`` when its unit is unknown (an energy needs both).

    Example:
        >>> unit_suffixes({"length": "m", "force": "kN"})
        (' kN', ' m', ' kN·m')
        >>> unit_suffixes({"length": None, "force": "N"}), unit_suffixes(None)
        ((' N', '', ''), ('', '', ''))
    """
    units = units or {}
    force, length = units.get("force"), units.get("length")
    energy = f" {force}·{length}" if force and length else ""
    return (f" {force}" if force else "", f" {length}" if length else "", energy)


def _member_counts(t: np.ndarray, net) -> str:
    """``" (2 slack cables, 1 springs in compression)"``: slack among the cables, compression
    among the other springs (``""`` when there is nothing to say)."""
    cables = np.asarray(net.tension_only, dtype=bool)
    if cables.shape != t.shape:
        cables = np.full(t.shape, bool(net.cables))
    detail = []
    if cables.any():
        detail.append(f"{int(np.sum(t[cables] == 0))} slack cables")
    pushed = int(np.sum(t[~cables] < 0))
    if pushed:
        detail.append(f"{pushed} springs in compression")
    return f" ({', '.join(detail)})" if detail else ""


def _force_rows(data: dict, net) -> list[tuple[str, Any]]:
    """The units, tension, strain energy and reaction rows of a scenario's summary."""
    force, length, energy = unit_suffixes(data.get("units"))
    rows: list[tuple[str, Any]] = []
    if data.get("units"):
        rows.append(("units", f"length{length or ' -'}, force{force or ' -'} (as given)"))
    t = np.asarray([np.nan if v is None else v for v in data["tensions"]], dtype=float)
    if t.size:
        rows.append(
            (
                "tension",
                f"max {np.nanmax(t):.6g}{force}, min {np.nanmin(t):.6g}{force}"
                f"{_member_counts(t, net)}",
            )
        )
    if data.get("strain_energy") is not None:
        rows.append(("strain energy", f"{data['strain_energy']:.6g}{energy}"))
    react = data.get("reactions") or []
    if react:
        total = np.sum([r["force"] for r in react], axis=0)
        applied = np.asarray(net.mass, float)[:, None] * np.asarray(net.gravity, float)[None]
        applied = applied.sum(axis=0) + np.asarray(net.loads, float).sum(axis=0)
        fmt = lambda v: "[" + ", ".join(f"{x:.6g}" for x in v) + "]" + force  # noqa: E731
        rows.append(("reactions", f"{len(react)} supports; sum {fmt(total)}"))
        rows.append(("applied", f"weights + loads sum {fmt(applied)}"))
    return rows


def scenario_summary(data: dict, net) -> list[str]:
    """The human summary of a relaxed scenario: status, verdict, forces and reactions.

    With ``units`` in ``data`` (a scenario's ``[units]`` table), a ``units``
    row comes first among the forces, and tensions, reactions and the
    energies carry them (energies in force·length). Tension-only springs are
    counted when slack, the other springs when in compression.

    Args:
        data: the result dict of ``catenax relax SCENARIO`` (with ``scenario``
            and ``params``).
        net: the network that was relaxed (for the weights, loads and cables).

    Returns:
        The lines to print.

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(3)
        >>> r = catenax.minimize(catenax.network_energy, net.positions, net,
        ...                      free=catenax.free_mask(net))
        >>> d = catenax.result_to_dict(r, net, units={"length": "m", "force": "kN"})
        >>> d.update(scenario={"path": "c.toml", "title": None, "dim": 2, "nodes": 5,
        ...                    "springs": 4, "cables": False},
        ...          params={"method": "newton", "dtype": "float64"})
        >>> lines = scenario_summary(d, net)
        >>> lines[1].split()
        ['status', 'converged']
        >>> [line.split()[0] for line in lines if "kN" in line]
        ['energy', 'units', 'tension', 'strain', 'reactions', 'applied']
    """
    s, p = data["scenario"], data["params"]
    title = f' ("{s["title"]}")' if s.get("title") else ""
    n_cables = s.get("cable_springs", s["springs"] if s["cables"] else 0)
    if not s["cables"]:
        kind = ""
    elif n_cables >= s["springs"]:
        kind = ", cables (tension only)"
    else:
        kind = f", {n_cables} of them cables (tension only)"
    header = (
        f"catenax relax {s['path']}{title}: {s['nodes']} nodes, {s['springs']} springs, "
        f"{s['dim']}D{kind}; method {p['method']}, {p['dtype']}"
    )
    energy = unit_suffixes(data.get("units"))[2]
    rows = [*_status_rows(data, energy), *verdict_lines(data), *_force_rows(data, net)]
    return _rows_and_tail(header, rows, data)


def finish_run(
    data: dict,
    summary: Callable[[], list[str]],
    as_json: bool,
    diverged: str | None,
    outputs: list[tuple[Path | None, Callable[[Path], None]]],
) -> NoReturn:
    """Print a run's result, write its output files unless it diverged, and exit.

    Args:
        data: the result's JSON object (printed with ``--json``).
        summary: makes the human summary's lines (printed without ``--json``).
        as_json: print ``data`` as one JSON object on stdout; notes go to stderr.
        diverged: the run's message if it diverged, else ``None``.
        outputs: ``(path or None, write)`` pairs, in the order to write them.

    Raises:
        typer.Exit: always: :data:`EXIT_DIVERGED` (no file written) or :data:`EXIT_OK`.
    """
    note = (lambda s: typer.echo(s, err=True)) if as_json else typer.echo
    if "message" in data:  # the library's `max_steps` -> the CLI's --steps (in place: summary)
        data["message"] = option_text(data["message"])
    if as_json:
        typer.echo(json_text(data))
    else:
        print_lines(summary())
    wanted = [(path, write) for path, write in outputs if path is not None]
    if diverged is not None:
        error(option_text(diverged))
        if wanted:
            error("no output files were written because the run diverged.")
        raise typer.Exit(EXIT_DIVERGED)
    for path, write in wanted:
        write(path)
        note(f"wrote {path}")
    raise typer.Exit(EXIT_OK)
