"""Differentiate through the equilibrium: ``x*(p) = argmin_x E(x, p)`` as a JAX function of ``p``.

Forward, catenax's own loop (:func:`catenax.solve.loop.make_run`, Newton by
default) runs from ``x0`` to the stopping rule, traced: ``jit``, ``vmap`` and
the derivatives below all go through it. Backward, the implicit function
theorem: at an equilibrium the free gradient vanishes,

.. math::

    g(x^*(p), p) = F\\,\\nabla_x E(x^*(p), p) = 0
    \\quad\\Longrightarrow\\quad
    \\frac{\\partial x^*}{\\partial p} = -H^{-1}\\,\\frac{\\partial g}{\\partial p},
    \\qquad H = F\\,\\nabla^2_x E(x^*, p)\\,F + (I - F),

with ``F`` the free mask (fixed coordinates stay where ``x0`` puts them: their
derivative is that of ``x0``, and it moves the free ones through ``H``). One
linear solve per tangent, with the structured solve of
:mod:`catenax.solve.implicit` (tridiagonal for the chain, the spring blocks by
Cholesky or block-Jacobi CG for networks, CG on Hessian-vector products
otherwise) — never a dense Hessian of a large problem, never the forward
iterations unrolled. It is a ``custom_jvp`` whose tangent solve is a
``jax.lax.custom_linear_solve`` (``H`` is symmetric: the transpose solve is the
same), so ``jvp``/``jacfwd`` and ``grad``/``vjp``/``jacrev`` all work.

**Not a stable minimum: NaN.** ``dx*/dp`` exists (and is the derivative of a
*minimum*) only where the forward loop converged and ``H`` is positive
definite. Otherwise — status other than ``converged``, a saddle, a maximum, a
singular ``H``, or a linear solve that meets non-positive curvature or does
not converge — every derivative is NaN (the tangent is multiplied by NaN, so
reverse mode gets NaN too, never a silently wrong number) and a
:class:`~catenax.errors.EquilibriumWarning` says why: ``warnings.warn`` on
concrete values, ``jax.debug.callback`` under ``jit``/``vmap`` (call
``jax.effects_barrier()`` to be sure it has been issued).
"""

from __future__ import annotations

import functools
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from catenax.errors import EquilibriumWarning
from catenax.solvers import Newton, resolve_method

from .checks import check_max_steps
from .implicit import linear_path, linear_system
from .loop import make_run
from .result import CONVERGED, STATUSES, default_rtol

__all__ = ["equilibrium", "equilibrium_message"]


class _Config(NamedTuple):
    """What the traced solve is made of (static)."""

    energy: object
    method: object
    max_steps: int
    path: str
    lin_rtol: float
    lin_max_iter: int


