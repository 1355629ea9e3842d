"""The ``catenax`` command line: a thin typer app (parse -> library call -> output).

Commands:

* ``catenax lesson [--out DIR] [--dtype float32|float64]`` reproduces the
  notebook "Lesson 1: Optimization" (F. Marquardt 2024): 60 steps of gradient
  descent (eta = 0.2) and, separately from y0 = 0, 60 steps of adam (0.1), with
  the figures, ``summary.json`` and a table.
* ``catenax relax [options]`` relaxes one chain and reports the result, as a
  JSON object with ``--json``.

Exit codes: 0 the run finished (converged, or used its step budget, or any
other status but diverged); 1 the run diverged; 2 invalid input (nothing is
run and no file is written); 3 an unexpected failure (an I/O error or a bug;
set ``CATENAX_DEBUG=1`` for the traceback). Messages go to stderr as one
``error: ...`` line, never a traceback.

The module keeps its imports light (no JAX, matplotlib or scipy until a command
needs them) so that ``catenax relax --json`` starts quickly.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from catenax.errors import InvalidInput

__all__ = ["app", "main"]

EXIT_OK, EXIT_DIVERGED, EXIT_INVALID, EXIT_FAILED = 0, 1, 2, 3

#: The lesson's defaults, repeated here so that ``--help`` needs no JAX import
#: (a test checks they equal :data:`catenax.LESSON`).
_N, _SPRING, _LENGTH, _MASS_G = 20, 5.0, 0.8, 0.1

#: Library field names -> the CLI options that set them.
OPTION_NAMES = {
    "n": "--n",
    "spring": "--spring",
    "length": "--length",
    "mass_g": "--mass-g",
    "learning_rate": "--lr",
    "method": "--method",
    "schedule": "--schedule",
    "max_steps": "--steps",
    "tol": "--tol",
    "multistart": "--multistart",
    "seed": "--seed",
}

PLOT_SUFFIXES = (".png", ".svg", ".pdf")
ANIMATE_SUFFIXES = (".gif",)

app = typer.Typer(
    name="catenax",
    help="Equilibrium shapes of hanging chains by energy minimisation in JAX.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    no_args_is_help=True,
)


class Dtype(str, Enum):
    """Floating-point precision of a run."""

    float32 = "float32"
    float64 = "float64"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("catenax")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        from catenax import __version__

        return __version__


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"catenax {_version()}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """Equilibrium shapes of hanging chains by energy minimisation in JAX.

    Exit codes: 0 finished, 1 diverged, 2 invalid input, 3 unexpected failure.
    """


def _option_message(err: Exception) -> str:
    """Rewrite a library message ``"field: ..."`` as ``"--option: ..."``."""
    msg = str(err)
    field, sep, rest = msg.partition(":")
    if sep and field.strip() in OPTION_NAMES:
        return f"{OPTION_NAMES[field.strip()]}:{rest}"
    return msg


def _error(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)


@contextlib.contextmanager
def _guard():
    """Turn exceptions into one-line messages and exit codes (never a traceback)."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        _error("interrupted")
        raise typer.Exit(130) from None
    except (ValueError, TypeError) as e:
        if os.environ.get("CATENAX_DEBUG"):
            raise
        _error(_option_message(e))
        raise typer.Exit(EXIT_INVALID) from None
    except Exception as e:  # noqa: BLE001 - the CLI must not print tracebacks
        if os.environ.get("CATENAX_DEBUG"):
            raise
        _error(f"{type(e).__name__}: {e} (set CATENAX_DEBUG=1 for a traceback)")
        raise typer.Exit(EXIT_FAILED) from None


def _setup_jax(x64: bool) -> None:
    """Configure JAX before any array exists: float64 on request, compile cache."""
    import jax

    if x64:
        jax.config.update("jax_enable_x64", True)
    cache = os.environ.get("CATENAX_CACHE_DIR", str(Path.home() / ".cache" / "catenax" / "jax"))
    if cache and cache.lower() != "off":
        # Reusing compiled loops across processes more than halves the start-up
        # of a CLI run (see benchmarks/RESULTS.md); CATENAX_CACHE_DIR=off disables it.
        with contextlib.suppress(Exception):
            jax.config.update("jax_compilation_cache_dir", cache)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def _check_lr(lr: float | None) -> None:
    if lr is None:
        return
    if not math.isfinite(lr):
        raise InvalidInput(f"--lr: {lr} is not a finite number; use e.g. --lr 0.1")
    if lr <= 0:
        raise InvalidInput(f"--lr: {lr} must be > 0; use e.g. --lr 0.1")


