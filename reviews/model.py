"""``--method model``: a learned sentence classifier over the four aspects plus "none".

Each sentence unit (reviews.segment) is one example. Its features are hashed word 1-2-grams
and character 3-5-grams of the sentence, the words of its paragraph and of the paragraphs
before and after it, plus context: its position in the review, the
heading it sits under (the heading's words, and the aspect the ``fields`` heading pattern
recognises in it, or "unrecognised"), whether it is a list item or a question, the aspect the
``fields`` cue words give it, whether it asks the authors something (a question, an asking
opener such as "Why"/"Please"/"Clarify", or a request such as "should"/"I suggest") and how many
paragraphs before it already asked, and whether the review's rating is low, borderline or high.

The labels of neighbouring units are tied by transition probabilities counted in the training
reviews for each kind of break between two units (``breaks``: inside a paragraph, the next
item, a new paragraph, a list that starts over, a new heading). Prediction finds the label
sequence with the best sum of the classifier's per-unit log-probabilities and the weighted
transition log-probabilities (Viterbi, as in a hybrid HMM). Every unit's own evidence counts,
so a paragraph whose first sentence reads like criticism and whose next ones ask the authors
something goes to suggestions as a whole; a model that fed the previous label to the
classifier instead (a maximum-entropy Markov model, FEATURES_VERSION 5) let the first
sentence decide for the paragraph. On 400 validation reviews from the training forums, with
headings removed, suggestions F1 went from 0.81 (that model) to 0.87 (this decoding), and
for reviews whose aspects run together inside paragraphs from 0.75 to 0.83.

The classifier is scikit-learn's ``SGDClassifier`` (logistic loss) on a ``HashingVectorizer``
space: no vocabulary is stored, so the model is a coefficient matrix of fixed size. It is
saved as ``model.npz`` (arrays only, loaded with ``allow_pickle=False``) beside
``model.json`` (labels, parameters, metrics and the npz's sha256, checked on load): no pickle.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier

from core.errors import ScicurateError
from reviews.fields import _HEADER, classify
from reviews.segment import Unit, segment

ASPECT_LABELS = ("significance", "reasons_accept", "reasons_reject", "suggestions")
LABELS = (*ASPECT_LABELS, "none")
FEATURES_VERSION = 6
WORD_BITS = 16
CHAR_BITS = 16
BLOCK_BITS = 15
NEIGHBOUR_BITS = 14
CONTEXT_BITS = 12
_START = len(LABELS)  # the "previous label" row of the first unit's transitions
BREAKS = 5  # the kinds of break ``breaks`` tells apart


def _marker_kind(marker: str) -> tuple[str, int | None]:
    """A list marker's kind and its number: ("num", 3) for "3." or "(3)", ("cap", 2) for
    "W2:", ("none", None) outside a list."""
    if not marker:
        return "none", None
    if m := re.fullmatch(r"\(?(\d+)[.)]", marker):
        return "num", int(m.group(1))
    if m := re.fullmatch(r"([A-Z])(\d+)[.:)]", marker):
        return f"cap-{m.group(1)}", int(m.group(2))
    if re.fullmatch(r"\[\d+\]", marker):
        return "ref", None
    if re.fullmatch(r"\([ivx]+\)", marker):
        return "roman", None
    if re.fullmatch(r"\(?[a-z][.)]", marker):
        return "alpha", None
    return "bullet", None


def breaks(units: Sequence[Unit]) -> list[tuple[int, str]]:
    """For each unit, the kind of break before it and a name for its layout cue.

    Kinds: 0 inside a paragraph or item, 1 a new item on the next line, 2 a new paragraph or
    item after a blank line, 3 a list that starts over (numbering back to a lower number,
    another kind of marker, a list after prose or prose after a list), 4 a new heading."""
    out: list[tuple[int, str]] = []
    prev_kind, prev_num = "start", None
    prev_heading: str | None = None
    for i, unit in enumerate(units):
        new_heading = i > 0 and unit.heading is not None and unit.heading != prev_heading
        prev_heading = unit.heading
        if not unit.first_in_block:
            out.append((0, "in"))
            continue
        kind, num = _marker_kind(unit.marker)
        if prev_kind == "start":
            cue = "first"
        elif kind != prev_kind:
            cue = "newkind"
        elif num is not None and prev_num is not None and num <= prev_num:
            cue = "restart"
        else:
            cue = "same"
        brk = (
            4 if new_heading else 3 if cue in ("newkind", "restart") else 2 if unit.after_gap else 1
        )
        out.append((brk, f"{cue}|{kind}|gap={unit.after_gap}"))
        prev_kind, prev_num = kind, num
    return out


class ModelError(ScicurateError):
    """A review model is missing, damaged or of an unknown format."""


@dataclass(frozen=True)
class LabelledReview:
    """One review as units in reading order, each with its label, and the review's rating."""

    units: list[Unit]
    labels: list[str]
    rating: int | None
    group: str = ""  # what the train/held-out split goes by (the forum)
    text: str = ""  # the free text the units were cut from


