"""The learned structurer: deterministic training, safe storage, and beating ``fields`` on
held-out forums of the shared ICLR 2024 reviews (a small model trained in the test itself)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reviews.fields import FieldsStructurer
from reviews.learned import (
    ModelStructurer,
    fit,
    load_model,
    method_pairs,
    split_records,
    unit_scores,
)
from reviews.model import (
    _START,
    ASPECT_LABELS,
    BREAKS,
    LABELS,
    ModelError,
    ReviewModel,
    TrainParams,
    _asks,
    breaks,
)
from reviews.segment import Unit, segment
from reviews.shipped import DEFAULT_MODEL_DIR

TRAIN, HELDOUT = 250, 40


@pytest.fixture(scope="module")
def small(reviews_v2: list[dict[str, Any]]) -> tuple[ReviewModel, dict[str, Any]]:
    return fit(reviews_v2, TrainParams(seed=0, epochs=8), max_train=TRAIN, max_heldout=HELDOUT)


def test_training_is_deterministic(
    reviews_v2: list[dict[str, Any]], small: tuple[ReviewModel, dict[str, Any]], tmp_path: Path
) -> None:
    again, metrics = fit(
        reviews_v2, TrainParams(seed=0, epochs=8), max_train=TRAIN, max_heldout=HELDOUT
    )
    model, first = small
    assert np.array_equal(model.coef, again.coef)
    assert np.array_equal(model.intercept, again.intercept)
    assert np.array_equal(model.transitions, again.transitions)
    assert metrics == first
    assert model.save(tmp_path / "a") == again.save(tmp_path / "b")
    other, _ = fit(reviews_v2, TrainParams(seed=1, epochs=8), max_train=TRAIN, max_heldout=5)
    assert not np.array_equal(model.coef, other.coef)


def test_small_model_beats_fields_on_heldout_forums(
    reviews_v2: list[dict[str, Any]], small: tuple[ReviewModel, dict[str, Any]]
) -> None:
    model, _ = small
    _, heldout = split_records(reviews_v2, max_heldout=HELDOUT)
    ours = unit_scores(method_pairs(ModelStructurer(model), heldout, headings=None, seed=3))
    base = unit_scores(method_pairs(FieldsStructurer(), heldout, headings=None, seed=3))
    macro = {s: sum(x[a]["f1"] for a in ASPECT_LABELS) / 4 for s, x in (("m", ours), ("f", base))}
    assert ours["units"] == base["units"] > 500
    assert macro["m"] >= macro["f"] + 0.2, (macro, ours, base)
    assert ours["dropped"] <= 0.05 < base["dropped"]
    assert ours["accuracy"] >= base["accuracy"] + 0.2


def test_decoding_finds_the_best_label_sequence(
    small: tuple[ReviewModel, dict[str, Any]],
) -> None:
    """Viterbi against every sequence: per-unit log-probabilities plus the weighted
    transition log-probabilities of the break before each unit."""
    model, _ = small
    units = segment(
        "The paper studies pruning. It is clear.\n\n- The baselines are old.\n"
        "- Why not ResNet-50? Please add it."
    )
    emission = model.log_probs(units, 4)
    trans = model.transition_weight * model.transitions
    kinds = [brk for brk, _ in breaks(units)]

    def score(seq: tuple[int, ...]) -> float:
        prevs = (_START, *seq[:-1])
        return sum(
            emission[t, y] + trans[kinds[t], p, y]
            for t, (p, y) in enumerate(zip(prevs, seq, strict=True))
        )

    best = max(itertools.product(range(len(LABELS)), repeat=len(units)), key=score)
    assert model.predict_units(units, 4) == [LABELS[i] for i in best]
    assert model.transitions.shape == (BREAKS, len(LABELS) + 1, len(LABELS))
    assert np.allclose(np.exp(model.transitions).sum(axis=2), 1.0)


def test_saved_model_round_trips_and_a_changed_file_is_refused(
    small: tuple[ReviewModel, dict[str, Any]], tmp_path: Path
) -> None:
    model, _ = small
    version = model.save(tmp_path / "m")
    loaded = ReviewModel.load(tmp_path / "m")
    assert loaded.version == version and version.startswith("review-model-")
    text = "The paper proposes a new optimizer.\n\nThe experiments are too small. Why not ImageNet?"
    assert loaded.label_text(text, 3) == model.label_text(text, 3)
    raw = bytearray((tmp_path / "m" / "model.npz").read_bytes())
    raw[-10] ^= 0xFF
    (tmp_path / "m" / "model.npz").write_bytes(bytes(raw))
    with pytest.raises(ModelError, match="sha256"):
        ReviewModel.load(tmp_path / "m")


def test_the_shipped_default_is_small_and_used_without_a_stored_model(tmp_path: Path) -> None:
    size = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.iterdir())
    assert size < 4_000_000
    model = load_model(tmp_path / "no-models-here")
    assert model.version == ReviewModel.load(DEFAULT_MODEL_DIR).version
    assert model.meta["metrics"]["dropped"] <= 0.05


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("How does the method scale to longer inputs?", "question"),
        ("2. Please clarify the notation in Eq. 3.", "opener"),
        ("Discuss the failure cases in more detail.", "opener"),
        ("The authors should compare with a stronger baseline.", "request"),
        ("It would help to report the variance over seeds.", "request"),
        ("The experiments are limited to two small datasets.", "plain"),
    ],
)
def test_asks_tells_questions_and_requests_from_statements(text: str, kind: str) -> None:
    assert _asks(Unit(text=text, heading=None, item=False, first_in_block=True)) == kind
