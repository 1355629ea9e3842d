"""The JSON result of a relaxed network: :func:`result_to_dict` and its keys.

The keys of :data:`RESULT_KEYS` come first, in order (a contract); the
engineer's keys (springs, rest lengths, strain energy, displacements, units)
follow. Everything is a plain Python value (strict JSON; NaN as ``None``).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from catenax.model import Network, reactions, spring_lengths, support_nodes, tensions

from .files import to_jsonable

__all__ = ["RESULT_KEYS", "result_to_dict"]

#: Keys of :func:`result_to_dict`, in order (``method`` and extras follow).
RESULT_KEYS = (
    "status",
    "converged",
    "steps",
    "energy",
    "grad_max",
    "min_eigenvalue",
    "stable",
    "positions",
    "lengths",
    "tensions",
    "reactions",
    "message",
)


def result_to_dict(result, net: Network) -> dict:
    """The JSON result of a relaxed network (strict JSON types, NaN as ``None``).

    Keys, in order: ``status``, ``converged``, ``steps``, ``energy``,
    ``grad_max``, ``min_eigenvalue`` and ``stable`` (from ``result.extra``
    when the stability verdict ran, else ``None``), ``positions`` (all nodes,
    fixed ones included), ``lengths``, ``tensions`` (positive in tension, 0 for
    a slack cable), ``reactions`` (``{"node": i, "force": [...]}`` for each
    support), ``message``, then ``method`` and any other entries of
    ``result.extra``.

    Args:
        result: a :class:`catenax.Result` of relaxing ``net``.
        net: the network that was relaxed.

    Returns:
        A dict of plain Python values.

    Example:
        >>> import catenax
        >>> net = catenax.chain2d(4)
        >>> r = catenax.minimize(catenax.network_energy, net.positions, net,
        ...                      free=catenax.free_mask(net), method="adam",
        ...                      max_steps=5, tol=None)
        >>> d = result_to_dict(r, net)
        >>> list(d)[:4], d["reactions"][0]["node"]
        (['status', 'converged', 'steps', 'energy'], 0)
    """
    x = jnp.asarray(result.positions, net.positions.dtype)
    extra = dict(getattr(result, "extra", {}) or {})
    react = np.asarray(reactions(x, net))
    out = {
        "status": result.status,
        "converged": bool(result.converged),
        "steps": int(result.steps),
        "energy": float(result.energy),
        "grad_max": float(result.grad_max),
        "min_eigenvalue": extra.pop("min_eigenvalue", None),
        "stable": extra.pop("stable", None),
        "positions": np.asarray(x).tolist(),
        "lengths": np.asarray(spring_lengths(x, net)).tolist(),
        "tensions": np.asarray(tensions(x, net)).tolist(),
        "reactions": [{"node": int(i), "force": react[i].tolist()} for i in support_nodes(net)],
        "message": result.message,
        "method": getattr(result, "method", None),
    }
    for k, v in extra.items():
        out.setdefault(k, v)
    return to_jsonable(out)