def _parse_tol(text: str | None) -> tuple[bool, float | None]:
    """``None`` -> library default; ``"none"`` -> no stopping test; else a float >= 0."""
    if text is None:
        return False, None
    if text.strip().lower() == "none":
        return True, None
    try:
        tol = float(text)
    except ValueError:
        raise InvalidInput(
            f"--tol: '{text}' is not a number; use e.g. --tol 1e-10, or --tol none to "
            f"run exactly --steps steps"
        ) from None
    if not math.isfinite(tol) or tol < 0:
        raise InvalidInput(f"--tol: {text} must be a finite number >= 0; use e.g. --tol 1e-10")
    return True, tol


def _check_outputs(**paths: tuple[Path | None, tuple[str, ...]]) -> None:
    from catenax.io.files import check_output_path

    for option, (path, suffixes) in paths.items():
        if path is not None:
            check_output_path(path, suffixes, option)


#: Methods whose step comes from the Hessian or a line search: no learning rate.
_NO_LEARNING_RATE = ("newton", "lbfgs")


def _effective_lr(method: str, lr: float | None, default) -> float | None:
    """The learning rate a run used (``None`` for methods that take none)."""
    if method in _NO_LEARNING_RATE:
        return None
    return lr if lr is not None else default(method)


def _record_every(n: int, steps: int, budget: int = 2_000_000) -> int:
    """Record every step unless that would hold more than ``budget`` numbers."""
    return max(1, math.ceil((steps + 1) * n / budget))


#: Options that describe the lesson's chain; they cannot be combined with a scenario file.
CHAIN_OPTIONS = ("--n", "--spring", "--length", "--mass-g")


def _check_multistart(multistart: int | None, seed: int | None) -> None:
    if multistart is not None and multistart < 1:
        raise InvalidInput(
            f"--multistart: {multistart} must be an integer >= 1; use e.g. --multistart 16"
        )
    if seed is not None and not -(2**63) <= seed < 2**63:
        raise InvalidInput(f"--seed: {seed} is out of range; use an integer such as --seed 0")


