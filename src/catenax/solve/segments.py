"""The driver's compiled program with the step budget as a runtime value.

:func:`catenax.minimize` runs :func:`make_segments`' ``run`` once (most runs
stop within its first :data:`~catenax.solve.loop.SEGMENT` steps) and, for longer
runs, ``resume`` until the case stops; neither program depends on the budget, so
a new ``max_steps`` compiles nothing new. The outputs come back packed in a few
arrays (:func:`pack_out`, :func:`unpack_out`): every output array costs a
device-to-host transfer, more than a short run's own steps.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .loop import _Spec, _static_steps, _Steps

__all__ = ["batched_runner", "make_segments", "pack_out", "runner", "unpack_out"]


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

    def run(x0, params, free, rtol, atol, budget, aux=None):
        steps = _Steps(spec, params, free, rtol, atol, budget, aux)
        c = steps.loop(steps.start(x0), steps.segment_end(jnp.int32(0)))
        return pack_out(steps.finish(c)), (c.g, c.state)

    def resume(packed, rest, params, free, rtol, atol, budget, aux=None):
        steps = _Steps(spec, params, free, rtol, atol, budget, aux)
        c = steps.restart(unpack_out({**packed, "hist": _NO_HIST}), rest)
        c = steps.loop(c, steps.segment_end(c.k, resumed=True))
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

    ``aux`` (and every other argument but the starts) is shared by the starts.
    """
    run = make_segments(energy, method, max_steps, record_every, check, history)
    shared = (None,) * 6
    return (
        jax.jit(jax.vmap(run, in_axes=(0, *shared))),
        jax.jit(jax.vmap(run.resume, in_axes=(0, 0, *shared))),
    )
