"""Consensus, ties and Fleiss' kappa; the suggester's guesses; parsing annotation results."""

from __future__ import annotations

import pytest

from annotation.agreement import consensus, fleiss_kappa, primary
from annotation.suggester import SUGGESTER_VERSION, prediction, suggest
from annotation.sync import parse_result


def test_majority_consensus_and_ties() -> None:
    two = consensus([frozenset({"retrieval"}), frozenset({"retrieval"})])
    assert (two.status, two.error_types, two.agreement) == ("consensus", ("retrieval",), 1.0)
    split = consensus([frozenset({"domain_knowledge"}), frozenset({"instruction_following"})])
    assert split.status == "tie" and split.error_types == ()
    three = consensus(
        [frozenset({"retrieval"}), frozenset({"retrieval", "domain_knowledge"}),
         frozenset({"domain_knowledge"})]
    )  # fmt: skip
    # each type has 2 of 3 votes: both are in the consensus; one voter chose exactly that set
    assert three.error_types == ("retrieval", "domain_knowledge")
    assert three.agreement == pytest.approx(1 / 3)
    assert consensus([frozenset({"not_an_error"})]).status == "not_error"
    assert consensus([], skipped=1).status == "skipped"


def test_fleiss_kappa_known_values() -> None:
    assert fleiss_kappa([["a", "a"], ["b", "b"]]) == pytest.approx(1.0)
    # Fleiss (1971)-style toy: 10 agreeing pairs, 5 split -> 1/3 (see the loop test)
    items = [["r", "r"]] * 10 + [["d", "i"]] * 5
    assert fleiss_kappa(items) == pytest.approx(1 / 3)
    # variable raters: P_i = 1/3 and 1, P_bar = 2/3; p_a = 2/5, p_b = 3/5, P_e = 0.52
    assert fleiss_kappa([["a", "a", "b"], ["b", "b"]]) == pytest.approx((2 / 3 - 0.52) / 0.48)
    assert fleiss_kappa([["a"]]) is None  # nothing rated twice
    assert fleiss_kappa([["a", "a"], ["a", "a"]]) is None  # one category: undefined
    assert primary(["domain_knowledge", "multimodal"]) == "multimodal"


def test_suggester_signals() -> None:
    table = suggest(
        "What is the accuracy?", "90%", [{"text": "Table 2: accuracy", "element_type": "table"}]
    )
    assert table.error_type == "multimodal" and table.score > 0.4
    graphs = [{"text": "We present a database index for graphs.", "element_type": "paragraph"}]
    off = suggest("How do diffusion models denoise images?", "They denoise.", graphs)
    assert off.error_type == "retrieval"
    bullets = suggest(
        "Explain diffusion in 3 bullet points.", "Diffusion adds noise and learns to remove it.",
        [{"text": "Diffusion models explain noise bullet points", "element_type": "paragraph"}],
    )  # fmt: skip
    assert bullets.error_type == "instruction_following"
    steps = [{"text": "Diffusion needs many steps because", "element_type": "paragraph"}]
    plain = suggest("Why does diffusion need many steps?", "Because of physics.", steps)
    assert plain.error_type == "domain_knowledge"
    pred = prediction(plain)
    assert pred["model_version"] == SUGGESTER_VERSION
    assert pred["result"][0]["value"]["choices"] == ["domain_knowledge"]


def test_parse_result_reads_every_control() -> None:
    parsed = parse_result(
        [
            {"from_name": "error_type", "value": {"choices": ["multimodal", "retrieval"]}},
            {"from_name": "corrected_answer", "value": {"text": ["line 1", "line 2"]}},
            {"from_name": "severity", "value": {"rating": 4}},
            {"id": "r1", "from_name": "regions", "original_width": 800, "original_height": 1000,
             "value": {"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["table"]}},
            {"id": "r1", "from_name": "region_markup", "value": {"text": ["| a | b |"]}},
            {"from_name": "note", "value": {"text": ["check page 3"]}},
        ]
    )  # fmt: skip
    assert parsed.error_types == ["multimodal", "retrieval"]
    assert parsed.corrected_answer == "line 1\nline 2" and parsed.severity == 4
    assert parsed.regions == [
        {"id": "r1", "label": "table", "x": 1, "y": 2, "width": 3, "height": 4, "rotation": 0,
         "image_width": 800, "image_height": 1000, "markup": "| a | b |"}
    ]  # fmt: skip
    assert parsed.note == "check page 3"
