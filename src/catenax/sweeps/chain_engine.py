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
   :class:`~catenax.solvers.Newton` (diagonal dominance, else the signs of the
   LDLᵀ pivots of ``H - tau I``), an elementwise LDLᵀ (Thomas) solve, and
   newton's own line search (:func:`~catenax.solvers.newton.backtrack`): the
   full step for every lane, the halvings only for the lanes that need them;
3. the other running lanes (indefinite Hessian) are gathered in groups of
   :data:`GROUP` and take newton's own step under ``vmap``. Both the halvings
   and this branch cost in proportion to the lanes that need them
   (:func:`_on_lanes`), not to the batch.

Then the driver's rules (:func:`catenax.solve._make_run`) set each lane's status.
A case's numbers depend only on its own parameters, never on its neighbours or on
how the cases are split into chunks, lanes or devices.

The stability verdict at the result uses Laguerre's iteration on the LDLᵀ
pivots, which converges monotonically (and cubically) to the lowest eigenvalue
from below the spectrum: exact to round-off, like the bisection route of
:func:`catenax.stability_verdict`. At the flat start ``y = 0`` every spring has
curvature ``c = K (1 - l)``, so the Hessian is ``c`` tridiag(-1, 2, -1), with the
eigenvalues ``4 c sin²(j pi / (2 (N + 1)))``, j = 1..N.
"""

from __future__ import annotations

import math

import numpy as np

from .cases import chain_summary
from .lanes import Engine, _remember

__all__ = ["CHUNK", "GROUP", "LANES", "ChainEngine", "default_chunk", "eligible"]

#: Lanes per device of the batch that runs the chain's while_loop (256: the
#: fastest of 128..2048 on the benchmark's 2-core CPU, small enough for its caches).
LANES = 256
#: Default cases per device in one call (64 rounds of the lanes).
CHUNK = 16384
#: Lanes gathered for one vmapped general newton step (indefinite Hessians).
GROUP = 128


def eligible(problem, settings) -> bool:
    """Whether a sweep runs on :class:`ChainEngine`: the lesson chain with newton's
    tridiagonal path and no multistart.

    Args:
        problem: the sweep's problem (:mod:`catenax.sweepcases`).
        settings: the sweep's settings (``method``, ``multistart``, ...).

    Returns:
        ``True`` or ``False``.

    Example:
        >>> from catenax.solvers import Newton
        >>> class P:
        ...     kind = "chain"
        >>> eligible(P(), {"method": Newton(), "multistart": None})
        True
    """
    from catenax.solvers.newton import Newton

    method = settings["method"]
    return (
        getattr(problem, "kind", None) == "chain"
        and isinstance(method, Newton)
        and method.linear_solver in ("auto", "tridiagonal")
        and settings["multistart"] is None
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


# -- the chain in (N, L) layout ---------------------------------------------------
def _terms(y, spring, length, mass_g):
    """Energy, gradient, spring curvatures and force scale; masses along axis 0."""
    import jax.numpy as jnp

    from catenax.model.chain import _curvature, _stretched_lengths

    d, s = _stretched_lengths(y, axis=0)
    ext = s - length
    e = 0.5 * spring * jnp.sum(ext**2, axis=0) + mass_g * jnp.sum(y, axis=0)
    f = spring * ext * d / s
    g = f[:-1] - f[1:] + mass_g
    fs = jnp.maximum(jnp.abs(mass_g), jnp.max(jnp.abs(spring * ext), axis=0))
    return e, g, _curvature(s, spring, length), fs


def _tridiagonal(c):
    """``(lower, diag)`` of the Hessian from the spring curvatures ``c`` (N + 1, L)."""
    import jax.numpy as jnp

    return jnp.concatenate([jnp.zeros_like(c[:1]), -c[1:-1]]), c[:-1] + c[1:]


def _upper(lower):
    import jax.numpy as jnp

    return jnp.concatenate([lower[1:], jnp.zeros_like(lower[:1])])


def _positive_definite(lower, diag, eps):
    """Newton's test: diagonally dominant, else no LDLᵀ pivot of ``H - tau I`` <= 0."""
    import jax
    import jax.numpy as jnp

    from catenax.solvers import tridiagonal as tri

    upper = _upper(lower)
    hscale = jnp.max(jnp.abs(diag) + jnp.abs(lower) + jnp.abs(upper), axis=0)
    tau = 64 * eps * hscale
    margin = diag - jnp.abs(lower) - jnp.abs(upper)
    cheap = (
        jnp.all(margin >= 0, axis=0)
        & jnp.any(margin > tau, axis=0)
        & jnp.all(jnp.abs(lower[1:]) > 0, axis=0)
        & jnp.all(diag > tau, axis=0)
    )
    # The pivots only where the cheap test fails (a real branch: lanes are batched by hand).
    return jax.lax.cond(
        jnp.all(cheap),
        lambda: cheap,
        lambda: cheap | ~jnp.any(tri.pivot_signs(lower, diag, tau), axis=0),
    )


