"""The daily paper digest: what came in, per category, as Markdown, HTML or JSON lines.

Entries are the papers first announced in a window (the date of their first version, which is
when arXiv announced them), grouped by category and ordered by a rule a reader can check:

1. papers that also appear on OpenReview first (reviewed work);
2. then papers with a parsed document (their full text is in the catalog);
3. then by announcement time, newest first; ties by arXiv id.

Every field is untrusted text: control characters (terminal escapes, bidirectional overrides)
are written as visible escapes in every format, HTML output escapes all fields, Markdown
output escapes the Markdown control characters of titles and authors, and the abstract lead
is cut at a sentence boundary.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

from core.text import terminal_safe
from warehouse.db import Warehouse

ABS_URL = "https://arxiv.org/abs/"
LEAD_CHARS = 280
MAX_AUTHORS = 3
# Characters that change inline Markdown (emphasis, code, links, HTML, tables); with the
# brackets escaped, parentheses can no longer form a link.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# A sentence ends at . ! or ? followed by space and a capital, unless the word before is a
# common abbreviation (e.g., i.e., et al., Fig., Eq., vs.) or a single letter (an initial).
_ABBREV = ("e.g", "i.e", "et al", "fig", "figs", "eq", "eqs", "vs", "cf", "resp", "approx",
           "sec", "ref", "refs", "no", "dr", "prof")  # fmt: skip
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[$])")


@dataclass(frozen=True)
class Entry:
    paper_id: str
    version: str
    title: str
    authors: str
    url: str
    primary_category: str
    categories: list[str]
    published: str  # ISO date of the first version
    summary: str
    summary_source: str  # "abstract" | "llm" | "abstract (llm failed: ...)"
    on_openreview: bool
    parsed: bool


@dataclass
class Digest:
    start: date
    end: date
    categories: list[str]
    groups: dict[str, list[Entry]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.groups.values())

    @property
    def title(self) -> str:
        when = str(self.start) if self.start == self.end else f"{self.start} to {self.end}"
        return f"scicurate digest: arXiv papers announced {when}"


@dataclass(frozen=True)
class Candidate:
    """A paper in the window, before it has a summary."""

    paper_id: str
    version: str
    title: str
    authors: str
    abstract: str
    primary_category: str
    categories: list[str]
    published: str
    on_openreview: bool
    parsed: bool


def candidates(
    wh: Warehouse, start: date, end: date, categories: Sequence[str] = (), limit: int | None = None
) -> list[Candidate]:
    """arXiv papers whose first version falls in ``[start, end]``, in digest order."""
    where = ["p.source LIKE 'arxiv%'", "p.published >= ?", "p.published < ? + INTERVAL 1 DAY"]
    params: list[object] = [start, end]
    if categories:
        where.append("len(list_intersect(p.categories, ?)) > 0")
        params.append(list(categories))
    sql = f"""
        SELECT p.paper_id, coalesce(p.versions[-1]."version", 'v1'), p.title,
               coalesce(p.authors, ''), coalesce(p.abstract, ''),
               coalesce(p.primary_category, p.categories[1], 'uncategorised'),
               coalesce(p.categories, []), strftime(p.published, '%Y-%m-%d'),
               EXISTS (SELECT 1 FROM papers o WHERE o.source = 'openreview'
                       AND o.arxiv_id = p.paper_id) AS on_openreview,
               EXISTS (SELECT 1 FROM documents d WHERE d.paper_id = p.paper_id
                       AND d.status IN ('ok', 'low_quality')) AS parsed
        FROM papers p WHERE {" AND ".join(where)}
        ORDER BY on_openreview DESC, parsed DESC, p.published DESC, p.paper_id
        {"LIMIT ?" if limit else ""}
    """
    if limit:
        params.append(limit)
    with wh.read() as con:
        rows = con.execute(sql, params).fetchall()
    return [Candidate(*r) for r in rows]


def group_of(c: Candidate, categories: Sequence[str]) -> str:
    """The category a paper is listed under: its primary one, unless a filter asked for
    others, then the first asked-for category it carries."""
    if not categories or c.primary_category in categories:
        return c.primary_category
    return next((x for x in categories if x in c.categories), c.primary_category)


def short_authors(authors: str) -> str:
    """``A, B, C, D`` -> ``A, B, C et al.``."""
    names = [a.strip() for a in re.split(r",|\band\b", authors) if a.strip()]
    if len(names) <= MAX_AUTHORS:
        return ", ".join(names)
    return ", ".join(names[:MAX_AUTHORS]) + " et al."


def lead(abstract: str, max_chars: int = LEAD_CHARS) -> str:
    """The abstract's first sentences, cut at a sentence boundary near ``max_chars``."""
    text = " ".join(abstract.split())
    if len(text) <= max_chars:
        return text
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        piece = text[start : match.start()]
        word = piece.rsplit(" ", 1)[-1].rstrip(".!?").lower()
        if word in _ABBREV or len(word) == 1:
            continue  # "et al." or an initial is not the end of a sentence
        sentences.append(piece)
        start = match.end()
        if sum(len(s) + 1 for s in sentences) >= max_chars * 0.6:
            break
    if not sentences:  # one long sentence: cut at a word boundary
        return text[:max_chars].rsplit(" ", 1)[0] + " …"
    out = " ".join(sentences)
    while len(out) > max_chars and len(sentences) > 1:
        sentences.pop()
        out = " ".join(sentences)
    return out


