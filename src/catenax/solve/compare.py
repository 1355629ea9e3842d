"""Run several methods on one problem, side by side (the notebook's "outlook")."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from catenax.errors import FieldError
from catenax.limits import check_memory
from catenax.model import chain_energy, validate_chain_params
from catenax.solvers import resolve_method

from .checks import check_max_steps, check_run_memory, check_tolerances
from .driver import minimize
from .result import default_rtol
from .stability import stability_verdict

__all__ = ["DEFAULT_COMPARE_METHODS", "compare"]

#: Methods compared by default.
DEFAULT_COMPARE_METHODS = ("gd", "adam", "lbfgs", "fire", "newton")

_DEFAULT = object()


def compare(
    methods=DEFAULT_COMPARE_METHODS,
    n: int = 20,
    spring: float = 5.0,
    length: float = 0.8,
    mass_g: float = 0.1,
    max_steps: int = 20_000,
    tol: Any = _DEFAULT,
    learning_rates: dict | None = None,
    dtype=None,
) -> dict:
    """Run each method on the lesson's chain from the flat start and time it.

    Every method uses the driver's stopping rule with the same ``tol``. Wall
    time excludes compilation: each method is run once to compile, then timed
    on a second, identical call.

    Args:
        methods: method names (or method objects) to compare.
        n, spring, length, mass_g: the chain (see :func:`catenax.chain_energy`).
        max_steps: step budget of every method.
        tol: relative tolerance (default: the dtype's, 1e-10 in float64);
            ``None`` switches the test off, as in :func:`catenax.minimize`: every
            method takes exactly ``max_steps`` steps.
        learning_rates: optional ``{name: learning_rate}``; others use defaults.
        dtype: ``"float32"`` or ``"float64"`` (default: JAX's default float).

    Returns:
        ``{"problem": {...}, "rows": [...], "histories": {...}}``: one row per
        method with ``method``, ``status``, ``steps``, ``time_s`` (compile
        excluded), ``time_per_step_s``, ``energy``, ``grad_max``,
        ``min_eigenvalue``; ``histories[name]`` holds ``grad_max`` (per step,
        index 0 = start) and ``time_s`` (per-step wall-time estimate,
        ``time_s * k / steps``), ready to plot against step and against time.

    Raises:
        ValueError: an unknown method, a bad dtype, or bad problem parameters
            (:func:`catenax.validate_chain_params` in the run's dtype), all before
            any run; a :class:`~catenax.errors.ResourceLimit` when ``n`` is too
            large for the memory limit.
        TypeError: ``learning_rates`` is not a dict, or a method of the wrong kind.

    Example:
        >>> out = compare(("newton", "lbfgs"), n=20)
        >>> [r["status"] for r in out["rows"]]
        ['converged', 'converged']
    """
    dt, methods, lrs = _settings(methods, dtype, learning_rates)
    n, spring, length, mass_g = validate_chain_params(n, spring, length, mass_g, dt)
    max_steps = check_max_steps(max_steps)
    tol = default_rtol(dt) if tol is _DEFAULT else tol
    check_tolerances(tol, 0.0)
    check_run_memory(jax.ShapeDtypeStruct((n,), dt), blame="n")
    # Every method's histories (up to max_steps + 1 entries) are kept, as arrays
    # and as lists of Python floats for the figure: about 80 bytes a step.
    check_memory(80.0 * len(methods) * (max_steps + 1), "max_steps",
                 f"the histories of {len(methods)} methods over {max_steps} steps",
                 "use a smaller `max_steps`")  # fmt: skip
    for m, name in methods:
        resolve_method(m, lrs.get(name), None, max_steps)  # every method, before any run
    x0 = jnp.zeros(n, dt)
    kw = {"tol": tol}
    rows, histories = [], {}
    for m, name in methods:

        def run(m=m, name=name):
            return minimize(
                chain_energy, x0, spring, length, mass_g, method=m,
                learning_rate=lrs.get(name), max_steps=max_steps, stability=False, **kw,
            )  # fmt: skip

        run()  # compile
        t0 = time.perf_counter()
        r = run()
        jax.block_until_ready(r.positions)
        wall = time.perf_counter() - t0
        v = stability_verdict(chain_energy, r.positions, spring, length, mass_g)
        per = wall / max(r.steps, 1)
        rows.append(
            dict(method=name, status=r.status, steps=r.steps, time_s=wall, time_per_step_s=per,
                 energy=r.energy, grad_max=r.grad_max, min_eigenvalue=v["min_eigenvalue"])
        )  # fmt: skip
        gh = np.asarray(r.grad_history, float)
        histories[name] = {
            "grad_max": [float(g) if math.isfinite(g) else None for g in gh],
            "time_s": [per * k for k in range(len(gh))],
        }
    problem = dict(n=n, spring=spring, length=length, mass_g=mass_g, max_steps=max_steps,
                   tol=tol, dtype=jnp.dtype(dt).name)  # fmt: skip
    return {"problem": problem, "rows": rows, "histories": histories}


def _settings(methods, dtype, learning_rates):
    """``compare``'s dtype, ``(method, name)`` pairs and learning rates, checked."""
    try:
        dt = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or not jnp.issubdtype(dt, jnp.floating):
        raise FieldError("dtype", f"{dtype!r} is not a float dtype; use 'float32' or 'float64'")
    if isinstance(methods, str) or not isinstance(methods, Iterable):
        methods = (methods,)
    pairs = [(m, m if isinstance(m, str) else getattr(m, "name", type(m).__name__))
             for m in methods]  # fmt: skip
    if not pairs:
        raise FieldError("method", "no method to compare; name at least one, e.g. 'newton'")
    if learning_rates is not None and not isinstance(learning_rates, dict):
        raise TypeError(f"learning_rates: {learning_rates!r} is not a dict; use e.g. {{'gd': 0.2}}")
    return dt, pairs, dict(learning_rates or {})
