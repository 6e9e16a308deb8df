"""Bulk, incremental harvesting of arXiv over OAI-PMH (``ListRecords``).

Pages are fetched with the polite client and parsed as a stream (lxml iterparse, no entities
or DTDs). ``noRecordsMatch`` is an empty harvest, ``badResumptionToken`` is raised as its own
error so the caller can restart from its watermark, and every other OAI error is named. A list
that does not advance (a resumption token sent again, or a long run of empty pages) is stopped
by ``ListGuard`` with ``HarvestLoopError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.http import PoliteClient
from core.records import Paper, PaperVersion
from sources.arxiv_ids import parse_arxiv_id
from sources.arxiv_record import (
    clean_text,
    parse_authors,
    parse_date,
    parse_rfc822,
    split_categories,
    version_times,
)
from sources.errors import (
    BadResumptionTokenError,
    HarvestLoopError,
    HTTPStatusError,
    InvalidIdError,
    MalformedResponseError,
    OAIError,
)
from sources.xml import iterparse_xml

OAI = "{http://www.openarchives.org/OAI/2.0/}"
RAW = "{http://arxiv.org/OAI/arXivRaw/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
METADATA_PREFIXES = ("arXivRaw", "arXiv")
_HEADER, _METADATA = f"{OAI}header", f"{OAI}metadata"
_IDENTIFIER, _DATESTAMP, _SETSPEC = f"{OAI}identifier", f"{OAI}datestamp", f"{OAI}setSpec"
# Empty pages (no record at all) in a row, each with a new token, before a list is given up.
# arXiv's pages hold hundreds of records; a server may send an occasional empty page, never
# this many in a row.
MAX_EMPTY_PAGES = 10


@dataclass(frozen=True)
class OAIRecord:
    """One record of a ListRecords page: the header, and the paper unless it is deleted."""

    identifier: str
    datestamp: str
    sets: list[str]
    paper: Paper | None  # None for deleted records
    deleted: bool = False


@dataclass
class OAIPage:
    records: list[OAIRecord] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (identifier, reason)
    resumption_token: str | None = None
    complete_list_size: int | None = None


def _text(elem: Any, tag: str) -> str | None:
    found = elem.find(tag)
    return found.text if found is not None and found.text is not None else None


def _children(elem: Any, ns: str) -> dict[str, str]:
    """Text of each direct child in namespace ``ns``, by local name (first one wins)."""
    out: dict[str, str] = {}
    cut = len(ns)
    for child in elem:
        tag = child.tag
        if isinstance(tag, str) and tag.startswith(ns):
            out.setdefault(tag[cut:], child.text or "")
    return out


def _raw_paper(meta: Any, datestamp: str) -> Paper:
    # One pass over the children: lxml's find() walks an ElementPath in Python, which cost
    # more than the rest of the record's mapping.
    fields: dict[str, str] = {}
    versions = []
    cut = len(RAW)
    for child in meta:
        tag = child.tag
        if not isinstance(tag, str) or not tag.startswith(RAW):
            continue
        name = tag[cut:]
        if name == "version":
            sub = _children(child, RAW)
            versions.append(
                PaperVersion(
                    version=child.get("version") or "",
                    created=parse_rfc822(sub.get("date")),
                    size=sub.get("size"),
                )
            )
        else:
            fields.setdefault(name, child.text or "")
    arxiv_id = parse_arxiv_id(fields.get("id", ""))
    published, updated = version_times(versions)
    categories = split_categories(fields.get("categories"))
    authors = fields.get("authors")
    return Paper(
        paper_id=arxiv_id.base,
        source="arxiv-oai",
        title=clean_text(fields.get("title")),
        abstract=clean_text(fields.get("abstract")),
        authors=clean_text(authors),
        authors_parsed=parse_authors(authors),
        categories=categories,
        primary_category=categories[0] if categories else None,
        submitter=clean_text(fields.get("submitter")),
        comments=clean_text(fields.get("comments")),
        journal_ref=clean_text(fields.get("journal-ref")),
        doi=clean_text(fields.get("doi")),
        report_no=clean_text(fields.get("report-no")),
        license=clean_text(fields.get("license")),
        versions=versions,
        update_date=parse_date(datestamp),
        published=published,
        updated=updated,
    )


def _arxiv_paper(meta: Any, datestamp: str) -> Paper:
    arxiv_id = parse_arxiv_id(_text(meta, f"{ARXIV}id") or "")
    parsed = []
    for author in meta.iter(f"{ARXIV}author"):
        parsed.append(
            [
                clean_text(_text(author, f"{ARXIV}keyname")) or "",
                clean_text(_text(author, f"{ARXIV}forenames")) or "",
                clean_text(_text(author, f"{ARXIV}suffix")) or "",
            ]
        )
    names = [" ".join(p for p in (first, last, suffix) if p) for last, first, suffix in parsed]
    categories = split_categories(_text(meta, f"{ARXIV}categories"))
    created = parse_date(_text(meta, f"{ARXIV}created"))
    updated = parse_date(_text(meta, f"{ARXIV}updated"))
    return Paper(
        paper_id=arxiv_id.base,
        source="arxiv-oai",
        title=clean_text(_text(meta, f"{ARXIV}title")),
        abstract=clean_text(_text(meta, f"{ARXIV}abstract")),
        authors=", ".join(names) or None,
        authors_parsed=parsed,
        categories=categories,
        primary_category=categories[0] if categories else None,
        comments=clean_text(_text(meta, f"{ARXIV}comments")),
        journal_ref=clean_text(_text(meta, f"{ARXIV}journal-ref")),
        doi=clean_text(_text(meta, f"{ARXIV}doi")),
        report_no=clean_text(_text(meta, f"{ARXIV}report-no")),
        license=clean_text(_text(meta, f"{ARXIV}license")),
        update_date=parse_date(datestamp),
        published=datetime.combine(created, datetime.min.time()) if created else None,
        updated=datetime.combine(updated, datetime.min.time()) if updated else None,
    )


def parse_list_records(data: bytes, *, what: str = "OAI-PMH page") -> OAIPage:
    """Parse one ListRecords response. Raises the OAI error it carries, if any."""
    page = OAIPage()
    saw_root = False
    for elem in iterparse_xml(
        data,
        (f"{OAI}record", f"{OAI}resumptionToken", f"{OAI}error", f"{OAI}OAI-PMH"),
        what=what,
        expected="OAI-PMH",
    ):
        tag = elem.tag
        if tag == f"{OAI}error":
            code, message = elem.get("code") or "unknown", (elem.text or "").strip()
            if code == "noRecordsMatch":
                continue
            if code == "badResumptionToken":
                raise BadResumptionTokenError(code, message)
            raise OAIError(code, message)
        if tag == f"{OAI}resumptionToken":
            token = (elem.text or "").strip()
            page.resumption_token = token or None
            size = elem.get("completeListSize")
            page.complete_list_size = int(size) if size and size.isdigit() else None
        elif tag == f"{OAI}record":
            _add_record(page, elem)
        elif tag == f"{OAI}OAI-PMH":
            saw_root = True
    if not saw_root:
        raise MalformedResponseError(f"{what}: not an OAI-PMH response")
    return page


def _add_record(page: OAIPage, elem: Any) -> None:
    header = metadata = None
    for child in elem:  # direct children, without find()'s path walk
        if child.tag == _HEADER:
            header = child
        elif child.tag == _METADATA:
            metadata = child
    if header is None:
        page.rejected.append(("?", "record without a header"))
        return
    identifier, datestamp, sets = "?", "", []
    for child in header:
        tag = child.tag
        if tag == _IDENTIFIER:
            identifier = child.text or "?"
        elif tag == _DATESTAMP:
            datestamp = child.text or ""
        elif tag == _SETSPEC and child.text:
            sets.append(child.text)
    if header.get("status") == "deleted":
        page.records.append(OAIRecord(identifier, datestamp, sets, None, deleted=True))
        return
    formats = {child.tag: child for child in metadata} if metadata is not None else {}
    try:
        if (raw := formats.get(f"{RAW}arXivRaw")) is not None:
            paper = _raw_paper(raw, datestamp)
        elif (arx := formats.get(f"{ARXIV}arXiv")) is not None:
            paper = _arxiv_paper(arx, datestamp)
        else:
            page.rejected.append((identifier, "no arXivRaw or arXiv metadata"))
            return
    except InvalidIdError as exc:
        page.rejected.append((identifier, str(exc)))
        return
    page.records.append(OAIRecord(identifier, datestamp, sets, paper))


class ListGuard:
    """Stops one ListRecords list that does not advance. ``check`` sees each page (with the
    token that fetched it) before it is stored, and raises ``HarvestLoopError`` when the page
    hands back a token already followed in this list, or ends a run of ``max_empty_pages``
    empty pages that still points to another page."""

    def __init__(self, where: str = "the OAI-PMH server", max_empty_pages: int = MAX_EMPTY_PAGES):
        self.where = where
        self.max_empty_pages = max_empty_pages
        self.pages = 0
        self._followed: set[str] = set()
        self._empty_run = 0

    def check(self, token: str | None, page: OAIPage) -> None:
        self.pages += 1
        if token:
            self._followed.add(token)
        self._empty_run = 0 if page.records or page.rejected else self._empty_run + 1
        following = page.resumption_token
        if following is None:
            return  # the end of the list
        if following in self._followed:
            raise HarvestLoopError(
                f"{self.where} sent resumption token {following[:80]!r} again (page "
                f"{self.pages} of this list), so the list would never end; stopped before "
                "storing that page. Rerun later; if it persists, the server is at fault"
            )
        if self._empty_run >= self.max_empty_pages:
            raise HarvestLoopError(
                f"{self.where} sent {self._empty_run} empty pages in a row, each pointing to "
                "another page, so the list does not advance; stopped before storing the last "
                "one. Rerun later; if it persists, the server is at fault"
            )


def guarded(
    fetch: Callable[..., OAIPage], where: str = "the OAI-PMH server"
) -> Callable[..., OAIPage]:
    """``fetch(resumption_token=...)`` for one list, with every page checked by a fresh
    ``ListGuard`` before the caller sees it."""
    guard = ListGuard(where)

    def fetch_checked(*, resumption_token: str | None = None) -> OAIPage:
        page = fetch(resumption_token=resumption_token)
        guard.check(resumption_token, page)
        return page

    return fetch_checked


class OAIHarvester:
    """Fetches ListRecords pages from one OAI-PMH endpoint."""

    def __init__(self, client: PoliteClient, base_url: str) -> None:
        self.client = client
        self.base_url = base_url

    def list_records(
        self,
        *,
        metadata_prefix: str = "arXivRaw",
        set_spec: str | None = None,
        from_date: str | None = None,
        until: str | None = None,
        resumption_token: str | None = None,
    ) -> OAIPage:
        """One page: the first of a harvest, or the one a resumption token points to."""
        if metadata_prefix not in METADATA_PREFIXES:
            raise ValueError(f"metadata prefix must be one of {METADATA_PREFIXES}")
        params: dict[str, str] = {"verb": "ListRecords"}
        if resumption_token:
            params["resumptionToken"] = resumption_token  # exclusive argument in OAI-PMH
        else:
            params["metadataPrefix"] = metadata_prefix
            if set_spec:
                params["set"] = set_spec
            if from_date:
                params["from"] = from_date
            if until:
                params["until"] = until
        resp = self.client.get(self.base_url, params=params)
        if resp.status_code != 200:
            raise HTTPStatusError(self.base_url, resp.status_code, resp.text[:200])
        return parse_list_records(resp.content, what=f"ListRecords {params}")

    def pages(self, **kwargs: Any) -> Iterator[tuple[str | None, OAIPage]]:
        """Every page of a harvest, each with the token that fetched it (None for the first)."""
        token = kwargs.pop("resumption_token", None)
        guard = ListGuard(self.base_url)
        while True:
            page = self.list_records(resumption_token=token, **kwargs)
            guard.check(token, page)
            yield token, page
            if not page.resumption_token:
                return
            token = page.resumption_token
