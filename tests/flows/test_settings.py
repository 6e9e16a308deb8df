"""Settings: sources, precedence, validation messages, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.home == Path(".scicurate")
    assert s.warehouse_path == Path(".scicurate/warehouse.duckdb")
    assert str(s.arxiv_oai_url) == "https://oaipmh.arxiv.org/oai"
    assert s.arxiv_min_interval_s == 3.0


def test_env_toml_and_override_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scicurate.toml").write_text(
        'home = "from-toml"\narxiv_min_interval_s = 5\nllm_model = "toml-model"\n'
    )
    s = load_settings()
    assert (s.home, s.arxiv_min_interval_s, s.llm_model) == (Path("from-toml"), 5, "toml-model")
    monkeypatch.setenv("SCICURATE_HOME", "from-env")
    monkeypatch.setenv("SCICURATE_ARXIV_API_URL", "http://127.0.0.1:9/api/query")
    s = load_settings()
    assert s.home == Path("from-env")
    assert str(s.arxiv_api_url) == "http://127.0.0.1:9/api/query"
    assert s.llm_model == "toml-model"
    assert load_settings(home=tmp_path / "cli").home == tmp_path / "cli"


def test_config_file_named_by_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('llm_model = "m"\n')
    monkeypatch.setenv("SCICURATE_CONFIG", str(config))
    assert load_settings().llm_model == "m"
    monkeypatch.setenv("SCICURATE_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match="not a file"):
        load_settings()


def test_invalid_values_name_the_field_and_source(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCICURATE_ARXIV_MIN_INTERVAL_S", "-1")
    monkeypatch.setenv("SCICURATE_ARXIV_OAI_URL", "not a url")
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "arxiv_min_interval_s (SCICURATE_ARXIV_MIN_INTERVAL_S" in message
    assert "arxiv_oai_url" in message
    assert "not a url" not in message  # input values are never echoed


def test_unknown_toml_key_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scicurate.toml").write_text('hoem = "typo"\n')
    with pytest.raises(SettingsError, match="hoem"):
        load_settings()


def test_broken_toml_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scicurate.toml").write_text("home = \n")
    with pytest.raises(SettingsError, match=r"scicurate\.toml"):
        load_settings()


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    secret = "ls-token-0123456789abcdef"
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", secret)
    monkeypatch.setenv("OPENREVIEW_USERNAME", "ada@example.org")
    monkeypatch.setenv("OPENREVIEW_PASSWORD", "hunter2-hunter2")
    monkeypatch.setenv("SCICURATE_LLM_API_KEY", "sk-abcdef")
    s = load_settings()
    assert s.label_studio_api_key is not None
    assert s.label_studio_api_key.get_secret_value() == secret
    assert s.openreview_username == "ada@example.org"
    for text in (str(s), repr(s), s.model_dump_json()):
        assert secret not in text
        assert "hunter2-hunter2" not in text
        assert "sk-abcdef" not in text
    # An invalid secret-bearing setting reports the field, not the value.
    monkeypatch.setenv("SCICURATE_LLM_URL", "sk-not-a-url")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "sk-not-a-url" not in str(info.value)
