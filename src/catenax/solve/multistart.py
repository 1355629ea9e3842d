"""Multistart: perturbed starts, and the one rule that picks among their results.

``K`` starts ``x0 + s * z`` (``z`` standard normal, zero on fixed coordinates)
are solved as a batch. Converged starts (stable minima: a saddle does not count)
are clustered greedily in start order: a start joins the first earlier
representative within ``100 sqrt(eps) (1 + max|x|)`` (max-norm), else it
represents a new minimum. The pick is the representative with the lowest energy
(the earliest on ties); when no start converged, the start with the lowest finite
energy. :func:`catenax.minimize` and sweeps (lane by lane) use the same functions.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from catenax.errors import FieldError

from .result import CONVERGED, SADDLE, STATUSES, Result

__all__ = [
    "best_start",
    "cluster_starts",
    "default_perturbation",
    "perturbation_scale",
    "pick",
    "pick_batch",
]


def default_perturbation(x0, xp=np):
    """The default perturbation scale ``0.5 * max(1, RMS spread of x0 about its mean)``.

    The mean is taken over the first axis (the nodes). For the lesson's flat
    chain: 0.5, half the mass spacing.

    Args:
        x0: the start (at least one number).
        xp: ``numpy`` on the host, or ``jax.numpy`` inside ``jit``.

    Returns:
        The scale (an ``xp`` scalar).

    Example:
        >>> float(default_perturbation(np.zeros(20))), float(default_perturbation(np.arange(9.0)))
        (0.5, 1.2909944487358056)
    """
    spread = xp.sqrt(xp.mean((x0 - xp.mean(x0, axis=0)) ** 2))
    return 0.5 * xp.maximum(1.0, spread)


def perturbation_scale(x0, perturbation) -> float:
    """The multistart perturbation scale: ``perturbation``, checked, or the default.

    Args:
        x0: the start.
        perturbation: a finite number > 0, or ``None`` for
            :func:`default_perturbation`.

    Returns:
        The scale as a float.

    Raises:
        FieldError: ``perturbation`` is not a finite number > 0.

    Example:
        >>> perturbation_scale(np.zeros(20), None), perturbation_scale(np.zeros(3), 0.1)
        (0.5, 0.1)
    """
    if perturbation is None:
        x = np.asarray(x0, float)
        return float(default_perturbation(x)) if x.size else 0.5
    real = isinstance(perturbation, numbers.Real) and not isinstance(perturbation, bool)
    if not real or not math.isfinite(perturbation) or perturbation <= 0:
        raise FieldError(
            "perturbation", f"{perturbation!r} must be a finite number > 0; use e.g. 0.5"
        )
    return float(perturbation)


def cluster_starts(xs, converged, eps):
    """Which minimum each start found: greedy clustering in start order.

    Args:
        xs: final positions, shape ``(lanes, K, ...)``.
        converged: shape ``(lanes, K)``: the start reached a stable minimum.
        eps: the run dtype's machine epsilon.

    Returns:
        ``owner``, int array ``(lanes, K)``: the index of the representative
        start whose minimum each start found (a representative owns itself),
        ``-1`` for starts that did not converge.

    Example:
        >>> xs = np.array([[[0.0], [1.0], [1e-12], [5.0]]])
        >>> cluster_starts(xs, np.array([[True, True, True, False]]), 2.2e-16).tolist()
        [[0, 1, 0, -1]]
    """
    n, k = converged.shape
    xs = np.asarray(xs).reshape(n, k, -1).astype(float)
    tol_x = 100 * math.sqrt(eps) * (1.0 + np.max(np.abs(xs), axis=2, initial=0.0))
    owner = np.full((n, k), -1, np.int64)
    reps = np.zeros(0, np.int64)  # starts that represent a minimum in some lane
    for i in range(k):
        mine = np.full(n, -1, np.int64)
        if reps.size:
            d = np.max(np.abs(xs[:, reps] - xs[:, i : i + 1]), axis=2, initial=0.0)
            hit = (owner[:, reps] == reps) & (d <= tol_x[:, i : i + 1])
            mine = np.where(hit.any(axis=1), reps[np.argmax(hit, axis=1)], -1)
        owner[:, i] = np.where(converged[:, i], np.where(mine >= 0, mine, i), -1)
        if np.any(owner[:, i] == i):
            reps = np.append(reps, i)
    return owner


def best_start(owner, energy):
    """The start to report per lane: the lowest minimum, else the lowest finite energy.

    Args:
        owner: :func:`cluster_starts`'s result, shape ``(lanes, K)``.
        energy: the starts' final energies, shape ``(lanes, K)``.

    Returns:
        The index of the picked start per lane (ties: the earliest).

    Example:
        >>> best_start(np.array([[0, 1, 0], [-1, -1, -1]]),
        ...            np.array([[3.0, 2.0, 1.0], [np.nan, 4.0, 2.0]])).tolist()
        [1, 2]
    """
    k = owner.shape[1]
    rep = owner == np.arange(k)
    energy = np.asarray(energy, float)
    e_rep = np.where(rep, energy, np.inf)
    e_any = np.where(np.isfinite(energy), energy, np.inf)
    return np.where(rep.any(axis=1), np.argmin(e_rep, axis=1), np.argmin(e_any, axis=1))


def pick(results: list[Result], info: dict) -> Result:
    """The lowest stable minimum of a multistart batch, with the distinct minima listed.

    Args:
        results: one :class:`Result` per start (stability verdict attached).
        info: ``{"starts": K, "seed": ..., "perturbation": s}`` for ``extra``.

    Returns:
        The picked start's result, its message prefixed with a summary and its
        ``extra`` holding ``multistart``, ``start_index`` and ``minima`` (the
        distinct stable minima, lowest first: ``energy``, ``count``,
        ``symmetric``, ``start``, ``min_eigenvalue``, ``grad_max``).

    Example:
        >>> r = Result(np.zeros(2), 1.0, 0.0, 3, "converged", "converged.", "newton")
        >>> p = pick([r, r], {"starts": 2})
        >>> p.extra["minima"][0]["count"], p.message[:28]
        (2, 'multistart: 2 starts (2 conv')
    """
    xs = np.stack([np.asarray(r.positions, float) for r in results])[None]
    eps = float(np.finfo(np.asarray(results[0].positions).dtype).eps)
    minimum = [[r.status == "converged" and r.extra.get("stable", True) for r in results]]
    owner = cluster_starts(xs, np.asarray(minimum), eps)[0]
    best_i = int(best_start(owner[None], [[r.energy for r in results]])[0])
    minima = [_minimum(results, owner, i, eps) for i in range(len(results)) if owner[i] == i]
    minima.sort(key=lambda m: m["energy"])
    best = results[best_i]
    counts: dict = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    message = (
        f"multistart: {info['starts']} starts ({summary}); {len(minima)} distinct stable "
        f"minima; best: {best.message}"
    )
    extra = {**best.extra, "multistart": info, "start_index": best_i, "minima": minima}
    return replace(best, message=message, extra=extra)


def _minimum(results, owner, i, eps) -> dict:
    """The entry of ``minima`` for representative start ``i``."""
    r = results[i]
    x = np.asarray(r.positions, float)
    tol_x = 100 * math.sqrt(eps) * (1.0 + float(np.max(np.abs(x), initial=0.0)))
    sym = bool(np.max(np.abs(x - x[::-1]), initial=0.0) <= tol_x) if x.ndim == 1 else None
    return dict(energy=r.energy, count=int(np.sum(owner == i)), symmetric=sym, start=i,
                min_eigenvalue=r.extra.get("min_eigenvalue"), grad_max=r.grad_max)  # fmt: skip


def pick_batch(out: dict, info: dict, result: Callable, verdict: Callable | None) -> Result:
    """:func:`pick` for a batch of starts given as arrays: one verdict per distinct point.

    The same rule as :func:`pick`, without a :class:`Result` per start:
    converged starts are clustered first (:func:`cluster_starts`); each
    cluster's representative gets the stability verdict, which its members
    share (they sit at the same point); the saddles among them become
    ``saddle`` and do not count as minima. Only the picked start's result is
    built (with its histories, message and verdict).

    Args:
        out: the batch's loop output on the host: ``x`` (K, ...), ``e``,
            ``gmax``, ``status`` (int codes), one entry per start.
        info: ``{"starts": K, "seed": ..., "perturbation": s}`` for ``extra``.
        result: ``result(i) -> Result`` of start ``i`` (verdict attached).
        verdict: ``verdict(x) -> dict`` (:func:`catenax.stability_verdict`'s),
            or ``None`` (no verdict: every converged start is a minimum).

    Returns:
        The picked start's result, as :func:`pick` returns it.

    Example:
        >>> out = dict(x=np.zeros((3, 2)), e=np.array([1.0, 1.0, 2.0]),
        ...            gmax=np.zeros(3), status=np.array([1, 1, 2]))
        >>> r = Result(np.zeros(2), 1.0, 0.0, 3, "converged", "converged.", "newton")
        >>> p = pick_batch(out, {"starts": 3}, lambda i: r, None)
        >>> p.extra["minima"][0]["count"], p.message[:43]
        (2, 'multistart: 3 starts (2 converged, 1 max_st')
    """
    xs = np.asarray(out["x"])
    k = xs.shape[0]
    status = np.asarray(out["status"]).astype(np.int64).reshape(k)
    energy = np.asarray(out["e"], float).reshape(k)
    eps = float(np.finfo(xs.dtype).eps) if np.issubdtype(xs.dtype, np.floating) else 2.2e-16
    conv = status == CONVERGED
    owner = cluster_starts(xs[None], conv[None], eps)[0]
    reps = np.flatnonzero(owner == np.arange(k))
    stable, saddle, lmin = np.ones(k, bool), np.zeros(k, bool), {}
    for r in reps if verdict is not None else ():
        v = verdict(xs[r])
        stable[r], saddle[r] = bool(v["stable"]), v["verdict"] == "saddle"
        lmin[int(r)] = v["min_eigenvalue"]
    safe = np.maximum(owner, 0)
    minimum = conv & stable[safe]
    status = np.where(conv & saddle[safe], SADDLE, status)
    owner = np.where(minimum, owner, -1)
    best_i = int(best_start(owner[None], energy[None])[0])
    minima = [_batch_minimum(out, owner, int(r), eps, lmin.get(int(r))) for r in reps
              if minimum[r]]  # fmt: skip
    minima.sort(key=lambda m: m["energy"])
    best = result(best_i)
    names, counts = np.unique(np.asarray(STATUSES)[status], return_counts=True)
    summary = ", ".join(f"{n} {s}" for s, n in zip(names, counts, strict=True))
    message = (
        f"multistart: {info['starts']} starts ({summary}); {len(minima)} distinct stable "
        f"minima; best: {best.message}"
    )
    extra = {**best.extra, "multistart": info, "start_index": best_i, "minima": minima}
    return replace(best, message=message, extra=extra)


def _batch_minimum(out, owner, i, eps, min_eigenvalue) -> dict:
    """The entry of ``minima`` for representative start ``i`` of a batch."""
    x = np.asarray(out["x"][i], float)
    tol_x = 100 * math.sqrt(eps) * (1.0 + float(np.max(np.abs(x), initial=0.0)))
    sym = bool(np.max(np.abs(x - x[::-1]), initial=0.0) <= tol_x) if x.ndim == 1 else None
    return dict(energy=float(out["e"][i]), count=int(np.sum(owner == i)), symmetric=sym,
                start=i, min_eigenvalue=min_eigenvalue,
                grad_max=float(out["gmax"][i]))  # fmt: skip
