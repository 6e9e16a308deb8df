"""The typed records that flow between stages and into the warehouse."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class PaperVersion:
    version: str  # "v1"
    created: datetime | None = None
    size: str | None = None  # "23kb", as arXiv reports it


@dataclass(frozen=True)
class Paper:
    """One normalised paper, whichever source it came from.

    ``paper_id`` is the arXiv id without its version (``2104.12255``, ``hep-th/9901001``) for
    arXiv papers, and ``openreview:<forum>`` for OpenReview submissions.
    """

    paper_id: str
    source: str
    title: str | None = None
    abstract: str | None = None
    authors: str | None = None
    authors_parsed: list[list[str]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    submitter: str | None = None
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    report_no: str | None = None
    license: str | None = None
    versions: list[PaperVersion] = field(default_factory=list)
    update_date: date | None = None
    published: datetime | None = None
    updated: datetime | None = None
    arxiv_id: str | None = None
    venue: str | None = None
    venueid: str | None = None
    forum_id: str | None = None
    keywords: list[str] = field(default_factory=list)
    pdf_url: str | None = None
    decision: str | None = None


PAPER_VERSION_TYPE = pa.struct(
    [("version", pa.string()), ("created", pa.timestamp("us")), ("size", pa.string())]
)

PAPER_SCHEMA = pa.schema(
    [
        ("paper_id", pa.string()),
        ("source", pa.string()),
        ("title", pa.string()),
        ("abstract", pa.string()),
        ("authors", pa.string()),
        ("authors_parsed", pa.list_(pa.list_(pa.string()))),
        ("categories", pa.list_(pa.string())),
        ("primary_category", pa.string()),
        ("submitter", pa.string()),
        ("comments", pa.string()),
        ("journal_ref", pa.string()),
        ("doi", pa.string()),
        ("report_no", pa.string()),
        ("license", pa.string()),
        ("versions", pa.list_(PAPER_VERSION_TYPE)),
        ("update_date", pa.date32()),
        ("published", pa.timestamp("us")),
        ("updated", pa.timestamp("us")),
        ("arxiv_id", pa.string()),
        ("venue", pa.string()),
        ("venueid", pa.string()),
        ("forum_id", pa.string()),
        ("keywords", pa.list_(pa.string())),
        ("pdf_url", pa.string()),
        ("decision", pa.string()),
    ]
)

_PAPER_FIELDS = [f.name for f in fields(Paper)]


_LIST_FIELDS = {f.name for f in PAPER_SCHEMA if pa.types.is_list(f.type)}


def papers_to_arrow(papers: list[Paper]) -> pa.Table:
    """Column-wise conversion of papers to an Arrow table in ``PAPER_SCHEMA``.

    An empty list becomes NULL: it means "this source does not say".
    """
    columns: dict[str, list[Any]] = {}
    for name in _PAPER_FIELDS:
        values = [getattr(paper, name) for paper in papers]
        if name == "versions":
            values = [
                [{"version": v.version, "created": v.created, "size": v.size} for v in vs] or None
                for vs in values
            ]
        elif name in _LIST_FIELDS:
            values = [v or None for v in values]
        columns[name] = values
    return pa.Table.from_pydict(columns, schema=PAPER_SCHEMA)


def paper_from_row(row: dict[str, Any]) -> Paper:
    """Build a ``Paper`` from a warehouse row (as a column-name mapping)."""
    values: dict[str, Any] = {name: row.get(name) for name in _PAPER_FIELDS}
    for name in ("authors_parsed", "categories", "keywords"):
        values[name] = list(values[name] or [])
    values["authors_parsed"] = [list(a) for a in values["authors_parsed"]]
    values["versions"] = [
        PaperVersion(v["version"], v["created"], v["size"]) for v in (row.get("versions") or [])
    ]
    return Paper(**values)


@dataclass(frozen=True)
class RunRecord:
    """One run of a flow, as kept in the ``runs`` lineage table."""

    run_id: str
    flow: str
    started_at: datetime
    status: str  # running | completed | failed
    params: dict[str, Any] = field(default_factory=dict)
    finished_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Review:
    """One reply in an OpenReview forum: a review, meta-review, decision, comment or rebuttal."""

    review_id: str
    paper_id: str
    forum_id: str
    kind: str  # review | meta_review | decision | comment | rebuttal
    content: dict[str, Any]
    invitation: str | None = None
    signatures: list[str] = field(default_factory=list)
    rating: float | None = None
    confidence: float | None = None
    soundness: float | None = None
    presentation: float | None = None
    contribution: float | None = None
    created: datetime | None = None
    modified: datetime | None = None


REVIEW_SCHEMA = pa.schema(
    [
        ("review_id", pa.string()),
        ("paper_id", pa.string()),
        ("forum_id", pa.string()),
        ("kind", pa.string()),
        ("content", pa.string()),  # JSON text; DuckDB casts it into the JSON column
        ("invitation", pa.string()),
        ("signatures", pa.list_(pa.string())),
        ("rating", pa.float64()),
        ("confidence", pa.float64()),
        ("soundness", pa.float64()),
        ("presentation", pa.float64()),
        ("contribution", pa.float64()),
        ("created", pa.timestamp("us")),
        ("modified", pa.timestamp("us")),
    ]
)


def reviews_to_arrow(reviews: list[Review]) -> pa.Table:
    rows: dict[str, list[Any]] = {name: [] for name in REVIEW_SCHEMA.names}
    for r in reviews:
        for name in REVIEW_SCHEMA.names:
            value = getattr(r, name)
            if name == "content":
                value = json.dumps(value, sort_keys=True, ensure_ascii=False)
            rows[name].append(value)
    return pa.Table.from_pydict(rows, schema=REVIEW_SCHEMA)