def abs_url(paper_id: str) -> str:
    return f"{ABS_URL}{paper_id}"


# -- rendering ---------------------------------------------------------------------------


def _md(text: str) -> str:
    """Inline text with Markdown's control characters escaped, and no line breaks."""
    return _MD_SPECIAL.sub(r"\\\1", terminal_safe(" ".join(text.split())))


def to_markdown(digest: Digest) -> str:
    lines = [f"# {_md(digest.title)}", ""]
    if not digest.count:
        lines.append("No papers were announced in this window" + _filter_note(digest) + ".")
        return "\n".join(lines) + "\n"
    lines.append(_papers(digest.count) + _filter_note(digest) + ".")
    for category, entries in digest.groups.items():
        lines += ["", f"## {_md(category)} ({len(entries)})", ""]
        for e in entries:
            cross = [c for c in e.categories if c != e.primary_category]
            badges = [b for b, on in (("OpenReview", e.on_openreview), ("parsed", e.parsed)) if on]
            meta = f"{_md(e.authors)} · {e.primary_category}"
            meta += f" (also {', '.join(cross)})" if cross else ""
            meta += f" · {e.published}" + (f" · {', '.join(badges)}" if badges else "")
            lines.append(f"- **[{_md(e.title)}](<{e.url}>)**  ")
            lines.append(f"  {meta}  ")
            note = "" if e.summary_source in ("abstract", "llm") else f" ({_md(e.summary_source)})"
            lines.append(f"  {_md(e.summary)}{note}")
    return "\n".join(lines) + "\n"


def _esc(text: str) -> str:
    return html.escape(terminal_safe(text))


def to_html(digest: Digest) -> str:
    esc = _esc
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        f"<title>{esc(digest.title)}</title>",
        "<style>body{font:15px/1.5 sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}"
        ".meta{color:#555;font-size:13px}li{margin-bottom:1rem}</style></head><body>",
        f"<h1>{esc(digest.title)}</h1>",
    ]
    if not digest.count:
        parts.append(f"<p>No papers were announced in this window{esc(_filter_note(digest))}.</p>")
    for category, entries in digest.groups.items():
        parts.append(f"<h2>{esc(category)} ({len(entries)})</h2><ul>")
        for e in entries:
            cross = ", ".join(c for c in e.categories if c != e.primary_category)
            parts.append(
                f'<li><a href="{esc(e.url)}" rel="noopener noreferrer">{esc(e.title)}</a>'
                f'<div class="meta">{esc(e.authors)} · {esc(e.primary_category)}'
                + (f" (also {esc(cross)})" if cross else "")
                + f" · {esc(e.published)}"
                + (" · OpenReview" if e.on_openreview else "")
                + (" · parsed" if e.parsed else "")
                + f"</div><p>{esc(e.summary)}</p></li>"
            )
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def to_jsonl(digest: Digest) -> str:
    rows = [
        {"group": category, **{k: _safe(v) for k, v in asdict(e).items()}}
        for category, entries in digest.groups.items()
        for e in entries
    ]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _safe(value: object) -> object:
    if isinstance(value, str):
        return terminal_safe(value)
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value


RENDERERS = {"md": to_markdown, "html": to_html, "jsonl": to_jsonl}


def _papers(n: int) -> str:
    return f"{n} paper" if n == 1 else f"{n} papers"


def _filter_note(digest: Digest) -> str:
    return f" in {', '.join(digest.categories)}" if digest.categories else ""
