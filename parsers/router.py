"""``--parser auto``: PyMuPDF everywhere, Nougat for the pages that need it when it can run.

PyMuPDF parses the whole document first (it is cheap). Pages that are math-dense or have no
text layer are sent to Nougat when a GPU and the weights are present; everything else keeps
its PyMuPDF parse. The decision, and why, is recorded in ``provenance.router``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from parsers.base import Document, Page
from parsers.nougat import NougatOptions, NougatParser
from parsers.nougat_model import weights_available
from parsers.pymupdf import PyMuPDFOptions, PyMuPDFParser
from parsers.text import math_share


@dataclass(frozen=True)
class RouterOptions:
    math_share: float = 0.08  # a page with more math symbols than this goes to Nougat


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def nougat_ready(model: str) -> tuple[bool, str]:
    """Whether Nougat can run here, and if not, why."""
    if not cuda_available():
        return False, "no CUDA GPU"
    if not weights_available(model):
        return False, f"no local weights for {model}"
    return True, "GPU and weights present"


def needs_nougat(page: Page, threshold: float) -> str | None:
    if page.status == "needs_ocr":
        return "no text layer"
    if page.ocr and page.ocr.get("low_confidence"):
        return "OCR unreliable (handwriting or noise)"
    text = " ".join(el.text for el in page.elements)
    if math_share(text) > threshold or sum(el.kind == "equation" for el in page.elements) >= 4:
        return "math-dense"
    return None


class AutoParser:
    name = "auto"

    def __init__(
        self,
        pymupdf: PyMuPDFOptions | None = None,
        nougat: NougatOptions | None = None,
        options: RouterOptions | None = None,
    ) -> None:
        self.cpu = PyMuPDFParser(pymupdf)
        self.nougat_options = nougat or NougatOptions()
        self.options = options or RouterOptions()
        self._gpu: NougatParser | None = None
        self.version = f"auto-{self.cpu.version}"

    def parse(self, path: Path, *, max_pages: int | None = None) -> Document:
        start = time.perf_counter()
        doc = self.cpu.parse(path, max_pages=max_pages)
        wanted = {
            p.number: why
            for p in doc.pages
            if (why := needs_nougat(p, self.options.math_share)) is not None
        }
        ready, why_not = nougat_ready(self.nougat_options.model)
        if not wanted:
            doc.provenance.router = "pymupdf: no math-dense or text-less pages"
        elif not ready:
            doc.provenance.router = f"pymupdf: {len(wanted)} pages wanted Nougat, but {why_not}"
        else:
            if self._gpu is None:
                self._gpu = NougatParser(self.nougat_options)
            gpu = self._gpu.parse(path, max_pages=max_pages, pages=sorted(wanted))
            by_number = {p.number: p for p in gpu.pages}
            doc.pages = [by_number.get(p.number, p) for p in doc.pages]
            doc.provenance.model_id = self.nougat_options.model
            why = ", ".join(sorted(set(wanted.values())))
            doc.provenance.router = f"nougat: pages {sorted(wanted)} ({why}); pymupdf: the rest"
            if gpu.status == "failed":
                doc.status, doc.reason = "failed", gpu.reason
            elif doc.status == "needs_ocr":
                doc.status, doc.reason = "ok", None
        doc.provenance.parser = self.name
        doc.provenance.parser_version = self.version
        doc.provenance.duration_s = time.perf_counter() - start
        return doc
