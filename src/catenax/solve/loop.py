"""The driver's loop: one ``lax.while_loop`` that runs any method to the common stopping rule.

Stopping rule (the same for every method)::

    max |grad E| over free coordinates  <=  atol + rtol * F

where ``F`` is the problem's force scale (``energy.force_scale(x, *params)``
when the energy provides one, 1 otherwise). The loop keeps the energy and
max-gradient histories and every ``record_every``-th iterate in fixed-size
buffers, so nothing leaves the device until the run (or, for long runs, a
segment of :data:`SEGMENT` steps: :mod:`catenax.solve.segments`) is over. The step
budget is a runtime value of :func:`catenax.minimize`'s compiled program unless
iterates are recorded. An energy may stop a run that runs away without bound:
``energy.runaway(x, *params) -> bool``, true at a step that lowered the energy,
ends it ``diverged`` (``out["runaway"]``). Sweeps run the same
loop in segments (:func:`make_run`'s ``start``/``advance``/``finish``) and the
chain sweep engine applies the same rules lane by lane (:mod:`catenax.solve.rules`,
re-exported here: :func:`grad_max`, :func:`all_finite`, :func:`stop_test`,
:func:`start_status`, :func:`step_status`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from catenax.solvers import Problem

from .result import RUNNING
from .rules import (
    all_finite,
    force_scale_fn,
    grad_max,
    start_status,
    step_status,
    stop_test,
)

__all__ = [
    "LONG_SEGMENT",
    "SEGMENT",
    "Carry",
    "all_finite",
    "force_scale_fn",
    "grad_max",
    "make_problem",
    "make_run",
    "start_status",
    "step_status",
    "stop_test",
]


def make_problem(energy, params, free, aux=None) -> Problem:
    """Bind parameters and the free mask into the :class:`~catenax.solvers.Problem` a method sees.

    Args:
        energy: ``energy(x, *params) -> scalar``.
        params: its parameters (a tuple).
        free: the free mask (1 free, 0 fixed), the shape of ``x``.
        aux: what the method's ``prepare`` returned (``None`` without one).

    Returns:
        A :class:`~catenax.solvers.Problem` whose gradient and Hessian-vector
        products are zero on fixed coordinates.

    Example:
        >>> import catenax
        >>> p = make_problem(catenax.chain_energy, (5.0, 0.8, 0.1), jnp.array([1.0, 0.0]))
        >>> [round(float(v), 6) for v in p.value_and_grad(jnp.zeros(2))[1]]
        [0.1, 0.0]
    """

    def value_and_grad(x):
        e, g = jax.value_and_grad(energy)(x, *params)
        return e, g * free

    def hvp(x, v):
        grad = lambda z: jax.grad(energy)(z, *params)  # noqa: E731
        return jax.jvp(grad, (x,), (v * free,))[1] * free

    return Problem(value_and_grad, lambda x: energy(x, *params), hvp, energy, params, free, aux)


#: Steps of the first jitted call when the step budget is a runtime value and
#: histories are kept: the histories live in buffers of ``SEGMENT + 1`` numbers,
#: and a longer run goes on in calls of ``LONG_SEGMENT`` steps
#: (:func:`catenax.solve.segments.make_segments`).
SEGMENT = 1024
LONG_SEGMENT = 4096


class Carry(NamedTuple):
    """The loop's carry (``carry[0]`` is the step count, ``carry[5]`` the status)."""

    k: jax.Array
    x: jax.Array
    e: jax.Array
    g: jax.Array
    state: object
    status: jax.Array
    he: jax.Array
    hg: jax.Array
    its: jax.Array
    itk: jax.Array
    nrec: jax.Array
    fs: jax.Array
    runaway: jax.Array


