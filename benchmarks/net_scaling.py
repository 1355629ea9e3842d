"""Benchmark: time to tolerance on an m x m cable net, catenax's Newton back-ends against peers.

The net (issue 10): m x m nodes at (i, j, 0), springs between 4-neighbours,
k = 50, rest length 0.9 (so the flat start is pre-tensioned), a weight of 0.2
per node along -z, every boundary node fixed, float64. Every solver stops at
the same rule as ``catenax.minimize``::

    max |grad E| (free coordinates) <= 1e-9 * F(x)   (F: the largest spring force)

Solvers (``--solvers``, comma separated):

* ``catenax cg`` / ``catenax amg`` / ``catenax direct``: ``catenax.minimize``
  with ``method=catenax.Newton(linear_solver=NAME)``, ``stability=False``. A
  back-end this version of catenax does not have is reported as ``n/a``.
* ``jax-md FIRE``: ``jax_md.minimize.fire_descent`` with ``dt_start=0.1``
  (its default) and ``dt_max=0.1`` (its default 0.4 diverges on this net), the
  fixed nodes held by masking the force; ``jax-md FIRE (defaults)``: the same
  with ``dt_max=0.4``, to show that.
* ``optax L-BFGS``: ``optax.lbfgs()`` (memory 10, zoom line search).
* ``scipy L-BFGS-B``: ``scipy.optimize.minimize`` with a jitted value-and-grad.
* ``scipy Newton``: a sparse-direct Newton written here: the free Hessian
  assembled in closed form into a fixed CSC pattern, factorised by SuperLU
  (``scipy.sparse.linalg.splu``) every step, Armijo backtracking.

The peers use their own JAX energy of the net (not catenax's), run inside a
jitted ``lax.while_loop`` that tests the stopping rule every step (in chunks,
so the host can enforce ``--time-limit``). Every answer is checked with
catenax's gradient and force scale; a solver whose final max|grad E| / F is
above 1e-9 is marked.

Each (solver, size) runs in a fresh process: "first" is the first call
(compilation included, the net already built), "warm" the second call with the
same shapes; peak RSS is the child's ``ru_maxrss`` (on a GPU also the device's
peak bytes). A run that has not met the tolerance within ``--time-limit``
seconds is reported as "not converged in S s".

Also counted (one process per back-end): Newton steps and CG iterations on
every ``examples/scenarios/*`` file and on the nets of ``examples/cloth.py``
and ``examples/cable_net.py``.

Usage::

    python benchmarks/net_scaling.py [--sizes 30,100,200,300] [--solvers "catenax cg,jax-md FIRE"]
        [--time-limit 300] [--device cpu|gpu] [--out results.json] [--no-examples] [--smoke]

``--device gpu`` runs the JAX solvers on the GPU (``JAX_PLATFORMS=cuda``) and
skips the scipy peers; nothing else depends on a GPU being present.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import catenax  # noqa: E402

K, REST, WEIGHT, RTOL = 50.0, 0.9, 0.2, 1e-9
BACKENDS = ("auto", "cg", "amg", "direct")
PEERS = ("jax-md FIRE", "jax-md FIRE (defaults)", "optax L-BFGS", "scipy L-BFGS-B", "scipy Newton")
SOLVERS = tuple(f"catenax {b}" for b in BACKENDS) + PEERS
CPU_ONLY = ("scipy L-BFGS-B", "scipy Newton")
#: jax-md's defaults diverge on this net: its stiffest mode (~4k = 200 at unit
#: mass) makes a velocity-Verlet step above ~2 / sqrt(200) = 0.14 unstable, and
#: FIRE raises dt to dt_max. The stable setting keeps dt_start and caps dt_max.
FIRE_DEFAULT_DT = {"dt_start": 0.1, "dt_max": 0.4}
FIRE_DT = {"dt_start": 0.1, "dt_max": 0.1}
ROOT = Path(__file__).resolve().parents[1]


class NotAvailable(Exception):
    """A catenax back-end this version does not have."""


# ----------------------------------------------------------------------------- the net
def net_arrays(m):
    """Positions (m*m, 3), springs (s, 2) and the fixed node indices of the m x m net."""
    idx = np.arange(m * m).reshape(m, m)
    ii, jj = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    pos = np.stack([ii.ravel(), jj.ravel(), np.zeros(m * m)], 1).astype(float)
    springs = np.concatenate([
        np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], 1),
        np.stack([idx[:-1, :].ravel(), idx[1:, :].ravel()], 1),
    ])  # fmt: skip
    edge = np.zeros((m, m), bool)
    edge[0] = edge[-1] = edge[:, 0] = edge[:, -1] = True
    return pos, springs, np.flatnonzero(edge.ravel())


class Net:
    """The benchmark net as plain arrays (for the peers) and as a catenax Network."""

    def __init__(self, m):
        pos, springs, fixed = net_arrays(m)
        self.m, self.n = m, m * m
        self.x0 = pos
        self.springs = springs
        self.free = np.ones_like(pos)
        self.free[fixed] = 0.0
        self.data = (jnp.asarray(springs), jnp.asarray(self.free), jnp.asarray(pos))
        self.network = catenax.from_arrays(pos, springs, rest_length=REST, stiffness=K,
                                           mass=WEIGHT, gravity=1.0, fixed=fixed)  # fmt: skip


def energy(x, data):
    """The peers' own energy: springs plus weight, fixed coordinates taken from x0."""
    springs, free, x0 = data
    x = jnp.where(free > 0, x, x0)
    d = x[springs[:, 1]] - x[springs[:, 0]]
    length = jnp.sqrt(jnp.sum(d * d, axis=1))
    return 0.5 * K * jnp.sum((length - REST) ** 2) + WEIGHT * jnp.sum(x[:, 2])


