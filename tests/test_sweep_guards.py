"""Sweeps refuse bad input up front (issue 11): int ranges, memory, resume, files, progress.

Each test reproduces a failure of the issue: ``--steps 4294967297`` ran one step
(int32 wrap) and exited 0, ``--chunk-size 1e12`` failed in numpy with exit 3,
``--cpu-devices 100000`` hung, ``--resume`` kept a garbage last row and lost a
case, ``--overwrite`` wrote through a symlink, an unwritable ``--out`` was found
only after the run (exit 3).
"""

import io
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catenax.errors import ResourceLimit
from catenax.io import check_output_path, check_rows, read_table
from catenax.limits import set_memory_limit
from catenax.sweeps.api import sweep
from catenax.sweeps.progress import Progress

CASES = dict(length="0.8,0.9,1.0", chunk_size=2)


# ------------------------------------------------------------------ integer bounds


@pytest.mark.parametrize(
    "args, words",
    [
        (["--steps", 2**32 + 1], "--steps: 4294967297 is more than the loop can count"),
        (["--steps", 2**31 - 1], "--steps: 2147483647 is more than the loop can count"),
        (["--chunk-size", 10**12], "--chunk-size: 1000000000000 must be <= 2147483647"),
        (["--chunk-size", 10**9], "--chunk-size: batches of 1,000,000,000 cases"),
        (["--multistart", 10**9], "--multistart: batches of .* would need"),
        (["--cpu-devices", 100_000], "--cpu-devices: 100000 must be from 1 to"),
        (["--cpu-devices", 0], "--cpu-devices: 0 must be from 1 to"),
        (["--seed", -1], "--seed: -1 must be >= 0"),
        (["--seed", 2**32], "--seed: 4294967296 must be <= 4294967295"),
        (["--max-cases", 0], "--max-cases: 0 must be >= 1"),
        (["--coordinator-timeout", 0], "--coordinator-timeout: 0 must be from 1"),
        (["--max-memory", "1M", "--chunk-size", 100_000],
         "--chunk-size: .* more than the memory limit 1.0 MiB"),
    ],
)  # fmt: skip
def test_out_of_range_options_exit_2_before_any_work(invoke, args, words):
    r = invoke("sweep", "--length", "0.8", "--no-progress", *args)
    assert r.exit_code == 2, r.output
    assert re.search(words, r.output), r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(max_steps=2**32 + 1), "^max_steps: 4294967297 is more than the loop can count"),
        (dict(max_steps=True), "^max_steps: True is not an integer"),
        (dict(chunk_size=10**12), "^chunk_size: 1000000000000 must be <= "),
        (dict(chunk_size=2.0), "^chunk_size: 2.0 is not an integer"),
        (dict(chunk_size=True), "^chunk_size: True is not an integer"),
        (dict(multistart=True), "^multistart: True is not an integer"),
        (dict(seed=-1), "^seed: -1 must be >= 0"),
        (dict(seed=1.5), "^seed: 1.5 is not an integer"),
        (dict(max_cases=1.5), "^max_cases: 1.5 is not an integer"),
        (dict(sample_shapes=-1), "^sample_shapes: -1 must be >= 0"),
        (dict(stability="no"), "^stability: 'no' is not True or False"),
        (dict(resume="yes", out="x.csv"), "^resume: 'yes' is not True or False"),
        (dict(keep_shapes=1), "^keep_shapes: 1 is not True or False"),
    ],
)  # fmt: skip
def test_library_refuses_bad_integers_and_flags(kwargs, words):
    with pytest.raises((ValueError, TypeError), match=words):
        sweep(length="0.8", **kwargs)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.integers(max_value=0), st.integers(min_value=2**31 - 1), st.booleans(),
                 st.floats(allow_nan=True), st.text(max_size=4)))  # fmt: skip
def test_any_bad_step_budget_is_refused_by_name(steps):
    with pytest.raises((ValueError, TypeError), match="^max_steps: "):
        sweep(length="0.8", max_steps=steps)


def test_memory_is_estimated_before_allocating():
    old = set_memory_limit("64M")
    try:
        with pytest.raises(ResourceLimit, match="^multistart: .* would need .* more than "):
            sweep(length="0.8", method="gd", multistart=10**6)
        with pytest.raises(ResourceLimit, match="^chunk_size: batches of 1,000,000 cases"):
            sweep(length="0.8", chunk_size=10**6)
        sweep(length="0.8", chunk_size=64)  # small enough: runs
    finally:
        set_memory_limit(old)


# ------------------------------------------------------------------ resume


