"""The scheduler of a sweep batch: lanes refilled with the next cases as theirs stop.

Work items (a chunk's cases and inputs) enter a window of at most ``ahead``
items. Their cases queue for lanes; every round, free lanes take queued cases
(``start``), every busy lane advances a segment of steps (``advance``), and lanes
whose case stopped are harvested. Harvested carries are finished ``L`` at a time
(``finish`` and :meth:`~catenax.sweeps.lanes.Engine.host`) and their rows written
into their item's results; an item leaves the window, in order, once all its
rows are in. The segment adapts: longer when few lanes stop, shorter when many do.
"""

from __future__ import annotations

from collections import deque

import jax
import numpy as np

__all__ = ["Scheduler", "take_rows", "concat_rows"]


def take_rows(tree, index):
    """Rows ``index`` of every leaf of a pytree of arrays."""
    return jax.tree.map(lambda a: a[index], tree)


def concat_rows(trees):
    """Concatenate pytrees of arrays along their first axis."""
    return jax.tree.map(lambda *a: np.concatenate(a), *trees)


class Scheduler:
    """One :meth:`~catenax.sweeps.lanes.Engine.solve` call: its queues, lanes and window.

    Args:
        engine: the :class:`~catenax.sweeps.lanes.Engine`.
        items: an iterable of ``(key, cases, inputs)``, all of one group ``static``.
        static: the group.
        ahead: how many items may be in flight beyond the oldest unfinished one.
    """

    def __init__(self, engine, items, static, ahead):
        self.engine = engine
        self.static = static
        self.start_fn, self.advance_fn, self.finish_fn, self.put, _ = engine.compiled(static)
        dt = engine.problem.dtype
        self.rtol = np.asarray(engine.s.rtol, dt)
        self.atol = np.asarray(engine.s.atol, dt)
        self.L = engine.batch
        self.items = iter(items)
        self.ahead = ahead
        # The window: items in flight, oldest first; each [key, results, remaining, id].
        self.window: deque = deque()
        self.queue: deque = deque()  # [entry, rows, inputs, next row] not yet in a lane
        self.lane_entry = np.full(self.L, -1, np.int64)  # id of the entry a lane works for
        self.lane_row = np.zeros(self.L, np.int64)
        self.entries: dict = {}  # id -> entry
        self.next_id = 0
        self.lane_inp = self.carry = None
        self.done_buf: list = []  # (entry ids, rows, carries, inputs) harvested, not finished
        self.exhausted = False

    def run(self):
        """Yield ``(key, results)`` in item order until every item is done."""
        self.fill_window()
        while True:
            self.load_lanes()
            self.advance()
            self.finish(force=not self.queue)
            yield from self.release()
            if not self.window and not self.queue and self.exhausted:
                return

    def fill_window(self):
        """Admit items until the window is full or the items run out."""
        while not self.exhausted and len(self.window) < self.ahead:
            try:
                key, cases, inp = next(self.items)
            except StopIteration:
                self.exhausted = True
                return
            entry = [key, self.engine.template(self.static), len(cases), self.next_id]
            self.entries[self.next_id] = entry
            self.next_id += 1
            self.window.append(entry)
            self.queue.append([entry, np.arange(len(cases)), inp, 0])

    def take(self, n):
        """Up to ``n`` queued cases: (entry ids, rows, inputs)."""
        ids, rows, inps = [], [], []
        queue = self.queue
        while n > 0 and queue:
            entry, r, inp, pos = queue[0]
            k = min(n, len(r) - pos)
            ids.append(np.full(k, entry[3]))
            rows.append(r[pos : pos + k])
            inps.append(jax.tree.map(lambda a, pos=pos, k=k: a[pos : pos + k], inp))
            queue[0][3] += k
            n -= k
            if queue[0][3] == len(r):
                queue.popleft()
        return np.concatenate(ids), np.concatenate(rows), concat_rows(inps)

    def load_lanes(self):
        """Start queued cases in the free lanes."""
        free = np.nonzero(self.lane_entry < 0)[0]
        if not (len(free) and self.queue):
            return
        ids, rows, inp = self.take(len(free))
        lanes = free[: len(ids)]
        if self.lane_inp is None:
            self.lane_inp = jax.tree.map(lambda a: np.repeat(a[:1], self.L, 0), inp)
        for leaf, new in zip(jax.tree.leaves(self.lane_inp), jax.tree.leaves(inp), strict=True):
            leaf[lanes] = new
        fresh = jax.device_get(self.start_fn(self.put(self.lane_inp), self.rtol, self.atol))
        if self.carry is None:
            self.carry = fresh
        else:
            for leaf, new in zip(jax.tree.leaves(self.carry), jax.tree.leaves(fresh), strict=True):
                leaf[lanes] = new[lanes]
        self.lane_entry[lanes], self.lane_row[lanes] = ids, rows

    def advance(self):
        """One segment of every busy lane; harvest the lanes whose case stopped."""
        busy = self.lane_entry >= 0
        if not busy.any():
            return
        engine = self.engine
        seg = np.asarray(engine.segment, np.int32)
        c_dev, done = self.advance_fn(
            self.put(self.carry), self.put(self.lane_inp), seg, self.rtol, self.atol
        )
        carry, done = jax.device_get((c_dev, done))
        self.carry = jax.tree.map(np.array, carry)  # writable host copies
        stopped = np.nonzero(busy & done)[0]
        n_busy = int(busy.sum())
        # Adapt the segment: longer when few lanes stop, shorter when many do.
        if len(stopped) * 8 < n_busy:
            engine.segment = min(engine.segment * 2, 1024)
        elif len(stopped) * 2 > n_busy:
            engine.segment = max(engine.segment // 2, 2)
        if len(stopped):
            self.done_buf.append((
                self.lane_entry[stopped].copy(), self.lane_row[stopped].copy(),
                take_rows(self.carry, stopped), take_rows(self.lane_inp, stopped),
            ))  # fmt: skip
            self.lane_entry[stopped] = -1

    def finish(self, force):
        """Finish harvested cases ``L`` at a time (all of them when ``force``)."""
        L = self.L
        n_buf = sum(len(b[0]) for b in self.done_buf)
        while n_buf >= L or (force and n_buf):
            buf = self.done_buf
            ids, rows = np.concatenate([b[0] for b in buf]), np.concatenate([b[1] for b in buf])
            cs, ins = concat_rows([b[2] for b in buf]), concat_rows([b[3] for b in buf])
            n = min(L, len(ids))
            tail = np.arange(n, len(ids))
            rest = (ids[n:], rows[n:], take_rows(cs, tail), take_rows(ins, tail))
            self.done_buf = [rest] if len(rest[0]) else []
            pad = np.concatenate([np.arange(n), np.zeros(L - n, np.int64)])
            res = jax.device_get(
                self.finish_fn(self.put(take_rows(cs, pad)), self.put(take_rows(ins, pad)),
                               self.rtol, self.atol)
            )  # fmt: skip
            self.store(ids[:n], rows[:n], self.engine.host(take_rows(res, np.arange(n))))
            n_buf -= n

    def store(self, ids, rows, res):
        """Write finished rows into their entries' results."""
        for e in np.unique(ids):
            sel = np.nonzero(ids == e)[0]
            entry = self.entries[int(e)]
            for k, v in res.items():
                entry[1][k][rows[sel]] = v[sel]
            entry[2] -= len(sel)

    def release(self):
        """Yield the oldest entries whose rows are all in, in order."""
        pending = set(np.unique(self.lane_entry[self.lane_entry >= 0]).tolist())
        pending |= {int(i) for b in self.done_buf for i in np.unique(b[0])}
        window = self.window
        while window and window[0][2] == 0 and window[0][3] not in pending:
            entry = window.popleft()
            self.entries.pop(entry[3])
            yield entry[0], entry[1]
            self.fill_window()