def done(x, g, data):
    """The stopping rule: max|g| over free coordinates <= RTOL * F(x)."""
    springs, free, _ = data
    d = x[springs[:, 1]] - x[springs[:, 0]]
    force = jnp.maximum(jnp.max(K * jnp.abs(jnp.sqrt(jnp.sum(d * d, axis=1)) - REST)), WEIGHT)
    return jnp.max(jnp.abs(g * free)) <= RTOL * force


@jax.jit
def _ratio(x, network, free):
    g = jax.grad(catenax.network_energy)(x, network) * free
    return jnp.max(jnp.abs(g)) / catenax.force_scale(x, network)


def grad_ratio(x, net):
    """max|grad E| / F at x, by catenax's own energy and force scale (the check)."""
    if not np.all(np.isfinite(x)):
        return float("nan")
    return float(_ratio(jnp.asarray(x), net.network, net.data[1]))


def loop_until(step, grad_of):
    """A runner of ``step`` in a jitted ``lax.while_loop`` until the rule holds or time is up.

    ``step(state, data) -> state``; ``grad_of(state) -> (x, g)`` reads the iterate
    and the masked gradient at it from the state (``g`` is ``inf`` where it is not
    known yet). Returns ``run(state, data, limit) -> (state, steps, reached, note)``
    (note ``"diverged"`` when the iterate stopped being finite), which compiles on
    its first call only. The loop runs in chunks whose length grows with the
    elapsed time, so the host looks at the clock a few dozen times per run at
    most; the rule itself is tested after every step.
    """

    def test(s, data):
        x, g = grad_of(s)
        bad = ~jnp.all(jnp.isfinite(x))
        return done(x, g, data) & ~bad, bad

    @jax.jit
    def advance(s, k, kmax, data):
        def cond(c):
            ok, bad = test(c[0], data)
            return (c[1] < kmax) & ~ok & ~bad

        s, k = jax.lax.while_loop(cond, lambda c: (step(c[0], data), c[1] + 1), (s, k))
        return (s, k, *test(s, data))

    def run(s, data, limit):
        t0, k, kmax = time.perf_counter(), 0, 64
        while True:
            s, k, ok, bad = advance(s, jnp.int32(k), jnp.int32(kmax), data)
            k, ok, bad = int(k), bool(ok), bool(bad)
            elapsed = time.perf_counter() - t0
            if ok or bad or elapsed > limit:
                return s, k, ok, "diverged" if bad else None
            kmax = k + max(64, int(k / elapsed * min(limit - elapsed, max(1.0, elapsed))))

    return run


