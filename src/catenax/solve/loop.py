"""The driver's loop: one ``lax.while_loop`` that runs any method to the common stopping rule.

Stopping rule (the same for every method)::

    max |grad E| over free coordinates  <=  atol + rtol * F

where ``F`` is the problem's force scale (``energy.force_scale(x, *params)``
when the energy provides one, 1 otherwise). The loop keeps the energy and
max-gradient histories and every ``record_every``-th iterate in fixed-size
buffers, so nothing leaves the device until the run is over. Sweeps run the same
loop in segments (:func:`make_run`'s ``start``/``advance``/``finish``) and the
chain sweep engine applies the same rules lane by lane (:func:`grad_max`,
:func:`all_finite`, :func:`stop_test`, :func:`start_status`, :func:`step_status`).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from catenax.solvers import Problem

from .result import CONVERGED, DIVERGED, MAX_STEPS, RUNNING, STALLED

__all__ = [
    "all_finite",
    "force_scale_fn",
    "grad_max",
    "make_problem",
    "make_run",
    "start_status",
    "step_status",
    "stop_test",
]


def force_scale_fn(energy):
    """The force-scale function of an energy (``F = 1`` when it has none).

    Args:
        energy: the energy function.

    Returns:
        ``energy.force_scale`` or ``lambda x, *params: 1``.

    Example:
        >>> float(force_scale_fn(lambda x: x @ x)(jnp.zeros(2)))
        1.0
    """
    fs = getattr(energy, "force_scale", None)
    if fs is not None:
        return fs
    return lambda x, *params: jnp.ones((), x.dtype)


def make_problem(energy, params, free) -> Problem:
    """Bind parameters and the free mask into the :class:`~catenax.solvers.Problem` a method sees.

    Args:
        energy: ``energy(x, *params) -> scalar``.
        params: its parameters (a tuple).
        free: the free mask (1 free, 0 fixed), the shape of ``x``.

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

    return Problem(value_and_grad, lambda x: energy(x, *params), hvp, energy, params, free)


def grad_max(g, lanes=0):
    """max |grad E| (zero for an empty gradient).

    Args:
        g: the gradient; its last ``lanes`` axes are independent cases.
        lanes: 0 or 1.

    Returns:
        One number per case.

    Example:
        >>> float(grad_max(jnp.array([1.0, -3.0]))), grad_max(jnp.ones((2, 3)), 1).shape
        (3.0, (3,))
    """
    axes = tuple(range(g.ndim - lanes))
    if not all(g.shape[a] for a in axes):
        return jnp.zeros(g.shape[g.ndim - lanes :], g.dtype)
    return jnp.max(jnp.abs(g), axis=axes)


def all_finite(x, e, g, lanes=0):
    """Energy, positions and gradient are all finite (per case).

    Args:
        x, e, g: positions, energy and gradient; the last ``lanes`` axes of
            ``x`` and ``g`` are independent cases (``e`` has one per case).
        lanes: 0 or 1.

    Returns:
        A boolean per case.

    Example:
        >>> bool(all_finite(jnp.zeros(2), 1.0, jnp.array([0.0, jnp.nan])))
        False
    """
    axes = tuple(range(x.ndim - lanes))
    finite_x = jnp.all(jnp.isfinite(x), axis=axes)
    return jnp.isfinite(e) & finite_x & jnp.all(jnp.isfinite(g), axis=axes)


def stop_test(gm, fs, check, rtol, atol):
    """The stopping rule ``max|grad E| <= atol + rtol * F`` (never, without ``check``).

    Args:
        gm: max|grad E| (:func:`grad_max`).
        fs: the force scale ``F``.
        check: whether there is a stopping test at all.
        rtol, atol: the tolerances.

    Returns:
        A boolean per case.

    Example:
        >>> bool(stop_test(1e-11, 1.0, True, 1e-10, 0.0)), bool(stop_test(0.0, 1.0, False, 1, 1))
        (True, False)
    """
    return check & (gm <= atol + rtol * fs)


