"""Library exceptions become one line on stderr and a non-zero exit code, here and only here."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.markup import escape

from cli.render import SafeConsole
from core.errors import ScicurateError
from settings import SettingsError

# Each named error family, with the exit code it maps to. Usage errors exit with 2 (Typer).
KNOWN_ERRORS: tuple[tuple[type[Exception], int], ...] = (
    (SettingsError, 3),
    (ScicurateError, 1),
)

# Messages may quote input (an id, a server's reply): SafeConsole escapes control characters.
_stderr = SafeConsole(stderr=True, highlight=False, soft_wrap=True)


def run_cli(command: Any, args: Sequence[str] | None = None) -> int:
    """Run the Typer/Click command and translate errors. Returns the process exit code."""
    try:
        command.main(args=list(args) if args is not None else None, prog_name="scicurate")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        _stderr.print(escape(str(exc.code)))
        return 1
    except Exception as exc:
        for kind, code in KNOWN_ERRORS:
            if isinstance(exc, kind):
                _stderr.print(f"[bold red]error:[/] {escape(str(exc))}")
                return code
        raise
    return 0


def entry(command_factory: Callable[[], Any]) -> None:
    sys.exit(run_cli(command_factory()))
