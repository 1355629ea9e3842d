"""``catenax compare``: several methods on one chain, side by side (the notebook's outlook).

Registered in :mod:`catenax.cli` as ``app.command("compare")(compare_command)``.
Only typer and the standard library are imported at module level; JAX and
matplotlib come in when the command runs, and the helpers of :mod:`catenax.cli`
are imported inside the command (that module imports this one).
"""

from __future__ import annotations

import json
import math
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["COMPARE_METHODS", "compare_command", "compare_table", "parse_learning_rates"]

#: Methods compared by default (the same as ``catenax.compare.DEFAULT_COMPARE_METHODS``,
#: repeated here so that ``--help`` needs no JAX import).
COMPARE_METHODS = ("gd", "adam", "lbfgs", "fire", "newton")

_N, _SPRING, _LENGTH, _MASS_G = 20, 5.0, 0.8, 0.1


class _Dtype(str, Enum):
    float32 = "float32"
    float64 = "float64"


def parse_learning_rates(text: str | None, methods: tuple[str, ...]) -> dict[str, float]:
    """Parse ``--lr`` of ``catenax compare``: ``"NAME=VALUE,..."``, or one number for all.

    Args:
        text: the option's value (``None``: every method uses its default).
        methods: the methods being compared.

    Returns:
        ``{method: learning_rate}`` for the methods given a rate.

    Raises:
        ValueError: a malformed item, a method not being compared, or a rate
            that is not a finite number > 0 (the message starts with ``--lr``).

    Example:
        >>> parse_learning_rates("gd=0.2, adam=0.05", ("gd", "adam"))
        {'gd': 0.2, 'adam': 0.05}
        >>> parse_learning_rates("0.1", ("gd", "adam"))
        {'gd': 0.1, 'adam': 0.1}
    """
    if text is None:
        return {}
    items = [t.strip() for t in text.split(",") if t.strip()]
    if len(items) == 1 and "=" not in items[0]:
        return dict.fromkeys(methods, _rate(items[0]))
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"--lr: '{item}' is not NAME=VALUE; use e.g. --lr gd=0.2,adam=0.05")
        if name not in methods:
            raise ValueError(
                f"--lr: '{name}' is not one of the methods compared ({', '.join(methods)})"
            )
        out[name] = _rate(value)
    return out


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--lr: '{text.strip()}' is not a number; use e.g. --lr 0.1") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"--lr: {text.strip()} must be a finite number > 0; use e.g. --lr 0.1")
    return value


def _parse_methods(text: str) -> tuple[str, ...]:
    names = tuple(t.strip() for t in text.split(","))
    if not text.strip() or any(not t for t in names):
        raise ValueError(
            f"--methods: '{text}' has an empty name; give a comma-separated list such as "
            f"--methods {','.join(COMPARE_METHODS)}"
        )
    dup = sorted({m for m in names if names.count(m) > 1})
    if dup:
        raise ValueError(f"--methods: {', '.join(dup)} given more than once; list each once")
    return names


def compare_table(out: dict) -> list[str]:
    """The terminal table of :func:`catenax.compare`'s result.

    Args:
        out: the dict returned by :func:`catenax.compare` (``problem`` and ``rows``).

    Returns:
        The lines to print: a header naming the problem, the column titles,
        then one row per method (method, steps, time, final energy, max|∇E|,
        status).

    Example:
        >>> out = {"problem": {"n": 20, "spring": 5.0, "length": 0.8, "mass_g": 0.1,
        ...                    "tol": None, "dtype": "float64", "max_steps": 100},
        ...        "rows": [{"method": "newton", "steps": 5, "time_s": 4e-4,
        ...                  "energy": -0.926, "grad_max": 2e-12, "status": "converged"}]}
        >>> compare_table(out)[2].split()[:2]
        ['newton', '5']
    """
    p = out["problem"]
    tol = "default" if p.get("tol") is None else f"{p['tol']:g}"
    lines = [
        f"catenax compare: chain n={p['n']} spring={p['spring']:g} length={p['length']:g} "
        f"mass_g={p['mass_g']:g}, {p['dtype']}, tol {tol}, at most {p['max_steps']} steps",
        f"  {'method':<10} {'steps':>7} {'time (ms)':>10} {'energy':>20} {'max|∇E|':>10}  status",
    ]
    for r in out["rows"]:
        energy = "nan" if r["energy"] is None or not math.isfinite(r["energy"]) else r["energy"]
        gmax = r["grad_max"]
        gtext = "nan" if gmax is None or not math.isfinite(gmax) else f"{gmax:.3g}"
        etext = energy if isinstance(energy, str) else f"{energy:.15g}"
        lines.append(
            f"  {r['method']:<10} {r['steps']:>7} {1e3 * r['time_s']:>10.3f} {etext:>20} "
            f"{gtext:>10}  {r['status']}"
        )
    lines.append("  time: one jitted run after a first run that compiled it")
    return lines


