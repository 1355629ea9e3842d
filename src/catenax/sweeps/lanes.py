"""The batch engine of sweeps: lanes that run the driver's loop and are refilled.

A batch has ``L`` lanes (``chunk_size`` per device times the local devices; the
lane axis is sharded over the devices with a 1-D mesh). Each lane holds one case
(with ``multistart``: its K starts) and runs the driver's loop
(:func:`catenax.solve._make_run`) in segments of ``S`` steps:

1. ``start``: the loop's initial carry for new cases (vmapped over lanes);
2. ``advance``: up to ``S`` more steps of every lane, under ``vmap``: the
   ``lax.while_loop`` runs while any lane runs, and a lane whose own condition
   is false (stopped, or at its segment's end) keeps its carry unchanged — JAX's
   batching rule selects the old carry for it — so a finished or diverged case
   is frozen and never spoils its neighbours;
3. lanes whose case has stopped are harvested (their carry comes to the host),
   refilled with the next cases of the queue, and the harvested carries are
   finished in batches of ``L``: result, stability verdict (exact tridiagonal
   route for the chain, Lanczos for networks), saddle check, summary numbers.

So a batch costs about the mean number of steps of its cases, not the maximum
(a sweep of the lesson chain through ``l = 1`` has median 7 steps and a tail
of 120). Every lane computes elementwise, so a case's numbers depend only on its
own values and on ``L`` per device, never on its neighbours, the segment length
or when it was refilled: outputs are the same bit for bit across devices,
processes and resumed runs.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict, deque
from dataclasses import dataclass

import numpy as np

__all__ = ["Chunks", "Engine"]


def status_codes():
    """The driver's integer status codes and names.

    Returns:
        ``(CONVERGED, DIVERGED, SADDLE, RUNNING, STATUSES)``.

    Example:
        >>> status_codes()[4][status_codes()[0]]
        'converged'
    """
    from catenax.solve.driver import CONVERGED, DIVERGED, RUNNING, SADDLE, STATUSES

    return CONVERGED, DIVERGED, SADDLE, RUNNING, STATUSES


def _lane_functions(problem, static, method, max_steps, check, multistart, noise, scale, stab):
    """``start``, ``advance`` and ``finish`` of one lane (vmapped by the caller).

    ``finish`` returns raw per-start results (leading K axis with multistart):
    the driver's status, steps, energy, grad_max, positions, summary numbers and
    the verdict data of the problem (``lmin``/``lmax``, or Lanczos coefficients),
    at the result and (suffix ``0``) at the start; :func:`host_results` turns
    them into the table's columns.
    """
    import jax
    import jax.numpy as jnp

    from catenax.solve.driver import _make_run

    running = status_codes()[3]
    run = _make_run(problem.energy, method, max_steps, None, check, history=False)
    make_case = problem.make_case(static)
    eigen = problem.eigen(static) if stab else None
    starts = (0, None, None, None, None)

    def x0s_of(x0, free):
        s = scale
        if s is None:  # x0 varies from case to case: minimize's default scale, here
            x = x0.reshape(x0.shape[0], -1) if x0.ndim > 1 else x0
            s = 0.5 * jnp.maximum(1.0, jnp.sqrt(jnp.mean((x - jnp.mean(x, axis=0)) ** 2)))
        return x0[None] + s * noise * free[None]

    def start(inp, rtol, atol):
        x0, params, free = make_case(inp)
        if multistart is None:
            return run.start(x0, params, free, rtol, atol)
        return jax.vmap(run.start, in_axes=starts)(x0s_of(x0, free), params, free, rtol, atol)

    def advance(carry, inp, segment, rtol, atol):
        _, params, free = make_case(inp)
        until = carry[0] + segment
        if multistart is None:
            carry = run.advance(carry, until, params, free, rtol, atol)
        else:
            carry = jax.vmap(run.advance, in_axes=(0, 0, None, None, None, None))(
                carry, until, params, free, rtol, atol
            )
        return carry, jnp.all(carry[5] != running)

    def finish(carry, inp, rtol, atol):
        x0, params, free = make_case(inp)

        def one(c):
            out = run.finish(c, params, free, rtol, atol)
            lowest, top = problem.summary(out["x"], params)
            res = {
                "status": out["status"], "steps": out["steps"], "energy": out["e"],
                "grad_max": out["gmax"], "lowest": lowest, "max_tension": top, "x": out["x"],
            }  # fmt: skip
            if eigen is not None:
                res.update(eigen(out["x"], params, free))
            return res

        res = one(carry) if multistart is None else jax.vmap(one)(carry)
        if eigen is not None:
            res.update({k + "0": v for k, v in eigen(x0, params, free).items()})
        return res

    return start, advance, finish


def host_results(raw: dict, dtype, stability: bool, multistart) -> dict:
    """The table's columns from the raw results of ``finish`` (host, NumPy).

    The verdict is :func:`catenax.stability_verdict`'s: ``stable`` unless
    ``min_eigenvalue < -sqrt(eps) * max(|min|, |max|)``; a converged case that is
    not stable becomes ``saddle``; a diverged one has no verdict. With multistart
    the lowest stable minimum is picked as :func:`catenax.minimize` does.

    Args:
        raw: arrays with a leading lane axis (and a start axis with multistart).
        dtype: the run's float dtype (sets ``eps``).
        stability: whether verdict data is present.
        multistart: K, or ``None``.

    Returns:
        ``{column: array}`` with one row per lane.
    """
    converged, diverged, saddle, _, _ = status_codes()
    eps = float(np.finfo(dtype).eps)
    status = np.asarray(raw["status"]).copy()
    out = {k: np.asarray(raw[k]) for k in ("steps", "energy", "grad_max", "lowest", "max_tension")}
    out["x"] = np.asarray(raw["x"])
    if stability:
        lmin, lmax = _extremes(raw, "")
        thr = math.sqrt(eps) * np.maximum(np.abs(lmin), np.abs(lmax))
        with np.errstate(invalid="ignore"):
            stable = np.isfinite(lmin) & (lmin >= -thr)
        div = status == diverged
        lmin, lmax = np.where(div, np.nan, lmin), np.where(div, np.nan, lmax)
        status = np.where((status == converged) & ~stable, saddle, status)
        out.update(min_eigenvalue=lmin, max_eigenvalue=lmax, stable=stable & ~div)
        out["stable?"] = div
    else:
        nan = np.full(status.shape, np.nan)
        out.update(min_eigenvalue=nan, max_eigenvalue=nan, stable=np.zeros(status.shape, bool))
        out["stable?"] = np.ones(status.shape, bool)
    out["status"] = status
    if multistart is not None:
        out = _pick(out, converged, eps)
    out["start_min_eigenvalue"] = (
        _extremes(raw, "0")[0] if stability else np.full(len(status), np.nan)
    )
    return out


def _extremes(raw, suffix):
    if "lmin" + suffix in raw:
        return np.asarray(raw["lmin" + suffix], float), np.asarray(raw["lmax" + suffix], float)
    from catenax.solve.stability import _valid_length

    a, b = np.asarray(raw["ritz_a" + suffix], float), np.asarray(raw["ritz_b" + suffix], float)
    steps = a.shape[-1]
    lmin, lmax = np.empty(a.shape[:-1]), np.empty(a.shape[:-1])
    for i in np.ndindex(*a.shape[:-1]):
        k = _valid_length(b[i], steps)
        t = np.diag(a[i][:k]) + np.diag(b[i][: k - 1], 1) + np.diag(b[i][: k - 1], -1)
        ev = np.linalg.eigvalsh(t)
        lmin[i], lmax[i] = ev[0], ev[-1]
    return lmin, lmax


def _pick(res, converged, eps):
    """Per lane, the lowest stable minimum of its K starts, as minimize's ``_pick``."""
    n, k = res["status"].shape
    xs = res["x"].reshape(n, k, -1).astype(float)
    conv = res["status"] == converged
    tol_x = 100 * math.sqrt(eps) * (1.0 + np.max(np.abs(xs), axis=2, initial=0.0))
    rep = np.zeros((n, k), bool)
    for i in range(k):  # greedy clustering in start order
        seen = np.zeros(n, bool)
        for j in range(i):
            d = np.max(np.abs(xs[:, j] - xs[:, i]), axis=1, initial=0.0)
            seen |= rep[:, j] & (d <= tol_x[:, i])
        rep[:, i] = conv[:, i] & ~seen
    energy = res["energy"].astype(float)
    e_rep = np.where(rep, energy, np.inf)
    e_any = np.where(np.isfinite(energy), energy, np.inf)
    best = np.where(rep.any(axis=1), np.argmin(e_rep, axis=1), np.argmin(e_any, axis=1))
    lanes = np.arange(n)
    out = {key: v[lanes, best] for key, v in res.items()}
    out["n_minima"] = rep.sum(axis=1).astype(np.int32)
    out["start"] = best.astype(np.int32)
    return out


