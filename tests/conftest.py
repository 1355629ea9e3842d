"""Fixtures of the tests (the strict JAX settings are in the root ``conftest.py``)."""

import pytest


@pytest.fixture
def invoke(monkeypatch):
    """Call the typer app in-process (no persistent JAX cache, to keep tests hermetic)."""
    from typer.testing import CliRunner

    from catenax import cli

    monkeypatch.setenv("CATENAX_CACHE_DIR", "off")
    runner = CliRunner()

    def _invoke(*args):
        return runner.invoke(cli.app, [str(a) for a in args])

    return _invoke