def rating_of(content: dict[str, Any]) -> int | None:
    """The leading number of a review's rating or recommendation ("6: marginally above")."""
    for key in ("rating", "recommendation", "overall_rating"):
        m = re.match(r"\s*(\d+)", str(content.get(key) or ""))
        if m:
            return int(m.group(1))
    return None


def _rating_bucket(rating: int | None) -> str:
    if rating is None:
        return "none"
    return "low" if rating <= 4 else "mid" if rating <= 6 else "high"


def _is_question(unit: Unit | None) -> bool:
    return unit is not None and unit.text.rstrip().endswith("?")


# A request or question to the authors, in the words that open it or the modal it uses.
_ASKS = re.compile(
    r"^\W*(?:\d+[.)]\s*)?(?:(?:what|why|how|which|when|where|who|whether|is|are|does|do|did|can|"
    r"could|would|will|have|has)\b|(?:please|kindly|clarify|explain|discuss|elaborate|comment|"
    r"provide|consider|add|include|report|show|describe|justify|address|specify|cite)\b)",
    re.IGNORECASE,
)
_REQUESTS = re.compile(
    r"\b(?:should|could you|can you|would you|would (?:be|help)|it would|i (?:suggest|recommend|"
    r"wonder|would like|am curious)|suggest|recommend|curious|wonder|please|clarif|"
    r"(?:the )?authors (?:should|could|need|may|might)|minor|typo)",
    re.IGNORECASE,
)


def _asks(unit: Unit) -> str:
    """How a unit addresses the authors: a question, an asking opener, a request, or not."""
    if _is_question(unit):
        return "question"
    if _ASKS.match(unit.text):
        return "opener"
    return "request" if _REQUESTS.search(unit.text) else "plain"


def _block_question_shares(units: Sequence[Unit]) -> list[str]:
    """For each paragraph or item in order: none, some or most of its units are questions."""
    counts: list[list[int]] = []
    for unit in units:
        if unit.first_in_block or not counts:
            counts.append([0, 0])
        counts[-1][0] += _is_question(unit)
        counts[-1][1] += 1
    return ["none" if q == 0 else "most" if 2 * q >= n else "some" for q, n in counts]


