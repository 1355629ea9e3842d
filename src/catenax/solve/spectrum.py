"""The lowest Hessian eigenvalue on the host: Lanczos, shift-invert Lanczos, and their bounds.

Used by :func:`catenax.stability_verdict` (see :mod:`catenax.solve.stability`):

* :func:`host_lanczos`: Lanczos with full re-orthogonalisation (twice) on any
  symmetric operator given as a function; Ritz values lie inside the spectrum.
* :func:`rayleigh_pair`: the Rayleigh quotient ``theta = u^T H u`` of a vector
  and its residual ``r = ||H u - theta u||``. ``theta`` is an upper bound of
  ``lambda_min`` (Courant-Fischer) and some eigenvalue lies in
  ``[theta - r, theta + r]``: a vector with ``theta < 0`` proves a saddle.
* :func:`shift_invert_lowest`: Lanczos on ``(H - sigma I)^{-1}`` for a shift
  ``sigma`` below the spectrum, where the lowest eigenvalues are the best
  separated, so a few dozen solves give ``lambda_min`` to round-off.
* :func:`lowest_by_factorisation`: the exact route for networks. A Cholesky
  factorisation of ``H - sigma I`` succeeds exactly when ``sigma < lambda_min``
  (:class:`~catenax.solve.blocktri.BlockTridiagonal`); a success at
  ``sigma = tau`` proves a minimum, and shift-invert Lanczos at the highest
  shift found below ``lambda_min`` gives its value.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "MAX_REFINE",
    "MAX_SHIFTS",
    "SHIFT_INVERT_STEPS",
    "host_lanczos",
    "lowest_by_factorisation",
    "rayleigh_pair",
    "ritz",
    "ritz_extremes",
    "ritz_lowest_residual",
    "shift_below",
    "shift_invert_lowest",
    "start_vector",
]

#: Most Lanczos steps of the shift-invert iteration.
SHIFT_INVERT_STEPS = 80
#: Most Cholesky factorisations tried while looking for a shift below lambda_min.
MAX_SHIFTS = 12
#: Most rounds of shift-invert Lanczos and a closer shift.
MAX_REFINE = 3


def start_vector(n):
    """:func:`catenax.solvers.tridiagonal.start_vector` in NumPy float64 (no compilation).

    Example:
        >>> [round(float(v), 4) for v in start_vector(3)]
        [1.0553, 0.199, -0.5905]
    """
    i = np.arange(n, dtype=np.float64)
    return np.cos(1.2345 * i + 0.3) + 0.5 * np.sin(0.377 * i * i / max(n, 1)) + 0.1


def host_lanczos(apply, v0, steps, done=None):
    """Lanczos on the symmetric operator ``apply`` with full re-orthogonalisation.

    Args:
        apply: ``v -> A v`` on 1-D NumPy arrays.
        v0: the start vector (not normalised; nonzero).
        steps: the most steps (capped at ``v0.size``).
        done: optional ``done(alpha, beta) -> bool``, asked every 4 steps.

    Returns:
        ``(alpha, beta, Q)``: the tridiagonal's diagonal and off-diagonal
        (``beta[-1]`` is the last residual norm) and the orthonormal basis
        (rows). Stops early when the Krylov space is invariant.

    Example:
        >>> A = np.diag([1.0, 2.0, 5.0])
        >>> a, b, Q = host_lanczos(lambda v: A @ v, np.ones(3), 3)
        >>> [round(float(t), 9) for t in ritz(a, b)[0]]
        [1.0, 2.0, 5.0]
    """
    n = v0.size
    steps = max(1, min(int(steps), n))
    Q = np.zeros((steps, n))
    alpha, beta = [], []
    v = v0 / np.linalg.norm(v0)
    scale = 0.0
    for j in range(steps):
        Q[j] = v
        w = apply(v)
        a = float(v @ w)
        basis = Q[: j + 1]
        w = w - basis.T @ (basis @ w)
        w = w - basis.T @ (basis @ w)  # twice is enough (one pass loses orthogonality)
        b = float(np.linalg.norm(w))
        alpha.append(a)
        beta.append(b)
        scale = max(scale, abs(a), b)
        if not b > 1e-13 * scale or (done is not None and j % 4 == 3 and done(alpha, beta)):
            break
        v = w / b
    k = len(alpha)
    return np.array(alpha), np.array(beta), Q[:k]


def ritz(alpha, beta):
    """Ritz values (ascending) and vectors of the Lanczos tridiagonal.

    Args:
        alpha, beta: :func:`host_lanczos`' coefficients.

    Returns:
        ``(theta, S)``; ``abs(beta[-1] * S[-1, i])`` is the residual of pair ``i``.

    Example:
        >>> [round(float(t), 12) for t in ritz(np.array([2.0, 2.0]), np.array([1.0, 0.0]))[0]]
        [1.0, 3.0]
    """
    k = len(alpha)
    t = np.diag(alpha) + np.diag(beta[: k - 1], 1) + np.diag(beta[: k - 1], -1)
    return np.linalg.eigh(t)


def rayleigh_pair(matvec, u):
    """The Rayleigh quotient of ``u`` and its residual norm.

    Args:
        matvec: ``v -> H v``.
        u: a nonzero vector.

    Returns:
        ``(theta, r)``: ``theta = u^T H u / u^T u`` and ``r = ||H u - theta u|| / ||u||``.

    Example:
        >>> rayleigh_pair(lambda v: np.diag([1.0, 3.0]) @ v, np.array([1.0, 0.0]))
        (1.0, 0.0)
    """
    u = u / np.linalg.norm(u)
    hu = matvec(u)
    theta = float(u @ hu)
    return theta, float(np.linalg.norm(hu - theta * u))


def shift_invert_lowest(solve, matvec, sigma, v0, max_steps=SHIFT_INVERT_STEPS, rtol=1e-10):
    """The lowest eigenvalue of ``H`` from Lanczos on ``(H - sigma I)^{-1}``.

    With ``sigma`` below the spectrum the largest eigenvalue ``1 / (lambda_min -
    sigma)`` of the inverse is the best separated one; the iteration stops when
    its Ritz residual is below ``rtol`` relative (checked every 4 steps).

    Args:
        solve: ``b -> (H - sigma I)^{-1} b``.
        matvec: ``v -> H v`` (for the Rayleigh quotient and its residual).
        sigma: the shift.
        v0: the start vector.
        max_steps: the most Lanczos steps.
        rtol: the relative residual at which to stop.

    Returns:
        ``(theta, r, u)``: the Rayleigh quotient of ``H`` at the Ritz vector
        ``u`` of the largest Ritz value (an upper bound of ``lambda_min``) and
        its residual ``||H u - theta u||``.

    Example:
        >>> H = np.diag([0.5, 2.0, 7.0])
        >>> inv = np.linalg.inv(H)
        >>> theta, r, _ = shift_invert_lowest(lambda b: inv @ b, lambda v: H @ v, 0.0,
        ...                                   np.ones(3))
        >>> round(theta, 12), r < 1e-12
        (0.5, True)
    """

    def done(alpha, beta):
        th, s = ritz(np.array(alpha), np.array(beta))
        return abs(beta[-1] * s[-1, -1]) <= rtol * abs(th[-1])

    alpha, beta, Q = host_lanczos(solve, v0, max_steps, done)
    u = ritz(alpha, beta)[1][:, -1] @ Q
    theta, r = rayleigh_pair(matvec, u)
    return theta, r, u


def lowest_by_factorisation(bt, estimate, scale, tau, res, v0):
    """``lambda_min`` of a :class:`~catenax.solve.blocktri.BlockTridiagonal` Hessian, proven.

    A Cholesky factorisation of ``H - sigma I`` succeeds exactly when ``sigma <
    lambda_min``; a Ritz value ``estimate`` is at least ``lambda_min``.

    1. A shift below ``lambda_min`` (:func:`shift_below`).
    2. Shift-invert Lanczos there: the Rayleigh quotient ``theta >= lambda_min``
       and its residual ``r``.
    3. A factorisation at ``theta - margin``, ``margin = max(2 r, 1e-7 |theta|,
       res)``: its success proves ``lambda_min`` within ``margin``; if the
       margin is still wide, steps 2-3 repeat from that closer shift (at most
       :data:`MAX_REFINE` times). A failure means a lower eigenvalue was
       missed: the shift moves halfway towards it.

    Args:
        bt: the block-tridiagonal Hessian.
        estimate: a Ritz value of ``H`` (``>= lambda_min``).
        scale: the Hessian's scale (``max |lambda|``).
        tau, res: the threshold and the resolution of the verdict.
        v0: the start vector, in block order.

    Returns:
        ``(upper, lower, residual)``: the value, a proven upper bound (the
        lowest of the Rayleigh quotients, the estimate and the shifts that
        failed), the highest shift that factored (a proven lower bound) and
        the residual of the last Rayleigh quotient.

    Example:
        >>> from catenax.solve.blocktri import BlockTridiagonal
        >>> H = np.array([[2.0, -1.0], [-1.0, 2.0]])
        >>> r, c = np.nonzero(H)
        >>> bt = BlockTridiagonal(r, c, H[r, c], [np.array([0, 1])], 2)
        >>> theta, lower, _ = lowest_by_factorisation(bt, 1.5, 3.0, 1e-12, 1e-14, np.ones(2))
        >>> round(theta, 12), 1.0 - 1e-6 < lower < 1.0
        (1.0, True)
    """
    lo, fac, hi = shift_below(bt, estimate, scale, tau)
    r = math.nan
    if fac is None:
        return float(hi), math.nan, r
    for _ in range(MAX_REFINE):
        theta, r, _ = shift_invert_lowest(lambda b, f=fac: bt.solve(f, b), bt.matvec, lo, v0)
        hi = min(hi, theta)
        margin = max(2.0 * r, 1e-7 * abs(hi), res)
        if hi - lo <= margin:
            break
        shift = hi - margin
        nxt = bt.factor(shift)
        if nxt is None:  # a lower eigenvalue was missed: move halfway towards it
            hi, shift = shift, 0.5 * (lo + shift)
            nxt = bt.factor(shift)
            if nxt is None:
                hi = shift
                break
        lo, fac = shift, nxt
        if hi - lo <= max(1e-6 * abs(hi), tau):
            break
    return float(hi), float(lo), float(r)


def shift_below(bt, estimate, scale, tau):
    """A shift ``sigma < lambda_min`` and the Cholesky factor of ``H - sigma I``.

    Tries ``tau`` (a success proves a minimum), then ``-tau`` (a success proves
    ``|lambda_min| <= tau``: singular), skipping what the Ritz value
    ``estimate >= lambda_min`` rules out; then ``hi - delta`` below ``hi =
    min(estimate, -tau)``, ``delta`` growing 8-fold after each failure, from
    ``1e-3 |estimate|`` when the estimate is already negative (it is usually
    close) or ``1e-6 scale``; never below Gershgorin's bound, where Cholesky
    cannot fail.

    Args:
        bt: the block-tridiagonal Hessian.
        estimate: a Ritz value of ``H``.
        scale: the Hessian's scale.
        tau: the verdict's threshold.

    Returns:
        ``(sigma, factor, upper)``: ``upper >= lambda_min`` is the lowest of
        ``estimate`` and the shifts that failed.

    Example:
        >>> from catenax.solve.blocktri import BlockTridiagonal
        >>> bt = BlockTridiagonal([0, 1], [0, 1], [-1.0, 2.0], [np.array([0, 1])], 2)
        >>> sigma, factor, upper = shift_below(bt, -0.999, 2.0, 1e-12)  # lambda_min = -1
        >>> bool(-1.01 < sigma < -1.0 < upper), factor is not None
        (True, True)
    """
    gl = bt.gershgorin()[0]
    floor = gl - 1e-9 * max(abs(gl), scale, 1e-300)
    upper = float(estimate)
    for sigma in (tau, -tau):
        if upper > sigma:
            fac = bt.factor(sigma)
            if fac is not None:
                return sigma, fac, upper
            upper = sigma
    hi = min(upper, -tau)
    delta = max(1e-3 * abs(estimate), 8.0 * tau) if estimate < -tau else 1e-6 * scale
    for _ in range(MAX_SHIFTS):
        sigma = max(hi - delta, floor)
        fac = bt.factor(sigma)
        if fac is not None:
            return sigma, fac, upper
        upper = hi = sigma
        delta *= 8.0
    sigma = 2.0 * floor - gl  # below Gershgorin's bound: positive definite
    return sigma, bt.factor(sigma), upper


def ritz_lowest_residual(alpha, beta):
    """The residual norm ``|beta_k s_k|`` of the lowest Ritz value of Lanczos coefficients.

    Zero when the Krylov space became invariant (the Ritz values are eigenvalues).

    Example:
        >>> ritz_lowest_residual(np.array([2.0, 2.0]), np.array([1.0, 0.0]))
        0.0
    """
    a, b = np.asarray(alpha, float), np.asarray(beta, float)
    k = _valid_length(b, a.size)
    _, s = ritz(a[:k], b[:k])
    return float(abs(b[k - 1] * s[-1, 0])) if k == a.size else 0.0


def ritz_extremes(alpha, beta):
    """The extreme Ritz values of Lanczos coefficients (host, NumPy).

    The Lanczos tridiagonal matrix is cut where ``beta`` vanishes (the Krylov
    space was invariant) and its extreme eigenvalues are taken with
    ``numpy.linalg.eigvalsh``.

    Args:
        alpha, beta: :func:`lanczos_coefficients`' output, shape ``(..., steps)``;
            leading axes are independent cases.

    Returns:
        ``(lmin, lmax)``: floats, or float arrays of the leading shape.

    Example:
        >>> lmin, lmax = ritz_extremes(np.array([2.0, 2.0]), np.array([1.0, 0.0]))
        >>> round(float(lmin), 12), round(float(lmax), 12)
        (1.0, 3.0)
    """
    a, b = np.asarray(alpha, float), np.asarray(beta, float)
    steps = a.shape[-1]
    lmin, lmax = np.empty(a.shape[:-1]), np.empty(a.shape[:-1])
    for i in np.ndindex(*a.shape[:-1]):
        k = _valid_length(b[i], steps)
        t = np.diag(a[i][:k]) + np.diag(b[i][: k - 1], 1) + np.diag(b[i][: k - 1], -1)
        ev = np.linalg.eigvalsh(t)
        lmin[i], lmax[i] = ev[0], ev[-1]
    if not a.shape[:-1]:
        return float(lmin), float(lmax)
    return lmin, lmax


def _valid_length(beta, steps):
    # Lanczos stops early (beta ~ 0) when the Krylov space is invariant.
    scale = max(float(np.max(np.abs(beta))) if beta.size else 0.0, 1e-300)
    for i, b in enumerate(beta[: steps - 1]):
        if not abs(b) > 1e-12 * scale:
            return i + 1
    return steps
