"""The per-case rules of the driver's loop, one definition each.

:func:`catenax.minimize`'s loop (:mod:`catenax.solve.loop`), the sweep lanes and
the chain sweep engine all apply these: the force scale ``F``
(:func:`force_scale_fn`), max|grad E| (:func:`grad_max`), finiteness
(:func:`all_finite`), the stopping rule ``max|grad E| <= atol + rtol * F``
(:func:`stop_test`) and the statuses at the start and after a step
(:func:`start_status`, :func:`step_status`).
"""

from __future__ import annotations

import jax.numpy as jnp

from .result import CONVERGED, DIVERGED, MAX_STEPS, RUNNING, STALLED

__all__ = [
    "all_finite",
    "force_scale_fn",
    "grad_max",
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
