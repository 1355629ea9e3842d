"""Parameter grids for sweeps: value lists, ranges and their lazy Cartesian product.

A value specification is one of

* a number: ``"0.8"``;
* a comma list: ``"0.8,1.0,1.2"``;
* a range ``"start:stop:count"``: ``count`` values from ``start`` to ``stop``
  inclusive, exactly as ``numpy.linspace(start, stop, count)``.

A :class:`Grid` is the Cartesian product of named axes, first axis slowest
(C order, like ``numpy.ndindex``). It is never materialised: case ``i``'s
values are computed from its index, so a grid of 10⁷ cases costs nothing
until a chunk of it is asked for.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Axis", "Grid", "parse_key", "parse_values"]

_EXAMPLE = "a number, a list such as 0.8,1.0,1.2 or a range start:stop:count such as 0.8:1.4:61"


@dataclass(frozen=True)
class Axis:
    """One named axis of a grid: a list of values or a linspace range.

    Attributes:
        name: the parameter's name (a chain option or a scenario key).
        spec: the text it was parsed from (kept for messages and metadata).
        items: the values of a list axis (empty for a range).
        start, stop, count: the range ``linspace(start, stop, count)`` (for a
            list axis: ``count = len(items)``).
    """

    name: str
    spec: str
    items: tuple[float, ...] = ()
    start: float = math.nan
    stop: float = math.nan
    count: int = 0

    @property
    def is_range(self) -> bool:
        """True for a ``start:stop:count`` axis."""
        return not self.items

    def __len__(self) -> int:
        return self.count

    def take(self, index) -> np.ndarray:
        """The values at the given positions along the axis.

        Args:
            index: integer positions, any shape, each in ``[0, len(self))``.

        Returns:
            A float64 array of the shape of ``index``; for a range, bitwise
            equal to ``numpy.linspace(start, stop, count)[index]``.

        Example:
            >>> parse_values("0:1:5", "x").take(np.arange(5)).tolist()
            [0.0, 0.25, 0.5, 0.75, 1.0]
        """
        index = np.asarray(index, dtype=np.int64)
        if not self.is_range:
            return np.asarray(self.items, dtype=np.float64)[index]
        if self.count == 1:
            return np.full(index.shape, self.start, dtype=np.float64)
        # numpy.linspace: i * step + start (i / div * delta when step == 0), last = stop.
        div = self.count - 1
        delta = self.stop - self.start
        step = delta / div
        i = index.astype(np.float64)
        values = (i / div) * delta + self.start if step == 0 else i * step + self.start
        return np.where(index == div, self.stop, values)

    def values(self) -> np.ndarray:
        """All values of the axis (it is short: one axis, not the product).

        Example:
            >>> parse_values("0.8,1.0", "length").values().tolist()
            [0.8, 1.0]
        """
        return self.take(np.arange(self.count))

    def bounds(self) -> tuple[float, float]:
        """The smallest and largest value (ranges are monotonic)."""
        if self.is_range:
            return min(self.start, self.stop), max(self.start, self.stop)
        return min(self.items), max(self.items)

    def to_dict(self) -> dict:
        """A JSON-able description (used in a sweep's metadata)."""
        return {"name": self.name, "spec": self.spec, "count": self.count}


def _number(text: str, option: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{option}: '{text}' is not a number; give {_EXAMPLE}") from None
    if not math.isfinite(value):
        raise ValueError(f"{option}: {what} '{text}' is not finite; give finite numbers")
    return value


def parse_values(text, option: str, name: str | None = None) -> Axis:
    """Parse a value specification (number, comma list or range) into an :class:`Axis`.

    Args:
        text: ``"0.8"``, ``"0.8,1.0,1.2"`` or ``"start:stop:count"`` (a number
            or a sequence of numbers is accepted too).
        option: the option or key to name in error messages (e.g. ``"--length"``).
        name: the axis name (default: ``option`` without leading dashes).

    Returns:
        An :class:`Axis`.

    Raises:
        ValueError: an empty specification or item, something that is not a
            number, a non-finite value, a range without exactly three parts, or
            a range count that is not a whole number >= 1. The message starts
            with ``option`` and shows a valid example.

    Example:
        >>> a = parse_values("0.8:1.4:61", "--length")
        >>> len(a), a.take(np.array([0, 60])).tolist()
        (61, [0.8, 1.4])
        >>> try:
        ...     parse_values("1:2", "--spring")
        ... except ValueError as e:
        ...     print(str(e)[:55])
        --spring: '1:2' is not a range start:stop:count (it has
    """
    name = name if name is not None else option.lstrip("-").replace("-", "_")
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = repr(float(text))
    elif isinstance(text, (list, tuple, np.ndarray)):
        items = [_number(repr(float(v)) if _is_real(v) else str(v), option, "value") for v in text]
        if not items:
            raise ValueError(f"{option}: an empty list of values; give {_EXAMPLE}")
        spec = ",".join(repr(v) for v in items)
        return Axis(name, spec, items=tuple(items), count=len(items))
    if not isinstance(text, str):
        raise ValueError(f"{option}: {text!r} is not a value specification; give {_EXAMPLE}")
    spec = text.strip()
    if not spec:
        raise ValueError(f"{option}: an empty value; give {_EXAMPLE}")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise ValueError(
                f"{option}: '{spec}' is not a range start:stop:count (it has {len(parts)} "
                f"parts); give {_EXAMPLE}"
            )
        if "," in spec:
            raise ValueError(
                f"{option}: '{spec}' mixes a list and a range; give either a list "
                f"(0.8,1.0,1.2) or one range start:stop:count"
            )
        start = _number(parts[0].strip(), option, "range start")
        stop = _number(parts[1].strip(), option, "range stop")
        c = parts[2].strip()
        if not re.fullmatch(r"[+]?\d+", c):
            raise ValueError(
                f"{option}: range count '{c}' in '{spec}' is not a whole number; give "
                f"start:stop:count with count >= 1, e.g. 0.8:1.4:61"
            )
        count = int(c)
        if count < 1:
            raise ValueError(
                f"{option}: range '{spec}' is empty (count {count}); give count >= 1, "
                f"e.g. {parts[0].strip()}:{parts[1].strip()}:11"
            )
        if count == 1 and start != stop:
            raise ValueError(
                f"{option}: range '{spec}' has count 1 but start != stop; give a single "
                f"value ({parts[0].strip()}) or count >= 2"
            )
        return Axis(name, spec, start=start, stop=stop, count=count)
    items = []
    for k, item in enumerate(spec.split(",")):
        item = item.strip()
        if not item:
            raise ValueError(
                f"{option}: item {k + 1} of '{spec}' is empty; give comma-separated "
                f"numbers such as 0.8,1.0,1.2"
            )
        items.append(_number(item, option, "value"))
    return Axis(name, spec, items=tuple(items), count=len(items))


def _is_real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


class Grid:
    """The Cartesian product of named axes, first axis slowest; never materialised.

    Args:
        axes: the axes, in product order.

    Raises:
        ValueError: two axes share a name.

    Example:
        >>> g = Grid([parse_values("1,2", "a"), parse_values("0:1:3", "b")])
        >>> g.size, g.shape
        (6, (2, 3))
        >>> {k: v.tolist() for k, v in g.values(2, 5).items()}
        {'a': [1.0, 2.0, 2.0], 'b': [1.0, 0.0, 0.5]}
    """

    def __init__(self, axes):
        self.axes = tuple(axes)
        names = [a.name for a in self.axes]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"{sorted(dup)[0]}: given more than once; give each parameter once")
        self.names = tuple(names)
        self.shape = tuple(len(a) for a in self.axes)
        self.size = math.prod(self.shape)

    def __len__(self) -> int:
        return self.size

    def positions(self, start: int, stop: int) -> tuple[np.ndarray, ...]:
        """Per-axis positions of cases ``start .. stop - 1`` (C order).

        Args:
            start, stop: a half-open range of case indices.

        Returns:
            One int64 array per axis, each of length ``stop - start``.
        """
        idx = np.arange(start, stop, dtype=np.int64)
        out = []
        for n in reversed(self.shape):
            out.append(idx % n)
            idx = idx // n
        return tuple(reversed(out))

    def values(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Parameter values of cases ``start .. stop - 1``, one float64 array per axis.

        Args:
            start, stop: a half-open range of case indices (``0 <= start <= stop <= size``).

        Returns:
            ``{axis name: values}``.
        """
        pos = self.positions(start, stop)
        return {a.name: a.take(p) for a, p in zip(self.axes, pos, strict=True)}

    def varied(self) -> tuple[Axis, ...]:
        """The axes with more than one value (what a figure puts on its axes)."""
        return tuple(a for a in self.axes if len(a) > 1)


_KEY_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)((?:\[\s*\d+\s*\])*)")


def parse_key(key: str, option: str = "--vary") -> tuple:
    """Split a scenario key such as ``structure.loads[0][2]`` into a path.

    Args:
        key: dotted names with optional ``[index]`` suffixes.
        option: the option to name in error messages.

    Returns:
        The path as a tuple of names (str) and indices (int).

    Raises:
        ValueError: the key is empty or malformed.

    Example:
        >>> parse_key("structure.loads[0][2]")
        ('structure', 'loads', 0, 2)
    """
    text = key.strip()
    if not text:
        raise ValueError(
            f"{option}: an empty key; give KEY=VALUES, e.g. structure.stiffness=1:10:5"
        )
    path: list = []
    for part in text.split("."):
        m = _KEY_PART.fullmatch(part.strip())
        if not m:
            raise ValueError(
                f"{option}: '{key}' is not a scenario key; use dotted names with optional "
                f"[index] parts, e.g. structure.gravity[1] or structure.loads[0][2]"
            )
        path.append(m.group(1))
        path.extend(int(i) for i in re.findall(r"\d+", m.group(2)))
    return tuple(path)
