"""What every command of the ``catenax`` command line shares.

Exit codes: :data:`EXIT_OK` (0) the run finished (converged, or used its step
budget, or any other status but diverged); :data:`EXIT_DIVERGED` (1) the run
diverged; :data:`EXIT_INVALID` (2) invalid input (nothing is run and no file
is written); :data:`EXIT_FAILED` (3) an unexpected failure (an I/O error or a
bug; set ``CATENAX_DEBUG=1`` for the traceback); :data:`EXIT_INTERRUPTED` (130)
Ctrl-C or SIGTERM. Messages go to stderr as one ``error: ...`` line, never a
traceback (:func:`guard`); each command's help lists its codes
(:func:`exit_codes_help`).

Library messages start with the field they are about (``length: ...``);
:data:`OPTION_NAMES` maps those fields to the options that set them, so the
user reads ``--length: ...``.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path

import jax
import typer

import catenax.solvers
from catenax.errors import InvalidInput
from catenax.io import check_output_path
from catenax.limits import set_memory_limit

__all__ = [
    "ANIMATE_SUFFIXES",
    "CHAIN_FIELDS",
    "CHAIN_OPTION_NAMES",
    "COMPARE_OPTION_NAMES",
    "EXIT_DIVERGED",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_MEANINGS",
    "EXIT_OK",
    "OPTION_NAMES",
    "PLOT_SUFFIXES",
    "SWEEP_OPTION_NAMES",
    "Dtype",
    "apply_max_memory",
    "exit_codes_help",
    "check_outputs",
    "check_steps",
    "check_tol",
    "effective_lr",
    "error",
    "guard",
    "option_message",
    "option_text",
    "parse_tol",
    "record_every",
    "setup_jax",
]

EXIT_OK, EXIT_DIVERGED, EXIT_INVALID, EXIT_FAILED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130

#: What each exit code means (every command's help lists the codes it can return).
EXIT_MEANINGS = {
    EXIT_OK: "finished",
    EXIT_DIVERGED: "the run diverged (no output file written)",
    EXIT_INVALID: "invalid input or a resource limit (nothing run, no file written)",
    EXIT_FAILED: "unexpected failure (set CATENAX_DEBUG=1 for the traceback)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C or SIGTERM)",
}

#: Library field names -> the CLI options that set them (``relax``, and every
#: command's error guard).
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
    "max_memory": "--max-memory",
}

#: The lesson chain's start ``x0`` has ``--n`` coordinates (``relax`` without a file).
CHAIN_OPTION_NAMES = {**OPTION_NAMES, "x0": "--n"}

#: ``catenax compare`` names its methods with ``--methods``.
COMPARE_OPTION_NAMES = {**CHAIN_OPTION_NAMES, "method": "--methods", "dtype": "--dtype"}

#: ``catenax sweep`` has more options that library messages can be about.
SWEEP_OPTION_NAMES = {
    **OPTION_NAMES,
    "dtype": "--dtype",
    "out": "--out",
    "max_cases": "--max-cases",
    "chunk_size": "--chunk-size",
    "plot": "--plot",
    "coordinator": "--coordinator",
    "num_processes": "--num-processes",
    "process_id": "--process-id",
    "coordinator_timeout": "--coordinator-timeout",
    "devices": "--cpu-devices",
    "distributed": "--distributed",
    "vary": "--vary",
}

#: The lesson chain's parameters (``relax``, ``compare`` and ``sweep`` set them).
CHAIN_FIELDS = ("n", "spring", "length", "mass_g")

PLOT_SUFFIXES = (".png", ".svg", ".pdf")
ANIMATE_SUFFIXES = (".gif",)


class Dtype(StrEnum):
    """Floating-point precision of a run."""

    float32 = "float32"
    float64 = "float64"


def option_message(msg: str, names: dict[str, str] = OPTION_NAMES) -> str:
    """Rewrite a library message ``"field: ..."`` as ``"--option: ..."``.

    Args:
        msg: the library's message.
        names: field -> option (default :data:`OPTION_NAMES`).

    Returns:
        The message with the option's name, or unchanged when its field is not in ``names``.

    Example:
        >>> option_message("mass_g: -1.0 must be >= 0")
        '--mass-g: -1.0 must be >= 0'
        >>> option_message("method: unknown method 'x'", COMPARE_OPTION_NAMES)
        "--methods: unknown method 'x'"
    """
    field, sep, rest = msg.partition(":")
    if sep and field.strip() in names:
        msg = f"{names[field.strip()]}:{rest}"
    return option_text(msg, names)


#: A field named in a library message: ```max_steps``` or ```method='newton'```.
_FIELD = re.compile(r"`([A-Za-z_]\w*)(?:=('[^'`]*'|\"[^\"`]*\"|[-+.\w]+))?`")


def option_text(msg: str, names: dict[str, str] = OPTION_NAMES) -> str:
    """Rewrite the fields a library message names in backquotes as the options that set them.

    ```max_steps``` becomes ``--steps``, ```method='newton'``` becomes
    ``--method newton``; fields without an option (and ```name=value``` with
    a value that is not a plain word or number) are left as they are. Use it
    on every library text the CLI prints: error messages (:func:`option_message`
    calls it) and a result's ``message``.

    Args:
        msg: the library's text.
        names: field -> option (default :data:`OPTION_NAMES`).

    Returns:
        The text in the CLI's words.

    Example:
        >>> option_text("Raise `max_steps`, or use `method='newton'` (`x0` is fine).")
        'Raise --steps, or use --method newton (`x0` is fine).'
    """

    def option(m: re.Match) -> str:
        opt = names.get(m.group(1))
        if opt is None:
            return m.group(0)
        return opt if m.group(2) is None else f"{opt} {m.group(2).strip(chr(39) + chr(34))}"

    return _FIELD.sub(option, msg)


def error(msg: str) -> None:
    """Print ``error: msg`` on stderr."""
    typer.echo(f"error: {msg}", err=True)


def exit_codes_help(*codes: int, meanings: dict[int, str] | None = None) -> str:
    """The line of a command's help that lists its exit codes.

    ``meanings`` replaces :data:`EXIT_MEANINGS`' text of some codes for one command.

    Example:
        >>> exit_codes_help(0, 130)
        'Exit codes: 0 finished; 130 interrupted (Ctrl-C or SIGTERM).'
        >>> exit_codes_help(1, meanings={1: "no stable design"})
        'Exit codes: 1 no stable design.'
    """
    text = {**EXIT_MEANINGS, **(meanings or {})}
    return "Exit codes: " + "; ".join(f"{c} {text[c]}" for c in codes) + "."


@contextlib.contextmanager
def guard(names: dict[str, str] = OPTION_NAMES) -> Iterator[None]:
    """Turn exceptions into one-line messages and exit codes (never a traceback).

    ``ValueError``/``TypeError`` -> exit 2 with the message (fields named as
    options, by ``names``), ``KeyboardInterrupt`` -> 130, anything else -> 3;
    ``CATENAX_DEBUG=1`` re-raises instead.
    """
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        error("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (ValueError, TypeError) as e:
        if os.environ.get("CATENAX_DEBUG"):
            raise
        error(option_message(str(e), names))
        raise typer.Exit(EXIT_INVALID) from None
    except Exception as e:  # noqa: BLE001 - the CLI must not print tracebacks
        if os.environ.get("CATENAX_DEBUG"):
            raise
        error(f"{type(e).__name__}: {e} (set CATENAX_DEBUG=1 for a traceback)")
        raise typer.Exit(EXIT_FAILED) from None


def setup_jax(x64: bool) -> None:
    """Configure JAX before any array exists: float64 on request, compile cache."""
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


def apply_max_memory(value: str | None) -> None:
    """Set the memory limit of this run from ``--max-memory`` (``None``: keep the default).

    Call it before any work: every allocation that grows with the input is
    checked against this limit (:func:`catenax.limits.check_memory`).

    Args:
        value: the option's text, e.g. ``"8G"``, or ``None`` when not given.

    Raises:
        InvalidInput: not an amount of memory (the message names ``--max-memory``).

    Example:
        >>> apply_max_memory(None)  # not given: the default limit stays
        >>> try:
        ...     apply_max_memory("lots")
        ... except ValueError as e:
        ...     print(e)
        --max-memory: 'lots' is not an amount of memory; use e.g. '8G', '512M' or bytes
    """
    if value is None:
        return
    try:
        set_memory_limit(value)
    except ValueError as e:
        raise InvalidInput(option_message(str(e))) from None


def check_steps(steps: int | None, example: int = 10_000) -> None:
    """Refuse a ``--steps`` below 1 (``None``: not given).

    Example:
        >>> try:
        ...     check_steps(0, 20_000)
        ... except ValueError as e:
        ...     print(e)
        --steps: 0 must be >= 1; use e.g. --steps 20000
    """
    if steps is not None and steps < 1:
        raise InvalidInput(f"--steps: {steps} must be >= 1; use e.g. --steps {example}")


def check_tol(tol: float, text: str | None = None) -> None:
    """Refuse a tolerance that is not a finite number >= 0 (``text``: as the user wrote it).

    Example:
        >>> try:
        ...     check_tol(-1.0)
        ... except ValueError as e:
        ...     print(e)
        --tol: -1.0 must be a finite number >= 0; use e.g. --tol 1e-10
    """
    if not math.isfinite(tol) or tol < 0:
        shown = tol if text is None else text
        raise InvalidInput(f"--tol: {shown} must be a finite number >= 0; use e.g. --tol 1e-10")


def parse_tol(text: str | None) -> tuple[bool, float | None]:
    """Parse ``--tol``: whether it was given, and its value.

    Args:
        text: the option's value: ``None`` (not given: the library default),
            ``"none"`` (no stopping test) or a number >= 0.

    Returns:
        ``(given, value)``.

    Raises:
        InvalidInput: not a number, or not a finite number >= 0.

    Example:
        >>> parse_tol(None), parse_tol("none"), parse_tol("1e-8")
        ((False, None), (True, None), (True, 1e-08))
    """
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
    check_tol(tol, text)
    return True, tol


def check_outputs(**paths: tuple[Path | None, tuple[str, ...]]) -> None:
    """Check output paths before anything runs: ``option=(path or None, suffixes)``.

    Example:
        >>> check_outputs(plot=(None, PLOT_SUFFIXES))  # not given: nothing to check
    """
    for option, (path, suffixes) in paths.items():
        if path is not None:
            check_output_path(path, suffixes, option)


def effective_lr(
    method: str, lr: float | None, default: Callable[[str], float] | None = None
) -> float | None:
    """The learning rate a run used (``None`` for methods that take none).

    ``default(method)`` gives the rate when ``lr`` is ``None`` (by default
    :func:`catenax.solvers.default_learning_rate`, looked up when called).

    Example:
        >>> effective_lr("gd", None), effective_lr("adam", 0.05), effective_lr("newton", 0.1)
        (0.2, 0.05, None)
    """
    if not catenax.solvers.takes_learning_rate(method):
        return None
    if lr is not None:
        return lr
    return (default or catenax.solvers.default_learning_rate)(method)


def record_every(n: int, steps: int, budget: int = 2_000_000) -> int:
    """Record every step unless that would hold more than ``budget`` numbers.

    Example:
        >>> record_every(20, 10_000), record_every(1000, 10_000)
        (1, 6)
    """
    return max(1, math.ceil((steps + 1) * n / budget))