@app.command()
def relax(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="A scenario file (.toml or .json) describing a spring network; without "
            "it, the lesson's chain is relaxed. Options given here override its [solver] "
            "table.",
            show_default=False,
            metavar="SCENARIO",
        ),
    ] = None,
    n: Annotated[
        int | None,
        typer.Option("--n", help=f"Number of masses (>= 1). [default: {_N}]", show_default=False),
    ] = None,
    spring: Annotated[
        float | None,
        typer.Option(
            "--spring", help=f"Spring constant K (>= 0). [default: {_SPRING}]", show_default=False
        ),
    ] = None,
    length: Annotated[
        float | None,
        typer.Option(
            "--length", help=f"Rest length l (> 0). [default: {_LENGTH}]", show_default=False
        ),
    ] = None,
    mass_g: Annotated[
        float | None,
        typer.Option(
            "--mass-g",
            help=f"Weight mg of each mass (>= 0). [default: {_MASS_G}]",
            show_default=False,
        ),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            help="Method: newton, lbfgs, fire, gd or any optax optimizer (adam, lion, ...). "
            "[default: catenax.solvers.DEFAULT_METHOD]",
            show_default=False,
        ),
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option("--lr", help="Learning rate (> 0). [default: 0.2 for gd/sgd, 0.1 else]"),
    ] = None,
    schedule: Annotated[
        str | None,
        typer.Option(
            "--schedule",
            help="Learning-rate schedule: constant, exponential_decay, cosine_decay, "
            "warmup_cosine_decay, linear; parameters as 'name:key=value,...'.",
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(
            "--steps",
            help="Largest number of steps (>= 1). [default: 10000, or the scenario's max_steps]",
            show_default=False,
        ),
    ] = None,
    tol: Annotated[
        str | None,
        typer.Option(
            "--tol",
            help="Relative tolerance of the stopping rule max|grad E| <= tol * F; "
            "'none' runs exactly --steps steps. [default: 1e-10 in float64, 1e-5 in float32]",
            show_default=False,
        ),
    ] = None,
    dtype: Annotated[Dtype, typer.Option("--dtype", help="Precision.")] = Dtype.float64,
    multistart: Annotated[
        int | None,
        typer.Option(
            "--multistart",
            help="Run K randomly perturbed starts as one batch; report the lowest stable "
            "minimum and list the distinct minima (for non-convex cases, e.g. --length 1.2).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Random seed of the --multistart perturbations. [default: 0]",
            show_default=False,
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Save a figure: the final chain shape (and faint intermediates), or the "
            "network coloured by tension: png/svg/pdf.",
        ),
    ] = None,
    animate: Annotated[
        Path | None,
        typer.Option("--animate", help="Save a GIF of the chain or network relaxing."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Save the result: .json, .npz or .csv (.obj too for a scenario).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON object on stdout.")
    ] = False,
) -> None:
    """Relax the lesson's chain from y = 0, or the network of a SCENARIO file.

    Output files are written atomically, and only when the run did not diverge.
    Exit codes: 0 finished (converged or step budget used), 1 diverged, 2 invalid input.
    """
    with _guard():
        # --- validate everything before running anything -------------------
        _check_lr(lr)
        if steps is not None and steps < 1:
            raise InvalidInput(f"--steps: {steps} must be >= 1; use e.g. --steps 10000")
        _check_multistart(multistart, seed)
        tol_given, tol_value = _parse_tol(tol)
        if scenario is not None:
            given = [
                opt
                for opt, value in zip(CHAIN_OPTIONS, (n, spring, length, mass_g), strict=True)
                if value is not None
            ]
            if given:
                raise InvalidInput(
                    f"{given[0]}: is an option of the lesson's chain and cannot be used with "
                    f"a scenario file ('{scenario}'); set the structure in the file's "
                    f"[structure] table instead, or drop the scenario file"
                )
            from .network import relax_scenario

            relax_scenario(
                scenario,
                overrides=dict(
                    method=method, learning_rate=lr, schedule=schedule, max_steps=steps,
                    multistart=multistart, seed=seed,
                ),
                tol_given=tol_given,
                tol_value=tol_value,
                dtype=dtype.value,
                plot=plot,
                animate=animate,
                out=out,
                as_json=as_json,
            )  # fmt: skip
            return  # pragma: no cover - relax_scenario always exits
        n = _N if n is None else n
        spring = _SPRING if spring is None else spring
        length = _LENGTH if length is None else length
        mass_g = _MASS_G if mass_g is None else mass_g
        steps = 10_000 if steps is None else steps
        from catenax.io.files import RESULT_SUFFIXES

        _check_outputs(
            **{
                "--out": (out, RESULT_SUFFIXES),
                "--plot": (plot, PLOT_SUFFIXES),
                "--animate": (animate, ANIMATE_SUFFIXES),
            }
        )
        _setup_jax(x64=dtype is Dtype.float64)

        import catenax
        import catenax.solvers
        from catenax.solvers import DEFAULT_METHOD, default_learning_rate

        n, spring, length, mass_g = catenax.validate_chain_params(n, spring, length, mass_g)
        method = DEFAULT_METHOD if method is None else method
        if schedule is not None:  # checked even for methods that take no learning rate
            name, sched_params = catenax.solvers.parse_schedule(schedule)
            catenax.solvers.make_schedule(name, 0.1, steps, **sched_params)
        catenax.resolve_method(method, lr, schedule, steps)  # checks method and lr
        if not tol_given:
            tol_value = catenax.DEFAULT_RTOL[dtype.value]

        # --- run -------------------------------------------------------------
        import jax.numpy as jnp
        import numpy as np

        y0 = jnp.zeros(n, dtype.value)
        kwargs: dict[str, Any] = {}
        if tol_given:
            kwargs["tol"] = tol_value
        if multistart is not None:
            kwargs["multistart"] = multistart
            kwargs["seed"] = 0 if seed is None else seed
        want_frames = plot is not None or animate is not None
        result = catenax.minimize(
            catenax.chain_energy,
            y0,
            spring,
            length,
            mass_g,
            method=method,
            learning_rate=lr,
            schedule=schedule,
            max_steps=steps,
            record_every=_record_every(n, steps) if want_frames else None,
            **kwargs,
        )

        params = {
            "n": n,
            "spring": spring,
            "length": length,
            "mass_g": mass_g,
            "method": method,
            "lr": _effective_lr(method, lr, default_learning_rate),
            "schedule": schedule,
            "steps": steps,
            "tol": tol_value,
            "dtype": dtype.value,
        }
        if multistart is not None:
            params.update(multistart=multistart, seed=kwargs["seed"])
        data = result_json(result, params)
        diverged = result.status == "diverged"
        note = (lambda s: typer.echo(s, err=True)) if as_json else typer.echo

        if as_json:
            typer.echo(json.dumps(data))
        else:
            _print_summary(data)
        if diverged:
            _error(result.message)
            if out or plot or animate:
                _error("no output files were written because the run diverged.")
            raise typer.Exit(EXIT_DIVERGED)

        # --- outputs (only for runs that did not diverge) ---------------------
        if out is not None:
            from catenax.io.files import write_result

            write_result(out, data)
            note(f"wrote {out}")
        if plot is not None or animate is not None:
            shapes = np.asarray(catenax.pad_ends(jnp.asarray(result.iterates)))
            final = np.asarray(catenax.pad_ends(jnp.asarray(result.positions)))
            if plot is not None:
                _save_relax_plot(plot, shapes, final, result.iterate_steps, data)
                note(f"wrote {plot}")
            if animate is not None:
                _save_relax_animation(animate, shapes, result.iterate_steps)
                note(f"wrote {animate}")
        raise typer.Exit(EXIT_OK)


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
    from catenax.io.files import to_jsonable

    d = result.to_dict()
    y = d.pop("positions")
    return to_jsonable({**d, "y": y, "params": params})


def _number(value, fmt: str) -> str:
    return "nan" if value is None else format(value, fmt)


def verdict_lines(data: dict) -> list[tuple[str, str]]:
    """Rows of the human summary for the stability verdict of a result's JSON.

    Args:
        data: a result dict with ``status`` and, where the verdict ran,
            ``stable``, ``min_eigenvalue`` and ``gd_step_max``.

    Returns:
        ``(label, text)`` rows: the verdict (stable minimum, saddle, or not a
        minimum) and the largest stable gradient-descent step ``2/lambda_max``;
        empty when the result has no verdict (e.g. a diverged run).

    Example:
        >>> rows = verdict_lines({"status": "converged", "stable": True,
        ...                       "min_eigenvalue": 0.0463, "gd_step_max": 0.2387})
        >>> rows[0]
        ('verdict', 'stable minimum (lowest Hessian eigenvalue 0.0463 > 0)')
        >>> rows[1][1]
        '2/λmax = 0.2387 (largest stable gradient-descent step)'
    """
    stable = data.get("stable")
    if stable is None:
        return []
    lam = _number(data.get("min_eigenvalue"), ".4g")
    if data["status"] == "saddle":
        text = f"saddle point, not a minimum (lowest Hessian eigenvalue {lam} < 0)"
    elif stable and data["status"] == "converged":
        text = f"stable minimum (lowest Hessian eigenvalue {lam} > 0)"
    elif stable:
        text = f"not converged; positive curvature here (lowest Hessian eigenvalue {lam} > 0)"
    else:
        text = f"not a minimum: negative curvature (lowest Hessian eigenvalue {lam} < 0)"
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
            f"  {k:>3} {_number(m.get('energy'), '.12g'):>18} {m.get('count', 0):>6} "
            f"{sym:>10} {_number(m.get('min_eigenvalue'), '.4g'):>15}"
        )
    return lines


