"""The HF dataset card (README.md) and the LLaMA-Factory dataset_info.json entry."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import yaml

from warehouse.datasets.model import DatasetCard

SIZE_ESTIMATE_NOTE = (
    "estimated as ceil(characters / 4) per field the trainer reads (a rule of thumb for BPE "
    "tokenizers on English; a real tokenizer can differ by 20-30%, more on LaTeX)"
)

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


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` bucket for ``n`` rows."""
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"),
                         (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")):  # fmt: skip
        if n < limit:
            return label
    return "n>1B"


def _header(
    name: str, card: DatasetCard, schema: pa.Schema, files_by_split: dict[str, list[str]],
    rows: dict[str, int], num_bytes: dict[str, int],
) -> dict[str, Any]:  # fmt: skip
    header: dict[str, Any] = {
        "pretty_name": card.pretty_name or f"scicurate {name}",
        "license": card.license,
    }
    if card.license == "other":
        header["license_name"] = card.license_name or (
            "per-paper-licenses" if card.extra.get("licences") else "scicurate-feedback"
        )
        header["license_link"] = card.license_link or (
            "https://info.arxiv.org/help/license/index.html"
            if card.extra.get("licences")
            else "README.md#license"
        )
    header["language"] = list(card.language)
    header["task_categories"] = list(card.task_categories)
    header["size_categories"] = [size_category(sum(rows.values()))]
    header["configs"] = [
        {
            "config_name": "default",
            "data_files": [
                {"split": split, "path": f"data/{split}/*.parquet"} for split in files_by_split
            ],
        }
    ]
    features = []
    for field in schema:
        feature = _feature(field)
        features.append({"name": feature.pop("name"), **feature})
    header["dataset_info"] = {
        "features": features,
        "splits": [
            {"name": split, "num_bytes": num_bytes.get(split, 0), "num_examples": n}
            for split, n in rows.items()
        ],
        "dataset_size": sum(num_bytes.get(split, 0) for split in rows),
    }
    return header


def _loading(name: str, version: int, card: DatasetCard, rows: dict[str, int]) -> list[str]:
    stage = card.extra.get("stage", "sft")
    ref = f"datasets/{name}/v{version}"
    evals = [s for s in rows if s != "train"]
    lines = [
        "## Loading",
        "",
        "`datasets/` below stands for the folder that holds `<name>/v<N>` (scicurate's "
        "`<home>/datasets`, or where `scicurate datasets pull` put the version).",
        "",
        "Hugging Face `datasets` (every split: " + ", ".join(f"`{s}`" for s in rows) + "):",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'ds = load_dataset("{ref}")',
        *[f'{split} = ds["{split}"]' for split in rows],
        "```",
        "",
        f"LLaMA-Factory (this version's `dataset_info.json`; stage `{stage}`):",
        "",
        "```yaml",
        f"stage: {stage}",
        "do_train: true",
        f"dataset_dir: {ref}",
        f"dataset: {name}",
    ]
    if evals:
        lines.append(f"eval_dataset: {name}_{evals[0]}")
    if stage == "pt":
        lines.append(
            "cutoff_len: 1024  # packed eval needs an eval split of at least this many tokens"
        )
    lines.append("```")
    if stage == "dpo":
        lines += ["", "The same entries train a reward model with `stage: rm`."]
    lines += [
        "",
        "To mix this version with others in one run: `scicurate datasets export-llamafactory "
        f"DIR {name}@v{version} OTHER[@vN]…`, then `dataset_dir: DIR` and "
        f"`dataset: {name},OTHER`.",
    ]
    return lines


def render_card(
    name: str,
    version: int,
    card: DatasetCard,
    schema: pa.Schema,
    files_by_split: dict[str, list[str]],
    rows: dict[str, int],
    manifest_extra: dict[str, Any],
    num_bytes: dict[str, int] | None = None,
) -> str:
    """README.md with YAML front matter that HF `datasets` and the Hub understand."""
    extra = card.extra
    header = _header(name, card, schema, files_by_split, rows, num_bytes or {})
    lines = ["---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip(), "---"]
    lines += ["", f"# {header['pretty_name']} (v{version})", "", card.description, ""]
    tokens = extra.get("tokens") or {}
    lines += ["## Splits", "", "| split | rows | tokens (est.) |", "|---|---|---|"]
    lines += [f"| {split} | {n:,} | {tokens.get(split, 0):,} |" for split, n in rows.items()]
    lines += ["", f"Token counts: {SIZE_ESTIMATE_NOTE}."]
    lines += [f"- {note}" for note in extra.get("split_notes", [])]
    dropped = card.source_stats.get("dropped")
    if isinstance(dropped, dict):
        lines += ["", "## Filters", "", "| filter | rows dropped |", "|---|---|"]
        lines += [f"| {reason} | {n:,} |" for reason, n in dropped.items()]
    if extra.get("pair_lengths"):
        p = extra["pair_lengths"]
        lines += ["", "## Chosen against rejected", ""]
        lines += ["| side | mean chars | median chars | max chars |", "|---|---|---|---|"]
        lines += [
            f"| {side} | {v['mean_chars']:,} | {v['median_chars']:,.0f} | {v['max_chars']:,.0f} |"
            for side, v in p.items()
        ]
        if "chosen" in p and "rejected" in p and p["rejected"]["mean_chars"]:
            ratio = p["chosen"]["mean_chars"] / p["rejected"]["mean_chars"]
            if not 0.8 <= ratio <= 1.25:
                lines += ["", f"Chosen answers are {ratio:.2f} times as long as rejected ones on "
                          "average: a length bias DPO can learn; consider length-normalised "
                          "objectives or filtering."]  # fmt: skip
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
    ]
    if extra.get("licences"):
        lines += ["", "Rows carry a `license` column (the paper's licence as its source "
                  "gave it), so a trainer can keep only what it may redistribute:", "",
                  "| license | rows |", "|---|---|"]  # fmt: skip
        lines += [f"| {lic} | {n:,} |" for lic, n in extra["licences"].items()]
    lines += ["", *_loading(name, version, card, rows), "",
              "Every file's sha256 is in `manifest.json`; `scicurate datasets pull` verifies them.",
              ""]  # fmt: skip
    return "\n".join(lines)


def llamafactory_entry(
    name: str, card: DatasetCard, files_by_split: dict[str, list[str]]
) -> dict[str, Any]:
    """dataset_info.json for LLaMA-Factory: one entry per split, pointing at its one file or, when
    it has several, at its own folder (which holds that split's files and nothing else)."""
    entries: dict[str, Any] = {}
    for split, files in files_by_split.items():
        folders = {file.rsplit("/", 1)[0] for file in files}
        if len(files) > 1 and folders != {f"data/{split}"}:
            raise ValueError(f"split {split}'s files must lie in data/{split}/: {files}")
        entry: dict[str, Any] = {
            "file_name": files[0] if len(files) == 1 else f"data/{split}",
            "formatting": card.formatting if card.formatting != "text" else "alpaca",
            "columns": dict(card.columns),
        }
        if card.ranking:
            entry["ranking"] = True
        key = name if split == "train" else f"{name}_{split}"
        entries[key] = entry
    return entries