def equilibrium(
    energy,
    x0,
    *params,
    free=None,
    method="newton",
    tol=None,
    atol=0.0,
    max_steps=1000,
    has_aux=False,
    linear_max_iter=None,
    **solver_options,
):
    """The equilibrium ``x*(params)``, differentiable in ``params`` (and ``x0``'s fixed part).

    Usable under ``jax.grad``, ``jax.jacrev``/``jacfwd``, ``jit`` and ``vmap``;
    ``params`` are any pytrees (numbers, arrays, a :class:`~catenax.Network`,
    also one rebuilt inside the differentiated function with
    ``net.replace(rest_length=L)``). The maths, and when derivatives are NaN,
    are in :mod:`catenax.solve.equilibrium`: ``dx*/dp = -H⁻¹ ∂g/∂p`` with one
    structured solve with the Hessian at ``x*`` on the free coordinates.

    Args:
        energy: ``energy(x, *params) -> scalar`` (e.g. :func:`catenax.chain_energy`,
            :func:`catenax.network_energy`).
        x0: the start of the forward solve; its dtype sets the precision.
        *params: the energy's parameters.
        free: the free mask (1 free, 0 fixed) of ``x0``'s shape; default the
            energy's ``default_free(x0, *params)`` (a network's supports), else all free.
        method: the forward method (a name, optax transformation or method
            object; default Newton, whose structured solve works traced).
        tol: relative tolerance of the forward stopping rule
            ``max|grad E| <= atol + tol * F`` (default 1e-10 in float64, 1e-5
            in float32); the energy's ``gradient_floor`` is added to ``atol``.
        atol: absolute tolerance.
        max_steps: the forward step budget (static: part of the compiled program).
        has_aux: also return a dict ``status`` (int code, ``catenax.STATUSES[code]``),
            ``converged``, ``stable`` (the free Hessian at ``x*`` is positive
            definite), ``steps`` and ``grad_max``.
        linear_max_iter: CG iterations of one implicit solve (CG paths;
            default ``max(1000, x0.size)``); a solve that needs more gives NaN.
        **solver_options: ``learning_rate`` and ``schedule`` of named methods;
            for ``method="newton"``, :class:`~catenax.Newton`'s options
            (``linear_solver``: ``"auto"``, ``"tridiagonal"``, ``"dense"`` or
            ``"cg"`` also picks the implicit solve; ``cg_max_iter``, ...).

    Returns:
        ``x*`` (the shape of ``x0``), or ``(x*, info)`` with ``has_aux=True``.

    Raises:
        ValueError: a ``free`` mask of another shape, a bad ``max_steps``,
            method or option, or a linear solver the energy's structure lacks.
        TypeError: an unknown option.

    Warns:
        EquilibriumWarning: the forward solve did not converge (then ``x*`` is
            not an equilibrium), or, when differentiating, ``x*`` is not a
            stable minimum: its derivatives are NaN.

    Example:
        The lesson's chain: how fast the lowest point rises with the rest length.

        >>> import catenax, jax, jax.numpy as jnp
        >>> low = lambda l: jnp.min(catenax.equilibrium(
        ...     catenax.chain_energy, jnp.zeros(20), 5.0, l, 0.1))
        >>> round(float(jax.grad(low)(0.8)), 6)
        -9.385644
    """
    x0 = jnp.asarray(x0)
    if not jnp.issubdtype(x0.dtype, jnp.floating):
        x0 = x0.astype(jnp.result_type(float))
    dtype = x0.dtype
    params = tuple(_cast(p, dtype) for p in params)
    method_obj, linear_solver = _method(method, max_steps, solver_options)
    if free is None:
        default = getattr(energy, "default_free", None)
        free = default(x0, *params) if default is not None else jnp.ones_like(x0)
    free = jnp.asarray(free, dtype)
    if free.shape != x0.shape:
        raise ValueError(f"free: shape {free.shape} must be x0's shape {x0.shape}")
    rtol = default_rtol(dtype) if tol is None else tol
    eps = float(jnp.finfo(dtype).eps)
    max_iter = linear_max_iter if linear_max_iter is not None else max(1000, int(x0.size))
    cfg = _Config(energy, method_obj, check_max_steps(max_steps),
                  linear_path(energy, x0, linear_solver), eps**0.75, int(max_iter))  # fmt: skip
    x, status, steps, gmax = _solve(cfg, x0, params, free, jnp.asarray(rtol, dtype),
                                    jnp.asarray(atol, dtype))  # fmt: skip
    if not has_aux:
        return x
    stop = jax.lax.stop_gradient
    info = dict(status=status, converged=status == CONVERGED,
                stable=_stable(cfg, stop(x), stop(params), stop(free)), steps=steps,
                grad_max=gmax)  # fmt: skip
    return x, info


def _method(method, max_steps, options):
    """The forward method object and the implicit solve's ``linear_solver``."""
    options = dict(options)
    learning_rate = options.pop("learning_rate", None)
    schedule = options.pop("schedule", None)
    if options:
        if method != "newton":
            raise TypeError(
                f"equilibrium: unknown option(s) {', '.join(sorted(options))} for method "
                f"{method!r}; only newton takes more than learning_rate and schedule"
            )
        try:
            method = Newton(**options)
        except TypeError as err:
            raise TypeError(f"equilibrium: {err}; see catenax.Newton for its options") from err
    obj = resolve_method(method, learning_rate, schedule, max_steps)
    return obj, getattr(obj, "linear_solver", "auto")


def _cast(p, dtype):
    """Floating leaves of a parameter pytree in ``dtype`` (integer and bool leaves as they are)."""

    def cast(leaf):
        a = jnp.asarray(leaf)
        return a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a

    return jax.tree.map(cast, p)


def _forward(cfg, x0, params, free, rtol, atol):
    """The forward solve: the driver's loop, traced (no host conversions)."""
    run = make_run(cfg.energy, cfg.method, cfg.max_steps, None, True, history=False)
    floor = getattr(cfg.energy, "gradient_floor", None)
    if floor is not None:
        atol = atol + jnp.asarray(floor(x0, *params), x0.dtype)
    out = run(x0, params, free, rtol, atol)
    return out["x"], out["status"], out["steps"], out["gmax"]