# ----------------------------------------------------------------------------- solvers
# A factory takes the Net, builds what is not part of a solve (method objects,
# jitted functions, the sparsity pattern) and returns solve(limit) -> dict with
# x, steps, ok (the rule was met) and optionally cg (CG iterations) and note.


def catenax_solver(backend):
    """catenax.minimize with Newton(linear_solver=backend); no time limit inside a call."""

    def make(net):
        try:
            method = catenax.Newton(linear_solver=backend)
        except ValueError as exc:  # a back-end this version does not have
            raise NotAvailable(str(exc)) from exc
        free = catenax.free_mask(net.network)

        def solve(limit):
            r = catenax.minimize(catenax.network_energy, net.network.positions, net.network,
                                 free=free, method=method, tol=RTOL, stability=False)  # fmt: skip
            extra = {f"extra_{k}": v for k, v in r.extra.items()
                     if isinstance(v, (bool, int, float, str))}  # fmt: skip
            return dict(x=r.positions, steps=r.steps, ok=r.status == "converged",
                        cg=r.extra.get("cg_iterations"), note=r.status, **extra)  # fmt: skip

        return solve

    return make


def jaxmd_fire(dt):
    """jax-md's FIRE with time steps ``dt``; the force is zero on fixed nodes."""

    def make(net):
        from jax_md import minimize, space

        _, shift = space.free()

        def fire(data):
            def force(x):
                return -jax.grad(energy)(x, data) * data[1]

            return minimize.fire_descent(force, shift, **dt)

        init = jax.jit(lambda x, data: fire(data)[0](x))
        run = loop_until(lambda s, data: fire(data)[1](s), lambda s: (s.position, -s.force))

        def solve(limit):
            s, k, ok, note = run(init(net.data[2], net.data), net.data, limit)
            return dict(x=s.position, steps=k, ok=ok, note=note)

        return solve

    return make


def optax_lbfgs(net):
    """optax.lbfgs() (memory 10, zoom line search) used raw, as its docs show."""
    import optax

    opt = optax.lbfgs()

    def step(s, data):
        x, st = s
        fn = lambda y: energy(y, data)  # noqa: E731
        v, g = optax.value_and_grad_from_state(fn)(x, state=st)
        u, st = opt.update(g, st, x, value=v, grad=g, value_fn=fn)
        return optax.apply_updates(x, u), st

    def grad_of(s):
        x, st = s  # the line search keeps the gradient at the accepted point
        known = jnp.isfinite(optax.tree_utils.tree_get(st, "value"))
        return x, jnp.where(known, optax.tree_utils.tree_get(st, "grad"), jnp.inf)

    run = loop_until(step, grad_of)
    init = jax.jit(opt.init)

    def solve(limit):
        x0 = net.data[2]
        (x, _), k, ok, note = run((x0, init(x0)), net.data, limit)
        return dict(x=x, steps=k, ok=ok, note=note)

    return solve


def scipy_lbfgsb(net):
    """scipy's L-BFGS-B (maxcor 10) on the jitted value-and-grad; stopped by a callback."""
    from scipy.optimize import minimize

    vg = jax.jit(jax.value_and_grad(energy))
    rule = jax.jit(done)
    shape = net.x0.shape

    def solve(limit):
        t0, last, its, hit = time.perf_counter(), {}, [0], [False]

        def fun(z):
            e, g = vg(jnp.asarray(z.reshape(shape)), net.data)
            last.update(z=z.copy(), g=g)
            return float(e), np.asarray(g).ravel()

        def callback(intermediate_result):
            its[0] += 1
            z = intermediate_result.x
            if not np.array_equal(z, last["z"]):
                fun(z)
            if bool(rule(jnp.asarray(z.reshape(shape)), last["g"], net.data)):
                hit[0] = True
                raise StopIteration
            if time.perf_counter() - t0 > limit:
                raise StopIteration

        r = minimize(fun, net.x0.ravel(), jac=True, method="L-BFGS-B", callback=callback,
                     options=dict(maxiter=10**9, maxfun=10**9, ftol=0.0, gtol=0.0,
                                  maxcor=10))  # fmt: skip
        return dict(x=r.x.reshape(shape), steps=its[0], ok=hit[0],
                    note=None if hit[0] else str(r.message))  # fmt: skip

    return solve


