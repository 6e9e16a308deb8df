"""The segmenter on real review text: abbreviations, initials, lists and headings."""

from __future__ import annotations

import re
from typing import Any

from reviews.segment import segment, split_sentences


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = (
        "As shown in Fig. 3 and Eq. (2), the method of Smith et al. works, e.g. on MNIST. "
        "J. Smith said so in Sec. 4, i.e. the appendix. What about i.i.d. data w.r.t. the "
        "baselines (cf. Tab. 2)? Yes."
    )
    assert split_sentences(text) == [
        "As shown in Fig. 3 and Eq. (2), the method of Smith et al. works, e.g. on MNIST.",
        "J. Smith said so in Sec. 4, i.e. the appendix.",
        "What about i.i.d. data w.r.t. the baselines (cf. Tab. 2)?",
        "Yes.",
    ]


def test_numbered_list_and_bold_heading_of_a_real_review(
    by_note: dict[str, dict[str, Any]],
) -> None:
    units = segment(by_note["lDd2lVYjNJ"]["content"]["weaknesses"])
    texts = [u.text for u in units]
    assert texts[0].startswith("However, despite the superior performance")
    assert not units[0].item and units[1].item
    # An item is a unit of its own, its sentences split inside it, "e.g." kept whole.
    assert (
        "The sensitivity analysis of the thresholds $\\gamma$ and $\\delta$ should be provided."
        in texts
    )
    assert (
        "However, this method is not only suitable for the FND task, but can also be applied "
        "to other knowledge-rich NLP tasks, e.g. sentiment analysis and intent detection."
    ) in texts
    # The markdown heading is context, not a unit, and the items below sit under it.
    assert "Other details" not in " ".join(texts)
    last = units[-1]
    assert last.heading == "Other details" and last.item
    assert last.text.startswith("The algorithm in Sec.3.3.1 involves")
    cite = next(u for u in units if "Brewer" in u.text)
    assert cite.text.endswith("e.g. Brewer et al. (2013) -> (Brewer et al. 2013).")


def test_dash_list_and_figure_references_of_a_real_review(
    by_note: dict[str, dict[str, Any]],
) -> None:
    units = segment(by_note["xkrNLMPXMN"]["content"]["weaknesses"])
    texts = [u.text for u in units]
    assert "I think Fig. 2 does not say anything about your convergence." in texts
    assert any(t.startswith('For example, I find the following paper "FedLess') for t in texts)
    items = [u.text for u in units if u.item]
    assert items == [
        "How were the other FL baselines modified to account for the serverless setting?",
        'What does it mean by "randomly-chosen agents are asynchronous with the rest of the '
        'agents".',
        "What is being asynchronous here, and how do you simulate it?",
        "What exactly is happening in one communication round?",
    ]


def test_no_unit_of_real_reviews_ends_at_an_abbreviation(
    reviews_v2: list[dict[str, Any]],
) -> None:
    # "et al." may end a sentence ("… as proposed in Kipf et al."), the others never do.
    bad = re.compile(r"(?:\b(?:Fig|Figs|Eq|Eqs|Sec|Tab|Thm|cf|vs)|\be\.g|\bi\.e)\.$")
    units = [
        u.text for r in reviews_v2[:400] for key in ("summary", "weaknesses", "questions")
        for u in segment(str(r["content"].get(key) or ""))
    ]  # fmt: skip
    assert len(units) > 5000
    assert [t for t in units if bad.search(t)] == []
    # No bullet is left at the start of a unit.
    assert [t for t in units if re.match(r"[-*•]\s", t)] == []


def test_units_keep_their_list_marker_and_the_blank_line_before_them() -> None:
    from reviews.model import breaks

    text = (
        "The paper proposes a sparse attention.\n\n"
        "1. It is well written.\n2. The results are strong.\n\n"
        "1. The baselines are weak.\n2. No ablation.\n"
        "Q1. Why top-k? Is k tuned?\n\n"
        "Minor: a typo in Eq. 3."
    )
    units = segment(text)
    assert [(u.marker, u.after_gap, u.first_in_block) for u in units] == [
        ("", True, True),
        ("1.", True, True),
        ("2.", False, True),
        ("1.", True, True),
        ("2.", False, True),
        ("Q1.", False, True),
        ("Q1.", False, False),
        ("", True, True),
    ]
    # 0 inside a paragraph, 1 the next item, 2 after a blank line, 3 a list that starts over
    # (numbering back to 1, another kind of marker, a list after prose or prose after a list),
    # 4 a new heading ("Minor:").
    assert units[-1].heading == "Minor"
    assert [brk for brk, _ in breaks(units)] == [2, 3, 1, 3, 1, 3, 0, 4]
    headed = segment("Strengths:\n- Clear.\n- Simple.\n\nWeaknesses:\n- Small. Only MNIST.")
    assert [u.heading for u in headed] == ["Strengths", "Strengths", "Weaknesses", "Weaknesses"]
    assert [brk for brk, _ in breaks(headed)] == [2, 1, 4, 0]
