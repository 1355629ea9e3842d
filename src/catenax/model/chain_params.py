"""The lesson chain's parameter checks: numbers, ranges, and no overflow in the run's dtype.

One rule for every entry point: :func:`validate_chain_params` (the CLI, sweeps,
:func:`catenax.compare`) and :func:`check_chain_params`, which
:func:`catenax.minimize` and :func:`catenax.stability_verdict` call through
``chain_energy.check_params`` before any work. :func:`check_chain_scale` refuses
parameters whose energy or Hessian would overflow in the dtype of the run, with
the limit and a value that fits.
"""

from __future__ import annotations

import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from catenax.errors import FieldError

__all__ = ["check_chain_params", "check_chain_scale", "validate_chain_params"]


def validate_chain_params(n, spring, length, mass_g, dtype=None):
    """Check the lesson chain's parameters before anything is run.

    Args:
        n: number of masses, an integer >= 1.
        spring: spring constant K, a finite number >= 0.
        length: rest length l, a finite number > 0.
        mass_g: weight of one mass, a finite number >= 0.
        dtype: the run's float dtype (default JAX's default float): values
            whose energy or Hessian would overflow in it are refused
            (:func:`check_chain_scale`).

    Returns:
        ``(n, spring, length, mass_g)`` as ``(int, float, float, float)``.

    Raises:
        ValueError: a parameter is out of range or not a number; the message
            starts with the field name (``"spring: ..."``) and says what to use.

    Example:
        >>> validate_chain_params(20, 5.0, 0.8, 0.1)
        (20, 5.0, 0.8, 0.1)
        >>> validate_chain_params(20, -1.0, 0.8, 0.1)
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: spring: -1.0 must be a finite number >= 0; use e.g. 5.0
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise FieldError("n", f"{n!r} is not an integer; use a whole number of masses, e.g. 20")
    if n < 1:
        raise FieldError("n", f"{n} must be >= 1 (the number of masses); use e.g. 20")
    values = []
    for name, value in zip(_FIELDS, (spring, length, mass_g), strict=True):
        a = _chain_value(name, value)
        if a.ndim:
            raise FieldError(name, f"{value!r} is not a number; use e.g. {_FIELDS[name][0]}")
        values.append(float(a))
    check_chain_scale(int(n), *values, jnp.result_type(float) if dtype is None else dtype)
    return (int(n), *values)


#: The chain's parameters: name -> (an example value, whether 0 is refused).
_FIELDS = {"spring": (5.0, False), "length": (0.8, True), "mass_g": (0.1, False)}


def _chain_value(name, value):
    """One chain parameter (a number, or an array of them), checked; NumPy on the host."""
    example, strict = _FIELDS[name]
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not real and not isinstance(value, (np.ndarray, np.generic, jax.Array)):
        raise FieldError(name, f"{value!r} is not a number; use e.g. {example}")
    a = np.asarray(float(value) if real else value)
    if a.dtype == bool or a.dtype.kind not in "iuf" or a.size == 0:
        raise FieldError(name, f"{value!r} is not a number; use e.g. {example}")
    a = a.astype(float)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(a) | (a < 0) | ((a == 0) & strict)
    if bad.any():
        shown = float(a[bad].flat[0]) if a.ndim else float(a)
        bound = "> 0" if strict else ">= 0"
        raise FieldError(name, f"{shown!r} must be a finite number {bound}; use e.g. {example}")
    return a


def check_chain_scale(n, spring, length, mass_g, dtype) -> None:
    """Refuse chain parameters whose energy or Hessian would overflow in ``dtype``.

    Bounds that hold for every height the run can reach: a spring's length is at
    most ``s_max = max(1, l) + mg n / (2K)`` (its tension is at most half the
    weight), so the energy is at most ``K (n + 1) s_max^2 / 2 + mg n^2 s_max / 2``,
    which must stay below ``max / 16`` of the dtype; the Hessian's entries are at
    most ``4 K max(1, l)`` in size, and the stability verdict squares them, so
    that must stay below ``sqrt(max) / 4`` (3.4e153 in float64, 4.6e18 in float32).

    Args:
        n: the number of masses.
        spring, length, mass_g: the largest K, l and mg (finite numbers >= 0).
        dtype: the run's float dtype.

    Raises:
        FieldError: on the parameter that drives the overflow, with the limit
            and a value that fits.

    Example:
        >>> check_chain_scale(20, 5.0, 0.8, 0.1, "float32")
        >>> check_chain_scale(20, 1e308, 0.8, 0.1, "float64")
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: spring: 1e+308 is too large for float64: the Hessian's \
entries (4·spring·max(1, length) = 4e+308) would overflow when the stability verdict \
squares them (limit 3.35e+153); use a spring below 4.19e+152
    """
    info = jnp.finfo(dtype)
    name, log_big = np.dtype(dtype).name, math.log(float(info.max))
    wide = max(1.0, length)
    log_hess = math.log(4.0 * wide) + _log(spring)
    if log_hess > log_big / 2 - math.log(4.0):
        field, value = ("spring", spring) if spring >= wide else ("length", length)
        why = f"the Hessian's entries (4·spring·max(1, length) = {_num(log_hess)}) would "
        why += "overflow when the stability verdict squares them"
        raise FieldError(field, _too_large(field, value, name, why, log_hess,
                                           log_big / 2 - math.log(4.0), 1))  # fmt: skip
    # logarithms: the bounds themselves may overflow
    log_sag = _log(mass_g) + math.log(n) - math.log(2.0) - _log(spring) if spring > 0 else -math.inf
    log_s = np.logaddexp(math.log(wide), log_sag)
    log_springs = math.log(0.5 * (n + 1)) + _log(spring) + 2 * log_s
    log_weight = math.log(0.5 * n * n) + _log(mass_g) + log_s
    log_energy, log_limit = float(np.logaddexp(log_springs, log_weight)), log_big - math.log(16)
    if log_energy <= log_limit:
        return
    if log_sag >= math.log(wide) or log_weight > log_springs:
        field, value, power = "mass_g", mass_g, 2 if log_sag >= math.log(wide) else 1
    elif length > 1.0:
        field, value, power = "length", length, 2
    else:
        field, value, power = "spring", spring, 1
    why = f"the energy (up to {_num(log_energy)} for {n} masses) would overflow"
    raise FieldError(field, _too_large(field, value, name, why, log_energy, log_limit, power))


def _log(value: float) -> float:
    return math.log(value) if value > 0 else -math.inf


def _num(log_value: float) -> str:
    """A positive number given by its natural logarithm, as ``'4e+308'`` even beyond floats."""
    exp10 = log_value / math.log(10.0)
    power = math.floor(exp10)
    mantissa = 10 ** (exp10 - power)
    if round(mantissa, 2) >= 10:
        mantissa, power = mantissa / 10, power + 1
    return f"{mantissa:.3g}e{power:+03d}"


def _too_large(field, value, dtype_name, why, log_size, log_limit, power) -> str:
    fit = math.exp(_log(value) + (log_limit - log_size) / power) / 2
    return (
        f"{value:.3g} is too large for {dtype_name}: {why} (limit {_num(log_limit)}); "
        f"use a {field} below {fit:.3g}"
    )


def check_chain_params(y, spring, length, mass_g) -> None:
    """The chain's parameters, checked for a run from ``y`` (``chain_energy.check_params``).

    The same rules as :func:`validate_chain_params` (numbers, finite, in range;
    arrays of them are checked element by element), and :func:`check_chain_scale`
    in the dtype of ``y``. Host-side, on concrete values (checks nothing under
    ``jit``); :func:`catenax.minimize` and :func:`catenax.stability_verdict` call it
    before any work.

    Args:
        y: the start heights, shape ``(..., N)``.
        spring, length, mass_g: as in :func:`chain_energy`.

    Raises:
        FieldError: on the first parameter that is not valid.

    Example:
        >>> check_chain_params(jnp.zeros(20, jnp.float32), 5.0, 0.8, 0.1)
        >>> check_chain_params(jnp.zeros(20), 5.0, "0.8", 0.1)
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: length: '0.8' is not a number; use e.g. 0.8
    """
    if any(isinstance(v, jax.core.Tracer) for v in (y, spring, length, mass_g)):
        return
    arrays = [_chain_value(k, v) for k, v in zip(_FIELDS, (spring, length, mass_g), strict=True)]
    top = [float(np.max(a, initial=0.0)) for a in arrays]
    n = int(np.shape(y)[-1]) if np.ndim(y) else 1
    dtype = y.dtype if jnp.issubdtype(y.dtype, jnp.floating) else jnp.result_type(float)
    check_chain_scale(n, *top, dtype)
