"""Typed readers of scenario values: one reader per kind, and every key goes through one.

A TOML/JSON value is checked for its kind before anything uses it: no strings
or booleans as numbers, no numbers or strings as booleans (``stability = "no"``
is refused, not taken as true), integers that are whole numbers in range, and
numbers that are finite and fit a float64. Each reader raises the
``ValueError`` of :meth:`ScenarioText.error` ("file:line: table.key: ...") with
the value, what is wrong and the fix.

Example:
    >>> from catenax.io.scenario_text import ScenarioText
    >>> ctx = ScenarioText("s.toml", None)
    >>> read_bool(ctx, "solver", "stability", "no")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: s.toml: solver.stability: 'no' is not true or false; write stability = false ...
    >>> read_int(ctx, "structure", "n", 4.0), read_float(ctx, "structure", "span", 2)
    (4, 2.0)
"""

from __future__ import annotations

import math

import numpy as np

from catenax.model import INDEX_MAX

from .scenario_text import ScenarioText

__all__ = [
    "INDEX_MAX",
    "is_int",
    "is_number",
    "index_error",
    "read_bool",
    "read_float",
    "read_indices",
    "read_int",
    "read_number_or_list",
    "read_numbers",
    "read_str",
    "show_value",
]


_FLOAT_MAX = float(np.finfo(np.float64).max)


def is_number(v) -> bool:
    """A TOML/JSON number (``True``/``False`` are not).

    Example:
        >>> is_number(1), is_number(2.5), is_number(True), is_number("1")
        (True, True, False, False)
    """
    if isinstance(v, (bool, np.bool_)):
        return False
    return isinstance(v, (int, float, np.integer, np.floating))


def is_int(v) -> bool:
    """A TOML/JSON integer, or a float with an integer value.

    Example:
        >>> is_int(3), is_int(3.0), is_int(3.5), is_int(False)
        (True, True, False, False)
    """
    if not is_number(v):
        return False
    return isinstance(v, (int, np.integer)) or (math.isfinite(v) and float(v).is_integer())


