"""The one driver: :func:`minimize` runs any method to a common stopping rule.

The whole loop runs inside ``jit`` as a ``lax.while_loop``; energy and
max-gradient histories and every ``record_every``-th iterate go into
fixed-size buffers, so nothing leaves the device until the run is over.

Stopping rule (the same for every method)::

    max |grad E| over free coordinates  <=  atol + rtol * F

where ``F`` is the problem's force scale (``energy.force_scale(x, *params)``
when the energy provides one — the largest spring or external force — and 1
otherwise). Default ``rtol`` is 1e-10 in float64 and 1e-5 in float32;
default ``atol`` is 0.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .solvers import DEFAULT_METHOD, Problem, resolve_method

__all__ = ["DEFAULT_RTOL", "Result", "STATUSES", "minimize"]

#: Status names, indexed by the integer codes the jitted loop uses.
STATUSES = ("running", "converged", "max_steps", "diverged", "stalled", "saddle")
RUNNING, CONVERGED, MAX_STEPS, DIVERGED, STALLED, SADDLE = range(6)

#: Default relative tolerance per dtype name.
DEFAULT_RTOL = {"float64": 1e-10, "float32": 1e-5, "float16": 1e-2, "bfloat16": 1e-2}

_DEFAULT = object()


@dataclass(frozen=True)
class Result:
    """What :func:`minimize` found, and how it got there.

    Attributes:
        positions: the final iterate (the last finite one if the run diverged).
        energy: E at ``positions``.
        grad_max: max |grad E| over free coordinates at ``positions``.
        steps: number of steps taken (for ``diverged``: the step that failed).
        status: one of ``converged``, ``max_steps``, ``diverged``, ``stalled``,
            ``saddle``.
        message: what happened, and what to try next.
        method: the method's name.
        threshold: the stopping threshold ``atol + rtol * F`` at ``positions``
            (``nan`` when no stopping test was asked for).
        force_scale: ``F`` at ``positions``.
        energy_history: E after each step, shape ``(steps + 1,)`` (index 0 is the start).
        grad_history: max |grad E| after each step, same shape.
        iterates: recorded iterates, shape ``(k, *positions.shape)``.
        iterate_steps: the step index of each recorded iterate.
    """

    positions: np.ndarray
    energy: float
    grad_max: float
    steps: int
    status: str
    message: str
    method: str
    threshold: float = math.nan
    force_scale: float = math.nan
    energy_history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    grad_history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    iterates: np.ndarray = field(default_factory=lambda: np.zeros(0))
    iterate_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    extra: dict = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        """True when the stopping rule was met at a point that is not a saddle."""
        return self.status == "converged"

    def to_dict(self) -> dict:
        """The scalar fields and positions as plain Python values (for JSON).

        Example:
            >>> import catenax, jax.numpy as jnp
            >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(3), 5.0, 0.8, 0.1,
            ...                      method="gd", max_steps=5, tol=None)
            >>> sorted(r.to_dict())[:3]
            ['converged', 'energy', 'grad_max']
        """
        return {
            "method": self.method,
            "status": self.status,
            "converged": self.converged,
            "steps": int(self.steps),
            "energy": float(self.energy),
            "grad_max": float(self.grad_max),
            "positions": np.asarray(self.positions).tolist(),
            "message": self.message,
            **self.extra,
        }


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
    free=None,
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
        free: optional mask (1 free, 0 fixed) of the shape of ``x0``; fixed
            coordinates get zero gradient and never move.

    Returns:
        A :class:`Result`.

    Raises:
        ValueError: bad ``max_steps``, ``tol``, ``record_every``, method or schedule.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> r = catenax.minimize(catenax.chain_energy, jnp.zeros(20), 5.0, 0.8, 0.1,
        ...                      method="gd", learning_rate=0.2, max_steps=60, tol=None)
        >>> r.steps, r.status
        (60, 'max_steps')
    """
    max_steps = _check_int("max_steps", max_steps, minimum=1)
    if record_every is not None:
        record_every = _check_int("record_every", record_every, minimum=1)
    x0 = jnp.asarray(x0)
    if not jnp.issubdtype(x0.dtype, jnp.floating):
        x0 = x0.astype(jnp.result_type(float))
    dtype = x0.dtype
    if tol is _DEFAULT:
        tol = DEFAULT_RTOL.get(jnp.dtype(dtype).name, 1e-6)
    check = tol is not None
    for name, value in (("tol", tol if check else 0.0), ("atol", atol)):
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name}: {value!r} must be a finite number >= 0")
    method = resolve_method(method, learning_rate, schedule, max_steps)
    params = tuple(_as_param(p, dtype) for p in params)
    free_mask = jnp.ones_like(x0) if free is None else jnp.asarray(free, dtype)
    run = _runner(energy, method, max_steps, record_every, check)
    out = run(x0, params, free_mask, jnp.asarray(tol or 0.0, dtype), jnp.asarray(atol, dtype))
    out = jax.device_get(out)
    return _result(out, method.name, check, energy, params, max_steps, record_every)


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: {value!r} is not an integer; use e.g. {max(minimum, 100)}")
    if value < minimum:
        raise ValueError(f"{name}: {value} must be >= {minimum}")
    return int(value)


