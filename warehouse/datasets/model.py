"""What a dataset version is made of, and the named errors around it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ScicurateError

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SPLIT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MANIFEST = "manifest.json"
CARD = "README.md"
LLAMAFACTORY = "dataset_info.json"


class DatasetError(ScicurateError):
    """Base class for dataset errors the CLI reports in one line."""


class DatasetNotFoundError(DatasetError):
    """No such dataset, or no such version of it."""


class DatasetIntegrityError(DatasetError):
    """A file does not match its manifest (missing, extra, or a different checksum)."""


@dataclass(frozen=True)
class BuilderInfo:
    name: str
    version: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetCard:
    """What the HF card and the LLaMA-Factory entry say about the dataset."""

    description: str
    license: str = "other"
    license_notes: str = ""
    how_built: str = ""
    source_stats: dict[str, Any] = field(default_factory=dict)
    formatting: str = "alpaca"  # LLaMA-Factory: alpaca | sharegpt; "text" for pre-training
    columns: dict[str, str] = field(default_factory=dict)  # LLaMA-Factory column mapping
    ranking: bool = False  # LLaMA-Factory preference data (chosen/rejected)
    pretty_name: str = ""  # HF card title; "scicurate <name>" when empty
    language: tuple[str, ...] = ("en",)
    task_categories: tuple[str, ...] = ("text-generation",)
    license_name: str = ""  # required by the Hub when license is "other"
    license_link: str = ""
    # What every build adds (warehouse.builders.finish): stage, tokens per split, split notes,
    # licence breakdown, chosen/rejected lengths.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishResult:
    name: str
    version: int
    path: Path
    created: bool  # False when the content equals the latest version's
    rows: dict[str, int]


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise DatasetError(
            f"dataset name {name!r} must be lowercase letters, digits and dashes (e.g. sft-title)"
        )
    return name


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``sft-title`` -> (sft-title, None); ``sft-title@v3`` -> (sft-title, 3)."""
    name, _, version = ref.partition("@")
    check_name(name)
    if not version:
        return name, None
    if not re.fullmatch(r"v?\d+", version):
        raise DatasetError(f"version in {ref!r} must look like v3")
    return name, int(version.lstrip("v"))
