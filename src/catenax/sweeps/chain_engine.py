"""Sweeps of the lesson chain with newton: a whole chunk of cases per call, batched by hand.

Under ``vmap`` every ``lax.cond`` of newton's step runs both of its branches and
every inner loop runs as long as its slowest lane, so a vmapped batch of convex
chains pays for the indefinite-Hessian branch on every step. For the chain,
whose Hessian is tridiagonal, the step is written here for a whole batch at once:
heights are held as ``(N, L)`` arrays (``L`` lanes; conditions on "any lane" are
real branches), and in every iteration of one ``while_loop``

1. lanes whose case has stopped write their result to the chunk's output and are
   refilled with the chunk's next case (so the loop costs about the mean number of
   steps of the cases, not the maximum);
2. every running lane whose Hessian is positive definite — nearly every step of
   a convex case — takes newton's step: the same test as
   :class:`~catenax.solvers.Newton` (:func:`catenax.solvers.newton.positive_definite`:
   diagonal dominance, else the signs of the LDLᵀ pivots of ``H - tau I``), an
   elementwise LDLᵀ (Thomas) solve, and newton's own line search
   (:func:`catenax.solvers.newton.backtrack`): the full step for every lane, the
   halvings only for the lanes that need them;
3. the other running lanes (indefinite Hessian) are gathered in groups of
   :data:`GROUP` and take newton's own step under ``vmap``. Both the halvings
   and this branch cost in proportion to the lanes that need them
   (:func:`~catenax.sweeps.chain_verdict.on_lanes`), not to the batch.

Then the driver's rules (:mod:`catenax.solve`) set each lane's status
(:mod:`catenax.sweeps.chain_run` holds the loop).
A case's numbers depend only on its own parameters, never on its neighbours or on
how the cases are split into chunks, lanes or devices.

The stability verdict at the result and at the flat start:
:mod:`catenax.sweeps.chain_verdict`.
"""

from __future__ import annotations

import jax
import numpy as np

from catenax.solvers import Newton

from .chain_run import GROUP, chunk_runner
from .lanes import Engine, _remember

__all__ = ["CHUNK", "GROUP", "LANES", "ChainEngine", "default_chunk", "eligible"]

#: Lanes per device of the batch that runs the chain's while_loop (256: the
#: fastest of 128..2048 on the benchmark's 2-core CPU, small enough for its caches).
LANES = 256
#: Default cases per device in one call (64 rounds of the lanes).
CHUNK = 16384


def eligible(problem, settings) -> bool:
    """Whether a sweep runs on :class:`ChainEngine`: the lesson chain with newton's
    tridiagonal path and no multistart.

    Args:
        problem: the sweep's problem (:mod:`catenax.sweeps.cases`).
        settings: the sweep's :class:`~catenax.sweeps.settings.SolverSettings`
            (``method``, ``multistart``, ...).

    Returns:
        ``True`` or ``False``.

    Example:
        >>> from types import SimpleNamespace
        >>> from catenax.solvers import Newton
        >>> class P:
        ...     kind = "chain"
        >>> eligible(P(), SimpleNamespace(method=Newton(), multistart=None))
        True
    """
    method = settings.method
    return (
        getattr(problem, "kind", None) == "chain"
        and isinstance(method, Newton)
        and method.linear_solver in ("auto", "tridiagonal")
        and settings.multistart is None
    )


def default_chunk(n_devices: int, total: int) -> int:
    """Cases per device in one call: :data:`CHUNK`, a fair share, or all of a small sweep.

    A sweep of up to ``4 * LANES`` cases stays on the first device: the others
    would each compile the program (seconds) for a few cases.

    Args:
        n_devices: devices over all processes.
        total: cases in the sweep.

    Returns:
        The chunk size per device (at least 1).

    Example:
        >>> default_chunk(1, 10**6), default_chunk(2, 10**5), default_chunk(4, 100)
        (16384, 16384, 100)
    """
    fair = -(-total // n_devices)
    return max(1, min(CHUNK, total, max(4 * LANES, fair)))


class ChainEngine(Engine):
    """:class:`~catenax.sweeps.lanes.Engine` for chain sweeps with newton (see the module).

    ``chunk_size`` is the number of cases per device in one call (default
    :func:`default_chunk`); each device runs :data:`LANES` lanes over its cases.

    Example:
        >>> import catenax
        >>> r = catenax.sweep(length="0.8,1.2")  # runs on ChainEngine
        >>> r.table["status"].tolist()
        ['converged', 'converged']
    """

    def compiled(self, static):
        s = self.s
        key = (
            "chain-engine", self.problem.cache_key, static, s.method, s.max_steps, s.check,
            s.stability, tuple(self.devices), self.chunk,
        )  # fmt: skip

        def build():
            dt = self.problem.dtype
            run = chunk_runner(static, s.method, s.max_steps, s.check, s.stability, dt, LANES)
            # One single-device program, run on every device with its own share of the
            # chunk: every device runs the same compiled code (an SPMD program may fuse,
            # and round, differently), so a case's numbers do not depend on the devices.
            fn = jax.jit(run)
            inp = np.zeros((self.chunk, 3), dt)
            tol = np.zeros((), dt)
            raw = jax.eval_shape(fn, inp, np.zeros(1, np.int32), tol, tol)
            shapes = {k: (self.batch, *v.shape[1:]) for k, v in raw.items()}
            template = self.host({k: np.zeros(shapes[k], v.dtype) for k, v in raw.items()})
            return (fn, None, None, None, template)

        return _remember(key, build)

    def solve(self, items, static, ahead=1):
        """Solve work items a chunk per call; yield ``(key, results)`` in item order.

        Args:
            items: ``(key, cases, inputs)`` with at most ``batch`` cases each.
            static: the chain's ``n``.
            ahead: calls dispatched before the oldest result is fetched.

        Yields:
            ``(key, results)`` with ``batch`` rows (rows past ``len(cases)`` are zero).
        """
        fn = self.compiled(static)[0]
        dt = self.problem.dtype
        rtol, atol = np.asarray(self.s.rtol, dt), np.asarray(self.s.atol, dt)
        per = self.chunk
        pending: list = []
        for key, cases, inp in items:
            m = len(cases)
            full = np.repeat(np.asarray(inp[:1], dt), self.batch, axis=0)  # padding: copies
            full[:m] = inp
            calls = []
            for d, dev in enumerate(self.devices):
                count = np.asarray([min(max(m - d * per, 0), per)], np.int32)
                if count[0] == 0 and d > 0:  # nothing for this device (a short chunk)
                    continue
                args = (full[d * per : (d + 1) * per], count, rtol, atol)
                calls.append(fn(*jax.device_put(args, dev)))  # asynchronous
            pending.append((key, calls))
            if len(pending) > ahead:
                yield self._fetch(*pending.pop(0))
        while pending:
            yield self._fetch(*pending.pop(0))

    def _fetch(self, key, calls):
        parts = jax.device_get(calls)
        raw = {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in parts[0]}
        short = self.batch - len(raw["status"])  # devices skipped: zero rows, never read
        if short:
            raw = {k: np.concatenate([v, np.zeros((short, *v.shape[1:]), v.dtype)])
                   for k, v in raw.items()}  # fmt: skip
        return key, self.host(raw)
