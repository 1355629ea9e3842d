"""Run several methods on one problem, side by side (the notebook's "outlook")."""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp
import numpy as np

from catenax.model import chain_energy

from .driver import minimize
from .stability import stability_verdict

__all__ = ["DEFAULT_COMPARE_METHODS", "compare"]

#: Methods compared by default.
DEFAULT_COMPARE_METHODS = ("gd", "adam", "lbfgs", "fire", "newton")


def compare(
    methods=DEFAULT_COMPARE_METHODS,
    n: int = 20,
    spring: float = 5.0,
    length: float = 0.8,
    mass_g: float = 0.1,
    max_steps: int = 20_000,
    tol: float | None = None,
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
        tol: relative tolerance (default: the dtype's, 1e-10 in float64).
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
        ValueError: an unknown method, or bad problem parameters, as in
            :func:`catenax.minimize`.

    Example:
        >>> out = compare(("newton", "lbfgs"), n=20)
        >>> [r["status"] for r in out["rows"]]
        ['converged', 'converged']
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: {n!r} must be an integer >= 1; use e.g. 20")
    dt = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    x0 = jnp.zeros(n, dt)
    lrs = dict(learning_rates or {})
    kw = {} if tol is None else {"tol": tol}
    rows, histories = [], {}
    for m in methods:
        name = m if isinstance(m, str) else getattr(m, "name", type(m).__name__)

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
