"""The roots of every error the project raises on purpose.

- ``ScicurateError``: the root. The CLI turns any of them into one line on stderr and an exit
  code; anything else is a bug and keeps its traceback.
- ``Transient``: the marker of failures that may succeed if tried again later (a server that
  answered 429 or 5xx or dropped the connection for longer than the client's own budget, a
  catalog locked by another writer for longer than the lock budget, Label Studio down).
  Retry decisions test for this marker and nothing else.
- The HTTP errors live here because the neutral HTTP client raises them and every library
  above it (sources, annotation) sees them.

Retry layers, one per kind of failure (see docs/architecture.md):
- a single HTTP request: ``core.http.PoliteClient`` retries 429/5xx/connection errors within
  its wait budget, honouring Retry-After; past it the request raises ``TransientHTTPError``.
  Label Studio requests go through its SDK, on ``annotation.client.RetryTransport`` (httpx),
  which follows the same rule and raises ``LabelStudioUnavailableError``;
- a lock on the catalog: ``warehouse.db.Warehouse`` backs off within ``lock_timeout_s``; past it
  ``LockTimeoutError``;
- a whole step: a Prefect task retries a ``Transient`` error after a delay (the outage may be
  over by then), and never any other error. The CLI does not retry steps: it reports the
  transient error and a rerun resumes.
"""

from __future__ import annotations


class ScicurateError(Exception):
    """Base class for every error scicurate raises on purpose."""


class Transient(ScicurateError):  # noqa: N818 - a marker, not an error of its own
    """Marker: the same call may succeed later. Mixed into the transient errors."""


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` (or the error it was raised from) is marked ``Transient``."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, Transient):
            return True
        seen.add(id(cur))
        cur = cur.__cause__
    return False


class HTTPError(ScicurateError):
    """Base class of the HTTP client's errors."""


class HTTPStatusError(HTTPError):
    """A non-transient HTTP error status (4xx other than 429)."""

    def __init__(self, url: str, status: int, excerpt: str = "") -> None:
        self.url, self.status, self.excerpt = url, status, excerpt
        detail = f": {excerpt}" if excerpt else ""
        super().__init__(f"HTTP {status} from {url}{detail}")


class TransientHTTPError(HTTPError, Transient):
    """429, 5xx or a broken connection that outlasted the retry budget."""


class RateLimitedError(TransientHTTPError):
    """The server kept answering 429 for longer than the wait budget allows."""
