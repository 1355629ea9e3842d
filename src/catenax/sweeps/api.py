"""Sweeps: a grid of parameter values solved as vmapped, jitted, sharded batches.

A sweep is the Cartesian product of value lists and ranges (:mod:`catenax.grid`)
for the lesson chain's options (``n``, ``spring``, ``length``, ``mass_g``) or for
numeric keys of a scenario file (``structure.stiffness``,
``structure.gravity[1]``, ``structure.loads[0][2]``, ...); the cases are built by
:mod:`catenax.sweepcases`. They are solved by the lanes of a batch
(:mod:`catenax.sweeplanes`): each lane runs the driver's own loop
(:func:`catenax.solve._make_run`, the loop :func:`catenax.minimize` runs) under
``jit(vmap(...))`` in segments; JAX keeps the carry of a lane whose case has
stopped unchanged, so a finished or diverged case is frozen and never spoils its
neighbours, and stopped lanes are refilled with the next cases. Finished cases get
the stability verdict and the summary numbers.

The lane axis is sharded over all local devices (a 1-D :class:`jax.sharding.Mesh`
and a :class:`~jax.sharding.NamedSharding`): ``chunk_size`` lanes per device, and
one output chunk per ``chunk_size`` times the device count cases. With several
processes (see :mod:`catenax.distributed`) process ``p`` of ``P`` solves chunks
``p, p + P, ...``; the results are gathered with JAX collectives and process 0
writes them in case order. Memory is bounded by the chunk size: the grid is never
materialised, and results stream to disk (:mod:`catenax.sweepio`).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from catenax.errors import SweepInterrupted
from catenax.io import tables as sweepio

from . import chain_engine as sweepchain
from .cases import CHAIN_OPTIONS, ChainProblem, ScenarioProblem
from .grid import parse_values
from .lanes import Chunks, Engine, status_codes

__all__ = ["RESULT_COLUMNS", "SweepResult", "sweep"]

#: Per-case result columns, after ``case`` and the parameter columns.
RESULT_COLUMNS = (
    "status",
    "converged",
    "stable",
    "steps",
    "energy",
    "grad_max",
    "min_eigenvalue",
    "max_eigenvalue",
    "start_min_eigenvalue",
    "lowest",
    "max_tension",
)
#: Extra columns of a sweep with ``multistart``.
MULTISTART_COLUMNS = ("n_minima", "start")

_KINDS = {
    "case": "int",
    "n": "int",
    "status": "str",
    "converged": "bool",
    "stable": "bool?",
    "steps": "int",
    "n_minima": "int",
    "start": "int",
}

_DEFAULT = object()


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did.

    Attributes:
        n_cases: cases in the grid.
        done: cases finished (all of them unless the sweep was interrupted).
        counts: status -> number of cases, over the cases solved in this call.
        elapsed: wall time of this call in seconds (compilation included).
        cases_per_second: throughput of this call after the first chunk
            (compilation excluded; ``nan`` with a single chunk).
        columns: the table's column names.
        axes: the grid's axes (the parameters and their values).
        path: the table file, or ``None``.
        table: ``{column: array}`` of every case when no file was asked for
            (``None`` when the rows went to ``path``: read them with
            :func:`catenax.sweepio.read_table`).
        positions: the final positions of every case (``keep_shapes`` without a
            file; one array per ``n`` for a chain sweep over several ``n``).
        sample: ``{"case": indices, "positions": [...]}`` for the
            ``sample_shapes`` cases picked for figures, or ``None``.
        resumed_from: rows already in the file when the call started.
    """

    n_cases: int
    done: int
    counts: dict
    elapsed: float
    cases_per_second: float
    columns: tuple
    axes: tuple
    path: Path | None = None
    table: dict | None = None
    positions: Any = None
    sample: dict | None = None
    resumed_from: int = 0
    meta: dict = field(default_factory=dict)


# ============================================================== problems


def _columns_of(engine, problem, multistart):
    return ("case", *problem.param_columns, *RESULT_COLUMNS) + (
        MULTISTART_COLUMNS if multistart is not None else ()
    )


