"""Settings, read once at the edge (the CLI or a flow) and passed down as parameters.

Sources, highest priority first: explicit overrides (CLI options), environment variables, an
optional ``scicurate.toml`` (in the working directory, or named by ``SCICURATE_CONFIG``), then
defaults. Secrets are ``SecretStr``: they print as ``**********`` everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, Field, HttpUrl, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from annotation.client import LabelStudioClient
from annotation.errors import NotConfiguredError
from annotation.push import Overlap
from annotation.server import load_credentials
from core.errors import ScicurateError
from core.http import Politeness
from parsers.nougat import NougatOptions
from parsers.ocr import OcrOptions
from parsers.pymupdf import PyMuPDFOptions
from parsers.run import PARSER_NAMES, ParseSpec
from warehouse import Warehouse, WarehouseSpec
from warehouse.best_source import DEFAULT_ORDER
from warehouse.builders.finish import EvalMinimum
from warehouse.pdf_store import PdfStore

if TYPE_CHECKING:
    from jobs.crawl_openreview import OpenReviewConfig
    from jobs.import_arxiv_bulk import BulkConfig

CONFIG_ENV = "SCICURATE_CONFIG"
DEFAULT_CONFIG = Path("scicurate.toml")


class SettingsError(ScicurateError):
    """Settings are missing or invalid; the message names each bad field and its source."""


# Upper bounds of the interval and timeout settings: finite, and far beyond any sensible value
# (a typo such as `inf` or 1e300 would otherwise pass validation and overflow a sleep later).
HOUR_S = 3600.0
DAY_S = 86400.0


def _seconds(default: float, *, most: float, zero_ok: bool = True, about: str = "") -> Any:
    """A finite number of seconds in ``[0, most]`` (or ``(0, most]``)."""
    return Field(
        default=default,
        ge=0 if zero_ok else None,
        gt=None if zero_ok else 0,
        le=most,
        allow_inf_nan=False,
        description=about,
    )


def _env(name: str, *aliases: str) -> Any:
    return AliasChoices(name, *aliases)


class Settings(BaseSettings):
    """Every knob scicurate reads. Field names double as keys in ``scicurate.toml``."""

    model_config = SettingsConfigDict(
        env_prefix="SCICURATE_",
        extra="forbid",
        populate_by_name=True,
        hide_input_in_errors=True,
    )

    home: Path = Field(default=Path(".scicurate"), description="warehouse, PDFs, datasets")

    arxiv_api_url: HttpUrl = HttpUrl("https://export.arxiv.org/api/query")
    arxiv_oai_url: HttpUrl = HttpUrl("https://oaipmh.arxiv.org/oai")
    arxiv_pdf_url: HttpUrl = HttpUrl("https://arxiv.org/pdf/")
    arxiv_html_url: HttpUrl = HttpUrl("https://arxiv.org/html/")
    arxiv_eprint_url: HttpUrl = HttpUrl("https://arxiv.org/e-print/")
    arxiv_s3_bucket: str = Field(
        default="arxiv", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="bulk tars"
    )
    arxiv_s3_endpoint_url: HttpUrl | None = Field(
        default=None, description="S3 endpoint of the bulk bucket (unset: AWS)"
    )
    arxiv_s3_block_bytes: int = Field(
        default=64 << 20, ge=64 << 10, le=1 << 30, description="bytes per ranged GET of a tar"
    )
    fulltext_order: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ORDER),
        min_length=1,
        description="best document source first (arxiv-src, arxiv-html, nougat, pymupdf)",
    )
    arxiv_min_interval_s: float = _seconds(3.0, most=HOUR_S, about="gap between requests")

    openreview_api_url: HttpUrl = HttpUrl("https://api2.openreview.net")
    openreview_api_v1_url: HttpUrl = HttpUrl("https://api.openreview.net")
    openreview_web_url: HttpUrl = HttpUrl("https://openreview.net")
    openreview_min_interval_s: float = _seconds(2.0, most=HOUR_S, about="gap between requests")
    openreview_username: str | None = Field(
        default=None, validation_alias=_env("openreview_username", "OPENREVIEW_USERNAME")
    )
    openreview_password: SecretStr | None = Field(
        default=None, validation_alias=_env("openreview_password", "OPENREVIEW_PASSWORD")
    )

    label_studio_url: HttpUrl | None = Field(
        default=None, validation_alias=_env("label_studio_url", "LABEL_STUDIO_URL")
    )
    label_studio_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("label_studio_api_key", "LABEL_STUDIO_API_KEY")
    )
    label_studio_project: str = Field(
        default="scicurate error triage",
        min_length=3,
        max_length=50,
        description="the triage project's title",
    )

    label_studio_annotators: int = Field(
        default=2, ge=1, le=20, description="experts on an overlap task (for agreement)"
    )
    label_studio_overlap_percent: int = Field(
        default=0, ge=0, le=100, description="share of tasks for several experts; others: one"
    )

    llm_url: HttpUrl | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None

    pdf_store: str | None = Field(
        default=None, description="fsspec URI mirroring verified PDFs (s3://bucket/prefix)"
    )
    s3_endpoint_url: HttpUrl | None = Field(
        default=None, description="S3-compatible endpoint for s3:// dataset remotes"
    )

    nougat_model: str = Field(
        default="facebook/nougat-base", description="Nougat weights: a local dir or a hub id"
    )
    parse_timeout_s: float = _seconds(
        120.0, most=DAY_S, zero_ok=False, about="wall time per document"
    )
    parse_memory_mb: int = Field(
        default=2048, ge=256, le=1 << 22, description="address space per parser (at most 4 TB)"
    )
    parse_max_pages: int = Field(
        default=500, ge=1, le=100_000, description="longer PDFs fail to parse"
    )
    dask_address: str | None = Field(
        default=None, description="Dask scheduler for executor=dask (unset: a local cluster)"
    )
    parse_tables: bool = Field(default=True, description="find_tables() on pages with a caption")
    ocr: bool = Field(default=True, description="OCR pages without a text layer (Tesseract)")
    ocr_languages: str = Field(
        default="eng",
        pattern=r"^[a-z_]{3,}(\+[a-z_]{3,})*$",
        description="Tesseract languages, e.g. eng+deu (install tesseract-ocr-<lang>)",
    )
    ocr_dpi: int = Field(default=300, ge=72, le=600, description="OCR rendering resolution")
    ocr_timeout_s: float = _seconds(60.0, most=HOUR_S, zero_ok=False, about="OCR per page")
    ocr_budget_s: float = _seconds(60.0, most=DAY_S, about="OCR time per document")

    eval_min_rows: int = Field(
        default=20, ge=1, le=1_000_000, description="smaller eval splits join train"
    )
    eval_min_tokens: int = Field(
        default=4096, ge=0, le=1 << 40, description="smaller pre-training eval splits join train"
    )

    http_timeout_s: float = _seconds(60.0, most=HOUR_S, zero_ok=False, about="per request")
    max_retry_wait_s: float = _seconds(600.0, most=DAY_S, about="total wait on 429/503")
    lock_timeout_s: float = _seconds(
        60.0, most=HOUR_S, zero_ok=False, about="wait for the DuckDB lock"
    )

    @field_validator("fulltext_order")
    @classmethod
    def _known_sources(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in DEFAULT_ORDER]
        if unknown or len(set(value)) != len(value):
            raise ValueError(
                f"a list of distinct sources among {', '.join(DEFAULT_ORDER)}; "
                f"got {', '.join(value)}"
            )
        return value

    @field_validator("home", mode="before")
    @classmethod
    def _expand_home(cls, value: Any) -> Any:
        return Path(value).expanduser() if isinstance(value, str | Path) else value

    @field_validator("home")
    @classmethod
    def _home_is_a_folder(cls, value: Path) -> Path:
        """The home, or the nearest part of it that exists, must be a folder (it is created
        on first use)."""
        for part in (value, *value.parents):
            try:
                if not part.exists():
                    continue
                is_dir = part.is_dir()
            except OSError:  # unreadable: the warehouse reports it when it opens
                return value
            if not is_dir:
                what = "it is" if part == value else f"{part} is"
                raise ValueError(f"{value} cannot be a folder: {what} a file, not a folder")
            break
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config = Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config))

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def pdf_dir(self) -> Path:
        return self.home / "pdfs"

    @property
    def annotation_overlap(self) -> Overlap:
        """How many experts a task needs: one, or ``label_studio_annotators`` on
        ``label_studio_overlap_percent`` of the tasks."""
        return Overlap(self.label_studio_annotators, self.label_studio_overlap_percent)

    @property
    def eval_minimum(self) -> EvalMinimum:
        """The smallest eval split a build writes (rows; tokens for pre-training sets)."""
        return EvalMinimum(rows=self.eval_min_rows, tokens=self.eval_min_tokens)

    @property
    def datasets_dir(self) -> Path:
        return self.home / "datasets"

    @property
    def mixtures_dir(self) -> Path:
        """Named mixture specs (``*.toml``) that export-datasets rebuilds."""
        return self.home / "mixtures"

    @property
    def review_models_dir(self) -> Path:
        """Review-aspect models ``reviews train`` stored, one folder a version, and CURRENT."""
        return self.home / "models" / "review-aspects"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def feedback_inbox(self) -> Path:
        """Drop feedback files (.jsonl, .parquet) here; route-feedback ingests them."""
        return self.home / "feedback" / "inbox"

    def label_studio_client(self) -> LabelStudioClient:
        if self.label_studio_url is None or self.label_studio_api_key is None:
            local = load_credentials(self.home / "label-studio")
            if local and local.get("url") and local.get("api_key"):
                return LabelStudioClient(local["url"], local["api_key"])
            raise NotConfiguredError(
                "Label Studio is not configured: set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY "
                "(or label_studio_url / label_studio_api_key in scicurate.toml), or start a "
                "local one with `scicurate annotate server`"
            )
        return LabelStudioClient(
            str(self.label_studio_url), self.label_studio_api_key.get_secret_value()
        )

    def llm_politeness(self) -> Politeness:
        """An OpenAI-compatible endpoint: no spacing of our own, 429/5xx waited out briefly."""
        return Politeness(min_interval=0, timeout=self.http_timeout_s, max_retry_wait=120)

    def arxiv_politeness(self) -> Politeness:
        return Politeness(
            min_interval=self.arxiv_min_interval_s,
            timeout=self.http_timeout_s,
            max_retry_wait=self.max_retry_wait_s,
            global_limit="arxiv",
        )

    def openreview_politeness(self) -> Politeness:
        return Politeness(
            min_interval=self.openreview_min_interval_s,
            timeout=self.http_timeout_s,
            max_retry_wait=self.max_retry_wait_s,
            global_limit="openreview",
        )

    def openreview_config(self) -> OpenReviewConfig:
        from jobs.crawl_openreview import OpenReviewConfig

        return OpenReviewConfig(
            api_url=str(self.openreview_api_url),
            api_v1_url=str(self.openreview_api_v1_url),
            web_url=str(self.openreview_web_url),
            politeness=self.openreview_politeness(),
            username=self.openreview_username,
            password=self.openreview_password,
        )

    def arxiv_fulltext_urls(self) -> dict[str, str]:
        """arXiv's full-text bases by kind: html (LaTeXML pages) and src (e-prints)."""
        return {"html": str(self.arxiv_html_url), "src": str(self.arxiv_eprint_url)}

    def bulk_config(self) -> BulkConfig:
        """arXiv's requester-pays bucket (credentials from the standard AWS_* environment)."""
        from jobs.import_arxiv_bulk import BulkConfig

        options: dict[str, Any] = {}
        if self.arxiv_s3_endpoint_url is not None:
            options["endpoint_url"] = str(self.arxiv_s3_endpoint_url).rstrip("/")
        return BulkConfig(self.arxiv_s3_bucket, options, self.arxiv_s3_block_bytes)

    def storage_options(self, uri: str) -> dict[str, Any]:
        """fsspec options for a remote URI (credentials come from the standard AWS_* env)."""
        if uri.startswith("s3://") and self.s3_endpoint_url is not None:
            return {"client_kwargs": {"endpoint_url": str(self.s3_endpoint_url).rstrip("/")}}
        return {}

    def pdf_store_client(self) -> PdfStore | None:
        if not self.pdf_store:
            return None
        return PdfStore(self.pdf_store, self.storage_options(self.pdf_store))

    def parse_spec(self, parser: str = "pymupdf") -> ParseSpec:
        if parser not in PARSER_NAMES:
            raise ValueError(f"unknown parser {parser!r}; choose one of {', '.join(PARSER_NAMES)}")
        return ParseSpec(
            parser=parser,  # type: ignore[arg-type]
            pymupdf=PyMuPDFOptions(
                tables=self.parse_tables,
                ocr=OcrOptions(
                    enabled=self.ocr,
                    languages=self.ocr_languages,
                    dpi=self.ocr_dpi,
                    timeout_s=self.ocr_timeout_s,
                    budget_s=self.ocr_budget_s,
                ),
            ),
            nougat=NougatOptions(model=self.nougat_model),
            max_pages=self.parse_max_pages,
            wall_s=self.parse_timeout_s,
            memory_mb=self.parse_memory_mb,
        )

    def warehouse(self) -> Warehouse:
        return self.warehouse_spec().open()

    def migrated_warehouse(self) -> Warehouse:
        """The warehouse, created or upgraded to this build's schema if needed (a newer
        database is refused with ``SchemaTooNewError``)."""
        from warehouse import current_version, latest_version, migrate

        wh = self.warehouse()
        if current_version(wh) != latest_version():
            migrate(wh)
        return wh

    def warehouse_spec(self) -> WarehouseSpec:
        """The catalog's handle as a picklable spec, for tasks and workers."""
        return WarehouseSpec(str(self.warehouse_path), lock_timeout_s=self.lock_timeout_s)


def load_settings(**overrides: Any) -> Settings:
    """Read settings; ``overrides`` (non-None values only) win over every other source.

    Raises ``SettingsError`` with one line per invalid field, never echoing the value.
    """
    config = Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG))
    if CONFIG_ENV in os.environ and not config.is_file():
        raise SettingsError(f"{CONFIG_ENV} names {config}, which is not a file")
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            env = f"SCICURATE_{field.upper()}"
            problems.append(f"{field} ({env} or '{field}' in {config}): {err['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read {config}: {exc}") from None
