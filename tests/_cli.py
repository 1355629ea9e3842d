"""Run the real ``catenax`` entry point in a fresh process (shared by the CLI tests)."""

import os
import socket
import subprocess
import sys


def run_cli(*args, cwd=None):
    """Run ``python -m catenax ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "catenax", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_env() -> dict:
    """The environment of a test's own ``catenax`` processes: CPU, no cache, no launcher."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "JAX_PLATFORMS": "cpu"}
    env["CATENAX_CACHE_DIR"] = "off"
    for k in list(env):  # a launcher's variables must not leak into the test
        if k.startswith(("SLURM_", "OMPI_", "PMI_", "JAX_COORDINATOR", "JAX_NUM_PROC")):
            env.pop(k)
    return env
