"""arXiv's requester-pays S3 bulk archive: manifests, tar selection, and safe streaming.

The bucket (``s3://arxiv``) holds ``pdf/arXiv_pdf_manifest.xml`` and
``src/arXiv_src_manifest.xml``; each ``<file>`` names a tar of about 500 MB with its md5, the
``yymm`` it covers and its first and last item. PDF tars hold ``<yymm>/<id>v<N>.pdf``; source
tars hold one ``<yymm>/<id>.gz`` per paper (``.pdf`` for PDF-only submissions). Old-style ids
drop the slash (``astro-ph0001001v1.pdf``).

This module only reads: it parses a manifest, picks the tars that can hold wanted papers,
and streams one tar, checking its md5 and staging the wanted members on local disk. Nothing
staged counts until the md5 matched; the job (``jobs.import_arxiv_bulk``) then stores them.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import tarfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from sources.arxiv_ids import ArxivId, parse_arxiv_id
from sources.errors import SourceError
from sources.xml import iterparse_xml

Kind = Literal["pdf", "src"]
KINDS: tuple[Kind, ...] = ("pdf", "src")
MANIFESTS: dict[Kind, str] = {
    "pdf": "pdf/arXiv_pdf_manifest.xml",
    "src": "src/arXiv_src_manifest.xml",
}
# Request prices used by --plan (AWS S3 Standard, us-east-1 list prices): a GET costs
# $0.0004 per 1,000 requests; data transfer out to the internet $0.09 per GB (first 10 TB a
# month). Transfer to EC2 in us-east-1 is free, so the estimate is an upper bound there.
GET_PRICE_PER_1000 = 0.0004
TRANSFER_PRICE_PER_GB = 0.09
DEFAULT_BLOCK_BYTES = 64 << 20  # one ranged GET per block while streaming a tar
MAX_MEMBER_BYTES = 1 << 30  # a member bigger than this is refused, never staged
_TAR_NAME = re.compile(r"^(pdf|src)/arXiv_(pdf|src)_(\d{4})_(\d{3,4})\.tar$")
_MEMBER = re.compile(
    r"^(?P<yymm>\d{4})/(?P<archive>[a-z]+(?:-[a-z]+)?)?"
    r"(?P<num>\d{4}\.\d{4,5}|\d{7})(?:v(?P<v>[1-9]\d{0,3}))?\.(?P<ext>pdf|gz)$"
)


class BulkError(SourceError):
    """The bulk archive cannot be read as expected (a bad manifest, a tar that fails its md5)."""


class Md5MismatchError(BulkError):
    """A streamed tar's md5 differs from the manifest's: nothing from it is stored."""


@dataclass(frozen=True)
class ManifestEntry:
    filename: str  # pdf/arXiv_pdf_2104_001.tar
    md5: str
    size: int
    yymm: str
    first_item: str  # slash-less id: astro-ph0001001, 2104.00001
    last_item: str
    num_items: int

    def in_range(self, key: str) -> bool:
        """True when the slash-less id ``key`` falls in this tar's item range."""
        first, last = _order(self.first_item), _order(self.last_item)
        return _yymm(key) == self.yymm and first <= _order(key) <= last


def _is_new(key: str) -> bool:
    return "." in key and key[:4].isdigit()


def _yymm(key: str) -> str:
    return key[:4] if _is_new(key) else key[-7:-3]


def _order(key: str) -> tuple[str, int | str]:
    """Sort key of a slash-less id as arXiv orders a tar: new-style ids by number, old-style
    by archive then number."""
    if _is_new(key):
        yymm, num = key.split(".", 1)
        return (yymm, int(num) if num.isdigit() else num)
    return (key[:-7], key[-7:])


def bulk_key(paper_id: str) -> str:
    """The slash-less form the bulk archive uses: ``hep-th/9901001`` -> ``hep-th9901001``."""
    return parse_arxiv_id(paper_id).base.replace("/", "")


def _text(elem: object, tag: str) -> str:
    child = elem.find(tag)  # type: ignore[attr-defined]
    return (child.text or "").strip() if child is not None else ""


def read_manifest(data: bytes, kind: Kind) -> list[ManifestEntry]:
    """Parse ``arXiv_<kind>_manifest.xml`` (streamed, no entities or DTD)."""
    entries = []
    what = MANIFESTS[kind]
    for elem in iterparse_xml(data, ("file",), what=what):
        name = _text(elem, "filename")
        match = _TAR_NAME.match(name)
        if not match or match[1] != kind:
            raise BulkError(f"{what}: unexpected tar name {name[:80]!r}")
        try:
            size, num = int(_text(elem, "size")), int(_text(elem, "num_items") or 0)
        except ValueError:
            raise BulkError(f"{what}: {name}: size or num_items is not a number") from None
        md5 = _text(elem, "md5sum").lower()
        if not re.fullmatch(r"[0-9a-f]{32}", md5):
            raise BulkError(f"{what}: {name}: md5sum is not an md5")
        entries.append(
            ManifestEntry(
                filename=name,
                md5=md5,
                size=size,
                yymm=_text(elem, "yymm") or match[3],
                first_item=_text(elem, "first_item"),
                last_item=_text(elem, "last_item"),
                num_items=num,
            )
        )
    if not entries:
        raise BulkError(f"{what}: no <file> entries")
    return entries


