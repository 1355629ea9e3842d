"""``catenax design SCENARIO``: fit design variables so the structure hangs in a target shape.

The command parses its options, calls :func:`catenax.design` and prints or
writes what it returns: ``--json`` prints :meth:`DesignResult.to_dict`
(``status``, ``converged``, ``steps``, ``loss``, ``max_deviation``,
``min_tension``, ``stable``, ``min_eigenvalue``, ``variables``, ``positions``,
``message``, then ``loss_history``); ``--out`` writes the designed scenario
(:func:`catenax.io.write_scenario`), ``--plot`` the target against the
achieved shape and the designed values. Exit codes: 0 finished (converged,
or the step budget used, with a stable result), 1 failed (diverged or no
stable equilibrium; nothing written), 2 bad input (nothing run or written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from catenax.design import design
from catenax.io import SCENARIO_SUFFIXES, write_scenario

from . import options
from .common import (
    OPTION_NAMES,
    PLOT_SUFFIXES,
    apply_max_memory,
    check_outputs,
    check_steps,
    guard,
    parse_tol,
    setup_jax,
)
from .network import check_distinct_outputs
from .report import finish_run

__all__ = ["DESIGN_OPTION_NAMES", "design_command"]

#: Library fields -> this command's options (for messages).
DESIGN_OPTION_NAMES = {
    **OPTION_NAMES,
    "vary": "--vary",
    "target": "--target",
    "nodes": "--target",
    "uniform_tension": "--uniform-tension",
    "min_tension": "--min-tension",
    "regularization": "--regularize",
    "max_steps": "--steps",
    "tol": "--tol",
}

ScenarioArg = Annotated[Path, typer.Argument(help="The scenario file (.toml/.json) to design.")]
Vary = Annotated[
    list[str],
    typer.Option(
        "--vary",
        help="A key to vary, NAME or NAME:SUBSET (repeatable): rest_length, stiffness (ea "
        "where the scenario gives ea), prestress/force_density where the scenario gives "
        "them, mass, loads; SUBSET is spring/node indices and inclusive ranges, e.g. "
        "rest_length:0-40 or loads:3,5,7.",
        show_default=False,
    ),
]
TargetOpt = Annotated[
    Path,
    typer.Option(
        "--target",
        help="The target shape: .csv rows node,x,y[,z] (header optional; any subset of "
        "nodes), .json/.npz with positions (every node; catenax relax --json works), or "
        ".obj with the network's vertex order.",
        show_default=False,
    ),
]
UniformTension = Annotated[
    float, typer.Option("--uniform-tension", help="Weight of the spread of the tensions (>= 0).")
]
MinTension = Annotated[
    float | None,
    typer.Option(
        "--min-tension", help="Every cable at least this tension (no slack).", show_default=False
    ),  # fmt: skip
]
Regularize = Annotated[
    float, typer.Option("--regularize", help="Weight of the distance from the start values.")
]
Steps = Annotated[int, typer.Option("--steps", help="Most L-BFGS steps (>= 1).")]
Tol = Annotated[
    str | None,
    typer.Option(
        "--tol",
        help="Stop when the largest gradient component of the (dimensionless) loss is at "
        "most this. [default: 1e-10]",
        show_default=False,
    ),
]
Out = Annotated[
    Path | None,
    typer.Option("--out", help="Write the designed scenario: .toml or .json.", show_default=False),
]
Plot = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        help="Figure of target vs achieved and the designed values: png/svg/pdf.",
        show_default=False,
    ),  # fmt: skip
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]


def design_command(
    scenario: ScenarioArg,
    vary: Vary,
    target: TargetOpt,
    uniform_tension: UniformTension = 0.0,
    min_tension: MinTension = None,
    regularize: Regularize = 0.0,
    steps: Steps = 200,
    tol: Tol = None,
    out: Out = None,
    plot: Plot = None,
    as_json: JsonFlag = False,
    progress: options.ProgressOption = None,
    max_memory: options.MaxMemoryOption = None,
) -> None:
    """Find rest lengths, stiffnesses, prestress, masses or loads that make SCENARIO hang
    in the --target shape (L-BFGS through the equilibrium; float64)."""
    with guard(DESIGN_OPTION_NAMES):
        apply_max_memory(max_memory)
        check_steps(steps, 200)
        given, tol_value = parse_tol(tol)
        if given and tol_value is None:
            raise ValueError("--tol: give a number >= 0 (design always stops on its tolerance)")
        check_outputs(**{"--out": (out, SCENARIO_SUFFIXES), "--plot": (plot, PLOT_SUFFIXES)})
        check_distinct_outputs({"--out": out, "--plot": plot, "SCENARIO": scenario})
        setup_jax(x64=True)
        report = _reporter(progress)
        result = design(
            scenario, target, vary=vary, uniform_tension=uniform_tension,
            min_tension=min_tension, regularization=regularize, max_steps=steps,
            tol=tol_value, progress=report,
        )  # fmt: skip
        data = result.to_dict()
        failed = result.message if result.status == "failed" else None
        finish_run(
            data,
            lambda: _summary(result),
            as_json,
            failed,
            [
                (out, lambda p: write_scenario(p, result.scenario, result.base_dir)),
                (plot, lambda p: _save_plot(p, result)),
            ],
        )


def _reporter(progress: bool | None):
    if progress is False:
        return None

    def report(step: int, loss: float, grad_max: float) -> None:
        typer.echo(f"design: step {step}, loss {loss:.6g}, max|grad| {grad_max:.3g}", err=True)

    return report


def _summary(result) -> list[str]:
    tension = "n/a" if not np.isfinite(result.min_tension) else f"{result.min_tension:.6g}"
    eig = "n/a" if result.min_eigenvalue is None else f"{result.min_eigenvalue:.3g}"
    lines = [
        f"status:         {result.status} ({result.message})",
        f"steps:          {result.steps}",
        f"loss:           {result.loss:.6g}",
        f"max deviation:  {result.max_deviation:.6g}",
        f"min tension:    {tension}",
        f"stable:         {result.stable} (lowest eigenvalue {eig})",
    ]
    for name, values in result.variables.items():
        v = np.asarray(values)
        lines.append(f"{name + ':':<16}{v.size} values in [{v.min():.6g}, {v.max():.6g}]")
    return lines


def _save_plot(path: Path, result) -> None:
    import catenax.plot as cplot

    fig, (ax_shape, ax_vals) = cplot.new_figure(figsize=(11, 4.5), nrows=1, ncols=2)
    if result.network.dim == 3:
        ax_shape.remove()
        ax_shape = fig.add_subplot(1, 2, 1, projection="3d")
    cplot.plot_network(ax_shape, result.positions, result.network)
    tgt = np.asarray(result.target_positions)
    ax_shape.scatter(*tgt.T, marker="x", color="black", label="target", zorder=5)
    ax_shape.set_title(f"target (x) vs achieved: max deviation {result.max_deviation:.3g}")
    ax_shape.legend(loc="best")
    for name, values in result.variables.items():
        v = np.asarray(values)
        v = np.linalg.norm(v, axis=1) if v.ndim == 2 else v
        ax_vals.plot(np.arange(v.size), v, marker=".", label=name)
    ax_vals.set_xlabel("spring / node index")
    ax_vals.set_title("designed values")
    ax_vals.legend(loc="best")
    cplot.save_figure(fig, path)
