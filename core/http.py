"""The polite HTTP client every crawler uses.

- one connection at a time (a pool of one, and a lock so only one request is in flight);
- at least ``min_interval`` seconds between the starts of two requests;
- retries only what is transient (429, 500, 502, 503, 504, connection errors, bodies cut
  short), waiting for ``Retry-After`` when the server sends it and backing off exponentially
  otherwise, within a total wait budget;
- anything else (a 404, a 400) is returned to the caller, who knows what it means.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from core.errors import RateLimitedError, TransientHTTPError

log = logging.getLogger(__name__)

TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_TRANSIENT_EXC = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
USER_AGENT = "scicurate/0.1 (research data curation; polite crawler)"


@dataclass(frozen=True)
class Politeness:
    """How hard a client may push a server."""

    min_interval: float = 3.0  # seconds between request starts
    timeout: float = 60.0  # per request (connect and each read)
    max_retry_wait: float = 600.0  # total seconds spent waiting on transient errors
    max_attempts: int = 8
    backoff_first: float = 1.0
    backoff_max: float = 120.0
    max_body_bytes: int = 512 * 1024 * 1024
    # A Prefect global concurrency limit to take a slot of before each request (``scicurate
    # deploy`` creates "arxiv" and "openreview" as rate limits), so that several workers
    # together stay within the source's limits. Only used inside a Prefect flow run.
    global_limit: str | None = None


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date. None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class PoliteClient:
    """A rate-limited, single-connection ``requests`` session with transient-only retries."""

    def __init__(
        self,
        politeness: Politeness | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        wait_hint: Callable[[requests.Response], float | None] | None = None,
    ) -> None:
        self.politeness = politeness or Politeness()
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, pool_block=True, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["User-Agent"] = USER_AGENT
        self._session.headers.update(headers or {})
        self._lock = threading.Lock()
        self._last_start: float | None = None
        self._sleep = sleep
        self._wait_hint = wait_hint
        self.requests_sent = 0
        self.waited = 0.0  # seconds spent waiting on transient errors

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_header(self, name: str, value: str | None) -> None:
        if value is None:
            self._session.headers.pop(name, None)
        else:
            self._session.headers[name] = value

    def _pace(self) -> None:
        if self.politeness.global_limit:
            _take_global_slot(self.politeness.global_limit)
        if self._last_start is not None:
            gap = self.politeness.min_interval - (time.monotonic() - self._last_start)
            if gap > 0:
                self._sleep(gap)
        self._last_start = time.monotonic()

    def _backoff(self, attempt: int, resp: requests.Response | None) -> float:
        hinted: float | None = None
        if resp is not None:
            hinted = self._wait_hint(resp) if self._wait_hint else None
            if hinted is None:
                hinted = retry_after_seconds(resp.headers.get("Retry-After"))
        if hinted is not None:
            return float(hinted)
        base: float = min(self.politeness.backoff_max, self.politeness.backoff_first * 2.0**attempt)
        return base * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not crypto

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send a request; the returned response has its body read in full.

        Transient failures are retried; when they outlast ``max_attempts`` or the wait budget,
        ``TransientHTTPError`` is raised. Other statuses are returned as they are.
        """
        p = self.politeness
        kwargs.setdefault("timeout", p.timeout)
        waited = 0.0
        last_problem = ""
        with self._lock:
            for attempt in range(p.max_attempts):
                self._pace()
                resp: requests.Response | None = None
                try:
                    self.requests_sent += 1
                    resp = self._session.request(method, url, stream=True, **kwargs)
                    self._read_body(resp)
                except _TRANSIENT_EXC as exc:
                    last_problem = f"{type(exc).__name__}: {_short(exc)}"
                    resp = None
                else:
                    if resp.status_code not in TRANSIENT_STATUS:
                        return resp
                    last_problem = f"HTTP {resp.status_code}"
                delay = self._backoff(attempt, resp)
                if attempt + 1 >= p.max_attempts or waited + delay > p.max_retry_wait:
                    break
                log.warning(
                    "%s %s: %s; retrying in %.1fs (attempt %d/%d)",
                    method, _redact(url), last_problem, delay, attempt + 2, p.max_attempts,
                )  # fmt: skip
                self._sleep(delay)
                waited += delay
                self.waited += delay
        error = RateLimitedError if last_problem == "HTTP 429" else TransientHTTPError
        raise error(
            f"{method} {_redact(url)} kept failing ({last_problem}) after {attempt + 1} "
            f"attempt(s) and {waited:.0f}s of waiting; rerun later — nothing was stored "
            "for this request"
        )

    def _read_body(self, resp: requests.Response) -> None:
        chunks = []
        size = 0
        for chunk in resp.iter_content(chunk_size=1 << 16):
            size += len(chunk)
            if size > self.politeness.max_body_bytes:
                resp.close()
                raise requests.exceptions.ContentDecodingError(
                    f"body larger than {self.politeness.max_body_bytes} bytes"
                )
            chunks.append(chunk)
        resp._content = b"".join(chunks)  # what resp.content would hold
        expected = resp.headers.get("Content-Length")
        if (
            expected
            and expected.isdigit()
            and int(expected) != size
            and not resp.headers.get("Content-Encoding")
        ):
            raise requests.exceptions.ChunkedEncodingError(
                f"body cut short: {size} of {expected} bytes"
            )

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)


# Orchestration may pace requests beyond one client's own spacing (a global rate limit shared
# by every process of a deployment). It installs a hook here; the client knows nothing of it.
PacingHook = Callable[[str], None]
_pacing_hook: PacingHook | None = None


def set_pacing_hook(hook: PacingHook | None) -> PacingHook | None:
    """Install ``hook(limit_name)``, called before every request of a client whose
    ``Politeness.global_limit`` is set; returns the hook it replaced."""
    global _pacing_hook
    previous, _pacing_hook = _pacing_hook, hook
    return previous


def _take_global_slot(name: str) -> None:
    if _pacing_hook is not None:
        _pacing_hook(name)


def _redact(url: str) -> str:
    """Drop query values that look like credentials before a URL reaches a log or error."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.query:
        return url
    secret = ("token", "key", "password", "secret", "auth", "signature")
    query = [
        (k, "***" if any(s in k.lower() for s in secret) and "resumption" not in k.lower() else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "…"
