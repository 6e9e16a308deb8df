"""The CLI edge: help with examples, status, sql refusals, one-line errors, exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperGroup

from cli.app import command
from cli.errors import run_cli
from warehouse import Warehouse, latest_version


def _leaf_commands(cmd: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(cmd, TyperGroup):
        out = [path] if path else []
        for name, sub in cmd.commands.items():
            out += _leaf_commands(sub, (*path, name))
        return out
    return [path]


ALL_COMMANDS = _leaf_commands(command())


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_cli(command(), list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", [(), *ALL_COMMANDS], ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...]
) -> None:
    code, out, _ = cli(capsys, *path, "--help")
    assert code == 0
    assert re.search(r"Examples?: scicurate ", out), out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--version")
    assert code == 0 and out.strip() == "scicurate 0.1.0"


def test_status_on_a_fresh_home_creates_the_catalog(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = cli(capsys, "--home", str(tmp_path), "status")
    assert code == 0
    assert "Backlog per stage" in out and "papers" in out
    assert (tmp_path / "warehouse.duckdb").is_file()
    code, out, _ = cli(capsys, "--home", str(tmp_path), "status", "--json")
    stages = {s["stage"]: s["count"] for s in json.loads(out)["stages"]}
    assert stages["papers"] == 0


def test_migrate_is_idempotent(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = cli(capsys, "--home", str(tmp_path), "warehouse", "migrate")
    assert code == 0 and f"-> {latest_version()}" in out
    code, out, _ = cli(capsys, "--home", str(tmp_path), "warehouse", "migrate")
    assert code == 0 and "already at schema version" in out


def test_sql_reads_and_refuses_writes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    home = ["--home", str(tmp_path)]
    code, out, _ = cli(capsys, *home, "warehouse", "sql", "SELECT 40 + 2 AS answer", "--csv")
    assert code == 0 and out.splitlines() == ["answer", "42"]
    code, out, err = cli(capsys, *home, "warehouse", "sql", "DELETE FROM papers")
    assert code == 1
    assert err.strip().startswith("error: refused")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_newer_database_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    from warehouse import migrate

    migrate(wh)
    with wh.write() as con:
        con.execute(
            "INSERT INTO schema_version VALUES (?, 'future', now())", [latest_version() + 1]
        )
    code, _, err = cli(capsys, "--home", str(tmp_path), "status")
    assert code == 1
    assert "newer" in err or "only knows" in err
    assert "Traceback" not in err


def test_invalid_setting_exit_code_and_no_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "secret-token-value-1234")
    monkeypatch.setenv("SCICURATE_HTTP_TIMEOUT_S", "zero")
    code, out, err = cli(capsys, "--home", str(tmp_path), "status")
    assert code == 3
    assert "http_timeout_s" in err
    assert "secret-token-value-1234" not in out + err


def test_usage_error_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "no-such-command")
    assert code == 2 and "No such command" in err


def test_installed_entry_point_runs(tmp_path: Path) -> None:
    """The console script, as a user runs it, in a separate process."""
    exe = Path(sys.executable).with_name("scicurate")
    done = subprocess.run(
        [str(exe), "--home", str(tmp_path), "warehouse", "sql", "DROP TABLE papers"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "refused" in done.stderr
    done = subprocess.run(
        [str(exe), "--home", str(tmp_path), "status"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Backlog per stage" in done.stdout
