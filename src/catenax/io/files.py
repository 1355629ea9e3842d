"""Result files, written atomically: JSON, NPZ and CSV of a chain result.

Every writer goes through :func:`atomic_write`: the data is written to a
temporary file in the destination folder (a hidden name that keeps the
suffix, so matplotlib and Pillow pick the right format), then moved over the
destination with :func:`os.replace`. A reader never sees a half-written file,
and a failed write leaves any existing file untouched.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson

__all__ = [
    "RESULT_SUFFIXES",
    "atomic_write",
    "check_output_path",
    "json_text",
    "to_jsonable",
    "write_result",
]

#: Suffixes :func:`write_result` can write.
RESULT_SUFFIXES = (".json", ".npz", ".csv")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Write a file atomically: ``write(tmp)`` then ``os.replace(tmp, path)``.

    Args:
        path: the destination file; its folder must exist.
        write: a callback that writes the whole file to the path it is given
            (a temporary file ``.<name>.<random><suffix>`` beside ``path``).

    Returns:
        The destination as a :class:`~pathlib.Path`.

    Raises:
        FileNotFoundError: the destination folder does not exist.
        Exception: whatever ``write`` raises; the temporary file is removed
            and an existing ``path`` is left as it was.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> p = atomic_write(d / "a.txt", lambda tmp: tmp.write_text("hi"))
        >>> p.read_text()
        'hi'
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def check_output_path(path: str | os.PathLike, suffixes: tuple[str, ...], field: str) -> Path:
    """Check that a file can be written at ``path`` in one of ``suffixes``.

    Nothing is left behind: this looks at the suffix and the folder, and creates
    (and removes) an empty hidden file in the folder, the way :func:`atomic_write`
    will, so that a read-only folder (or ``/proc``) is refused before a run
    rather than after it. An existing file (or symlink) at ``path`` is
    replaced, not written through, so only the folder must be writable.

    Args:
        path: the destination file.
        suffixes: accepted suffixes, lower case with the dot (e.g. ``(".png",)``).
        field: the name to report in the error (e.g. ``"--plot"``).

    Returns:
        The path as a :class:`~pathlib.Path`.

    Raises:
        ValueError: the suffix is not one of ``suffixes``, the folder does not
            exist or cannot be written, or the path is a folder.

    Example:
        >>> check_output_path("result.json", RESULT_SUFFIXES, "out").name
        'result.json'
    """
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise ValueError(
            f"{field}: cannot write '{path}': unknown suffix '{path.suffix}'; "
            f"use one of {', '.join(suffixes)}"
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(
            f"{field}: cannot write '{path}': folder '{parent}' does not exist; create it first"
        )
    if path.is_dir():
        raise ValueError(f"{field}: cannot write '{path}': it is a folder; give a file name")
    _check_writable_folder(parent, f"{field}: cannot write '{path}'")
    return path


def _check_writable_folder(folder: Path, what: str) -> None:
    """Refuse a folder in which a new file cannot be created (tried, then removed)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".catenax-probe.", dir=folder)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise ValueError(
            f"{what}: cannot create files in '{folder}' ({reason}); choose a writable folder"
        ) from None
    os.close(fd)
    os.unlink(probe)


