"""The batch engine of sweeps: lanes that run the driver's loop and are refilled.

A batch has ``L`` lanes (``chunk_size`` per device times the local devices; the
lane axis is sharded over the devices with a 1-D mesh). Each lane holds one case
(with ``multistart``: its K starts) and runs the driver's loop
(:func:`catenax.solve.make_run`, see :mod:`catenax.sweeps.lane_steps`) in segments
of ``S`` steps (the scheduler: :mod:`catenax.sweeps.scheduler`):

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
from collections import OrderedDict
from dataclasses import dataclass

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from catenax.solve import perturbation_scale

from .lane_steps import host_results, lane_functions
from .scheduler import Scheduler

__all__ = ["Chunks", "Engine"]


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
            self.problem.cache_key, static, s.method, s.max_steps, s.check, s.multistart, s.seed,
            s.perturbation, s.stability, tuple(self.devices), self.batch,
        )  # fmt: skip
        return _remember(key, lambda: self._build(static))

    def _noise(self, static):
        """The multistart perturbations ``(noise, scale)`` (``scale`` None: per case)."""
        s = self.s
        if s.multistart is None:
            return None, None
        shape = (s.multistart, *self.problem.x_shape(static))
        noise = jax.random.normal(jax.random.key(s.seed), shape, self.problem.dtype)
        scale = None
        if s.perturbation is not None or not self.problem.varies_x0:
            scale = perturbation_scale(self.problem.base_x0(static), s.perturbation)
        return noise, scale

    def _build(self, static):
        s = self.s
        noise, scale = self._noise(static)
        start, advance, finish = lane_functions(
            self.problem, static, s.method, s.max_steps, s.check, s.multistart, noise, scale,
            s.stability,
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

    def host(self, raw):
        """Table columns from raw ``finish`` results (see :func:`host_results`)."""
        return host_results(raw, self.problem.dtype, self.s.stability, self.s.multistart)

    def template(self, static):
        """Zero results of one chunk (the shapes every process contributes)."""
        return {k: v.copy() for k, v in self.compiled(static)[4].items()}

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
        yield from Scheduler(self, items, static, ahead).run()
