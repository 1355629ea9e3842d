"""A sweep's run: chunks solved in order (round-robin over processes), rows streamed out.

Process ``p`` of ``P`` solves chunks ``p, p + P, ...`` from the one holding the
first case not yet written; each round's chunks are gathered with JAX collectives
and process 0 writes them in case order (:class:`catenax.io.tables.TableWriter`),
or keeps them in memory without ``out``. ``.meta.json`` is written before the
first chunk (``complete: false``) and after the last, and the ``.npz`` of shapes
is assembled whenever the sweep stops, cleanly or not.
"""

from __future__ import annotations

import json
import math
import time

import jax
import numpy as np

from catenax.errors import SweepInterrupted
from catenax.io import TableWriter, atomic_write, meta_path, npz_path, shapes_path, write_npz
from catenax.solve import CONVERGED, STATUSES

from .lanes import Chunks
from .progress import Progress, sigterm_as_interrupt
from .result import SweepResult, kinds_for
from .resume import jsonable

__all__ = ["run_sweep"]


def run_sweep(engine, problem, meta, path, start_rows, start_end, keep_shapes, sample_shapes,
              progress, cluster, t_start) -> SweepResult:  # fmt: skip
    """Solve the cases from ``start_rows`` on and write (or keep) their rows.

    Args:
        engine: the engine (its ``columns`` set).
        problem: the cases.
        meta: the ``.meta.json`` content so far.
        path: the table file, or ``None`` (keep the rows in memory).
        start_rows, start_end: rows already in ``path`` and where they end
            (``None``: a new file).
        keep_shapes, sample_shapes, progress, cluster: as :func:`catenax.sweep`.
        t_start: when the sweep started (``time.perf_counter``).

    Returns:
        The :class:`~catenax.sweeps.result.SweepResult`.

    Raises:
        SweepInterrupted: Ctrl-C or SIGTERM; the finished chunks are written.
    """
    total = problem.grid.size
    x_row = max(math.prod(problem.x_shape(g[2])) for g in problem.groups)
    x_dtype = np.dtype(problem.dtype)
    meta["shape"] = [x_row] if problem.kind == "chain" else list(problem.x_shape(None))
    meta["shape_row_bytes"] = x_row * x_dtype.itemsize
    sink = _Sink(engine, path, start_rows, start_end, keep_shapes, cluster, x_row)
    sink.open(meta, total)
    counts: dict[str, int] = {}
    done = start_rows
    bar = Progress(total, done, enabled=progress and cluster.is_writer and done < total)
    bar.start()  # before the first chunk compiles
    interrupted = False
    try:
        with sigterm_as_interrupt():
            done = _loop(engine, Chunks(problem.groups, engine.batch), start_rows, cluster, sink,
                         counts, bar)  # fmt: skip
    except KeyboardInterrupt:
        interrupted = True
        done = sink.writer.rows if sink.writer is not None else done
    finally:
        bar.close()
        if sink.writer is not None:
            done = sink.writer.rows
            sink.writer.close()
            _finish_files(path, meta, done, total, keep_shapes, problem, x_dtype)
    if interrupted:
        raise SweepInterrupted(done, total, path)
    table, positions = sink.table(problem)
    sample = None
    if sample_shapes and cluster.is_writer:
        sample = _sample(engine, problem, total, sample_shapes)
    return SweepResult(
        n_cases=total, done=done, counts=counts, elapsed=time.perf_counter() - t_start,
        cases_per_second=bar.rate(), columns=engine.columns, axes=problem.grid.axes, path=path,
        table=table, positions=positions, sample=sample, resumed_from=start_rows, meta=meta,
    )  # fmt: skip


class _Sink:
    """Where process 0 puts finished rows: the table file, or memory."""

    def __init__(self, engine, path, start_rows, start_end, keep_shapes, cluster, x_row):
        self.engine, self.path, self.keep_shapes = engine, path, keep_shapes
        self.start_rows, self.start_end = start_rows, start_end
        self.cluster, self.x_row = cluster, x_row
        self.writer = self.memory = None
        self.shape_rows: list = []

    def open(self, meta, total):
        """Write ``.meta.json`` (``complete: false``) and open the table, or the memory."""
        path, start_rows = self.path, self.start_rows
        if path is not None and start_rows >= total:
            return  # a finished sweep: its files stay as they are
        if not self.cluster.is_writer:
            return
        if path is None:
            self.memory = {c: [] for c in (*self.engine.columns, "stable?")}
            return
        text = json.dumps(jsonable({**meta, "complete": False}), indent=1) + "\n"
        if start_rows == 0 and self.start_end is None:
            for stale in (npz_path(path), shapes_path(path)):
                stale.unlink(missing_ok=True)
        atomic_write(meta_path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))
        self.writer = TableWriter(
            path, self.engine.columns, kinds_for(self.engine.columns), meta["format"], start_rows,
            shapes=meta["shape_row_bytes"] if self.keep_shapes else None,
            start_end=self.start_end,
        )  # fmt: skip

    def append(self, cols, x):
        """One chunk's rows (and positions, with ``keep_shapes``)."""
        if self.writer is not None:
            if x is not None:
                x = x.reshape(len(x), -1)
                if x.shape[1] < self.x_row:  # chains of several n: pad with NaN to the longest
                    x = np.pad(x, ((0, 0), (0, self.x_row - x.shape[1])), constant_values=np.nan)
            self.writer.append({k: cols[k] for k in (*self.engine.columns, "stable?")}, x)
        else:
            for k in self.memory:
                self.memory[k].append(cols[k])
            if x is not None:
                self.shape_rows.append(x)

    def table(self, problem):
        """``(table, positions)`` kept in memory (``None`` when written to a file)."""
        if self.memory is None:
            return None, None
        memory = self.memory
        table = {c: _concat(v) for c, v in memory.items() if not c.endswith("?")}
        miss = _concat(memory["stable?"])
        if "stable" in table and miss.size:
            table["stable"] = np.where(miss, None, table["stable"]).astype(object)
        positions = _stack_shapes(self.shape_rows, problem) if self.keep_shapes else None
        return table, positions


