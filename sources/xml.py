"""Safe XML parsing: no entities, no DTDs, no network, no huge trees."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from lxml import etree

from sources.errors import MalformedResponseError

_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
}


def _reject_doctype(data: bytes, what: str) -> None:
    # A DOCTYPE is where entity definitions live (billion laughs, XXE); no source we read
    # needs one, so refuse the document outright rather than trusting parser switches alone.
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise MalformedResponseError(f"{what}: refusing XML with a DTD or entity declarations")


def parse_xml(data: bytes, *, what: str) -> Any:
    """Parse a whole document strictly. Raises ``MalformedResponseError`` naming ``what``."""
    _reject_doctype(data, what)
    parser = etree.XMLParser(recover=False, **_PARSER_OPTIONS)
    try:
        return etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedResponseError(f"{what}: invalid XML ({exc})") from None


def iterparse_xml(data: bytes, tags: tuple[str, ...], *, what: str) -> Iterator[Any]:
    """Stream ``end`` events for ``tags``; elements are cleared after the caller is done."""
    _reject_doctype(data, what)
    try:
        for _event, elem in etree.iterparse(
            io.BytesIO(data), events=("end",), tag=tags, recover=False, **_PARSER_OPTIONS
        ):
            yield elem
            elem.clear(keep_tail=True)
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise MalformedResponseError(f"{what}: invalid or truncated XML ({exc})") from None
