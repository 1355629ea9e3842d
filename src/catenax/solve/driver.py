"""The one driver: :func:`minimize` runs any method to a common stopping rule.

The whole loop runs inside ``jit`` as a ``lax.while_loop``; energy and
max-gradient histories and every ``record_every``-th iterate go into
fixed-size buffers, so nothing leaves the device until the run is over.

Stopping rule (the same for every method)::

    max |grad E| over free coordinates  <=  atol + rtol * F

where ``F`` is the problem's force scale (``energy.force_scale(x, *params)``
when the energy provides one — the largest spring or external force — and 1
otherwise). Default ``rtol`` is 1e-10 in float64 and 1e-5 in float32;
default ``atol`` is 0. With ``tol=None`` there is no test and the run takes
exactly ``max_steps`` steps.

Statuses: ``converged`` (the test passed at a stable point), ``saddle`` (the test
passed but the lowest Hessian eigenvalue is negative: see
:mod:`catenax.stability`), ``max_steps``, ``diverged`` (non-finite energy or
positions), ``stalled`` (the method can make no further progress: a failed line
search or a step below round-off). Convergence is tested before a stall.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from catenax.solvers import DEFAULT_METHOD, Problem, resolve_method

__all__ = ["DEFAULT_RTOL", "Result", "STATUSES", "minimize"]

#: Status names, indexed by the integer codes the jitted loop uses.
STATUSES = ("running", "converged", "max_steps", "diverged", "stalled", "saddle")
RUNNING, CONVERGED, MAX_STEPS, DIVERGED, STALLED, SADDLE = range(6)

#: Default relative tolerance per dtype name.
DEFAULT_RTOL = {"float64": 1e-10, "float32": 1e-5, "float16": 1e-2, "bfloat16": 1e-2}

_DEFAULT = object()

#: Steps are counted in int32 inside the jitted loop.
_MAX_STEPS_LIMIT = 2**31 - 2


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
        extra: further JSON-able fields merged into :meth:`to_dict`: the
            stability verdict (``min_eigenvalue``, ``max_eigenvalue``,
            ``stable``, ``gd_step_max``) and, for multistart runs,
            ``multistart``, ``start_index`` and ``minima``.
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
            >>> d = r.to_dict()
            >>> d["status"], "min_eigenvalue" in d
            ('max_steps', True)
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
    max_steps = _check_int("max_steps", max_steps, minimum=1)
    if max_steps > _MAX_STEPS_LIMIT:
        raise ValueError(
            f"max_steps: {max_steps} is more than the loop can count "
            f"({_MAX_STEPS_LIMIT}, int32); use a smaller budget"
        )
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
    free_mask = np.ones(x0.shape, dtype) if free is None else jnp.asarray(free, dtype)
    rtol_a, atol_a = np.asarray(tol or 0.0, dtype), np.asarray(atol, dtype)
    key = (energy, method, max_steps, record_every, check, bool(history))
    if multistart is not None:
        k = _check_int("multistart", multistart, minimum=1)
        scale = _perturbation_scale(x0, perturbation)
        noise = jax.random.normal(jax.random.key(int(seed)), (k,) + x0.shape, dtype)
        x0s = x0[None] + scale * noise * free_mask[None]
        out = jax.device_get(_batched_runner(*key)(x0s, params, free_mask, rtol_a, atol_a))
        results = [
            _finish(
                _result(jax.tree.map(lambda a, i=i: a[i], out), method.name, check, energy,
                        params, max_steps, record_every, x0s[i]),
                energy, params, free_mask, stability,
            )
            for i in range(k)
        ]  # fmt: skip
        return _pick(results, dict(starts=k, seed=int(seed), perturbation=scale))
    out = jax.device_get(_runner(*key)(x0, params, free_mask, rtol_a, atol_a))
    res = _result(out, method.name, check, energy, params, max_steps, record_every, x0)
    return _finish(res, energy, params, free_mask, stability)


def _perturbation_scale(x0, perturbation):
    if perturbation is None:
        x = np.asarray(x0, float)
        spread = float(np.sqrt(np.mean((x - x.mean(axis=0)) ** 2))) if x.size else 0.0
        return 0.5 * max(1.0, spread)
    if (
        isinstance(perturbation, bool)
        or not isinstance(perturbation, (int, float))
        or not math.isfinite(perturbation)
        or perturbation < 0
    ):
        raise ValueError(
            f"perturbation: {perturbation!r} must be a finite number >= 0; use e.g. 0.5"
        )
    return float(perturbation)


def _finish(res: Result, energy, params, free, stability) -> Result:
    """Attach the stability verdict; a converged saddle becomes status ``saddle``."""
    if not stability or res.status == "diverged":
        return res
    from .stability import stability_verdict as verdict

    v = verdict(energy, res.positions, *params, free=free)
    extra = {**res.extra, **{k: v[k] for k in ("min_eigenvalue", "max_eigenvalue", "stable")}}
    extra["gd_step_max"] = v["gd_step_max"] if math.isfinite(v["gd_step_max"]) else None
    status, message = res.status, res.message
    if status == "converged" and not v["stable"]:
        status = "saddle"
        message = (
            f"stopped at a saddle point after {res.steps} steps: max|grad E| = "
            f"{res.grad_max:.3g} is below the tolerance, but the lowest Hessian eigenvalue "
            f"is {v['min_eigenvalue']:.4g} < 0, so some displacement lowers the energy. "
            f"Start from a perturbed x0 or use multistart (e.g. multistart=16) to reach a "
            f"stable minimum."
        )
    elif status == "converged":
        message += f" Stable minimum (lowest Hessian eigenvalue {v['min_eigenvalue']:.4g} > 0)."
    return replace(res, status=status, message=message, extra=extra)


def _pick(results, info) -> Result:
    """The lowest stable minimum of a multistart batch, with the distinct minima listed."""
    minima: list[dict] = []
    reps: list[np.ndarray] = []
    for i, r in enumerate(results):
        if r.status != "converged":
            continue
        x = np.asarray(r.positions, float)
        eps = float(np.finfo(np.asarray(r.positions).dtype).eps)
        tol_x = 100 * math.sqrt(eps) * (1.0 + float(np.max(np.abs(x), initial=0.0)))
        for m, rep in zip(minima, reps, strict=True):
            if float(np.max(np.abs(rep - x), initial=0.0)) <= tol_x:
                m["count"] += 1
                break
        else:
            sym = bool(np.max(np.abs(x - x[::-1]), initial=0.0) <= tol_x) if x.ndim == 1 else None
            minima.append(
                dict(energy=r.energy, count=1, symmetric=sym, start=i,
                     min_eigenvalue=r.extra.get("min_eigenvalue"), grad_max=r.grad_max)
            )  # fmt: skip
            reps.append(x)
    minima.sort(key=lambda m: m["energy"])
    if minima:
        best_i = minima[0]["start"]
    else:
        best_i = min(
            range(len(results)),
            key=lambda i: results[i].energy if math.isfinite(results[i].energy) else math.inf,
        )
    best = results[best_i]
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    message = (
        f"multistart: {info['starts']} starts ({summary}); {len(minima)} distinct stable "
        f"minima; best: {best.message}"
    )
    extra = {
        **best.extra,
        "multistart": info,
        "start_index": best_i,
        "minima": minima,
    }
    return replace(best, message=message, extra=extra)


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: {value!r} is not an integer; use e.g. {max(minimum, 100)}")
    if value < minimum:
        raise ValueError(f"{name}: {value} must be >= {minimum}")
    return int(value)


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
def _runner(energy, method, max_steps, record_every, check, history=True):
    return jax.jit(_make_run(energy, method, max_steps, record_every, check, history))


@functools.lru_cache(maxsize=32)
def _batched_runner(energy, method, max_steps, record_every, check, history=True):
    run = _make_run(energy, method, max_steps, record_every, check, history)
    return jax.jit(jax.vmap(run, in_axes=(0, None, None, None, None)))


def start_status(finite, finished):
    """The driver's status at the start: diverged, converged or running.

    Args:
        finite: energy, gradient and positions are finite (per case).
        finished: the stopping rule holds (per case).

    Returns:
        An int32 status code (see :data:`STATUSES`), the shape of ``finite``.

    Example:
        >>> STATUSES[int(start_status(True, False))]
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
        An int32 status code (see :data:`STATUSES`).

    Example:
        >>> STATUSES[int(step_status(True, False, False, 10, 10))]
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


