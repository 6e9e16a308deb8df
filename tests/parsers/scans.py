"""Pages built for the OCR and furniture tests: text drawn with PyMuPDF, then rasterised into
image-only PDFs (what a scanner gives), optionally with an invisible text layer on top."""

from __future__ import annotations

import random
from pathlib import Path

import pymupdf

SENTENCES = [
    "The committee met on Tuesday to review the annual budget of the observatory.",
    "Measurements of the spectral lines were repeated at three different temperatures.",
    "We thank the workshop staff for building the vacuum chamber used in these experiments.",
    "The results agree with the earlier estimate within the stated uncertainty.",
]
HEADING = "2 Experimental Setup"


def text_page(
    doc: pymupdf.Document,
    *,
    head: str | None = None,
    foot: str | None = None,
    body: list[str] | None = None,
    heading: str | None = HEADING,
    fontsize: float = 11,
) -> pymupdf.Page:
    """One A4 page: an optional running head and foot in small type, a heading, paragraphs."""
    page = doc.new_page(width=595, height=842)
    if head:
        page.insert_text((72, 40), head, fontsize=8, fontname="helv")
    y = 110.0
    if heading:
        page.insert_text((72, y), heading, fontsize=14, fontname="hebo")
        y += 30
    for sentence in body if body is not None else SENTENCES:
        rect = pymupdf.Rect(72, y, 523, y + 60)
        page.insert_textbox(rect, sentence, fontsize=fontsize, fontname="tiro")
        y += 60
    if foot:
        page.insert_text((72, 815), foot, fontsize=8, fontname="helv")
    return page


def rasterise(src: Path, out: Path, *, dpi: int = 150, layer: str | None = None) -> Path:
    """An image-only copy of ``src`` (every page a picture), with ``layer`` written as an
    invisible text layer over each page when given (a scan with a broken OCR layer)."""
    out_doc = pymupdf.open()
    with pymupdf.open(src) as doc:
        for page in doc:
            pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
            new = out_doc.new_page(width=page.rect.width, height=page.rect.height)
            new.insert_image(new.rect, pixmap=pix)
            if layer:
                words, y = layer.split(), 100.0
                while words and y < 760:
                    line, words = " ".join(words[:10]), words[10:]
                    new.insert_text((72, y), line, fontsize=10, render_mode=3)
                    y += 14
    out_doc.save(out)
    return out


def scanned(tmp_path: Path, name: str = "scan.pdf", **page: object) -> Path:
    doc = pymupdf.open()
    text_page(doc, **page)  # type: ignore[arg-type]
    born = tmp_path / f"born-{name}"
    doc.save(born)
    return rasterise(born, tmp_path / name)


def symbol_soup(n: int = 1500, seed: int = 7) -> str:
    rng = random.Random(seed)
    alphabet = "!#$%&()*+/<=>?@[]^_{|}~0123456789"
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(2, 7))) for _ in range(n)]
    return " ".join(words)


def noise_page(tmp_path: Path, seed: int = 3) -> Path:
    """A scan of scribbles: random strokes, no letters (handwriting-like noise)."""
    rng = random.Random(seed)
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for _ in range(400):
        x, y = rng.uniform(72, 520), rng.uniform(80, 760)
        points = [(x + rng.uniform(-9, 9), y + rng.uniform(-6, 6)) for _ in range(4)]
        page.draw_polyline(points, width=rng.uniform(0.6, 1.6))
    born = tmp_path / "born-noise.pdf"
    doc.save(born)
    return rasterise(born, tmp_path / "noise.pdf")
