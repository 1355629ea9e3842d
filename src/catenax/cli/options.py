"""The options that several commands declare, each declared here once.

A command takes them as annotated parameters, e.g. ``n: options.RelaxN = None``.
The same option differs between commands where its meaning does: ``relax``
takes ``--n`` or nothing (``None``: the lesson's value, or a scenario file
instead), ``compare`` takes one value (the lesson's by default) and ``sweep``
takes a value, a list or a range as text. The option names come from
:data:`catenax.cli.common.OPTION_NAMES`, the lesson's defaults from
:data:`catenax.LESSON`, and the help texts that repeat from the constants below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from catenax.model import LESSON
from catenax.solvers import DEFAULT_METHOD

from .common import OPTION_NAMES, Dtype

__all__ = [
    "CHAIN_HELP",
    "LR_DEFAULT_HELP",
    "TOL_DEFAULT_HELP",
    "CompareLength",
    "CompareLr",
    "CompareMassG",
    "CompareN",
    "ComparePlot",
    "CompareSpring",
    "CompareSteps",
    "CompareTol",
    "DtypeOption",
    "MaxMemoryOption",
    "ProgressOption",
    "RelaxLength",
    "RelaxLr",
    "RelaxMassG",
    "RelaxMethod",
    "RelaxMultistart",
    "RelaxN",
    "RelaxOut",
    "RelaxPlot",
    "RelaxSchedule",
    "RelaxSeed",
    "RelaxSpring",
    "RelaxSteps",
    "RelaxTol",
    "SweepLength",
    "SweepLr",
    "SweepMassG",
    "SweepMethod",
    "SweepMultistart",
    "SweepN",
    "SweepOut",
    "SweepPlot",
    "SweepSchedule",
    "SweepSeed",
    "SweepSpring",
    "SweepSteps",
    "SweepTol",
]

#: What the lesson chain's options set (``relax`` and ``compare``).
CHAIN_HELP = {
    "n": "Number of masses (>= 1).",
    "spring": "Spring constant K (>= 0).",
    "length": "Rest length l (> 0).",
    "mass_g": "Weight mg of each mass (>= 0).",
}
LR_DEFAULT_HELP = "[default: 0.2 for gd/sgd, 0.1 else]"
TOL_DEFAULT_HELP = "1e-10 in float64, 1e-5 in float32"


def _option(field: str, help: str, **kwargs: Any) -> Any:
    """The typer option that sets the library field ``field``."""
    return typer.Option(OPTION_NAMES[field], help=help, **kwargs)


def _with_default(field: str) -> Any:
    """A chain option of ``relax``: ``None`` when not given; the lesson's value in the help."""
    return _option(field, f"{CHAIN_HELP[field]} [default: {LESSON[field]}]", show_default=False)


# --- the lesson chain: --n, --spring, --length, --mass-g ------------------------------------
RelaxN = Annotated[int | None, _with_default("n")]
RelaxSpring = Annotated[float | None, _with_default("spring")]
RelaxLength = Annotated[float | None, _with_default("length")]
RelaxMassG = Annotated[float | None, _with_default("mass_g")]

CompareN = Annotated[int, _option("n", CHAIN_HELP["n"])]
CompareSpring = Annotated[float, _option("spring", CHAIN_HELP["spring"])]
CompareLength = Annotated[float, _option("length", CHAIN_HELP["length"])]
CompareMassG = Annotated[float, _option("mass_g", CHAIN_HELP["mass_g"])]

SweepN = Annotated[
    str | None,
    _option("n", f"Masses: a value or a list, grouped by n. [default: {LESSON['n']}]"),
]
SweepSpring = Annotated[
    str | None,
    _option(
        "spring",
        "Spring constant K: a value, a list 1,2,5 or a range 1:10:19. "
        f"[default: {LESSON['spring']}]",
    ),
]
SweepLength = Annotated[
    str | None,
    _option(
        "length",
        "Rest length l: a value, a list 0.8,1.0,1.2 or a range 0.8:1.4:61. "
        f"[default: {LESSON['length']}]",
    ),
]
SweepMassG = Annotated[
    str | None,
    _option("mass_g", f"Weight mg: a value, list or range. [default: {LESSON['mass_g']}]"),
]

# --- the method: --method, --lr, --schedule -----------------------------------------------
RelaxMethod = Annotated[
    str | None,
    _option(
        "method",
        "Method: newton, lbfgs, fire, gd or any optax optimizer (adam, lion, ...). "
        f"[default: {DEFAULT_METHOD}]",
        show_default=False,
    ),
]
SweepMethod = Annotated[
    str | None, _option("method", "Method (default newton).", show_default=False)
]

