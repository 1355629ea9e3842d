"""``catenax sweep``: a grid of chains or scenario variants, solved as one batch.

Registered in :mod:`catenax.cli.app` as ``app.command("sweep")(sweep_command)``.
Library messages name their field (``length: ...``, ``vary['k']: ...``); the
command names the option instead (:func:`_cli_message`).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import jax
import typer

from catenax.errors import InvalidInput, SweepInterrupted
from catenax.io import TABLE_SUFFIXES, read_table
from catenax.model import LESSON
from catenax.solvers import check_learning_rate, tridiagonal
from catenax.sweeps import check_ints, cluster_settings, initialize, parse_values, sweep

from . import options
from .common import (
    CHAIN_FIELDS,
    EXIT_OK,
    OPTION_NAMES,
    PLOT_SUFFIXES,
    SWEEP_OPTION_NAMES,
    apply_max_memory,
    check_outputs,
    check_steps,
    error,
    guard,
    option_message,
    parse_tol,
    setup_jax,
)

__all__ = ["sweep_command"]

_MAX_HEATMAP = 4_000_000

ScenarioArgument = Annotated[
    Path | None,
    typer.Argument(
        help="A scenario file (.toml/.json) to vary with --vary; omit it to sweep the "
        "lesson chain with --n/--spring/--length/--mass-g.",
        show_default=False,
    ),
]
VaryOption = Annotated[
    list[str] | None,
    typer.Option(
        "--vary",
        help="KEY=VALUES for a numeric scenario key, e.g. structure.stiffness=10:100:10, "
        "structure.gravity[1]=-9.81,-5, structure.loads[0][2]=-1:-5:5 (repeatable).",
    ),
]
DtypeText = Annotated[str, typer.Option("--dtype", help="float64 or float32.")]
KeepShapes = Annotated[
    bool, typer.Option("--keep-shapes", help="Also keep every shape in OUT's .npz.")
]
Resume = Annotated[bool, typer.Option("--resume", help="Continue the sweep already in --out.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out.")]
ChunkSize = Annotated[
    int | None,
    typer.Option("--chunk-size", help="Cases per device and batch (default: automatic)."),
]
MaxCases = Annotated[int, typer.Option("--max-cases", help="Refuse larger grids unless --force.")]
Force = Annotated[bool, typer.Option("--force", help="Run a grid above --max-cases.")]
_PROGRESS = "Progress on stderr from the start (compiling): a bar on a terminal, else log lines."
Progress = Annotated[bool, typer.Option("--progress/--no-progress", help=_PROGRESS)]
CpuDevices = Annotated[
    int | None,
    typer.Option(
        "--cpu-devices",
        help="On a CPU-only machine, split the CPU into this many devices to shard over "
        "(default: one per core for chains of up to 64 masses, else one; see the README).",
        show_default=False,
    ),
]
Distributed = Annotated[
    bool,
    typer.Option("--distributed", help="Join a multi-process sweep (jax.distributed.initialize)."),
]
Coordinator = Annotated[str | None, typer.Option("--coordinator", help="HOST:PORT of process 0.")]
NumProcesses = Annotated[
    int | None, typer.Option("--num-processes", help="Processes in the sweep.")
]
ProcessId = Annotated[int | None, typer.Option("--process-id", help="This process's index.")]
_WAIT = "Seconds to wait for every process to join before giving up (exit 2)."
CoordinatorTimeout = Annotated[int, typer.Option("--coordinator-timeout", help=_WAIT)]
_MAX_TIMEOUT = 86_400
_SCENARIO_DIGEST_BYTES = 64 << 20


def _cli_message(msg: str) -> str:
    """Rewrite a library message (``length: ...``, ``vary['k']: ...``) with option names.

    Example:
        >>> _cli_message("vary['structure.mass']: -1 must be >= 0")
        '--vary structure.mass: -1 must be >= 0'
        >>> _cli_message("max_cases: 0 must be >= 1")
        '--max-cases: 0 must be >= 1'
    """
    m = re.match(r"vary\['(.*?)'\]: ", msg)
    if m:
        return f"--vary {m.group(1)}: " + msg[m.end() :]
    return option_message(msg, SWEEP_OPTION_NAMES)


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
    scenario: ScenarioArgument = None,
    n: options.SweepN = None,
    spring: options.SweepSpring = None,
    length: options.SweepLength = None,
    mass_g: options.SweepMassG = None,
    vary: VaryOption = None,
    method: options.SweepMethod = None,
    lr: options.SweepLr = None,
    schedule: options.SweepSchedule = None,
    steps: options.SweepSteps = 10_000,
    tol: options.SweepTol = None,
    dtype: DtypeText = "float64",
    multistart: options.SweepMultistart = None,
    seed: options.SweepSeed = 0,
    out: options.SweepOut = None,
    keep_shapes: KeepShapes = False,
    resume: Resume = False,
    overwrite: Overwrite = False,
    chunk_size: ChunkSize = None,
    max_cases: MaxCases = 10_000_000,
    force: Force = False,
    plot: options.SweepPlot = None,
    progress: Progress = True,
    cpu_devices: CpuDevices = None,
    distributed: Distributed = False,
    coordinator: Coordinator = None,
    num_processes: NumProcesses = None,
    process_id: ProcessId = None,
    coordinator_timeout: CoordinatorTimeout = 60,
    max_memory: options.MaxMemoryOption = None,
) -> None:
    """Solve a grid of chains (or scenario variants) as one vmapped, sharded batch.

    Values are a number, a list 0.8,1.0,1.2 or a range start:stop:count (inclusive,
    like linspace); the grid is their Cartesian product. Each case gets a row:
    status, steps, energy, grad_max, lowest eigenvalue, lowest point, largest
    tension. Ctrl-C leaves the finished chunks in --out; --resume continues.
    """
    args = SimpleNamespace(**locals())
    with guard():
        try:
            _sweep(args)
        except ValueError as e:
            raise InvalidInput(_cli_message(str(e))) from None


def _sweep(a: SimpleNamespace) -> None:
    """Check every option (before any JAX work), run the sweep, report it; exit."""
    chain, vary_map, axes = _grid(a)
    kwargs = _check_options(a)
    size = math.prod(len(ax) for ax in axes)
    if size > a.max_cases and not a.force:
        raise ValueError(
            f"max_cases: the grid has {size:,} cases, more than --max-cases {a.max_cases:,}; "
            f"add --force to run it anyway (or raise --max-cases)"
        )
    varied = [(ax.name, len(ax)) for ax in axes if len(ax) > 1]
    _check_files(a, size, varied)

    # --- JAX set-up: precision, devices, processes -------------------------------------
    setup_jax(x64=a.dtype == "float64")
    cpu_devices = a.cpu_devices
    if cpu_devices is None and a.scenario is None and not a.distributed:
        cpu_devices = _auto_cpu_devices(max(axes[0].values()))
    _split_cpu(cpu_devices)
    cluster = None
    if a.distributed:
        cluster_settings(a.coordinator, a.num_processes, a.process_id)  # checks before connecting
        cluster = initialize(
            a.coordinator, a.num_processes, a.process_id, a.coordinator_timeout, _shared(a)
        )

    sample = min(size, 101) if (a.plot is not None and len(varied) == 1) else 0
    try:
        result = sweep(
            a.scenario, vary_map, **(chain if a.scenario is None else {}),
            method=a.method, learning_rate=a.lr, schedule=a.schedule, max_steps=a.steps,
            dtype=a.dtype, multistart=a.multistart, seed=a.seed, out=a.out,
            keep_shapes=a.keep_shapes, resume=a.resume, overwrite=a.overwrite,
            chunk_size=a.chunk_size, max_cases=a.max_cases, force=a.force, sample_shapes=sample,
            progress=a.progress, cluster=cluster, **kwargs,
        )  # fmt: skip
    except SweepInterrupted as e:
        where = f"; {e.path} holds the finished chunks: continue with --resume" if e.path else ""
        error(f"interrupted after {e.done:,} of {e.total:,} cases{where}")
        raise typer.Exit(130) from None
    if cluster is not None and not cluster.is_writer:
        raise typer.Exit(EXIT_OK)
    _report(result, varied)
    if a.plot is not None:
        _plot(a.plot, result, varied, a.scenario)
        typer.echo(f"wrote {a.plot}")
    raise typer.Exit(EXIT_OK)


def _grid(a: SimpleNamespace) -> tuple[dict, dict | None, list]:
    """The chain's values (lesson defaults filled in), the ``--vary`` map and the axes."""
    chain = {k: getattr(a, k) for k in CHAIN_FIELDS}
    if a.scenario is not None:
        given = [OPTION_NAMES[k] for k, v in chain.items() if v is not None]
        if given:
            raise ValueError(
                f"{given[0]}: applies to the lesson chain, not to a scenario; vary a scenario "
                f"key instead, e.g. --vary structure.stiffness=10:100:10"
            )
        if not a.vary:
            raise ValueError(
                "vary: nothing to sweep in the scenario; add --vary KEY=VALUES, e.g. "
                "--vary structure.stiffness=10:100:10"
            )
        vary_map = _parse_vary(a.vary)
        return chain, vary_map, [parse_values(v, f"vary['{k}']", k) for k, v in vary_map.items()]
    if a.vary:
        raise ValueError(
            "vary: changes keys of a scenario file; give SCENARIO, or sweep the chain "
            "with --n, --spring, --length, --mass-g"
        )
    chain = {k: (str(LESSON[k]) if v is None else v) for k, v in chain.items()}
    return chain, None, [parse_values(v, k, k) for k, v in chain.items()]


