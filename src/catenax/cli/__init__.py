"""The ``catenax`` command line (typer): ``catenax.cli:main`` is the entry point."""

from .app import app, main

__all__ = ["app", "main"]
