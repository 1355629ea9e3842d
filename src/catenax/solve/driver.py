"""The one driver: :func:`minimize` runs any method to a common stopping rule.

The whole loop runs inside ``jit`` as a ``lax.while_loop``
(:mod:`catenax.solve.loop`); energy and max-gradient histories and every
``record_every``-th iterate go into fixed-size buffers, so nothing leaves the
device until the run is over.

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
(non-finite energy or positions), ``stalled`` (the method can make no further
progress: a failed line search or a step below round-off). Convergence is
tested before a stall. Multistart: :mod:`catenax.solve.multistart`.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from catenax.solvers import DEFAULT_METHOD, resolve_method

from .loop import batched_runner, runner
from .multistart import perturbation_scale, pick
from .result import DEFAULT_RTOL, STATUSES, Result, default_rtol, status_message
from .stability import attach_verdict, stability_verdict

__all__ = [
    "DEFAULT_RTOL",
    "Result",
    "STATUSES",
    "check_int",
    "check_max_steps",
    "check_tolerances",
    "diverged_advice",
    "minimize",
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
        energy: a pure JAX function ``energy(x, *params) -> scalar``. If it has
            a ``force_scale(x, *params)`` attribute, the stopping rule uses it.
        x0: the starting point (its dtype sets the precision of the run).
        *params: parameters passed to ``energy`` after ``x``.
        method: a name (``"gd"`` or any optax optimizer such as ``"adam"``),
            an ``optax.GradientTransformation``, or a method object.
        learning_rate: step size of named methods (default 0.2 for gd/sgd,
            0.1 otherwise).
        schedule: a learning-rate schedule: a name (``constant``,
            ``exponential_decay``, ``cosine_decay``, ``warmup_cosine_decay``,
            ``linear``), ``"name:key=value,..."`` or a callable.
        max_steps: the step budget (>= 1).
        tol: relative tolerance ``rtol`` of the stopping rule (default 1e-10 in
            float64, 1e-5 in float32). ``None`` switches the test off: the run
            takes exactly ``max_steps`` steps, like the notebook.
        atol: absolute tolerance added to ``rtol * F``.
        record_every: keep every k-th iterate (the start and the final point
            are always kept when this is set); ``None`` keeps none.
        history: keep the energy and max-gradient of every step
            (``energy_history``, ``grad_history``: two buffers of ``max_steps + 1``
            numbers). ``False`` keeps memory independent of ``max_steps`` (for huge
            step budgets and batches); the histories are then empty.
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
            ``perturbation``, method or schedule.

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
    rtol_a, atol_a = np.asarray(tol or 0.0, dtype), np.asarray(atol, dtype)
    key = (energy, method, max_steps, record_every, check, bool(history))
    problem = (energy, params, free_mask, stability)
    if multistart is not None:
        k = check_int("multistart", multistart, minimum=1)
        scale = perturbation_scale(x0, perturbation)
        noise = jax.random.normal(jax.random.key(int(seed)), (k,) + x0.shape, dtype)
        x0s = x0[None] + scale * noise * free_mask[None]
        out = jax.device_get(batched_runner(*key)(x0s, params, free_mask, rtol_a, atol_a))
        results = [
            _result(jax.tree.map(lambda a, i=i: a[i], out), method.name, key, problem, x0s[i])
            for i in range(k)
        ]
        return pick(results, dict(starts=k, seed=int(seed), perturbation=scale))
    out = jax.device_get(runner(*key)(x0, params, free_mask, rtol_a, atol_a))
    return _result(out, method.name, key, problem, x0)


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


def _result(out, name, key, problem, x0=None) -> Result:
    """The :class:`Result` of one run's loop output, with its stability verdict."""
    energy, params, free, stability = problem
    _, _, max_steps, record_every, check, _ = key
    status = STATUSES[int(out["status"])]
    steps = int(out["steps"])
    n_hist = steps + 1 if status != "diverged" else steps
    if np.shape(out["he"])[0] != max_steps + 1:  # history=False
        n_hist = 0
    gm, thr = float(out["gmax"]), float(out["thr"])
    nrec = int(out["nrec"]) if record_every else 0
    # Iterates recorded in order; the final one may sit in the last slot.
    its = np.asarray(out["its"])[:nrec] if record_every else np.zeros((0,) + out["x"].shape)
    itk = np.asarray(out["itk"])[:nrec] if record_every else np.zeros(0, int)
    message = status_message(status, name, steps, gm, thr if check else None, max_steps)
    if status == "diverged":
        message += diverged_advice(energy, params, out["x"], name, x0=x0)
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


def diverged_advice(energy, params, x, name, x0=None) -> str:
    """Suggest a stable step size: gradient descent needs ``eta < 2 / lambda_max``.

    When ``x0`` is given, the equilibrium is first found with ``newton`` (for
    energies with a tridiagonal Hessian, or up to 10⁵ coordinates) and
    ``lambda_max`` is taken there: that is the step size that stays stable to
    the end of the run (0.2387 for the lesson). Otherwise ``lambda_max`` is
    the stability verdict's largest eigenvalue at ``x`` (the last finite
    iterate; see :func:`catenax.stability_verdict`).

    Args:
        energy: the energy function.
        params: its parameters (after ``x``).
        x: the last finite iterate.
        name: the method's name.
        x0: the run's start, if known.

    Returns:
        A sentence (with a leading space) to append to the message.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> diverged_advice(catenax.chain_energy, (5.0, 0.8, 0.1), jnp.zeros(20), "gd",
        ...                 x0=jnp.zeros(20))[:42]
        ' The step size is too large: gradient desc'
    """
    lam, where = math.nan, "where the run was last finite"
    structured = getattr(energy, "hessian_tridiagonal", None) is not None
    if x0 is not None and (structured or np.size(x0) <= 100_000):
        try:
            r = minimize(energy, x0, *params, method="newton", max_steps=200)
            if r.converged:
                lam, where = r.extra["max_eigenvalue"], "at the equilibrium"
        except Exception:  # advice only: fall back to the local estimate
            lam = math.nan
    if not math.isfinite(lam):
        lam = stability_verdict(energy, x, *params)["max_eigenvalue"]
    if not math.isfinite(lam) or lam <= 0:
        return " Try a smaller learning rate, or method 'newton'."
    step = 2.0 / lam
    return (
        f" The step size is too large: gradient descent is stable only for a step "
        f"below 2/lambda_max = {step:.4g} (lambda_max = {lam:.4g}, the largest Hessian "
        f"eigenvalue {where}). Try a learning rate of about "
        f"{0.9 * step:.3g}, or method 'newton'."
    )