def _check_options(a: SimpleNamespace) -> dict:
    """Check the solver's and the run's options; return ``minimize``'s ``tol`` if given."""
    apply_max_memory(a.max_memory)
    check_steps(a.steps)
    check_ints(
        max_steps=a.steps, multistart=a.multistart, seed=a.seed, chunk_size=a.chunk_size,
        max_cases=a.max_cases,
    )  # fmt: skip
    check_learning_rate(a.lr, "--lr", "--lr 0.1")
    tol_given, tol_value = parse_tol(a.tol)
    if a.dtype not in ("float64", "float32"):
        raise ValueError(f"dtype: '{a.dtype}' is not float64 or float32")
    if a.cpu_devices is not None:
        limit = max(8, 4 * (os.cpu_count() or 1))
        if not 1 <= a.cpu_devices <= limit:
            # Each CPU device has its own threads and compiles its own program: beyond a
            # few per core they only slow the start (100,000 never finish starting).
            raise ValueError(
                f"devices: {a.cpu_devices} must be from 1 to {limit} on this machine (4 per "
                f"core, at least 8); more devices than cores only add start-up time"
            )
    if not 1 <= a.coordinator_timeout <= _MAX_TIMEOUT:
        raise ValueError(
            f"coordinator_timeout: {a.coordinator_timeout} must be from 1 to {_MAX_TIMEOUT} s"
        )
    return {"tol": tol_value} if tol_given else {}


