"""OpenReview: submissions, reviews, meta-reviews, decisions and comments of a venue.

Talks to API v2 (content fields wrapped as ``{"value": …}``) and falls back to API v1 (plain
content) for older venues. Anonymous access is tried first; when OpenReview answers 403
``ChallengeRequiredError`` the client logs in with ``POST /login`` and retries with the Bearer
token, and it logs in again when the token expires (401). 429 ``RateLimitError`` answers are
waited out until ``details.resetTime`` (or Retry-After), within the client's wait budget.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from pydantic import SecretStr

from core.http import PoliteClient
from core.records import Paper, Review
from sources.arxiv_record import clean_text, parse_authors
from sources.errors import AuthRequiredError, HTTPStatusError, MalformedResponseError

log = logging.getLogger(__name__)

PAGE = 1000  # OpenReview's page size
PAPER_PREFIX = "openreview:"
_LEADING_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")
_KIND_BY_SUFFIX = {
    "official_review": "review",
    "review": "review",
    "meta_review": "meta_review",
    "metareview": "meta_review",
    "decision": "decision",
    "acceptance_decision": "decision",
    "rebuttal": "rebuttal",
    "author_rebuttal": "rebuttal",
    "official_comment": "comment",
    "public_comment": "comment",
    "comment": "comment",
}


def rate_limit_wait(resp: requests.Response) -> float | None:
    """Seconds until ``details.resetTime`` of a 429 RateLimitError body, if it has one."""
    if resp.status_code != 429:
        return None
    try:
        reset = resp.json().get("details", {}).get("resetTime")
        when = datetime.fromisoformat(str(reset).replace("Z", "+00:00"))
    except (ValueError, AttributeError, TypeError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def unwrap(content: dict[str, Any]) -> dict[str, Any]:
    """API v2 wraps each field as {"value": x}; return plain values (v1 content unchanged)."""
    return {
        k: (
            v["value"]
            if isinstance(v, dict) and set(v) <= {"value", "readers"} and "value" in v
            else v
        )
        for k, v in content.items()
    }


def leading_number(value: Any) -> float | None:
    """``8`` -> 8.0; ``"8: accept, good paper"`` -> 8.0; ``"3 good"`` -> 3.0; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    m = _LEADING_NUMBER.match(str(value))
    return float(m.group(1)) if m else None


def _ms(value: Any) -> datetime | None:
    if not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value / 1000, UTC).replace(tzinfo=None)


def reply_kind(invitations: list[str], signatures: list[str]) -> str | None:
    """review | meta_review | decision | rebuttal | comment, or None for other replies."""
    for invitation in invitations:
        suffix = invitation.rsplit("/-/", 1)[-1].rsplit("/", 1)[-1].lower()
        kind = _KIND_BY_SUFFIX.get(suffix)
        if kind == "comment" and any(s.endswith("/Authors") for s in signatures):
            return "rebuttal"  # authors answering reviewers in an official comment
        if kind:
            return kind
    return None


def decision_from_venue(venue: str | None, venueid: str | None) -> str | None:
    """What the venue fields say about the outcome when there is no decision note."""
    vid = venueid or ""
    if vid.endswith("/Rejected_Submission"):
        return "Reject"
    if vid.endswith("/Withdrawn_Submission"):
        return "Withdrawn"
    if vid.endswith("/Desk_Rejected_Submission"):
        return "Desk Reject"
    if vid.endswith("/Submission") or not vid:
        return None
    text = (venue or "").lower()
    for label in ("oral", "spotlight", "poster"):
        if label in text:
            return f"Accept ({label.capitalize()})"
    return "Accept"


@dataclass
class Forum:
    """A submission and its replies, as stored."""

    paper: Paper
    replies: list[Review] = field(default_factory=list)


def forum_from_note(note: dict[str, Any], *, web_url: str, venue_id: str | None = None) -> Forum:
    """Map one submission note (with ``details.replies``) onto a paper and its replies.

    ``venue_id`` fills ``venueid`` for API v1 notes, whose content does not carry one.
    """
    content = unwrap(note.get("content") or {})
    forum_id = str(note.get("forum") or note["id"])
    authors = content.get("authors") or []
    if isinstance(authors, str):
        authors = [authors]
    authors_text = ", ".join(str(a) for a in authors) or None
    keywords = content.get("keywords") or []
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",") if k.strip()]
    pdf = content.get("pdf")
    pdf_url = None
    if isinstance(pdf, str) and pdf:
        pdf_url = web_url.rstrip("/") + pdf if pdf.startswith("/") else pdf
    replies = []
    decision = None
    for reply in (note.get("details") or {}).get("replies") or []:
        invitations = reply.get("invitations") or [reply.get("invitation") or ""]
        signatures = list(reply.get("signatures") or [])
        kind = reply_kind(invitations, signatures)
        if kind is None:
            continue
        body = unwrap(reply.get("content") or {})
        if kind == "decision" and body.get("decision"):
            decision = str(body["decision"])
        replies.append(
            Review(
                review_id=str(reply["id"]),
                paper_id=PAPER_PREFIX + forum_id,
                forum_id=forum_id,
                kind=kind,
                content=body,
                invitation=invitations[0] if invitations else None,
                signatures=signatures,
                rating=leading_number(body.get("rating") or body.get("recommendation")),
                confidence=leading_number(body.get("confidence")),
                soundness=leading_number(body.get("soundness")),
                presentation=leading_number(body.get("presentation")),
                contribution=leading_number(body.get("contribution")),
                created=_ms(reply.get("cdate") or reply.get("tcdate")),
                modified=_ms(reply.get("mdate") or reply.get("tmdate")),
            )
        )
    venue = content.get("venue")
    venueid = content.get("venueid") or venue_id
    paper = Paper(
        paper_id=PAPER_PREFIX + forum_id,
        source="openreview",
        title=clean_text(str(content.get("title") or "")) or None,
        abstract=clean_text(str(content.get("abstract") or "")) or None,
        authors=authors_text,
        authors_parsed=parse_authors(authors_text),
        keywords=[str(k) for k in keywords],
        venue=str(venue) if venue else None,
        venueid=str(venueid) if venueid else None,
        forum_id=forum_id,
        pdf_url=pdf_url,
        # Only API v2 venue ids encode the outcome; a v1 note's stand-in id says nothing.
        decision=decision
        or (decision_from_venue(venue, venueid) if content.get("venueid") else None),
        published=_ms(
            note.get("pdate") or note.get("odate") or note.get("cdate") or note.get("tcdate")
        ),
        updated=_ms(note.get("mdate") or note.get("tmdate")),
    )
    return Forum(paper, replies)


