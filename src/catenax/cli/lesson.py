"""``catenax lesson``: the notebook's hanging chain, reproduced step for step.

The notebook "Lesson 1: Optimization" (F. Marquardt 2024) runs 60 steps of
gradient descent (eta = 0.2) and, separately from y0 = 0, 60 steps of adam
(0.1); this command repeats both and writes the figures, ``summary.json`` and
a table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import jax.numpy as jnp
import numpy as np
import typer

import catenax
from catenax.errors import InvalidInput
from catenax.io import atomic_write, to_jsonable

from . import options
from .common import EXIT_OK, Dtype, apply_max_memory, guard, setup_jax
from .talk import working

__all__ = ["LESSON_RUNS", "LESSON_STEPS", "lesson_command"]

#: The notebook's two runs: (key in summary.json, method, learning rate, figure).
LESSON_RUNS = (
    ("gradient_descent_eta_0.2", "gd", 0.2, "gradient_descent.png"),
    ("adam_lr_0.1", "adam", 0.1, "adam.png"),
)
LESSON_STEPS = 60


def lesson_command(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the figures and summary.json.")
    ] = Path("out/lesson"),
    dtype: Annotated[
        Dtype,
        typer.Option("--dtype", help="Precision of the two 60-step runs (the notebook: float32)."),
    ] = Dtype.float32,
    max_memory: options.MaxMemoryOption = None,
    progress: options.ProgressOption = None,
) -> None:
    """Reproduce the notebook's lesson: 60 steps of gd (0.2), then 60 of adam (0.1).

    Writes gradient_descent.png, adam.png, convergence.png and summary.json into
    --out and prints a table. E* comes from a float64 solve to round-off.
    """
    with guard():
        apply_max_memory(max_memory)
        if out.exists() and not out.is_dir():
            raise InvalidInput(f"--out: '{out}' is a file; give a folder for the lesson's outputs")
        out.mkdir(parents=True, exist_ok=True)
        # x64 is needed for the exact solve; the runs keep the dtype of their y0.
        setup_jax(x64=True)

        p = catenax.LESSON
        args = (p["spring"], p["length"], p["mass_g"])
        with working("running the lesson (newton, gd, adam)", progress, steps=False):
            star = _exact_equilibrium(p["n"], args)
            runs = {
                key: catenax.minimize(
                    catenax.chain_energy,
                    jnp.zeros(p["n"], dtype.value),
                    *args,
                    method=method,
                    learning_rate=lr,
                    max_steps=LESSON_STEPS,
                    tol=None,
                    record_every=1,
                )
                for key, method, lr, _ in LESSON_RUNS
            }
            summary = _summary(star, runs, dtype.value)
            _save_figures(out, runs, float(star.energy), dtype.value)
        text = json.dumps(to_jsonable(summary), indent=1) + "\n"
        atomic_write(out / "summary.json", lambda tmp: tmp.write_text(text, encoding="utf-8"))

        _print_lesson_table(summary, out)
        raise typer.Exit(EXIT_OK)


def _exact_equilibrium(n: int, args: tuple) -> catenax.Result:
    """E* and y* of the lesson chain in float64, solved to round-off."""
    # The lesson's chain is strictly convex: newton reaches round-off in ~6 steps.
    return catenax.minimize(
        catenax.chain_energy, jnp.zeros(n, jnp.float64), *args, method="newton", tol=1e-13
    )


def _summary(star: catenax.Result, runs: dict, dtype: str) -> dict:
    """The content of ``summary.json``: the problem, E* and y*, and the two runs."""
    y_star = np.asarray(star.positions, dtype=float)
    return {
        "problem": {**catenax.LESSON, "y0": "zeros", "dtype": dtype, "steps": LESSON_STEPS},
        "equilibrium": {
            "energy": float(star.energy),
            "y": y_star.tolist(),
            "method": star.method,
            "status": star.status,
            "grad_max": star.grad_max,
            "dtype": "float64",
        },
        "runs": {
            key: {
                "method": method,
                "lr": lr,
                "steps": r.steps,
                "status": r.status,
                "energy": r.energy,
                "grad_max": r.grad_max,
                "max_abs_y_minus_ystar": float(
                    np.max(np.abs(np.asarray(r.positions, float) - y_star))
                ),
                "y": np.asarray(r.positions).tolist(),
            }
            for (key, method, lr, _), r in zip(LESSON_RUNS, runs.values(), strict=True)
        },
        "credit": "Lesson 1: Optimization, F. Marquardt 2024 (MIT licence)",
    }


def _save_figures(out: Path, runs: dict, e_star: float, dtype: str) -> None:
    """One figure per run (every intermediate shape) and the convergence figure."""
    import catenax.plot as cplot

    for (_, _, _, fname), r in zip(LESSON_RUNS, runs.values(), strict=True):
        shapes = np.asarray(catenax.pad_ends(jnp.asarray(r.iterates)))[1:]  # after each step
        fig, ax = cplot.new_figure()
        cplot.plot_chain_history(ax, shapes)
        atomic_write(out / fname, lambda tmp, fig=fig: fig.savefig(tmp, dpi=100))
        cplot.close(fig)

    fig, axes = cplot.new_figure(figsize=(10, 4), nrows=1, ncols=2)
    labels = {"gradient_descent_eta_0.2": "gd, η = 0.2", "adam_lr_0.1": "adam, lr = 0.1"}
    hist = {labels[k]: r for k, r in runs.items()}
    cplot.plot_convergence(axes[0], hist, quantity="energy", e_star=e_star)
    cplot.plot_convergence(axes[1], hist, quantity="grad")
    fig.suptitle(f"Lesson chain, {dtype}: convergence of the first {LESSON_STEPS} steps")
    atomic_write(out / "convergence.png", lambda tmp: fig.savefig(tmp, dpi=100))
    cplot.close(fig)


def _print_lesson_table(summary: dict, out: Path) -> None:
    eq = summary["equilibrium"]
    typer.echo(
        f"Lesson 1 chain: N={summary['problem']['n']}, K={summary['problem']['spring']:g}, "
        f"l={summary['problem']['length']:g}, mg={summary['problem']['mass_g']:g}, "
        f"{summary['problem']['dtype']}; E* = {eq['energy']:.12g}"
    )
    cols = ("steps", 5), ("energy", 14), ("E - E*", 10), ("max|∇E|", 10), ("max|y-y*|", 10)
    typer.echo(f"  {'run':<26}" + "".join(f" {c:>{w}}" for c, w in cols))
    for key, r in summary["runs"].items():
        typer.echo(
            f"  {key:<26} {r['steps']:>5} {r['energy']:>14.9f} {r['energy'] - eq['energy']:>10.3g} "
            f"{r['grad_max']:>10.3g} {r['max_abs_y_minus_ystar']:>10.3g}"
        )
    typer.echo(f"wrote {out}/: gradient_descent.png adam.png convergence.png summary.json")
