"""The ``scicurate`` CLI. Entry point: ``flows.cli:main``."""

from flows.cli.app import app, main

__all__ = ["app", "main"]