class OpenReviewClient:
    """Venue harvesting over API v2, with API v1 for venues v2 does not know."""

    def __init__(
        self,
        http: PoliteClient,
        *,
        api_url: str,
        api_v1_url: str,
        username: str | None = None,
        password: SecretStr | None = None,
    ) -> None:
        self.http = http
        self.api_url = api_url.rstrip("/")
        self.api_v1_url = api_v1_url.rstrip("/")
        self._username = username
        self._password = password
        self._token: str | None = None
        self.logins = 0

    @property
    def has_credentials(self) -> bool:
        return bool(self._username and self._password)

    def login(self) -> None:
        """``POST /login``; keeps the token in the session's Authorization header only."""
        if not self.has_credentials:
            raise AuthRequiredError(
                "OpenReview refuses anonymous access; set OPENREVIEW_USERNAME and "
                "OPENREVIEW_PASSWORD"
            )
        assert self._password is not None
        resp = self.http.post(
            f"{self.api_url}/login",
            json={"id": self._username, "password": self._password.get_secret_value()},
        )
        if resp.status_code != 200:
            raise AuthRequiredError(
                f"OpenReview login as {self._username} failed (HTTP {resp.status_code}: "
                f"{_error_name(resp)}); check OPENREVIEW_USERNAME and OPENREVIEW_PASSWORD"
            )
        try:
            token = resp.json()["token"]
        except (ValueError, KeyError, TypeError):
            raise MalformedResponseError("OpenReview /login answered without a token") from None
        self._token = str(token)
        self.http.set_header("Authorization", f"Bearer {self._token}")
        self.logins += 1

    def get_json(self, base: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """GET with login on demand: anonymous first, log in on a 403 challenge, log in
        again on 401 (an expired token), once each."""
        url = f"{base}{path}"
        relogged = False
        while True:
            resp = self.http.get(url, params=params)
            if resp.status_code == 200:
                try:
                    data = resp.json()
                except ValueError as exc:
                    raise MalformedResponseError(f"{path}: invalid JSON ({exc})") from None
                if not isinstance(data, dict):
                    raise MalformedResponseError(f"{path}: expected a JSON object")
                return data
            if resp.status_code in (401, 403) and not relogged:
                if resp.status_code == 403 and not self.has_credentials:
                    raise AuthRequiredError(
                        f"OpenReview answered 403 {_error_name(resp)} for {path}: anonymous "
                        "access is refused; set OPENREVIEW_USERNAME and OPENREVIEW_PASSWORD"
                    )
                if self.has_credentials:
                    self.login()
                    relogged = True
                    continue
            if resp.status_code in (401, 403):
                raise AuthRequiredError(
                    f"OpenReview refused {path} even after logging in "
                    f"(HTTP {resp.status_code} {_error_name(resp)})"
                )
            raise HTTPStatusError(url, resp.status_code, _error_name(resp))

    def _pages(self, base: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        offset = 0
        while True:
            data = self.get_json(base, "/notes", {**params, "limit": PAGE, "offset": offset})
            notes = data.get("notes")
            if not isinstance(notes, list):
                raise MalformedResponseError("/notes: the answer has no list of notes")
            yield notes
            if len(notes) < PAGE:
                return
            offset += len(notes)

    def venue_forums(self, venue: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Pages of submission notes with their replies: ("v2" or "v1", notes)."""
        found = False
        params = {"invitation": f"{venue}/-/Submission", "details": "replies"}
        for notes in self._pages(self.api_url, params):
            if notes:
                found = True
                yield "v2", notes
        if found:
            return
        params = {"invitation": f"{venue}/-/Blind_Submission", "details": "replies"}
        for notes in self._pages(self.api_v1_url, params):
            yield "v1", notes


def _error_name(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:120]
    if isinstance(body, dict):
        return str(body.get("name") or body.get("message") or "")[:200]
    return ""
