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

# value stored in annotations -> the name the expert reads on the choice
ERROR_NAMES: dict[str, str] = {
    "multimodal": "Misread table, formula, figure or molecule",
    "retrieval": "Wrong or missing context",
    "domain_knowledge": "Wrong science",
    "instruction_following": "Ignored the request",
}
NOT_AN_ERROR_NAME = "Not an error: the answer is fine"
# value stored in annotations -> the longer explanation (the choice's hint)
ERROR_TYPES: dict[str, str] = {
    "multimodal": "Multimodal element recognition (table, formula, figure, molecule misread)",
    "retrieval": "Retrieval (wrong or missing context)",
    "domain_knowledge": "Domain knowledge (the science is wrong)",
    "instruction_following": "Instruction following (ignored the request's format or scope)",
}
NOT_AN_ERROR = "not_an_error"
REGION_LABELS = ("formula", "table", "figure", "text", "chemical structure")
# Tasks with a page carry a pre-selected hidden choice that shows the page section; tasks
# without one never show it (Label Studio refuses to load their 1x1 placeholder, and its
# error stays inside the hidden section, unseen).
PAGE_SHOWN, PAGE_SHOWN_YES = "page_shown", "page"
# 1x1 transparent PNG: tasks without a page image still satisfy the Image tag.
BLANK_IMAGE = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def label_config() -> str:
    # ``value`` is what the expert reads; ``alias`` (the stable key) is what results store.
    choices = "\n".join(
        f'      <Choice value="{html.escape(ERROR_NAMES[key])}" alias="{key}" '
        f'hint="{html.escape(text)}"/>'
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
  <Header value="Suggestion (a heuristic, not an expert's choice: check it)"/>
  <HyperText name="suggestion" value="$suggestion_html" inline="true"/>
  <Header value="What went wrong? (pick every error type that applies)"/>
  <Choices name="error_type" toName="answer" choice="multiple" required="true" showInline="false">
{choices}
      <Choice value="{NOT_AN_ERROR_NAME}" alias="{NOT_AN_ERROR}" hint="The answer is fine"/>
  </Choices>
  <Header value="Corrected answer"/>
  <TextArea name="corrected_answer" toName="answer" rows="6" editable="true" maxSubmissions="1"/>
  <Header value="Severity"/>
  <Rating name="severity" toName="answer" maxRating="5" icon="star" size="medium"/>
  <View style="display: none">
    <Choices name="{PAGE_SHOWN}" toName="answer" choice="single">
      <Choice value="{PAGE_SHOWN_YES}"/>
    </Choices>
  </View>
  <View visibleWhen="choice-selected" whenTagName="{PAGE_SHOWN}" whenChoiceValue="{PAGE_SHOWN_YES}">
    <Header value="Cited page: the parser's regions are boxed; correct each misread one"/>
    <Image name="page" value="$page_image" zoom="true" zoomControl="true"/>
    <RectangleLabels name="regions" toName="page">
{labels}
    </RectangleLabels>
    <TextArea name="region_markup" toName="page" perRegion="true" editable="true" rows="4"
              placeholder="Correct LaTeX / markdown / SMILES for the selected region"/>
  </View>
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


def _preview(text: str, limit: int = 160) -> str:
    """One line of plain text for a data-manager column: no markup can survive in it (angle
    brackets become look-alike quotes), whatever renders it."""
    flat = " ".join(text.split()).replace("<", "\u2039").replace(">", "\u203a")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def suggestion_html(error_type: str, score: float, reasons: tuple[str, ...]) -> str:
    why = "; ".join(reasons) or "no specific cue (the prior)"
    return (
        f"<p><b>{_escaped(ERROR_NAMES.get(error_type, error_type))}</b> "
        f"(score {score:.2f}) - why: {_escaped(why)}</p>"
    )


def task_data(feedback: dict[str, Any]) -> dict[str, Any]:
    """The task Label Studio stores for one negative feedback record (text escaped). The
    plain-text keys first are the data manager's readable columns."""
    contexts = feedback.get("contexts") or []
    cited = feedback.get("cited_page")
    return {
        "Query": _preview(str(feedback["query"])),
        "Answer": _preview(str(feedback["answer"])),
        "Suggested error": feedback.get("suggested_name") or "",
        "Cited page": cited or "none",
        "feedback_id": feedback["feedback_id"],
        "task": feedback["task"],
        "model_version": feedback.get("model_version"),
        "query_html": _escaped(feedback["query"]),
        "answer_html": _escaped(feedback["answer"]),
        "contexts_html": contexts_html(contexts),
        "comment_html": _escaped(feedback.get("comment") or ""),
        "suggestion_html": feedback.get("suggestion_html") or "<p><i>(none)</i></p>",
        "page_image": feedback.get("page_image") or BLANK_IMAGE,
        "has_page_image": bool(feedback.get("page_image")),
    }
