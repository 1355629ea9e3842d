"""Sweep tables read back what was written: CSV and JSONL, chunk by chunk (property-based)."""

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catenax.io import TableWriter, format_rows, read_table
from catenax.solve import STATUSES

KINDS = {"case": "int", "steps": "int", "x": "float", "converged": "bool", "stable": "bool?",
         "status": "str"}  # fmt: skip
#: read_table parses numbers through float64: integers are exact up to 2**53.
INTS = st.integers(-(2**53), 2**53)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)


@st.composite
def chunks(draw):
    """Columns of 1..12 rows, split into 1..3 chunks (``stable?`` marks a missing ``stable``)."""
    n = draw(st.integers(1, 12))
    cols = {
        "case": np.arange(n, dtype=np.int64),
        "steps": np.asarray(draw(st.lists(INTS, min_size=n, max_size=n)), np.int64),
        "x": np.asarray(draw(st.lists(FLOATS, min_size=n, max_size=n)), np.float64),
        "converged": np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool),
        "stable": np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool),
        "stable?": np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool),
        "status": np.asarray(
            draw(st.lists(st.sampled_from(STATUSES[1:]), min_size=n, max_size=n)), object
        ),
    }
    cuts = sorted(set(draw(st.lists(st.integers(1, n), max_size=2))) - {n})
    return cols, [0, *cuts, n]


def _check(back, cols):
    assert list(back) == [c for c in cols if not c.endswith("?")]
    for name in ("case", "steps"):
        assert back[name].dtype == np.int64
        np.testing.assert_array_equal(back[name], cols[name])
    x, got = cols["x"], back["x"]
    finite = np.isfinite(x)
    np.testing.assert_array_equal(got[finite], x[finite])  # shortest digits: exact
    assert np.all(np.isnan(got[~finite]))  # non-finite numbers are written as missing
    assert back["converged"].dtype == bool
    np.testing.assert_array_equal(back["converged"], cols["converged"])
    miss = cols["stable?"]
    if miss.all():  # nothing but missing values: no sign of a bool column
        assert np.all(np.isnan(back["stable"]))
    else:
        assert back["stable"].dtype == bool
        np.testing.assert_array_equal(back["stable"], cols["stable"] & ~miss)
    assert back["status"].tolist() == cols["status"].tolist()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(data=chunks())
def test_table_writer_rows_read_back(fmt, data):
    cols, cuts = data
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"t.{fmt}"
        w = TableWriter(path, list(cols), KINDS, fmt, 0)
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            w.append({k: v[a:b] for k, v in cols.items()})
        w.close()
        assert w.rows == len(cols["case"])
        _check(read_table(path), cols)
        # The chunks are the bytes format_rows gives for the whole table at once.
        body = format_rows(cols, KINDS, fmt)
        assert path.read_bytes().endswith(body)