def _print_summary(data: dict) -> None:
    p = data["params"]
    typer.echo(
        f"catenax relax: n={p['n']} spring={p['spring']:g} length={p['length']:g} "
        f"mass_g={p['mass_g']:g}, method {data['method']}, {p['dtype']}"
    )
    rows = [
        ("status", data["status"]),
        ("steps", data["steps"]),
        ("energy", _number(data["energy"], ".12g")),
        ("max|grad E|", _number(data["grad_max"], ".3g")),
        ("lowest y", f"{min(data['y']):.9g}" if data["y"] else "-"),
        *verdict_lines(data),
    ]
    for key, value in rows:
        typer.echo(f"  {key:<12} {value}")
    for line in minima_table(data):
        typer.echo(f"  {line}")
    if data["status"] != "diverged":
        typer.echo(f"  {data['message']}")


def _save_relax_plot(path: Path, shapes, final, steps, data: dict) -> None:
    from catenax.io.files import atomic_write
    from catenax.plot import chain as cplot

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


def _save_relax_animation(path: Path, shapes, steps) -> None:
    from catenax.io.files import atomic_write
    from catenax.plot import chain as cplot

    fig, ax = cplot.new_figure()
    try:
        atomic_write(path, lambda tmp: cplot.save_chain_gif(fig, ax, shapes, steps, tmp))
    finally:
        cplot.close(fig)


# --------------------------------------------------------------------------
# catenax lesson
# --------------------------------------------------------------------------

#: The notebook's two runs: (key in summary.json, method, learning rate, figure).
from .lesson import lesson_command  # noqa: E402 - light (typer only)

app.command("lesson")(lesson_command)

from .sweep import sweep_command  # noqa: E402 - light (typer only); registered beside the others

app.command("sweep")(sweep_command)

from .compare import compare_command  # noqa: E402 - light (typer only)

app.command("compare")(compare_command)


def main(argv: list[str] | None = None) -> None:
    """Run the ``catenax`` command line (the console-script entry point).

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Example:
        >>> main(["--version"])  # doctest: +SKIP
        catenax 0.1.0
    """
    app(args=argv if argv is not None else sys.argv[1:], prog_name="catenax")
