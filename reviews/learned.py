"""The ``model`` structurer, where its model comes from, and how a model is trained and scored.

A review's form fields that already name an aspect (summary, strengths, weaknesses,
questions …) map as ``fields`` maps them; its free-text fields (API v1's ``review``, a
combined ``strength_and_weaknesses``, ``main_review``, ``summary_of_the_review``, the 2023
clarity/quality field) are split into units and each unit goes to the aspect the model gives
it ("none" units are left out).

The model in use is the one ``reviews train`` stored last under the home (its version named
in ``CURRENT``), or else the default that ships in ``reviews/default_model``. Its version is
what the job stores as the review's ``prompt_version``, so a new model re-structures every
review.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reviews.base import Aspects
from reviews.corpus import is_heldout, is_structured, labelled, training_reviews
from reviews.fields import FREE_TEXT_FIELDS, FieldsStructurer, _text
from reviews.model import (
    ASPECT_LABELS,
    LABELS,
    LabelledReview,
    ModelError,
    ReviewModel,
    TrainParams,
    rating_of,
    train,
)
from reviews.shipped import DEFAULT_MODEL_DIR

MODEL_FIELDS = (
    *FREE_TEXT_FIELDS, "summary_of_the_review", "clarity,_quality,_novelty_and_reproducibility",
)  # fmt: skip
_VERSION = re.compile(r"review-model-[0-9a-f]{12}")


class ModelStructurer:
    method = "model"

    def __init__(self, model: ReviewModel) -> None:
        self.model = model
        self.prompt_version: str | None = model.version

    def structure(self, content: dict[str, Any]) -> Aspects:
        rest = {k: v for k, v in content.items() if k not in MODEL_FIELDS}
        out: dict[str, list[str]] = {
            k: [v] if v else [] for k, v in FieldsStructurer().structure(rest).as_dict().items()
        }
        rating = rating_of(content)
        for key in MODEL_FIELDS:
            if text := _text(content.get(key)):
                for unit, label in self.model.label_text(text, rating):
                    if label != "none":
                        out[label].append(unit.text)
        return Aspects(**{k: "\n".join(v) if v else None for k, v in out.items()})


def stored_model_dir(models_dir: Path) -> Path | None:
    """The folder of the model ``reviews train`` stored last, or None when there is none."""
    current = models_dir / "CURRENT"
    if not current.is_file():
        return None
    version = current.read_text().strip()
    if not _VERSION.fullmatch(version):
        raise ModelError("CURRENT under the review models does not name a model version")
    return models_dir / version


def load_model(models_dir: Path | None) -> ReviewModel:
    """The stored model under ``models_dir``, else the packaged default."""
    folder = stored_model_dir(models_dir) if models_dir else None
    return ReviewModel.load(folder or DEFAULT_MODEL_DIR)


def unit_scores(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Per-aspect precision/recall/F1, the dropped share and the confusion matrix of (gold,
    predicted) unit labels; "dropped" is the share of aspect units predicted as none."""
    confusion = Counter(pairs)
    gold = Counter(g for g, _ in pairs)
    pred = Counter(p for _, p in pairs)
    out: dict[str, Any] = {"units": len(pairs)}
    for a in ASPECT_LABELS:
        p = confusion[a, a] / pred[a] if pred[a] else 0.0
        r = confusion[a, a] / gold[a] if gold[a] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        out[a] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}
    content = sum(gold[a] for a in ASPECT_LABELS)
    correct = sum(confusion[a, a] for a in ASPECT_LABELS)
    out["accuracy"] = round(correct / content, 4) if content else 0.0
    out["dropped"] = (
        round(sum(confusion[a, "none"] for a in ASPECT_LABELS) / content, 4) if (content) else 0.0
    )
    out["confusion"] = {g: {p: confusion[g, p] for p in LABELS} for g in LABELS if gold[g]}
    return out


def heldout_pairs(
    model: ReviewModel, records: Sequence[dict[str, Any]], *, seed: int
) -> list[tuple[str, str]]:
    """(gold, predicted) unit labels on records rendered with their headings removed."""
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
    pairs: list[tuple[str, str]] = []
    for record in records:
        review = labelled(record, headings=None, rng=rng, none_lines=False)
        if review is not None:
            pairs += zip(
                review.labels, model.predict_units(review.units, review.rating), strict=True
            )
    return pairs


def split_records(
    records: Sequence[dict[str, Any]], *, max_train: int | None = None, max_heldout: int = 500
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Structured records split by forum into (training, held-out)."""
    usable = [r for r in records if is_structured(r.get("content") or {})]
    train_part = [r for r in usable if not is_heldout(str(r.get("forum", "")))]
    heldout = [r for r in usable if is_heldout(str(r.get("forum", "")))]
    return train_part[:max_train], heldout[:max_heldout]


def fit(
    records: Sequence[dict[str, Any]],
    params: TrainParams,
    *,
    max_train: int | None = None,
    max_heldout: int = 500,
) -> tuple[ReviewModel, dict[str, Any]]:
    """Train on the training forums and score on held-out forums (headings removed)."""
    train_part, heldout = split_records(records, max_train=max_train, max_heldout=max_heldout)
    reviews: list[LabelledReview] = training_reviews(train_part, seed=params.seed)
    if not reviews:
        raise ModelError(
            "no structured reviews (summary/strengths/weaknesses/questions) to train on"
        )
    model = train(reviews, params)
    metrics = unit_scores(heldout_pairs(model, heldout, seed=params.seed)) if heldout else {}
    model.meta.update(heldout_reviews=len(heldout), metrics=metrics)
    return model, metrics


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + 4]) for i in range(len(words) - 3)}


def labels_from_aspects(texts: Sequence[str], aspects: Aspects) -> list[str]:
    """The aspect each gold unit text ended up in, judged from a method's output alone (so
    every method is scored the same way): the aspect whose text holds the unit, else the one
    holding most of its word 4-grams (at least half), else "none"."""
    found = {k: _norm(v) for k, v in aspects.as_dict().items() if v}
    grams = {k: _shingles(v.split()) for k, v in found.items()}
    out = []
    for text in texts:
        unit = _norm(text)
        inside = [k for k in ASPECT_LABELS if k in found and unit and unit in found[k]]
        if inside:
            out.append(inside[0])
            continue
        mine = _shingles(unit.split())
        best, share = "none", 0.0
        for k in ASPECT_LABELS:
            if mine and k in grams:
                s = len(mine & grams[k]) / len(mine)
                if s > share:
                    best, share = k, s
        out.append(best if share >= 0.5 else "none")
    return out


def method_pairs(
    structurer: Any,
    records: Sequence[dict[str, Any]],
    *,
    headings: dict[str, tuple[str, ...]] | None,
    seed: int,
    run_together: bool = False,
) -> list[tuple[str, str]]:
    """(gold, predicted) unit labels for ``structurer`` on structured records rendered as one
    free text (``{"review": text, "rating": …}``, like an API v1 review)."""
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
    pairs: list[tuple[str, str]] = []
    for record in records:
        review = labelled(
            record, headings=headings, rng=rng, none_lines=False, run_together=run_together
        )
        if review is None:
            continue
        content = record["content"]
        aspects = structurer.structure({"review": review.text, "rating": content.get("rating")})
        predicted = labels_from_aspects([u.text for u in review.units], aspects)
        pairs += zip(review.labels, predicted, strict=True)
    return pairs
