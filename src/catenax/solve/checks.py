"""The driver's argument checks: every argument of :func:`catenax.minimize`, before any work.

Each check raises a :class:`ValueError` (a :class:`~catenax.errors.FieldError`
where the value is wrong) or a :class:`TypeError` (where its kind is wrong)
whose message starts with the argument's name and says what to give instead,
before anything is compiled or allocated: no error comes from inside JAX.

* :func:`check_problem` — ``x0`` (a non-empty finite numeric array), the
  parameters (numbers and arrays, no strings, ``None`` or bools; named by the
  energy's signature, else ``params[i]``), the energy's own
  ``check_params(x0, *params)`` (the chain's ranges and overflow limits), and
  the ``free`` mask (exactly ``x0``'s shape, values 0/1; ``None`` takes the
  energy's ``default_free(x0, *params)``, e.g. a network's supports);
* :func:`check_int`, :func:`check_max_steps`, :func:`check_tolerances`,
  :func:`check_flag`, :func:`check_seed` — the settings;
* :func:`run_bytes` and :func:`check_run_memory` — what a run's buffers need
  (iterates and state per start, histories, recorded iterates), checked against
  :func:`catenax.limits.memory_limit` before allocating.
"""

from __future__ import annotations

import inspect
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from catenax.errors import FieldError
from catenax.limits import check_memory

__all__ = [
    "MAX_SEED",
    "MAX_STEPS_LIMIT",
    "STATE_ARRAYS",
    "check_flag",
    "check_int",
    "check_max_steps",
    "check_problem",
    "check_run_memory",
    "check_seed",
    "check_tolerances",
    "run_bytes",
]

#: Steps are counted in int32 inside the jitted loop.
MAX_STEPS_LIMIT = 2**31 - 2
#: Seeds are taken as unsigned 32-bit integers (the same on every JAX setting).
MAX_SEED = 2**32 - 1
#: Arrays of ``x0``'s size that a run keeps per start (iterate, gradient, the method's
#: state — lbfgs keeps 20 — and temporaries): an upper estimate for the memory check.
STATE_ARRAYS = 32


def check_int(name, value, minimum, maximum=None) -> int:
    """An integer setting, checked.

    Args:
        name: the setting's name (starts the message).
        value: its value.
        minimum: the smallest allowed value.
        maximum: the largest allowed value (``None``: no limit).

    Returns:
        ``int(value)``.

    Raises:
        FieldError: not an integer (bools are not), or out of range.

    Example:
        >>> check_int("max_steps", 10, minimum=1)
        10
        >>> check_int("max_steps", 0, minimum=1)
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: max_steps: 0 must be >= 1
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise FieldError(name, f"{value!r} is not an integer; use e.g. {max(minimum, 100)}")
    if value < minimum:
        raise FieldError(name, f"{value} must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise FieldError(name, f"{value} must be <= {maximum}")
    return int(value)


def check_max_steps(max_steps, name: str = "max_steps") -> int:
    """``max_steps``, checked: an integer from 1 to what the int32 loop can count.

    Args:
        max_steps: the step budget.
        name: the name the message gives it.

    Returns:
        ``int(max_steps)``.

    Raises:
        FieldError: not an integer, below 1, or above :data:`MAX_STEPS_LIMIT`.

    Example:
        >>> check_max_steps(2**31)
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: max_steps: 2147483648 is more than the loop can count \
(2147483646, int32); use a smaller budget
    """
    max_steps = check_int(name, max_steps, minimum=1)
    if max_steps > MAX_STEPS_LIMIT:
        raise FieldError(
            name,
            f"{max_steps} is more than the loop can count ({MAX_STEPS_LIMIT}, int32); "
            "use a smaller budget",
        )
    return max_steps


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_tolerances(tol, atol) -> None:
    """Check the stopping rule's ``tol`` (``None``: no test) and ``atol``.

    Args:
        tol: the relative tolerance, or ``None``.
        atol: the absolute tolerance.

    Raises:
        FieldError: not a finite number >= 0 (a bool is not a number).

    Example:
        >>> check_tolerances(1e-10, 0.0)
        >>> check_tolerances(-1.0, 0.0)
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: tol: -1.0 must be a finite number >= 0
        >>> check_tolerances(True, 0.0)
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: tol: True is not a number; use e.g. 1e-10, or None for no test
    """
    for name, value in (("tol", tol if tol is not None else 0.0), ("atol", atol)):
        if not _is_real(value):
            use = "1e-10, or None for no test" if name == "tol" else "0.0"
            raise FieldError(name, f"{value!r} is not a number; use e.g. {use}")
        if not math.isfinite(value) or value < 0:
            raise FieldError(name, f"{value!r} must be a finite number >= 0")


def check_flag(name, value) -> bool:
    """A yes/no setting: ``True`` or ``False`` only (no strings, no numbers).

    Args:
        name: the setting's name.
        value: its value.

    Returns:
        ``bool(value)``.

    Raises:
        TypeError: not a bool.

    Example:
        >>> check_flag("stability", "no")
        Traceback (most recent call last):
        ...
        TypeError: stability: 'no' is not True or False
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: {value!r} is not True or False")
    return bool(value)


