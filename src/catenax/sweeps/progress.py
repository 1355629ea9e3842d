"""A sweep's run on the terminal: its progress (rich), and SIGTERM as Ctrl-C.

(Chunk writes hold Ctrl-C back with :func:`catenax.io.tables.deferred_interrupts`,
so a table is always whole chunks.)
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

__all__ = ["Progress", "sigterm_as_interrupt"]


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (e.g. a batch system's pre-emption) into ``KeyboardInterrupt``.

    A second SIGTERM kills at once. Outside the main thread this does nothing.

    Example:
        >>> with sigterm_as_interrupt():
        ...     pass
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupt(signum, frame):
        # A second SIGTERM kills at once (the default action), even inside a long
        # computation that never returns to Python.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


class Progress:
    """A sweep's progress on stderr, from the first moment (compiling) to the last case.

    On a terminal a :mod:`rich.progress` bar (a spinner and "compiling …" until
    the first chunk is done, then cases done, cases/s and the time left), redrawn
    a few times a second by rich's own thread; otherwise (a batch job's log) plain
    lines: one when the sweep starts, then at most one every ``every`` seconds,
    and one at the end.

    Args:
        total: cases in the sweep.
        done: cases already done (resume).
        enabled: print anything at all.
        stream: where to print (default ``sys.stderr``).
        every: seconds between lines when not on a terminal.

    Example:
        >>> import io
        >>> s = io.StringIO()
        >>> p = Progress(10, stream=s); p.start(); p.update(10); p.close()
        >>> print(s.getvalue(), end="")
        sweep: compiling ... (0/10 cases)
        sweep: 10/10 cases (100%)
    """

    def __init__(self, total, done=0, enabled=True, stream=None, every=5.0):
        self.total = total
        self.start_done = done
        self.done = done
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every
        self.t0 = time.perf_counter()
        self.t_first = None
        self.done_first = done
        self.last_print = -math.inf
        self.bar = None

    def start(self) -> None:
        """Show that the sweep has started (and is compiling), before any chunk is done."""
        if not self.enabled:
            return
        if not self.tty:
            self._line(f"compiling ... ({self.done:,}/{self.total:,} cases)")
            return
        console = Console(file=self.stream, force_terminal=True, stderr=self.stream is sys.stderr)
        self.bar = RichProgress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            MofNCompleteColumn(), TextColumn("cases {task.fields[speed]}"),
            TimeRemainingColumn(), console=console, transient=False, refresh_per_second=4,
        )  # fmt: skip
        self.task = self.bar.add_task(
            "sweep: compiling …", total=self.total, completed=self.done, speed=""
        )
        self.bar.start()

    def rate(self) -> float:
        """Cases per second since the first chunk finished (compilation excluded)."""
        if self.t_first is None or self.done == self.done_first:
            return math.nan
        dt = time.perf_counter() - self.t_first
        return (self.done - self.done_first) / dt if dt > 0 else math.nan

    def update(self, done: int) -> None:
        """Record that ``done`` cases are finished and show it."""
        if self.t_first is None:
            self.t_first = time.perf_counter()
            self.done_first = done
        self.done = done
        if not self.enabled:
            return
        rate = self.rate()
        speed = f"{rate:,.0f}/s" if math.isfinite(rate) and rate > 0 else ""
        if self.bar is not None:
            self.bar.update(self.task, completed=done, description="sweep", speed=speed)
            return
        now = time.perf_counter()
        if done >= self.total or now - self.last_print >= self.every:
            left = f", {speed}, ETA {_hms((self.total - done) / rate)}" if speed else ""
            pct = 100.0 * done / self.total if self.total else 100.0
            self._line(f"{done:,}/{self.total:,} cases ({pct:.0f}%{left})")

    def _line(self, text: str) -> None:
        self.last_print = time.perf_counter()
        self.stream.write(f"sweep: {text}\n")
        self.stream.flush()

    def close(self) -> None:
        """Stop the bar (its last state stays on the terminal)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
