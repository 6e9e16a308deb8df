"""One canonical paper record, whichever arXiv path it came from.

The API, OAI-PMH (``arXivRaw`` and ``arXiv`` formats) and the Kaggle snapshot describe the same
paper in different shapes. These helpers normalise the shared fields identically, so the same
paper from two paths stores the same values:

- titles and abstracts: whitespace runs collapsed to one space, trimmed;
- categories: a list in the source's order, the first one primary unless the source names one;
- authors: the raw string as given, plus ``[last, first, suffix]`` triples as in the snapshot;
- versions: ``v1``, ``v2``… with their submission times (UTC) and sizes;
- ``published``/``updated``: the first and last version's times.
"""

from __future__ import annotations

import email.utils
import re
import unicodedata
from datetime import UTC, date, datetime

from core.records import PaperVersion

# ASCII whitespace only, exactly as DuckDB's RE2 ``\s`` in the snapshot importer's SQL, so the
# same text cleans the same way on both paths.
_WS = re.compile(r"[\t\n\f\r ]+")

# TeX accents that arXiv metadata uses in author names, mapped to combining characters.
_TEX_ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303",
    "=": "\u0304", ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b",
    "c": "\u0327", "k": "\u0328", "r": "\u030a",
}  # fmt: skip
_TEX_LETTERS = {
    "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "ss": "ß", "ae": "æ", "AE": "Æ",
    "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å", "i": "\u0131", "j": "\u0237",
}  # fmt: skip
_ACCENT = re.compile(r"\\([`'^\"~=.]|[uvHckr](?![A-Za-z]))\s*\{?\s*(\\?[A-Za-z])\s*\}?")
_LETTER = re.compile(r"\{?\\(ss|ae|AE|oe|OE|aa|AA|[oOlLij])(?![A-Za-z])\s*\}?")
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}
_PARTICLES = {
    "de", "del", "della", "der", "den", "di", "da", "do", "dos", "du", "la", "le", "van",
    "von", "ter", "ten", "st.", "zu", "af", "bin", "al", "el",
}  # fmt: skip
_INITIAL_GAP = re.compile(r"\.(?=[A-Za-z'-])")


def clean_text(text: str | None) -> str | None:
    """Collapse whitespace; empty becomes None."""
    if text is None:
        return None
    if "\n" in text or "  " in text or "\t" in text or "\r" in text or "\f" in text:
        text = _WS.sub(" ", text)
    return text.strip(" ") or None


def tex_to_unicode(text: str) -> str:
    """Turn TeX accents (``Bal\\'azs``, ``{\\o}``) into Unicode (``Balázs``, ``ø``)."""

    def accent(m: re.Match[str]) -> str:
        base = m.group(2).lstrip("\\")
        base = {"i": "i", "j": "j"}.get(base, base)
        return unicodedata.normalize("NFC", base + _TEX_ACCENTS[m.group(1)])

    text = _ACCENT.sub(accent, text)
    text = _LETTER.sub(lambda m: _TEX_LETTERS[m.group(1)], text)
    return text.replace("{", "").replace("}", "")


def _strip_parenthesised(text: str) -> str:
    out, depth = [], 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def parse_authors(raw: str | None) -> list[list[str]]:
    """``"C. Bal\\'azs, E. L. Berger and C.-P. Yuan"`` -> ``[["Balázs", "C.", ""], …]``.

    Affiliations in parentheses are dropped; ``Jr``/``II``-style suffixes go to the third slot.
    """
    if not raw:
        return []
    text = raw
    if "(" in text:
        text = _strip_parenthesised(text)
    if "\\" in text or "{" in text:
        text = tex_to_unicode(text)
    text = _WS.sub(" ", _INITIAL_GAP.sub(". ", text))
    parts = re.split(r",|\band\b|&|;", text)
    authors: list[list[str]] = []
    for part in parts:
        tokens = part.strip().split(" ")
        tokens = [t for t in tokens if t]
        if not tokens or " ".join(tokens).lower() in {"et al", "et al.", "others"}:
            continue
        if any(t.lower() in {"collaboration", "team", "group", "consortium"} for t in tokens):
            authors.append([" ".join(tokens), "", ""])  # a collective author has no first name
            continue
        if len(tokens) > 1 and tokens[-1].lower() in _SUFFIXES and authors is not None:
            suffix = tokens.pop()
        else:
            suffix = ""
        if suffix == "" and len(tokens) == 1 and tokens[0].lower() in _SUFFIXES and authors:
            authors[-1][2] = tokens[0]  # "Smith, Jr." -> suffix of the previous author
            continue
        split = len(tokens) - 1
        while split > 1 and tokens[split - 1].lower() in _PARTICLES:
            split -= 1  # "M. De Napoli" -> last name "De Napoli"
        last = " ".join(tokens[split:])
        first = " ".join(tokens[:split])
        authors.append([last, first, suffix])
    return authors


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


def parse_rfc822(text: str | None) -> datetime | None:
    """``"Tue, 3 Apr 2007 22:04:11 GMT"`` -> naive UTC datetime."""
    if not text:
        return None
    parts = text.split()
    if len(parts) == 6 and parts[5] == "GMT" and parts[2] in _MONTHS:  # arXiv's own form, fast
        try:
            hh, mm, ss = (int(x) for x in parts[4].split(":"))
            return datetime(int(parts[3]), _MONTHS[parts[2]], int(parts[1]), hh, mm, ss)
        except ValueError:
            pass  # fall through to the general parser, which names nothing but parses more
    try:
        when = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError):
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def to_naive_utc(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def parse_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def split_categories(text: str | None) -> list[str]:
    return [c for c in (text or "").split() if c]


def version_times(versions: list[PaperVersion]) -> tuple[datetime | None, datetime | None]:
    """``published`` and ``updated`` from a version list (first and last created times)."""
    times = [v.created for v in versions if v.created is not None]
    return (times[0], times[-1]) if times else (None, None)
