"""A sweep's settings, checked once: dtype, cases, solver settings, description, engine.

:func:`catenax.sweep` checks its arguments here in a fixed order (the first bad
one is reported): dtype, the grid's values, its size, the solver settings; the
sweep's description (``spec``, stored in ``.meta.json`` and compared on resume)
and the engine (the chain's hand-batched one where it applies) follow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from catenax.solve import check_int, check_tolerances, default_rtol
from catenax.solvers import DEFAULT_METHOD, resolve_method

from . import chain_engine
from .cases import CHAIN_OPTIONS, ChainProblem, ScenarioProblem
from .grid import parse_values
from .lanes import Engine

__all__ = [
    "SolverSettings",
    "build_engine",
    "build_problem",
    "check_grid_size",
    "check_same_devices",
    "count_devices",
    "resolve_dtype",
    "sweep_spec",
]


@dataclass(frozen=True)
class SolverSettings:
    """How every case is solved (the engines' compile keys are made of these).

    Attributes:
        method: the resolved method object.
        max_steps: the step budget.
        check: whether the stopping rule is tested (``tol`` is not ``None``).
        tol: the relative tolerance as given (``None``: no test).
        rtol, atol: the tolerances as floats.
        multistart: starts per case, or ``None``.
        seed, perturbation: the multistart perturbations.
        stability: compute the stability verdict.
    """

    method: Any
    max_steps: int
    check: bool
    tol: Any
    rtol: float
    atol: float
    multistart: int | None
    seed: int
    perturbation: float | None
    stability: bool

    @classmethod
    def build(cls, dt, method, learning_rate, schedule, max_steps, tol, atol, multistart, seed,
              perturbation, stability, default_tol) -> SolverSettings:  # fmt: skip
        """Check the solver arguments of :func:`catenax.sweep`.

        ``tol is default_tol`` asks for the dtype's default tolerance.
        """
        max_steps = check_int("max_steps", max_steps, minimum=1)
        if multistart is not None:
            multistart = check_int("multistart", multistart, minimum=1)
        if tol is default_tol:
            tol = default_rtol(dt)
        check_tolerances(tol, atol)
        method_obj = resolve_method(
            DEFAULT_METHOD if method is None else method, learning_rate, schedule, max_steps
        )
        return cls(
            method=method_obj, max_steps=max_steps, check=tol is not None, tol=tol,
            rtol=float(tol or 0.0), atol=float(atol), multistart=multistart, seed=int(seed),
            perturbation=perturbation, stability=bool(stability),
        )  # fmt: skip


def resolve_dtype(dtype):
    """The sweep's dtype: float32 or float64 (default: JAX's default float).

    Raises:
        ValueError: another dtype, or float64 without ``jax_enable_x64``.
    """
    if dtype is None:
        return jnp.dtype(jnp.result_type(float))
    name = jnp.dtype(dtype).name
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype: {dtype!r} is not float32 or float64")
    if name == "float64" and not jax.config.jax_enable_x64:
        raise ValueError(
            "dtype: float64 needs jax.config.update('jax_enable_x64', True) before any JAX "
            "work (the CLI does this); or use dtype='float32'"
        )
    return jnp.dtype(name)


def build_problem(scenario, vary, chain_values, dt):
    """The sweep's cases: the lesson chain over its options, or a scenario over ``vary``.

    Args:
        scenario: a scenario file or dict, or ``None`` for the chain.
        vary: ``{key: values}`` (scenario only).
        chain_values: ``(n, spring, length, mass_g)`` (chain only).
        dt: the dtype.

    Returns:
        A :class:`~catenax.sweeps.cases.ChainProblem` or ``ScenarioProblem``.
    """
    if scenario is None:
        if vary:
            raise ValueError(
                "vary: varies keys of a scenario file; give a scenario, or use the chain's "
                "n, spring, length and mass_g"
            )
        axes = {
            name: parse_values(value, name, name)
            for name, value in zip(CHAIN_OPTIONS, chain_values, strict=True)
        }
        return ChainProblem(axes, dt)
    if not vary:
        raise ValueError(
            "vary: nothing to sweep; give {key: values}, e.g. {'structure.stiffness': '10:100:10'}"
        )
    axes = {k: parse_values(v, f"vary[{k!r}]", k) for k, v in vary.items()}
    return ScenarioProblem(scenario, axes, dt)


def check_grid_size(total, max_cases, force):
    """Refuse a grid of more than ``max_cases`` cases unless ``force``."""
    if total > max_cases and not force:
        raise ValueError(
            f"max_cases: the grid has {total:,} cases, more than max_cases = {max_cases:,}; "
            f"pass force=True (CLI: --force) or raise max_cases (--max-cases) to run it"
        )


def count_devices(devices) -> int:
    """How many local devices a sweep shards over (``devices``: None, an int or a list)."""
    if devices is None:
        return len(jax.local_devices())
    return devices if isinstance(devices, int) else len(devices)


def sweep_spec(problem, settings: SolverSettings, method, learning_rate, schedule, dt,
               keep_shapes) -> dict:  # fmt: skip
    """The sweep's description, stored in ``.meta.json`` and compared on resume.

    Its keys and their order are part of the file format.
    """
    return dict(
        problem.spec,
        axes={a.name: a.spec for a in problem.grid.axes},
        method=settings.method.name if isinstance(method, str) or method is None else repr(method),
        learning_rate=learning_rate, schedule=str(schedule) if schedule is not None else None,
        max_steps=settings.max_steps, tol=settings.tol, atol=settings.atol, dtype=dt.name,
        multistart=settings.multistart, seed=settings.seed, perturbation=settings.perturbation,
        stability=settings.stability, keep_shapes=bool(keep_shapes),
    )  # fmt: skip


def _default_chunk(x_size, multistart, n_devices, total):
    """Lanes per device: ~4096 coordinates in flight, 16 to 1024 lanes, a fair share.

    Small batches are faster on CPU here: a batch runs its inner loops (line
    searches, CG) as long as its slowest lane needs, and small working sets stay
    in cache (the lesson chain: 3,700 cases/s at 256 lanes, 2,000 at 8,192).
    """
    per_case = max(1, x_size) * (multistart or 1)
    c = int(min(1024, max(16, 4096 // per_case)))
    return max(1, min(c, -(-total // n_devices)))


def build_engine(problem, settings: SolverSettings, chunk_size, devices, all_devices):
    """The engine that solves the cases: the chain's own where eligible, else lanes.

    Args:
        problem: the cases.
        settings: the solver settings.
        chunk_size: cases per device and batch, or ``None`` for the default.
        devices: the local devices (as :func:`catenax.sweep` takes them).
        all_devices: devices over all processes (sets the default chunk).

    Returns:
        ``(engine, chunk_size)``.
    """
    fast = chain_engine.eligible(problem, settings)
    total = problem.grid.size
    if chunk_size is None:
        if fast:
            chunk_size = chain_engine.default_chunk(all_devices, total)
        else:
            x_size = max(math.prod(problem.x_shape(g[2])) for g in problem.groups)
            chunk_size = _default_chunk(x_size, settings.multistart, all_devices, total)
    engine_cls = chain_engine.ChainEngine if fast else Engine
    return engine_cls(problem, settings, chunk_size, devices), chunk_size


def check_same_devices(cluster, n_devices):
    """Every process of a multi-process sweep must have the same number of local devices."""
    if cluster.num_processes == 1:
        return
    counts = np.asarray(cluster.allgather(np.asarray([n_devices], np.int64))).ravel()
    if len(set(counts.tolist())) != 1:
        raise ValueError(
            f"devices: the processes have different numbers of local devices "
            f"({', '.join(map(str, counts.tolist()))}); give every process the same"
        )
