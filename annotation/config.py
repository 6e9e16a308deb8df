"""The error types and the Label Studio project that experts annotate in.

Feedback text reaches the expert only as escaped HTML (``task_data``): a query that contains
``<script>`` shows as text and never runs, whatever Label Studio does with the value.

The config and the predictions made for it are checked here, without a server, by the SDK's
``LabelInterface`` (tag names, ``toName`` links, choice values); the server still validates the
config once more before a push.
"""

from __future__ import annotations

import functools
import html
from typing import TYPE_CHECKING, Any

from annotation.errors import LabelConfigError

if TYPE_CHECKING:
    from label_studio_sdk.label_interface.interface import LabelInterface

PROJECT_TITLE = "scicurate error triage"

# value stored in annotations -> what the expert reads
ERROR_TYPES: dict[str, str] = {
    "multimodal": "Multimodal element recognition (table, formula, figure, molecule misread)",
    "retrieval": "Retrieval (wrong or missing context)",
    "domain_knowledge": "Domain knowledge (the science is wrong)",
    "instruction_following": "Instruction following (ignored the request's format or scope)",
}
NOT_AN_ERROR = "not_an_error"
REGION_LABELS = ("formula", "table", "figure", "text", "chemical structure")
# 1x1 transparent PNG: tasks without a page image still satisfy the Image tag.
BLANK_IMAGE = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def label_config() -> str:
    choices = "\n".join(
        f'      <Choice value="{key}" alias="{key}" hint="{html.escape(text)}"/>'
        for key, text in ERROR_TYPES.items()
    )
    labels = "\n".join(f'      <Label value="{label}"/>' for label in REGION_LABELS)
    return f"""<View>
  <Header value="Query"/>
  <HyperText name="query" value="$query_html" inline="true"/>
  <Header value="Contexts given to the model"/>
  <HyperText name="contexts" value="$contexts_html" inline="true"/>
  <Header value="Model answer"/>
  <HyperText name="answer" value="$answer_html" inline="true"/>
  <Header value="What went wrong? (pick every error type that applies)"/>
  <Choices name="error_type" toName="answer" choice="multiple" required="true" showInline="false">
{choices}
      <Choice value="{NOT_AN_ERROR}" alias="{NOT_AN_ERROR}" hint="The answer is fine"/>
  </Choices>
  <Header value="Corrected answer"/>
  <TextArea name="corrected_answer" toName="answer" rows="6" editable="true" maxSubmissions="1"/>
  <Header value="Severity"/>
  <Rating name="severity" toName="answer" maxRating="5" icon="star" size="medium"/>
  <Header value="Page image: box each misread region and give its correct markup"/>
  <Image name="page" value="$page_image" zoom="true" zoomControl="true"/>
  <RectangleLabels name="regions" toName="page">
{labels}
  </RectangleLabels>
  <TextArea name="region_markup" toName="page" perRegion="true" editable="true"
            placeholder="Correct LaTeX / markdown / SMILES for the selected region"/>
  <Header value="Note"/>
  <TextArea name="note" toName="answer" rows="2" editable="true" maxSubmissions="1"/>
</View>
"""


def parse_config(config: str) -> LabelInterface:
    """The config parsed and validated by the SDK's ``LabelInterface``; raise if invalid."""
    # Imported here: the SDK's label interface takes a second or two to import.
    from label_studio_sdk.label_interface.interface import LabelInterface

    try:
        interface = LabelInterface(config)
        interface.validate()  # type: ignore[no-untyped-call]
    except Exception as exc:  # noqa: BLE001 - the SDK raises several kinds, none of them ours
        raise LabelConfigError(f"the labeling config is invalid: {exc}") from None
    return interface


@functools.cache
def _interface() -> LabelInterface:
    return parse_config(label_config())


def check_prediction(prediction: dict[str, Any]) -> None:
    """Raise unless the prediction fits our labeling config (names, types, choice values)."""
    # The SDK's label interface is not annotated.
    errors = _interface().validate_prediction(prediction, return_errors=True)  # type: ignore[no-untyped-call]
    if errors:
        raise LabelConfigError(
            "a prediction does not fit the labeling config: " + "; ".join(map(str, errors))
        )


def _escaped(text: str) -> str:
    return html.escape(text, quote=True).replace("\n", "<br/>")


def contexts_html(contexts: list[dict[str, Any]]) -> str:
    parts = []
    for i, ctx in enumerate(contexts, start=1):
        where = f"{ctx.get('paper_id', '?')}"
        if ctx.get("page") is not None:
            where += f", page {ctx['page']}"
        if ctx.get("element_type"):
            where += f", {ctx['element_type']}"
        parts.append(f"<p><b>[{i}] {_escaped(where)}</b><br/>{_escaped(ctx.get('text', ''))}</p>")
    return "".join(parts) or "<p><i>(no contexts)</i></p>"


def task_data(feedback: dict[str, Any]) -> dict[str, Any]:
    """The task Label Studio stores for one negative feedback record (text escaped)."""
    contexts = feedback.get("contexts") or []
    return {
        "feedback_id": feedback["feedback_id"],
        "task": feedback["task"],
        "model_version": feedback.get("model_version"),
        "query_html": _escaped(feedback["query"]),
        "answer_html": _escaped(feedback["answer"]),
        "contexts_html": contexts_html(contexts),
        "comment_html": _escaped(feedback.get("comment") or ""),
        "page_image": feedback.get("page_image") or BLANK_IMAGE,
        "has_page_image": bool(feedback.get("page_image")),
    }
