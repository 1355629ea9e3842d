"""Distributed sweeps agree or stop (issue 11): no hang, no native abort, no merged wrong rows.

Before: a process whose coordinator is not listening waited 300 s and aborted
with a native stack trace; two processes with different grids both exited 0
with wrong rows; two processes with one ``--process-id`` hung. Now the
processes meet first (:mod:`catenax.sweeps.rendezvous`) and every failure is
exit 2 with a message. Every process here runs under a timeout.
"""

import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from _cli import free_port, process_env

from catenax.sweeps.distributed import cluster_settings, initialize
from catenax.sweeps.rendezvous import rendezvous
from catenax.sweeps.settings import check_same_spec

NATIVE = ("Check failure", "F0000", "*** ", "Traceback", "Fatal Python error")


def _run_all(tmp_path, port, n, per_process, timeout=5):
    """Start ``catenax sweep`` processes (args per process); their (code, stderr)."""
    base = [sys.executable, "-m", "catenax", "sweep", "--no-progress", "--distributed",
            "--coordinator", f"127.0.0.1:{port}", "--num-processes", str(n),
            "--coordinator-timeout", str(timeout)]  # fmt: skip
    procs = [
        subprocess.Popen(
            [*base, *args],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=process_env(),
        )  # fmt: skip
        for args in per_process
    ]
    outs = []
    try:
        for p in procs:
            outs.append((p.communicate(timeout=240)[1], p.returncode))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return [(code, err) for err, code in outs]


def _assert_clean_exit_2(results, words):
    for code, err in results:
        assert code == 2, err[-3000:]
        assert words in err, err[-3000:]
        assert not any(w in err for w in NATIVE), err[-3000:]


def test_no_coordinator_is_exit_2_naming_the_address(tmp_path):
    port = free_port()
    results = _run_all(tmp_path, port, 2, [["--length", "0.8", "--process-id", "1"]], timeout=2)
    _assert_clean_exit_2(results, f"--coordinator: nobody answered at 127.0.0.1:{port} within 2 s")


def test_missing_process_is_exit_2_on_process_0(tmp_path):
    port = free_port()
    results = _run_all(tmp_path, port, 2, [["--length", "0.8", "--process-id", "0"]], timeout=2)
    _assert_clean_exit_2(results, f"waited 2 s at 127.0.0.1:{port} for process(es) 1 of 2")


def test_different_grids_stop_every_process(tmp_path):
    results = _run_all(tmp_path, free_port(), 2, [
        ["--length", "0.8:1.0:5", "--process-id", "0", "--out", "d.csv"],
        ["--length", "0.8:1.0:6", "--process-id", "1"],
    ], timeout=60)  # fmt: skip
    _assert_clean_exit_2(
        results, "--distributed: process 1 was started with --length = '0.8:1.0:6', process 0 "
        "with '0.8:1.0:5'"
    )  # fmt: skip
    assert not (tmp_path / "d.csv").exists()


def test_a_repeated_process_id_stops_every_process(tmp_path):
    results = _run_all(tmp_path, free_port(), 3, [
        ["--length", "0.8", "--process-id", str(p)] for p in (0, 1, 1)
    ], timeout=60)  # fmt: skip
    _assert_clean_exit_2(results, "--process-id: 1 is taken by two processes")


def test_a_second_process_0_cannot_take_the_port(tmp_path):
    port = free_port()
    with socket.create_server(("", port)):
        results = _run_all(tmp_path, port, 2, [["--length", "0.8", "--process-id", "0"]])
    _assert_clean_exit_2(results, f"--coordinator: process 0 cannot listen on port {port}")


# ------------------------------------------------------------------ in-process


def _meet(port, n, settings_of, timeout=10.0, late=()):
    """Run ``rendezvous`` for ids 0..n-1 in threads (``late`` ids 1 s later); errors or ''."""
    errors = {}

    def one(pid):
        if pid in late:
            time.sleep(1.0)
        try:
            rendezvous(f"127.0.0.1:{port}", n, pid, settings_of(pid), timeout)
            errors[pid] = ""
        except ValueError as e:
            errors[pid] = str(e)

    threads = [threading.Thread(target=one, args=(p,)) for p in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 30)
    return errors


def test_rendezvous_agrees_or_names_the_first_difference():
    assert _meet(free_port(), 3, lambda p: {"--n": "20", "--method": "newton"}) == {
        0: "", 1: "", 2: ""
    }  # fmt: skip
    errors = _meet(
        free_port(), 3, lambda p: {"--n": "20", "--method": "gd" if p == 2 else "newton"}
    )
    assert set(errors) == {0, 1, 2}
    for msg in errors.values():
        assert msg.startswith("distributed: process 2 was started with --method = 'gd'"), msg


def test_a_late_process_still_hears_of_a_difference_found_before_it_came():
    # Process 2 differs and arrives first: process 1, arriving later, must get the
    # same message at once, not wait its whole timeout for a closed port.
    start = time.monotonic()
    errors = _meet(
        free_port(), 3, lambda p: {"--n": "20", "--method": "gd" if p == 2 else "newton"},
        timeout=30.0, late=(1,),
    )  # fmt: skip
    assert time.monotonic() - start < 20
    for msg in errors.values():
        assert msg.startswith("distributed: process 2 was started with --method = 'gd'"), msg


def test_rendezvous_ignores_a_stranger_on_the_port():
    port = free_port()

    def stranger():
        import time

        for _ in range(50):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    return
            except OSError:
                time.sleep(0.05)

    t = threading.Thread(target=stranger)
    t.start()
    assert _meet(port, 2, lambda p: {}) == {0: "", 1: ""}
    t.join()


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(num_processes=True), "^num_processes: True is not an integer"),
        (dict(num_processes=2.0), "^num_processes: 2.0 is not an integer"),
        (dict(process_id=1.0), "^process_id: 1.0 is not an integer"),
    ],
)
def test_bad_counts_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        cluster_settings(**kwargs, env={})


def test_bad_timeout_is_refused():
    with pytest.raises(ValueError, match="^coordinator_timeout: 0 must be"):
        initialize("127.0.0.1:1", 2, 1, timeout=0)


def test_library_sweeps_compare_their_descriptions():
    class TwoProcesses:
        num_processes = 2

        def allgather(self, digest):
            other = digest.copy()
            other[2] += 1  # the second axis differs on process 1
            return np.stack([digest, other])

    spec = {"axes": {"length": [0.8, 1.0, 5], "mass_g": [0.1]}, "method": "newton"}
    with pytest.raises(ValueError, match="^distributed: the axes\\['mass_g'\\] of process 1"):
        check_same_spec(TwoProcesses(), spec)