_forward_jit = jax.jit(_forward, static_argnums=0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _solve(cfg, x0, params, free, rtol, atol):
    x, status, steps, gmax = _forward_jit(cfg, x0, params, free, rtol, atol)
    _tell(status == CONVERGED, jnp.asarray(True), status)
    return x, status, steps, gmax


@_solve.defjvp
def _solve_jvp(cfg, primals, tangents):
    x0, params, free, _, _ = primals
    x, status, steps, gmax = _forward_jit(cfg, *primals)
    dx, stable = _tangent(cfg, x, params, free, status, tangents[0], tangents[1])
    _tell(status == CONVERGED, stable, status)
    no = np.zeros((), jax.dtypes.float0)
    return (x, status, steps, gmax), (dx, no, no, jnp.zeros_like(gmax))


@functools.partial(jax.jit, static_argnums=0)
def _tangent(cfg, x, params, free, status, dx0, dparams):
    """``dx* = dx0_fixed - H⁻¹ (∂g/∂x dx0_fixed + ∂g/∂p dp)``, NaN unless converged and stable.

    Linear in ``(dx0, dparams)``; ``stable`` (a primal value) comes out too, so one
    compiled program serves eager and jitted callers alike.
    """
    system = linear_system(cfg.path, cfg.energy, x, params, free, cfg.lin_rtol,
                           cfg.lin_max_iter)  # fmt: skip
    # Fixed coordinates follow x0; the free ones answer to them and to the parameters.
    moved = (1.0 - free) * dx0

    def grad_free(z, p):
        return jax.grad(cfg.energy)(z, *p) * free

    _, rhs = jax.jvp(grad_free, (x, params), (moved, dparams))
    dx = jax.lax.custom_linear_solve(system.matvec, rhs, system.solve, symmetric=True)
    # A factor, not a select: reverse mode transposes it to NaN as well.
    ok = (status == CONVERGED) & system.stable
    nan_unless_ok = jnp.where(ok, 1.0, jnp.nan).astype(x.dtype)
    return (moved - dx) * nan_unless_ok, system.stable


@functools.partial(jax.jit, static_argnums=0)
def _stable(cfg, x, params, free):
    """Is the free Hessian at ``x`` positive definite (``info["stable"]``)?"""
    return linear_system(cfg.path, cfg.energy, x, params, free, cfg.lin_rtol,
                         cfg.lin_max_iter).stable  # fmt: skip


def _tell(converged, stable, status):
    """Warn when not converged or not stable: now on concrete values, else from the device."""
    if any(isinstance(v, jax.core.Tracer) for v in (converged, stable, status)):
        jax.debug.callback(_warn, converged, stable, status)
    else:
        _warn(converged, stable, status)


def _warn(converged, stable, status):
    message = equilibrium_message(converged, stable, status)
    if message:
        warnings.warn(message, EquilibriumWarning, stacklevel=3)


def equilibrium_message(converged, stable, status) -> str:
    """What :func:`equilibrium` says when it cannot differentiate (``""`` when it can).

    Args:
        converged: the forward solve converged (a bool or an array of them, one per case).
        stable: the free Hessian at ``x*`` is positive definite (same shape).
        status: the forward status codes (same shape; ``catenax.STATUSES[code]``).

    Returns:
        The message, naming the first failing case's reason and how many cases fail.

    Example:
        >>> equilibrium_message(True, False, 1)[:60]
        'equilibrium: x* is not a stable minimum (the Hessian on the '
        >>> equilibrium_message(True, True, 1)
        ''
    """
    conv, stab = np.asarray(converged, bool), np.asarray(stable, bool)
    codes = np.broadcast_to(np.asarray(status), conv.shape)
    bad = ~(conv & stab)
    if not bad.any():
        return ""
    cases = f" (in {int(bad.sum())} of {bad.size} cases)" if bad.size > 1 else ""
    first = np.flatnonzero(bad.ravel())[0]
    if not conv.ravel()[first]:
        name = STATUSES[int(codes.ravel()[first])]
        why = (f"the forward solve ended {name!r}, not converged{cases}: x* is not an "
               f"equilibrium; raise max_steps, loosen tol or start closer")  # fmt: skip
    else:
        why = (f"x* is not a stable minimum (the Hessian on the free coordinates is not "
               f"positive definite: a saddle, a maximum or a singular system){cases}")  # fmt: skip
    return f"equilibrium: {why}; its derivatives are NaN."
