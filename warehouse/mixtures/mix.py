"""Build a mixture of published dataset versions (Taiyi-style balancing across tasks).

Every step is deterministic in the spec and seed, and runs in DuckDB over the sources' Arrow
tables:

1. **Sources** are pinned versions (the latest when none is given), verified by checksum.
   They must share a format: Alpaca sets mix with Alpaca sets; ranking (chosen/rejected) and
   text sets only with their own kind.
2. **Instruction variety** (``instructions="varied"``): rows of a builder that holds several
   phrasings get one chosen by their sample id.
3. **Dedup across sources**: one row per (instruction, input); a copy in a test or validation
   split wins over one in train, then the earlier source.
4. **No leakage**: a train row of a paper that is in any source's validation or test split is
   dropped.
5. **Shares** (``strategy``), from each source's train rows n_i and weight w_i:
   ``proportional`` p_i = w_i / sum w; ``temperature`` p_i ∝ w_i * n_i^(1/T) (T = 1 keeps the
   natural sizes, larger T flattens them); ``capped`` p_i ∝ w_i * min(n_i, cap).
6. **Sizes**: the train split holds ``total`` rows (default: the sum of the sources' train
   rows, or of their capped sizes), validation and test as many as the sources have
   (scaled by ``total`` / train rows when ``total`` is given); each source gets its share by
   largest remainder, split by split.
7. **Sampling**: down-sampling keeps the rows with the lowest md5(seed, sample id);
   up-sampling repeats whole rows (``mix_repeat`` counts the copy, and a copy's sample id is
   the original's with ``~N`` appended), within their split.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.builders.sft_review import INSTRUCTIONS as REVIEW_INSTRUCTIONS
from warehouse.builders.sft_title import INSTRUCTIONS as TITLE_INSTRUCTIONS
from warehouse.datasets import BuilderInfo, PublishResult, publish
from warehouse.datasets.model import DatasetCard
from warehouse.datasets.read import resolve, verify
from warehouse.db import Warehouse
from warehouse.mixtures.spec import MixError, MixSpec

MIX_VERSION = "1"
SPLITS = ("train", "validation", "test")
_SPLIT_RANK = {"test": 0, "validation": 1, "train": 2}
# Builders with several phrasings of their instruction (the first is the one they write).
INSTRUCTION_VARIANTS: dict[str, tuple[str, ...]] = {
    "sft-title": TITLE_INSTRUCTIONS,
    "sft-review": REVIEW_INSTRUCTIONS,
}
MIX_COLUMNS = ("mix_source", "mix_source_version", "mix_repeat")


@dataclass(frozen=True)
class _Source:
    name: str
    version: int
    path: Path
    builder: str
    formatting: str
    ranking: bool
    columns: dict[str, str]
    license: str
    schema: pa.Schema
    files: list[dict[str, Any]]


@dataclass
class MixResult:
    publish: PublishResult
    stats: dict[str, Any] = field(default_factory=dict)


def _open_source(root: Path, name: str, version: int | None) -> _Source:
    path = resolve(root, name, version)
    manifest = verify(path)
    info = json.loads((path / "dataset_info.json").read_text())
    entry = info.get(name) or next(iter(info.values()))
    card = (path / "README.md").read_text(encoding="utf-8")
    license_line = next((ln for ln in card.splitlines() if ln.startswith("license:")), "")
    first = next(f for f in manifest["files"] if "split" in f)
    return _Source(
        name=name,
        version=int(manifest["version"]),
        path=path,
        builder=str((manifest.get("builder") or {}).get("name", name)),
        formatting=str(entry.get("formatting", "alpaca")),
        ranking=bool(entry.get("ranking", False)),
        columns=dict(entry.get("columns", {})),
        license=license_line.removeprefix("license:").strip() or "other",
        schema=pq.read_schema(path / first["path"]),
        files=[f for f in manifest["files"] if "split" in f],
    )


def _kind(src: _Source) -> str:
    if src.ranking:
        return "ranking (chosen/rejected)"
    if "text" in src.columns.values() or src.formatting == "text":
        return "text (pre-training)"
    return "Alpaca (instruction/input/output)"


def _columns(sources: Sequence[_Source]) -> list[str]:
    kinds = {_kind(s) for s in sources}
    if len(kinds) > 1:
        listing = "; ".join(f"{s.name} is {_kind(s)}" for s in sources)
        raise MixError(f"cannot mix datasets of different formats: {listing}")
    names = [f.name for f in sources[0].schema]
    common = [n for n in names if all(n in s.schema.names for s in sources[1:])]
    needed = {"sample_id", *sources[0].columns.values()}
    missing = needed - set(common)
    if missing:
        raise MixError(f"the sources do not share the columns {', '.join(sorted(missing))}")
    return [c for c in common if c not in ("split", "paper_id", *MIX_COLUMNS)]


def _shares(spec: MixSpec, sizes: dict[str, int]) -> dict[str, float]:
    weights = {s.dataset: s.weight for s in spec.sources}
    if spec.strategy == "proportional":
        raw = {n: weights[n] for n in sizes}
    elif spec.strategy == "temperature":
        raw = {n: weights[n] * (sizes[n] ** (1.0 / spec.temperature)) for n in sizes}
    else:
        assert spec.cap is not None
        raw = {n: weights[n] * min(sizes[n], spec.cap) for n in sizes}
    total = sum(raw.values())
    if total <= 0:
        raise MixError("the sources have no training rows to mix")
    return {n: v / total for n, v in raw.items()}


def _allocate(total: int, shares: dict[str, float], available: dict[str, int]) -> dict[str, int]:
    """Rows per source summing to ``total``, by largest remainder; a source with no rows in
    this split gets none, and its share goes to the others."""
    live = {n: p for n, p in shares.items() if available.get(n, 0) > 0}
    if not live or total <= 0:
        return dict.fromkeys(shares, 0)
    norm = sum(live.values())
    exact = {n: total * p / norm for n, p in live.items()}
    out = {n: math.floor(v) for n, v in exact.items()}
    rest = total - sum(out.values())
    for n in sorted(exact, key=lambda k: (out[k] - exact[k], k))[:rest]:
        out[n] += 1
    return {n: out.get(n, 0) for n in shares}


def mix(wh: Warehouse, root: Path, spec: MixSpec, *, run_id: str | None = None) -> MixResult:
    """Build ``spec`` from the published datasets under ``root`` and publish it there as a
    dataset version of its own (nothing new when the rows are unchanged)."""
    spec.check()
    sources = [_open_source(root, s.dataset, s.version) for s in spec.sources]
    columns = _columns(sources)
    # Bounded memory: DuckDB spills to a temporary folder beyond the limit.
    con = duckdb.connect(config={"memory_limit": "2GB", "preserve_insertion_order": False})
    try:
        splits, stats = _build(con, spec, sources, columns)
    finally:
        con.close()
    card = _card(spec, sources, stats)
    pinned = {s.name: s.version for s in sources}
    builder = BuilderInfo("mix", MIX_VERSION, {**spec.as_params(), "pinned": pinned})
    result = publish(wh, root, spec.name, splits, card, builder, run_id=run_id)
    return MixResult(result, stats)


def _build(
    con: duckdb.DuckDBPyConnection,
    spec: MixSpec,
    sources: list[_Source],
    columns: list[str],
) -> tuple[dict[str, pa.Table], dict[str, Any]]:
    cols = ", ".join(f'"{c}"' for c in columns)
    parts: list[str] = []
    for i, src in enumerate(sources):
        by_split: dict[str, list[str]] = {}
        for f in src.files:
            by_split.setdefault(str(f["split"]), []).append(str(src.path / f["path"]))
        paper = "paper_id::VARCHAR" if "paper_id" in src.schema.names else "NULL::VARCHAR"
        for split, paths in sorted(by_split.items()):
            if split not in _SPLIT_RANK:
                raise MixError(f"{src.name}: split {split!r} is not train/validation/test")
            listing = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
            parts.append(
                f"SELECT {cols}, {paper} AS paper_id, {i} AS src, '{split}' AS split "
                f"FROM read_parquet([{listing}])"
            )
    con.execute(f"CREATE TEMP TABLE rows AS {' UNION ALL '.join(parts)}")
    if spec.instructions == "varied" and "instruction" in columns:
        for i, src in enumerate(sources):
            variants = INSTRUCTION_VARIANTS.get(src.builder)
            if variants:
                con.execute(
                    "UPDATE rows SET instruction = list_extract(?, 1 + "
                    "(md5_number_lower(sample_id) % ?)::BIGINT) "
                    "WHERE src = ? AND instruction = ?",
                    [list(variants), len(variants), i, variants[0]],
                )
    key = ", ".join(f'"{c}"' for c in ("instruction", "input") if c in columns) or "sample_id"
    con.execute(
        f"""CREATE TEMP TABLE ranked AS
        SELECT *, md5(? || chr(31) || sample_id) AS h,
               row_number() OVER (PARTITION BY {key}
                   ORDER BY CASE split WHEN 'test' THEN 0 WHEN 'validation' THEN 1 ELSE 2 END,
                            src, md5(? || chr(31) || sample_id)) AS dup
        FROM rows""",
        [str(spec.seed), str(spec.seed)],
    )
    dropped_dup = dict(
        con.execute("SELECT src, count(*) FROM ranked WHERE dup > 1 GROUP BY 1").fetchall()
    )
    con.execute("DELETE FROM ranked WHERE dup > 1")
    dropped_leak = dict(
        con.execute(
            "SELECT src, count(*) FROM ranked WHERE split = 'train' AND paper_id IN "
            "(SELECT paper_id FROM ranked WHERE split <> 'train' AND paper_id IS NOT NULL) "
            "GROUP BY 1"
        ).fetchall()
    )
    con.execute(
        "DELETE FROM ranked WHERE split = 'train' AND paper_id IN "
        "(SELECT paper_id FROM ranked WHERE split <> 'train' AND paper_id IS NOT NULL)"
    )
    names = [s.name for s in sources]
    avail: dict[str, dict[str, int]] = {sp: dict.fromkeys(names, 0) for sp in SPLITS}
    for src, split, n in con.execute(
        "SELECT src, split, count(*) FROM ranked GROUP BY 1, 2"
    ).fetchall():
        avail.setdefault(split, dict.fromkeys(names, 0))[names[src]] = n
    train = avail["train"]
    shares = _shares(spec, train)
    base_total = (
        sum(min(n, spec.cap) for n in train.values())
        if spec.strategy == "capped" and spec.cap
        else sum(train.values())
    )
    target_train = spec.total or base_total
    quotas: dict[str, dict[str, int]] = {}
    for split, sizes in avail.items():
        if split == "train":
            want = target_train
        else:
            natural = sum(sizes.values())
            want = (
                round(natural * target_train / base_total) if spec.total and base_total else natural
            )
        quotas[split] = _allocate(want, shares, sizes)
    quota_rows = [
        (names.index(n), split, k, avail[split][n])
        for split, q in quotas.items()
        for n, k in q.items()
        if k > 0
    ]
    con.execute("CREATE TEMP TABLE quota (src INTEGER, split VARCHAR, k BIGINT, n BIGINT)")
    con.executemany("INSERT INTO quota VALUES (?, ?, ?, ?)", quota_rows)
    src_case = "CASE r.src " + " ".join(
        f"WHEN {i} THEN '{s.name}'" for i, s in enumerate(sources)
    ) + " END"  # fmt: skip
    ver_case = "CASE r.src " + " ".join(
        f"WHEN {i} THEN {s.version}" for i, s in enumerate(sources)
    ) + " END"  # fmt: skip
    # A repeated row keeps its sample id with the copy number appended (ids stay unique).
    out_cols = ", ".join(
        "CASE WHEN c.copy = 0 THEN r.sample_id ELSE r.sample_id || '~' || c.copy::VARCHAR END "
        "AS sample_id"
        if c == "sample_id"
        else f'r."{c}"'
        for c in columns
    )
    con.execute(
        f"""CREATE TEMP TABLE chosen AS
        WITH numbered AS (
            SELECT *, row_number() OVER (PARTITION BY src, split ORDER BY h, sample_id) - 1 AS rk
            FROM ranked
        )
        SELECT {out_cols}, r.paper_id, r.split, {src_case} AS mix_source,
               {ver_case}::INTEGER AS mix_source_version, c.copy::INTEGER AS mix_repeat,
               md5(? || chr(31) || r.sample_id || chr(31) || c.copy::VARCHAR) AS order_key
        FROM numbered r
        JOIN quota q ON q.src = r.src AND q.split = r.split
        JOIN range(0, (SELECT max(k // n) + 1 FROM quota)) c(copy)
          ON c.copy < q.k // q.n OR (c.copy = q.k // q.n AND r.rk < q.k % q.n)""",
        [str(spec.seed)],
    )
    splits: dict[str, pa.Table] = {}
    keep = [*columns, "paper_id", *MIX_COLUMNS]
    select = ", ".join(f'"{c}"' for c in keep)
    for split in SPLITS:
        # ``split`` is one of the fixed names in SPLITS, never input.
        table = con.sql(
            f"SELECT {select} FROM chosen WHERE split = '{split}' ORDER BY order_key, mix_source"
        ).to_arrow_table()
        if table.num_rows:
            splits[split] = table
    realised: dict[str, dict[str, int]] = {sp: dict.fromkeys(names, 0) for sp in splits}
    for source, split, n in con.execute(
        "SELECT mix_source, split, count(*) FROM chosen GROUP BY 1, 2"
    ).fetchall():
        realised[split][source] = n
    text_cols = [c for c in columns if c != "sample_id" and c.lower() not in ("id",)]
    length = " + ".join(f'coalesce(length("{c}"::VARCHAR), 0)' for c in text_cols) or "0"
    tokens: dict[str, dict[str, int]] = {sp: dict.fromkeys(names, 0) for sp in splits}
    for source, split, n in con.execute(
        f"SELECT mix_source, split, sum({length}) // 4 FROM chosen GROUP BY 1, 2"
    ).fetchall():
        tokens[split][source] = int(n)
    stats = {
        "target_shares": {n: round(p, 6) for n, p in shares.items()},
        "realised_shares": {
            split: {n: round(k / max(1, sum(r.values())), 6) for n, k in r.items()}
            for split, r in realised.items()
        },
        "rows": realised,
        "available_rows": avail,
        "estimated_tokens": tokens,
        "upsampled": {
            n: max(0, quotas["train"][n] - train[n]) for n in names if quotas["train"][n] > train[n]
        },
        "dropped_duplicates": {names[i]: n for i, n in dropped_dup.items()},
        "dropped_leaks": {names[i]: n for i, n in dropped_leak.items()},
    }
    return splits, stats


def _card(spec: MixSpec, sources: list[_Source], stats: dict[str, Any]) -> DatasetCard:
    first = sources[0]
    lines = [
        "| source | version | weight | target share | realised share (train) | train rows | "
        "tokens (train, est.) |",
        "|---|---|---|---|---|---|---|",
    ]
    train_rows = stats["rows"].get("train", {})
    train_share = stats["realised_shares"].get("train", {})
    train_tokens = stats["estimated_tokens"].get("train", {})
    for s, src in zip(spec.sources, sources, strict=True):
        lines.append(
            f"| {src.name} | v{src.version} | {s.weight:g} | "
            f"{stats['target_shares'][src.name]:.2%} | {train_share.get(src.name, 0):.2%} | "
            f"{train_rows.get(src.name, 0):,} | {train_tokens.get(src.name, 0):,} |"
        )
    dups = sum(stats["dropped_duplicates"].values())
    leaks = sum(stats["dropped_leaks"].values())
    how = (
        f"Mixture `{spec.name}` of {len(sources)} published datasets, strategy "
        f"`{spec.strategy}`"
        + (f" (T = {spec.temperature:g})" if spec.strategy == "temperature" else "")
        + (f" (cap {spec.cap:,})" if spec.strategy == "capped" else "")
        + f", seed {spec.seed}, instructions `{spec.instructions}`"
        + (f", {spec.total:,} train rows" if spec.total else "")
        + ".\n\n"
        + "\n".join(lines)
        + f"\n\nDropped: {dups:,} duplicate (instruction, input) rows across sources, "
        f"{leaks:,} train rows of papers in another split. Up-sampled sources repeat whole "
        "rows (`mix_repeat` > 0), within their split. Tokens are estimated as characters / 4."
    )
    licenses = sorted({s.license for s in sources})
    return DatasetCard(
        description=f"Training mixture of {', '.join(s.name for s in sources)}.",
        license=licenses[0] if len(licenses) == 1 else "other",
        license_notes="Licenses of the sources: "
        + ", ".join(f"{s.name} ({s.license})" for s in sources),
        how_built=how,
        source_stats=stats,
        formatting=first.formatting,
        columns=first.columns,
        ranking=first.ranking,
    )
