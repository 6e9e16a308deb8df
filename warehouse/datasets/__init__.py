"""Immutable, versioned, checksummed Parquet datasets: publish, verify, pull, diff, load."""

from warehouse.datasets.model import (
    BuilderInfo,
    DatasetCard,
    DatasetError,
    DatasetIntegrityError,
    DatasetNotFoundError,
    PublishResult,
)
from warehouse.datasets.publish import publish
from warehouse.datasets.read import list_versions, load, read_manifest, resolve

__all__ = [
    "BuilderInfo",
    "DatasetCard",
    "DatasetError",
    "DatasetIntegrityError",
    "DatasetNotFoundError",
    "PublishResult",
    "list_versions",
    "load",
    "publish",
    "read_manifest",
    "resolve",
]
