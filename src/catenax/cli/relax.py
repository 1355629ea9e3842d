"""``catenax relax``: relax the lesson's chain (or, given a file, a scenario's network).

The command checks every option before anything runs (:func:`check_options`),
hands a scenario file over to :func:`catenax.cli.network.relax_scenario`, and
otherwise relaxes the chain from y = 0 (:func:`run_chain`) and reports it
(:func:`catenax.cli.report.finish_run`): one JSON object with ``--json``, else
a human summary; files only when the run did not diverge. A chain that would
need more memory than ``--max-memory`` is refused before anything is
allocated; the run keeps no history (nothing reports it) and records iterates
only for ``--plot``/``--animate``, so a long step budget alone costs nothing.
While it compiles and runs, it says so on stderr (:mod:`catenax.cli.talk`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import jax
import jax.numpy as jnp
import numpy as np
import typer

import catenax
import catenax.solvers
from catenax.errors import InvalidInput
from catenax.io import RESULT_SUFFIXES, atomic_write, write_result
from catenax.solve import check_int, check_max_steps, check_run_memory, check_seed
from catenax.solvers import check_learning_rate, make_schedule, parse_schedule

from . import options
from .common import (
    ANIMATE_SUFFIXES,
    CHAIN_FIELDS,
    CHAIN_OPTION_NAMES,
    OPTION_NAMES,
    PLOT_SUFFIXES,
    Dtype,
    apply_max_memory,
    check_outputs,
    check_steps,
    effective_lr,
    guard,
    parse_tol,
    record_every,
    setup_jax,
)
from .network import relax_scenario
from .report import chain_summary, finish_run, result_json
from .talk import working

__all__ = ["check_options", "relax_chain", "relax_command", "run_chain"]

ScenarioArgument = Annotated[
    Path | None,
    typer.Argument(
        help="A scenario file (.toml or .json) describing a spring network; without "
        "it, the lesson's chain is relaxed. Options given here override its [solver] "
        "table.",
        show_default=False,
        metavar="SCENARIO",
    ),
]
AnimateOption = Annotated[
    Path | None, typer.Option("--animate", help="Save a GIF of the chain or network relaxing.")
]
CompasOption = Annotated[
    Path | None,
    typer.Option(
        "--compas",
        help="With a scenario file: also write the relaxed geometry (nodes, springs, faces) "
        "as COMPAS 2 JSON (.json; a Mesh when the structure has faces, else a Graph), "
        "which compas.json_load reads. Written only when the run did not diverge.",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the result as one JSON object on stdout.")
]


def relax_command(
    scenario: ScenarioArgument = None,
    n: options.RelaxN = None,
    spring: options.RelaxSpring = None,
    length: options.RelaxLength = None,
    mass_g: options.RelaxMassG = None,
    method: options.RelaxMethod = None,
    lr: options.RelaxLr = None,
    schedule: options.RelaxSchedule = None,
    steps: options.RelaxSteps = None,
    tol: options.RelaxTol = None,
    dtype: options.DtypeOption = Dtype.float64,
    multistart: options.RelaxMultistart = None,
    seed: options.RelaxSeed = None,
    plot: options.RelaxPlot = None,
    animate: AnimateOption = None,
    out: options.RelaxOut = None,
    compas: CompasOption = None,
    as_json: JsonOption = False,
    max_memory: options.MaxMemoryOption = None,
    progress: options.ProgressOption = None,
) -> None:
    """Relax the lesson's chain from y = 0, or the network of a SCENARIO file.

    Output files are written atomically, and only when the run did not diverge;
    "finished" (exit 0) means converged or the step budget used.
    """
    with guard(OPTION_NAMES if scenario is not None else CHAIN_OPTION_NAMES):
        apply_max_memory(max_memory)
        tol_given, tol_value = check_options(lr, steps, multistart, seed, tol)
        files = {"plot": plot, "animate": animate, "out": out, "as_json": as_json}
        values = dict(zip(CHAIN_FIELDS, (n, spring, length, mass_g), strict=True))
        if scenario is not None:  # the chain's options cannot be combined with a file
            given = [OPTION_NAMES[f] for f, v in values.items() if v is not None]
            if given:
                raise InvalidInput(
                    f"{given[0]}: is an option of the lesson's chain and cannot be used with "
                    f"a scenario file ('{scenario}'); set the structure in the file's "
                    f"[structure] table instead, or drop the scenario file"
                )
            relax_scenario(
                scenario,
                overrides=dict(
                    method=method, learning_rate=lr, schedule=schedule, max_steps=steps,
                    multistart=multistart, seed=seed,
                ),
                tol_given=tol_given, tol_value=tol_value, dtype=dtype.value, **files,
                progress=progress, compas=compas,
            )  # fmt: skip
        if compas is not None:
            raise InvalidInput(
                f"--compas: writes a spring network's geometry and needs a scenario file "
                f"('{compas}' was given without one); relax a scenario (catenax relax "
                f"SCENARIO --compas {compas}), or use --out for the chain's result"
            )
        chain = {f: catenax.LESSON[f] if v is None else v for f, v in values.items()}
        solver = {
            "method": method, "lr": lr, "schedule": schedule,
            "steps": 10_000 if steps is None else steps, "dtype": dtype.value,
            "tol_given": tol_given, "tol": tol_value, "multistart": multistart, "seed": seed,
        }  # fmt: skip
        relax_chain(chain, solver, **files, progress=progress)


def check_options(lr, steps, multistart, seed, tol) -> tuple[bool, float | None]:
    """Check the options ``relax`` checks before reading anything; return the parsed ``--tol``.

    The step budget, the number of starts and the seed are checked by the
    library's own rules (:func:`catenax.solve.check_max_steps`, ...), in range
    before anything is sized by them.

    Example:
        >>> check_options(0.1, 100, None, None, "1e-8")
        (True, 1e-08)
    """
    check_learning_rate(lr, "--lr", "--lr 0.1")
    check_steps(steps)
    if steps is not None:
        check_max_steps(steps)
    if multistart is not None and multistart < 1:
        raise InvalidInput(
            f"--multistart: {multistart} must be an integer >= 1; use e.g. --multistart 16"
        )
    if multistart is not None:
        check_int("multistart", multistart, minimum=1)
    if seed is not None:
        check_seed(seed)
    return parse_tol(tol)


def relax_chain(
    chain: dict, solver: dict, plot: Path | None, animate: Path | None, out: Path | None,
    as_json: bool, progress: bool | None = None,
) -> NoReturn:  # fmt: skip
    """Relax the lesson's chain and report it (the body of ``catenax relax`` without a file).

    Args:
        chain: ``n``, ``spring``, ``length``, ``mass_g`` (defaults filled in).
        solver: ``method``, ``lr``, ``schedule`` (``None``: not given), ``steps``,
            ``dtype``, ``tol_given``, ``tol``, ``multistart``, ``seed``.
        plot, animate, out: the output files (``None``: not asked for).
        as_json: print the result as one JSON object on stdout.
        progress: ``--progress/--quiet`` (``None``: neither; see :func:`working`).

    Raises:
        ResourceLimit: the chain would need more memory than the limit (before
            anything is allocated).
        typer.Exit: at the end, with the exit code (0 finished, 1 diverged).
    """
    check_outputs(
        **{
            "--out": (out, RESULT_SUFFIXES),
            "--plot": (plot, PLOT_SUFFIXES),
            "--animate": (animate, ANIMATE_SUFFIXES),
        }
    )
    setup_jax(x64=solver["dtype"] == "float64")
    chain = dict(
        zip(chain, catenax.validate_chain_params(*chain.values(), solver["dtype"]), strict=True)
    )
    want_frames = plot is not None or animate is not None
    every = record_every(chain["n"], solver["steps"]) if want_frames else None
    check_run_memory(
        jax.ShapeDtypeStruct((chain["n"],), solver["dtype"]),
        starts=solver["multistart"],
        records=solver["steps"] // every + 2 if every else 0,
        record_every=every,
    )
    method = solver["method"]
    if method is None:  # read at call time: the library default may be changed
        method = catenax.solvers.DEFAULT_METHOD
    lr, schedule, steps = solver["lr"], solver["schedule"], solver["steps"]
    if schedule is not None:  # checked even for methods that take no learning rate
        name, sched_params = parse_schedule(schedule)
        make_schedule(name, 0.1, steps, **sched_params)
    catenax.resolve_method(method, lr, schedule, steps)  # checks method and lr
    tol = solver["tol"] if solver["tol_given"] else catenax.DEFAULT_RTOL[solver["dtype"]]

    with working(f"relaxing n={chain['n']} with {method}", progress):
        result, seed = run_chain(chain, {**solver, "method": method}, want_frames)
    params = {**chain, "method": method, "lr": effective_lr(method, lr), "schedule": schedule}
    params.update(steps=steps, tol=tol, dtype=solver["dtype"])
    if solver["multistart"] is not None:
        params.update(multistart=solver["multistart"], seed=seed)
    data = result_json(result, params)
    frames = functools.cache(lambda: _frames(result))  # for --plot and --animate
    finish_run(
        data,
        lambda: chain_summary(data),
        as_json,
        result.message if result.status == "diverged" else None,
        [
            (out, lambda path: write_result(path, data)),
            (plot, lambda path: _save_plot(path, frames, data)),
            (animate, lambda path: _save_animation(path, frames)),
        ],
    )


def run_chain(chain: dict, solver: dict, want_frames: bool) -> tuple[catenax.Result, int | None]:
    """Relax the chain from y = 0 with :func:`catenax.minimize`.

    Args:
        chain: ``n``, ``spring``, ``length``, ``mass_g``.
        solver: as :func:`relax_chain`'s, with ``method`` filled in.
        want_frames: record the iterates (for ``--plot``/``--animate``) if true.

    The run keeps no energy or gradient history: nothing ``relax`` reports
    uses it, and it would grow with the steps taken.

    Returns:
        The result, and the seed a multistart run used (``None`` without one).

    Example:
        >>> r, seed = run_chain({"n": 3, "spring": 5.0, "length": 0.8, "mass_g": 0.1},
        ...     {"method": "newton", "lr": None, "schedule": None, "steps": 100,
        ...      "dtype": "float64", "tol_given": False, "tol": None, "multistart": None,
        ...      "seed": None}, False)
        >>> r.status, seed
        ('converged', None)
    """
    n, steps = chain["n"], solver["steps"]
    kwargs: dict[str, Any] = {}
    if solver["tol_given"]:
        kwargs["tol"] = solver["tol"]
    seed = None
    if solver["multistart"] is not None:
        seed = 0 if solver["seed"] is None else solver["seed"]
        kwargs.update(multistart=solver["multistart"], seed=seed)
    result = catenax.minimize(
        catenax.chain_energy,
        jnp.zeros(n, solver["dtype"]),
        chain["spring"],
        chain["length"],
        chain["mass_g"],
        method=solver["method"],
        learning_rate=solver["lr"],
        schedule=solver["schedule"],
        max_steps=steps,
        record_every=record_every(n, steps) if want_frames else None,
        history=False,
        **kwargs,
    )
    return result, seed


def _frames(result: catenax.Result) -> tuple[np.ndarray, np.ndarray, Any]:
    """The recorded shapes, the final shape (both with the ends appended) and the steps."""
    return (
        np.asarray(catenax.pad_ends(jnp.asarray(result.iterates))),
        np.asarray(catenax.pad_ends(jnp.asarray(result.positions))),
        result.iterate_steps,
    )


def _save_plot(path: Path, frames: Callable[[], tuple], data: dict) -> None:
    import catenax.plot as cplot

    shapes, final, steps = frames()
    fig, ax = cplot.new_figure()
    try:
        cplot.plot_relaxation(ax, shapes, final, steps=steps)
        ax.text(
            0.99,
            0.02,
            f"{data['method']}, {data['status']} after {data['steps']} steps",
            transform=ax.transAxes,
            ha="right",
            fontsize="small",
        )
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100))
    finally:
        cplot.close(fig)


def _save_animation(path: Path, frames: Callable[[], tuple]) -> None:
    import catenax.plot as cplot

    shapes, _, steps = frames()
    fig, ax = cplot.new_figure()
    try:
        atomic_write(path, lambda tmp: cplot.save_chain_gif(fig, ax, shapes, steps, tmp))
    finally:
        cplot.close(fig)
