"""``catenax relax SCENARIO``: relax the spring network of a scenario file.

:func:`catenax.cli.relax` hands over to :func:`relax_scenario` when it is given
a scenario file (the schema is in :mod:`catenax.scenario`). Command-line
options the user gave (``--method``, ``--lr``, ``--schedule``, ``--steps``,
``--tol``, ``--multistart``, ``--seed``) override the file's ``[solver]``
table; everything else comes from the file. The JSON result is
:func:`catenax.result_to_dict` of the library's
:func:`catenax.scenario.solve_scenario`, plus ``scenario`` (where the network
came from) and ``params`` (the solver settings the run used).

Like the rest of the CLI, this module imports JAX, the network code and
matplotlib only when a command runs.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, NoReturn

import typer

__all__ = ["MAX_FRAMES", "NETWORK_OUT_SUFFIXES", "relax_scenario", "scenario_summary"]

#: Suffixes of ``--out`` for a network (the same as ``catenax.netio.NETWORK_SUFFIXES``,
#: repeated here so that checking a path needs no JAX import).
NETWORK_OUT_SUFFIXES = (".json", ".npz", ".csv", ".obj")

#: Most frames in a ``--animate`` GIF (they are picked denser early in the run).
MAX_FRAMES = 80

#: ``minimize`` keyword -> the ``relax`` option that overrides it.
_SOLVER_OPTIONS = {
    "method": "--method",
    "learning_rate": "--lr",
    "schedule": "--schedule",
    "max_steps": "--steps",
    "tol": "--tol",
    "multistart": "--multistart",
    "seed": "--seed",
}


def _file_error(path: Path, key: str, detail: str) -> ValueError:
    """A ValueError ``"file:line: solver.key: detail"`` (the line where it is found)."""
    from catenax.io import ScenarioText

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # pragma: no cover - it was just read
        text = None
    return ScenarioText(path.name, text).error("solver", key, detail)


def _check_settings(path: Path, settings: dict, from_file: set[str], dtype: str) -> None:
    """Check the merged solver settings; name the file and key for values from the file."""
    import catenax
    import catenax.solvers
    from catenax.errors import InvalidInput
    from catenax.solvers import DEFAULT_METHOD

    def fail(err: Exception) -> NoReturn:
        msg = str(err)
        field, sep, rest = msg.partition(":")
        field = field.strip()
        if sep and field in from_file:
            raise _file_error(path, field, rest.strip()) from None
        if sep and field in _SOLVER_OPTIONS:
            raise InvalidInput(f"{_SOLVER_OPTIONS[field]}:{rest}") from None
        raise err

    seed = settings.get("seed")
    if "seed" in from_file and (isinstance(seed, bool) or not isinstance(seed, int)):
        fail(ValueError(f"seed: {seed!r} is not an integer; use e.g. seed = 0"))
    steps = settings.get("max_steps", _minimize_default("max_steps"))
    try:
        schedule = settings.get("schedule")
        if isinstance(schedule, str):  # checked even for methods that take no learning rate
            name, params = catenax.solvers.parse_schedule(schedule)
            catenax.solvers.make_schedule(name, 0.1, steps, **params)
        catenax.resolve_method(
            settings.get("method", DEFAULT_METHOD),
            settings.get("learning_rate"),
            schedule,
            steps,
        )
    except (ValueError, TypeError) as e:
        fail(e)


def _minimize_default(name: str) -> Any:
    import inspect

    from catenax.solve.driver import minimize

    return inspect.signature(minimize).parameters[name].default


def _as_dtype(net, dtype: str):
    """The network with its floating-point arrays in ``dtype``."""
    import jax
    import jax.numpy as jnp

    def cast(a):
        a = jnp.asarray(a)
        return a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a

    return jax.tree.map(cast, net)


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
    from .app import (
        ANIMATE_SUFFIXES,
        EXIT_DIVERGED,
        EXIT_OK,
        PLOT_SUFFIXES,
        _check_outputs,
        _effective_lr,
        _error,
        _record_every,
        _setup_jax,
    )

    _check_outputs(
        **{
            "--out": (out, NETWORK_OUT_SUFFIXES),
            "--plot": (plot, PLOT_SUFFIXES),
            "--animate": (animate, ANIMATE_SUFFIXES),
        }
    )
    _setup_jax(x64=dtype == "float64")

    from catenax.io.scenario import load_scenario, result_to_dict, solve_scenario
    from catenax.solve.driver import DEFAULT_RTOL
    from catenax.solvers import DEFAULT_METHOD, default_learning_rate

    scn = load_scenario(path)
    explicit = {k: v for k, v in overrides.items() if v is not None}
    if tol_given:
        explicit["tol"] = tol_value  # None: no stopping test
    settings = {**scn.solver_settings, **explicit}
    from_file = set(scn.solver_settings) - set(explicit)
    _check_settings(path, settings, from_file, dtype)

    net = _as_dtype(scn.network, dtype)
    steps = settings.get("max_steps", _minimize_default("max_steps"))
    if plot is not None or animate is not None:
        settings["record_every"] = _record_every(net.n_nodes * net.dim, steps)
    result = solve_scenario(dataclasses.replace(scn, network=net, solver_settings=settings))

    method = settings.get("method", DEFAULT_METHOD)
    lr = settings.get("learning_rate")
    params = {
        "method": method,
        "lr": _effective_lr(method, lr, default_learning_rate),
        "schedule": settings.get("schedule"),
        "steps": steps,
        "tol": settings["tol"] if "tol" in settings else DEFAULT_RTOL[dtype],
        "dtype": dtype,
        **{k: v for k, v in settings.items() if k in ("multistart", "seed")},
    }
    data = result_to_dict(result, net)
    data["scenario"] = {
        "path": str(path),
        "title": scn.title,
        "dim": net.dim,
        "nodes": net.n_nodes,
        "springs": net.n_springs,
        "cables": net.cables,
    }
    from catenax.io.files import to_jsonable

    data["params"] = to_jsonable(params)
    note = (lambda s: typer.echo(s, err=True)) if as_json else typer.echo

    if as_json:
        typer.echo(json.dumps(data))
    else:
        for line in scenario_summary(data, net):
            typer.echo(line)
    if result.status == "diverged":
        _error(result.message)
        if out or plot or animate:
            _error("no output files were written because the run diverged.")
        raise typer.Exit(EXIT_DIVERGED)

    if out is not None:
        from catenax.io.network_files import write_network_result

        write_network_result(out, data, net)
        note(f"wrote {out}")
    title = f"{scn.title or path.name}: {result.status}, {result.steps} steps of {method}"
    if plot is not None:
        from catenax.plot.network import save_network_plot

        save_network_plot(plot, data["positions"], net, title=title)
        note(f"wrote {plot}")
    if animate is not None:
        import numpy as np

        from catenax.plot.chain import frame_indices
        from catenax.plot.network import animate_network

        idx = frame_indices(result.iterate_steps, MAX_FRAMES)
        frames = np.asarray(result.iterates)[idx]
        animate_network(animate, frames, net, steps=np.asarray(result.iterate_steps)[idx])
        note(f"wrote {animate}")
    raise typer.Exit(EXIT_OK)


def scenario_summary(data: dict, net) -> list[str]:
    """The human summary of a relaxed scenario: status, verdict, forces and reactions.

    Args:
        data: the result dict of ``catenax relax SCENARIO`` (with ``scenario``
            and ``params``).
        net: the network that was relaxed (for the weights and loads).

    Returns:
        The lines to print.

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(3)
        >>> r = catenax.minimize(catenax.network_energy, net.positions, net,
        ...                      free=catenax.free_mask(net))
        >>> d = catenax.result_to_dict(r, net)
        >>> d.update(scenario={"path": "c.toml", "title": None, "dim": 2, "nodes": 5,
        ...                    "springs": 4, "cables": False},
        ...          params={"method": "newton", "dtype": "float64"})
        >>> scenario_summary(d, net)[1].split()
        ['status', 'converged']
    """
    import numpy as np

    from .app import _number, minima_table, verdict_lines

    s, p = data["scenario"], data["params"]
    title = f' ("{s["title"]}")' if s.get("title") else ""
    kind = ", cables (tension only)" if s["cables"] else ""
    lines = [
        f"catenax relax {s['path']}{title}: {s['nodes']} nodes, {s['springs']} springs, "
        f"{s['dim']}D{kind}; method {p['method']}, {p['dtype']}"
    ]
    t = np.asarray([np.nan if v is None else v for v in data["tensions"]], dtype=float)
    rows: list[tuple[str, Any]] = [
        ("status", data["status"]),
        ("steps", data["steps"]),
        ("energy", _number(data["energy"], ".12g")),
        ("max|grad E|", _number(data["grad_max"], ".3g")),
        *verdict_lines(data),
    ]
    if t.size:
        detail = []
        if s["cables"]:
            detail.append(f"{int(np.sum(t == 0))} slack cables")
        elif np.nanmin(t) < 0:
            detail.append(f"{int(np.sum(t < 0))} springs in compression")
        extra = f" ({', '.join(detail)})" if detail else ""
        rows.append(("tension", f"max {np.nanmax(t):.6g}, min {np.nanmin(t):.6g}{extra}"))
    react = data.get("reactions") or []
    if react:
        total = np.sum([r["force"] for r in react], axis=0)
        applied = np.asarray(net.mass, float)[:, None] * np.asarray(net.gravity, float)[None]
        applied = applied.sum(axis=0) + np.asarray(net.loads, float).sum(axis=0)
        fmt = lambda v: "[" + ", ".join(f"{x:.6g}" for x in v) + "]"  # noqa: E731
        rows.append(("reactions", f"{len(react)} supports; sum {fmt(total)}"))
        rows.append(("applied", f"weights + loads sum {fmt(applied)}"))
    for key, value in rows:
        lines.append(f"  {key:<12} {value}")
    lines += [f"  {line}" for line in minima_table(data)]
    if data["status"] != "diverged":
        lines.append(f"  {data['message']}")
    return lines