def compare_command(
    methods: Annotated[
        str,
        typer.Option("--methods", help="Comma-separated methods to compare (any of relax's)."),
    ] = ",".join(COMPARE_METHODS),
    n: Annotated[int, typer.Option("--n", help="Number of masses (>= 1).")] = _N,
    spring: Annotated[float, typer.Option("--spring", help="Spring constant K (>= 0).")] = _SPRING,
    length: Annotated[float, typer.Option("--length", help="Rest length l (> 0).")] = _LENGTH,
    mass_g: Annotated[float, typer.Option("--mass-g", help="Weight mg of each mass (>= 0).")] = (
        _MASS_G
    ),
    steps: Annotated[
        int, typer.Option("--steps", help="Step budget of every method (>= 1).")
    ] = 20_000,
    tol: Annotated[
        float | None,
        typer.Option(
            "--tol",
            help="Relative tolerance of the common stopping rule. "
            "[default: 1e-10 in float64, 1e-5 in float32]",
            show_default=False,
        ),
    ] = None,
    lr: Annotated[
        str | None,
        typer.Option(
            "--lr",
            help="Learning rates: one number for all, or NAME=VALUE,... "
            "[default: 0.2 for gd/sgd, 0.1 else]",
            show_default=False,
        ),
    ] = None,
    dtype: Annotated[_Dtype, typer.Option("--dtype", help="Precision.")] = _Dtype.float64,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Save the convergence figure (max|∇E| against step and against wall "
            "time): png/svg/pdf.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the problem and one row per method as JSON."),
    ] = False,
) -> None:
    """Run several methods on the lesson's chain and compare them.

    Every method starts from y = 0 and stops by the same rule; the table gives
    steps, time (compilation excluded), final energy, max|∇E| and status.
    Exit codes: 0 the comparison ran (a method that diverged is a row of the
    table), 2 invalid input, 3 unexpected failure.
    """
    from .app import PLOT_SUFFIXES, InvalidInput, _check_outputs, _guard, _setup_jax

    with _guard():
        names = _parse_methods(methods)
        rates = parse_learning_rates(lr, names)
        if steps < 1:
            raise InvalidInput(f"--steps: {steps} must be >= 1; use e.g. --steps 20000")
        if tol is not None and (not math.isfinite(tol) or tol < 0):
            raise InvalidInput(f"--tol: {tol} must be a finite number >= 0; use e.g. --tol 1e-10")
        dtype = _Dtype(dtype).value
        _check_outputs(**{"--plot": (plot, PLOT_SUFFIXES)})
        _setup_jax(x64=dtype == "float64")

        import catenax

        n, spring, length, mass_g = catenax.validate_chain_params(n, spring, length, mass_g)
        for name in names:
            try:
                catenax.resolve_method(name, rates.get(name), None, steps)
            except ValueError as e:
                field, _, rest = str(e).partition(":")
                option = {"method": "--methods", "learning_rate": "--lr"}.get(field.strip())
                raise InvalidInput(f"{option}:{rest}" if option else str(e)) from None

        if tol is None:
            tol = catenax.DEFAULT_RTOL[dtype]
        out = catenax.compare(
            names, n=n, spring=spring, length=length, mass_g=mass_g, max_steps=steps,
            tol=tol, learning_rates=rates, dtype=dtype,
        )  # fmt: skip
        if plot is not None:
            _save_compare_plot(plot, out)

        from catenax.io.files import to_jsonable

        if as_json:
            data = {"problem": out["problem"], "rows": out["rows"], "plot": plot and str(plot)}
            typer.echo(json.dumps(to_jsonable(data)))
        else:
            for line in compare_table(out):
                typer.echo(line)
        if plot is not None:
            typer.echo(f"wrote {plot}", err=as_json)
        raise typer.Exit(0)


def _save_compare_plot(path: Path, out: dict) -> None:
    from catenax.io.files import atomic_write
    from catenax.plot import chain as cplot

    fig, axes = cplot.plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    try:
        cplot.plot_grad_histories(axes[0], out["histories"], against="step")
        cplot.plot_grad_histories(axes[1], out["histories"], against="time")
        axes[0].set_title("largest force against step")
        axes[1].set_title("largest force against wall time")
        p = out["problem"]
        fig.suptitle(
            f"Chain n={p['n']}, K={p['spring']:g}, l={p['length']:g}, mg={p['mass_g']:g} "
            f"({p['dtype']}): every method from y = 0, same stopping rule"
        )
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100))
    finally:
        cplot.close(fig)
