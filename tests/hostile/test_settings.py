"""Hostile settings: each is a one-line settings error (exit 3) before anything is created,
read or fetched; an existing catalog is left as it was."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from settings import Settings
from tests.hostile.conftest import Outcome
from warehouse import Warehouse, migrate

Cli = Callable[..., Outcome]
# Every interval and timeout setting: the float fields counted in seconds.
SECONDS = sorted(name for name in Settings.model_fields if name.endswith("_s"))


@pytest.fixture(autouse=True)
def _cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no scicurate.toml of the caller's, a default home in tmp


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_interval_and_timeout_settings_are_all_covered() -> None:
    assert {
        "arxiv_min_interval_s", "openreview_min_interval_s", "http_timeout_s",
        "max_retry_wait_s", "lock_timeout_s", "parse_timeout_s",
    } <= set(SECONDS)  # fmt: skip


@pytest.mark.parametrize("where", ["env", "option"])
def test_a_home_that_is_a_file_is_a_settings_error(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    home = tmp_path / "home-file"
    home.write_text("not a folder\n")
    before = _digest(home)
    if where == "env":
        monkeypatch.setenv("SCICURATE_HOME", str(home))
        result = cli("status")
    else:
        result = cli("--home", str(home), "status")
    assert result.code == 3
    line = result.one_line_error()
    assert "home (SCICURATE_HOME" in line
    assert f"{home} cannot be a folder: it is a file, not a folder" in line
    assert _digest(home) == before  # the file is untouched


def test_a_home_below_a_file_names_the_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    monkeypatch.setenv("SCICURATE_HOME", str(blocker / "home"))
    result = cli("import", "arxiv-snapshot", str(blocker))
    assert result.code == 3
    assert f"{blocker} is a file, not a folder" in result.one_line_error()


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e309", "1e300", "-1"])
@pytest.mark.parametrize("name", SECONDS)
def test_an_unbounded_interval_or_timeout_is_refused(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv(f"SCICURATE_{name.upper()}", value)
    result = cli("--home", str(home), "status")
    assert result.code == 3
    line = result.one_line_error()
    assert f"{name} (SCICURATE_{name.upper()}" in line, line
    assert not home.exists()  # refused before anything was created


def test_the_reported_inf_interval_never_reaches_a_sleep(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reproduction: a crawl with an infinite gap between requests (it crashed in the
    client's sleep with OverflowError). The catalog already there is left as it was."""
    home = tmp_path / "home"
    migrate(Warehouse(home / "warehouse.duckdb"))
    before = _digest(home / "warehouse.duckdb")
    monkeypatch.setenv("SCICURATE_ARXIV_MIN_INTERVAL_S", "inf")
    monkeypatch.setenv("SCICURATE_ARXIV_OAI_URL", "http://127.0.0.1:9/oai")  # never asked
    result = cli("--home", str(home), "crawl", "arxiv", "--category", "cs", "--max", "1")
    assert result.code == 3
    assert "Input should be a finite number" in result.one_line_error()
    assert _digest(home / "warehouse.duckdb") == before
    with Warehouse(home / "warehouse.duckdb").read() as con:
        assert con.execute("SELECT count(*) FROM runs").fetchall() == [(0,)]


def test_an_infinite_value_in_the_toml_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "scicurate.toml").write_text("http_timeout_s = inf\nlock_timeout_s = 1e400\n")
    result = cli("--home", str(tmp_path / "home"), "status")
    assert result.code == 3
    line = result.one_line_error()
    assert "http_timeout_s" in line and "lock_timeout_s" in line and "scicurate.toml" in line


@pytest.mark.parametrize(("value", "code"), [("3600", 0), ("3600.5", 3), ("0", 0)])
def test_the_bounds_themselves(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, code: int
) -> None:
    monkeypatch.setenv("SCICURATE_ARXIV_MIN_INTERVAL_S", value)
    result = cli("--home", str(tmp_path / "home"), "status")
    assert result.code == code, result.err
    if code:
        assert "less than or equal to 3600" in result.one_line_error()
