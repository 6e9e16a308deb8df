"""The feedback record: what the deployed model's users send back about an answer.

Validated strictly (no type coercion, no unknown fields, size limits on every free-text
field); ``docs/feedback.schema.json`` is generated from this model and a test keeps it in
step.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SafeId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:/@+-]+$")]
Text = Annotated[str, Field(max_length=20_000)]
MAX_METADATA_BYTES = 16_384
MAX_IMAGE_CHARS = 8_000_000  # a data URL of a page image, about 6 MB


class Context(BaseModel):
    """A passage the model was given (retrieved) for its answer."""

    model_config = ConfigDict(extra="forbid", strict=True)

    paper_id: SafeId
    page: Annotated[int, Field(ge=0, le=100_000)] | None = None
    text: Text
    element_type: (
        Literal[
            "title", "heading", "paragraph", "list", "caption", "table", "figure",
            "equation", "formula", "footnote", "reference", "chemical_structure", "text",
        ]
        | None
    ) = None  # fmt: skip
    bbox: tuple[float, float, float, float] | None = None


class Feedback(BaseModel):
    """One rated answer of the deployed model."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: SafeId
    created_at: datetime
    user_consent: bool
    model_version: Annotated[str, Field(min_length=1, max_length=128)]
    task: Annotated[str, Field(pattern=r"^[a-z][a-z_]{1,31}$")] = Field(
        description="qa, summary, extraction, review, ..."
    )
    query: Annotated[str, Field(min_length=1, max_length=20_000)]
    contexts: Annotated[list[Context], Field(max_length=50)] = Field(default_factory=list)
    answer: Annotated[str, Field(max_length=50_000)]
    rating: Literal["up", "down"]
    comment: Annotated[str, Field(max_length=5_000)] | None = None
    paper_id: SafeId | None = None
    page_image: Annotated[str, Field(max_length=MAX_IMAGE_CHARS)] | None = Field(
        default=None, description="an http(s) URL or a data:image/png|jpeg;base64 URL"
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("page_image")
    @classmethod
    def _image_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith(("https://", "http://")) and " " not in value and "<" not in value:
            return value
        if value.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")):
            return value
        raise ValueError("must be an http(s) URL or a data:image/png|jpeg;base64 URL")

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(value, default=str))
        if size > MAX_METADATA_BYTES:
            raise ValueError(f"metadata is {size} bytes, over {MAX_METADATA_BYTES}")
        return value


def json_schema() -> dict[str, Any]:
    schema = Feedback.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://scicurate.dev/schemas/feedback.schema.json"
    return schema
