"""Named errors raised by the crawlers. The CLI turns each into a one-line message."""

from __future__ import annotations

from core.errors import HTTPStatusError, RateLimitedError, ScicurateError, TransientHTTPError

__all__ = [
    "ArxivAPIError",
    "AuthRequiredError",
    "BadResumptionTokenError",
    "HTTPStatusError",
    "HarvestLoopError",
    "InvalidIdError",
    "InvalidParameterError",
    "MalformedResponseError",
    "OAIError",
    "RateLimitedError",
    "ResultLimitError",
    "SnapshotFormatError",
    "SourceError",
    "TransientHTTPError",
]


class SourceError(ScicurateError):
    """Base class for every error a source raises on purpose."""


class InvalidIdError(SourceError, ValueError):
    """A paper id that is not a well-formed arXiv identifier."""


class InvalidParameterError(SourceError, ValueError):
    """A crawl parameter that cannot be right (an unknown category, a malformed date)."""


class AuthRequiredError(SourceError):
    """The source refuses anonymous access (or the login failed); credentials are needed."""


class MalformedResponseError(SourceError):
    """A response body that does not parse (invalid or truncated XML/JSON, a DTD, ...)."""


class ArxivAPIError(SourceError):
    """The arXiv API answered with its Atom "Error" feed (HTTP 400)."""


class ResultLimitError(SourceError, ValueError):
    """A request beyond the arXiv API's paging limits."""


class OAIError(SourceError):
    """An OAI-PMH error response other than noRecordsMatch."""

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(f"OAI-PMH error {code}: {message}")


class BadResumptionTokenError(OAIError):
    """The resumption token expired or is unknown; harvest again from the watermark."""


class HarvestLoopError(SourceError):
    """An OAI-PMH list that does not advance: the server sent a resumption token it had sent
    before, or page after page of nothing, so following it would never end."""


class SnapshotFormatError(SourceError):
    """A snapshot file that is not JSON lines at all (a JSON array, gzip, another binary
    format): refused as a whole, naming the format, instead of line by line."""
