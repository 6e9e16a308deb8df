"""The deterministic `fields` method: form mapping, and accuracy on 20 real reviews."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviews.fields import FieldsStructurer, classify_text

ROOT = "fixtures/openreview/iclr_reviews_content_v1/2019"

# One sentence per review whose aspect a reader would not dispute, from the 18 real ICLR 2019
# reviews; the last two come from structured (API v2 form) reviews below.
LABELLED = [
    ("B14ejsA5YQ/BJlOnG0gTX", "The paper is well written and the proposed method well motivate and intuitive.", "reasons_accept"),
    ("B14ejsA5YQ/BkeWgLUpnX", "Second, the conclusion of Theorem 2 seems to be flawed.", "reasons_reject"),
    ("B14ejsA5YQ/BylNfGini7", "The simulation and real data experiments are interesting and seem well applied.", "reasons_accept"),
    ("B14rPj0qY7/BJlG-jX5nX", "This paper details a method for a modified end-to-end architecture that has better generalization and explanation ability.", "significance"),
    ("B14rPj0qY7/BylEIZsUhX", "The paper is littered with typos and grammatical errors (way too many to list).", "reasons_reject"),
    ("B14rPj0qY7/BylLHPgO6Q", "There should be comma in the second sentence at the last paragraph of section 5.2.", "suggestions"),
    ("B1EiIsCctm/ByeoUPt33X", "The evaluation is limited to only MNIST datasets.", "reasons_reject"),
    ("B1EiIsCctm/BylcLfHan7", "I would like the authors to present the results of (a) and (b) to give the baseline VAE an equal footing with the author's proposal.", "suggestions"),
    ("B1EiIsCctm/r1luj-glT7", "There are several things about the presentation I find confusing.", "reasons_reject"),
    ("B1EjKsRqtQ/B1eHy_bahX", "I think the proposed hypothesis lacks the novelty that ICLR audience seeks for.", "reasons_reject"),
    ("B1EjKsRqtQ/BkeUUGo937", "The authors should also include some standard benchmark datasets for comparisons.", "suggestions"),
    ("B1EjKsRqtQ/Sylhf4LAh7", "Overall, this is an incremental paper.", "reasons_reject"),
    ("B1G5ViAqFm/BJxMFSeonm", "It is highly original due to the unified general framework for handling differing graph topologies.", "reasons_accept"),
    ("B1G5ViAqFm/HJlzBRwC2m", "Please could the authors provide more details on how the spectra are represented?", "suggestions"),
    ("B1G5ViAqFm/SJlRpk09hQ", "This paper introduces a method for handing input data that is defined on irregular mesh-type domains.", "significance"),
    ("B1G9doA9F7/HJxHpfhH2m", "This paper introduces a domain adaptation approach based on the idea of Cyclic GAN.", "significance"),
    ("B1G9doA9F7/HklKo3NW6Q", "But it's still interesting, and pretty readable for the most part.", "reasons_accept"),
    ("B1G9doA9F7/rkgVnNv52Q", "Why is there no CycleGAN result for \"Female + Adapted Male,\" or \"All Data + Adapted Male,\" for example?", "suggestions"),
]  # fmt: skip

V2_REVIEWS = [
    (
        {
            "summary": "This paper proposes a graph sparsification search method.",
            "soundness": 3,
            "presentation": 3,
            "contribution": 2,
            "strengths": "The paper is clearly written.\nThe search space is well designed.",
            "weaknesses": "The novelty is limited compared to prior work. The authors should "
            "compare against stronger baselines.",
            "questions": "How does the method scale to larger graphs?",
            "rating": 5,
            "confidence": 4,
        },
        [
            ("This paper proposes a graph sparsification search method.", "significance"),
            ("The search space is well designed.", "reasons_accept"),
            ("The novelty is limited compared to prior work.", "reasons_reject"),
            ("How does the method scale to larger graphs?", "suggestions"),
            ("The authors should compare against stronger baselines.", "suggestions"),
        ],
    ),
    (
        {  # ICLR 2023's form: combined fields
            "summary_of_the_paper": "The authors study distillation for music generation.",
            "strength_and_weaknesses": "Strengths: the speed-up is impressive.\n\nWeaknesses: "
            "the listening study is small.",
            "summary_of_the_review": "A useful paper.",
            "correctness": "3: Some of the paper's claims have minor issues.",
            "technical_novelty_and_significance": "3: The contributions are significant and "
            "somewhat new.",
        },
        [
            ("The authors study distillation for music generation.", "significance"),
            ("the speed-up is impressive.", "reasons_accept"),
            ("the listening study is small.", "reasons_reject"),
        ],
    ),
]


def test_known_sentences_land_in_the_right_aspect(shared: Path) -> None:
    structurer = FieldsStructurer()
    misplaced = []
    for path, sentence, aspect in LABELLED:
        content = json.loads((shared / ROOT / f"{path}.json").read_text())
        result = structurer.structure(content).as_dict()
        if sentence not in (result[aspect] or "").split("\n"):
            misplaced.append((path, sentence[:60], aspect, classify_text(sentence)))
    for content, expected in V2_REVIEWS:
        result = structurer.structure(content).as_dict()
        for sentence, aspect in expected:
            if sentence not in (result[aspect] or ""):
                misplaced.append(("v2", sentence, aspect, result))
    assert len(LABELLED) + len(V2_REVIEWS) == 20
    assert misplaced == []


def test_scores_are_not_text_and_empty_reviews_are_empty() -> None:
    result = FieldsStructurer().structure({"rating": "8: accept", "soundness": "3 good"})
    assert result.is_empty()
    v2 = FieldsStructurer().structure(V2_REVIEWS[0][0])
    assert v2.reasons_reject == V2_REVIEWS[0][0]["weaknesses"]


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("Strengths:\nThe method is simple.", "reasons_accept"),
        ("# Weaknesses\nThe method is simple.", "reasons_reject"),
        ("Pros: The method is simple.", "reasons_accept"),
        ("Minor comments:\n\nThe method is simple.", "suggestions"),
    ],
)
def test_section_headers_set_the_aspect(text: str, aspect: str) -> None:
    out = classify_text(text)
    assert out[aspect] == ["The method is simple."]
    assert sum(len(v) for v in out.values()) == 1
