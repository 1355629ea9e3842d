"""Sweeps: many variants of one problem, solved in vectorised lanes and streamed to a table."""

from catenax.errors import SweepInterrupted

from .api import RESULT_COLUMNS, SweepResult, sweep

__all__ = [
    "RESULT_COLUMNS",
    "sweep",
    "SweepInterrupted",
    "SweepResult",
]