def _context(
    unit: Unit, index: int, count: int, since_heading: int, block: tuple[int, int], rating: str
) -> list[str]:
    pos = min(9, index * 10 // max(count, 1))
    bpos = min(9, block[0] * 10 // max(block[1], 1))
    feats = [f"pos={pos}", f"rt={rating}", f"bpos={bpos}", f"blk={min(block[0], 8)}"]
    if index == 0:
        feats.append("first")
    if index == count - 1:
        feats.append("last")
    if index < 3:
        feats.append(f"idx={index}")
    if unit.heading is None:
        feats.append("hd=none")
    else:
        m = _HEADER.match(unit.heading + ":")
        recognised = next((k for k in ASPECT_LABELS if m and m.group(k)), "unrecognised")
        feats.append(f"hrec={recognised}")
        feats += [f"hw={w}" for w in re.findall(r"[a-z]+", unit.heading.lower())[:6]]
        feats.append(f"since={min(since_heading, 5)}")
    feats.append(f"item={unit.item}")
    feats.append(f"open={unit.first_in_block}")
    question = unit.text.rstrip().endswith("?")
    feats.append(f"q={question}")
    feats.append(f"q={question}|rt={rating}")
    feats.append(f"q={question}|bpos={bpos}")
    cue = classify(unit.text, opening=index < 2) or "nocue"
    feats.append(f"cue={cue}")
    feats.append(f"cue={cue}|rt={rating}")
    feats.append(f"len={min(6, len(unit.text.split()) // 5)}")
    return feats


def block_texts(units: Sequence[Unit]) -> tuple[list[str], list[str], list[str]]:
    """For each unit, the whole text of the paragraph or item it belongs to, and of the ones
    before and after it ("" at either end): the words of the sentences around a unit say
    what its paragraph is for, and the paragraphs around it whether a section ends there
    (criticism before, questions after)."""
    spans: list[list[int]] = []
    for i, unit in enumerate(units):
        if unit.first_in_block or not spans:
            spans.append([])
        spans[-1].append(i)
    texts = [" ".join(units[i].text for i in span) for span in spans]
    own, before, after = [""] * len(units), [""] * len(units), [""] * len(units)
    for b, span in enumerate(spans):
        for i in span:
            own[i] = texts[b]
            before[i] = texts[b - 1] if b else ""
            after[i] = texts[b + 1] if b + 1 < len(texts) else ""
    return own, before, after


def unit_contexts(units: Sequence[Unit], rating: int | None) -> list[list[str]]:
    """The context features of each unit (never its label), as names."""
    bucket = _rating_bucket(rating)
    contexts = []
    since = 0
    last_heading: str | None = None
    blocks = sum(u.first_in_block for u in units)
    rest_q = np.cumsum([_is_question(u) for u in units][::-1])[::-1]
    block_q = _block_question_shares(units)
    block = -1
    asks = [_asks(u) for u in units]
    layout = breaks(units)
    # Blocks so far with a question or request in them: once a reviewer starts asking,
    # the rest of the review mostly asks too.
    asking_blocks = 0
    block_asks = False
    for i, unit in enumerate(units):
        since = since + 1 if unit.heading == last_heading else 0
        last_heading = unit.heading
        if unit.first_in_block and i:
            asking_blocks += block_asks
            block_asks = False
        block_asks = block_asks or asks[i] != "plain"
        block += unit.first_in_block
        ctx = _context(unit, i, len(units), since, (block, blocks), bucket)
        # Text around it (never labels): are the neighbours questions, and how much of
        # the review from here on is?
        ctx.append(f"pq={i > 0 and _is_question(units[i - 1])}")
        ctx.append(f"nq={i + 1 < len(units) and _is_question(units[i + 1])}")
        ctx.append(f"restq={min(4, int(5 * rest_q[i] / (len(units) - i)))}")
        ctx.append(f"bend={min(blocks - 1 - block, 4)}")
        ctx.append(f"blockq={block_q[block]}")
        ctx.append(f"prevblockq={block_q[block - 1] if block > 0 else 'start'}")
        ctx.append(f"blockq={block_q[block]}|bend={min(blocks - 1 - block, 4)}")
        brk, cue = layout[i]
        kind, _ = _marker_kind(unit.marker)
        ctx += [f"brk={brk}", f"lay={cue}", f"mk={kind}", f"brk={brk}|ask={asks[i]}",
                f"brk={brk}|bpos={min(9, block * 10 // blocks)}"]  # fmt: skip
        seen = min(asking_blocks, 3)
        ctx += [f"ask={asks[i]}", f"ask={asks[i]}|bpos={min(9, block * 10 // blocks)}",
                f"askseen={seen}", f"askseen={seen}|ask={asks[i]}",
                f"ask={asks[i]}|open={unit.first_in_block}",
                f"pask={asks[i - 1] if i else 'start'}|ask={asks[i]}"]  # fmt: skip
        contexts.append(ctx)
    return contexts


def _words(bits: int, longest: int) -> HashingVectorizer:
    """Word 1..``longest``-grams (and ? and !) hashed into 2**bits features."""
    return HashingVectorizer(
        n_features=2**bits, ngram_range=(1, longest), alternate_sign=False, norm="l2",
        lowercase=True, token_pattern=r"(?u)\b\w+\b|[?!]",  # noqa: S106 - a regex
    )  # fmt: skip


@dataclass
class ReviewModel:
    """Coefficients over [word | char | paragraph | paragraph before | paragraph after |
    context] features, the transition
    log-probabilities by break kind, and the model's record."""

    coef: np.ndarray[Any, Any]  # (labels, features), float32
    intercept: np.ndarray[Any, Any]  # (labels,)
    transitions: np.ndarray[Any, Any]  # (BREAKS, labels + 1, labels): log P(label | previous)
    meta: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def _word(self) -> HashingVectorizer:
        return _words(WORD_BITS, 2)

    @cached_property
    def _block(self) -> HashingVectorizer:
        return _words(BLOCK_BITS, 1)

    @cached_property
    def _neighbour(self) -> HashingVectorizer:
        return _words(NEIGHBOUR_BITS, 1)

    @cached_property
    def _char(self) -> HashingVectorizer:
        return HashingVectorizer(
            n_features=2**CHAR_BITS, analyzer="char_wb", ngram_range=(3, 5),
            alternate_sign=False, norm="l2", lowercase=True,
        )  # fmt: skip

    @cached_property
    def _ctx(self) -> FeatureHasher:
        return FeatureHasher(n_features=2**CONTEXT_BITS, input_type="string", alternate_sign=False)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "review-model-unsaved"))

    @property
    def transition_weight(self) -> float:
        return float(self.meta.get("params", {}).get("transition_weight", 1.0))

    # -- features ---------------------------------------------------------------------------

    def unit_features(self, units: Sequence[Unit], rating: int | None) -> sp.csr_matrix:
        """The features of each unit: its words, characters, the words of its paragraph and of
        the paragraphs before and after it, and its context."""
        texts = [u.text for u in units]
        own, before, after = block_texts(units)
        return sp.hstack(
            [self._word.transform(texts), self._char.transform(texts),
             self._block.transform(own), self._neighbour.transform(before),
             self._neighbour.transform(after), self._ctx.transform(unit_contexts(units, rating))],
            format="csr",
        )  # fmt: skip

    def training_matrix(
        self, reviews: Iterable[LabelledReview]
    ) -> tuple[sp.csr_matrix, list[int], np.ndarray[Any, Any]]:
        """Features, labels and transition counts (by break kind) of the training reviews."""
        blocks, ys = [], []
        counts = np.zeros((BREAKS, len(LABELS) + 1, len(LABELS)))
        for review in reviews:
            if not review.units:
                continue
            y = [LABELS.index(label) for label in review.labels]
            blocks.append(self.unit_features(review.units, review.rating))
            for (brk, _), prev, label in zip(
                breaks(review.units), [_START, *y[:-1]], y, strict=True
            ):
                counts[brk, prev, label] += 1
            ys += y
        return sp.vstack(blocks, format="csr"), ys, counts

    # -- prediction -------------------------------------------------------------------------

    def log_probs(self, units: Sequence[Unit], rating: int | None) -> np.ndarray[Any, Any]:
        """(units, labels): the classifier's log-probability of each label for each unit."""
        scores = np.asarray(self.unit_features(units, rating) @ self.coef.astype(np.float64).T)
        scores += self.intercept
        return scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)  # type: ignore[no-any-return]

    def predict_units(self, units: Sequence[Unit], rating: int | None) -> list[str]:
        """The best label sequence: per-unit log-probabilities plus weighted transition
        log-probabilities for the break before each unit (Viterbi)."""
        if not units:
            return []
        emission = self.log_probs(units, rating)
        trans = self.transition_weight * self.transitions
        layout = breaks(units)
        n_labels = len(LABELS)
        best = emission[0] + trans[layout[0][0], _START]
        back = np.zeros((len(units), n_labels), dtype=np.int64)
        for t in range(1, len(units)):
            total = best[:, None] + trans[layout[t][0], :n_labels] + emission[t][None, :]
            back[t] = np.argmax(total, axis=0)
            best = total[back[t], np.arange(n_labels)]
        path = [int(np.argmax(best))]
        for t in range(len(units) - 1, 0, -1):
            path.append(int(back[t, path[-1]]))
        return [LABELS[i] for i in reversed(path)]

    def label_text(self, text: str, rating: int | None) -> list[tuple[Unit, str]]:
        units = segment(text)
        return list(zip(units, self.predict_units(units, rating), strict=True))

    # -- storage ----------------------------------------------------------------------------

    def save(self, folder: Path) -> str:
        """Write model.npz and model.json under ``folder``; return the model version."""
        folder.mkdir(parents=True, exist_ok=True)
        npz = folder / "model.npz"
        np.savez_compressed(
            npz, coef=self.coef.astype(np.float32), intercept=self.intercept,
            transitions=self.transitions,
        )  # fmt: skip
        digest = hashlib.sha256(npz.read_bytes()).hexdigest()
        self.meta.update(
            version=f"review-model-{digest[:12]}", sha256=digest, labels=list(LABELS),
            features_version=FEATURES_VERSION,
            bits={"word": WORD_BITS, "char": CHAR_BITS, "block": BLOCK_BITS,
                  "neighbour": NEIGHBOUR_BITS, "context": CONTEXT_BITS},
        )  # fmt: skip
        (folder / "model.json").write_text(json.dumps(self.meta, indent=1, sort_keys=True) + "\n")
        return self.version

    @classmethod
    def load(cls, folder: Path) -> ReviewModel:
        """Load a saved model, refusing one whose npz does not match its recorded sha256."""
        try:
            meta = json.loads((folder / "model.json").read_text())
            raw = (folder / "model.npz").read_bytes()
        except (OSError, ValueError) as exc:
            raise ModelError(f"no readable review model in {folder.name}: {exc}") from exc
        if hashlib.sha256(raw).hexdigest() != meta.get("sha256"):
            raise ModelError(f"review model in {folder.name} does not match its sha256")
        if meta.get("labels") != list(LABELS) or meta.get("features_version") != FEATURES_VERSION:
            raise ModelError(f"review model in {folder.name} is of another format")
        with np.load(folder / "model.npz", allow_pickle=False) as arrays:
            coef, intercept = arrays["coef"], arrays["intercept"]
            transitions = arrays["transitions"]
        return cls(
            coef=coef, intercept=intercept.astype(np.float64),
            transitions=transitions.astype(np.float64), meta=meta,
        )  # fmt: skip


