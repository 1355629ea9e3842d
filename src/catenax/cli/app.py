"""The ``catenax`` command line: the typer app, its ``--version``, and its commands.

Commands (one module each, registered here; they never import this module):

* ``catenax relax [SCENARIO] [options]`` (:mod:`catenax.cli.relax`) relaxes the
  lesson's chain, or a scenario file's network, and reports the result (one
  JSON object with ``--json``).
* ``catenax lesson`` (:mod:`catenax.cli.lesson`) reproduces the notebook
  "Lesson 1: Optimization" (F. Marquardt 2024).
* ``catenax sweep`` (:mod:`catenax.cli.sweep`) solves a grid of chains or
  scenario variants as one batch.
* ``catenax compare`` (:mod:`catenax.cli.compare`) runs several methods on one
  chain, side by side.

Exit codes and error messages are the same for every command
(:mod:`catenax.cli.common`): 0 finished, 1 diverged, 2 invalid input, 3 an
unexpected failure; messages go to stderr as one ``error: ...`` line.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Annotated

import typer

import catenax

from .common import EXIT_OK
from .compare import compare_command
from .lesson import lesson_command
from .relax import relax_command
from .sweep import sweep_command

__all__ = ["app", "main"]

app = typer.Typer(
    name="catenax",
    help="Equilibrium shapes of hanging chains by energy minimisation in JAX.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    no_args_is_help=True,
)


def _version() -> str:
    try:
        return metadata.version("catenax")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return catenax.__version__


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


app.command("relax")(relax_command)
app.command("lesson")(lesson_command)
app.command("sweep")(sweep_command)
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
