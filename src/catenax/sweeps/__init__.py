"""Sweeps: many variants of one problem, solved in vectorised lanes and streamed to a table."""

from catenax.errors import SweepInterrupted

from .api import RESULT_COLUMNS, SweepResult, sweep
from .distributed import Cluster, cluster_settings, initialize, local_cluster
from .grid import parse_values
from .settings import check_ints

__all__ = [
    "RESULT_COLUMNS",
    "Cluster",
    "check_ints",
    "cluster_settings",
    "initialize",
    "local_cluster",
    "parse_values",
    "sweep",
    "SweepInterrupted",
    "SweepResult",
]