def _make_run(energy, method, max_steps, record_every, check, history=True):
    """The driver's loop: ``run(x0, params, free, rtol, atol) -> dict`` (jit/vmap-able).

    The same loop also runs in segments, which sweeps use to refill the lanes of a
    batch whose cases have stopped: ``run.start(x0, params, free, rtol, atol)``
    gives the loop's carry, ``run.advance(carry, until, params, free, rtol, atol)``
    steps it while it runs and its step count is below ``until``, and
    ``run.finish(carry, params, free, rtol, atol)`` gives the dict. ``run`` is
    ``finish(advance(start(x0), max_steps))``, exactly.
    """
    fscale = force_scale_fn(energy)
    n_rec = (max_steps // record_every + 2) if record_every else 0

    def gmax(g):
        return jnp.max(jnp.abs(g)) if g.size else jnp.zeros((), g.dtype)

    def parts(params, free, rtol, atol):
        prob = make_problem(energy, params, free)

        def finished(x, g):
            return check & (gmax(g) <= atol + rtol * fscale(x, *params))

        def finite(x, e, g):
            return jnp.isfinite(e) & jnp.all(jnp.isfinite(x)) & jnp.all(jnp.isfinite(g))

        def start(x0):
            e0, g0 = prob.value_and_grad(x0)
            state0 = method.init(prob, x0, e0, g0)
            nan = jnp.full((max_steps + 1 if history else 1,), jnp.nan, e0.dtype)
            hist_e = nan.at[0].set(e0)
            hist_g = nan.at[0].set(gmax(g0))
            iters = jnp.zeros((n_rec,) + x0.shape, x0.dtype)
            iter_k = jnp.full((n_rec,), -1, jnp.int32)
            if n_rec:
                iters = iters.at[0].set(x0)
                iter_k = iter_k.at[0].set(0)
            status0 = start_status(finite(x0, e0, g0), finished(x0, g0))
            return (jnp.int32(0), x0, e0, g0, state0, status0, hist_e, hist_g, iters, iter_k,
                    jnp.int32(1))  # fmt: skip

        def cond(c):
            return c[5] == RUNNING

        def body(c):
            k, x, e, g, state, _, he, hg, its, itk, nrec = c
            x1, e1, g1, state1, stalled = method.step(prob, x, e, g, state, k)
            k1 = k + 1
            ok = finite(x1, e1, g1)
            status = step_status(ok, finished(x1, g1), stalled, k1, max_steps)
            # On divergence keep the last finite iterate.
            keep = lambda new, old: jax.tree.map(  # noqa: E731
                lambda a, b: jnp.where(ok, a, b), new, old
            )
            x1, e1, g1 = keep((x1, e1, g1), (x, e, g))
            if history:
                he = he.at[k1].set(jnp.where(ok, e1, jnp.nan))
                hg = hg.at[k1].set(jnp.where(ok, gmax(g1), jnp.nan))
            if n_rec:
                rec = ok & ((k1 % record_every == 0) | (status != RUNNING))
                slot = jnp.where(rec, nrec, n_rec - 1)
                its = its.at[slot].set(jnp.where(rec, x1, its[slot]))
                itk = itk.at[slot].set(jnp.where(rec, k1, itk[slot]))
                nrec = nrec + rec.astype(jnp.int32)
            return (k1, x1, e1, g1, state1, status, he, hg, its, itk, nrec)

        def finish(c):
            k, x, e, g, _, status, he, hg, its, itk, nrec = c
            fs = fscale(x, *params)
            thr = atol + rtol * fs
            return dict(
                steps=k, x=x, e=e, gmax=gmax(g), status=status, he=he, hg=hg,
                its=its, itk=itk, nrec=nrec, fs=fs, thr=thr,
            )  # fmt: skip

        return start, cond, body, finish

    def loop(cond, body, carry, until=None):
        if until is not None:
            running = cond
            cond = lambda c: running(c) & (c[0] < until)  # noqa: E731
        return jax.lax.while_loop(cond, body, carry)

    def run(x0, params, free, rtol, atol):
        start, cond, body, finish = parts(params, free, rtol, atol)
        return finish(loop(cond, body, start(x0)))

    def start(x0, params, free, rtol, atol):
        return parts(params, free, rtol, atol)[0](x0)

    def advance(carry, until, params, free, rtol, atol):
        _, cond, body, _ = parts(params, free, rtol, atol)
        return loop(cond, body, carry, until)

    def finish(carry, params, free, rtol, atol):
        return parts(params, free, rtol, atol)[3](carry)

    run.start, run.advance, run.finish = start, advance, finish
    return run


def _result(out, name, check, energy, params, max_steps, record_every, x0=None) -> Result:
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
    message = _message(status, name, steps, gm, thr if check else None, max_steps)
    if status == "diverged":
        message += diverged_advice(energy, params, out["x"], name, x0=x0)
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
        if thr is None:
            return (
                f"stalled at step {steps}: {name} can make no further progress "
                f"(max|grad E| = {gm:.3g}; no stopping test was asked for)."
            )
        fix = "a looser tol or float64" if name == "newton" else "method 'newton' or a looser tol"
        return (
            f"stalled at step {steps}: {name} can make no further progress "
            f"(max|grad E| = {gm:.3g} > tolerance {thr:.3g}); try {fix}."
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


def diverged_advice(energy, params, x, name, x0=None) -> str:
    """Suggest a stable step size: gradient descent needs ``eta < 2 / lambda_max``.

    When ``x0`` is given, the equilibrium is first found with ``newton`` (for
    energies with a tridiagonal Hessian, or up to 10⁵ coordinates) and
    ``lambda_max`` is taken there: that is the step size that stays stable to
    the end of the run (0.2387 for the lesson). Otherwise ``lambda_max`` is
    the stability verdict's largest eigenvalue at ``x`` (the last finite
    iterate; see :func:`catenax.stability.stability_verdict`).

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
        from .stability import stability_verdict

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