def check_seed(seed) -> int:
    """A random seed: an integer from 0 to :data:`MAX_SEED` (2**32 - 1).

    Args:
        seed: the seed.

    Returns:
        ``int(seed)``.

    Raises:
        FieldError: not an integer or out of range.

    Example:
        >>> check_seed(7), check_seed(2**32 - 1)
        (7, 4294967295)
        >>> check_seed(-1)
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: seed: -1 must be >= 0
    """
    return check_int("seed", seed, minimum=0, maximum=MAX_SEED)


def _kind_error(name, value, what) -> TypeError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return TypeError(f"{name}: {shown} is not {what}")


def _check_x0(x0, finite=True):
    """``x0`` as a float array (ints become JAX's default float), checked."""
    if isinstance(x0, jax.core.Tracer):
        return x0 if jnp.issubdtype(x0.dtype, jnp.floating) else x0.astype(float)
    try:
        a = x0 if isinstance(x0, jax.Array) else np.asarray(x0)
    except (TypeError, ValueError) as e:  # ragged lists
        raise TypeError(f"x0: not an array of numbers ({e}); use e.g. jnp.zeros(20)") from None
    floating = jnp.issubdtype(a.dtype, jnp.floating)
    if not floating and not jnp.issubdtype(a.dtype, jnp.integer):
        raise _kind_error("x0", x0, "an array of real numbers; use e.g. jnp.zeros(20)")
    if a.size == 0:
        raise FieldError("x0", f"has no coordinates (shape {a.shape}); give at least one")
    if finite and floating and not np.isfinite(np.asarray(a)).all():
        bad = np.flatnonzero(~np.isfinite(np.asarray(a)).ravel())
        raise FieldError(
            "x0",
            f"{bad.size} coordinate(s) are not finite (the first at flat index {bad[0]}: "
            f"{np.asarray(a).ravel()[bad[0]]}); start from finite positions",
        )
    if not floating:
        return jnp.asarray(a, jnp.result_type(float))
    return jnp.asarray(a)


def _param_names(energy, count) -> tuple:
    """The names of ``energy``'s parameters after ``x`` (``params[i]`` where unknown)."""
    names = []
    try:
        for p in list(inspect.signature(energy).parameters.values())[1:]:
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                break
            names.append(p.name)
    except (TypeError, ValueError):  # builtins, some callables
        names = []
    return tuple(names[i] if i < len(names) else f"params[{i}]" for i in range(count))


def _check_params(energy, params) -> None:
    """Every leaf of every parameter is a number or a numeric array (no str/None/bool)."""
    names = _param_names(energy, len(params))
    for name, p in zip(names, params, strict=True):
        if p is None:
            raise TypeError(f"{name}: None is not a number; give a value")
        for path, leaf in jax.tree_util.tree_leaves_with_path(p):
            if isinstance(leaf, jax.core.Tracer):
                continue
            where = name + jax.tree_util.keystr(path)
            if isinstance(leaf, (bool, np.bool_)):
                raise _kind_error(where, leaf, "a number; give a number, e.g. 1.0")
            dtype = getattr(leaf, "dtype", None)
            if dtype is None:
                try:
                    dtype = np.asarray(leaf).dtype
                except (TypeError, ValueError):
                    dtype = np.dtype(object)
            if np.dtype(dtype).kind not in "biufc":
                raise _kind_error(where, leaf, "a number; give a number, e.g. 1.0")


def _check_free(free, x0, energy, params):
    """The free mask: exactly ``x0``'s shape, 0/1 values; ``None``: the energy's default."""
    if free is None:
        default = getattr(energy, "default_free", None)
        if default is None:
            return np.ones(x0.shape, x0.dtype)
        free = default(x0, *params)
    if isinstance(free, jax.core.Tracer):
        return free.astype(x0.dtype)
    a = np.asarray(free) if not isinstance(free, jax.Array) else free
    shape = tuple(x0.shape)
    if getattr(a, "dtype", np.dtype(object)).kind not in "biuf":
        raise _kind_error("free", free, f"a mask of numbers; give 1 (free) or 0 (fixed) "
                          f"for each coordinate, shape {shape}")  # fmt: skip
    if tuple(a.shape) != shape:
        raise FieldError(
            "free",
            f"shape {tuple(a.shape)} does not match x0's shape {shape}; give a mask of "
            f"shape {shape} (1 free, 0 fixed)",
        )
    host = np.asarray(a)
    bad = (host != 0) & (host != 1)
    if bad.any():
        raise FieldError(
            "free",
            f"{host[bad].flat[0]!r} is not 0 or 1; give 1 (free) or 0 (fixed) for each coordinate",
        )
    return host.astype(x0.dtype)


