"""Multi-process sweeps: two real processes on 127.0.0.1 equal one process, byte for byte."""

import subprocess
import sys

import pytest
from _cli import free_port, process_env

from catenax.sweeps.distributed import cluster_settings

ARGS = ["--length", "0.7:1.3:13", "--mass-g", "0,0.1", "--chunk-size", "3", "--no-progress"]


@pytest.mark.slow
def test_two_processes_equal_one_process(tmp_path):
    cmd = [sys.executable, "-m", "catenax", "sweep", *ARGS]
    one = subprocess.run(
        [*cmd, "--out", "one.csv", "--keep-shapes"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env=process_env(),
    )  # fmt: skip
    assert one.returncode == 0, one.stderr[-2000:]
    port = free_port()
    dist = [
        "--out", "two.csv", "--keep-shapes", "--distributed",
        "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2",
    ]  # fmt: skip
    procs = [
        subprocess.Popen(
            [*cmd, *dist, "--process-id", str(p)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=process_env(),
        )  # fmt: skip
        for p in (0, 1)
    ]
    outs = []
    try:
        for p in procs:
            outs.append(p.communicate(timeout=600))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    assert "catenax sweep: 26 cases" in outs[0][0]  # process 0 reports and writes
    assert (tmp_path / "two.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert (tmp_path / "two.npz").read_bytes() == (tmp_path / "one.npz").read_bytes()


def test_settings_from_options_and_launchers():
    assert cluster_settings("h:1", 4, 3, env={}) == {
        "coordinator_address": "h:1",
        "num_processes": 4,
        "process_id": 3,
    }
    slurm = {"SLURM_NTASKS": "8", "SLURM_PROCID": "5"}
    assert cluster_settings(env=slurm) == {
        "coordinator_address": None,  # JAX's Slurm detection finds it
        "num_processes": 8,
        "process_id": 5,
    }
    mpich = {"PMI_SIZE": "2", "PMI_RANK": "1", "JAX_COORDINATOR_ADDRESS": "n0:5000"}
    assert cluster_settings(env=mpich)["process_id"] == 1
    ompi = {"OMPI_COMM_WORLD_SIZE": "3", "OMPI_COMM_WORLD_RANK": "0"}
    assert cluster_settings(process_id=2, env=ompi)["process_id"] == 2  # options win
    assert cluster_settings(env={}) == {
        "coordinator_address": None,
        "num_processes": None,
        "process_id": None,
    }


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(coordinator="nohost"), "^coordinator: 'nohost' is not host:port"),
        (dict(coordinator="h:99999"), "^coordinator: 'h:99999' is not host:port"),
        (dict(num_processes=0), "^num_processes: 0 must be >= 1"),
        (dict(num_processes=2, process_id=2), "^process_id: 2 must be < num_processes"),
        (dict(process_id=-1), "^process_id: -1 must be >= 0"),
    ],
)
def test_bad_settings(kwargs, words):
    with pytest.raises(ValueError, match=words):
        cluster_settings(**kwargs, env={})
