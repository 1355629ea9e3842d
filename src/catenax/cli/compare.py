"""``catenax compare``: several methods on one chain, side by side (the notebook's outlook).

Registered in :mod:`catenax.cli.app` as ``app.command("compare")(compare_command)``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer

import catenax
from catenax.io import atomic_write, to_jsonable
from catenax.model import LESSON
from catenax.solve import DEFAULT_COMPARE_METHODS
from catenax.solvers import check_learning_rate

from . import options
from .common import (
    COMPARE_OPTION_NAMES,
    EXIT_OK,
    PLOT_SUFFIXES,
    Dtype,
    apply_max_memory,
    check_outputs,
    check_steps,
    guard,
    parse_tol,
    setup_jax,
)
from .talk import working

__all__ = ["COMPARE_METHODS", "compare_command", "compare_table", "parse_learning_rates"]

#: Methods compared by default.
COMPARE_METHODS = DEFAULT_COMPARE_METHODS
_DEFAULT_METHODS = ",".join(COMPARE_METHODS)


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
    try:
        check_learning_rate(value, "--lr", "--lr 0.1")
    except ValueError:  # one message for both failures, as compare has always said
        raise ValueError(
            f"--lr: {text.strip()} must be a finite number > 0; use e.g. --lr 0.1"
        ) from None
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
    tol = "none (every method runs all steps)" if p.get("tol") is None else f"{p['tol']:g}"
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


MethodsOption = Annotated[
    str, typer.Option("--methods", help="Comma-separated methods to compare (any of relax's).")
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the problem and one row per method as JSON.")
]


def compare_command(
    methods: MethodsOption = _DEFAULT_METHODS,
    n: options.CompareN = LESSON["n"],
    spring: options.CompareSpring = LESSON["spring"],
    length: options.CompareLength = LESSON["length"],
    mass_g: options.CompareMassG = LESSON["mass_g"],
    steps: options.CompareSteps = 20_000,
    tol: options.CompareTol = None,
    lr: options.CompareLr = None,
    dtype: options.DtypeOption = Dtype.float64,
    plot: options.ComparePlot = None,
    as_json: JsonOption = False,
    max_memory: options.MaxMemoryOption = None,
    progress: options.ProgressOption = None,
) -> None:
    """Run several methods on the lesson's chain and compare them.

    Every method starts from y = 0 and stops by the same rule; the table gives
    steps, time (compilation excluded), final energy, max|∇E| and status.
    "Finished" (exit 0) means the comparison ran: a method that diverged is a
    row of the table.
    """
    with guard(COMPARE_OPTION_NAMES):
        apply_max_memory(max_memory)
        names = _parse_methods(methods)
        rates = parse_learning_rates(lr, names)
        check_steps(steps, 20_000)
        tol_given, tol = parse_tol(tol)
        dtype = Dtype(dtype).value
        check_outputs(**{"--plot": (plot, PLOT_SUFFIXES)})
        setup_jax(x64=dtype == "float64")

        n, spring, length, mass_g = catenax.validate_chain_params(n, spring, length, mass_g, dtype)
        for name in names:
            catenax.resolve_method(name, rates.get(name), None, steps)

        if not tol_given:
            tol = catenax.DEFAULT_RTOL[dtype]
        with working(f"timing {', '.join(names)} on n={n}", progress, steps=False):
            out = catenax.compare(
                names, n=n, spring=spring, length=length, mass_g=mass_g, max_steps=steps,
                tol=tol, learning_rates=rates, dtype=dtype,
            )  # fmt: skip
        if plot is not None:
            _save_compare_plot(plot, out)

        if as_json:
            data = {"problem": out["problem"], "rows": out["rows"], "plot": plot and str(plot)}
            typer.echo(json.dumps(to_jsonable(data)))
        else:
            for line in compare_table(out):
                typer.echo(line)
        if plot is not None:
            typer.echo(f"wrote {plot}", err=as_json)
        raise typer.Exit(EXIT_OK)


def _save_compare_plot(path: Path, out: dict) -> None:
    import catenax.plot as cplot

    fig, axes = cplot.new_figure(figsize=(11, 4.2), nrows=1, ncols=2)
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
