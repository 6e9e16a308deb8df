"""Text clean-up shared by the parsers: Unicode, ligatures, hyphenation, stamps, line joins."""

from __future__ import annotations

import re
import unicodedata

# The vertical stamp arXiv prints on the left margin of page one, e.g.
# "arXiv:2304.02623v1  [cs.HC]  5 Apr 2023" or "arXiv:hep-th/9901001v2 12 Jan 1999".
ARXIV_STAMP = re.compile(
    r"arXiv:\s*(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
    r"(?:\s*\[[\w.\-]+\])?\s+\d{1,2}\s+[A-Z][a-z]{2}\s+\d{4}"
)
_LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
_LIG_RE = re.compile("|".join(_LIGATURES))
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_SOFT = re.compile("[\u00ad\ufeff\u200c\u200d]")
# A word broken over a line end: "repre-" + "sentation". Not for "state-of-" + "the-art"
# style compounds whose continuation starts with a capital or a digit.
_HYPHEN_END = re.compile(r"(\w)[-\u2010\u2011]$")
_NUMBER_ONLY = re.compile(r"^\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*$", re.IGNORECASE)


def normalize(text: str) -> str:
    """NFC-normalise, expand ligatures, drop soft hyphens and zero-widths, squeeze spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _LIG_RE.sub(lambda m: _LIGATURES[m.group(0)], text)
    text = _SOFT.sub("", text)
    return _SPACES.sub(" ", text)


def join_lines(lines: list[str]) -> str:
    """Join a block's lines into one paragraph, undoing end-of-line hyphenation."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
        elif _HYPHEN_END.search(out) and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}"
    return out


def is_page_number(text: str) -> bool:
    return bool(_NUMBER_ONLY.match(text))


def strip_stamp(text: str) -> str:
    return ARXIV_STAMP.sub("", text).strip()


def shape(text: str) -> str:
    """A line's shape for spotting running headers and footers: digits folded, case folded."""
    return re.sub(r"\d+", "#", text.strip().lower())


# Operators, relations, arrows and Greek letters (several are look-alikes of ASCII on purpose).
MATH_CHARS = frozenset(
    "=+-^_|"
    + "".join(chr(c) for c in range(0x2200, 0x2300))  # Mathematical Operators block
    + "".join(chr(c) for c in range(0x2190, 0x2200))  # arrows
    + "".join(chr(c) for c in range(0x0391, 0x03CA) if c != 0x03A2)  # Greek
    + "\u00d7\u00f7\u00b1\u2016\u27e8\u27e9"  # times, divide, plus-minus, norm, angle brackets
)


def math_share(text: str) -> float:
    """The share of non-space characters that are math symbols or Greek letters."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if c in MATH_CHARS) / len(chars)
