"""Deprecated: sweep tables moved to :mod:`catenax.io` (``catenax.io.read_table``).

Kept so that scripts written before the layout of issue 9 still run; every
name read from here warns with :class:`DeprecationWarning`. The table format
lives in :mod:`catenax.io.tables`; the progress line and the SIGTERM handler of
a sweep run in :mod:`catenax.sweeps.progress`.
"""

import warnings

from catenax.io import tables as _tables
from catenax.sweeps import progress as _progress


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    home = _progress if name in _progress.__all__ else _tables
    value = getattr(home, name)  # AttributeError for names that never existed
    warnings.warn(
        f"catenax.sweepio.{name} moved to {home.__name__}.{name} "
        f"(read_table: catenax.io.read_table); catenax.sweepio will be removed",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
