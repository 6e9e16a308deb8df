"""What every build goes through before it is published, whatever its builder.

- **Eval minimums.** A validation or test split smaller than ``EvalMinimum.rows`` rows (or, for
  a pre-training set, ``EvalMinimum.tokens`` tokens) is not written: its rows join ``train``,
  and the card and the build output say why. Splits are assigned by paper (``split_of``), so a
  paper is still in exactly one split: nothing leaks.
- **Licences.** Rows that come from a paper (a ``paper_id`` column) get a ``license`` column
  from ``papers.license`` (``unknown`` where the source gave none), and the card a breakdown.
- **Sizes.** Tokens per split, by a documented proxy (ceil(characters / 4),
  ``warehouse.datasets.card.SIZE_ESTIMATE_NOTE``), over the columns the
  trainer reads; for preference pairs, the lengths of chosen against rejected.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from warehouse.builders.base import BuildOutput
from warehouse.builders.splits import SPLITS
from warehouse.datasets.model import DatasetCard
from warehouse.db import Warehouse

CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class EvalMinimum:
    """The smallest validation/test split worth writing (settings ``eval_min_rows`` and
    ``eval_min_tokens``; the token floor applies to pre-training sets only)."""

    rows: int = 20
    tokens: int = 4096


def stage_of(card: DatasetCard) -> str:
    """The LLaMA-Factory ``stage`` that trains on this dataset."""
    if card.ranking:
        return "dpo"
    if set(card.columns) == {"prompt"} and card.formatting in ("text", "alpaca"):
        return "pt"
    return "sft"


def _tokens(table: pa.Table, columns: list[str]) -> int:
    total = 0
    for name in columns:
        if name in table.column_names:
            lengths = pc.utf8_length(pc.fill_null(table.column(name), ""))
            total += sum(math.ceil(n / CHARS_PER_TOKEN) for n in lengths.to_pylist())
    return total


def _read_columns(card: DatasetCard) -> list[str]:
    return list(dict.fromkeys(card.columns.values()))


def _with_licences(
    wh: Warehouse, splits: dict[str, pa.Table]
) -> tuple[dict[str, pa.Table], Counter[str]]:
    ids = sorted({p for t in splits.values() for p in t.column("paper_id").to_pylist() if p})
    with wh.read() as con:
        found = dict(
            con.execute(
                "SELECT paper_id, license FROM papers WHERE paper_id IN "
                "(SELECT unnest(?::VARCHAR[]))",
                [ids],
            ).fetchall()
        )
    out, counts = {}, Counter[str]()
    for split, table in splits.items():
        licences = [found.get(p) or "unknown" for p in table.column("paper_id").to_pylist()]
        counts.update(licences)
        out[split] = table.append_column(pa.field("license", pa.string()), pa.array(licences))
    return out, counts


def _length_stats(splits: dict[str, pa.Table]) -> dict[str, dict[str, float]]:
    out = {}
    for side in ("chosen", "rejected"):
        lengths = [
            n
            for t in splits.values()
            for n in pc.utf8_length(pc.fill_null(t.column(side), "")).to_pylist()
        ]
        lengths.sort()
        if lengths:
            out[side] = {
                "mean_chars": round(sum(lengths) / len(lengths), 1),
                "median_chars": float(lengths[len(lengths) // 2]),
                "max_chars": float(lengths[-1]),
            }
    return out


def finish_build(wh: Warehouse, output: BuildOutput, minimum: EvalMinimum) -> BuildOutput:
    """Apply the eval minimums, the licence column and the size statistics to a build."""
    card = output.card
    stage = stage_of(card)
    columns = _read_columns(card)
    splits = dict(output.splits)
    notes: list[str] = []
    for split in SPLITS[1:]:
        table = splits.get(split)
        asked = float(output.params.get(split, 0) or 0)
        if table is None:
            if asked > 0:
                notes.append(
                    f"`{split}` not written: 0 rows, fewer than the minimum of {minimum.rows} "
                    f"({asked:.1%} of papers was asked for)."
                )
            continue
        tokens = _tokens(table, columns)
        why = None
        if table.num_rows < minimum.rows:
            why = f"{table.num_rows} rows, fewer than the minimum of {minimum.rows}"
        elif stage == "pt" and tokens < minimum.tokens:
            why = f"about {tokens:,} tokens, fewer than the minimum of {minimum.tokens:,}"
        if why:
            del splits[split]
            train = splits.get("train")
            splits["train"] = table if train is None else pa.concat_tables([train, table])
            notes.append(
                f"`{split}` not written: {why} ({asked:.1%} of papers was asked for); its rows "
                "(whole papers, so nothing leaks) went to train."
            )
    ordered = {s: splits[s] for s in SPLITS if s in splits}
    ordered.update({s: t for s, t in splits.items() if s not in ordered})
    licences: Counter[str] = Counter()
    if all("paper_id" in t.column_names for t in ordered.values()) and not any(
        "license" in t.column_names for t in ordered.values()
    ):
        ordered, licences = _with_licences(wh, ordered)
    stats = dict(output.stats)
    stats["rows"] = {s: t.num_rows for s, t in ordered.items()}
    extra: dict[str, Any] = {
        "stage": stage,
        "tokens": {s: _tokens(t, columns) for s, t in ordered.items()},
        "split_notes": notes,
        "licences": dict(licences.most_common()),
    }
    if card.ranking:
        extra["pair_lengths"] = _length_stats(ordered)
    card = replace(card, source_stats=stats, extra={**card.extra, **extra})
    return replace(output, splits=ordered, card=card, stats={**stats, **extra})
