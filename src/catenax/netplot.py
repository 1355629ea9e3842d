"""Deprecated: network figures moved to :mod:`catenax.plot` (e.g. ``catenax.plot.plot_network``).

Kept so that scripts written before the layout of issue 9 still run; every
name read from here warns with :class:`DeprecationWarning`.
"""

import warnings


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    from catenax.plot import network as _network  # matplotlib: only when a figure is asked for

    value = getattr(_network, name)  # AttributeError for names that never existed
    warnings.warn(
        f"catenax.netplot.{name} moved to catenax.plot.network.{name} (public names are in "
        f"catenax.plot); catenax.netplot will be removed",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