def _whole_and_part(tmp_path, suffix=".csv"):
    whole, part = tmp_path / f"w{suffix}", tmp_path / f"p{suffix}"
    sweep(out=whole, **CASES)
    sweep(out=part, **CASES)
    lines = part.read_bytes().splitlines(keepends=True)
    return whole, part, lines


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_resume_drops_a_garbage_last_line_and_loses_no_case(tmp_path, suffix):
    whole, part, lines = _whole_and_part(tmp_path, suffix)
    keep = 3 if suffix == ".csv" else 2  # two rows (and the CSV header)
    part.write_bytes(b"".join(lines[:keep]) + b"garbage\n")  # a killed writer's last line
    r = sweep(out=part, resume=True, **CASES)
    assert r.resumed_from == 2
    assert part.read_bytes() == whole.read_bytes()
    assert read_table(part)["case"].tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda ls: [ls[0], b"garbage\n", *ls[1:]], "line 2 has 1 fields"),
        (lambda ls: [ls[0], ls[1], ls[3]], "line 3 is not the row of case 1"),
        (lambda ls: [ls[0], ls[1], ls[1]], "line 3 is not the row of case 1"),
        (lambda ls: [ls[0], ls[1], b"1,2\n", b"torn"], "line 3 has 2 fields"),
    ],
)
def test_resume_refuses_a_bad_row_before_the_end_and_leaves_the_file(invoke, tmp_path, edit,
                                                                     words):  # fmt: skip
    _, part, lines = _whole_and_part(tmp_path)
    part.write_bytes(b"".join(edit(lines)))
    before = part.read_bytes()
    with pytest.raises(ValueError, match=f"^out: cannot resume: p.csv: {words}"):
        sweep(out=part, resume=True, **CASES)
    r = invoke("sweep", "--length", "0.8,0.9,1.0", "--chunk-size", 2, "--out", part, "--resume",
               "--no-progress")  # fmt: skip
    assert r.exit_code == 2 and "--out: cannot resume" in r.output, r.output
    assert part.read_bytes() == before


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([b"0,1,2", b"garbage", b"", b",,,,,,,,,,", b"\x00"]),
                max_size=3),
       st.binary(max_size=8).filter(lambda b: b"\n" not in b))  # fmt: skip
def test_check_rows_drops_only_a_torn_or_bad_last_line(tmp_path_factory, extra, torn):
    good = b"case,x\n0,0.5\n1,0.5\n2,0.5\n"
    path = tmp_path_factory.mktemp("rows") / "t.csv"
    path.write_bytes(good + b"".join(line + b"\n" for line in extra) + torn)
    if len(extra) > 1 or (extra and torn):  # a bad line before the end
        with pytest.raises(ValueError, match="^t.csv: line 5 has"):
            check_rows(path, ["case", "x"], "csv")
    else:
        assert check_rows(path, ["case", "x"], "csv") == (3, len(good), path.stat().st_size)


# ------------------------------------------------------------------ files


def test_overwrite_replaces_a_symlink_and_never_writes_through_it(invoke, tmp_path):
    target = tmp_path / "precious.csv"
    target.write_text("precious\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    r = invoke("sweep", "--length", "0.8", "--out", link, "--overwrite", "--no-progress")
    assert r.exit_code == 0, r.output
    assert target.read_text() == "precious\n"
    assert not link.is_symlink() and read_table(link)["case"].tolist() == [0]


def test_unwritable_outputs_exit_2_before_the_run(invoke, tmp_path):
    for option, name in (("--out", "x.csv"), ("--plot", "x.png")):
        r = invoke("sweep", "--length", "0.8,0.9", "--no-progress", option, f"/proc/{name}")
        assert r.exit_code == 2, r.output
        assert f"{option}: cannot write '/proc/{name}': cannot create files in '/proc'" in r.output
        assert "catenax sweep:" not in r.output  # nothing ran
    with pytest.raises(ValueError, match="^out: cannot write .* cannot create files"):
        check_output_path("/proc/result.json", (".json",), "out")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ValueError, match="cannot create files in"):
            check_output_path(folder / "x.csv", (".csv",), "out")
    finally:
        folder.chmod(0o755)


# ------------------------------------------------------------------ progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_talks_from_the_start_and_plain_lines_off_a_terminal():
    s = io.StringIO()
    p = Progress(10, stream=s, every=3600)
    p.start()
    assert "compiling" in s.getvalue()  # before any chunk is done
    p.update(4)  # within `every`: nothing more
    n = s.getvalue().count("\n")
    p.update(10)
    p.close()
    out = s.getvalue()
    assert out.count("\n") == n + 1 and "10/10" in out and "\r" not in out
    assert p.rate() > 0 or np.isnan(p.rate())


def test_progress_on_a_terminal_is_a_rich_bar():
    s = _Tty()
    p = Progress(10, stream=s)
    p.start()
    p.update(5)
    p.update(10)
    p.close()
    out = s.getvalue()
    assert "compiling" in out and "10/10" in out
    assert "\x1b[" in out  # drawn by rich with terminal control codes
