"""One device's chunk of a chain sweep with newton, batched by hand (see :mod:`.chain_engine`).

Heights are held as ``(N, L)`` arrays (``L`` lanes). Every iteration of one
``while_loop`` harvests the lanes whose case stopped, refills them with the
chunk's next cases (the driver's start), and takes one newton step of every
running lane: the positive-definite lanes by the lane-wise Thomas solve and
newton's own line search, the others by newton's own step under ``vmap``, both
only on the lanes that need them (:func:`~.chain_verdict.on_lanes`). The driver's
rules (:mod:`catenax.solve`) set each lane's status; the chain's closed forms
(:func:`catenax.model.chain_terms`) give energy, gradient, curvatures and force
scale, lane by lane.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from catenax.model import chain_energy, chain_terms, spring_tridiagonal
from catenax.solve import (
    CONVERGED,
    RUNNING,
    all_finite,
    grad_max,
    make_problem,
    start_status,
    step_status,
    stop_test,
)
from catenax.solvers import newton as newton_method
from catenax.solvers import tridiagonal as tri

from .cases import chain_summary
from .chain_verdict import chain_verdict, on_lanes

__all__ = ["GROUP", "chunk_runner"]

#: Lanes gathered for one vmapped general newton step (indefinite Hessians).
GROUP = 128


class _Config(NamedTuple):
    n: int
    method: object
    max_steps: int
    check: bool
    stab: bool
    dtype: object
    lanes: int


def chunk_runner(n, method, max_steps, check, stab, dtype, lanes):
    """``run(inp, count, rtol, atol) -> raw results`` for one device's chunk.

    Args:
        n: the chain's number of masses.
        method: the :class:`~catenax.solvers.Newton` of the sweep.
        max_steps, check: the driver's step budget and whether it tests convergence.
        stab: compute the stability verdict.
        dtype: the run's float dtype.
        lanes: lanes of the batch (always this many, however few cases).

    Returns:
        ``run``: ``inp`` is ``(q, 3)`` (spring, length, mass_g per case),
        ``count`` how many of its rows are real cases; the result holds per case
        ``status``, ``steps``, ``energy``, ``grad_max``, ``x``, ``lowest``,
        ``max_tension`` and (with ``stab``) ``lmin``, ``lmax``, ``lmin0``, ``lmax0``.
    """
    cfg = _Config(n, method, max_steps, check, stab, dtype, lanes)
    free = jnp.ones((n,), dtype)

    def general_step(x, e, g, nc, gn0, k, p):
        prob = make_problem(chain_energy, (p[0], p[1], p[2]), free)
        state = newton_method.NewtonState(nc, gn0)
        x1, e1, g1, state, stalled = method.step(prob, x, e, g, state, k)
        return x1, e1, g1, state.nc_step, stalled

    vgeneral = jax.vmap(general_step)

    def run(inp, count, rtol, atol):
        # (N, L) arrays meet per-lane (L,) values throughout: broadcasting is the point.
        with jax.numpy_rank_promotion("allow"):
            return _Chunk(cfg, vgeneral, inp, count, rtol, atol).run()

    return run


class _Chunk:
    """The traced computation of one call: lanes, output, and the steps between."""

    def __init__(self, cfg, vgeneral, inp, count, rtol, atol):
        self.cfg, self.vgeneral = cfg, vgeneral
        self.inp, self.q, self.count = inp, inp.shape[0], count[0]
        self.rtol, self.atol = rtol, atol

    def finished(self, g, fs):
        return stop_test(grad_max(g, 1), fs, self.cfg.check, self.rtol, self.atol)

    # -- newton's step, lane-batched --------------------------------------------
    def general(self, lanes):
        """Newton's own step (vmapped) for a group of lanes, and c, fs at the result."""
        p = lanes["p"]
        x1, e1, g1, nc1, stalled = self.vgeneral(
            lanes["x"].T, lanes["e"], lanes["g"].T, lanes["nc"], lanes["gn0"], lanes["k"], p.T
        )
        _, _, c1, fs1 = chain_terms(x1.T, p[0], p[1], p[2], axis=0)
        return x1.T, e1, g1.T, c1, fs1, nc1, stalled

    def search(self, lanes, max_backtracks):
        """Newton's line search along ``dx``, lane-batched; c and fs ride along."""
        spring, length, mass_g = lanes["p"]

        def value_and_grad(y):
            e, g, c, fs = chain_terms(y, spring, length, mass_g, axis=0)
            return (e, (c, fs)), g

        x1, e1, g1, (c1, fs1), ok = newton_method.backtrack(
            value_and_grad, lanes["x"], lanes["e"], lanes["g"], lanes["dx"], self.cfg.method.c1,
            max_backtracks, 1, has_aux=True,
        )  # fmt: skip
        return x1, e1, g1, c1, fs1, ok

    def step(self, lane, running):
        """One newton step of the running lanes, then the driver's rules."""
        method = self.cfg.method
        lower, diag, upper = spring_tridiagonal(lane["c"])
        _, tau = newton_method.definiteness_tolerance(lower, diag, upper, lanes=1)
        pd = newton_method.positive_definite(lower, diag, upper, tau, lanes=1)
        lane = dict(lane, dx=tri.thomas(lower, diag, upper, -lane["g"]))
        # The full step for every lane; the line search's halvings and newton's
        # general step (indefinite Hessians) only for the lanes that need them.
        out = self.search(lane, 0)
        halve = running & pd & ~out[-1]
        out = on_lanes(halve, lambda ln: self.search(ln, method.max_backtracks), lane, out)
        x, e, g, c = lane["x"], lane["e"], lane["g"], lane["c"]
        x1, e1, g1, c1, fs1, ok = out
        x1, e1, g1, c1, fs1 = (
            jnp.where(ok, a, b) for a, b in ((x1, x), (e1, e), (g1, g), (c1, c), (fs1, lane["fs"]))
        )
        out = (x1, e1, g1, c1, fs1, lane["nc"], ~ok)
        out = on_lanes(running & ~pd, self.general, lane, out, GROUP)
        return self.apply(lane, running, out)

    def apply(self, lane, running, out):
        """The driver's rules (as in :func:`catenax.solve.make_run`) after a step."""
        x1, e1, g1, c1, fs1, nc1, stalled = out
        good = all_finite(x1, e1, g1, lanes=1)
        k1 = lane["k"] + 1
        status = step_status(good, self.finished(g1, fs1), stalled, k1, self.cfg.max_steps)
        move = running & good
        new = {k: v for k, v in lane.items() if k != "dx"}
        for key, val in (("x", x1), ("e", e1), ("g", g1), ("c", c1), ("fs", fs1)):
            new[key] = jnp.where(move, val, lane[key])
        new["nc"] = jnp.where(running, nc1, lane["nc"])
        new["k"] = jnp.where(running, k1, lane["k"])
        new["status"] = jnp.where(running, status, lane["status"])
        return new

    # -- the loop over the chunk's cases --------------------------------------------
    def harvest(self, lane, out):
        """Write the lanes whose case stopped to ``out``; their lanes become empty."""
        q = self.q
        stop = (lane["case"] < q) & (lane["status"] != RUNNING)
        idx = jnp.where(stop, lane["case"], q)
        for key, val in (
            ("status", lane["status"]), ("steps", lane["k"]), ("energy", lane["e"]),
            ("grad_max", grad_max(lane["g"], 1)), ("x", lane["x"].T),
        ):  # fmt: skip
            out[key] = out[key].at[idx].set(val, mode="drop")
        return jnp.where(stop, q, lane["case"])

    def refill(self, lane, case, nxt):
        """Load the next cases into the empty lanes (the driver's start)."""
        q, count = self.q, self.count
        empty = case >= q
        new = nxt + jnp.cumsum(empty, dtype=jnp.int32) - 1
        load = empty & (new < count)
        p0 = self.inp[jnp.minimum(new, q - 1)].T
        p = jnp.where(load, p0, lane["p"])
        x0 = jnp.zeros_like(lane["x"])
        e0, g0, c0, fs0 = chain_terms(x0, p[0], p[1], p[2], axis=0)
        status0 = start_status(all_finite(x0, e0, g0, lanes=1), self.finished(g0, fs0))
        fresh = {
            "case": new, "p": p0, "k": jnp.zeros_like(lane["k"]), "x": x0, "e": e0,
            "g": g0, "c": c0, "fs": fs0, "nc": jnp.ones_like(e0),
            "gn0": jnp.sqrt(jnp.sum(g0 * g0, axis=0)), "status": status0,
        }  # fmt: skip
        lane = {k: jnp.where(load, fresh[k], v) for k, v in lane.items()}
        lane["case"] = jnp.where(load, new, case)
        return lane, jnp.minimum(nxt + jnp.sum(empty, dtype=jnp.int32), count)

    def body(self, carry):
        lane, out, nxt = carry
        case = self.harvest(lane, out)
        lane, nxt = self.refill(lane, case, nxt)
        running = (lane["case"] < self.q) & (lane["status"] == RUNNING)
        lane = jax.lax.cond(jnp.any(running), self.step, lambda l_, r_: l_, lane, running)
        return lane, out, nxt

    def cond(self, carry):
        lane, _, nxt = carry
        return jnp.any(lane["case"] < self.q) | (nxt < self.count)

    def initial(self):
        """Empty lanes and a zero output."""
        n, dtype, q = self.cfg.n, self.cfg.dtype, self.q
        # Always ``lanes`` lanes, however few cases: XLA's reductions over the masses
        # may group their terms differently for another width, and a case's numbers
        # must not depend on the chunk size or the number of devices.
        nl = self.cfg.lanes
        zl = jnp.zeros((nl,), dtype)
        lane = {
            "case": jnp.full((nl,), q, jnp.int32), "p": jnp.zeros((3, nl), dtype),
            "k": jnp.zeros((nl,), jnp.int32), "x": jnp.zeros((n, nl), dtype), "e": zl,
            "g": jnp.zeros((n, nl), dtype), "c": jnp.zeros((n + 1, nl), dtype),
            "fs": zl, "nc": zl, "gn0": zl, "status": jnp.full((nl,), CONVERGED, jnp.int32),
        }  # fmt: skip
        zq = jnp.zeros((q,), dtype)
        out = {
            "status": jnp.full((q,), CONVERGED, jnp.int32), "steps": jnp.zeros((q,), jnp.int32),
            "energy": zq, "grad_max": zq, "x": jnp.zeros((q, n), dtype),
        }  # fmt: skip
        return lane, out

    def summaries(self, out):
        """The summary numbers and the verdict, for the whole chunk at once.

        On a width that is a multiple of the lanes' (the same code for every
        column), block by block of ``lanes`` columns: small working sets stay in cache.
        """
        n, lanes, q, stab = self.cfg.n, self.cfg.lanes, self.q, self.cfg.stab
        pad = -q % lanes
        blocks = (q + pad) // lanes
        x = jnp.pad(out["x"], ((0, pad), (0, 0))).reshape(blocks, lanes, n)
        spring, length = (
            jnp.pad(self.inp[:, j], (0, pad), mode="edge").reshape(blocks, lanes) for j in (0, 1)
        )

        def summary(block):
            x, spring, length = block
            x = x.T
            lowest, max_tension = chain_summary(x, spring, length, axis=0)
            more = {"lowest": lowest, "max_tension": max_tension}
            if stab:
                more.update(chain_verdict(x, spring, length, n))
            return more

        more = jax.lax.map(summary, (x, spring, length))
        return {k: v.reshape(-1)[:q] for k, v in more.items()}

    def run(self):
        lane, out = self.initial()
        _, out, _ = jax.lax.while_loop(self.cond, self.body, (lane, out, jnp.int32(0)))
        out.update(self.summaries(out))
        return out