def start_status(finite, finished):
    """The driver's status at the start: diverged, converged or running.

    Args:
        finite: energy, gradient and positions are finite (per case; boolean arrays).
        finished: the stopping rule holds (per case).

    Returns:
        An int32 status code (see :data:`~catenax.solve.STATUSES`), the shape of ``finite``.

    Example:
        >>> from catenax.solve import STATUSES
        >>> STATUSES[int(start_status(jnp.asarray(True), jnp.asarray(False)))]
        'running'
    """
    return jnp.where(~finite, DIVERGED, jnp.where(finished, CONVERGED, RUNNING))


def step_status(finite, finished, stalled, steps, max_steps):
    """The driver's status after a step, in order of precedence.

    Diverged (not finite), converged (the stopping rule holds), stalled (the
    method can make no progress), max_steps (``steps >= max_steps``), else running.

    Args:
        finite, finished, stalled: per-case flags after the step.
        steps: the steps taken so far, including this one.
        max_steps: the step budget.

    Returns:
        An int32 status code (see :data:`~catenax.solve.STATUSES`).

    Example:
        >>> from catenax.solve import STATUSES
        >>> t, f = jnp.asarray(True), jnp.asarray(False)
        >>> STATUSES[int(step_status(t, f, f, 10, 10))]
        'max_steps'
    """
    return jnp.where(
        ~finite,
        DIVERGED,
        jnp.where(
            finished,
            CONVERGED,
            jnp.where(stalled, STALLED, jnp.where(steps >= max_steps, MAX_STEPS, RUNNING)),
        ),
    )


