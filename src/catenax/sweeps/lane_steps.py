"""What one lane of a sweep batch computes, and the table columns made of it.

A lane runs the driver's own loop (:func:`catenax.solve.make_run`) in segments:
``start`` (the loop's carry for a new case), ``advance`` (up to a segment of
steps) and ``finish`` (the driver's output, the summary numbers and the data of
the stability verdict). :func:`host_results` then applies the driver's rules on
the host: the stability rule and the saddle status
(:func:`catenax.solve.is_stable`, :func:`catenax.solve.verdict_status`) and, with
multistart, the pick among the starts (:func:`catenax.solve.cluster_starts`,
:func:`catenax.solve.best_start`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from catenax.solve import (
    CONVERGED,
    DIVERGED,
    RUNNING,
    best_start,
    cluster_starts,
    default_perturbation,
    is_saddle,
    is_stable,
    make_run,
    ritz_extremes,
    verdict_status,
)

__all__ = ["host_results", "lane_functions"]


def lane_functions(problem, static, method, max_steps, check, multistart, noise, scale, stab):
    """``start``, ``advance`` and ``finish`` of one lane (vmapped by the caller).

    ``finish`` returns raw per-start results (leading K axis with multistart):
    the driver's status, steps, energy, grad_max, positions, summary numbers and
    the verdict data of the problem (``lmin``/``lmax``, or Lanczos coefficients),
    at the result and (suffix ``0``) at the start; :func:`host_results` turns
    them into the table's columns.
    """
    run = make_run(problem.energy, method, max_steps, None, check, history=False)
    make_case = problem.make_case(static)
    eigen = problem.eigen(static) if stab else None
    starts = (0, None, None, None, None)

    def x0s_of(x0, free):
        # x0 varies from case to case (scale None): minimize's default scale, here.
        s = default_perturbation(x0, jnp) if scale is None else scale
        return x0[None] + s * noise * free[None]

    def start(inp, rtol, atol):
        x0, params, free = make_case(inp)
        if multistart is None:
            return run.start(x0, params, free, rtol, atol)
        return jax.vmap(run.start, in_axes=starts)(x0s_of(x0, free), params, free, rtol, atol)

    def advance(carry, inp, segment, rtol, atol):
        _, params, free = make_case(inp)
        until = carry[0] + segment
        if multistart is None:
            carry = run.advance(carry, until, params, free, rtol, atol)
        else:
            carry = jax.vmap(run.advance, in_axes=(0, 0, None, None, None, None))(
                carry, until, params, free, rtol, atol
            )
        return carry, jnp.all(carry[5] != RUNNING)

    def finish(carry, inp, rtol, atol):
        x0, params, free = make_case(inp)

        def one(c):
            out = run.finish(c, params, free, rtol, atol)
            lowest, top = problem.summary(out["x"], params)
            res = {
                "status": out["status"], "steps": out["steps"], "energy": out["e"],
                "grad_max": out["gmax"], "lowest": lowest, "max_tension": top, "x": out["x"],
            }  # fmt: skip
            if eigen is not None:
                res.update(eigen(out["x"], params, free))
            return res

        res = one(carry) if multistart is None else jax.vmap(one)(carry)
        if eigen is not None:
            res.update({k + "0": v for k, v in eigen(x0, params, free).items()})
        return res

    return start, advance, finish


def host_results(raw: dict, dtype, stability: bool, multistart) -> dict:
    """The table's columns from the raw results of ``finish`` (host, NumPy).

    The verdict is :func:`catenax.stability_verdict`'s rule
    (:func:`catenax.solve.is_stable`); a converged case that is not stable
    becomes ``saddle``; a diverged one has no verdict. With multistart the
    lowest stable minimum is picked as :func:`catenax.minimize` does.

    Args:
        raw: arrays with a leading lane axis (and a start axis with multistart).
        dtype: the run's float dtype (sets ``eps``).
        stability: whether verdict data is present.
        multistart: K, or ``None``.

    Returns:
        ``{column: array}`` with one row per lane.
    """
    status = np.asarray(raw["status"]).copy()
    out = {k: np.asarray(raw[k]) for k in ("steps", "energy", "grad_max", "lowest", "max_tension")}
    out["x"] = np.asarray(raw["x"])
    if stability:
        lmin, lmax = _extremes(raw, "")
        stable = is_stable(lmin, lmax, dtype)
        # exact eigenvalues (chains) resolve the sign; Ritz values (networks) do not
        saddle = is_saddle(lmin, lmax, dtype, resolved="lmin" in raw)
        div = status == DIVERGED
        lmin, lmax = np.where(div, np.nan, lmin), np.where(div, np.nan, lmax)
        status = verdict_status(status, stable, saddle)
        out.update(min_eigenvalue=lmin, max_eigenvalue=lmax, stable=stable & ~div)
        out["stable?"] = div
    else:
        nan = np.full(status.shape, np.nan)
        out.update(min_eigenvalue=nan, max_eigenvalue=nan, stable=np.zeros(status.shape, bool))
        out["stable?"] = np.ones(status.shape, bool)
    out["status"] = status
    if multistart is not None:
        out = _pick(out, float(np.finfo(dtype).eps))
    out["start_min_eigenvalue"] = (
        _extremes(raw, "0")[0] if stability else np.full(len(status), np.nan)
    )
    return out


def _extremes(raw, suffix):
    if "lmin" + suffix in raw:
        return np.asarray(raw["lmin" + suffix], float), np.asarray(raw["lmax" + suffix], float)
    return ritz_extremes(raw["ritz_a" + suffix], raw["ritz_b" + suffix])


def _pick(res, eps):
    """Per lane, the lowest stable minimum of its K starts (the driver's pick rule)."""
    n = res["status"].shape[0]
    # a converged singular start is no stable minimum ("stable?": no verdict was asked for)
    minimum = (res["status"] == CONVERGED) & (res["stable"] | res["stable?"])
    owner = cluster_starts(res["x"], minimum, eps)
    best = best_start(owner, res["energy"])
    lanes = np.arange(n)
    out = {key: v[lanes, best] for key, v in res.items()}
    out["n_minima"] = (owner == np.arange(owner.shape[1])).sum(axis=1).astype(np.int32)
    out["start"] = best.astype(np.int32)
    return out
