"""Job ``digest``: the papers announced in a window, with summaries, rendered for reading."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from jobs.lineage import recorded_run
from jobs.steps import InlineSteps, Steps
from report.digest import (
    Digest,
    Entry,
    abs_url,
    candidates,
    group_of,
    lead,
    short_authors,
    to_markdown,
)
from report.summarize import LLMSummarizer, Paper, SummaryError
from sources.errors import InvalidParameterError
from warehouse.db import Warehouse

MAX_WINDOW_DAYS = 31


def build_digest(
    wh: Warehouse,
    start: date,
    end: date,
    *,
    categories: Sequence[str] = (),
    limit: int | None = None,
    summarizer: LLMSummarizer | None = None,
    steps: Steps | None = None,
) -> Digest:
    """The digest of ``[start, end]``, recorded in ``runs``. Without ``summarizer`` each entry
    carries its abstract's lead; with one, a cached or new LLM summary, falling back to the
    lead (and saying so) when the endpoint fails."""
    steps = steps or InlineSteps()
    if end < start:
        raise InvalidParameterError(f"--until {end} is before --from {start}")
    if (end - start).days >= MAX_WINDOW_DAYS:
        raise InvalidParameterError(f"a digest covers at most {MAX_WINDOW_DAYS} days")
    params = {"from": str(start), "until": str(end), "categories": list(categories),
              "limit": limit, "llm": summarizer is not None}  # fmt: skip
    with recorded_run(wh, "digest", params) as run:
        digest = Digest(start, end, list(categories))
        failed = 0
        for c in candidates(wh, start, end, categories, limit):
            summary, source = lead(c.abstract), "abstract"
            if summarizer is not None:
                try:
                    summary = summarizer.summarize(Paper(c.paper_id, c.version, c.title,
                                                         c.abstract))  # fmt: skip
                    source = "llm"
                except SummaryError as exc:
                    failed += 1
                    source = f"abstract's lead: the summary failed, {exc}"
            entry = Entry(
                paper_id=c.paper_id, version=c.version, title=c.title,
                authors=short_authors(c.authors), url=abs_url(c.paper_id),
                primary_category=c.primary_category, categories=c.categories,
                published=c.published, summary=summary, summary_source=source,
                on_openreview=c.on_openreview, parsed=c.parsed,
            )  # fmt: skip
            digest.groups.setdefault(group_of(c, categories), []).append(entry)
        digest.groups = dict(sorted(digest.groups.items()))
        run.update({"papers": digest.count, "groups": len(digest.groups),
                    "summaries_failed": failed})  # fmt: skip
        if summarizer is not None:
            run["llm_requests"] = summarizer.requests
    steps.publish("digest", markdown=to_markdown(digest))
    return digest


def latest_announcement(wh: Warehouse, paper_ids: Sequence[str]) -> date | None:
    """The newest first-version date among ``paper_ids`` (what a crawl just brought in)."""
    if not paper_ids:
        return None
    with wh.read() as con:
        rows = con.execute(
            "SELECT max(published)::DATE FROM papers WHERE paper_id IN (SELECT unnest(?))",
            [list(paper_ids)],
        ).fetchall()
    value = rows[0][0] if rows else None
    return value if isinstance(value, date) else None


def daily_digest(
    wh: Warehouse, home: Path, day: date, *, steps: Steps | None = None
) -> tuple[Digest, Path]:
    """The digest of ``day``, published and written to ``<home>/digests/YYYY-MM-DD.md``."""
    digest = build_digest(wh, day, day, steps=steps)
    out = home / "digests" / f"{day.isoformat()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".md.part")
    tmp.write_text(to_markdown(digest), encoding="utf-8")
    tmp.replace(out)
    return digest, out
