"""``catenax relax SCENARIO``: relax the spring network of a scenario file.

:func:`catenax.cli.relax.relax_command` hands over to :func:`relax_scenario`
when it is given a scenario file (the schema is in :mod:`catenax.io`).
Command-line options the user gave (``--method``, ``--lr``, ``--schedule``,
``--steps``, ``--tol``, ``--multistart``, ``--seed``) override the file's
``[solver]`` table; everything else comes from the file. The JSON result is
:func:`catenax.result_to_dict` of the library's :func:`catenax.solve_scenario`,
plus ``scenario`` (where the network came from: path, title, dim, nodes,
springs, ``cables`` — whether any spring is tension-only — and
``cable_springs``, how many) and ``params`` (the solver settings the run used);
the file's ``[units]`` reach the JSON (``units``), the summary and the figures.
``--compas`` writes the relaxed geometry as COMPAS 2 JSON
(:func:`catenax.io.write_compas`).
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from pathlib import Path
from typing import Any, NoReturn

import jax
import jax.numpy as jnp
import numpy as np

import catenax
import catenax.solvers
from catenax.errors import FieldError
from catenax.io import (
    NETWORK_SUFFIXES,
    Scenario,
    load_scenario,
    result_to_dict,
    solve_scenario,
    to_jsonable,
    write_compas,
    write_network_result,
)
from catenax.model import check_dtype_range
from catenax.solve import DEFAULT_RTOL, minimize
from catenax.solvers import make_schedule, parse_schedule

from .common import (
    ANIMATE_SUFFIXES,
    PLOT_SUFFIXES,
    check_outputs,
    effective_lr,
    record_every,
    setup_jax,
)
from .report import finish_run, scenario_summary
from .talk import working

__all__ = [
    "COMPAS_SUFFIXES",
    "MAX_FRAMES",
    "NETWORK_OUT_SUFFIXES",
    "check_distinct_outputs",
    "relax_scenario",
    "scenario_summary",
]

#: Suffixes of ``--out`` for a network.
NETWORK_OUT_SUFFIXES = NETWORK_SUFFIXES

#: Suffixes of ``--compas`` (COMPAS 2 JSON).
COMPAS_SUFFIXES = (".json",)

#: Most frames in a ``--animate`` GIF (they are picked denser early in the run).
MAX_FRAMES = 80


def _check_settings(scn: Scenario, settings: dict, from_file: set[str]) -> None:
    """Check the merged solver settings; name the file and key for values from the file.

    A message about a value given on the command line keeps its field; the
    error guard names the option (``learning_rate`` -> ``--lr``).
    """

    def fail(err: Exception) -> NoReturn:
        field, sep, rest = str(err).partition(":")
        if sep and field.strip() in from_file:
            raise scn.error("solver", field.strip(), rest.strip()) from None
        raise err

    seed = settings.get("seed")
    if "seed" in from_file and (isinstance(seed, bool) or not isinstance(seed, int)):
        fail(ValueError(f"seed: {seed!r} is not an integer; use e.g. seed = 0"))
    steps = settings.get("max_steps", _minimize_default("max_steps"))
    try:
        schedule = settings.get("schedule")
        if isinstance(schedule, str):  # checked even for methods that take no learning rate
            name, params = parse_schedule(schedule)
            make_schedule(name, 0.1, steps, **params)
        catenax.resolve_method(
            settings.get("method", catenax.solvers.DEFAULT_METHOD),
            settings.get("learning_rate"),
            schedule,
            steps,
        )
    except (ValueError, TypeError) as e:
        fail(e)


def _minimize_default(name: str) -> Any:
    return inspect.signature(minimize).parameters[name].default


def _as_dtype(scn: Scenario, dtype: str):
    """The scenario's network with its floating-point arrays in ``dtype``.

    Refused, naming the file and the key, when its forces or energy would
    overflow in ``dtype`` (:func:`catenax.model.check_dtype_range`).
    """
    try:
        check_dtype_range(scn.network, dtype)
    except FieldError as e:
        key = {"positions": "nodes"}.get(e.field, e.field)
        raise scn.error("structure", key, e.detail) from None

    def cast(a):
        a = jnp.asarray(a)
        return a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a

    return jax.tree.map(cast, scn.network)


def check_distinct_outputs(paths: dict[str, Path | None]) -> None:
    """Refuse two output options naming the same file (one would overwrite the other).

    Args:
        paths: ``{option: path or None}``.

    Raises:
        ValueError: two options name the same file.

    Example:
        >>> check_distinct_outputs({"--out": Path("r.json"), "--compas": None})
        >>> check_distinct_outputs({"--out": Path("r.json"), "--compas": Path("./r.json")})
        Traceback (most recent call last):
        ...
        ValueError: --compas: 'r.json' is also the file of --out; give each output its own file
    """
    seen: dict[Path, str] = {}
    for option, path in paths.items():
        if path is None:
            continue
        key = Path(os.path.abspath(Path(path).expanduser()))
        if key in seen:
            raise ValueError(
                f"{option}: '{path}' is also the file of {seen[key]}; give each output its own file"
            )
        seen[key] = option


def _settings(path: Path, scn: Scenario, overrides: dict, tol: tuple[bool, float | None]) -> dict:
    """The file's ``[solver]`` table with the options given on the command line over it."""
    explicit = {k: v for k, v in overrides.items() if v is not None}
    tol_given, tol_value = tol
    if tol_given:
        explicit["tol"] = tol_value  # None: no stopping test
    settings = {**scn.solver_settings, **explicit}
    _check_settings(scn, settings, set(scn.solver_settings) - set(explicit))
    return settings


