"""``sft-title``: write a title for an abstract (the ChatGenTitle task), Alpaca format."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pyarrow as pa

from warehouse.builders.base import (
    ALPACA_COLUMNS,
    ALPACA_FIELDS,
    BuildOutput,
    Mapper,
    NothingToBuildError,
    local_map,
)
from warehouse.builders.splits import sample_id, split_of
from warehouse.datasets.model import DatasetCard
from warehouse.db import Warehouse

INSTRUCTION = (
    "If you are an expert in writing papers, please generate a good paper title for this paper "
    "based on other authors' descriptions of their abstracts."
)
# Phrasings a mixture may vary between (``datasets mix --instructions varied``); the first is
# ChatGenTitle's, the one this builder writes.
INSTRUCTIONS = (
    INSTRUCTION,
    "Write a concise, informative title for the paper with this abstract.",
    "Here is the abstract of a scientific paper. Suggest the title its authors would give it.",
    "Read the abstract below and propose a fitting title for the paper.",
)
_TEX_COMMAND = re.compile(r"\\[A-Za-z]+")
SCHEMA = pa.schema(
    [
        *ALPACA_FIELDS,
        ("paper_id", pa.string()),
        ("primary_category", pa.string()),
    ]
)


def latex_noise(text: str) -> float:
    """Share of words that are TeX commands, plus a penalty for unbalanced math."""
    words = max(1, len(text.split()))
    noise = len(_TEX_COMMAND.findall(text)) / words
    return noise + (1.0 if text.count("$") % 2 else 0.0)


class SftTitleBuilder:
    name = "sft-title"
    version = "1"
    defaults: dict[str, Any] = {
        "min_title_chars": 10,
        "max_title_chars": 250,
        "min_abstract_chars": 200,
        "max_abstract_chars": 4000,
        "max_latex_noise": 0.05,
        "max_per_category": 0,  # 0: no cap
        "validation": 0.01,
        "test": 0.01,
    }

    def build(
        self, wh: Warehouse, params: dict[str, Any], mapper: Mapper = local_map
    ) -> BuildOutput:
        with wh.read() as con:
            rows = con.execute(
                "SELECT paper_id, title, abstract, coalesce(primary_category, categories[1]) "
                "FROM papers WHERE title IS NOT NULL AND abstract IS NOT NULL "
                "AND source LIKE 'arxiv%' ORDER BY paper_id"
            ).fetchall()
        if not rows:
            raise NothingToBuildError(
                "no arXiv papers with a title and an abstract; crawl some first"
            )
        dropped: Counter[str] = Counter(  # every filter, zeros included
            {k: 0 for k in ("title length", "abstract length", "LaTeX noise", "duplicate")}
        )
        if params["max_per_category"]:
            dropped["category cap"] = 0
        seen_titles: set[str] = set()
        seen_abstracts: set[str] = set()
        per_category: Counter[str] = Counter()
        kept: dict[str, list[dict[str, Any]]] = {"train": [], "validation": [], "test": []}
        cap = int(params["max_per_category"])
        for paper_id, title, abstract, category in rows:
            if not params["min_title_chars"] <= len(title) <= params["max_title_chars"]:
                dropped["title length"] += 1
                continue
            if not params["min_abstract_chars"] <= len(abstract) <= params["max_abstract_chars"]:
                dropped["abstract length"] += 1
                continue
            if max(latex_noise(title), latex_noise(abstract)) > params["max_latex_noise"]:
                dropped["LaTeX noise"] += 1
                continue
            title_key = re.sub(r"[^a-z0-9]", "", title.lower())
            abstract_key = re.sub(r"\s+", " ", abstract.lower()).strip()
            if title_key in seen_titles or abstract_key in seen_abstracts:
                dropped["duplicate"] += 1
                continue
            category = category or "unknown"
            if cap and per_category[category] >= cap:
                dropped["category cap"] += 1
                continue
            seen_titles.add(title_key)
            seen_abstracts.add(abstract_key)
            per_category[category] += 1
            split = split_of(paper_id, validation=params["validation"], test=params["test"])
            kept[split].append(
                {
                    "sample_id": sample_id(self.name, paper_id),
                    "instruction": INSTRUCTION,
                    "input": abstract,
                    "output": title,
                    "paper_id": paper_id,
                    "primary_category": category,
                }
            )
        splits = {
            split: pa.Table.from_pylist(items, schema=SCHEMA)
            for split, items in kept.items()
            if items
        }
        stats = {
            "papers_considered": len(rows),
            "rows": {s: t.num_rows for s, t in splits.items()},
            "dropped": dict(dropped),
            "per_category": dict(per_category.most_common()),
        }
        card = DatasetCard(
            description="Paper title generation from abstracts (Alpaca format), as in the "
            "ChatGenTitle project: instruction + abstract as input, the real title as output.",
            license="other",
            license_notes="Abstracts and titles come from arXiv metadata; each paper keeps its "
            "own licence (see `license` in the warehouse). Check it before redistribution.",
            how_built=(
                "arXiv papers with a title and an abstract, filtered on length and LaTeX "
                "noise, deduplicated on normalised title and abstract, capped per primary "
                f"category ({cap or 'no cap'}), split by a hash of the paper id."
            ),
            source_stats=stats,
            formatting="alpaca",
            columns=ALPACA_COLUMNS,
        )
        return BuildOutput(splits=splits, card=card, params=params, stats=stats)