def _check_files(a: SimpleNamespace, size: int, varied: list) -> None:
    """Check ``--plot`` and ``--out`` (and the options that need them) before running."""
    if a.plot is not None:
        check_outputs(plot=(a.plot, PLOT_SUFFIXES))
        if len(varied) not in (1, 2):
            names = ", ".join(name for name, _ in varied) or "none"
            raise ValueError(
                f"plot: figures are drawn for sweeps of 1 or 2 parameters; this one varies "
                f"{len(varied)} ({names}); drop --plot or fix all but one or two parameters"
            )
        if len(varied) == 2 and varied[0][1] * varied[1][1] > _MAX_HEATMAP:
            raise ValueError(f"plot: a heat map of {size:,} cells is too large; use fewer values")
    check_outputs(out=(a.out, TABLE_SUFFIXES))
    if a.keep_shapes and a.out is None:
        raise ValueError("out: --keep-shapes writes OUT's .npz; give --out results.csv too")
    if (a.resume or a.overwrite) and a.out is None:
        raise ValueError("out: --resume and --overwrite refer to --out; give --out too")
    if not a.distributed and any(
        v is not None for v in (a.coordinator, a.num_processes, a.process_id)
    ):
        raise ValueError(
            "distributed: --coordinator/--num-processes/--process-id need --distributed"
        )


#: Options that every process of a distributed sweep must share (the others --
#: --out, --resume, --overwrite, --plot, --progress, --process-id, ... -- may
#: differ, or matter on process 0 only, which writes).
_SHARED = (
    "n", "spring", "length", "mass_g", "vary", "method", "lr", "schedule", "steps", "tol",
    "dtype", "multistart", "seed", "keep_shapes", "chunk_size", "max_cases", "force",
    "cpu_devices", "num_processes",
)  # fmt: skip


def _shared(a: SimpleNamespace) -> dict:
    """``{--option: value}`` of :data:`_SHARED`, and the scenario file's digest."""
    out = {SWEEP_OPTION_NAMES.get(k, "--" + k.replace("_", "-")): getattr(a, k) for k in _SHARED}
    if a.scenario is not None:
        digest = hashlib.sha256()
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.stat(a.scenario).st_mode):  # never open a FIFO: it would block
                with open(a.scenario, "rb") as f:
                    digest.update(f.read(_SCENARIO_DIGEST_BYTES))
        out["SCENARIO (its contents)"] = digest.hexdigest()[:16]
    return out


def _auto_cpu_devices(n_max) -> int | None:
    """One CPU device per core (at most 8) for sweeps of chains of up to 64 masses.

    Those never call LAPACK (newton solves them elementwise), and each device runs
    its own share of the batch on its own thread: the lesson chain sweeps 1.6-1.9x
    faster with 2 devices on 2 cores (benchmarks/RESULTS.md). Longer chains and
    scenario sweeps keep one device (see :func:`_split_cpu`).
    """
    cores = os.cpu_count() or 1
    return min(cores, 8) if cores > 1 and n_max <= tridiagonal.SEQUENTIAL_MAX else None


def _split_cpu(cpu_devices) -> None:
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
    import catenax.plot as cplot

    table = result.table if result.table is not None else read_table(result.path)
    kind = "chain" if scenario is None else "network"
    title = f"catenax sweep: {result.n_cases:,} cases"
    cplot.save_sweep_plot(path, table, varied, result.sample, kind, title)