def _as_param(p, dtype):
    """Cast the floating leaves of a parameter (a number, array or pytree) to ``dtype``."""

    def cast(leaf):
        a = jnp.asarray(leaf)
        return a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a

    return jax.tree.map(cast, p)


def force_scale_fn(energy):
    """The force-scale function of an energy (``F = 1`` when it has none)."""
    fs = getattr(energy, "force_scale", None)
    if fs is not None:
        return fs
    return lambda x, *params: jnp.ones((), x.dtype)


def make_problem(energy, params, free) -> Problem:
    """Bind parameters and the free mask into the :class:`Problem` a method sees."""

    def value_and_grad(x):
        e, g = jax.value_and_grad(energy)(x, *params)
        return e, g * free

    def hvp(x, v):
        grad = lambda z: jax.grad(energy)(z, *params)  # noqa: E731
        return jax.jvp(grad, (x,), (v * free,))[1] * free

    return Problem(value_and_grad, lambda x: energy(x, *params), hvp, energy, params, free)


@functools.lru_cache(maxsize=128)
def _runner(energy, method, max_steps, record_every, check):
    fscale = force_scale_fn(energy)
    n_rec = (max_steps // record_every + 2) if record_every else 0

    def run(x0, params, free, rtol, atol):
        prob = make_problem(energy, params, free)
        e0, g0 = prob.value_and_grad(x0)
        state0 = method.init(prob, x0, e0, g0)

        def gmax(g):
            return jnp.max(jnp.abs(g)) if g.size else jnp.zeros((), g.dtype)

        def finished(x, g):
            return check & (gmax(g) <= atol + rtol * fscale(x, *params))

        def finite(x, e, g):
            return jnp.isfinite(e) & jnp.all(jnp.isfinite(x)) & jnp.all(jnp.isfinite(g))

        nan = jnp.full((max_steps + 1,), jnp.nan, e0.dtype)
        hist_e = nan.at[0].set(e0)
        hist_g = nan.at[0].set(gmax(g0))
        iters = jnp.zeros((n_rec,) + x0.shape, x0.dtype)
        iter_k = jnp.full((n_rec,), -1, jnp.int32)
        if n_rec:
            iters = iters.at[0].set(x0)
            iter_k = iter_k.at[0].set(0)
        status0 = jnp.where(
            ~finite(x0, e0, g0), DIVERGED, jnp.where(finished(x0, g0), CONVERGED, RUNNING)
        )
        carry0 = (jnp.int32(0), x0, e0, g0, state0, status0, hist_e, hist_g, iters, iter_k, 1)

        def cond(c):
            return c[5] == RUNNING

        def body(c):
            k, x, e, g, state, _, he, hg, its, itk, nrec = c
            x1, e1, g1, state1, stalled = method.step(prob, x, e, g, state, k)
            k1 = k + 1
            ok = finite(x1, e1, g1)
            status = jnp.where(
                ~ok,
                DIVERGED,
                jnp.where(
                    finished(x1, g1),
                    CONVERGED,
                    jnp.where(stalled, STALLED, jnp.where(k1 >= max_steps, MAX_STEPS, RUNNING)),
                ),
            )
            # On divergence keep the last finite iterate.
            keep = lambda new, old: jax.tree.map(  # noqa: E731
                lambda a, b: jnp.where(ok, a, b), new, old
            )
            x1, e1, g1 = keep((x1, e1, g1), (x, e, g))
            he = he.at[k1].set(jnp.where(ok, e1, jnp.nan))
            hg = hg.at[k1].set(jnp.where(ok, gmax(g1), jnp.nan))
            if n_rec:
                rec = ok & ((k1 % record_every == 0) | (status != RUNNING))
                slot = jnp.where(rec, nrec, n_rec - 1)
                its = its.at[slot].set(jnp.where(rec, x1, its[slot]))
                itk = itk.at[slot].set(jnp.where(rec, k1, itk[slot]))
                nrec = nrec + rec.astype(jnp.int32)
            return (k1, x1, e1, g1, state1, status, he, hg, its, itk, nrec)

        k, x, e, g, _, status, he, hg, its, itk, nrec = jax.lax.while_loop(cond, body, carry0)
        fs = fscale(x, *params)
        thr = atol + rtol * fs
        return dict(
            steps=k, x=x, e=e, gmax=gmax(g), status=status, he=he, hg=hg,
            its=its, itk=itk, nrec=nrec, fs=fs, thr=thr,
        )  # fmt: skip

    return jax.jit(run)


def _result(out, name, check, energy, params, max_steps, record_every) -> Result:
    status = STATUSES[int(out["status"])]
    steps = int(out["steps"])
    n_hist = steps + 1 if status != "diverged" else steps
    gm, thr = float(out["gmax"]), float(out["thr"])
    nrec = int(out["nrec"]) if record_every else 0
    # Iterates recorded in order; the final one may sit in the last slot.
    its = np.asarray(out["its"])[:nrec] if record_every else np.zeros((0,) + out["x"].shape)
    itk = np.asarray(out["itk"])[:nrec] if record_every else np.zeros(0, int)
    message = _message(status, name, steps, gm, thr if check else None, max_steps)
    if status == "diverged":
        message += diverged_advice(energy, params, out["x"], name)
    return Result(
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


def _message(status, name, steps, gm, thr, max_steps) -> str:
    if status == "converged":
        return f"converged in {steps} steps: max|grad E| = {gm:.3g} <= tolerance {thr:.3g}."
    if status == "max_steps":
        if thr is None:
            return f"ran the requested {steps} steps (no stopping test); max|grad E| = {gm:.3g}."
        return (
            f"not converged after {max_steps} steps: max|grad E| = {gm:.3g} > tolerance "
            f"{thr:.3g}. Raise max_steps, or use method 'newton', which converges in a "
            f"few steps."
        )
    if status == "stalled":
        return (
            f"stalled at step {steps}: {name} can make no further progress "
            f"(max|grad E| = {gm:.3g} > tolerance {thr:.3g}); try method 'newton' or a "
            f"looser tol."
        )
    if status == "diverged":
        if steps == 0:
            return (
                "diverged: the energy or gradient is not finite at the start x0; "
                "check x0 and the parameters."
            )
        return (
            f"diverged at step {steps}: the energy or positions became non-finite "
            f"(the result holds step {steps - 1}, the last finite iterate)."
        )
    return f"{status} after {steps} steps."


def diverged_advice(energy, params, x, name) -> str:
    """Suggest a stable step size: gradient descent needs ``eta < 2 / lambda_max``.

    ``lambda_max`` is estimated by power iteration on Hessian-vector products
    at ``x`` (the last finite iterate).
    """
    lam = largest_eigenvalue(energy, params, x)
    if not math.isfinite(lam) or lam <= 0:
        return " Try a smaller learning rate, or method 'newton'."
    step = 2.0 / lam
    return (
        f" The step size is too large: gradient descent is stable only for a step "
        f"below 2/lambda_max = {step:.4g} (lambda_max = {lam:.4g}, the largest Hessian "
        f"eigenvalue where the run was last finite). Try a learning rate of about "
        f"{0.9 * step:.3g}, or method 'newton'."
    )


def largest_eigenvalue(energy, params, x, iters: int = 200) -> float:
    """Estimate the largest Hessian eigenvalue at ``x`` by power iteration on HVPs.

    Args:
        energy: the energy function.
        params: its parameters (after ``x``).
        x: the point.
        iters: number of power iterations.

    Returns:
        The estimate of ``lambda_max`` (by magnitude), as a float.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> lam = largest_eigenvalue(catenax.chain_energy, (5.0, 0.8, 0.1), jnp.zeros(20))
        >>> round(lam, 2)
        3.98
    """
    x = jnp.asarray(x)
    prob = make_problem(energy, tuple(params), jnp.ones_like(x))
    v0 = jnp.cos(jnp.arange(x.size, dtype=x.dtype) * 1.2345).reshape(x.shape) + 0.5

    def body(_, v):
        w = prob.hvp(x, v)
        return w / (jnp.linalg.norm(w) + 1e-300)

    v = jax.jit(lambda v: jax.lax.fori_loop(0, iters, body, v))(v0 / jnp.linalg.norm(v0))
    return float(jnp.vdot(v, prob.hvp(x, v)))
