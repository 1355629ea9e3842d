"""What a sweep returns, and the columns of its table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "KINDS",
    "MULTISTART_COLUMNS",
    "RESULT_COLUMNS",
    "SweepResult",
    "columns_of",
    "kinds_for",
]

#: Per-case result columns, after ``case`` and the parameter columns.
RESULT_COLUMNS = (
    "status",
    "converged",
    "stable",
    "steps",
    "energy",
    "grad_max",
    "min_eigenvalue",
    "max_eigenvalue",
    "start_min_eigenvalue",
    "lowest",
    "max_tension",
)
#: Extra columns of a sweep with ``multistart``.
MULTISTART_COLUMNS = ("n_minima", "start")

#: Column kinds of the table (see :func:`catenax.io.tables.format_rows`); others are floats.
KINDS = {
    "case": "int",
    "n": "int",
    "status": "str",
    "converged": "bool",
    "stable": "bool?",
    "steps": "int",
    "n_minima": "int",
    "start": "int",
}


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did.

    Attributes:
        n_cases: cases in the grid.
        done: cases finished (all of them unless the sweep was interrupted).
        counts: status -> number of cases, over the cases solved in this call.
        elapsed: wall time of this call in seconds (compilation included).
        cases_per_second: throughput of this call after the first chunk
            (compilation excluded; ``nan`` with a single chunk).
        columns: the table's column names.
        axes: the grid's axes (the parameters and their values).
        path: the table file, or ``None``.
        table: ``{column: array}`` of every case when no file was asked for
            (``None`` when the rows went to ``path``: read them with
            :func:`catenax.io.read_table`).
        positions: the final positions of every case (``keep_shapes`` without a
            file; one array per ``n`` for a chain sweep over several ``n``).
        sample: ``{"case": indices, "positions": [...]}`` for the
            ``sample_shapes`` cases picked for figures, or ``None``.
        resumed_from: rows already in the file when the call started.
    """

    n_cases: int
    done: int
    counts: dict
    elapsed: float
    cases_per_second: float
    columns: tuple
    axes: tuple
    path: Path | None = None
    table: dict | None = None
    positions: Any = None
    sample: dict | None = None
    resumed_from: int = 0
    meta: dict = field(default_factory=dict)


def columns_of(problem, multistart) -> tuple:
    """The table's columns: ``case``, the parameters, the results (and multistart's)."""
    return ("case", *problem.param_columns, *RESULT_COLUMNS) + (
        MULTISTART_COLUMNS if multistart is not None else ()
    )


def kinds_for(columns) -> dict:
    """``{column: kind}`` for the table writer."""
    return {c: KINDS.get(c, "float") for c in columns}