class FreeHessian:
    """The free-free Hessian of the net in closed form, in a CSC pattern fixed once.

    Per spring the Hessian of 0.5 k (l - L)^2 in d = x_j - x_i is the 3 x 3 block
    B = k (1 - L/l) I + k (L/l) u u^T (u = d / l); it enters at (i, i) and (j, j)
    with +B and at (i, j), (j, i) with -B. The pattern (rows, columns and the
    order of the values) is computed here; each step only computes values.
    """

    def __init__(self, net):
        n, springs = net.n, net.springs
        self.i, self.j = springs[:, 0], springs[:, 1]

        def block(p, q):  # coordinate rows and columns of the 3 x 3 blocks (p, q)
            a = np.arange(3)
            shape = (len(p), 3, 3)
            rows = np.broadcast_to(3 * p[:, None, None] + a[None, :, None], shape)
            return rows.ravel(), np.broadcast_to(
                3 * q[:, None, None] + a[None, None, :], shape
            ).ravel()

        nodes = np.arange(n)
        parts = [block(nodes, nodes), block(self.i, self.j), block(self.j, self.i)]
        rows = np.concatenate([r for r, _ in parts])
        cols = np.concatenate([c for _, c in parts])
        free = net.free.ravel() > 0
        self.dofs = np.flatnonzero(free)
        index = np.full(free.size, -1)
        index[self.dofs] = np.arange(self.dofs.size)
        keep = np.flatnonzero(free[rows] & free[cols])
        r, c = index[rows[keep]], index[cols[keep]]
        order = np.lexsort((r, c))
        self.select = keep[order]
        self.indices = r[order]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(c, minlength=self.dofs.size))])
        self.n = n

    def matrix(self, x):
        """The free Hessian at x (shape (n, 3)) as a scipy CSC matrix."""
        from scipy.sparse import csc_matrix

        d = x[self.j] - x[self.i]
        length = np.sqrt(np.einsum("ij,ij->i", d, d))
        u = d / length[:, None]
        b = (K * REST / length)[:, None, None] * (u[:, :, None] * u[:, None, :])
        b += (K * (1.0 - REST / length))[:, None, None] * np.eye(3)
        flat = b.reshape(-1, 9)
        diag = np.stack(
            [np.bincount(self.i, c, self.n) + np.bincount(self.j, c, self.n) for c in flat.T], 1
        )
        values = np.concatenate([diag.ravel(), -flat.ravel(), -flat.ravel()])  # B symmetric
        size = self.dofs.size
        return csc_matrix((values[self.select], self.indices, self.indptr), shape=(size, size))


def scipy_newton(net):
    """Sparse-direct Newton: SuperLU (symmetric mode, MMD on A^T + A) every step, Armijo."""
    from scipy.sparse.linalg import splu

    hess = FreeHessian(net)
    vg = jax.jit(jax.value_and_grad(energy))
    rule = jax.jit(done)

    def value_grad(x):
        e, g = vg(jnp.asarray(x), net.data)
        return float(e), np.asarray(g)

    def solve(limit):
        t0, x = time.perf_counter(), net.x0.copy()
        e, g = value_grad(x)
        k, note = 0, None
        while not bool(rule(jnp.asarray(x), jnp.asarray(g), net.data)):
            if time.perf_counter() - t0 > limit:
                break
            lu = splu(hess.matrix(x), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                      options=dict(SymmetricMode=True))  # fmt: skip
            gf = g.ravel()[hess.dofs]
            p = np.zeros(x.size)
            p[hess.dofs] = -lu.solve(gf)
            if not gf @ p[hess.dofs] < 0:  # not a descent direction: steepest descent
                p[hess.dofs] = -gf
            p = p.reshape(x.shape)
            x, e, g, accepted = backtrack(value_grad, x, e, g, p)
            k += 1
            if not accepted:
                note = "line search failed"
                break
        ok = bool(rule(jnp.asarray(x), jnp.asarray(g), net.data))
        return dict(x=x, steps=k, ok=ok, note=note)

    return solve


