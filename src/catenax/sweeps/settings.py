"""A sweep's settings, checked once: dtype, cases, solver settings, description, engine.

:func:`catenax.sweep` checks its arguments here in a fixed order (the first bad
one is reported): dtype, the grid's values, its size, the solver settings; the
sweep's description (``spec``, stored in ``.meta.json`` and compared on resume)
and the engine (the chain's hand-batched one where it applies) follow.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from catenax.limits import check_memory
from catenax.solve import (
    check_flag,
    check_int,
    check_max_steps,
    check_seed,
    check_tolerances,
    default_rtol,
)
from catenax.solvers import DEFAULT_METHOD, DENSE_COORDINATES, Newton, resolve_method

from . import chain_engine
from .cases import CHAIN_OPTIONS, ChainProblem, ScenarioProblem
from .grid import parse_values
from .lanes import Engine

__all__ = [
    "SolverSettings",
    "build_engine",
    "build_problem",
    "check_grid_size",
    "check_bools",
    "check_ints",
    "check_memory_of",
    "check_same_devices",
    "check_same_spec",
    "count_devices",
    "resolve_dtype",
    "sweep_spec",
]


#: The integer arguments of :func:`catenax.sweep` other than ``max_steps`` and
#: ``seed`` (the driver's :func:`~catenax.solve.check_max_steps` and
#: :func:`~catenax.solve.check_seed`): ``(smallest, largest)``.
INT_RANGES = {
    "multistart": (1, 2**31 - 1),
    "chunk_size": (1, 2**31 - 1),
    "max_cases": (1, 2**63 - 1),
    "sample_shapes": (0, 2**31 - 1),
}


def check_ints(**values) -> dict:
    """Check integer settings of a sweep (``None`` passes: not given).

    ``max_steps`` goes through the driver's own check (from 1 to what the
    int32 loop counts); the others through :data:`INT_RANGES`. Bools and
    floats are refused, never truncated.

    Args:
        values: ``name=value`` for names in :data:`INT_RANGES` or ``max_steps``.

    Returns:
        The values as Python ints (``None`` kept), in the order given.

    Raises:
        ValueError: not an integer, or out of range; the message starts with the name.

    Example:
        >>> check_ints(max_steps=100, seed=3)
        {'max_steps': 100, 'seed': 3}
        >>> check_ints(seed=2**32)
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: seed: 4294967296 must be <= 4294967295
    """
    out = {}
    for name, value in values.items():
        if value is None:
            out[name] = None
        elif name == "max_steps":
            out[name] = check_max_steps(value)
        elif name == "seed":
            out[name] = check_seed(value)
        else:
            low, high = INT_RANGES[name]
            out[name] = check_int(name, value, minimum=low, maximum=high)
    return out


def check_bools(**values) -> None:
    """Refuse a flag of a sweep that is not ``True`` or ``False`` (``"no"`` is not false).

    Raises:
        TypeError: the message starts with the flag's name
            (:func:`catenax.solve.check_flag`).

    Example:
        >>> check_bools(resume=False, force=np.True_)
        >>> check_bools(stability="no")
        Traceback (most recent call last):
        ...
        TypeError: stability: 'no' is not True or False
    """
    for name, value in values.items():
        check_flag(name, value)


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
        check_bools(stability=stability)
        max_steps, multistart, seed = check_ints(
            max_steps=max_steps, multistart=multistart, seed=seed
        ).values()
        if tol is default_tol:
            tol = default_rtol(dt)
        check_tolerances(tol, atol)
        method_obj = resolve_method(
            DEFAULT_METHOD if method is None else method, learning_rate, schedule, max_steps
        )
        return cls(
            method=method_obj, max_steps=max_steps, check=tol is not None, tol=tol,
            rtol=float(tol or 0.0), atol=float(atol), multistart=multistart, seed=seed,
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
    given = chunk_size is not None
    x_size = max(math.prod(problem.x_shape(g[2])) for g in problem.groups)
    if chunk_size is None:
        if fast:
            chunk_size = chain_engine.default_chunk(all_devices, total)
        else:
            chunk_size = _default_chunk(x_size, settings.multistart, all_devices, total)
    field = "multistart" if settings.multistart else _size_field(problem)
    field = "chunk_size" if given else field
    check_memory_of(problem, settings, chunk_size, count_devices(devices), fast, field)
    engine_cls = chain_engine.ChainEngine if fast else Engine
    return engine_cls(problem, settings, chunk_size, devices), chunk_size


#: Arrays of a case's size that one lane holds at once (the iterate, gradient and
#: direction, the method's state — L-BFGS keeps 20 —, the line search's trial
#: point, the loop's carry twice): a rough upper bound, the same for every method.
LANE_ARRAYS = 32


def _size_field(problem) -> str:
    return "n" if problem.kind == "chain" else "scenario"


def sweep_bytes(problem, settings: SolverSettings, chunk_size, n_devices, fast) -> float:
    """The memory a sweep's batches need at once, estimated (bytes, a float).

    Lanes (``chunk_size`` per device; the chain engine's :data:`~.chain_engine.LANES`)
    times :data:`LANE_ARRAYS` arrays of a case's size (times ``multistart``
    starts; newton's dense Hessian on networks of up to
    :data:`~catenax.solvers.block_newton.DENSE_COORDINATES` coordinates too),
    plus each case's inputs and results, on the device and on the host.

    Example:
        >>> import catenax
        >>> from catenax.sweeps.settings import SolverSettings, build_problem
        >>> import numpy as np
        >>> dt = np.dtype("float64")
        >>> p = build_problem(None, None, (20, 5.0, 0.8, 0.1), dt)
        >>> s = SolverSettings.build(dt, None, None, None, 100, None, 0.0, None, 0, None, True,
        ...                          default_tol=object())
        >>> sweep_bytes(p, s, 10**6, 1, False) > 2**30
        True
    """
    item = np.dtype(problem.dtype).itemsize
    x_size = max(math.prod(problem.x_shape(g[2])) for g in problem.groups)
    starts = settings.multistart or 1
    inputs = sum(np.asarray(a).nbytes for a in jax.tree.leaves(problem.inputs(0, 1)))
    per_case = 2.0 * (inputs + (starts * x_size + 32) * item)  # inputs and results, twice
    cases = float(chunk_size) * n_devices
    if fast:
        lanes = min(chain_engine.LANES, chunk_size) * n_devices
        return cases * per_case + lanes * LANE_ARRAYS * x_size * item
    lane = starts * x_size * item * LANE_ARRAYS
    dense = problem.kind != "chain" and x_size <= DENSE_COORDINATES
    if dense and isinstance(settings.method, Newton):
        lane += starts * float(x_size) ** 2 * item  # newton's dense Hessian (small nets)
    noise = starts * x_size * item
    return cases * (per_case + lane) + noise


def check_memory_of(problem, settings: SolverSettings, chunk_size, n_devices, fast, field):
    """Refuse a sweep whose batches would need more than the memory limit.

    Args:
        problem, settings: the cases and how they are solved.
        chunk_size: cases per device and batch.
        n_devices: local devices.
        fast: whether the chain engine runs it.
        field: the argument to name (``chunk_size``, ``multistart``, ``n``, ...).

    Raises:
        ResourceLimit: over :func:`catenax.limits.memory_limit`.
    """
    nbytes = sweep_bytes(problem, settings, chunk_size, n_devices, fast)
    starts = f" x {settings.multistart:,} starts" if settings.multistart else ""
    check_memory(
        nbytes, field,
        f"batches of {chunk_size:,} cases per device{starts} on {n_devices} device(s)",
        "use a smaller chunk_size, fewer multistart starts or smaller structures",
    )  # fmt: skip


_SPEC_SLOTS = 64


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


def check_same_spec(cluster, spec: dict) -> None:
    """Every process of a multi-process sweep must run the same sweep (``spec``).

    Each process hashes each entry of its description (the axes one by one);
    the hashes are gathered (a fixed-size array, so it cannot hang on a
    mismatch) and the first entry that differs is named.

    Raises:
        ValueError: the processes differ.
    """
    if cluster.num_processes == 1:
        return
    items = [(k, v) for k, v in spec.items() if k != "axes"]
    items = [*((f"axes[{a!r}]", v) for a, v in spec.get("axes", {}).items()), *items]
    items = [("entries", [k for k, _ in items]), *items][:_SPEC_SLOTS]
    digest = np.zeros(_SPEC_SLOTS, np.int64)
    for i, (_, value) in enumerate(items):
        text = json.dumps(value, sort_keys=True, default=repr).encode()
        digest[i] = int.from_bytes(hashlib.sha256(text).digest()[:8], "little", signed=True)
    every = np.asarray(cluster.allgather(digest)).reshape(cluster.num_processes, _SPEC_SLOTS)
    for i, (name, _) in enumerate(items):
        differ = np.flatnonzero(every[:, i] != every[0, i])
        if len(differ):
            raise ValueError(
                f"distributed: the {name} of process {int(differ[0])}'s sweep differs from "
                f"process 0's; give every process the same settings"
            )
