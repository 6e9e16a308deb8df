"""The HF dataset card (README.md) and the LLaMA-Factory dataset_info.json entry."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from warehouse.datasets.model import DatasetCard

_HF_TYPES = {
    pa.string(): "string", pa.large_string(): "string", pa.int64(): "int64",
    pa.int32(): "int32", pa.float64(): "float64", pa.float32(): "float32", pa.bool_(): "bool",
}  # fmt: skip


def _feature(field: pa.Field) -> dict[str, Any]:
    if field.type in _HF_TYPES:
        return {"name": field.name, "dtype": _HF_TYPES[field.type]}
    if pa.types.is_list(field.type) and field.type.value_type in _HF_TYPES:
        return {"name": field.name, "sequence": _HF_TYPES[field.type.value_type]}
    if pa.types.is_timestamp(field.type):
        return {"name": field.name, "dtype": f"timestamp[{field.type.unit}]"}
    return {"name": field.name, "dtype": str(field.type)}


def render_card(
    name: str,
    version: int,
    card: DatasetCard,
    schema: pa.Schema,
    files_by_split: dict[str, list[str]],
    rows: dict[str, int],
    manifest_extra: dict[str, Any],
) -> str:
    """README.md with YAML front matter that HF `datasets` and the Hub understand."""
    lines = [
        "---",
        f"license: {card.license}",
        "configs:",
        "- config_name: default",
        "  data_files:",
    ]
    for split in files_by_split:
        lines += [f"  - split: {split}", f"    path: data/{split}-*.parquet"]
    lines += ["dataset_info:", "  features:"]
    for field in schema:
        feature = _feature(field)
        lines.append(f"  - name: {feature.pop('name')}")
        for key, value in feature.items():
            lines.append(f"    {key}: {value}")
    lines += ["  splits:"]
    for split, n in rows.items():
        lines += [f"  - name: {split}", f"    num_examples: {n}"]
    lines += ["---", "", f"# {name} (v{version})", "", card.description, ""]
    lines += ["## Splits", "", "| split | rows |", "|---|---|"]
    lines += [f"| {split} | {n:,} |" for split, n in rows.items()]
    if card.source_stats:
        lines += ["", "## Sources", "", "```json", json.dumps(card.source_stats, indent=2), "```"]
    lines += ["", "## How it was built", "", card.how_built or "(not described)"]
    builder = manifest_extra.get("builder") or {}
    lines += [
        "",
        f"Builder `{builder.get('name')}` {builder.get('version')} with parameters "
        f"`{json.dumps(builder.get('params', {}), sort_keys=True)}`; parent version "
        f"{manifest_extra.get('parent_version') or 'none'}; scicurate "
        f"{manifest_extra.get('scicurate_version')}.",
        "",
        "## License",
        "",
        card.license_notes or f"License: {card.license}.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("parquet", data_files={"train": "data/train-*.parquet"})',
        "```",
        "",
        "Every file's sha256 is in `manifest.json`; `scicurate datasets pull` verifies them.",
        "",
    ]
    return "\n".join(lines)


def llamafactory_entry(
    name: str, card: DatasetCard, files_by_split: dict[str, list[str]]
) -> dict[str, Any]:
    """dataset_info.json for LLaMA-Factory: one entry per split, pointing at its files."""
    entries: dict[str, Any] = {}
    for split, files in files_by_split.items():
        entry: dict[str, Any] = {
            "file_name": files[0] if len(files) == 1 else "data",
            "formatting": card.formatting if card.formatting != "text" else "alpaca",
            "columns": dict(card.columns),
        }
        if card.ranking:
            entry["ranking"] = True
        key = name if split == "train" else f"{name}_{split}"
        entries[key] = entry
    return entries
