"""A sweep's run on the terminal: its progress bar, and SIGTERM as Ctrl-C.

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
    """A one-line progress bar on stderr: cases done, cases/s and ETA, per chunk.

    On a terminal the line is redrawn in place; otherwise a line is printed
    at most every ``every`` seconds (and at the end).

    Args:
        total: cases in the sweep.
        done: cases already done (resume).
        enabled: print anything at all.
        stream: where to print (default ``sys.stderr``).
        every: seconds between lines when not on a terminal.

    Example:
        >>> import io
        >>> s = io.StringIO()
        >>> p = Progress(10, stream=s); p.update(10); p.close()
        >>> "10/10" in s.getvalue()
        True
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
        self.width = 0

    def rate(self) -> float:
        """Cases per second since the first chunk finished (compilation excluded)."""
        if self.t_first is None or self.done == self.done_first:
            return math.nan
        dt = time.perf_counter() - self.t_first
        return (self.done - self.done_first) / dt if dt > 0 else math.nan

    def update(self, done: int) -> None:
        """Record that ``done`` cases are finished and redraw."""
        if self.t_first is None:
            self.t_first = time.perf_counter()
            self.done_first = done
        self.done = done
        now = time.perf_counter()
        final = done >= self.total
        if not self.enabled or (not self.tty and not final and now - self.last_print < self.every):
            return
        self.last_print = now
        self._draw(final)

    def _draw(self, final: bool) -> None:
        frac = self.done / self.total if self.total else 1.0
        bar = "#" * int(24 * frac)
        rate = self.rate()
        if math.isfinite(rate) and rate > 0:
            eta = (self.total - self.done) / rate
            speed = f"{rate:,.0f} cases/s  ETA {_hms(eta)}"
        else:
            speed = f"elapsed {_hms(time.perf_counter() - self.t0)}"
        line = f"sweep [{bar:<24}] {self.done:,}/{self.total:,} cases  {speed}"
        if self.tty:
            pad = max(self.width - len(line), 0)
            self.stream.write("\r" + line + " " * pad + ("\n" if final else ""))
            self.width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the line (on a terminal) if the sweep stopped early."""
        if self.enabled and self.tty and self.width and self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
