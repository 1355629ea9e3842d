"""Resource limits: how much memory one request may take, checked before allocating.

Every entry point that allocates in proportion to its input (the chain's ``n``,
a builder's rows and columns, multistart lanes, sweep chunks, iterate buffers)
estimates the bytes it will need and calls :func:`check_memory` first; above the
limit it raises :class:`~catenax.errors.ResourceLimit` (a
:class:`~catenax.errors.FieldError`, so the CLI exits 2) saying how much the
request would need, instead of starting and being killed for memory.

The limit is, first found: :func:`set_memory_limit` (the CLI's
``--max-memory``), the environment variable ``CATENAX_MAX_MEMORY`` (e.g.
``"8G"``), else 80 % of the machine's memory (the smaller of the physical
memory and a cgroup's ``memory.max``).

Example:
    >>> from catenax.limits import check_memory, format_bytes, parse_memory
    >>> parse_memory("1.5G"), format_bytes(3 * 2**30)
    (1610612736, '3.0 GiB')
    >>> check_memory(2**70, "x0", "an array of 2**67 floats")
    Traceback (most recent call last):
    ...
    catenax.errors.ResourceLimit: x0: an array of 2**67 floats would need 1.0 ZiB, ...
"""

from __future__ import annotations

import math
import os
import re

from catenax.errors import ResourceLimit

__all__ = [
    "ENV_VAR",
    "check_memory",
    "format_bytes",
    "memory_limit",
    "parse_memory",
    "set_memory_limit",
]

#: The environment variable that sets the limit (same syntax as ``--max-memory``).
ENV_VAR = "CATENAX_MAX_MEMORY"

_LIMIT: int | None = None
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50}
_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGTP]?)(?:I?B)?\s*$", re.I)


def parse_memory(text: str | int | float) -> int:
    """Bytes from ``"512M"``, ``"8G"``, ``"1.5GiB"``, ``"2TB"`` or a plain number of bytes.

    Units are binary (``K`` = 1024); ``B``/``iB`` suffixes are optional.

    Args:
        text: the amount.

    Returns:
        The number of bytes (>= 1).

    Raises:
        ValueError: not an amount of memory, or not positive.

    Example:
        >>> parse_memory("512M"), parse_memory(4096)
        (536870912, 4096)
    """
    if isinstance(text, bool):
        raise ValueError(f"max_memory: {text!r} is not an amount of memory; use e.g. '8G'")
    if isinstance(text, (int, float)):
        value, unit = float(text), ""
    else:
        match = _PATTERN.match(str(text))
        if not match:
            raise ValueError(
                f"max_memory: {text!r} is not an amount of memory; use e.g. '8G', '512M' or bytes"
            )
        value, unit = float(match.group(1)), match.group(2).upper()
    nbytes = value * _UNITS[unit]
    if not math.isfinite(nbytes) or nbytes < 1:
        raise ValueError(f"max_memory: {text!r} must be a positive amount, e.g. '8G'")
    return int(nbytes)


def format_bytes(nbytes: float) -> str:
    """``nbytes`` in binary units with one decimal (``'3.0 GiB'``).

    Args:
        nbytes: a number of bytes.

    Returns:
        The text.

    Example:
        >>> format_bytes(1536), format_bytes(12)
        ('1.5 KiB', '12 B')
    """
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
    value, i = float(nbytes), 0
    while value >= 1024 and i < len(units) - 1:
        value, i = value / 1024, i + 1
    return f"{int(value)} B" if i == 0 else f"{value:.1f} {units[i]}"


def _machine_memory() -> int:
    """Physical memory, or the cgroup's ``memory.max`` when that is smaller."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        total = 16 * 2**30
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            total = int(text)
    return total


def memory_limit() -> int:
    """The memory one request may take, in bytes (see the module's docstring).

    Returns:
        The limit.

    Raises:
        ValueError: ``CATENAX_MAX_MEMORY`` is set but is not an amount of memory.

    Example:
        >>> memory_limit() > 0
        True
    """
    if _LIMIT is not None:
        return _LIMIT
    text = os.environ.get(ENV_VAR)
    if text:
        return parse_memory(text)
    return int(0.8 * _machine_memory())


def set_memory_limit(limit: str | int | None) -> int | None:
    """Set the limit for this process (``None``: back to the default); returns the old one.

    Args:
        limit: an amount (:func:`parse_memory`), or ``None``.

    Returns:
        The limit set before (``None`` when it was the default).

    Raises:
        ValueError: not an amount of memory.

    Example:
        >>> old = set_memory_limit("1G")
        >>> memory_limit()
        1073741824
        >>> _ = set_memory_limit(old)
    """
    global _LIMIT
    old = _LIMIT
    _LIMIT = None if limit is None else parse_memory(limit)
    return old


def check_memory(nbytes: float, field: str, what: str, fix: str = "") -> None:
    """Refuse a request that would need more than :func:`memory_limit` bytes.

    Args:
        nbytes: the estimated bytes (a float: an estimate may exceed any integer type).
        field: the input that decides the size (starts the message, e.g. ``"n"``).
        what: what would be allocated (``"a chain of 1e9 masses"``).
        fix: how to make it smaller (appended to the message).

    Raises:
        ResourceLimit: over the limit; the message says how much it would need,
            the limit, the fix, and how to raise the limit (``max_memory``).

    Example:
        >>> check_memory(1024, "n", "a small chain")
    """
    limit = memory_limit()
    if not nbytes <= limit:  # also refuses NaN
        hint = f"{fix}, or" if fix else "use a smaller size, or"
        raise ResourceLimit(
            field,
            f"{what} would need {format_bytes(nbytes)}, more than the memory limit "
            f"{format_bytes(limit)}; {hint} raise the limit (`max_memory`, or the "
            f"environment variable {ENV_VAR})",
            needed=nbytes,
            limit=limit,
        )