def _lowest(lower, diag, max_iter=100):
    """Lowest eigenvalue of each lane's tridiagonal matrix by Laguerre's iteration.

    From ``sigma`` below Gershgorin's bound, ``sigma += n / (|G| + sqrt((n-1)(n H - G^2)))``
    with ``G = (log det(H - sigma))'`` and ``H = -G'`` from the LDLᵀ pivots and their
    derivatives; for a polynomial with real roots the iterates increase
    monotonically to the lowest root. Stops at round-off (or when a pivot turns
    non-positive: ``sigma`` reached the spectrum).
    """
    import jax
    import jax.numpy as jnp

    from catenax.solvers import tridiagonal as tri

    n = diag.shape[0]
    dt = diag.dtype
    eps = jnp.finfo(dt).eps
    r = jnp.abs(lower) + jnp.abs(_upper(lower))
    gl, gu = jnp.min(diag - r, axis=0), jnp.max(diag + r, axis=0)
    span = jnp.maximum(gu - gl, jnp.finfo(dt).tiny)
    b2 = lower * lower
    unroll = tri.unroll_for(n)

    def g_and_h(sigma):
        def row(c, ab):
            q, dp, dpp, g, h, pos = c
            a, bb = ab
            q2 = q * q
            dpp = bb * (dpp * q2 - 2 * dp * dp * q2 * q)
            dp = -1 + bb * dp * q2
            d = a - sigma - bb * q
            q = 1 / d
            t = dp * q
            return (q, dp, dpp, g + t, h + t * t - dpp * q, pos & (d > 0)), None

        one = jnp.ones_like(sigma)
        zero = 0 * one
        c0 = (one, zero, zero, zero, zero, jnp.ones(sigma.shape, bool))
        (_, _, _, g, h, pos), _ = jax.lax.scan(row, c0, (diag, b2), unroll=unroll)
        return g, h, pos

    def cond(c):
        return (c[0] < max_iter) & jnp.any(c[2])

    def body(c):
        i, sigma, go = c
        g, h, pos = g_and_h(sigma)
        disc = jnp.sqrt(jnp.maximum((n - 1) * (n * h - g * g), 0.0))
        step = -n / (g - disc)
        ok = pos & jnp.isfinite(step) & (step > 0)
        sigma1 = jnp.where(go & ok, sigma + step, sigma)
        go = go & ok & (step > 4 * eps * jnp.maximum(jnp.abs(sigma1), 1e-3 * span))
        return i + 1, sigma1, go

    sigma0 = gl - 1e-3 * span
    return jax.lax.while_loop(cond, body, (0, sigma0, jnp.ones(sigma0.shape, bool)))[1]