RelaxLr = Annotated[
    float | None, _option("learning_rate", f"Learning rate (> 0). {LR_DEFAULT_HELP}")
]
SweepLr = Annotated[float | None, _option("learning_rate", "Learning rate (> 0).")]
CompareLr = Annotated[
    str | None,
    _option(
        "learning_rate",
        f"Learning rates: one number for all, or NAME=VALUE,... {LR_DEFAULT_HELP}",
        show_default=False,
    ),
]

RelaxSchedule = Annotated[
    str | None,
    _option(
        "schedule",
        "Learning-rate schedule: constant, exponential_decay, cosine_decay, "
        "warmup_cosine_decay, linear; parameters as 'name:key=value,...'.",
    ),
]
SweepSchedule = Annotated[str | None, _option("schedule", "Learning-rate schedule (as relax).")]

# --- stopping: --steps, --tol -------------------------------------------------------------
RelaxSteps = Annotated[
    int | None,
    _option(
        "max_steps",
        "Largest number of steps (>= 1). [default: 10000, or the scenario's max_steps]",
        show_default=False,
    ),
]
CompareSteps = Annotated[int, _option("max_steps", "Step budget of every method (>= 1).")]
SweepSteps = Annotated[int, _option("max_steps", "Largest number of steps per case.")]

RelaxTol = Annotated[
    str | None,
    _option(
        "tol",
        "Relative tolerance of the stopping rule max|grad E| <= tol * F; "
        f"'none' runs exactly --steps steps. [default: {TOL_DEFAULT_HELP}]",
        show_default=False,
    ),
]
CompareTol = Annotated[
    str | None,
    _option(
        "tol",
        "Relative tolerance of the common stopping rule; 'none' runs every method "
        f"exactly --steps steps. [default: {TOL_DEFAULT_HELP}]",
        show_default=False,
    ),
]
SweepTol = Annotated[
    str | None,
    _option(
        "tol",
        f"Relative tolerance (default {TOL_DEFAULT_HELP}); 'none' runs exactly --steps steps.",
        show_default=False,
    ),
]

# --- resources: --max-memory -------------------------------------------------------------
MaxMemoryOption = Annotated[
    str | None,
    typer.Option(
        OPTION_NAMES["max_memory"],
        help="Refuse a run that would need more memory than this (e.g. 8G); default 80% "
        "of the machine's memory, or CATENAX_MAX_MEMORY.",
        show_default=False,
    ),
]

# --- talking while working: --progress/--quiet ----------------------------------------------
ProgressOption = Annotated[
    bool | None,
    typer.Option(
        "--progress/--quiet",
        help="Report compiling and the progress of long runs on stderr (--progress), or "
        "nothing but errors (--quiet). [default: progress on a terminal, else one "
        "'compiling' line]",
        show_default=False,
    ),
]

# --- precision: --dtype (lesson's has its own help and default) ------------------------------
DtypeOption = Annotated[Dtype, typer.Option("--dtype", help="Precision.")]

# --- multistart: --multistart, --seed -----------------------------------------------------
RelaxMultistart = Annotated[
    int | None,
    _option(
        "multistart",
        "Run K randomly perturbed starts as one batch; report the lowest stable "
        "minimum and list the distinct minima (for non-convex cases, e.g. --length 1.2).",
        show_default=False,
    ),
]
SweepMultistart = Annotated[int | None, _option("multistart", "K perturbed starts per case.")]

RelaxSeed = Annotated[
    int | None,
    _option(
        "seed", "Random seed of the --multistart perturbations. [default: 0]", show_default=False
    ),
]
SweepSeed = Annotated[int, _option("seed", "Seed of the multistart starts.")]

# --- outputs: --out, --plot, --json -------------------------------------------------------
RelaxOut = Annotated[
    Path | None,
    typer.Option("--out", help="Save the result: .json, .npz or .csv (.obj too for a scenario)."),
]
SweepOut = Annotated[
    Path | None, typer.Option("--out", help="Stream one row per case to a .csv or .jsonl file.")
]

RelaxPlot = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        help="Save a figure: the final chain shape (and faint intermediates), or the "
        "network coloured by tension: png/svg/pdf.",
    ),
]
ComparePlot = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        help="Save the convergence figure (max|∇E| against step and against wall "
        "time): png/svg/pdf.",
    ),
]
SweepPlot = Annotated[
    Path | None,
    typer.Option("--plot", help="Figure (png/svg/pdf): shapes for 1 parameter, maps for 2."),
]
