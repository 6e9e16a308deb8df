"""What every command needs from the global options: settings and an opened warehouse."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer

from settings import Settings, load_settings
from warehouse import Warehouse


@dataclass
class AppContext:
    """Global options, turned into settings on first use (so `--help` never validates)."""

    home: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(home=self.home)
        return self._settings

    def warehouse(self) -> Warehouse:
        """The warehouse, created or upgraded to this build's schema if needed."""
        return self.settings.migrated_warehouse()


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj
