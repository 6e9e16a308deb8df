"""The ``scicurate`` CLI. Entry point: ``cli:main``."""

from cli.app import app, main

__all__ = ["app", "main"]
