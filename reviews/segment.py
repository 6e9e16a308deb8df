"""Review text into sentence units: markdown headings, list items, then sentences.

Lines are grouped first: a markdown heading (``## Weaknesses``, ``**Pros**``, a short line
ending in ``:``) sets the heading that the following units sit under; a list item (``-``,
``*``, ``•``, ``1.``, ``(a)``, ``[2]``) starts a unit of its own; other lines run on as a
paragraph until a blank line. Each paragraph or item is then split into sentences by NLTK's
Punkt tokenizer with a fixed list of the abbreviations reviews use ("Fig.", "Eq.", "Sec.",
"e.g.", "i.e.", "et al.", "w.r.t.", single-letter initials …), so nothing is downloaded and
the split is the same on every machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

ABBREVIATIONS = frozenset(
    """fig figs eq eqs eqn eqns sec secs sect tab tabs thm thms lem prop cor def defn alg algo
    app appx apx ref refs ch chap pt pts no nos vol vols pp p ed eds e.g i.e et al cf vs v etc
    resp approx esp incl w.r.t wrt w.l.o.g i.i.d a.k.a viz ca dr prof mr mrs ms st jr sr inc
    ltd co corp dept univ ex exp avg max min std var init""".split()  # noqa: SIM905
) | frozenset("abcdefghijklmnopqrstuvwxyz")

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(?P<h>.+?)\s*#*\s*$")
_BOLD_HEADING = re.compile(r"^\s*(?:\*\*|__)(?P<h>[^*_]{1,80}?)(?::\s*)?(?:\*\*|__)\s*:?\s*$")
_COLON_HEADING = re.compile(r"^\s*(?P<h>[A-Za-z][\w ,/&'()\-]{0,60}?)\s*:\s*$")
_INLINE_HEADING = re.compile(
    r"^\s*(?:\*\*|__)?(?P<h>[A-Z][A-Za-z/&\-]*(?: [A-Za-z/&\-]+){0,3})(?:\*\*|__)?\s*:"
    r"(?:\*\*|__)?\s+(?=\S)"
)
_ITEM = re.compile(
    r"^\s*(?:[-*+•●▪◦‣\u2013]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\([ivx]{1,4}\)|\[\d{1,3}\]|"
    r"[A-Z]\d{1,2}[.:)])\s+"
)


@dataclass(frozen=True)
class Unit:
    """One sentence (or short list item) of a review, with the heading it sits under."""

    text: str
    heading: str | None  # the nearest heading above it, recognised or not
    item: bool  # it is (part of) a list item
    first_in_block: bool  # it opens its paragraph or item
    # Layout that marks where a reviewer's sections change: the list marker of its item
    # ("-", "1.", "(a)" …, "" outside a list) and whether a blank line, a heading or the start
    # of the text comes right before its paragraph or item (items on consecutive lines have
    # none).
    marker: str = ""
    after_gap: bool = True


@lru_cache(maxsize=1)
def _punkt() -> PunktSentenceTokenizer:
    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


# An abbreviation that Punkt missed because punctuation clings to it ("“Eq. 6", "$Sec.");
# "et al." is left out: it often does end a sentence.
_ENDS_IN_ABBREVIATION = re.compile(
    r"(?:^|[^\w.])(?:fig|figs|eq|eqs|eqn|sec|secs|tab|thm|lem|prop|cf|vs|e\.g|i\.e|w\.r\.t)\.$",
    re.IGNORECASE,
)


def split_sentences(text: str) -> list[str]:
    """Sentences of one paragraph, abbreviations and initials kept whole."""
    flat = re.sub(r"\s+", " ", text).strip()
    out: list[str] = []
    for sentence in _punkt().tokenize(flat) if flat else []:
        if out and _ENDS_IN_ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {sentence.strip()}"
        elif sentence.strip():
            out.append(sentence.strip())
    return out


def _heading(line: str) -> str | None:
    for pattern in (_MD_HEADING, _BOLD_HEADING):
        if m := pattern.match(line):
            return m["h"].strip(" *_:")
    m = _COLON_HEADING.match(line)
    if m and len(m["h"].split()) <= 8:
        return m["h"].strip()
    return None


def segment(text: str) -> list[Unit]:
    """The sentence units of a review in reading order."""
    units: list[Unit] = []
    heading: str | None = None
    block: list[str] = []
    block_item = False
    block_marker = ""
    block_gap = True
    gap = True  # nothing but blank lines or a heading since the last block

    def flush() -> None:
        nonlocal block
        if block:
            for i, split in enumerate(split_sentences(" ".join(block))):
                sentence = re.sub(r"^[*_]+\s+", "", split)  # an emphasis closed before it
                if len(sentence) > 1 and re.search(r"\w", sentence):
                    units.append(
                        Unit(sentence, heading, block_item, i == 0, block_marker, block_gap)
                    )
        block = []

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            flush()
            gap = True
            continue
        if (found := _heading(line)) is not None:
            flush()
            heading, gap = found, True
            continue
        rest = line
        if m := _INLINE_HEADING.match(line):
            flush()
            heading, gap = m["h"].strip(), True
            rest = line[m.end() :]
        if m := _ITEM.match(rest):
            flush()
            block_item, block_marker, block_gap = True, m.group().strip(), gap
            rest = rest[m.end() :]
        elif not block:
            block_item, block_marker, block_gap = False, "", gap
        gap = False
        block.append(rest.strip())
    flush()
    return units
