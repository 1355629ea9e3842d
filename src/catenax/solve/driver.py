"""The one driver: :func:`minimize` runs any method to a common stopping rule.

The whole loop runs inside ``jit`` as a ``lax.while_loop``
(:mod:`catenax.solve.loop`); energy and max-gradient histories and every
``record_every``-th iterate go into fixed-size buffers, so nothing leaves the
device until the run (or, past :data:`~catenax.solve.loop.SEGMENT` steps, a
segment of it) is over. The compiled program depends on shapes, not on
``max_steps`` or the parameters' values.

Stopping rule (the same for every method)::

    max |grad E| over free coordinates  <=  atol + rtol * F

where ``F`` is the problem's force scale (``energy.force_scale(x, *params)``
when the energy provides one — the largest spring or external force — and 1
otherwise). Default ``rtol`` is 1e-10 in float64 and 1e-5 in float32;
default ``atol`` is 0. With ``tol=None`` there is no test and the run takes
exactly ``max_steps`` steps.

Statuses (:mod:`catenax.solve.result`): ``converged`` (the test passed at a
stable point), ``saddle`` (the test passed but the lowest Hessian eigenvalue is
negative: see :mod:`catenax.solve.stability`), ``max_steps``, ``diverged``
(non-finite energy or positions, or the energy's ``runaway`` test fired),
``stalled`` (the method can make no further
progress: a failed line search or a step below round-off). Convergence is
tested before a stall. Multistart: :mod:`catenax.solve.multistart`.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from catenax.solvers import DEFAULT_METHOD, resolve_method

from .advice import diverged_advice
from .checks import (
    check_flag,
    check_int,
    check_max_steps,
    check_problem,
    check_run_memory,
    check_seed,
    check_tolerances,
)
from .loop import _Spec
from .multistart import perturbation_scale, pick_batch
from .result import DEFAULT_RTOL, STATUSES, Result, default_rtol, status_message
from .segments import batched_runner, run_segments, runner
from .stability import attach_verdict, stability_verdict

__all__ = [
    "DEFAULT_RTOL",
    "Result",
    "STATUSES",
    "minimize",
    "runaway_message",
]

_DEFAULT = object()


def minimize(
    energy,
    x0,
    *params,
    method: Any = DEFAULT_METHOD,
    learning_rate: float | None = None,
    schedule: Any = None,
    max_steps: int = 10_000,
    tol: Any = _DEFAULT,
    atol: float = 0.0,
    record_every: int | None = None,
    history: bool = True,
    free=None,
    stability: bool = True,
    multistart: int | None = None,
    seed: int = 0,
    perturbation: float | None = None,
) -> Result:
    """Minimise ``energy(x, *params)`` from ``x0``; the whole loop runs under ``jit``.

    Args:
        energy: a pure JAX function ``energy(x, *params) -> scalar``. Optional
            attributes: ``force_scale(x, *params)`` (the stopping rule's ``F``);
            ``check_held(x0, *params, free=mask)``, called on the host before
            solving, which raises when the structure is not supported;
            ``runaway(x, *params) -> bool`` (jittable), tested after every
            step: when true at a step that lowered the energy, the run ends
            ``diverged`` with a message saying the structure is not held (a
            step-size blow-up raises the energy and ends non-finite, with the
            step-size advice).
        x0: the starting point (its dtype sets the precision of the run).
        *params: parameters passed to ``energy`` after ``x``.
        method: a name (``"gd"`` or any optax optimizer such as ``"adam"``),
            an ``optax.GradientTransformation``, or a method object.
        learning_rate: step size of named methods (default 0.2 for gd/sgd,
            0.1 otherwise).
        schedule: a learning-rate schedule: a name (``constant``,
            ``exponential_decay``, ``cosine_decay``, ``warmup_cosine_decay``,
            ``linear``), ``"name:key=value,..."`` or a callable.
        max_steps: the step budget (>= 1). A runtime value of the compiled
            loop: a new budget compiles nothing new (runs longer than
            :data:`~catenax.solve.loop.SEGMENT` steps go on in a second
            program, compiled once). With ``record_every`` it is static
            (the iterate buffers are sized by it): a new budget compiles again;
            so does a named ``schedule``, which is sized by it.
        tol: relative tolerance ``rtol`` of the stopping rule (default 1e-10 in
            float64, 1e-5 in float32). ``None`` switches the test off: the run
            takes exactly ``max_steps`` steps, like the notebook.
        atol: absolute tolerance added to ``rtol * F``.
        record_every: keep every k-th iterate (the start and the final point
            are always kept when this is set); ``None`` keeps none.
        history: keep the energy and max-gradient of every step
            (``energy_history``, ``grad_history``, ``steps + 1`` numbers each;
            on the device they fill buffers of ``SEGMENT + 1`` numbers, which the
            host collects segment by segment). ``False`` keeps no history (one
            call runs the whole budget); the histories are then empty.
        free: optional mask (1 free, 0 fixed) of exactly the shape of ``x0``;
            fixed coordinates get zero gradient and never move. ``None``: the
            energy's ``default_free(x0, *params)`` when it has one (a network's
            supports, for :func:`catenax.network_energy`), else all free.
        stability: compute the stability verdict (extreme Hessian eigenvalues,
            see :func:`catenax.stability_verdict`) after the run and put
            ``min_eigenvalue``, ``max_eigenvalue``, ``stable`` and
            ``gd_step_max`` into ``Result.extra``; a converged point with a
            negative lowest eigenvalue gets status ``saddle``. ``False`` skips it.
        multistart: run this many perturbed starts ``x0 + s * z`` (``z`` standard
            normal from ``seed``, zero on fixed coordinates) as one vmapped batch;
            the result is the lowest stable minimum found and
            ``extra["minima"]`` lists the distinct minima (energy, count,
            symmetric or not). ``None`` runs ``x0`` alone.
        seed: random seed of the multistart perturbations, an integer from 0
            to 2**32 - 1.
        perturbation: the perturbation scale ``s``; default
            ``0.5 * max(1, RMS spread of x0 about its mean)`` (for the lesson's
            flat chain: 0.5, half the mass spacing).

    Returns:
        A :class:`Result`.

    Raises:
        ValueError: every argument is checked before any work
            (:mod:`catenax.solve.checks`; the message starts with its name):
            ``x0`` empty or not finite, a ``free`` mask of another shape or with
            values other than 0/1, a bad ``max_steps`` (int32), ``tol``/``atol``
            (finite numbers >= 0, not bools), ``record_every``, ``multistart``,
            ``seed``, ``perturbation``, method, learning rate or schedule, or
            parameters the energy's ``check_params`` refuses (the chain's:
            ranges, and no overflow in ``x0``'s dtype); a
            :class:`~catenax.errors.ResourceLimit` when the run's buffers
            (starts, recorded iterates) would exceed the memory limit; a
            :class:`~catenax.errors.FieldError` from ``energy.check_held``
            when the structure is not held.
        TypeError: a value of the wrong kind: strings, ``None`` or bools as
            numbers (``x0``, parameters), ``stability``/``history`` that are
            not bools, a method of no known kind.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1,
        ...                      method="gd", learning_rate=0.2, max_steps=60, tol=None)
        >>> r.steps, r.status
        (60, 'max_steps')
    """
    x0, free_mask = check_problem(energy, x0, params, free)
    dtype = x0.dtype
    max_steps = check_max_steps(max_steps)
    if record_every is not None:
        record_every = check_int("record_every", record_every, minimum=1)
    history, stability = check_flag("history", history), check_flag("stability", stability)
    if tol is _DEFAULT:
        tol = default_rtol(dtype)
    check = tol is not None
    check_tolerances(tol, atol)
    seed = check_seed(seed)
    if multistart is not None:
        multistart = check_int("multistart", multistart, minimum=1)
    scale = None
    if multistart is not None or perturbation is not None:
        scale = perturbation_scale(x0, perturbation)
    spec = _Spec(energy, None, max_steps if record_every else None, record_every, check, history)
    check_run_memory(x0, starts=multistart, history_len=spec.n_hist(), records=spec.n_rec,
                     record_every=record_every)  # fmt: skip
    method = resolve_method(method, learning_rate, schedule, max_steps)
    params = tuple(_as_param(p, dtype) for p in params)
    held = getattr(energy, "check_held", None)
    if held is not None:
        held(x0, *params, free=free_mask)
    prepare = getattr(method, "prepare", None)
    aux = prepare(energy, x0, params, free_mask) if prepare is not None else None
    # The step budget is a runtime argument of the compiled loop unless iterates
    # are recorded (their buffers are sized by it).
    key = (energy, method, max_steps if record_every else None, record_every, check, history)
    atol = atol + (_gradient_floor(energy, x0, params) if check else 0.0)
    args = (params, free_mask, np.asarray(tol or 0.0, dtype), np.asarray(atol, dtype),
            np.int32(max_steps), aux)  # fmt: skip
    settings = (max_steps, record_every, check, history)
    problem = (energy, params, free_mask, stability)
    if multistart is None:
        out = _segments(runner(*key), x0, args)
        return _result(out, method.name, settings, problem, x0)
    noise = jax.random.normal(jax.random.key(seed), (multistart,) + x0.shape, dtype)
    x0s = x0[None] + scale * noise * free_mask[None]
    out = _segments(batched_runner(*key), x0s, args, all_history=False)

    def result(i):
        lane = {k: v[i] for k, v in out.items()}
        if history and int(lane["steps"]) >= lane["he"].shape[-1]:
            # its history went past the first segment, which is all the batch keeps
            lane = _segments(runner(*key), x0s[i], args)
        return _result(lane, method.name, settings, problem, x0s[i])

    def verdict(x):
        return stability_verdict(energy, x, *params, free=free_mask)

    info = dict(starts=multistart, seed=seed, perturbation=scale)
    return pick_batch(out, info, result, verdict if stability else None)


def _gradient_floor(energy, x0, params) -> float:
    """The energy's ``gradient_floor`` at the start (0 without one), added to ``atol``.

    A stiff structure's gradient carries a rounding error larger than
    ``rtol * F``; no step can get below it, so the threshold includes it
    (see :func:`catenax.model.energy.gradient_floor`).
    """
    floor = getattr(energy, "gradient_floor", None)
    if floor is None:
        return 0.0
    return float(_jitted(floor)(x0, *params))


@functools.lru_cache(maxsize=16)
def _jitted(fn):
    return jax.jit(fn)


def _segments(fns, x0, args, all_history=True) -> dict:
    """Run the compiled loop segment by segment; the host joins the histories.

    ``all_history=False`` keeps only the first segment's histories (a batch of
    starts: the driver reruns the one it picks when it needs more).
    """
    return run_segments(fns, x0, args, all_history)


def _as_param(p, dtype):
    """Cast the floating leaves of a parameter (a number, array or pytree) to ``dtype``."""

    def cast(leaf):
        # NumPy for host values: an eager JAX op per parameter would cost more
        # than a short jitted run.
        a = leaf if isinstance(leaf, jax.Array) else np.asarray(leaf)
        if jnp.issubdtype(a.dtype, jnp.floating) and a.dtype != dtype:
            return a.astype(dtype)
        return a

    return jax.tree.map(cast, p)


def _result(out, name, settings, problem, x0=None) -> Result:
    """The :class:`Result` of one run's loop output, with its stability verdict."""
    energy, params, free, stability = problem
    max_steps, record_every, check, history = settings
    status = STATUSES[int(out["status"])]
    steps = int(out["steps"])
    n_hist = (steps + 1 if status != "diverged" else steps) if history else 0
    gm, thr = float(out["gmax"]), float(out["thr"])
    nrec = int(out["nrec"]) if record_every else 0
    # Iterates recorded in order; the final one may sit in the last slot.
    its = np.asarray(out["its"])[:nrec] if record_every else np.zeros((0,) + out["x"].shape)
    itk = np.asarray(out["itk"])[:nrec] if record_every else np.zeros(0, int)
    if status == "diverged" and bool(out["runaway"]):
        message = runaway_message(steps)
    else:
        message = status_message(status, name, steps, gm, thr if check else None, max_steps,
                                 np.asarray(out["x"]).dtype)  # fmt: skip
        if status == "diverged":
            message += diverged_advice(
                energy, params, out["x"], name, x0=x0, free=free, solve=minimize
            )
    res = Result(
        positions=np.asarray(out["x"]),
        energy=float(out["e"]),
        grad_max=gm,
        steps=steps,
        status=status,
        message=message,
        method=name,
        threshold=thr if check else math.nan,
        force_scale=float(out["fs"]),
        energy_history=np.asarray(out["he"])[:n_hist],
        grad_history=np.asarray(out["hg"])[:n_hist],
        iterates=its,
        iterate_steps=itk,
    )
    return attach_verdict(res, energy, params, free, stability)


def runaway_message(steps) -> str:
    """The message of a run stopped by the energy's ``runaway`` test (status ``diverged``).

    Args:
        steps: the step at which the test fired.

    Returns:
        The message: the structure is not held, and what to do.

    Example:
        >>> runaway_message(37)[:57]
        'diverged at step 37: the structure is not held — nodes mo'
    """
    return (
        f"diverged at step {steps}: the structure is not held — nodes moved without bound "
        f"(the energy's runaway test fired; the result holds step {steps - 1}, the last "
        f"iterate before). Support it (fix more nodes, connect every part to a support) "
        f"or remove the load that pulls it away."
    )
