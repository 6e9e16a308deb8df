"""The page a negative's context cites, rendered from the stored PDF, with the parser's regions.

The image is a real-size JPEG data URL (Label Studio refuses tiny blobs, and a data URL needs
no storage, CORS or second server). PDFs are untrusted: the page is rendered by PyMuPDF in an
isolated worker with time and memory limits. The regions are the parser's tables, formulas and
figures on that page, their boxes in percent of the image (Label Studio's unit), each carrying
the parser's markup as the text the expert corrects. A region's id names its element
(``<doc_id prefix>:<seq>``) so the correction can be traced back to what the parser wrote.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parsers.isolate import IsolatedWorker, Limits
from warehouse.db import Warehouse

DPI = 110  # an A4/letter page at about 935 x 1210 px: small text stays readable
JPEG_QUALITY = 80
REGION_KINDS = {"table": "table", "equation": "formula", "figure": "figure"}


@dataclass(frozen=True)
class PageView:
    paper_id: str
    page: int  # 1-based, as contexts cite it
    image: str  # data:image/jpeg;base64,...
    width: int  # pixels
    height: int
    regions: list[dict[str, Any]] = field(default_factory=list)


def render_page(path: str, index: int, dpi: int = DPI) -> tuple[bytes, int, int, float, float]:
    """JPEG bytes, pixel size and page size in points of page ``index`` (0-based).
    Runs in the isolated worker."""
    import pymupdf

    with pymupdf.open(path) as doc:  # type: ignore[no-untyped-call]
        page = doc[index]
        pix = page.get_pixmap(dpi=dpi, alpha=False)
        data = pix.tobytes("jpeg", jpg_quality=JPEG_QUALITY)
        return data, pix.width, pix.height, float(page.rect.width), float(page.rect.height)


def cited_page(contexts: list[dict[str, Any]], paper_id: str | None) -> tuple[str, int] | None:
    """The first (paper, page) a context cites."""
    for ctx in contexts:
        paper, page = ctx.get("paper_id") or paper_id, ctx.get("page")
        if paper and isinstance(page, int) and page >= 1:
            return str(paper), page
    return None


def stored_pdf(wh: Warehouse, home: Path, paper_id: str) -> Path | None:
    """The paper's newest verified PDF on disk (``pdfs.path`` is relative to ``home``)."""
    with wh.read() as con:
        row = con.execute(
            "SELECT path FROM pdfs WHERE paper_id = ? AND status = 'ok' AND path IS NOT NULL "
            "ORDER BY fetched_at DESC NULLS LAST LIMIT 1",
            [paper_id],
        ).fetchone()
    path = home / row[0] if row else None
    return path if path is not None and path.is_file() else None


def _elements(wh: Warehouse, paper_id: str, index: int) -> list[tuple[Any, ...]]:
    with wh.read() as con:
        return con.execute(
            "SELECT e.doc_id, e.seq, e.kind, e.bbox, coalesce(nullif(e.markdown, ''), e.text) "
            "FROM elements e JOIN (SELECT doc_id FROM documents WHERE paper_id = ? AND status "
            "IN ('ok', 'low_quality') ORDER BY parsed_at DESC LIMIT 1) d USING (doc_id) "
            "WHERE e.page = ? AND e.bbox IS NOT NULL AND e.kind IN ('table', 'equation', "
            "'figure') ORDER BY e.seq",
            [paper_id, index],
        ).fetchall()


def page_view(
    wh: Warehouse, worker: IsolatedWorker, home: Path, paper_id: str, page: int, dpi: int = DPI
) -> PageView | None:
    """The cited page as an image with the parser's regions, or None without a stored PDF
    (``pdfs.path`` is relative to ``home``)."""
    path = stored_pdf(wh, home, paper_id)
    if path is None:
        return None
    elements = _elements(wh, paper_id, page - 1)
    try:
        data, width, height, pw, ph = worker.call(render_page, str(path), page - 1, dpi)
    except Exception:  # noqa: BLE001 - a page that does not render: the task goes without one
        return None
    regions = []
    for doc_id, seq, kind, bbox, markup in elements:
        x0, y0, x1, y1 = (float(v) for v in bbox)
        x0, x1 = max(0.0, min(x0, x1)), min(pw, max(x0, x1))
        y0, y1 = max(0.0, min(y0, y1)), min(ph, max(y0, y1))
        if x1 - x0 < 1 or y1 - y0 < 1:
            continue
        regions.append(
            {
                "id": f"{doc_id[:16]}:{seq}",
                "label": REGION_KINDS[kind],
                "x": 100 * x0 / pw, "y": 100 * y0 / ph,
                "width": 100 * (x1 - x0) / pw, "height": 100 * (y1 - y0) / ph,
                "markup": markup or "",
            }
        )  # fmt: skip
    image = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    return PageView(paper_id, page, image, width, height, regions)


def page_worker() -> IsolatedWorker:
    """One isolated worker for all the pages of a push."""
    return IsolatedWorker(Limits(wall_s=60.0, memory_mb=2048))


def region_results(view: PageView) -> list[dict[str, Any]]:
    """Pre-annotations: one box and one per-region markup text for each parser region."""
    out: list[dict[str, Any]] = []
    for r in view.regions:
        box = {"x": r["x"], "y": r["y"], "width": r["width"], "height": r["height"],
               "rotation": 0}  # fmt: skip
        common = {"id": r["id"], "to_name": "page", "original_width": view.width,
                  "original_height": view.height, "image_rotation": 0}  # fmt: skip
        out.append({**common, "from_name": "regions", "type": "rectanglelabels",
                    "value": {**box, "rectanglelabels": [r["label"]]}})  # fmt: skip
        out.append({**common, "from_name": "region_markup", "type": "textarea",
                    "value": {**box, "text": [r["markup"]]}})  # fmt: skip
    return out
