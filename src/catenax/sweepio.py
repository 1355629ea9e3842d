"""Deprecated: sweep tables moved to :mod:`catenax.io` (``catenax.io.read_table``).

Kept so that scripts written before the layout of issue 9 still run; every
name read from here warns once with :class:`DeprecationWarning`.
"""

import warnings

from catenax.io import tables as _tables


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    value = getattr(_tables, name)  # AttributeError for names that never existed
    warnings.warn(
        f"catenax.sweepio.{name} moved to catenax.io.tables.{name} "
        f"(read_table: catenax.io.read_table); catenax.sweepio will be removed",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
