"""``parser-corrections``: misread page regions (formula, table, figure, text, molecule) with
the page image reference, the region's box, the wrong and the corrected markup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from warehouse.builders.base import BuildOutput, Mapper, NothingToBuildError, local_map
from warehouse.builders.feedback_rows import Routed, routed
from warehouse.builders.splits import sample_id, split_tables
from warehouse.datasets.model import DatasetCard
from warehouse.db import Warehouse

SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("feedback_id", pa.string()),
        ("paper_id", pa.string()),
        ("page", pa.int32()),
        ("page_image", pa.string()),
        ("region_label", pa.string()),
        ("bbox", pa.list_(pa.float64(), 4)),  # x, y, width, height in % of the image
        ("wrong_markup", pa.string()),
        ("corrected_markup", pa.string()),
    ]
)
_KIND = {"formula": ("equation", "formula"), "table": ("table",), "figure": ("figure", "caption"),
         "chemical structure": ("chemical_structure",), "text": ("paragraph", "text")}  # fmt: skip


def _wrong(
    contexts: list[dict[str, Any]], label: str, answer: str
) -> tuple[str, str | None, int | None]:
    """The context the model read for this kind of region (else its answer)."""
    for ctx in contexts:
        if ctx.get("element_type") in _KIND.get(label, ()):
            return str(ctx.get("text", "")), ctx.get("paper_id"), ctx.get("page")
    first = contexts[0] if contexts else {}
    return answer, first.get("paper_id"), first.get("page")


_ELEMENT_REGION = re.compile(r"^([0-9a-f]{16}):(\d+)$")


def _parser_markup(wh: Warehouse, items: list[Routed]) -> dict[str, tuple[str, int]]:
    """Region id ``<doc_id prefix>:<seq>`` (a region pre-drawn from the parser's element, see
    ``annotation.page_view``) -> (the parser's markup, the 1-based page)."""
    wanted = {
        str(g["id"]): m
        for r in items
        for g in r.regions
        if (m := _ELEMENT_REGION.match(str(g.get("id"))))
    }
    out: dict[str, tuple[str, int]] = {}
    if not wanted:
        return out
    with wh.read() as con:
        for rid, m in wanted.items():
            row = con.execute(
                "SELECT coalesce(nullif(markdown, ''), text), page FROM elements "
                "WHERE starts_with(doc_id, ?) AND seq = ? LIMIT 1",
                [m.group(1), int(m.group(2))],
            ).fetchone()
            if row:
                out[rid] = (str(row[0] or ""), int(row[1]) + 1)
    return out


class ParserCorrectionsBuilder:
    """One row per region with corrected markup, from the majority annotators' regions."""

    name = "parser-corrections"
    version = "1"
    defaults: dict[str, Any] = {"validation": 0.05, "test": 0.0}

    def build(
        self, wh: Warehouse, params: dict[str, Any], mapper: Mapper = local_map
    ) -> BuildOutput:
        items = routed(wh, ("multimodal",))
        splits = split_tables(self._rows(items, _parser_markup(wh, items)), SCHEMA, params)
        if not splits:
            raise NothingToBuildError("no corrected multimodal regions yet")
        stats = {"rows": {k: t.num_rows for k, t in splits.items()}, "feedback": len(items)}
        card = DatasetCard(
            description="Parser training data: page regions the model misread, boxed by "
            "experts, with the wrong markup it was given and the corrected markup.",
            license_notes="Page images belong to their papers' licences.",
            how_built="Label Studio consensus on multimodal element recognition; one row per "
            "region with corrected markup (majority annotators' regions). Regions pre-drawn "
            "from the parser's elements on the rendered page keep the parser's markup as "
            "`wrong_markup` (rows the expert left unchanged are not corrections and are "
            "left out); `page_image` is the page the expert saw; `bbox` is in percent.",
            source_stats=stats,
            columns={"prompt": "wrong_markup", "response": "corrected_markup"},
        )
        return BuildOutput(splits=splits, card=card, params=params, stats=stats)

    def _rows(
        self, items: list[Routed], parsed: dict[str, tuple[str, int]]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        for r in items:
            for region in r.regions:
                if not region.get("markup"):
                    continue
                wrong, paper, page = _wrong(r.contexts, str(region.get("label")), r.answer)
                if str(region.get("id")) in parsed:  # a pre-drawn parser region
                    wrong, page = parsed[str(region["id"])]
                    if wrong.strip() == str(region["markup"]).strip():
                        continue  # left as the parser wrote it: not a correction
                yield (
                    r.feedback_id,
                    {
                        "sample_id": sample_id(self.name, r.feedback_id, str(region["id"])),
                        "feedback_id": r.feedback_id,
                        "paper_id": r.paper_id or paper,
                        "page": page,
                        "page_image": r.page_image,
                        "region_label": region.get("label"),
                        "bbox": [
                            float(region.get(k) or 0.0) for k in ("x", "y", "width", "height")
                        ],
                        "wrong_markup": wrong,
                        "corrected_markup": region["markup"],
                    },
                )
