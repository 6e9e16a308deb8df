"""arXiv identifiers: parsing, normalising, and turning them into safe relative paths."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from sources.errors import InvalidIdError

# New style since 2007-04: YYMM.NNNN (to 2014) or YYMM.NNNNN, optional version.
_NEW = re.compile(r"^(?P<yymm>\d{4})\.(?P<num>\d{4,5})(?:v(?P<v>[1-9]\d{0,3}))?$")
# Old style: archive(.SUBJ)/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136, optional version.
_OLD = re.compile(
    r"^(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.(?P<subj>[A-Z]{2}))?/(?P<num>\d{7})"
    r"(?:v(?P<v>[1-9]\d{0,3}))?$"
)
_PREFIXES = ("arxiv:", "oai:arxiv.org:", "https://arxiv.org/abs/", "http://arxiv.org/abs/")


@dataclass(frozen=True)
class ArxivId:
    """A parsed arXiv id. ``base`` has no version (``hep-th/9901001``, ``2104.12255``)."""

    base: str
    version: int | None = None

    @property
    def versioned(self) -> str:
        return f"{self.base}v{self.version}" if self.version else self.base

    def relative_dir(self) -> PurePosixPath:
        """A path-safe folder for this paper: ``2104/2104.12255`` or ``hep-th/9901/9901001``.

        Every part comes from the validated regex groups, so no id can climb out of the folder
        it is joined to, and old-style ids never collide with new-style ones.
        """
        new = _NEW.match(self.base)
        if new:
            return PurePosixPath(new["yymm"], self.base)
        old = _OLD.match(self.base)
        assert old is not None  # guaranteed by parse_arxiv_id
        archive = old["archive"] + (f".{old['subj']}" if old["subj"] else "")
        return PurePosixPath(archive, old["num"][:4], old["num"])


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse ``2104.12255v1``, ``hep-th/9901001``, ``arXiv:…`` or an abs URL.

    Raises ``InvalidIdError`` for anything else, including path tricks like ``../x``.
    """
    raw = text.strip()
    lowered = raw.lower()
    for prefix in _PREFIXES:
        if lowered.startswith(prefix):
            raw = raw[len(prefix) :]
            break
    for pattern in (_NEW, _OLD):
        m = pattern.match(raw)
        if m:
            base = raw[: m.start("v") - 1] if m["v"] else raw
            return ArxivId(base=base, version=int(m["v"]) if m["v"] else None)
    shown = repr(text[:80]) + ("..." if len(text) > 80 else "")  # escaped, and bounded
    raise InvalidIdError(
        f"not an arXiv id: {shown} (expected e.g. 2104.12255, 2104.12255v1 or hep-th/9901001)"
    )