def backtrack(value_grad, x, e, g, p):
    """Armijo halving; like catenax, a round-off-level energy change that lowers max|g| passes."""
    t, slope, gmax = 1.0, float(np.sum(g * p)), float(np.max(np.abs(g)))
    while t >= 1e-12:
        e1, g1 = value_grad(x + t * p)
        roundoff = abs(e1 - e) <= 1e-12 * max(abs(e), 1.0)
        if e1 <= e + 1e-4 * t * slope or (roundoff and np.max(np.abs(g1)) < gmax):
            return x + t * p, e1, g1, True
        t *= 0.5
    return x, e, g, False


FACTORIES = {
    **{f"catenax {b}": catenax_solver(b) for b in BACKENDS},
    "jax-md FIRE": jaxmd_fire(FIRE_DT),
    "jax-md FIRE (defaults)": jaxmd_fire(FIRE_DEFAULT_DT),
    "optax L-BFGS": optax_lbfgs,
    "scipy L-BFGS-B": scipy_lbfgsb,
    "scipy Newton": scipy_newton,
}


# ----------------------------------------------------------------------------- one child
def peak_memory():
    """Peak RSS of this process in MB, and the device's peak bytes in MB on a GPU."""
    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    dev = jax.devices()[0]
    if dev.platform != "cpu":
        stats = dev.memory_stats() or {}
        out["device_peak_mb"] = stats.get("peak_bytes_in_use", float("nan")) / 2**20
    return out


def child(solver, m, limit, emit=None):
    """Run one solver on the m x m net twice (first call, warm call); emit JSON records."""
    emit = emit or (lambda s: print(s, flush=True))
    net = Net(m)
    rec = dict(solver=solver, m=m, nodes=m * m, device=jax.devices()[0].platform)
    try:
        solve = FACTORIES[solver](net)
    except NotAvailable as exc:
        emit(json.dumps(dict(rec, result="n/a", note=str(exc))))
        return
    for label in ("first", "warm"):
        t0 = time.perf_counter()
        out = solve(limit)
        x = np.asarray(out["x"])  # waits for the device
        rec[label] = time.perf_counter() - t0
        rec.update(steps=out["steps"], ok=bool(out["ok"]), ratio=grad_ratio(x, net),
                   note=out.get("note"), **peak_memory())  # fmt: skip
        rec.update({k: v for k, v in out.items() if k.startswith("extra_")})
        if out.get("cg") is not None:
            rec["cg"] = int(out["cg"])
        emit(json.dumps(rec))
        if not out["ok"]:
            break