class _Spec(NamedTuple):
    """What a compiled loop is made of (static: part of the compile key)."""

    energy: object
    method: object
    max_steps: int
    record_every: int | None
    check: bool
    history: bool

    @property
    def n_rec(self) -> int:
        return (self.max_steps // self.record_every + 2) if self.record_every else 0


class _Steps:
    """The loop's pieces for one set of (traced) parameters and tolerances."""

    def __init__(self, spec: _Spec, params, free, rtol, atol):
        self.spec = spec
        self.params, self.rtol, self.atol = params, rtol, atol
        self.prob = make_problem(spec.energy, params, free)
        self.fscale = force_scale_fn(spec.energy)

    def finished(self, x, g):
        return stop_test(grad_max(g), self.fscale(x, *self.params), self.spec.check,
                         self.rtol, self.atol)  # fmt: skip

    def start(self, x0):
        """The carry at ``x0``: ``(k, x, e, g, state, status, he, hg, its, itk, nrec)``."""
        spec, n_rec = self.spec, self.spec.n_rec
        e0, g0 = self.prob.value_and_grad(x0)
        state0 = spec.method.init(self.prob, x0, e0, g0)
        nan = jnp.full((spec.max_steps + 1 if spec.history else 1,), jnp.nan, e0.dtype)
        hist_e = nan.at[0].set(e0)
        hist_g = nan.at[0].set(grad_max(g0))
        iters = jnp.zeros((n_rec,) + x0.shape, x0.dtype)
        iter_k = jnp.full((n_rec,), -1, jnp.int32)
        if n_rec:
            iters = iters.at[0].set(x0)
            iter_k = iter_k.at[0].set(0)
        status0 = start_status(all_finite(x0, e0, g0), self.finished(x0, g0))
        return (jnp.int32(0), x0, e0, g0, state0, status0, hist_e, hist_g, iters, iter_k,
                jnp.int32(1))  # fmt: skip

    @staticmethod
    def cond(c):
        return c[5] == RUNNING

    def body(self, c):
        spec = self.spec
        k, x, e, g, state, _, he, hg, its, itk, nrec = c
        x1, e1, g1, state1, stalled = spec.method.step(self.prob, x, e, g, state, k)
        k1 = k + 1
        ok = all_finite(x1, e1, g1)
        status = step_status(ok, self.finished(x1, g1), stalled, k1, spec.max_steps)
        # On divergence keep the last finite iterate.
        keep = lambda new, old: jax.tree.map(  # noqa: E731
            lambda a, b: jnp.where(ok, a, b), new, old
        )
        x1, e1, g1 = keep((x1, e1, g1), (x, e, g))
        if spec.history:
            he = he.at[k1].set(jnp.where(ok, e1, jnp.nan))
            hg = hg.at[k1].set(jnp.where(ok, grad_max(g1), jnp.nan))
        its, itk, nrec = self._record(its, itk, nrec, ok, k1, x1, status)
        return (k1, x1, e1, g1, state1, status, he, hg, its, itk, nrec)

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

    def finish(self, c):
        k, x, e, g, _, status, he, hg, its, itk, nrec = c
        fs = self.fscale(x, *self.params)
        thr = self.atol + self.rtol * fs
        return dict(
            steps=k, x=x, e=e, gmax=grad_max(g), status=status, he=he, hg=hg,
            its=its, itk=itk, nrec=nrec, fs=fs, thr=thr,
        )  # fmt: skip

    def loop(self, carry, until=None):
        cond = self.cond
        if until is not None:
            cond = lambda c: self.cond(c) & (c[0] < until)  # noqa: E731
        return jax.lax.while_loop(cond, self.body, carry)


def make_run(energy, method, max_steps, record_every, check, history=True):
    """The driver's loop: ``run(x0, params, free, rtol, atol) -> dict`` (jit/vmap-able).

    The same loop also runs in segments, which sweeps use to refill the lanes of a
    batch whose cases have stopped: ``run.start(x0, params, free, rtol, atol)``
    gives the loop's carry, ``run.advance(carry, until, params, free, rtol, atol)``
    steps it while it runs and its step count is below ``until``, and
    ``run.finish(carry, params, free, rtol, atol)`` gives the dict. ``run`` is
    ``finish(advance(start(x0), max_steps))``, exactly.

    Args:
        energy: ``energy(x, *params) -> scalar``.
        method: a resolved method object (``init``/``step``).
        max_steps: the step budget.
        record_every: keep every k-th iterate, or ``None``.
        check: whether the stopping rule is tested.
        history: keep the energy and max-gradient of every step.

    Returns:
        ``run`` with its ``start``, ``advance`` and ``finish``. The dict holds
        ``steps``, ``x``, ``e``, ``gmax``, ``status`` (an int32 code), the
        histories ``he``/``hg``, the iterates ``its``/``itk``/``nrec``, the force
        scale ``fs`` and the threshold ``thr``.

    Example:
        >>> import catenax
        >>> from catenax.solvers import resolve_method
        >>> run = make_run(catenax.chain_energy, resolve_method("newton"), 50, None, True)
        >>> out = run(jnp.zeros(20), (5.0, 0.8, 0.1), jnp.ones(20), 1e-10, 0.0)
        >>> int(out["status"]), int(out["steps"]) < 10
        (1, True)
    """
    spec = _Spec(energy, method, max_steps, record_every, check, bool(history))

    def run(x0, params, free, rtol, atol):
        steps = _Steps(spec, params, free, rtol, atol)
        return steps.finish(steps.loop(steps.start(x0)))

    def start(x0, params, free, rtol, atol):
        return _Steps(spec, params, free, rtol, atol).start(x0)

    def advance(carry, until, params, free, rtol, atol):
        return _Steps(spec, params, free, rtol, atol).loop(carry, until)

    def finish(carry, params, free, rtol, atol):
        return _Steps(spec, params, free, rtol, atol).finish(carry)

    run.start, run.advance, run.finish = start, advance, finish
    return run


@functools.lru_cache(maxsize=128)
def runner(energy, method, max_steps, record_every, check, history=True):
    """:func:`make_run` under ``jit``, compiled once per setting (cached)."""
    return jax.jit(make_run(energy, method, max_steps, record_every, check, history))


@functools.lru_cache(maxsize=32)
def batched_runner(energy, method, max_steps, record_every, check, history=True):
    """:func:`make_run` under ``jit(vmap)`` over a leading axis of starts (cached)."""
    run = make_run(energy, method, max_steps, record_every, check, history)
    return jax.jit(jax.vmap(run, in_axes=(0, None, None, None, None)))
