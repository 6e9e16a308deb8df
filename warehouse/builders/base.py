"""The ``Builder`` protocol: warehouse rows in, splits of a training set out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from core.errors import ScicurateError
from warehouse.datasets.model import DatasetCard
from warehouse.db import Warehouse

# The columns every Alpaca-format dataset starts with (LLaMA-Factory: prompt/query/response).
ALPACA_FIELDS: list[tuple[str, pa.DataType]] = [
    ("sample_id", pa.string()),
    ("instruction", pa.string()),
    ("input", pa.string()),
    ("output", pa.string()),
]
ALPACA_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output"}


class BuildError(ScicurateError):
    """A builder cannot run: unknown parameter, bad value, or nothing to build from."""


class NothingToBuildError(BuildError):
    """The warehouse has no source rows for this dataset yet."""


@dataclass(frozen=True)
class BuildOutput:
    splits: dict[str, pa.Table]
    card: DatasetCard
    params: dict[str, Any]
    stats: dict[str, Any] = field(default_factory=dict)


# How a builder fans work out: ``mapper(fn, items)`` returns ``[fn(x) for x in items]``, in
# order, wherever it runs them (here, or as tasks on a Dask cluster through Prefect).
Mapper = Callable[[Callable[[Any], Any], list[Any]], list[Any]]


def local_map(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return [fn(item) for item in items]


class Builder(Protocol):
    name: str
    version: str
    defaults: dict[str, Any]

    def build(
        self, wh: Warehouse, params: dict[str, Any], mapper: Mapper = local_map
    ) -> BuildOutput: ...


def merge_params(defaults: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """Apply ``--param k=v`` strings over typed defaults, refusing unknown keys."""
    out = dict(defaults)
    for key, raw in given.items():
        if key not in defaults:
            raise BuildError(f"unknown parameter {key!r}; known: {', '.join(sorted(defaults))}")
        kind = type(defaults[key])
        try:
            if kind is bool:
                out[key] = raw.lower() in {"1", "true", "yes", "on"}
            elif defaults[key] is None:
                out[key] = int(raw) if raw.isdigit() else raw
            else:
                out[key] = kind(raw)
        except ValueError:
            raise BuildError(f"parameter {key}={raw!r} is not a valid {kind.__name__}") from None
    return out
