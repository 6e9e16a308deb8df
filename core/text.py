"""Text that is safe to show: no control characters that a terminal or a viewer obeys."""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL and C1 controls, and the invisible characters that
# reorder or break the text around them (bidirectional marks, overrides and isolates, line
# and paragraph separators).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """``text`` with each control character (but tab and newline) and each bidirectional
    control written as a visible escape (``\\x1b``, ``\\u202e``): it cannot move the
    cursor, retitle the window, clear the screen or reorder what is shown."""
    return _UNSAFE.sub(_visible, text)
