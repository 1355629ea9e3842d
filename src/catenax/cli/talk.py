"""Talking while working: "compiling …" and the progress of long runs, on stderr.

A command wraps the work that compiles and runs in :func:`working`. What the
user sees depends on where stderr goes and on ``--progress/--quiet``
(:data:`catenax.cli.options.ProgressOption`):

* on a terminal (the default there): a :mod:`rich` status line with a spinner,
  "compiling …" until the run reports its first steps, then the step count and
  max|∇E| (at most :data:`TTY_INTERVAL` apart); it vanishes when the work is done;
* elsewhere (a log file, a pipe): one plain line "compiling …", and with
  ``--progress`` a plain progress line at most every :data:`PLAIN_INTERVAL` seconds;
* ``--quiet``: nothing (errors are still printed).

Progress comes from :func:`catenax.solve.report_progress`: the driver takes
control back between calls of its compiled loop, so nothing runs on the device
for it, and a run without a reporter is exactly the run as before.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import TextIO

import typer
from rich.console import Console

from catenax.solve import report_progress

__all__ = ["PLAIN_INTERVAL", "TTY_INTERVAL", "progress_text", "working"]

#: Seconds between two progress updates on a terminal.
TTY_INTERVAL = 0.25
#: Seconds between two plain progress lines (``--progress`` when stderr is not a terminal).
PLAIN_INTERVAL = 5.0


def progress_text(what: str, step: int, grad_max: float, budget: int) -> str:
    """One progress report: the step count of the budget and max|∇E|.

    Example:
        >>> progress_text("relaxing", 12288, 3.2e-6, 1_000_000)
        'relaxing: step 12,288 of 1,000,000 (1.2 %), max|∇E| 3.2e-06'
    """
    share = 100.0 * step / budget if budget else 0.0
    return f"{what}: step {step:,} of {budget:,} ({share:.1f} %), max|∇E| {grad_max:.3g}"


@contextlib.contextmanager
def working(
    what: str,
    mode: bool | None = None,
    steps: bool = True,
    stream: TextIO | None = None,
) -> Iterator[None]:
    """Say on stderr that ``what`` is compiling, then (``steps``) how far its run is.

    Args:
        what: what is being done, e.g. ``"relaxing n=20 with newton"``.
        mode: ``--progress`` (``True``), ``--quiet`` (``False``) or neither (``None``:
            progress on a terminal only).
        steps: report the steps of long :func:`catenax.minimize` runs inside the block.
        stream: where to write (default: ``sys.stderr`` when the block starts).

    Example:
        >>> import io
        >>> log = io.StringIO()
        >>> with working("relaxing n=20 with newton", stream=log):
        ...     pass
        >>> log.getvalue()
        'compiling and relaxing n=20 with newton …\\n'
    """
    stream = sys.stderr if stream is None else stream
    if mode is False:
        yield
        return
    tty = bool(getattr(stream, "isatty", lambda: False)())
    if not tty:
        typer.echo(f"compiling and {what} …", file=stream)
        if not (mode and steps):
            yield
            return
        last = [time.monotonic()]

        def plain(step: int, grad_max: float, budget: int) -> None:
            now = time.monotonic()
            if now - last[0] >= PLAIN_INTERVAL:
                typer.echo(progress_text(what, step, grad_max, budget), file=stream)
                last[0] = now

        with report_progress(plain, TTY_INTERVAL):
            yield
        return
    console = Console(file=stream, stderr=True)
    with console.status(f"compiling and {what} …") as status:
        if not steps:
            yield
            return

        def update(step: int, grad_max: float, budget: int) -> None:
            status.update(progress_text(what, step, grad_max, budget))

        with report_progress(update, TTY_INTERVAL):
            yield
