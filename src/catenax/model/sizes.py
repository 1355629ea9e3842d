"""How big a network may be: the one memory estimate every builder and scenario checks first.

A solve keeps, per coordinate and per spring, about :data:`SOLVE_COPIES`
float64 copies of the network's numbers: positions, gradient, search
direction and line-search trial points, the 3x3 (or 2x2) Hessian block of
every spring and their sums per node, the linear solver's vectors and (for
``amg``) its coarser levels, and the stability verdict's Lanczos vectors. The
factor is measured: a 1000 x 1000 net (10^6 nodes, 2 x 10^6 springs) peaks at
3.2 GB with newton (``benchmarks/RESULTS.md``), and
``16 * 8 * (3e6 + 2e6 * 9)`` bytes is 2.7 GB. Builders call
:func:`check_network_size` with their size arguments before they allocate
anything, so ``net(10**6, 10**6)`` is refused at once with the memory it
would need instead of being killed for memory.

Node indices are int32 inside the compiled programs, so a network has at most
:data:`INDEX_MAX` nodes.

Example:
    >>> network_bytes(1_000_000, 2_000_000, 3) / 2**30  # doctest: +ELLIPSIS
    2.5...
"""

from __future__ import annotations

from catenax.errors import FieldError
from catenax.limits import check_memory

__all__ = ["INDEX_MAX", "SOLVE_COPIES", "check_network_size", "network_bytes"]

#: The largest node index or count: node indices and step counters are int32.
INDEX_MAX = 2**31 - 1

#: Float64 copies of every coordinate and every spring's Hessian block a solve
#: holds at its peak (see the module's docstring for the measurement).
SOLVE_COPIES = 16


def network_bytes(n_nodes: int, n_springs: int, dim: int, extra: float = 0.0) -> float:
    """The bytes a solve of a network of this size needs at its peak (an estimate).

    Args:
        n_nodes: number of nodes.
        n_springs: number of springs.
        dim: 2 or 3.
        extra: bytes the caller needs besides (e.g. a builder's scratch arrays).

    Returns:
        ``8 * SOLVE_COPIES * (n_nodes * dim + n_springs * dim**2) + extra``, as a float.

    Example:
        >>> network_bytes(10, 9, 2)
        7168.0
    """
    return float(8 * SOLVE_COPIES * (n_nodes * dim + n_springs * dim * dim)) + float(extra)


def check_network_size(
    field: str, n_nodes: int, n_springs: int, dim: int, what: str, fix: str, extra: float = 0.0
) -> None:
    """Refuse a network too big for the memory limit or for int32 node indices.

    Called before anything of the network is allocated.

    Args:
        field: the argument that decides the size (``"rows"``, ``"n"``, ``"nodes"``).
        n_nodes: number of nodes it would have.
        n_springs: number of springs it would have.
        dim: 2 or 3.
        what: the network in words (``"a 3000 x 3000 cloth"``), for the message.
        fix: how to make it smaller.
        extra: bytes needed besides the solve (see :func:`network_bytes`).

    Raises:
        catenax.errors.ResourceLimit: more than :func:`catenax.limits.memory_limit`.
        ValueError: more than :data:`INDEX_MAX` nodes (a :class:`~catenax.errors.FieldError`).

    Example:
        >>> check_network_size("rows", 100, 180, 3, "a 10 x 10 net", "use fewer rows")
        >>> check_network_size("rows", 10**12, 2 * 10**12, 3, "a net",
        ...                    "use fewer rows")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        catenax.errors.ResourceLimit: rows: a net (10^12 nodes, ...) would need 2.4 PiB, ...
    """
    sized = f"{what} ({_count(n_nodes)} nodes, {_count(n_springs)} springs)"
    check_memory(network_bytes(n_nodes, n_springs, dim, extra), field, sized, fix)
    if n_nodes > INDEX_MAX:
        raise FieldError(
            field,
            f"{sized} has more nodes than int32 node indices can number ({INDEX_MAX}); {fix}",
        )


def _count(k: int) -> str:
    """A count for messages: ``1200`` or ``2*10^12``."""
    if k < 10**7:
        return str(k)
    digits = len(str(k)) - 1
    lead = k / 10**digits
    head = "" if abs(lead - 1) < 1e-9 else f"{lead:.3g}*"
    return f"{head}10^{digits}"