def _show(value, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (a huge integer or a long list)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**16:
        return f"an integer of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_bool(ctx: ScenarioText, table, key: str, value) -> bool:
    """``true`` or ``false``; strings (``"no"``, ``"yes"``) and numbers (``0``, ``1``) are not."""
    if not isinstance(value, (bool, np.bool_)):
        fix = f"write {key} = {'true' if _truthy_word(value) else 'false'} (no quotes)"
        raise ctx.error(table, key, f"{_show(value)} is not true or false; {fix}")
    return bool(value)


def _truthy_word(value) -> bool:
    return str(value).strip().lower() in ("1", "yes", "true", "on", "y", "t")


def read_int(
    ctx: ScenarioText, table, key: str, value, minimum: int | None = None, maximum=INDEX_MAX
) -> int:
    """A whole number (``4`` or ``4.0``) in ``minimum..maximum`` (``None``: unbounded)."""
    if not is_int(value):
        what = "a whole number" if is_number(value) else "an integer"
        quotes = " (no quotes)" if isinstance(value, str) else ""
        example = max(minimum or 0, 1)
        raise ctx.error(
            table, key, f"{_show(value)} is not {what}; write e.g. {key} = {example}{quotes}"
        )
    number = int(value)
    if minimum is not None and number < minimum:
        raise ctx.error(table, key, f"{number} is too small; use an integer >= {minimum}")
    if maximum is not None and number > maximum:
        raise ctx.error(
            table, key, f"{_show(number)} is too large; use an integer <= {maximum}"
        )  # fmt: skip
    return number


def _as_float(ctx, table, key, value, where=""):
    """A finite float from a number; the message names ``key`` + ``where`` (``[2][0]``)."""
    if not is_number(value):
        hint = " (no quotes)" if isinstance(value, str) else ""
        raise ctx.error(table, key, f"{key}{where} = {_show(value)} is not a number; "
                        f"give a number{hint}")  # fmt: skip
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        limit = "" if math.isnan(number) else f" (a float64 holds at most {_FLOAT_MAX:.4g})"
        raise ctx.error(
            table, key, f"{key}{where} = {_show(value)} is not finite{limit}; give a finite number"
        )
    return number


def read_float(ctx: ScenarioText, table, key: str, value, minimum=None, positive=False) -> float:
    """A finite number (not a bool, not a string), ``>= minimum`` (``> 0`` when ``positive``)."""
    number = _as_float(ctx, table, key, value)
    if positive and not number > 0:
        raise ctx.error(table, key, f"{number!r} must be > 0; give a positive number")
    if minimum is not None and number < minimum:
        raise ctx.error(table, key, f"{number!r} must be >= {minimum}; give a number >= {minimum}")
    return number


def read_str(ctx: ScenarioText, table, key: str, value, choices=None, noun=None) -> str:
    """A string (one of ``choices`` when given; ``noun`` names them in the message)."""
    if not isinstance(value, str):
        one = f"one of {', '.join(map(repr, choices))}" if choices else "a string"
        raise ctx.error(table, key, f"{_show(value)} is not a string; give {one} (in quotes)")
    if choices is not None and value not in choices:
        noun = noun or key
        raise ctx.error(
            table, key, f"unknown {noun} {value!r}; valid {noun}s: {', '.join(choices)}"
        )
    return value


def read_numbers(ctx: ScenarioText, table, key: str, value, depth: int, what: str) -> np.ndarray:
    """Nested lists of finite numbers ``depth`` deep -> a rectangular float array.

    ``depth = 1``: a list of numbers; ``2``: a list of rows. ``what`` says what
    to give instead (it ends every message).
    """

    def walk(v, level, where):
        if level == 0:
            return _as_float(ctx, table, key, v, where) if is_number(v) else fail(v, where, False)
        if not isinstance(v, list):
            fail(v, where, True)
        return [walk(item, level - 1, f"{where}[{i}]") for i, item in enumerate(v)]

    def fail(v, where, want_list):
        kind = "a list" if want_list else "a number"
        if want_list and depth == 1 and not where:
            kind = "a number or a list"
        raise ctx.error(table, key, f"{key}{where} = {_show(v)} is not {kind}; {what}")

    rows = walk(value, depth, "")
    try:
        arr = np.asarray(rows, dtype=float)
    except ValueError:
        raise ctx.error(table, key, f"rows of different lengths; {what}") from None
    if arr.ndim != depth and not (arr.size == 0 and depth > 0):
        raise ctx.error(table, key, f"rows of different lengths; {what}")
    return arr


def read_number_or_list(ctx: ScenarioText, table, key: str, value, what: str):
    """One finite number (a ``float``) or a list of them (a 1-D float array).

    ``what`` says what to give instead (it ends the message of a bad list).

    Example:
        >>> from catenax.io.scenario_text import ScenarioText
        >>> ctx = ScenarioText("s.toml", None)
        >>> read_number_or_list(ctx, "structure", "ea", 5, "give one per spring")
        5.0
        >>> read_number_or_list(ctx, "structure", "ea", [1, 2], "give one per spring").tolist()
        [1.0, 2.0]
    """
    if is_number(value):
        return read_float(ctx, table, key, value)
    return read_numbers(ctx, table, key, value, 1, what)


def show_value(value, limit: int = 60) -> str:
    """A value as a message shows it: ``repr``, cut to ``limit`` characters.

    Example:
        >>> show_value(10**40), show_value("x")
        ('an integer of 41 digits', "'x'")
    """
    return _show(value, limit)


def index_error(ctx: ScenarioText, table, key, where: str, value, what: str, top, noun="node"):
    """The error of ``key{where} = value``, not a ``noun`` index in ``0..top`` (``None``: int32).

    Args:
        ctx: the scenario's text; table, key: where the value is.
        where: the entry, e.g. ``"[2]"``.
        value: the value that is not an index.
        what: what to give instead (ends the message).
        top: the largest index, or ``None`` (the int32 limit).
        noun: what the indices count (``"node"``, ``"spring"``).

    Returns:
        The ``ValueError`` (to raise).

    Example:
        >>> from catenax.io.scenario_text import ScenarioText
        >>> ctx = ScenarioText("s.toml", None)
        >>> str(index_error(ctx, "structure", "fixed", "[1]", 9, "give node indices", 4))
        's.toml: structure.fixed: fixed[1] = 9 is not a node index: node indices run from 0 to 4; \
give node indices'
    """
    if not is_int(value):
        return ctx.error(table, key, f"{key}{where} = {_show(value)} is not a {noun} index; {what}")
    limit = f"run from 0 to {top}" if top is not None else f"are at most {INDEX_MAX} (int32)"
    return ctx.error(
        table,
        key,
        f"{key}{where} = {_show(int(value))} is not a {noun} index: {noun} indices {limit}; {what}",
    )


def read_indices(
    ctx: ScenarioText, table, key: str, value, what: str, n=None, noun: str = "node"
) -> list[int]:
    """A list of indices (whole numbers ``>= 0``; ``< n`` when ``n`` is given).

    ``noun`` names them in messages (``"node"``, ``"spring"``).

    Example:
        >>> from catenax.io.scenario_text import ScenarioText
        >>> ctx = ScenarioText("s.toml", None)
        >>> read_indices(ctx, "structure", "cables", [0, 5], "give spring indices", 3, "spring")
        Traceback (most recent call last):
        ...
        ValueError: s.toml: structure.cables: cables[1] = 5 is not a spring index: spring \
indices run from 0 to 2; give spring indices
    """
    if not isinstance(value, list):
        raise ctx.error(table, key, f"expected a list; {what}, got {_show(value)}")
    out = []
    top = INDEX_MAX if n is None else n - 1
    for i, v in enumerate(value):
        if not is_int(v) or not 0 <= int(v) <= top:
            raise index_error(ctx, table, key, f"[{i}]", v, what, None if n is None else top, noun)
        out.append(int(v))
    return out
