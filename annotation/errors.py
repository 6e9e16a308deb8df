"""The named errors of the feedback loop."""

from __future__ import annotations

from core.errors import ScicurateError, Transient


class AnnotationError(ScicurateError):
    """Base class for every error the feedback loop raises on purpose."""


class FeedbackFileError(AnnotationError):
    """A feedback file cannot be read at all (unknown format, not Parquet, unreadable)."""


class LabelStudioUnavailableError(AnnotationError, Transient):
    """Label Studio did not answer (down, restarting, unreachable) within the retry budget."""


class LabelStudioAPIError(AnnotationError):
    """Label Studio answered with an error (bad token, invalid config, a refused request)."""

    def __init__(self, what: str, status: int, detail: str) -> None:
        self.status = status
        super().__init__(f"Label Studio refused to {what} (HTTP {status}): {detail}"[:600])


class LabelConfigError(AnnotationError):
    """The labeling config, or a prediction made for it, does not hold together."""


class NotConfiguredError(AnnotationError):
    """No Label Studio URL or API key is configured."""
