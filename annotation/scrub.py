"""Remove e-mail addresses and phone numbers from free text before it is stored."""

from __future__ import annotations

import re

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
# +1 (555) 123-4567 · 555-123-4567 · +49 30 1234 5678 · (030) 1234567 -- at least 9 digits,
# in groups, so years ("2019-2020"), DOIs and decimals in tables are left alone.
PHONE = re.compile(
    r"(?<![\w/.,])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)[\s.-]?|\d{2,5}[\s.-])"
    r"\d{3,4}(?:[\s.-]?\d{3,5})?(?![\w/])"
)


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    return "[phone]" if 9 <= digits <= 15 else match.group(0)


def scrub(text: str) -> tuple[str, bool]:
    """(scrubbed text, whether anything was removed)."""
    out = EMAIL.sub("[email]", text)
    out = PHONE.sub(_phone, out)
    return out, out != text