def _where(mask, new, old):
    """Rows of ``new`` where ``mask`` (one flag per lane), else rows of ``old``."""
    return np.where(mask.reshape(mask.shape + (1,) * (new.ndim - 1)), new, old)


#: Jitted lane functions, reused by later sweeps of the same problem and settings.
_COMPILED: OrderedDict = OrderedDict()


def _remember(key, build):
    """``build()`` once per ``key``, kept among the 16 most recently used in :data:`_COMPILED`."""
    if key in _COMPILED:
        _COMPILED.move_to_end(key)
        return _COMPILED[key]
    _COMPILED[key] = build()
    while len(_COMPILED) > 16:
        _COMPILED.popitem(last=False)
    return _COMPILED[key]


@dataclass
class Chunks:
    """Chunks of case indices of ``size`` cases, aligned to each group (``n``) of the grid."""

    groups: list
    size: int

    def __post_init__(self):
        self.counts = [-(-(b - a) // self.size) for a, b, _ in self.groups]
        self.offsets = np.cumsum([0, *self.counts])

    def __len__(self):
        return int(self.offsets[-1])

    def __getitem__(self, j):
        g = int(np.searchsorted(self.offsets, j, side="right") - 1)
        a, b, static = self.groups[g]
        start = a + (j - int(self.offsets[g])) * self.size
        return start, min(start + self.size, b), static

    def containing(self, case: int) -> int:
        """The chunk that holds ``case`` (``len(self)`` past the end)."""
        for g, (a, b, _) in enumerate(self.groups):
            if a <= case < b:
                return int(self.offsets[g]) + (case - a) // self.size
        return len(self)


class Engine:
    """Compiled lane functions over the local devices and the scheduler that feeds them.

    Args:
        problem: a :class:`~catenax.sweepcases.ChainProblem` or ``ScenarioProblem``.
        settings: ``method``, ``max_steps``, ``check``, ``rtol``, ``atol``,
            ``multistart``, ``seed``, ``perturbation``, ``stability``.
        chunk_size: lanes per device.
        devices: the local devices (default all), or how many of them.
    """

    def __init__(self, problem, settings, chunk_size, devices=None):
        import jax

        self.problem = problem
        self.s = settings
        local = jax.local_devices()
        if devices is None:
            devices = local
        elif isinstance(devices, int):
            if not 1 <= devices <= len(local):
                raise ValueError(
                    f"devices: {devices} is not between 1 and the {len(local)} local devices"
                )
            devices = local[:devices]
        self.devices = list(devices)
        self.chunk = chunk_size
        self.batch = chunk_size * len(self.devices)  # lanes, and cases per output chunk
        self.segment = 4

    # -- compiled functions -----------------------------------------------------
    def compiled(self, static):
        """``(start, advance, finish, put, template)`` for a group, compiled once."""
        s = self.s
        key = (
            self.problem.cache_key, static, s["method"], s["max_steps"], s["check"],
            s["multistart"], s["seed"], s["perturbation"], s["stability"], tuple(self.devices),
            self.batch,
        )  # fmt: skip

        def build():
            import jax
            from jax.sharding import Mesh, NamedSharding, PartitionSpec

            from catenax.solve.driver import _perturbation_scale

            noise = scale = None
            if s["multistart"] is not None:
                shape = (s["multistart"], *self.problem.x_shape(static))
                noise = jax.random.normal(jax.random.key(s["seed"]), shape, self.problem.dtype)
                if s["perturbation"] is not None or not self.problem.varies_x0:
                    scale = _perturbation_scale(self.problem.base_x0(static), s["perturbation"])
            start, advance, finish = _lane_functions(
                self.problem, static, s["method"], s["max_steps"], s["check"], s["multistart"],
                noise, scale, s["stability"],
            )  # fmt: skip
            vstart = jax.vmap(start, in_axes=(0, None, None))
            vadvance = jax.vmap(advance, in_axes=(0, 0, None, None, None))
            vfinish = jax.vmap(finish, in_axes=(0, 0, None, None))
            if len(self.devices) > 1:
                mesh = Mesh(np.asarray(self.devices), ("case",))
                lane = NamedSharding(mesh, PartitionSpec("case"))
                rep = NamedSharding(mesh, PartitionSpec())
                fns = (
                    jax.jit(vstart, in_shardings=(lane, rep, rep), out_shardings=lane),
                    jax.jit(vadvance, in_shardings=(lane, lane, rep, rep, rep), out_shardings=lane),
                    jax.jit(vfinish, in_shardings=(lane, lane, rep, rep), out_shardings=lane),
                )
                put = functools.partial(jax.device_put, device=lane)
            else:
                fns = tuple(jax.jit(f) for f in (vstart, vadvance, vfinish))
                put = functools.partial(jax.device_put, device=self.devices[0])
            inp = self.problem.inputs(0, 1)
            inp = jax.tree.map(lambda a: np.repeat(a, self.batch, 0), inp)
            tol = np.zeros((), self.problem.dtype)
            carry = jax.eval_shape(vstart, inp, tol, tol)
            raw = jax.eval_shape(vfinish, carry, inp, tol, tol)
            raw = {k: np.zeros(v.shape, v.dtype) for k, v in raw.items()}
            template = self.host(raw)
            return (*fns, put, template)

        return _remember(key, build)

    def host(self, raw):
        """Table columns from raw ``finish`` results (see :func:`host_results`)."""
        s = self.s
        return host_results(raw, self.problem.dtype, s["stability"], s["multistart"])

    def template(self, static):
        """Zero results of one chunk (the shapes every process contributes)."""
        return {k: v.copy() for k, v in self.compiled(static)[4].items()}

    # -- the scheduler --------------------------------------------------------------
    def solve(self, items, static, ahead=4):
        """Solve work items with refilled lanes; yield ``(key, results)`` in item order.

        Args:
            items: an iterable of ``(key, cases, inputs)``: case indices (at most
                ``batch``) and their batched inputs; all of one group ``static``.
            static: the group (``n`` for chains).
            ahead: how many items may be in flight beyond the oldest unfinished one.

        Yields:
            ``(key, results)``: per-case result arrays with ``batch`` rows (rows
            past ``len(cases)`` are zero).
        """
        import jax

        start_fn, advance_fn, finish_fn, put, _ = self.compiled(static)
        dt = self.problem.dtype
        rtol, atol = np.asarray(self.s["rtol"], dt), np.asarray(self.s["atol"], dt)
        L = self.batch
        tmap = jax.tree.map
        items = iter(items)
        # The window: items in flight, oldest first; each [key, results, remaining].
        window: deque = deque()
        queue: deque = deque()  # [entry, rows, inputs, next row] not yet in a lane
        lane_entry = np.full(L, -1, np.int64)  # id of the entry a lane works for
        lane_row = np.zeros(L, np.int64)
        entries: dict = {}  # id -> entry
        next_id = 0
        lane_inp = carry = None
        done_buf: list = []  # (entry ids, rows, carries, inputs) harvested, not finished
        exhausted = False

        def fill_window():
            nonlocal exhausted, next_id
            while not exhausted and len(window) < ahead:
                try:
                    key, cases, inp = next(items)
                except StopIteration:
                    exhausted = True
                    return
                entry = [key, self.template(static), len(cases), next_id]
                entries[next_id] = entry
                next_id += 1
                window.append(entry)
                queue.append([entry, np.arange(len(cases)), inp, 0])

        def take(n):
            """Up to ``n`` queued cases: (entry ids, rows, inputs)."""
            ids, rows, inps = [], [], []
            while n > 0 and queue:
                entry, r, inp, pos = queue[0]
                k = min(n, len(r) - pos)
                ids.append(np.full(k, entry[3]))
                rows.append(r[pos : pos + k])
                inps.append(tmap(lambda a, pos=pos, k=k: a[pos : pos + k], inp))
                queue[0][3] += k
                n -= k
                if queue[0][3] == len(r):
                    queue.popleft()
            return np.concatenate(ids), np.concatenate(rows), _cat(inps)

        def finish(force):
            nonlocal done_buf
            n_buf = sum(len(b[0]) for b in done_buf)
            while n_buf >= L or (force and n_buf):
                ids, rows, cs, ins = (
                    np.concatenate([b[0] for b in done_buf]),
                    np.concatenate([b[1] for b in done_buf]),
                    _cat([b[2] for b in done_buf]),
                    _cat([b[3] for b in done_buf]),
                )
                n = min(L, len(ids))
                tail = np.arange(n, len(ids))
                rest = (ids[n:], rows[n:], _take(cs, tail), _take(ins, tail))
                done_buf = [rest] if len(rest[0]) else []
                pad = np.concatenate([np.arange(n), np.zeros(L - n, np.int64)])
                res = jax.device_get(
                    finish_fn(put(_take(cs, pad)), put(_take(ins, pad)), rtol, atol)
                )
                res = self.host(_take(res, np.arange(n)))  # fmt: skip
                for e in np.unique(ids[:n]):
                    sel = np.nonzero(ids[:n] == e)[0]
                    entry = entries[int(e)]
                    for k, v in res.items():
                        entry[1][k][rows[sel]] = v[sel]
                    entry[2] -= len(sel)
                n_buf -= n

        fill_window()
        while True:
            free = np.nonzero(lane_entry < 0)[0]
            if len(free) and queue:
                ids, rows, inp = take(len(free))
                lanes = free[: len(ids)]
                if lane_inp is None:
                    lane_inp = tmap(lambda a: np.repeat(a[:1], L, 0), inp)
                for leaf, new in zip(jax.tree.leaves(lane_inp), jax.tree.leaves(inp), strict=True):
                    leaf[lanes] = new
                fresh = jax.device_get(start_fn(put(lane_inp), rtol, atol))
                if carry is None:
                    carry = fresh
                else:
                    for leaf, new in zip(
                        jax.tree.leaves(carry), jax.tree.leaves(fresh), strict=True
                    ):
                        leaf[lanes] = new[lanes]
                lane_entry[lanes], lane_row[lanes] = ids, rows
            busy = lane_entry >= 0
            if busy.any():
                seg = np.asarray(self.segment, np.int32)
                c_dev, done = advance_fn(put(carry), put(lane_inp), seg, rtol, atol)
                carry, done = jax.device_get((c_dev, done))
                carry = tmap(np.array, carry)  # writable host copies
                stopped = np.nonzero(busy & done)[0]
                n_busy = int(busy.sum())
                # Adapt the segment: longer when few lanes stop, shorter when many do.
                if len(stopped) * 8 < n_busy:
                    self.segment = min(self.segment * 2, 1024)
                elif len(stopped) * 2 > n_busy:
                    self.segment = max(self.segment // 2, 2)
                if len(stopped):
                    done_buf.append((
                        lane_entry[stopped].copy(), lane_row[stopped].copy(),
                        _take(carry, stopped), _take(lane_inp, stopped),
                    ))  # fmt: skip
                    lane_entry[stopped] = -1
            finish(force=not queue)
            pending = set(np.unique(lane_entry[lane_entry >= 0]).tolist())
            pending |= {int(i) for b in done_buf for i in np.unique(b[0])}
            while window and window[0][2] == 0 and window[0][3] not in pending:
                entry = window.popleft()
                entries.pop(entry[3])
                yield entry[0], entry[1]
                fill_window()
            if not window and not queue and exhausted:
                return


def _take(tree, index):
    """Rows ``index`` of every leaf of a pytree of arrays."""
    import jax

    return jax.tree.map(lambda a: a[index], tree)


def _cat(trees):
    """Concatenate pytrees of arrays along their first axis."""
    import jax

    return jax.tree.map(lambda *a: np.concatenate(a), *trees)
