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


_BOM = b"\xef\xbb\xbf"
_HTML_MARKS = (b"<!doctype html", b"<html", b"<head", b"<body")


def looks_like_html(data: bytes) -> bool:
    """True when ``data`` starts like an HTML page (an error page, a captcha, a login form),
    XHTML included: an HTML doctype or root element within the first bytes."""
    head = data[:4096].lower()
    start = head.removeprefix(_BOM).lstrip()
    if start.startswith(b"<?xml"):  # XHTML: the doctype or root comes after the declaration
        start = start[start.find(b"?>") + 2 :].lstrip() if b"?>" in start else b""
    while start.startswith(b"<!--") and b"-->" in start:
        start = start[start.find(b"-->") + 3 :].lstrip()
    return start.startswith(_HTML_MARKS)


def _reject_doctype(data: bytes, what: str, expected: str) -> None:
    if looks_like_html(data):
        raise MalformedResponseError(
            f"{what}: the server sent an HTML page, not {expected} (an error or login page, "
            "or the wrong URL)"
        )
    # A DOCTYPE is where entity definitions live (billion laughs, XXE); no source we read
    # needs one, so refuse the document outright rather than trusting parser switches alone.
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise MalformedResponseError(f"{what}: refusing XML with a DTD or entity declarations")


def parse_xml(data: bytes, *, what: str, expected: str = "XML") -> Any:
    """Parse a whole document strictly. Raises ``MalformedResponseError`` naming ``what``
    (and ``expected``, the kind of document wanted, when an HTML page came instead)."""
    _reject_doctype(data, what, expected)
    parser = etree.XMLParser(recover=False, **_PARSER_OPTIONS)
    try:
        return etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedResponseError(f"{what}: invalid XML ({exc})") from None


def iterparse_xml(
    data: bytes, tags: tuple[str, ...], *, what: str, expected: str = "XML"
) -> Iterator[Any]:
    """Stream ``end`` events for ``tags``; elements are cleared after the caller is done."""
    _reject_doctype(data, what, expected)
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
