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
from .multistart import perturbation_scale, pick
from .result import DEFAULT_RTOL, RUNNING, STATUSES, Result, default_rtol, status_message
from .segments import batched_runner, runner, unpack_out
from .stability import attach_verdict

__all__ = [
    "DEFAULT_RTOL",
    "Result",
    "STATUSES",
    "check_int",
    "check_max_steps",
    "check_tolerances",
    "minimize",
    "runaway_message",
]

_DEFAULT = object()

#: Steps are counted in int32 inside the jitted loop.
_MAX_STEPS_LIMIT = 2**31 - 2


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
        free: optional mask (1 free, 0 fixed) of the shape of ``x0``; fixed
            coordinates get zero gradient and never move.
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
        seed: random seed of the multistart perturbations.
        perturbation: the perturbation scale ``s``; default
            ``0.5 * max(1, RMS spread of x0 about its mean)`` (for the lesson's
            flat chain: 0.5, half the mass spacing).

    Returns:
        A :class:`Result`.

    Raises:
        ValueError: bad ``max_steps``, ``tol``, ``record_every``, ``multistart``,
            ``perturbation``, method or schedule; a
            :class:`~catenax.errors.FieldError` from ``energy.check_held``
            when the structure is not held.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1,
        ...                      method="gd", learning_rate=0.2, max_steps=60, tol=None)
        >>> r.steps, r.status
        (60, 'max_steps')
    """
    max_steps = check_max_steps(max_steps)
    if record_every is not None:
        record_every = check_int("record_every", record_every, minimum=1)
    x0 = jnp.asarray(x0)
    if not jnp.issubdtype(x0.dtype, jnp.floating):
        x0 = x0.astype(jnp.result_type(float))
    dtype = x0.dtype
    if tol is _DEFAULT:
        tol = default_rtol(dtype)
    check = tol is not None
    check_tolerances(tol, atol)
    method = resolve_method(method, learning_rate, schedule, max_steps)
    params = tuple(_as_param(p, dtype) for p in params)
    free_mask = np.ones(x0.shape, dtype) if free is None else jnp.asarray(free, dtype)
    held = getattr(energy, "check_held", None)
    if held is not None:
        held(x0, *params, free=free_mask)
    prepare = getattr(method, "prepare", None)
    aux = prepare(energy, x0, params, free_mask) if prepare is not None else None
    # The step budget is a runtime argument of the compiled loop unless iterates
    # are recorded (their buffers are sized by it).
    key = (energy, method, max_steps if record_every else None, record_every, check,
           bool(history))  # fmt: skip
    atol = atol + (_gradient_floor(energy, x0, params) if check else 0.0)
    args = (params, free_mask, np.asarray(tol or 0.0, dtype), np.asarray(atol, dtype),
            np.int32(max_steps), aux)  # fmt: skip
    settings = (max_steps, record_every, check, bool(history))
    problem = (energy, params, free_mask, stability)
    if multistart is not None:
        k = check_int("multistart", multistart, minimum=1)
        scale = perturbation_scale(x0, perturbation)
        noise = jax.random.normal(jax.random.key(int(seed)), (k,) + x0.shape, dtype)
        x0s = x0[None] + scale * noise * free_mask[None]
        out = _segments(batched_runner(*key), x0s, args)
        results = [
            _result(jax.tree.map(lambda a, i=i: a[i], out), method.name, settings, problem, x0s[i])
            for i in range(k)
        ]
        return pick(results, dict(starts=k, seed=int(seed), perturbation=scale))
    out = _segments(runner(*key), x0, args)
    return _result(out, method.name, settings, problem, x0)


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


def _segments(fns, x0, args) -> dict:
    """Run the compiled loop segment by segment; the host joins the histories."""
    run, resume = fns
    packed, rest = run(x0, *args)
    host = jax.device_get(packed)
    if not np.any(host["ints"][..., 1] == RUNNING):
        return unpack_out(host)
    hists = [host["hist"]]
    while np.any(np.asarray(packed["ints"])[..., 1] == RUNNING):
        packed, rest = resume({k: v for k, v in packed.items() if k != "hist"}, rest, *args)
        hists.append(packed["hist"])
    host, hists = jax.device_get((packed, hists))
    # he[0] of a later segment repeats the last entry of the one before.
    host["hist"] = np.concatenate([hists[0]] + [h[..., 1:] for h in hists[1:]], axis=-1)
    return unpack_out(host)


def check_int(name, value, minimum) -> int:
    """An integer setting, checked.

    Args:
        name: the setting's name (starts the message).
        value: its value.
        minimum: the smallest allowed value.

    Returns:
        ``int(value)``.

    Raises:
        ValueError: not an integer (bools are not), or below ``minimum``.

    Example:
        >>> check_int("max_steps", 10, minimum=1)
        10
        >>> check_int("max_steps", 0, minimum=1)
        Traceback (most recent call last):
        ...
        ValueError: max_steps: 0 must be >= 1
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: {value!r} is not an integer; use e.g. {max(minimum, 100)}")
    if value < minimum:
        raise ValueError(f"{name}: {value} must be >= {minimum}")
    return int(value)


def check_max_steps(max_steps) -> int:
    """``max_steps``, checked: an integer from 1 to what the int32 loop can count."""
    max_steps = check_int("max_steps", max_steps, minimum=1)
    if max_steps > _MAX_STEPS_LIMIT:
        raise ValueError(
            f"max_steps: {max_steps} is more than the loop can count "
            f"({_MAX_STEPS_LIMIT}, int32); use a smaller budget"
        )
    return max_steps


def check_tolerances(tol, atol) -> None:
    """Check the stopping rule's ``tol`` (``None``: no test) and ``atol``.

    Args:
        tol: the relative tolerance, or ``None``.
        atol: the absolute tolerance.

    Raises:
        ValueError: not a finite number >= 0.

    Example:
        >>> check_tolerances(1e-10, 0.0)
        >>> check_tolerances(-1.0, 0.0)
        Traceback (most recent call last):
        ...
        ValueError: tol: -1.0 must be a finite number >= 0
    """
    for name, value in (("tol", tol if tol is not None else 0.0), ("atol", atol)):
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name}: {value!r} must be a finite number >= 0")


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
        message = status_message(status, name, steps, gm, thr if check else None, max_steps)
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