def _rows(problem, columns, out, start, stop, keep_x):
    """Host columns of a finished chunk (and its positions, when asked)."""
    converged, _, _, _, statuses = status_codes()
    n = stop - start
    cols = {"case": np.arange(start, stop, dtype=np.int64)}
    cols.update(problem.columns(start, stop))
    status = np.asarray(out["status"][:n])
    cols["status"] = np.asarray(statuses, dtype=object)[status]
    cols["converged"] = status == converged
    for name in columns[len(problem.param_columns) + 3 :]:
        cols[name] = np.asarray(out[name][:n])
    cols["stable"] = np.asarray(out["stable"][:n])
    cols["stable?"] = np.asarray(out["stable?"][:n])
    x = np.asarray(out["x"][:n]) if keep_x else None
    return cols, x


def _resolve_dtype(dtype):
    import jax
    import jax.numpy as jnp

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


def _default_chunk(x_size, multistart, n_devices, total):
    """Lanes per device: ~4096 coordinates in flight, 16 to 1024 lanes, a fair share.

    Small batches are faster on CPU here: a batch runs its inner loops (line
    searches, CG) as long as its slowest lane needs, and small working sets stay
    in cache (the lesson chain: 3,700 cases/s at 256 lanes, 2,000 at 8,192).
    """
    per_case = max(1, x_size) * (multistart or 1)
    c = int(min(1024, max(16, 4096 // per_case)))
    return max(1, min(c, -(-total // n_devices)))


def _same_devices(cluster, n_devices):
    if cluster.num_processes == 1:
        return
    counts = np.asarray(cluster.allgather(np.asarray([n_devices], np.int64))).ravel()
    if len(set(counts.tolist())) != 1:
        raise ValueError(
            f"devices: the processes have different numbers of local devices "
            f"({', '.join(map(str, counts.tolist()))}); give every process the same"
        )


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
            newton (:mod:`catenax.sweepchain`) run whole chunks per call over
            256 lanes per device; there a case's result does not depend on
            ``chunk_size`` either (default: up to 16,384).
        max_cases: refuse grids larger than this unless ``force``.
        force: allow a grid larger than ``max_cases``.
        sample_shapes: also return the positions of this many cases spread
            evenly over the grid (for figures).
        progress: draw a progress bar on stderr.
        devices: local devices to shard over (default all; an int takes the
            first ones).
        cluster: a :class:`catenax.distributed.Cluster` (default: the current
            JAX runtime's processes); with several processes each solves its
            share of the chunks and process 0 writes.

    Returns:
        A :class:`SweepResult`.

    Raises:
        ValueError: a bad value list or range, a key not in the scenario or not
            numeric, a grid over ``max_cases``, an existing ``out`` without
            ``resume``/``overwrite``, or bad solver settings; the message starts
            with the field (``length: ...``, ``vary['structure.mass']: ...``,
            ``out: ...``).
        SweepInterrupted: Ctrl-C or SIGTERM; the finished chunks are in ``out``.

    Example:
        >>> import catenax
        >>> r = catenax.sweep(length="0.8,1.0,1.2")
        >>> r.table["status"].tolist(), [round(float(v), 3) for v in r.table["lowest"]]
        (['converged', 'converged', 'converged'], [-3.961, -6.39, -8.866])
    """
    import jax

    from catenax.solve.driver import DEFAULT_RTOL, _check_int
    from catenax.solvers import DEFAULT_METHOD, resolve_method

    t_start = time.perf_counter()
    dt = _resolve_dtype(dtype)
    if scenario is None:
        if vary:
            raise ValueError(
                "vary: varies keys of a scenario file; give a scenario, or use the chain's "
                "n, spring, length and mass_g"
            )
        axes = {
            name: parse_values(value, name, name)
            for name, value in zip(CHAIN_OPTIONS, (n, spring, length, mass_g), strict=True)
        }
        problem = ChainProblem(axes, dt)
    else:
        if not vary:
            raise ValueError(
                "vary: nothing to sweep; give {key: values}, e.g. "
                "{'structure.stiffness': '10:100:10'}"
            )
        axes = {k: parse_values(v, f"vary[{k!r}]", k) for k, v in vary.items()}
        problem = ScenarioProblem(scenario, axes, dt)
    total = problem.grid.size
    if total > max_cases and not force:
        raise ValueError(
            f"max_cases: the grid has {total:,} cases, more than max_cases = {max_cases:,}; "
            f"pass force=True (CLI: --force) or raise max_cases (--max-cases) to run it"
        )
    max_steps = _check_int("max_steps", max_steps, minimum=1)
    if multistart is not None:
        multistart = _check_int("multistart", multistart, minimum=1)
    if tol is _DEFAULT:
        tol = DEFAULT_RTOL[dt.name]
    check = tol is not None
    for name, value in (("tol", tol if check else 0.0), ("atol", atol)):
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name}: {value!r} must be a finite number >= 0")
    method_obj = resolve_method(
        DEFAULT_METHOD if method is None else method, learning_rate, schedule, max_steps
    )
    if sample_shapes < 0:
        raise ValueError(f"sample_shapes: {sample_shapes} must be >= 0")
    settings = dict(
        method=method_obj, max_steps=max_steps, check=check, rtol=float(tol or 0.0),
        atol=float(atol), multistart=multistart, seed=int(seed), perturbation=perturbation,
        stability=bool(stability),
    )  # fmt: skip
    if cluster is None:
        from .distributed import local_cluster

        cluster = local_cluster()
    n_devices = len(jax.local_devices()) if devices is None else (
        devices if isinstance(devices, int) else len(devices)
    )  # fmt: skip
    x_size = max(math.prod(problem.x_shape(g[2])) for g in problem.groups)
    if chunk_size is not None:
        chunk_size = _check_int("chunk_size", chunk_size, minimum=1)
    spec = dict(
        problem.spec,
        axes={a.name: a.spec for a in problem.grid.axes},
        method=method_obj.name if isinstance(method, str) or method is None else repr(method),
        learning_rate=learning_rate, schedule=str(schedule) if schedule is not None else None,
        max_steps=max_steps, tol=tol, atol=float(atol), dtype=dt.name, multistart=multistart,
        seed=int(seed), perturbation=perturbation, stability=bool(stability),
        keep_shapes=bool(keep_shapes),
    )  # fmt: skip
    path = None
    start_rows, start_end = 0, None
    if out is not None:
        path, start_rows, start_end, chunk_size = _prepare_out(
            Path(out), spec, resume, overwrite, keep_shapes, chunk_size, cluster
        )
    fast = sweepchain.eligible(problem, settings)
    if chunk_size is None:
        all_devices = n_devices * cluster.num_processes
        chunk_size = (
            sweepchain.default_chunk(all_devices, total)
            if fast
            else _default_chunk(x_size, multistart, all_devices, total)
        )
    engine = (sweepchain.ChainEngine if fast else Engine)(problem, settings, chunk_size, devices)
    engine.columns = _columns_of(engine, problem, multistart)
    _same_devices(cluster, len(engine.devices))
    chunks = Chunks(problem.groups, engine.batch)
    fmt = path.suffix.lower().lstrip(".") if path is not None else None
    meta = {
        "catenax_sweep": 1,
        "spec": spec,
        "columns": list(engine.columns),
        "cases": total,
        "chunk_size": chunk_size,
        "format": fmt,
    }
    return _run(
        engine, chunks, problem, meta, path, fmt, start_rows, start_end, keep_shapes,
        sample_shapes, progress, cluster, t_start,
    )  # fmt: skip


def _prepare_out(path, spec, resume, overwrite, keep_shapes, chunk_size, cluster):
    """Check ``out`` (on process 0) and find where a resumed sweep continues."""
    err = ""
    rows, end = 0, None
    if cluster.is_writer:
        try:
            rows, end, chunk_size = _check_out(
                path, spec, resume, overwrite, keep_shapes, chunk_size
            )
        except ValueError as e:
            err = str(e)
    if cluster.num_processes > 1:
        msg = np.frombuffer(err.encode()[:4000].ljust(4000, b"\0"), np.uint8)
        vals = np.asarray([rows, -1 if end is None else end, chunk_size or 0], np.int64)
        msg, vals = cluster.broadcast((msg, vals))
        err = bytes(np.asarray(msg)).rstrip(b"\0").decode()
        rows, end, chunk_size = (int(v) for v in np.asarray(vals))
        end = None if end < 0 else end
        chunk_size = chunk_size or None
    if err:
        raise ValueError(err)
    return path, rows, end, chunk_size


def _check_out(path, spec, resume, overwrite, keep_shapes, chunk_size):
    from catenax.io.files import check_output_path

    check_output_path(path, sweepio.TABLE_SUFFIXES, "out")
    if resume and overwrite:
        raise ValueError("out: give --resume or --overwrite, not both")
    meta_file = sweepio.meta_path(path)
    others = [p for p in (meta_file, sweepio.npz_path(path) if keep_shapes else None) if p]
    exists = [p for p in (path, *others) if p.exists()]
    if not resume:
        if exists and not overwrite:
            raise ValueError(
                f"out: '{exists[0]}' exists; add --overwrite to replace it, or --resume to "
                f"continue the sweep in it"
            )
        return 0, None, chunk_size
    if not path.exists():
        return 0, None, chunk_size
    if not meta_file.exists():
        raise ValueError(
            f"out: cannot resume '{path}': its sweep description '{meta_file.name}' is missing; "
            f"rerun with --overwrite"
        )
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"out: cannot resume: '{meta_file}' is unreadable ({e})") from None
    old = meta.get("spec", {})
    diff = sorted(k for k in set(old) | set(spec) if old.get(k) != _jsonable(spec).get(k))
    if diff:
        k = diff[0]
        was, now = old.get(k), _jsonable(spec).get(k)
        if k == "axes" and isinstance(was, dict):
            names = [a for a in {**was, **now} if was.get(a) != now.get(a)]
            k, was, now = names[0], was.get(names[0]), now.get(names[0])
        raise ValueError(
            f"out: cannot resume '{path}': it was run with {k} = {was!r}, now {now!r}; "
            f"resume with the same settings, or use --overwrite"
        )
    if chunk_size is not None and chunk_size != meta.get("chunk_size"):
        raise ValueError(
            f"chunk_size: {chunk_size} differs from the {meta.get('chunk_size')} of the sweep "
            f"being resumed; drop --chunk-size to reuse it"
        )
    header = path.suffix.lower() == ".csv"
    rows, end, _ = sweepio.count_rows(path, header)
    if header:
        want = sweepio.csv_header(meta.get("columns", []))
        with open(path, "rb") as f:
            got = f.read(len(want))
        if end < len(want) or got != want:
            raise ValueError(
                f"out: cannot resume '{path}': its header is not the sweep's; use --overwrite"
            )
    if meta.get("complete") and rows >= meta.get("cases", math.inf):
        return rows, end, meta.get("chunk_size")  # nothing left to do
    if keep_shapes:
        raw = sweepio.shapes_path(path)
        have = raw.stat().st_size // max(meta.get("shape_row_bytes", 1), 1) if raw.exists() else 0
        if have < rows:
            # Keep only the rows whose shapes are on disk too.
            rows, end = have, _line_end(path, have + int(header))
    return rows, end, meta.get("chunk_size")


def _line_end(path, lines):
    """Byte offset just after the first ``lines`` lines."""
    if lines == 0:
        return 0
    seen = 0
    offset = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 22)
            if not block:
                return offset
            start = 0
            while True:
                i = block.find(b"\n", start)
                if i < 0:
                    break
                seen += 1
                if seen == lines:
                    return offset + i + 1
                start = i + 1
            offset += len(block)


def _jsonable(spec):
    return json.loads(json.dumps(spec))


def _run(engine, chunks, problem, meta, path, fmt, start_rows, start_end, keep_shapes,
         sample_shapes, progress, cluster, t_start):  # fmt: skip
    total = problem.grid.size
    writer = None
    memory = None
    shape_rows = []
    counts: dict[str, int] = {}
    x_row = max(math.prod(problem.x_shape(g[2])) for g in problem.groups)
    x_dtype = np.dtype(problem.dtype)
    meta["shape"] = [x_row] if problem.kind == "chain" else list(problem.x_shape(None))
    meta["shape_row_bytes"] = x_row * x_dtype.itemsize
    done = start_rows
    bar = sweepio.Progress(total, done, enabled=progress and cluster.is_writer)
    if path is not None and start_rows >= total:
        pass  # a finished sweep: its files stay as they are
    elif cluster.is_writer and path is not None:
        from catenax.io.files import atomic_write

        text = json.dumps(_jsonable({**meta, "complete": False}), indent=1) + "\n"
        if start_rows == 0 and start_end is None:
            for stale in (sweepio.npz_path(path), sweepio.shapes_path(path)):
                stale.unlink(missing_ok=True)
        atomic_write(sweepio.meta_path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))
        writer = sweepio.TableWriter(
            path, engine.columns, _kinds_for(engine.columns), fmt, start_rows,
            shapes=meta["shape_row_bytes"] if keep_shapes else None, start_end=start_end,
        )  # fmt: skip
    elif cluster.is_writer:
        memory = {c: [] for c in (*engine.columns, "stable?")}
    interrupted = False
    try:
        with sweepio.sigterm_as_interrupt():
            done = _loop(
                engine, chunks, start_rows, total, cluster, writer, memory, shape_rows,
                keep_shapes, counts, bar, x_row,
            )  # fmt: skip
    except KeyboardInterrupt:
        interrupted = True
        done = writer.rows if writer is not None else done
    finally:
        bar.close()
        if writer is not None:
            done = writer.rows
            writer.close()
            _finish_files(path, meta, done, total, keep_shapes, problem, x_row, x_dtype)
    if interrupted:
        raise SweepInterrupted(done, total, path)
    table = positions = None
    if memory is not None:
        table = {c: _concat(v) for c, v in memory.items() if not c.endswith("?")}
        miss = _concat(memory["stable?"])
        if "stable" in table and miss.size:
            table["stable"] = np.where(miss, None, table["stable"]).astype(object)
        if keep_shapes:
            positions = _stack_shapes(shape_rows, problem)
    sample = None
    if sample_shapes and cluster.is_writer:
        sample = _sample(engine, problem, total, sample_shapes)
    elapsed = time.perf_counter() - t_start
    return SweepResult(
        n_cases=total,
        done=done,
        counts=counts,
        elapsed=elapsed,
        cases_per_second=bar.rate(),
        columns=engine.columns,
        axes=problem.grid.axes,
        path=path,
        table=table,
        positions=positions,
        sample=sample,
        resumed_from=start_rows,
        meta=meta,
    )


def _kinds_for(columns):
    return {c: _KINDS.get(c, "float") for c in columns}


def _concat(parts):
    return np.concatenate(parts) if parts else np.zeros(0)


def _stack_shapes(rows, problem):
    if not rows:
        return np.zeros((0, *problem.x_shape(problem.groups[0][2])))
    if len({r.shape[1:] for r in rows}) == 1:
        return np.concatenate(rows)
    return rows


def _items(engine, problem, chunks, ids):
    for j in ids:
        start, stop, _ = chunks[j]
        yield j, np.arange(start, stop), problem.inputs(start, stop)


def _my_chunks(engine, problem, chunks, ids):
    """Solve this process's chunks in order, group by group: yields ``(j, results)``."""
    run: list = []
    for j in ids:
        if run and chunks[run[-1]][2] != chunks[j][2]:
            yield from engine.solve(_items(engine, problem, chunks, run), chunks[run[-1]][2])
            run = []
        run.append(j)
    if run:
        yield from engine.solve(_items(engine, problem, chunks, run), chunks[run[-1]][2])


def _loop(engine, chunks, start_rows, total, cluster, writer, memory, shape_rows, keep_shapes,
          counts, bar, x_row):  # fmt: skip
    """Solve and write chunks from the one holding case ``start_rows`` on."""
    first = chunks.containing(start_rows)
    n_chunks = len(chunks)
    P, p = cluster.num_processes, cluster.process_id
    rounds = -(-(n_chunks - first) // P) if n_chunks > first else 0
    mine = [first + r * P + p for r in range(rounds) if first + r * P + p < n_chunks]
    results = _my_chunks(engine, engine.problem, chunks, mine)
    done = start_rows
    keep_x = keep_shapes
    for r in range(rounds):
        j_mine = first + r * P + p
        if j_mine < n_chunks:
            j, local = next(results)
        else:  # nothing left for this process: zeros, dropped by the writer
            local = engine.template(chunks[first][2])
        if P > 1:
            if not keep_x:
                local = {k: v for k, v in local.items() if k != "x"}
            gathered = cluster.allgather(local)
        else:
            gathered = {k: np.asarray(v)[None] for k, v in local.items()}
        if not cluster.is_writer:
            continue
        for q in range(P):
            j = first + r * P + q
            if j >= n_chunks:
                break
            start, stop, static = chunks[j]
            out = {k: v[q] for k, v in gathered.items()}
            cols, x = _rows(engine.problem, engine.columns, out, start, stop, keep_x)
            skip = max(0, done - start)
            if skip:
                cols = {k: v[skip:] for k, v in cols.items()}
                x = x[skip:] if x is not None else None
            names, nums = np.unique(cols["status"].astype(str), return_counts=True)
            for s, c in zip(names, nums, strict=True):
                counts[str(s)] = counts.get(str(s), 0) + int(c)
            if writer is not None:
                if x is not None:
                    x = x.reshape(len(x), -1)
                    if x.shape[1] < x_row:  # chains of several n: pad with NaN to the longest
                        x = np.pad(x, ((0, 0), (0, x_row - x.shape[1])), constant_values=np.nan)
                writer.append({k: cols[k] for k in (*engine.columns, "stable?")}, x)
            else:
                for k in memory:
                    memory[k].append(cols[k])
                if x is not None:
                    shape_rows.append(x)
            done = stop
            bar.update(done)
    return done


def _finish_files(path, meta, done, total, keep_shapes, problem, x_row, x_dtype):
    from catenax.io.files import atomic_write

    complete = done >= total
    if keep_shapes:
        raw = sweepio.shapes_path(path)
        shape = tuple(meta["shape"])
        sweepio.write_npz(
            sweepio.npz_path(path), raw, done, shape, x_dtype,
            lambda a, b: problem.columns(a, b) | {"case": np.arange(a, b, dtype=np.int64)},
        )  # fmt: skip
        if complete:
            raw.unlink(missing_ok=True)
    text = json.dumps(_jsonable({**meta, "complete": complete, "cases_done": done}), indent=1)
    atomic_write(sweepio.meta_path(path), lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


def _sample(engine, problem, total, k):
    """Positions of ``k`` cases spread evenly over the grid (solved again, for figures)."""
    idx = np.unique(np.linspace(0, total - 1, min(k, total)).round().astype(np.int64))
    positions, cases = [], []
    for g_start, g_stop, static in problem.groups:
        sel = idx[(idx >= g_start) & (idx < g_stop)]
        items = []
        for a in range(0, len(sel), engine.batch):
            part = sel[a : a + engine.batch]
            parts = [problem.inputs(int(i), int(i) + 1) for i in part]
            inp = _stack(parts)
            items.append((a, part, inp))
        for a, res in engine.solve(items, static):
            n = len(sel[a : a + engine.batch])
            positions.extend(np.asarray(res["x"][:n]))
            cases.extend(sel[a : a + n].tolist())
    cols = {name: np.concatenate([problem.columns(i, i + 1)[name] for i in cases])
            for name in problem.param_columns}  # fmt: skip
    return {"case": np.asarray(cases, np.int64), "positions": positions, **cols}


def _stack(parts):
    import jax

    return jax.tree.map(lambda *xs: np.concatenate(xs), *parts)