def _flat_start_extremes(n, spring, length):
    """Extreme eigenvalues at ``y = 0``: ``c`` tridiag(-1, 2, -1), ``c = K (1 - l)``."""
    import jax.numpy as jnp

    c = spring * (1.0 - length)
    first, last = (4 * math.sin(j * math.pi / (2 * (n + 1))) ** 2 for j in (1, n))
    return jnp.where(c >= 0, c * first, c * last), jnp.where(c >= 0, c * last, c * first)


def _verdict(x, spring, length, n):
    """``lmin``, ``lmax`` at heights ``x`` (N, L) and at the flat start."""
    from catenax.model.chain import _curvature, _stretched_lengths

    _, s = _stretched_lengths(x, axis=0)
    lower, diag = _tridiagonal(_curvature(s, spring, length))
    lmin0, lmax0 = _flat_start_extremes(n, spring, length)
    return {
        "lmin": _lowest(lower, diag),
        "lmax": -_lowest(-lower, -diag),
        "lmin0": lmin0,
        "lmax0": lmax0,
    }


def _on_lanes(mask, fn, args, out, group=64):
    """``out[..., i] = fn(args[..., i])`` for the lanes ``i`` where ``mask``, ``group`` at a time.

    Lanes are the last axis of every array in the pytrees ``args`` and ``out``
    (``fn`` maps a group of lanes of ``args`` to a group of lanes of ``out``). The
    work is proportional to the lanes in ``mask``, not to the batch.
    """
    import jax
    import jax.numpy as jnp

    n_lanes = mask.shape[0]
    ids = jnp.nonzero(mask, size=-(-n_lanes // group) * group, fill_value=n_lanes)[0]
    count = jnp.sum(mask)

    def body(c):
        j, out = c
        idx = jax.lax.dynamic_slice(ids, (j * group,), (group,))
        at = jnp.minimum(idx, n_lanes - 1)
        res = fn(jax.tree.map(lambda a: a[..., at], args))
        return j + 1, jax.tree.map(lambda o, r: o.at[..., idx].set(r, mode="drop"), out, res)

    return jax.lax.while_loop(lambda c: c[0] * group < count, body, (0, out))[1]


# -- one chunk ----------------------------------------------------------------------
def _chunk_runner(n, method, max_steps, check, stab, dtype, lanes):
    """``run(inp, count, rtol, atol) -> raw results`` for one device's chunk."""
    import jax
    import jax.numpy as jnp

    from catenax.model.chain import chain_energy
    from catenax.solve.driver import CONVERGED, RUNNING, make_problem, start_status, step_status
    from catenax.solvers import tridiagonal as tri
    from catenax.solvers.newton import NewtonState, backtrack

    eps = float(jnp.finfo(dtype).eps)
    free = jnp.ones((n,), dtype)

    def general_step(x, e, g, nc, gn0, k, p):
        prob = make_problem(chain_energy, (p[0], p[1], p[2]), free)
        x1, e1, g1, state, stalled = method.step(prob, x, e, g, NewtonState(nc, gn0), k)
        return x1, e1, g1, state.nc_step, stalled

    vgeneral = jax.vmap(general_step)

    def gmax(g):
        return jnp.max(jnp.abs(g), axis=0)

    def finite(x, e, g):
        return jnp.isfinite(e) & jnp.all(jnp.isfinite(x), axis=0) & jnp.all(jnp.isfinite(g), axis=0)

    def run(inp, count, rtol, atol):
        # (N, L) arrays meet per-lane (L,) values throughout: broadcasting is the point.
        with jax.numpy_rank_promotion("allow"):
            return _run(inp, count, rtol, atol)

    def _run(inp, count, rtol, atol):
        q = inp.shape[0]
        # Always ``lanes`` lanes, however few cases: XLA's reductions over the masses
        # may group their terms differently for another width, and a case's numbers
        # must not depend on the chunk size or the number of devices.
        n_lanes = lanes
        count = count[0]

        def finished(g, fs):
            return check & (gmax(g) <= atol + rtol * fs)

        def general(lanes):
            """Newton's own step (vmapped) for a group of lanes, and c, fs at the result."""
            p = lanes["p"]
            x1, e1, g1, nc1, stalled = vgeneral(
                lanes["x"].T, lanes["e"], lanes["g"].T, lanes["nc"], lanes["gn0"], lanes["k"], p.T
            )
            _, _, c1, fs1 = _terms(x1.T, p[0], p[1], p[2])
            return x1.T, e1, g1.T, c1, fs1, nc1, stalled

        def search(lanes, max_backtracks):
            """Newton's line search along ``dx``, lane-batched; c and fs ride along."""
            spring, length, mass_g = lanes["p"]

            def value_and_grad(y):
                e, g, c, fs = _terms(y, spring, length, mass_g)
                return (e, (c, fs)), g

            x1, e1, g1, (c1, fs1), ok = backtrack(
                value_and_grad, lanes["x"], lanes["e"], lanes["g"], lanes["dx"], method.c1,
                max_backtracks, 1, has_aux=True,
            )  # fmt: skip
            return x1, e1, g1, c1, fs1, ok

        def step(lane, running):
            lower, diag = _tridiagonal(lane["c"])
            pd = _positive_definite(lower, diag, eps)
            lane = dict(lane, dx=tri.thomas(lower, diag, _upper(lower), -lane["g"]))
            # The full step for every lane; the line search's halvings and newton's
            # general step (indefinite Hessians) only for the lanes that need them.
            out = search(lane, 0)
            halve = running & pd & ~out[-1]
            out = _on_lanes(halve, lambda ln: search(ln, method.max_backtracks), lane, out)
            x, e, g, c = lane["x"], lane["e"], lane["g"], lane["c"]
            x1, e1, g1, c1, fs1, ok = out
            x1, e1, g1, c1, fs1 = (
                jnp.where(ok, a, b)
                for a, b in ((x1, x), (e1, e), (g1, g), (c1, c), (fs1, lane["fs"]))
            )
            out = (x1, e1, g1, c1, fs1, lane["nc"], ~ok)
            out = _on_lanes(running & ~pd, general, lane, out, GROUP)
            x1, e1, g1, c1, fs1, nc1, stalled = out
            # The driver's rules, as in catenax.solve._make_run.
            good = finite(x1, e1, g1)
            k1 = lane["k"] + 1
            status = step_status(good, finished(g1, fs1), stalled, k1, max_steps)
            move = running & good
            new = {k: v for k, v in lane.items() if k != "dx"}
            for key, val in (("x", x1), ("e", e1), ("g", g1), ("c", c1), ("fs", fs1)):
                new[key] = jnp.where(move, val, lane[key])
            new["nc"] = jnp.where(running, nc1, lane["nc"])
            new["k"] = jnp.where(running, k1, lane["k"])
            new["status"] = jnp.where(running, status, lane["status"])
            return new

        def body(carry):
            lane, out, nxt = carry
            # 1. harvest the lanes whose case has stopped
            stop = (lane["case"] < q) & (lane["status"] != RUNNING)
            idx = jnp.where(stop, lane["case"], q)
            for key, val in (
                ("status", lane["status"]), ("steps", lane["k"]), ("energy", lane["e"]),
                ("grad_max", gmax(lane["g"])), ("x", lane["x"].T),
            ):  # fmt: skip
                out[key] = out[key].at[idx].set(val, mode="drop")
            case = jnp.where(stop, q, lane["case"])
            # 2. refill empty lanes with the next cases (the driver's start)
            empty = case >= q
            new = nxt + jnp.cumsum(empty, dtype=jnp.int32) - 1
            load = empty & (new < count)
            p0 = inp[jnp.minimum(new, q - 1)].T
            p = jnp.where(load, p0, lane["p"])
            x0 = jnp.zeros_like(lane["x"])
            e0, g0, c0, fs0 = _terms(x0, p[0], p[1], p[2])
            status0 = start_status(finite(x0, e0, g0), finished(g0, fs0))
            fresh = {
                "case": new, "p": p0, "k": jnp.zeros_like(lane["k"]), "x": x0, "e": e0,
                "g": g0, "c": c0, "fs": fs0, "nc": jnp.ones_like(e0),
                "gn0": jnp.sqrt(jnp.sum(g0 * g0, axis=0)), "status": status0,
            }  # fmt: skip
            lane = {k: jnp.where(load, fresh[k], v) for k, v in lane.items()}
            lane["case"] = jnp.where(load, new, case)
            nxt = jnp.minimum(nxt + jnp.sum(empty, dtype=jnp.int32), count)
            # 3. one step of every running lane
            running = (lane["case"] < q) & (lane["status"] == RUNNING)
            lane = jax.lax.cond(jnp.any(running), step, lambda l_, r_: l_, lane, running)
            return lane, out, nxt

        def cond(carry):
            lane, _, nxt = carry
            return jnp.any(lane["case"] < q) | (nxt < count)

        zl = jnp.zeros((n_lanes,), dtype)
        lane = {
            "case": jnp.full((n_lanes,), q, jnp.int32), "p": jnp.zeros((3, n_lanes), dtype),
            "k": jnp.zeros((n_lanes,), jnp.int32), "x": jnp.zeros((n, n_lanes), dtype), "e": zl,
            "g": jnp.zeros((n, n_lanes), dtype), "c": jnp.zeros((n + 1, n_lanes), dtype),
            "fs": zl, "nc": zl, "gn0": zl, "status": jnp.full((n_lanes,), CONVERGED, jnp.int32),
        }  # fmt: skip
        zq = jnp.zeros((q,), dtype)
        out = {
            "status": jnp.full((q,), CONVERGED, jnp.int32), "steps": jnp.zeros((q,), jnp.int32),
            "energy": zq, "grad_max": zq, "x": jnp.zeros((q, n), dtype),
        }  # fmt: skip
        _, out, _ = jax.lax.while_loop(cond, body, (lane, out, jnp.int32(0)))
        # The summary numbers and the verdict, for the whole chunk at once, on a width
        # that is a multiple of the lanes' (the same code for every column).
        # Block by block of ``lanes`` columns: small working sets stay in cache.
        pad = -q % lanes
        blocks = (q + pad) // lanes
        x = jnp.pad(out["x"], ((0, pad), (0, 0))).reshape(blocks, lanes, n)
        spring, length = (
            jnp.pad(inp[:, j], (0, pad), mode="edge").reshape(blocks, lanes) for j in (0, 1)
        )

        def summary(block):
            x, spring, length = block
            x = x.T
            lowest, max_tension = chain_summary(x, spring, length, axis=0)
            more = {"lowest": lowest, "max_tension": max_tension}
            if stab:
                more.update(_verdict(x, spring, length, n))
            return more

        more = jax.lax.map(summary, (x, spring, length))
        out.update({k: v.reshape(-1)[:q] for k, v in more.items()})
        return out

    return run


class ChainEngine(Engine):
    """:class:`~catenax.sweeplanes.Engine` for chain sweeps with newton (see the module).

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
            "chain-engine", self.problem.cache_key, static, s["method"], s["max_steps"],
            s["check"], s["stability"], tuple(self.devices), self.chunk,
        )  # fmt: skip

        def build():
            import jax

            dt = self.problem.dtype
            run = _chunk_runner(
                static, s["method"], s["max_steps"], s["check"], s["stability"], dt, LANES
            )
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
        import jax

        fn = self.compiled(static)[0]
        dt = self.problem.dtype
        rtol, atol = np.asarray(self.s["rtol"], dt), np.asarray(self.s["atol"], dt)
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
        import jax

        parts = jax.device_get(calls)
        raw = {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in parts[0]}
        short = self.batch - len(raw["status"])  # devices skipped: zero rows, never read
        if short:
            raw = {k: np.concatenate([v, np.zeros((short, *v.shape[1:]), v.dtype)])
                   for k, v in raw.items()}  # fmt: skip
        return key, self.host(raw)
