"""Agreement between annotators and the consensus that routing trusts.

Each annotator's vote on a task is the set of error types they picked (``not_an_error``
included). The consensus is every type picked by more than half of the task's annotators; a
task where no type reaches a majority (two annotators who disagree, say) is a tie: flagged
for review and not routed. Fleiss' kappa, in its form for a varying number of raters per
item, measures agreement on each annotator's primary error type across the tasks that have
two or more annotators.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from annotation.config import ERROR_TYPES, NOT_AN_ERROR

CATEGORIES: tuple[str, ...] = (*ERROR_TYPES, NOT_AN_ERROR)


@dataclass(frozen=True)
class Consensus:
    status: str  # consensus | tie | not_error | skipped
    error_types: tuple[str, ...]
    agreement: float | None  # share of annotators whose vote equals the consensus
    majority: tuple[int, ...]  # indexes of the votes that agree with the consensus


def primary(vote: Sequence[str]) -> str:
    """One category per vote, for kappa: the first error type in the fixed order."""
    for category in CATEGORIES:
        if category in vote:
            return category
    return NOT_AN_ERROR


def consensus(votes: Sequence[frozenset[str]], skipped: int = 0) -> Consensus:
    """Majority over the (non-skipped) votes of one task."""
    votes = [v for v in votes if v]
    if not votes:
        return Consensus("skipped" if skipped else "tie", (), None, ())
    n = len(votes)
    counts = Counter(t for v in votes for t in v)
    winners = tuple(sorted((t for t, c in counts.items() if c * 2 > n), key=CATEGORIES.index))
    if not winners:
        return Consensus("tie", (), 0.0, ())
    chosen = frozenset(winners)
    majority = tuple(i for i, v in enumerate(votes) if v & chosen)
    agreement = sum(1 for v in votes if v == chosen) / n
    if chosen == {NOT_AN_ERROR}:
        return Consensus("not_error", winners, agreement, majority)
    errors = tuple(t for t in winners if t != NOT_AN_ERROR)
    return Consensus("consensus", errors, agreement, majority)


def fleiss_kappa(items: Sequence[Sequence[str]]) -> float | None:
    """Fleiss' kappa for items rated by a varying number (>= 2) of raters; None when fewer
    than one such item, or when every rating falls in one category (kappa is undefined)."""
    rated = [list(item) for item in items if len(item) >= 2]
    if not rated:
        return None
    total = sum(len(item) for item in rated)
    p_j = Counter(cat for item in rated for cat in item)
    p_e = sum((c / total) ** 2 for c in p_j.values())
    p_i = []
    for item in rated:
        n = len(item)
        counts = Counter(item)
        p_i.append((sum(c * c for c in counts.values()) - n) / (n * (n - 1)))
    p_bar = sum(p_i) / len(p_i)
    if p_e >= 1.0:
        return None
    return (p_bar - p_e) / (1 - p_e)