def select_tars(entries: Sequence[ManifestEntry], keys: Iterable[str]) -> dict[str, list[str]]:
    """The tars (by filename, in manifest order) whose range holds any of the slash-less
    ``keys``, each with the keys it holds."""
    by_yymm: dict[str, list[ManifestEntry]] = {}
    for entry in entries:
        by_yymm.setdefault(entry.yymm, []).append(entry)
    chosen: dict[str, list[str]] = {}
    for key in keys:
        for entry in by_yymm.get(_yymm(key), ()):
            if entry.in_range(key):
                chosen.setdefault(entry.filename, []).append(key)
                break
    order = {e.filename: i for i, e in enumerate(entries)}
    return {name: chosen[name] for name in sorted(chosen, key=order.__getitem__)}


@dataclass(frozen=True)
class BulkMember:
    """One wanted member of a tar, staged on local disk."""

    paper_id: str  # hep-th/9901001, 2104.12255
    version: str  # "v1", or "" (source tars carry no version)
    ext: str  # pdf | gz
    name: str  # the member's name in the tar
    staged: Path


def member_id(name: str) -> tuple[ArxivId, str] | None:
    """``2104/2104.12255v1.pdf`` -> (2104.12255 v1, "pdf"); ``0001/astro-ph0001001.gz`` ->
    (astro-ph/0001001, "gz"); None for any other name (a README, a path trick)."""
    m = _MEMBER.match(name)
    if not m:
        return None
    num = m["num"]
    base = f"{m['archive']}/{num}" if m["archive"] else num
    if m["archive"] is None and "." not in num:
        return None  # a 7-digit number needs its archive
    if num[:4] != m["yymm"]:
        return None
    try:
        arxiv_id = parse_arxiv_id(base + (f"v{m['v']}" if m["v"] else ""))
    except ValueError:
        return None
    return arxiv_id, m["ext"]


class _Md5Reader:
    """A read-only stream over ``raw`` that hashes every byte and reports progress."""

    def __init__(self, raw: IO[bytes], on_bytes: Callable[[int], None] | None) -> None:
        self.raw = raw
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.on_bytes = on_bytes
        self.total = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.md5.update(data)
        self.total += len(data)
        if self.on_bytes and data:
            self.on_bytes(len(data))
        return data

    def drain(self, block: int) -> None:
        while self.read(block):
            pass


def stream_tar(
    raw: IO[bytes],
    entry: ManifestEntry,
    wanted: Callable[[ArxivId, str], bool],
    staging: Path,
    *,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    on_bytes: Callable[[int], None] | None = None,
) -> tuple[list[BulkMember], list[tuple[str, str]]]:
    """Stream one tar from ``raw``; stage the wanted members under ``staging`` and check the
    whole tar's md5 against the manifest.

    Returns the staged members and ``(member, reason)`` for wanted members refused (too big,
    not a regular file). Raises ``Md5MismatchError`` (after removing what it staged) when the
    md5 differs. Only regular files whose names match the archive's scheme are read: links,
    devices, absolute paths and ``..`` never match, and a staged file's name is built from the
    validated id, not taken from the tar.
    """
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    reader = _Md5Reader(raw, on_bytes)
    staged: list[BulkMember] = []
    refused: list[tuple[str, str]] = []
    try:
        with tarfile.open(fileobj=reader, mode="r|", bufsize=min(block_bytes, 1 << 20)) as tar:  # type: ignore[call-overload]
            for info in tar:
                parsed = member_id(info.name)
                if parsed is None or not wanted(*parsed):
                    continue
                arxiv_id, ext = parsed
                if not info.isreg():
                    refused.append((info.name, "not a regular file"))
                    continue
                if info.size > max_member_bytes:
                    refused.append((info.name, f"{info.size:,} bytes is over the limit"))
                    continue
                source = tar.extractfile(info)
                if source is None:
                    refused.append((info.name, "unreadable member"))
                    continue
                version = f"v{arxiv_id.version}" if arxiv_id.version else ""
                dest = staging / f"{len(staged):06d}.{ext}"
                with dest.open("wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                staged.append(BulkMember(arxiv_id.base, version, ext, info.name, dest))
        reader.drain(block_bytes)  # padding after the end-of-archive blocks
    except tarfile.TarError as exc:
        reader.drain(block_bytes)
        if reader.md5.hexdigest() == entry.md5:
            shutil.rmtree(staging, ignore_errors=True)
            raise BulkError(f"{entry.filename}: not a readable tar ({exc})") from None
    if reader.md5.hexdigest() != entry.md5:
        shutil.rmtree(staging, ignore_errors=True)
        raise Md5MismatchError(
            f"{entry.filename}: md5 {reader.md5.hexdigest()} differs from the manifest's "
            f"{entry.md5} ({reader.total:,} bytes read); nothing from it was stored; rerun "
            "to fetch it again"
        )
    return staged, refused


@dataclass(frozen=True)
class PlanLine:
    filename: str
    size: int
    wanted: int
    requests: int
    cost_usd: float


def plan_line(entry: ManifestEntry, wanted: int, block_bytes: int) -> PlanLine:
    """A tar's place in ``--plan``: one HEAD and one GET per block, plus transfer."""
    requests = 1 + max(1, math.ceil(entry.size / block_bytes))
    cost = requests / 1000 * GET_PRICE_PER_1000 + entry.size / 1e9 * TRANSFER_PRICE_PER_GB
    return PlanLine(entry.filename, entry.size, wanted, requests, cost)
