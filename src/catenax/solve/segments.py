"""The driver's compiled program with the step budget as a runtime value.

:func:`catenax.minimize` runs :func:`make_segments`' ``run`` once (most runs
stop within its first :data:`~catenax.solve.loop.SEGMENT` steps) and, for longer
runs, ``resume`` until the case stops; neither program depends on the budget, so
a new ``max_steps`` compiles nothing new. The outputs come back packed in a few
arrays (:func:`pack_out`, :func:`unpack_out`): every output array costs a
device-to-host transfer, more than a short run's own steps.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .loop import SEGMENT, _Spec, _static_steps, _Steps
from .result import RUNNING

__all__ = [
    "batched_runner",
    "make_segments",
    "pack_out",
    "report_progress",
    "run_segments",
    "runner",
    "unpack_out",
]


def make_segments(energy, method, max_steps, record_every, check, history=True):
    """:func:`catenax.minimize`'s loop with the step budget as a runtime value.

    ``run(x0, params, free, rtol, atol, budget, aux=None) -> (packed, rest)`` runs
    from ``x0`` until the case stops, ``budget`` steps are taken or, with
    histories, a segment of :data:`~catenax.solve.loop.SEGMENT` steps is full
    (then the status is still ``running``). ``packed`` is
    :func:`~catenax.solve.make_run`'s dict in a few arrays (:func:`unpack_out`
    restores it; each output array costs a transfer); its histories cover the
    segment (``he[0]`` is the energy at the segment's first step). ``rest`` is
    what a resumed run needs besides: ``run.resume(packed, rest, params, free,
    rtol, atol, budget, aux=None)`` goes on for up to
    :data:`~catenax.solve.loop.LONG_SEGMENT` more steps, with fresh history
    buffers (give it ``packed`` without ``"hist"``, whose length differs between
    the first segment and later ones).

    The compiled programs depend on shapes only, not on ``budget``: a run that
    ends within its first segment is one call of ``run``; longer runs call
    ``resume`` (compiled once, on the first run that needs it). Without
    histories a call runs to the budget. With ``record_every`` the iterate
    buffers are sized by the budget, so ``max_steps`` must be given and is
    static (part of the program).

    Args:
        energy, method, record_every, check, history: as for
            :func:`~catenax.solve.make_run`.
        max_steps: ``None`` (the budget is ``run``'s argument), or a static
            budget (needed with ``record_every``; ``budget`` is then ignored).

    Returns:
        ``run`` with its ``resume`` (both jit/vmap-able).

    Raises:
        ValueError: ``record_every`` without ``max_steps``.

    Example:
        >>> import catenax
        >>> from catenax.solvers import resolve_method
        >>> run = make_segments(catenax.chain_energy, resolve_method("gd"), None, None, False)
        >>> args = ((5.0, 0.8, 0.1), jnp.ones(20), 0.0, 0.0, jnp.int32(60))
        >>> out = unpack_out(run(jnp.zeros(20), *args)[0])
        >>> int(out["steps"]), int(out["status"]), out["he"].shape
        (60, 2, (1025,))
    """
    if record_every is not None:
        max_steps = _static_steps(max_steps)
    spec = _Spec(energy, method, max_steps, record_every, check, bool(history))

    def run(x0, params, free, rtol, atol, budget, aux=None, until=None):
        steps = _Steps(spec, params, free, rtol, atol, budget, aux)
        c = steps.loop(steps.start(x0), steps.segment_end(jnp.int32(0), until=until))
        return pack_out(steps.finish(c)), (c.g, c.state)

    def resume(packed, rest, params, free, rtol, atol, budget, aux=None, until=None):
        steps = _Steps(spec, params, free, rtol, atol, budget, aux)
        c = steps.restart(unpack_out({"hist": _NO_HIST, **packed}), rest)
        c = steps.loop(c, steps.segment_end(c.k, resumed=True, until=until))
        return pack_out(steps.finish(c)), (c.g, c.state)

    run.resume = resume
    return run


def pack_out(out) -> dict:
    """:func:`~catenax.solve.make_run`'s dict in few arrays: positions, histories, numbers, counts.

    Args:
        out: the dict (traced, one case).

    Returns:
        ``{"x", "hist" (he and hg stacked), "nums" (e, gmax, fs, thr), "ints"
        (steps, status, nrec, runaway)}``, and ``"its"``/``"itk"`` when
        iterates are recorded; :func:`unpack_out` restores the dict.
    """
    e = jnp.asarray(out["e"])
    packed = dict(
        x=out["x"],
        hist=jnp.stack([out["he"], out["hg"]]),
        nums=jnp.stack([jnp.asarray(out[k], e.dtype) for k in ("e", "gmax", "fs", "thr")]),
        ints=jnp.stack([jnp.asarray(out[k], jnp.int32) for k in _INTS]),
    )
    if out["its"].shape[0]:
        packed.update(its=out["its"], itk=out["itk"])
    return packed


_INTS = ("steps", "status", "nrec", "runaway")
_NO_HIST = np.zeros((2, 0))


def unpack_out(packed) -> dict:
    """The dict of :func:`~catenax.solve.make_run` from :func:`pack_out`'s arrays (NumPy or JAX).

    Args:
        packed: :func:`pack_out`'s dict; leading axes (a batch of starts) are kept.

    Returns:
        The dict (with ``its``/``itk`` only when iterates were recorded).

    Example:
        >>> out = unpack_out(pack_out(dict(
        ...     x=jnp.zeros(2), he=jnp.ones(3), hg=jnp.ones(3), e=1.5, gmax=0.0, fs=1.0,
        ...     thr=0.0, steps=4, status=1, nrec=1, runaway=False, its=jnp.zeros((0, 2)))))
        >>> int(out["steps"]), float(out["e"]), bool(out["runaway"])
        (4, 1.5, False)
    """
    nums, ints, hist, x = packed["nums"], packed["ints"], packed["hist"], packed["x"]
    out = {k: nums[..., i] for i, k in enumerate(("e", "gmax", "fs", "thr"))}
    out.update({k: ints[..., i] for i, k in enumerate(_INTS)})
    out["runaway"] = out["runaway"] != 0
    out.update(x=x, he=hist[..., 0, :], hg=hist[..., 1, :])
    out.update({k: packed[k] for k in ("its", "itk") if k in packed})
    return out


@functools.lru_cache(maxsize=128)
def runner(energy, method, max_steps, record_every, check, history=True):
    """:func:`make_segments` under ``jit``: ``(run, resume)``, compiled once per setting."""
    run = make_segments(energy, method, max_steps, record_every, check, history)
    return jax.jit(run), jax.jit(run.resume)


@functools.lru_cache(maxsize=32)
def batched_runner(energy, method, max_steps, record_every, check, history=True):
    """:func:`make_segments` under ``jit(vmap)`` over a leading axis of starts (cached).

    ``aux``, ``until`` (and every other argument but the starts) are shared by the starts.
    """
    one = make_segments(energy, method, max_steps, record_every, check, history)
    shared = (None,) * 7

    def run(x0s, params, free, rtol, atol, budget, aux=None, until=None):
        return jax.vmap(one, in_axes=(0, *shared))(
            x0s, params, free, rtol, atol, budget, aux, until
        )

    def resume(packed, rest, params, free, rtol, atol, budget, aux=None, until=None):
        return jax.vmap(one.resume, in_axes=(0, 0, *shared))(
            packed, rest, params, free, rtol, atol, budget, aux, until
        )

    return jax.jit(run), jax.jit(resume)


#: The progress callback of the runs started in this context (:func:`report_progress`).
_REPORTER: contextvars.ContextVar = contextvars.ContextVar("catenax_progress", default=None)


@contextlib.contextmanager
def report_progress(callback: Callable[[int, float, int], None], interval: float = 0.25):
    """Within the block, long runs of :func:`catenax.minimize` report their progress.

    A run hands control back to the host about every ``interval`` seconds (the
    number of steps per call adapts to the measured speed) and, at most that
    often, calls ``callback(step, grad_max, budget)``: the step count, max|∇E|
    there (the smallest among the starts still running, for a multistart run)
    and the step budget. Results are the same as without it, bit for bit;
    outside the block nothing is reported and the run is one call (or one per
    history segment) as before.

    Args:
        callback: called on the host with ``(step, grad_max, budget)``.
        interval: the least time between two calls, in seconds (> 0).

    Raises:
        ValueError: ``interval`` not a finite number > 0.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> seen = []
        >>> with report_progress(lambda k, g, n: seen.append(k), interval=1e-9):
        ...     r = catenax.minimize(catenax.chain_energy, jnp.zeros(5), 5.0, 0.8, 0.1,
        ...                          method="gd", max_steps=3000, tol=None)
        >>> r.steps, 0 < len(seen), seen == sorted(seen)
        (3000, True, True)
    """
    if not (isinstance(interval, (int, float)) and math.isfinite(interval) and interval > 0):
        raise ValueError(f"interval: {interval!r} must be a finite number of seconds > 0")
    token = _REPORTER.set((callback, float(interval)))
    try:
        yield
    finally:
        _REPORTER.reset(token)


def run_segments(fns, x0, args, all_history: bool = True) -> dict:
    """Run the compiled loop call by call until every start stops; the host joins the histories.

    Args:
        fns: ``(run, resume)`` from :func:`runner` or :func:`batched_runner`.
        x0: the start (or a batch of starts, for :func:`batched_runner`).
        args: ``(params, free, rtol, atol, budget, aux)``.
        all_history: join the histories of every call; ``False`` keeps only the
            first call's (a batch of starts: the driver reruns the start it picks
            when it needs more).

    Returns:
        :func:`unpack_out`'s dict (on the host).
    """
    reporter = _REPORTER.get()
    if reporter is not None:
        return _run_reporting(fns, x0, args, all_history, *reporter)
    run, resume = fns
    packed, rest = run(x0, *args)
    host = jax.device_get(packed)
    if not np.any(host["ints"][..., 1] == RUNNING):
        return unpack_out(host)
    hists = [host["hist"]]
    while np.any(np.asarray(packed["ints"])[..., 1] == RUNNING):
        packed, rest = resume({k: v for k, v in packed.items() if k != "hist"}, rest, *args)
        if all_history:
            hists.append(packed["hist"])
    host, hists = jax.device_get((packed, hists))
    # he[0] of a later segment repeats the last entry of the one before.
    host["hist"] = np.concatenate([hists[0]] + [h[..., 1:] for h in hists[1:]], axis=-1)
    return unpack_out(host)


def _run_reporting(fns, x0, args, all_history, callback, interval) -> dict:
    """:func:`run_segments` that takes control back every ``interval`` s and reports.

    With iterates recorded (``its`` in the output) the budget is static and a
    resumed call goes on in the same buffers; else each call's histories are
    cut to the steps it took and joined.
    """
    run, resume = fns
    budget = int(args[4])
    chunk, k, t0 = min(SEGMENT, budget), 0, time.monotonic()
    last = t0
    packed, rest = run(x0, *args, np.int32(chunk))
    ints = np.asarray(packed["ints"])
    static = "its" in packed
    hists = [jax.device_get(packed["hist"])[..., : int(ints[..., 0].max()) + 1]]
    while np.any(ints[..., 1] == RUNNING):
        k_prev, k, now = k, int(ints[..., 0].max()), time.monotonic()
        if now - last >= interval:
            running = ints[..., 1] == RUNNING
            gmax = np.asarray(packed["nums"])[..., 1][running]
            callback(k, float(np.min(gmax)), budget)
            last = now
        # Steps per call: about ``interval`` seconds' worth, growing at most 16-fold a call.
        rate = (k - k_prev) / max(now - t0, 1e-9)
        chunk, t0 = int(min(max(rate * interval, 1), 16 * chunk, budget)), now
        given = packed if static else {n: v for n, v in packed.items() if n != "hist"}
        packed, rest = resume(given, rest, *args, np.int32(min(budget, k + chunk)))
        ints = np.asarray(packed["ints"])
        if all_history and not static:
            length = int(ints[..., 0].max()) - k
            hists.append(jax.device_get(packed["hist"])[..., 1 : length + 1])
    host = jax.device_get(packed)
    if not static:
        host["hist"] = np.concatenate(hists, axis=-1)
    return unpack_out(host)