@dataclass(frozen=True)
class TrainParams:
    seed: int = 0
    alpha: float = 8e-7
    epochs: int = 12
    # How much the transitions count against the per-unit evidence, chosen on validation
    # forums of the training side: F1 rose from weight 1 to 20 (suggestions 0.83 to 0.87 with
    # headings removed) and fell above it for text that runs aspects together.
    transition_weight: float = 20.0


def train(reviews: Sequence[LabelledReview], params: TrainParams) -> ReviewModel:
    """Fit a model; the same reviews (in the same order) and params give the same model."""
    model = ReviewModel(coef=np.zeros((0, 0)), intercept=np.zeros(0), transitions=np.zeros(0))
    x, y, counts = model.training_matrix(reviews)
    missing = set(range(len(LABELS))) - set(y)
    if missing:
        raise ModelError(f"training data has no {', '.join(LABELS[i] for i in sorted(missing))}")
    clf = SGDClassifier(
        loss="log_loss", alpha=params.alpha, max_iter=params.epochs, tol=None,
        random_state=params.seed, average=True,
    )  # fmt: skip
    clf.fit(x, y)
    model.coef = clf.coef_.astype(np.float32)
    model.intercept = clf.intercept_.astype(np.float64)
    counts += 1  # add-one: a transition never seen in training stays possible
    model.transitions = np.log(counts / counts.sum(axis=2, keepdims=True))
    model.meta = {
        "params": params.__dict__, "reviews": len(reviews), "units": len(y),
        "label_counts": {LABELS[i]: int(c) for i, c in enumerate(np.bincount(y))},
    }  # fmt: skip
    return model