def _rows(problem, columns, out, start, stop, keep_x):
    """Host columns of a finished chunk (and its positions, when asked)."""
    n = stop - start
    cols = {"case": np.arange(start, stop, dtype=np.int64)}
    cols.update(problem.columns(start, stop))
    status = np.asarray(out["status"][:n])
    cols["status"] = np.asarray(STATUSES, dtype=object)[status]
    cols["converged"] = status == CONVERGED
    for name in columns[len(problem.param_columns) + 3 :]:
        cols[name] = np.asarray(out[name][:n])
    cols["stable"] = np.asarray(out["stable"][:n])
    cols["stable?"] = np.asarray(out["stable?"][:n])
    x = np.asarray(out["x"][:n]) if keep_x else None
    return cols, x


def _concat(parts):
    return np.concatenate(parts) if parts else np.zeros(0)


def _stack_shapes(rows, problem):
    if not rows:
        return np.zeros((0, *problem.x_shape(problem.groups[0][2])))
    if len({r.shape[1:] for r in rows}) == 1:
        return np.concatenate(rows)
    return rows


def _items(problem, chunks, ids):
    for j in ids:
        start, stop, _ = chunks[j]
        yield j, np.arange(start, stop), problem.inputs(start, stop)


def _my_chunks(engine, problem, chunks, ids):
    """Solve this process's chunks in order, group by group: yields ``(j, results)``."""
    run: list = []
    for j in ids:
        if run and chunks[run[-1]][2] != chunks[j][2]:
            yield from engine.solve(_items(problem, chunks, run), chunks[run[-1]][2])
            run = []
        run.append(j)
    if run:
        yield from engine.solve(_items(problem, chunks, run), chunks[run[-1]][2])


def _gather(engine, cluster, local, keep_x):
    """Every process's results of this round, stacked along a leading process axis."""
    if cluster.num_processes > 1:
        if not keep_x:
            local = {k: v for k, v in local.items() if k != "x"}
        return cluster.allgather(local)
    return {k: np.asarray(v)[None] for k, v in local.items()}


def _loop(engine, chunks, start_rows, cluster, sink, counts, bar):
    """Solve and write chunks from the one holding case ``start_rows`` on."""
    first = chunks.containing(start_rows)
    n_chunks = len(chunks)
    P, p = cluster.num_processes, cluster.process_id
    rounds = -(-(n_chunks - first) // P) if n_chunks > first else 0
    mine = [first + r * P + p for r in range(rounds) if first + r * P + p < n_chunks]
    results = _my_chunks(engine, engine.problem, chunks, mine)
    done = start_rows
    keep_x = sink.keep_shapes
    for r in range(rounds):
        if first + r * P + p < n_chunks:
            _, local = next(results)
        else:  # nothing left for this process: zeros, dropped by the writer
            local = engine.template(chunks[first][2])
        gathered = _gather(engine, cluster, local, keep_x)
        if not cluster.is_writer:
            continue
        for q in range(P):
            j = first + r * P + q
            if j >= n_chunks:
                break
            start, stop, _ = chunks[j]
            out = {k: v[q] for k, v in gathered.items()}
            cols, x = _rows(engine.problem, engine.columns, out, start, stop, keep_x)
            skip = max(0, done - start)
            if skip:
                cols = {k: v[skip:] for k, v in cols.items()}
                x = x[skip:] if x is not None else None
            names, nums = np.unique(cols["status"].astype(str), return_counts=True)
            for s, c in zip(names, nums, strict=True):
                counts[str(s)] = counts.get(str(s), 0) + int(c)
            sink.append(cols, x)
            done = stop
            bar.update(done)
    return done


def _finish_files(path, meta, done, total, keep_shapes, problem, x_dtype):
    """Assemble the ``.npz`` and write the final ``.meta.json``."""
    complete = done >= total
    if keep_shapes:
        raw = shapes_path(path)
        shape = tuple(meta["shape"])
        write_npz(
            npz_path(path), raw, done, shape, x_dtype,
            lambda a, b: problem.columns(a, b) | {"case": np.arange(a, b, dtype=np.int64)},
        )  # fmt: skip
        if complete:
            raw.unlink(missing_ok=True)
    text = json.dumps(jsonable({**meta, "complete": complete, "cases_done": done}), indent=1)
    atomic_write(meta_path(path), lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


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
            items.append((a, part, _stack(parts)))
        for a, res in engine.solve(items, static):
            n = len(sel[a : a + engine.batch])
            positions.extend(np.asarray(res["x"][:n]))
            cases.extend(sel[a : a + n].tolist())
    cols = {name: np.concatenate([problem.columns(i, i + 1)[name] for i in cases])
            for name in problem.param_columns}  # fmt: skip
    return {"case": np.asarray(cases, np.int64), "positions": positions, **cols}


def _stack(parts):
    return jax.tree.map(lambda *xs: np.concatenate(xs), *parts)
