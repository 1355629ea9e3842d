"""Sweeps: a grid of parameter values solved as vmapped, jitted, sharded batches.

A sweep is the Cartesian product of value lists and ranges (:mod:`catenax.sweeps.grid`)
for the lesson chain's options (``n``, ``spring``, ``length``, ``mass_g``) or for
numeric keys of a scenario file (``structure.stiffness``,
``structure.gravity[1]``, ``structure.loads[0][2]``, ...); the cases are built by
:mod:`catenax.sweeps.cases`. They are solved by the lanes of a batch
(:mod:`catenax.sweeps.lanes`): each lane runs the driver's own loop
(:func:`catenax.solve.make_run`, the loop :func:`catenax.minimize` runs) under
``jit(vmap(...))`` in segments; JAX keeps the carry of a lane whose case has
stopped unchanged, so a finished or diverged case is frozen and never spoils its
neighbours, and stopped lanes are refilled with the next cases. Finished cases get
the stability verdict and the summary numbers.

The lane axis is sharded over all local devices (a 1-D :class:`jax.sharding.Mesh`
and a :class:`~jax.sharding.NamedSharding`): ``chunk_size`` lanes per device, and
one output chunk per ``chunk_size`` times the device count cases. With several
processes (see :mod:`catenax.sweeps.distributed`) process ``p`` of ``P`` solves chunks
``p, p + P, ...``; the results are gathered with JAX collectives and process 0
writes them in case order. Memory is bounded by the chunk size: the grid is never
materialised, and results stream to disk (:mod:`catenax.io.tables`).

The steps of :func:`sweep` live beside it: :mod:`.settings` (checks, the
engine), :mod:`.resume` (``out`` and resuming), :mod:`.run` (the run loop and
the files), :mod:`.progress`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .distributed import local_cluster
from .result import MULTISTART_COLUMNS, RESULT_COLUMNS, SweepResult, columns_of
from .resume import prepare_out
from .run import run_sweep
from .settings import (
    SolverSettings,
    build_engine,
    build_problem,
    check_bools,
    check_grid_size,
    check_ints,
    check_same_devices,
    check_same_spec,
    count_devices,
    resolve_dtype,
    sweep_spec,
)

__all__ = ["MULTISTART_COLUMNS", "RESULT_COLUMNS", "SweepResult", "sweep"]

_DEFAULT = object()


def sweep(
    scenario=None,
    vary: dict | None = None,
    *,
    n: Any = 20,
    spring: Any = 5.0,
    length: Any = 0.8,
    mass_g: Any = 0.1,
    method: Any = None,
    learning_rate: float | None = None,
    schedule: Any = None,
    max_steps: int = 10_000,
    tol: Any = _DEFAULT,
    atol: float = 0.0,
    dtype: Any = None,
    multistart: int | None = None,
    seed: int = 0,
    perturbation: float | None = None,
    stability: bool = True,
    out=None,
    keep_shapes: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    chunk_size: int | None = None,
    max_cases: int = 10**7,
    force: bool = False,
    sample_shapes: int = 0,
    progress: bool = False,
    devices: Any = None,
    cluster: Any = None,
) -> SweepResult:
    """Solve every case of a parameter grid as vmapped, jitted, sharded batches.

    Without ``scenario`` the cases are lesson chains over the grid of ``n``,
    ``spring``, ``length`` and ``mass_g`` (each a number, a list, or a string
    ``"0.8,1.0,1.2"`` / ``"start:stop:count"``); with ``scenario`` they are its
    network over the grid of ``vary`` (``{key: values}`` for numeric
    ``structure.*`` keys). The grid is the Cartesian product (``n`` slowest,
    then the chain options in that order, or the ``vary`` keys in order).
    Every case starts from the chain's flat ``y = 0`` or the network's
    ``positions`` and gets its own status, steps, energy, grad_max, stability
    verdict (``min_eigenvalue`` at the result and ``start_min_eigenvalue`` at
    the start: negative where the start sits on negative curvature), lowest
    point and largest tension.

    Args:
        scenario: a scenario file (``.toml``/``.json``) or its dict; ``None``
            for the lesson chain.
        vary: ``{"structure.stiffness": "1:10:5", ...}`` (scenario only).
        n, spring, length, mass_g: the chain's options (chain only). Several
            ``n`` are solved group by group (shapes differ).
        method, learning_rate, schedule, max_steps, tol, atol: as
            :func:`catenax.minimize` (default method ``newton``).
        dtype: ``"float64"`` or ``"float32"`` (default: JAX's default float).
        multistart: solve ``K`` perturbed starts per case, as
            :func:`catenax.minimize` does, keeping the lowest stable minimum;
            adds the columns ``n_minima`` (distinct stable minima) and ``start``.
        seed, perturbation: the multistart perturbations (as ``minimize``).
        stability: compute the stability verdict (a converged saddle becomes
            status ``saddle``).
        out: a ``.csv`` or ``.jsonl`` file to stream the rows to (one per case,
            in case order); ``None`` keeps them in memory.
        keep_shapes: keep every case's final positions (in ``out``'s ``.npz``).
        resume: continue the sweep already in ``out`` (its rows are kept; the
            settings must match its ``.meta.json``). Starts afresh when ``out``
            does not exist.
        overwrite: replace an existing ``out``.
        chunk_size: cases per device and batch (default: from the problem's
            size); each batch, one chunk of the output, holds ``chunk_size``
            times the number of devices. A case's result depends on its own
            values and this number only, so with a given ``chunk_size`` the
            output is the same bit for bit on any number of devices or
            processes (the default may differ between machines). Chains with
            newton (:mod:`catenax.sweeps.chain_engine`) run whole chunks per call over
            256 lanes per device; there a case's result does not depend on
            ``chunk_size`` either (default: up to 16,384).
        max_cases: refuse grids larger than this unless ``force``.
        force: allow a grid larger than ``max_cases``.
        sample_shapes: also return the positions of this many cases spread
            evenly over the grid (for figures).
        progress: draw a progress bar on stderr.
        devices: local devices to shard over (default all; an int takes the
            first ones).
        cluster: a :class:`catenax.sweeps.distributed.Cluster` (default: the current
            JAX runtime's processes); with several processes each solves its
            share of the chunks and process 0 writes.

    Returns:
        A :class:`SweepResult`.

    Raises:
        ValueError: a bad value list or range, a key not in the scenario or not
            numeric, a grid over ``max_cases``, an existing ``out`` without
            ``resume``/``overwrite``, or bad solver settings; the message starts
            with the field (``length: ...``, ``vary['structure.mass']: ...``,
            ``out: ...``); an integer argument that is not an int in its range
            (``max_steps`` up to what the int32 loop counts, ``seed`` < 2**32,
            ``chunk_size``, ``multistart``, ...); a resumed ``out`` with a bad
            row before its end; an ``out`` folder that cannot be written.
        ResourceLimit: (a ``ValueError``) the batches would need more memory
            than :func:`catenax.limits.memory_limit` (``chunk_size``,
            ``multistart`` or the structure's size is named).
        TypeError: a flag (``resume``, ``stability``, ...) that is not a bool.
        SweepInterrupted: Ctrl-C or SIGTERM; the finished chunks are in ``out``.

    Example:
        >>> import catenax
        >>> r = catenax.sweep(length="0.8,1.0,1.2")
        >>> r.table["status"].tolist(), [round(float(v), 3) for v in r.table["lowest"]]
        (['converged', 'converged', 'converged'], [-3.961, -6.39, -8.866])
    """
    t_start = time.perf_counter()
    check_bools(keep_shapes=keep_shapes, resume=resume, overwrite=overwrite, force=force,
                progress=progress)  # fmt: skip
    max_cases, chunk_size, sample_shapes = check_ints(
        max_cases=max_cases, chunk_size=chunk_size, sample_shapes=sample_shapes
    ).values()
    dt = resolve_dtype(dtype)
    problem = build_problem(scenario, vary, (n, spring, length, mass_g), dt)
    total = problem.grid.size
    check_grid_size(total, max_cases, force)
    settings = SolverSettings.build(
        dt, method, learning_rate, schedule, max_steps, tol, atol, multistart, seed,
        perturbation, stability, default_tol=_DEFAULT,
    )  # fmt: skip
    if cluster is None:
        cluster = local_cluster()
    n_devices = count_devices(devices)
    spec = sweep_spec(problem, settings, method, learning_rate, schedule, dt, keep_shapes)
    check_same_spec(cluster, spec)
    path = None
    start_rows, start_end = 0, None
    if out is not None:
        path, start_rows, start_end, chunk_size = prepare_out(
            Path(out), spec, resume, overwrite, keep_shapes, chunk_size, cluster
        )
    engine, chunk_size = build_engine(
        problem, settings, chunk_size, devices, n_devices * cluster.num_processes
    )
    engine.columns = columns_of(problem, settings.multistart)
    check_same_devices(cluster, len(engine.devices))
    meta = {
        "catenax_sweep": 1,
        "spec": spec,
        "columns": list(engine.columns),
        "cases": total,
        "chunk_size": chunk_size,
        "format": path.suffix.lower().lstrip(".") if path is not None else None,
    }
    return run_sweep(
        engine, problem, meta, path, start_rows, start_end, keep_shapes, sample_shapes, progress,
        cluster, t_start,
    )  # fmt: skip