def check_problem(energy, x0, params, free, finite=True):
    """Check a problem's ``energy``, ``x0``, parameters and ``free`` mask before any work.

    Args:
        energy: a callable ``energy(x, *params)``; its optional
            ``check_params(x0, *params)`` raises for parameters out of range
            (the lesson chain's: numbers, ranges, no overflow in ``x0``'s
            dtype) and ``default_free(x0, *params)`` gives the mask when
            ``free`` is ``None`` (a network's supports).
        x0: the start: a non-empty finite array of numbers (ints become floats).
        params: the parameters (a tuple of numbers, arrays or pytrees).
        free: ``None`` or a mask of ``x0``'s shape exactly, of 0 and 1.
        finite: refuse a non-finite ``x0`` (``False`` for a verdict, which
            answers "unknown" at a non-finite point).

    Returns:
        ``(x0, free)``: ``x0`` as a float JAX array and the mask as a NumPy
        array of its dtype.

    Raises:
        TypeError: a value of the wrong kind (a string, ``None``, a bool as a
            number, an energy that is not callable).
        FieldError: a value out of range; the message starts with its name.

    Example:
        >>> import catenax, jax.numpy as jnp
        >>> x0, free = check_problem(catenax.chain_energy, [0, 0, 0], (5.0, 0.8, 0.1), None)
        >>> x0.dtype.kind, free.tolist()
        ('f', [1.0, 1.0, 1.0])
        >>> check_problem(catenax.chain_energy, jnp.zeros(3), (5.0, 0.8, 0.1), np.zeros(1))
        Traceback (most recent call last):
        ...
        catenax.errors.FieldError: free: shape (1,) does not match x0's shape (3,); give a \
mask of shape (3,) (1 free, 0 fixed)
    """
    if not callable(energy):
        raise _kind_error("energy", energy, "callable; give a function energy(x, *params)")
    x0 = _check_x0(x0, finite)
    _check_params(energy, params)
    hook = getattr(energy, "check_params", None)
    if hook is not None:
        hook(x0, *params)
    return x0, _check_free(free, x0, energy, params)


def run_bytes(size, itemsize, *, starts=1, history_len=0, records=0) -> float:
    """An upper estimate of the memory a run's buffers take, in bytes.

    Args:
        size: coordinates in ``x0``.
        itemsize: bytes per number.
        starts: multistart lanes (each has its own buffers).
        history_len: entries of the energy and max-gradient histories per lane.
        records: iterates kept per lane (``record_every``).

    Returns:
        ``starts * itemsize * (size * (STATE_ARRAYS + records) + 2 * history_len)``
        plus the starting points, a float (it may exceed any integer type).

    Example:
        >>> run_bytes(20, 8)
        5120.0
    """
    per_start = float(size) * (STATE_ARRAYS + records) + 2.0 * history_len
    return float(starts) * itemsize * per_start


def check_run_memory(
    x0, *, starts=None, history_len=0, records=0, record_every=None, blame=None
) -> None:
    """Refuse a run whose buffers would need more than the memory limit, before allocating.

    The field blamed is ``multistart`` for a batch of starts, ``record_every``
    when recorded iterates dominate, else ``x0``.

    Args:
        x0: the start, or anything with its ``shape`` and ``dtype``.
        starts: the number of multistart starts (``None``: one).
        history_len: history entries per start allocated up front.
        records: iterates kept per start.
        record_every: the ``record_every`` asked for (for the message).
        blame: the field to name for a single start instead of ``x0`` (e.g.
            ``"n"``, the chain's size).

    Raises:
        ResourceLimit: over :func:`catenax.limits.memory_limit`.

    Example:
        >>> check_run_memory(np.zeros(20), starts=10**12)
        Traceback (most recent call last):
        ...
        catenax.errors.ResourceLimit: multistart: 1000000000000 starts of 20 coordinates ...
    """
    itemsize, size = np.dtype(x0.dtype).itemsize, math.prod(x0.shape)
    nbytes = run_bytes(size, itemsize, starts=starts or 1, history_len=history_len,
                       records=records)  # fmt: skip
    if starts is not None:
        field, what = "multistart", f"{starts} starts of {size} coordinates"
        fix = "use fewer starts"
    elif record_every is not None:
        field = "record_every"
        what = (f"recording every {record_every}-th step ({records} iterates of {size} "
                f"coordinates, {history_len} history entries)")  # fmt: skip
        fix = "record less often (a larger `record_every`), use a smaller `max_steps`"
        fix += " or `history=False`" if history_len > 1 else ""
    else:
        field, what, fix = blame or "x0", f"a run on {size} coordinates", ""
    check_memory(nbytes, field, what, fix)
