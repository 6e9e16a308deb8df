"""Helpers for the hostile-input tests: run the CLI as a user would and read what it said."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cli.app import command
from cli.errors import run_cli


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def one_line_error(self) -> str:
        """The single stderr line of a clean failure (asserts there is exactly one, and no
        traceback anywhere)."""
        assert "Traceback" not in self.out + self.err, self.out + self.err
        lines = [line for line in self.err.splitlines() if line.strip()]
        assert len(lines) == 1, self.err
        assert lines[0].startswith("error:"), lines[0]
        return lines[0]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(*args: str) -> Outcome:
        code = run_cli(command(), list(args))
        out, err = capsys.readouterr()
        return Outcome(code, out, err)

    return run
