"""Strict JAX settings for every test: float64 on, no silent rank promotion."""

import jax
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


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


@pytest.fixture
def lesson_ref():
    """The lesson's reference figures shipped in ``tests/data/lesson.json``."""
    from _data import lesson_reference

    return lesson_reference()
