"""``catenax sweep``: a grid of chains or scenario variants, solved as one batch.

Registered in :mod:`catenax.cli` as ``app.command("sweep")(sweep_command)``.
Only typer and the standard library are imported at module level, so that
``catenax --help`` stays fast; JAX comes in when the command runs.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Annotated

import typer

from catenax.errors import InvalidInput

__all__ = ["sweep_command"]

#: Library field names -> the options of ``catenax sweep`` that set them.
SWEEP_OPTIONS = {
    "n": "--n",
    "spring": "--spring",
    "length": "--length",
    "mass_g": "--mass-g",
    "learning_rate": "--lr",
    "method": "--method",
    "schedule": "--schedule",
    "max_steps": "--steps",
    "tol": "--tol",
    "dtype": "--dtype",
    "out": "--out",
    "max_cases": "--max-cases",
    "chunk_size": "--chunk-size",
    "multistart": "--multistart",
    "seed": "--seed",
    "plot": "--plot",
    "coordinator": "--coordinator",
    "num_processes": "--num-processes",
    "process_id": "--process-id",
    "devices": "--cpu-devices",
    "distributed": "--distributed",
    "vary": "--vary",
}

_LESSON = {"n": "20", "spring": "5.0", "length": "0.8", "mass_g": "0.1"}
_PLOT_SUFFIXES = (".png", ".svg", ".pdf")
_MAX_HEATMAP = 4_000_000


def _cli_message(msg: str) -> str:
    """Rewrite a library message (``length: ...``, ``vary['k']: ...``) with option names."""
    m = re.match(r"vary\['(.*?)'\]: ", msg)
    if m:
        return f"--vary {m.group(1)}: " + msg[m.end() :]
    field, sep, rest = msg.partition(":")
    if sep and field.strip() in SWEEP_OPTIONS:
        return f"{SWEEP_OPTIONS[field.strip()]}:{rest}"
    return msg


def _parse_vary(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(
                f"vary: '{item}' is not KEY=VALUES; use e.g. --vary structure.stiffness=10:100:10"
            )
        key = key.strip()
        if key in out:
            raise ValueError(f"vary: {key} is given twice; give each key once")
        out[key] = values
    return out


def sweep_command(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="A scenario file (.toml/.json) to vary with --vary; omit it to sweep the "
            "lesson chain with --n/--spring/--length/--mass-g.",
            show_default=False,
        ),
    ] = None,
    n: Annotated[
        str | None,
        typer.Option("--n", help="Masses: a value or a list, grouped by n. [default: 20]"),
    ] = None,
    spring: Annotated[
        str | None,
        typer.Option(
            "--spring",
            help="Spring constant K: a value, a list 1,2,5 or a range 1:10:19. [default: 5.0]",
        ),
    ] = None,
    length: Annotated[
        str | None,
        typer.Option(
            "--length",
            help="Rest length l: a value, a list 0.8,1.0,1.2 or a range 0.8:1.4:61. [default: 0.8]",
        ),
    ] = None,
    mass_g: Annotated[
        str | None,
        typer.Option("--mass-g", help="Weight mg: a value, list or range. [default: 0.1]"),
    ] = None,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            help="KEY=VALUES for a numeric scenario key, e.g. structure.stiffness=10:100:10, "
            "structure.gravity[1]=-9.81,-5, structure.loads[0][2]=-1:-5:5 (repeatable).",
        ),
    ] = None,
    method: Annotated[
        str | None, typer.Option("--method", help="Method (default newton).", show_default=False)
    ] = None,
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate (> 0).")] = None,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="Learning-rate schedule (as relax).")
    ] = None,
    steps: Annotated[int, typer.Option("--steps", help="Largest number of steps per case.")] = (
        10_000
    ),
    tol: Annotated[
        str | None,
        typer.Option(
            "--tol",
            help="Relative tolerance (default 1e-10 in float64, 1e-5 in float32); 'none' runs "
            "exactly --steps steps.",
            show_default=False,
        ),
    ] = None,
    dtype: Annotated[str, typer.Option("--dtype", help="float64 or float32.")] = "float64",
    multistart: Annotated[
        int | None, typer.Option("--multistart", help="K perturbed starts per case.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the multistart starts.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Stream one row per case to a .csv or .jsonl file."),
    ] = None,
    keep_shapes: Annotated[
        bool, typer.Option("--keep-shapes", help="Also keep every shape in OUT's .npz.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the sweep already in --out.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing --out.")
    ] = False,
    chunk_size: Annotated[
        int | None,
        typer.Option("--chunk-size", help="Cases per device and batch (default: automatic)."),
    ] = None,
    max_cases: Annotated[
        int, typer.Option("--max-cases", help="Refuse larger grids unless --force.")
    ] = 10_000_000,
    force: Annotated[bool, typer.Option("--force", help="Run a grid above --max-cases.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Figure (png/svg/pdf): shapes for 1 parameter, maps for 2."),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
    cpu_devices: Annotated[
        int | None,
        typer.Option(
            "--cpu-devices",
            help="On a CPU-only machine, split the CPU into this many devices to shard over "
            "(default: one per core for chains of up to 64 masses, else one; see the README).",
            show_default=False,
        ),
    ] = None,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed", help="Join a multi-process sweep (jax.distributed.initialize)."
        ),
    ] = False,
    coordinator: Annotated[
        str | None, typer.Option("--coordinator", help="HOST:PORT of process 0.")
    ] = None,
    num_processes: Annotated[
        int | None, typer.Option("--num-processes", help="Processes in the sweep.")
    ] = None,
    process_id: Annotated[
        int | None, typer.Option("--process-id", help="This process's index.")
    ] = None,
) -> None:
    """Solve a grid of chains (or scenario variants) as one vmapped, sharded batch.

    Values are a number, a list 0.8,1.0,1.2 or a range start:stop:count (inclusive,
    like linspace); the grid is their Cartesian product. Each case gets a row:
    status, steps, energy, grad_max, lowest eigenvalue, lowest point, largest
    tension. Ctrl-C leaves the finished chunks in --out; --resume continues.
    Exit codes: 0 finished, 2 invalid input, 130 interrupted.
    """
    args = dict(locals())
    from . import app as base

    with base._guard():
        try:
            _sweep(**args)
        except ValueError as e:
            raise InvalidInput(_cli_message(str(e))) from None


def _sweep(
    scenario, n, spring, length, mass_g, vary, method, lr, schedule, steps, tol, dtype,
    multistart, seed, out, keep_shapes, resume, overwrite, chunk_size, max_cases, force, plot,
    progress, cpu_devices, distributed, coordinator, num_processes, process_id,
):  # fmt: skip
    from catenax.sweeps.grid import parse_values

    from . import app as base

    # --- validate before any JAX work ------------------------------------------------
    chain = {"n": n, "spring": spring, "length": length, "mass_g": mass_g}
    if scenario is not None:
        given = [SWEEP_OPTIONS[k] for k, v in chain.items() if v is not None]
        if given:
            raise ValueError(
                f"{given[0]}: applies to the lesson chain, not to a scenario; vary a scenario "
                f"key instead, e.g. --vary structure.stiffness=10:100:10"
            )
        if not vary:
            raise ValueError(
                "vary: nothing to sweep in the scenario; add --vary KEY=VALUES, e.g. "
                "--vary structure.stiffness=10:100:10"
            )
        vary_map = _parse_vary(vary)
        axes = [parse_values(v, f"vary['{k}']", k) for k, v in vary_map.items()]
    else:
        if vary:
            raise ValueError(
                "vary: changes keys of a scenario file; give SCENARIO, or sweep the chain "
                "with --n, --spring, --length, --mass-g"
            )
        vary_map = None
        chain = {k: (_LESSON[k] if v is None else v) for k, v in chain.items()}
        axes = [parse_values(v, k, k) for k, v in chain.items()]
    if steps < 1:
        raise ValueError(f"max_steps: {steps} must be >= 1; use e.g. --steps 10000")
    base._check_lr(lr)
    tol_given, tol_value = base._parse_tol(tol)
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype: '{dtype}' is not float64 or float32")
    if max_cases < 1:
        raise ValueError(f"max_cases: {max_cases} must be >= 1")
    if cpu_devices is not None and cpu_devices < 1:
        raise ValueError(f"devices: {cpu_devices} must be >= 1")
    size = math.prod(len(a) for a in axes)
    if size > max_cases and not force:
        raise ValueError(
            f"max_cases: the grid has {size:,} cases, more than --max-cases {max_cases:,}; add "
            f"--force to run it anyway (or raise --max-cases)"
        )
    varied = [(a.name, len(a)) for a in axes if len(a) > 1]
    if plot is not None:
        from catenax.io.files import check_output_path

        check_output_path(plot, _PLOT_SUFFIXES, "plot")
        if len(varied) not in (1, 2):
            names = ", ".join(name for name, _ in varied) or "none"
            raise ValueError(
                f"plot: figures are drawn for sweeps of 1 or 2 parameters; this one varies "
                f"{len(varied)} ({names}); drop --plot or fix all but one or two parameters"
            )
        if len(varied) == 2 and varied[0][1] * varied[1][1] > _MAX_HEATMAP:
            raise ValueError(f"plot: a heat map of {size:,} cells is too large; use fewer values")
    if out is not None:
        from catenax.io.files import check_output_path
        from catenax.io.tables import TABLE_SUFFIXES

        check_output_path(out, TABLE_SUFFIXES, "out")
    if keep_shapes and out is None:
        raise ValueError("out: --keep-shapes writes OUT's .npz; give --out results.csv too")
    if (resume or overwrite) and out is None:
        raise ValueError("out: --resume and --overwrite refer to --out; give --out too")
    if not distributed and any(v is not None for v in (coordinator, num_processes, process_id)):
        raise ValueError(
            "distributed: --coordinator/--num-processes/--process-id need --distributed"
        )

    # --- JAX set-up: precision, devices, processes -------------------------------------
    base._setup_jax(x64=dtype == "float64")
    import jax

    if cpu_devices is None and scenario is None and not distributed:
        cpu_devices = _auto_cpu_devices(max(axes[0].values()))
    _split_cpu(jax, cpu_devices)
    cluster = None
    if distributed:
        from catenax.sweeps.distributed import cluster_settings, initialize

        cluster_settings(coordinator, num_processes, process_id)  # checks before connecting
        cluster = initialize(coordinator, num_processes, process_id)
    from catenax.errors import SweepInterrupted
    from catenax.sweeps.api import sweep

    kwargs = {"tol": tol_value} if tol_given else {}
    sample = min(size, 101) if (plot is not None and len(varied) == 1) else 0
    try:
        result = sweep(
            scenario, vary_map, **(chain if scenario is None else {}),
            method=method, learning_rate=lr, schedule=schedule, max_steps=steps,
            dtype=dtype, multistart=multistart, seed=seed, out=out, keep_shapes=keep_shapes,
            resume=resume, overwrite=overwrite, chunk_size=chunk_size, max_cases=max_cases,
            force=force, sample_shapes=sample, progress=progress, cluster=cluster, **kwargs,
        )  # fmt: skip
    except SweepInterrupted as e:
        where = f"; {e.path} holds the finished chunks: continue with --resume" if e.path else ""
        base._error(f"interrupted after {e.done:,} of {e.total:,} cases{where}")
        raise typer.Exit(130) from None
    if cluster is not None and not cluster.is_writer:
        raise typer.Exit(base.EXIT_OK)
    _report(result, varied)
    if plot is not None:
        _plot(plot, result, varied, scenario)
        typer.echo(f"wrote {plot}")
    raise typer.Exit(base.EXIT_OK)


def _auto_cpu_devices(n_max) -> int | None:
    """One CPU device per core (at most 8) for sweeps of chains of up to 64 masses.

    Those never call LAPACK (newton solves them elementwise), and each device runs
    its own share of the batch on its own thread: the lesson chain sweeps 1.6-1.9x
    faster with 2 devices on 2 cores (benchmarks/RESULTS.md). Longer chains and
    scenario sweeps keep one device (see :func:`_split_cpu`).
    """
    from catenax.solvers.tridiagonal import SEQUENTIAL_MAX

    cores = os.cpu_count() or 1
    return min(cores, 8) if cores > 1 and n_max <= SEQUENTIAL_MAX else None


def _split_cpu(jax, cpu_devices) -> None:
    """Split a CPU-only host into ``cpu_devices`` devices before JAX starts.

    Not by default for longer chains: with several CPU devices on few cores,
    jaxlib's batched LAPACK tridiagonal solve (used by newton on chains of more
    than 64 masses) can deadlock its thread pool (seen with jax 0.10.2 on 2
    cores). Has no effect on GPU machines (their devices are the GPUs).
    """
    if cpu_devices is None:
        return
    try:
        jax.config.update("jax_num_cpu_devices", int(cpu_devices))
    except Exception:  # noqa: BLE001 - the backend is already up (e.g. in-process tests)
        pass


def _report(result, varied) -> None:
    counts = ", ".join(f"{v:,} {k}" for k, v in sorted(result.counts.items())) or "nothing new"
    desc = ", ".join(
        f"{a.name} {a.bounds()[0]:g}..{a.bounds()[1]:g} ({len(a)})" for a in result.axes
        if len(a) > 1
    ) or "one case"  # fmt: skip
    rate = result.cases_per_second
    solved = result.done - result.resumed_from
    if math.isfinite(rate):
        speed = f", {rate:,.0f} cases/s after compiling"
    elif solved:
        speed = f", {solved / max(result.elapsed, 1e-9):,.0f} cases/s with compiling"
    else:
        speed = ""
    resumed = f" (resumed at case {result.resumed_from:,})" if result.resumed_from else ""
    typer.echo(
        f"catenax sweep: {result.n_cases:,} cases over {desc}{resumed}: {counts}; "
        f"{result.elapsed:.1f} s{speed}"
    )
    if result.path is not None:
        typer.echo(f"{result.path} was already complete" if not solved else f"wrote {result.path}")
        return
    t = result.table
    if t is None or result.n_cases > 50:
        return
    names = [name for name, _ in varied] or [result.columns[1]]
    head = "".join(f"{c:>12}" for c in (*names, "status", "steps", "energy", "lowest"))
    typer.echo(f"{'case':>6}{head}")
    for i in range(len(t["case"])):
        vals = "".join(f"{t[c][i]:>12.6g}" for c in names)
        typer.echo(
            f"{t['case'][i]:>6}{vals}{t['status'][i]:>12}{t['steps'][i]:>12}"
            f"{t['energy'][i]:>12.6g}{t['lowest'][i]:>12.6g}"
        )


def _plot(path, result, varied, scenario) -> None:
    from catenax.io.tables import read_table
    from catenax.plot import sweep as sweepplot

    table = result.table if result.table is not None else read_table(result.path)
    kind = "chain" if scenario is None else "network"
    title = f"catenax sweep: {result.n_cases:,} cases"
    sweepplot.save_sweep_plot(path, table, varied, result.sample, kind, title)