class _Spec(NamedTuple):
    """What a compiled loop is made of (static: part of the compile key).

    ``max_steps`` is ``None`` when the step budget is a runtime argument.
    """

    energy: object
    method: object
    max_steps: int | None
    record_every: int | None
    check: bool
    history: bool

    @property
    def n_rec(self) -> int:
        return (self.max_steps // self.record_every + 2) if self.record_every else 0

    def n_hist(self, resumed=False) -> int:
        if not self.history:
            return 1
        if self.max_steps is not None:
            return self.max_steps + 1
        return (LONG_SEGMENT if resumed else SEGMENT) + 1


class _Steps:
    """The loop's pieces for one set of (traced) parameters and tolerances."""

    def __init__(self, spec: _Spec, params, free, rtol, atol, max_steps=None, aux=None):
        self.spec = spec
        self.params, self.rtol, self.atol = params, rtol, atol
        self.max_steps = spec.max_steps if spec.max_steps is not None else max_steps
        self.prob = make_problem(spec.energy, params, free, aux)
        self.fscale = force_scale_fn(spec.energy)
        self.runaway = getattr(spec.energy, "runaway", None)

    def _histories(self, e, gm, resumed=False):
        nan = jnp.full((self.spec.n_hist(resumed),), jnp.nan, e.dtype)
        return nan.at[0].set(e), nan.at[0].set(gm)

    def start(self, x0):
        """The carry at ``x0`` (a :class:`Carry`)."""
        spec, n_rec = self.spec, self.spec.n_rec
        e0, g0 = self.prob.value_and_grad(x0)
        state0 = spec.method.init(self.prob, x0, e0, g0)
        gm0, fs0 = grad_max(g0), self.fscale(x0, *self.params)
        hist_e, hist_g = self._histories(e0, gm0)
        iters = jnp.zeros((n_rec,) + x0.shape, x0.dtype)
        iter_k = jnp.full((n_rec,), -1, jnp.int32)
        if n_rec:
            iters = iters.at[0].set(x0)
            iter_k = iter_k.at[0].set(0)
        finished = stop_test(gm0, fs0, spec.check, self.rtol, self.atol)
        status0 = jnp.asarray(start_status(all_finite(x0, e0, g0), finished), jnp.int32)
        return Carry(jnp.int32(0), x0, e0, g0, state0, status0, hist_e, hist_g, iters, iter_k,
                     jnp.int32(1), jnp.asarray(fs0, e0.dtype), jnp.asarray(False))  # fmt: skip

    def restart(self, out, rest):
        """The carry that goes on from a segment's ``(out, rest)``.

        With a runtime budget the histories start afresh (one buffer per
        segment); with a static one (iterates recorded) the buffers, indexed
        from step 0, go on: ``out`` must then hold them.
        """
        g, state = rest
        x = out["x"]
        if self.spec.max_steps is None:
            hist_e, hist_g = self._histories(out["e"], grad_max(g), resumed=True)
            its, itk = jnp.zeros((0,) + x.shape, x.dtype), jnp.zeros((0,), jnp.int32)
        else:
            hist_e, hist_g = out["he"], out["hg"]
            its = out.get("its", jnp.zeros((0,) + x.shape, x.dtype))
            itk = out.get("itk", jnp.zeros((0,), jnp.int32))
        return Carry(out["steps"], x, out["e"], g, state, out["status"], hist_e, hist_g,
                     its, itk, out["nrec"], out["fs"], out["runaway"])  # fmt: skip

    @staticmethod
    def cond(c):
        return c[5] == RUNNING

    def body(self, c: Carry, base):
        spec = self.spec
        x1, e1, g1, state1, stalled = spec.method.step(self.prob, c.x, c.e, c.g, c.state, c.k)
        k1 = c.k + 1
        gm1, fs1 = grad_max(g1), jnp.asarray(self.fscale(x1, *self.params), c.fs.dtype)
        away = jnp.asarray(False)
        if self.runaway is not None:
            # Running away while the energy falls: nothing holds the structure. (A
            # step-size blow-up raises the energy: it ends non-finite, as before.)
            away = jnp.asarray(self.runaway(x1, *self.params), bool) & (e1 <= c.e)
        ok = all_finite(x1, e1, g1) & ~away
        finished = stop_test(gm1, fs1, spec.check, self.rtol, self.atol)
        status = jnp.asarray(step_status(ok, finished, stalled, k1, self.max_steps), jnp.int32)
        # On divergence keep the last finite iterate.
        keep = lambda new, old: jax.tree.map(  # noqa: E731
            lambda a, b: jnp.where(ok, a, b), new, old
        )
        x1, e1, g1, fs1 = keep((x1, e1, g1, fs1), (c.x, c.e, c.g, c.fs))
        he, hg = c.he, c.hg
        if spec.history:
            he = he.at[k1 - base].set(jnp.where(ok, e1, jnp.nan))
            hg = hg.at[k1 - base].set(jnp.where(ok, gm1, jnp.nan))
        its, itk, nrec = self._record(c.its, c.itk, c.nrec, ok, k1, x1, status)
        return Carry(k1, x1, e1, g1, state1, status, he, hg, its, itk, nrec, fs1, away)

    def _record(self, its, itk, nrec, ok, k1, x1, status):
        """Keep every ``record_every``-th iterate and the final one."""
        n_rec = self.spec.n_rec
        if not n_rec:
            return its, itk, nrec
        rec = ok & ((k1 % self.spec.record_every == 0) | (status != RUNNING))
        slot = jnp.where(rec, nrec, n_rec - 1)
        its = its.at[slot].set(jnp.where(rec, x1, its[slot]))
        itk = itk.at[slot].set(jnp.where(rec, k1, itk[slot]))
        return its, itk, nrec + rec.astype(jnp.int32)

    def finish(self, c: Carry):
        thr = self.atol + self.rtol * c.fs
        return dict(
            steps=c.k, x=c.x, e=c.e, gmax=grad_max(c.g), status=c.status, he=c.he, hg=c.hg,
            its=c.its, itk=c.itk, nrec=c.nrec, fs=c.fs, thr=thr, runaway=c.runaway,
        )  # fmt: skip

    def loop(self, carry, until=None):
        """Step while running (and, with ``until``, while the step count is below it)."""
        cond = self.cond
        if until is not None:
            cond = lambda c: self.cond(c) & (c[0] < until)  # noqa: E731
        # Histories are indexed from the step count at the call's start when the
        # budget is a runtime value (one buffer per segment), else from 0.
        base = carry[0] if self.spec.max_steps is None else 0
        return jax.lax.while_loop(cond, lambda c: self.body(c, base), carry)

    def segment_end(self, k, resumed=False, until=None):
        """Where a call stops (``None``: at the budget).

        With histories and a runtime budget, at the end of the segment's
        buffer; with ``until`` (a traced step count: the host wants control
        back, e.g. to report progress), there at the latest.
        """
        end = None
        if self.spec.max_steps is None and self.spec.history:
            end = k + jnp.minimum(self.max_steps - k, LONG_SEGMENT if resumed else SEGMENT)
        if until is not None:
            end = until if end is None else jnp.minimum(end, until)
        return end


def make_run(energy, method, max_steps, record_every, check, history=True):
    """The driver's loop: ``run(x0, params, free, rtol, atol) -> dict`` (jit/vmap-able).

    The same loop also runs in segments, which sweeps use to refill the lanes of a
    batch whose cases have stopped: ``run.start(x0, params, free, rtol, atol)``
    gives the loop's carry (a :class:`Carry`),
    ``run.advance(carry, until, params, free, rtol, atol)`` steps it while it runs
    and its step count is below ``until``, and
    ``run.finish(carry, params, free, rtol, atol)`` gives the dict. ``run`` is
    ``finish(advance(start(x0), max_steps))``, exactly. Each also takes an
    optional last argument ``aux`` (:attr:`catenax.solvers.Problem.aux`).

    Args:
        energy: ``energy(x, *params) -> scalar``.
        method: a resolved method object (``init``/``step``).
        max_steps: the step budget (static: part of the compiled program; see
            :func:`catenax.solve.segments.make_segments` for a runtime budget).
        record_every: keep every k-th iterate, or ``None``.
        check: whether the stopping rule is tested.
        history: keep the energy and max-gradient of every step.

    Returns:
        ``run`` with its ``start``, ``advance`` and ``finish``. The dict holds
        ``steps``, ``x``, ``e``, ``gmax``, ``status`` (an int32 code), the
        histories ``he``/``hg``, the iterates ``its``/``itk``/``nrec``, the force
        scale ``fs``, the threshold ``thr`` and ``runaway`` (the run stopped
        because ``energy.runaway(x, *params)`` was true: status ``diverged``).

    Example:
        >>> import catenax
        >>> from catenax.solvers import resolve_method
        >>> run = make_run(catenax.chain_energy, resolve_method("newton"), 50, None, True)
        >>> out = run(jnp.zeros(20), (5.0, 0.8, 0.1), jnp.ones(20), 1e-10, 0.0)
        >>> int(out["status"]), int(out["steps"]) < 10
        (1, True)
    """
    spec = _Spec(energy, method, _static_steps(max_steps), record_every, check,
                 bool(history))  # fmt: skip

    def run(x0, params, free, rtol, atol, aux=None):
        steps = _Steps(spec, params, free, rtol, atol, aux=aux)
        return steps.finish(steps.loop(steps.start(x0)))

    def start(x0, params, free, rtol, atol, aux=None):
        return _Steps(spec, params, free, rtol, atol, aux=aux).start(x0)

    def advance(carry, until, params, free, rtol, atol, aux=None):
        return _Steps(spec, params, free, rtol, atol, aux=aux).loop(carry, until)

    def finish(carry, params, free, rtol, atol, aux=None):
        return _Steps(spec, params, free, rtol, atol, aux=aux).finish(carry)

    run.start, run.advance, run.finish = start, advance, finish
    return run


def _static_steps(max_steps):
    """``max_steps`` as an int: a static budget must be given."""
    if max_steps is None:
        raise ValueError("max_steps: a static budget is needed here; use e.g. 10000")
    return int(max_steps)
