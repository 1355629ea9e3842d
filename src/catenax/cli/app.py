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
* ``catenax design SCENARIO`` (:mod:`catenax.cli.design`) fits rest lengths,
  stiffnesses, prestress, masses or loads to a target shape.

Exit codes and error messages are the same for every command
(:mod:`catenax.cli.common`): 0 finished, 1 diverged, 2 invalid input, 3 an
unexpected failure, 130 interrupted; messages go to stderr as one ``error: ...``
line. Each command's help ends with the codes it can return. An option given
twice is an error (:class:`OnceCommand`), not a silent choice of the last value.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

import catenax

from .common import (
    EXIT_DIVERGED,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    exit_codes_help,
)
from .compare import compare_command
from .design import design_command
from .lesson import lesson_command
from .relax import relax_command
from .sweep import sweep_command

__all__ = ["HELP", "OnceCommand", "app", "main"]

#: The top-level help.
HELP = (
    "Equilibrium shapes of hanging chains and spring networks (nets, cloths, "
    "scenario files) by energy minimisation in JAX: relax one structure, sweep a "
    "grid of them as one batch, compare methods, or replay the lesson."
)

app = typer.Typer(
    name="catenax",
    help=HELP,
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
    """The commands' shared settings (only ``--version`` so far)."""


class OnceCommand(TyperCommand):
    """A command whose options may each be given once (repeatable ones excepted).

    ``--n 5 --n 6`` is a usage error (exit 2) naming the option, instead of a
    silent choice of the last value; options declared repeatable (a list, such
    as sweep's ``--vary``) and ``--help`` may repeat.
    """

    def make_parser(self, ctx: Any) -> Any:
        parser = super().make_parser(ctx)
        parse = parser.parse_args

        def parse_once(args: list[str]) -> Any:
            opts, rest, order = parse(args=args)
            seen: set[str] = set()
            for param in order:
                # (typer carries its own copy of click: options are told by their kind)
                once = getattr(param, "param_type_name", "") == "option" and not (
                    param.multiple or param.count or param.name == "help"
                )
                if once and param.name in seen:
                    names = "/".join(param.opts + param.secondary_opts)
                    ctx.fail(f"{names}: given more than once; give it once")
                seen.add(param.name or "")
            return opts, rest, order

        parser.parse_args = parse_once
        return parser


def _register(name: str, command: Any, *codes: int, meanings=None) -> None:
    epilog = exit_codes_help(*codes, meanings=meanings)
    app.command(name, cls=OnceCommand, epilog=epilog)(command)


_register("relax", relax_command, EXIT_OK, EXIT_DIVERGED, EXIT_INVALID, EXIT_FAILED,
          EXIT_INTERRUPTED)  # fmt: skip
_register("lesson", lesson_command, EXIT_OK, EXIT_INVALID, EXIT_FAILED, EXIT_INTERRUPTED)
_register("sweep", sweep_command, EXIT_OK, EXIT_INVALID, EXIT_FAILED, EXIT_INTERRUPTED)
_register("compare", compare_command, EXIT_OK, EXIT_INVALID, EXIT_FAILED, EXIT_INTERRUPTED)
_register("design", design_command, EXIT_OK, EXIT_DIVERGED, EXIT_INVALID, EXIT_FAILED,
          EXIT_INTERRUPTED, meanings={EXIT_DIVERGED: "failed: the fit diverged or the "
          "designed structure has no stable equilibrium (no output file written)"})  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Run the ``catenax`` command line (the console-script entry point).

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Example:
        >>> main(["--version"])  # doctest: +SKIP
        catenax 0.1.0
    """
    app(args=argv if argv is not None else sys.argv[1:], prog_name="catenax")