def relax_scenario(
    path: Path,
    overrides: dict,
    tol_given: bool,
    tol_value: float | None,
    dtype: str,
    plot: Path | None,
    animate: Path | None,
    out: Path | None,
    as_json: bool,
    progress: bool | None = None,
    compas: Path | None = None,
) -> NoReturn:
    """Relax a scenario file's network and report it (the body of ``catenax relax SCENARIO``).

    Runs inside the ``relax`` command's error guard: a ``ValueError`` becomes
    exit code 2 with its message. Everything is checked before anything runs,
    and no file is written when the input is invalid or the run diverges.

    Args:
        path: the scenario file (.toml or .json).
        overrides: ``minimize`` keywords from the command line (``method``,
            ``learning_rate``, ``schedule``, ``max_steps``, ``multistart``,
            ``seed``); ``None`` means "not given", so the file's value is kept.
        tol_given: whether ``--tol`` was given.
        tol_value: its value (``None`` for ``--tol none``: no stopping test).
        dtype: ``"float32"`` or ``"float64"``.
        plot: ``--plot`` destination (png/svg/pdf) or ``None``.
        animate: ``--animate`` destination (gif) or ``None``.
        out: ``--out`` destination (json/npz/csv/obj) or ``None``.
        as_json: print the result as one JSON object on stdout.
        progress: ``--progress/--quiet`` (``None``: neither; see
            :func:`catenax.cli.talk.working`).
        compas: ``--compas`` destination (.json: the relaxed nodes, springs
            and faces as COMPAS 2 JSON) or ``None``.

    Returns:
        Never: it ends with ``typer.Exit`` (0 finished, 1 diverged).

    Raises:
        ValueError: a malformed scenario file (the message names the file, the
            key and, where known, the line), a bad option or output path.
        typer.Exit: at the end, with the exit code.

    Example:
        >>> relax_scenario(Path("net.toml"), {}, False, None, "float64",
        ...                None, None, None, True)  # doctest: +SKIP
    """
    check_outputs(
        **{
            "--out": (out, NETWORK_OUT_SUFFIXES),
            "--plot": (plot, PLOT_SUFFIXES),
            "--animate": (animate, ANIMATE_SUFFIXES),
            "--compas": (compas, COMPAS_SUFFIXES),
        }
    )
    check_distinct_outputs({"--out": out, "--plot": plot, "--animate": animate, "--compas": compas})
    setup_jax(x64=dtype == "float64")
    scn = load_scenario(path)
    settings = _settings(path, scn, overrides, (tol_given, tol_value))
    net = _as_dtype(scn, dtype)
    steps = settings.get("max_steps", _minimize_default("max_steps"))
    if plot is not None or animate is not None:
        settings["record_every"] = record_every(net.n_nodes * net.dim, steps)
    # Nothing relax reports uses the per-step history, which grows with the steps taken.
    settings.setdefault("history", False)
    with working(f"relaxing {path.name} ({net.n_nodes} nodes)", progress):
        result = solve_scenario(dataclasses.replace(scn, network=net, solver_settings=settings))
    data = _result_json(path, scn, net, result, settings, steps, dtype)

    method = data["params"]["method"]
    title = f"{scn.title or path.name}: {result.status}, {result.steps} steps of {method}"
    finish_run(
        data,
        lambda: scenario_summary(data, net),
        as_json,
        result.message if result.status == "diverged" else None,
        [
            (out, lambda p: write_network_result(p, data, net)),
            (compas, lambda p: _save_compas(p, data, net)),
            (plot, lambda p: _save_plot(p, data, net, title)),
            (animate, lambda p: _save_animation(p, result, net, data["units"])),
        ],
    )


def _result_json(path: Path, scn: Scenario, net, result, settings: dict, steps, dtype) -> dict:
    """The JSON object of a scenario run: the library's result, ``scenario`` and ``params``."""
    method = settings.get("method", catenax.solvers.DEFAULT_METHOD)
    params = {
        "method": method,
        "lr": effective_lr(method, settings.get("learning_rate")),
        "schedule": settings.get("schedule"),
        "steps": steps,
        "tol": settings["tol"] if "tol" in settings else DEFAULT_RTOL[dtype],
        "dtype": dtype,
        **{k: v for k, v in settings.items() if k in ("multistart", "seed")},
    }
    data = result_to_dict(result, net, units=scn.units)
    data["scenario"] = {
        "path": str(path),
        "title": scn.title,
        "dim": net.dim,
        "nodes": net.n_nodes,
        "springs": net.n_springs,
        "cables": net.cables,
        "cable_springs": int(np.sum(np.asarray(net.tension_only))),
    }
    data["params"] = to_jsonable(params)
    return data


def _save_plot(path: Path, data: dict, net, title: str) -> None:
    import catenax.plot as cplot

    cplot.save_network_plot(path, data["positions"], net, title=title, units=data["units"])


def _save_animation(path: Path, result, net, units: dict | None) -> None:
    import catenax.plot as cplot

    idx = cplot.frame_indices(result.iterate_steps, MAX_FRAMES)
    frames = np.asarray(result.iterates)[idx]
    steps = np.asarray(result.iterate_steps)[idx]
    cplot.animate_network(path, frames, net, steps=steps, units=units)


def _save_compas(path: Path, data: dict, net) -> None:
    """The relaxed nodes, springs and faces as COMPAS 2 JSON (a Mesh with faces, else a Graph)."""
    units = {"units": data["units"]} if data.get("units") else None
    write_compas(path, data["positions"], np.asarray(net.springs), np.asarray(net.faces), units)