def to_jsonable(value: Any) -> Any:
    """Convert a value to plain JSON types; non-finite floats become ``None``.

    Args:
        value: numbers, strings, numpy scalars/arrays, and dicts/lists of them.

    Returns:
        The same data as Python ``dict``/``list``/``float``/``int``/``str``/
        ``bool``/``None`` (strict JSON: no ``NaN`` or ``Infinity``).

    Arrays and lists of plain floats are converted without a Python step per
    number (a million heights take milliseconds, not seconds).

    Example:
        >>> to_jsonable({"a": np.float32(0.5), "b": [float("nan")]})
        {'a': 0.5, 'b': [None]}
        >>> to_jsonable(np.array([[1.0, np.inf], [-0.0, 2.5]]))
        [[1.0, None], [-0.0, 2.5]]
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        fast = _number_list(value)
        return fast if fast is not None else [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and value.ndim:
            return _float_list(value)
        return to_jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "__array__"):  # e.g. a JAX array
        return to_jsonable(np.asarray(value))
    return str(value)


def _float_list(a: np.ndarray) -> list:
    """A float array as nested lists of Python floats, non-finite entries ``None``."""
    a = np.asarray(a, np.float64)
    out = a.tolist()
    bad = np.argwhere(~np.isfinite(a))
    for idx in bad.tolist():  # only the non-finite entries take a Python step
        inner = out
        for i in idx[:-1]:
            inner = inner[i]
        inner[idx[-1]] = None
    return out


def _number_list(value) -> list | None:
    """A list of plain floats and ints with non-finite floats as ``None``; else ``None``."""
    if not value or not all(type(v) is float or type(v) is int for v in value):
        return None
    out = list(value)
    try:
        finite = np.isfinite(np.array(out, dtype=np.float64))
    except OverflowError:  # an int beyond float range: the per-item path keeps it
        return None
    for i in np.flatnonzero(~finite).tolist():
        out[i] = None
    return out


def json_text(data: Any, indent: bool = False) -> str:
    """Strict JSON text of plain data (as :func:`to_jsonable` returns), fast for large arrays.

    Numbers are written by orjson: the shortest digits that read back exactly
    (``1e-07`` is written ``1e-7``), with ``NaN``/``Infinity`` as ``null``, so a
    million heights take milliseconds instead of seconds. Anything else (NumPy
    values, integers beyond 64 bits) goes through :func:`to_jsonable` and the
    standard :mod:`json` module.

    Args:
        data: dicts (string keys), lists, strings, floats, ints, bools, ``None``.
        indent: indent nested values by two spaces (for files).

    Returns:
        The JSON text, without a trailing newline.

    Example:
        >>> json_text({"y": [-1.0, float("nan"), 1e-300], "n": 3})
        '{"y":[-1.0,null,1e-300],"n":3}'
    """
    try:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2 if indent else 0).decode("utf-8")
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(to_jsonable(data), indent=2 if indent else None, allow_nan=False)


def write_result(path: str | os.PathLike, data: Mapping[str, Any]) -> Path:
    """Write a chain result (the CLI's JSON object) to ``.json``, ``.npz`` or ``.csv``.

    * ``.json``: the object itself (strict JSON, non-finite numbers as null).
    * ``.npz``: ``y`` as an array, every number or string as a 0-d array,
      numeric lists as arrays, and anything else (``params``, mixed lists) as a
      JSON string; loads with ``np.load`` without pickle.
    * ``.csv``: one row per mass with header ``j,x,y`` (``j`` from 1, ``x = j``).

    Args:
        path: the destination; the suffix picks the format.
        data: a mapping with at least ``y`` (the heights, ends excluded).

    Returns:
        The destination as a :class:`~pathlib.Path`.

    Raises:
        ValueError: the suffix is not one of :data:`RESULT_SUFFIXES`, or the
            folder does not exist.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
        >>> _ = write_result(p, {"y": [-1.0, -1.0]})
        >>> p.read_text().splitlines()[1]
        '1,1,-1.0'
    """
    path = check_output_path(path, RESULT_SUFFIXES, "path")
    suffix = path.suffix.lower()
    plain = to_jsonable(dict(data))

    if suffix == ".json":

        def write(tmp: Path) -> None:
            tmp.write_text(json_text(plain, indent=True) + "\n", encoding="utf-8")

    elif suffix == ".npz":
        arrays = {}
        for key, value in data.items():
            if isinstance(value, Mapping):
                arrays[key] = np.asarray(json.dumps(plain[key]))
            elif value is None:
                arrays[key] = np.asarray(float("nan"))
            else:
                arr = np.asarray(value)
                # Strings stay strings; anything else that is not numeric (lists of
                # mixed types, which need pickle or would be stringified) goes in as
                # JSON text.
                numeric = arr.dtype.kind in "biufc"
                if not numeric and not isinstance(value, str):
                    arr = np.asarray(json.dumps(plain[key]))
                arrays[key] = arr
        arrays["y"] = np.asarray(data["y"], dtype=float)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

    else:
        y = np.asarray(data["y"], dtype=float).ravel()

        def write(tmp: Path) -> None:
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(["j", "x", "y"])
                for j, v in enumerate(y, start=1):
                    w.writerow([j, j, repr(float(v))])

    return atomic_write(path, write)
