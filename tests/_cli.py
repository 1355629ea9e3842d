"""Run the real ``catenax`` entry point in a fresh process (shared by the CLI tests)."""

import os
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