def example_cases():
    """(name, network, minimize settings) for every sample scenario and the two example nets."""
    cases = []
    for path in sorted((ROOT / "examples" / "scenarios").glob("*.*")):
        s = catenax.load_scenario(path)
        cases.append((f"scenarios/{path.name}", s.network, dict(s.solver_settings)))
    rows = cols = 21  # examples/cloth.py
    idx = np.arange(rows * cols).reshape(rows, cols)
    rods = np.concatenate([idx[:, cols * 6 // 21], idx[:, cols * 14 // 21]]).tolist()
    cloth = catenax.cloth(rows, cols, spacing=0.05, supports=rods, stiffness=400.0,
                          bending_stiffness=2.0, mass=0.001)  # fmt: skip
    cases.append(("examples/cloth.py", cloth, dict(max_steps=500)))
    cable = catenax.net(20, 20, supports="corners", stiffness=50.0, rest_length=0.9, mass=0.02)
    cases.append(("examples/cable_net.py", cable, {}))  # examples/cable_net.py
    return cases


def child_examples(backend, emit=None):
    """Newton steps and CG iterations of one back-end on every example (verdict off)."""
    emit = emit or (lambda s: print(s, flush=True))
    try:
        method = catenax.Newton(linear_solver=backend)
    except ValueError as exc:
        emit(json.dumps(dict(backend=backend, result="n/a", note=str(exc))))
        return
    for name, net, settings in example_cases():
        settings.update(method=method, stability=False)
        t0 = time.perf_counter()
        r = catenax.minimize(catenax.network_energy, net.positions, net,
                             free=catenax.free_mask(net), **settings)  # fmt: skip
        emit(json.dumps(dict(backend=backend, example=name, nodes=int(net.positions.shape[0]),
                             status=r.status, steps=r.steps,
                             cg=r.extra.get("cg_iterations"),
                             first=time.perf_counter() - t0)))  # fmt: skip


# ----------------------------------------------------------------------------- the parent
def spawn(argv, device, timeout):
    """Run this script as a child; return its JSON records (the child's last words if killed)."""
    env = dict(os.environ, JAX_PLATFORMS="cuda" if device == "gpu" else "cpu")
    env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"  # device peak = what the solve used
    cmd = [sys.executable, __file__, *argv, "--device", device]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        out, err, killed = p.stdout, p.stderr, False
    except subprocess.TimeoutExpired as exc:
        out, err, killed = exc.stdout or "", exc.stderr or "", True
        out = out.decode() if isinstance(out, bytes) else out
        err = err.decode() if isinstance(err, bytes) else err
    recs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if killed:
        recs.append({"killed_after_s": timeout})
    elif p.returncode != 0:
        lines = [ln for ln in err.splitlines() if ln and not ln[0].isspace()]
        said = [ln for ln in lines if "Error" in ln or ln.startswith("--device")]
        recs.append({"error": (said or lines or ["?"])[-1]})
    return recs


def verdict(rec, limit):
    """The result column: converged, n/a, not converged in S s, or what stopped it."""
    if rec.get("result") == "n/a":
        return "n/a (no such back-end in this catenax)"
    if "error" in rec:
        return f"error: {rec['error']}"
    ratio = rec.get("ratio", float("nan"))
    if not rec.get("ok") and ("killed_after_s" in rec or rec.get("first", 0) > limit):
        return f"not converged in {limit:g} s"
    if rec.get("note") == "diverged":
        return "diverged (positions no longer finite)"
    if not rec.get("ok"):
        return f"stopped short ({rec.get('note')})"
    if not ratio <= RTOL * (1 + 1e-6):
        return f"**rule met by its own check but max|g|/F = {ratio:.2e} > {RTOL:g}**"
    return "converged"


def fmt(v, spec=".3g"):
    return "–" if v is None else format(v, spec) if isinstance(v, float) else str(v)


HEADER = ("| m | nodes | solver | first call s | warm s | steps | CG its | peak RSS MB | "
          "max\\|g\\|/F | result |\n|---|---|---|---|---|---|---|---|---|---|")  # fmt: skip


def row(rec, limit):
    merged = {k: v for k, v in rec.items() if k not in ("killed_after_s",)}
    return (f"| {rec['m']} | {rec['m'] ** 2:,} | {rec['solver']} | {fmt(merged.get('first'))} | "
            f"{fmt(merged.get('warm'))} | {fmt(merged.get('steps'))} | {fmt(merged.get('cg'))} | "
            f"{fmt(merged.get('peak_rss_mb'), '.0f')} | {fmt(merged.get('ratio'), '.1e')} | "
            f"{verdict(rec, limit)} |")  # fmt: skip


def versions():
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("jax", "jaxlib", "optax", "numpy", "scipy", "jax-md"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def check_device(device):
    """Exit with a clear message when JAX cannot run on the requested device."""
    try:
        found = jax.devices()[0].platform
    except Exception as exc:  # JAX raises several kinds when a platform is missing
        found = f"none ({type(exc).__name__}: {exc})"
    if found != device:
        raise SystemExit(
            f"--device {device}: JAX found {found}; install jax with the matching plugin "
            "(e.g. jax[cuda12]) or use --device cpu"
        )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="30,100,200,300", help="net sizes m (m x m nodes)")
    ap.add_argument("--solvers", default=",".join(SOLVERS), help="comma separated")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per solve")
    ap.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    ap.add_argument("--out", type=Path, help="write every record to this JSON file")
    ap.add_argument("--no-examples", action="store_true", help="skip the examples' step counts")
    smoke = "a 6 x 6 net, every solver in this process, no examples (seconds)"
    ap.add_argument("--smoke", action="store_true", help=smoke)
    ap.add_argument("--child", nargs=2, metavar=("SOLVER", "M"), help=argparse.SUPPRESS)
    ap.add_argument("--child-examples", metavar="BACKEND", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    # Before JAX starts a back-end (children also get JAX_PLATFORMS from spawn).
    jax.config.update("jax_platforms", "cuda" if args.device == "gpu" else "cpu")
    if args.child or args.child_examples:
        check_device(args.device)
    if args.child:
        return child(args.child[0], int(args.child[1]), args.time_limit)
    if args.child_examples:
        return child_examples(args.child_examples)
    return run_all(args)


def run_all(args):
    names = [s.strip() for s in args.solvers.split(",") if s.strip()]
    unknown = sorted(set(names) - set(FACTORIES))
    if unknown:
        raise SystemExit(f"--solvers: unknown {unknown}; choose from {', '.join(SOLVERS)}")
    if args.device == "gpu":
        names = [s for s in names if s not in CPU_ONLY]  # scipy runs on the host only
    sizes = [6] if args.smoke else [int(s) for s in args.sizes.split(",")]
    limit = args.time_limit
    meta = dict(machine=platform.machine(), cores=os.cpu_count(), device=args.device,
                python=platform.python_version(), **versions(), time_limit_s=limit, rtol=RTOL,
                fire=FIRE_DT, fire_defaults=FIRE_DEFAULT_DT)  # fmt: skip
    print("# " + ", ".join(f"{k} {v}" for k, v in meta.items()))
    print(HEADER)
    rows = []
    for m in sizes:
        for name in names:
            if args.smoke:  # in this process: quick, not an honest first call
                recs = []
                child(name, m, limit, emit=lambda s, r=recs: r.append(json.loads(s)))
            else:
                recs = spawn(["--child", name, str(m), "--time-limit", str(limit)],
                             args.device, timeout=120 + 2.5 * limit)  # fmt: skip
            rec = dict(solver=name, m=m)
            for r in recs:
                rec.update(r)
            rows.append(rec)
            print(row(rec, limit), flush=True)
    examples = [] if args.smoke or args.no_examples else run_examples(names, args, limit)
    if args.out:
        args.out.write_text(json.dumps(dict(meta=meta, rows=rows, examples=examples), indent=1))
    return rows


def run_examples(names, args, limit):
    backends = [n.split(" ", 1)[1] for n in names if n.startswith("catenax ")]
    print("\n| example | nodes | back-end | status | Newton steps | CG its | first call s |")
    print("|---|---|---|---|---|---|---|")
    out = []
    for b in backends:
        recs = spawn(["--child-examples", b], args.device, timeout=300 + 4 * limit)
        for r in recs:
            out.append(dict(r, backend=b))
            if "example" in r:
                print(f"| {r['example']} | {r['nodes']} | {b} | {r['status']} | {r['steps']} | "
                      f"{fmt(r.get('cg'))} | {r['first']:.2f} |", flush=True)  # fmt: skip
            else:
                print(f"| all | | {b} | {verdict(r, limit)} | | | |", flush=True)
    return out


if __name__ == "__main__":
    main()
