"""Nougat through ``transformers`` (``VisionEncoderDecoderModel`` + ``NougatProcessor``).

The ``nougat-ocr`` package is not used: its pins pull a CUDA torch, it fails on
``torchvision::nms`` with CPU torch 2.13, and it breaks with transformers 5. transformers still
ships the model, and the same weights load from ``facebook/nougat-base`` or ``-small``.

Pages are rendered at 96 dpi and preprocessed by a background producer thread, so the device
never waits on rendering; batches are sized from free VRAM. A page whose generation loops (a
token cycle at the end of the sequence, detected while generating, as Nougat's own stopping
criterion does) or comes back empty falls back to PyMuPDF text for that page, marked
``is_fallback``. A document whose failed-page share exceeds the budget is marked failed and
keeps no elements: never half a document.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymupdf

from parsers.base import Document, Element, ElementKind, Page, ParseError, Provenance
from parsers.nougat_model import load, require_local_weights
from parsers.pymupdf import PyMuPDFParser, open_pdf

log = logging.getLogger(__name__)
PARSER_VERSION = "1.0"


@dataclass(frozen=True)
class NougatOptions:
    model: str = "facebook/nougat-base"
    device: str | None = None  # None: CUDA when present, else CPU (with a warning)
    batch_size: int | None = None  # None: from free VRAM (CUDA) or 2 (CPU)
    max_batch_size: int = 64
    max_new_tokens: int = 3584
    dpi: int = 96
    max_failed_share: float = 0.3  # more failed pages than this: the document fails
    detect_repetition: bool = True
    min_cycle_tokens: int = 48  # a loop must cover at least this many tokens
    max_cycle_period: int = 64
    generate_kwargs: tuple[tuple[str, Any], ...] = ()  # extra generate() arguments, as pairs


def pick_batch_size(free_bytes: int, per_sample_bytes: int, cap: int, reserve: int) -> int:
    """How many pages fit in free device memory, between 1 and ``cap``."""
    usable = max(free_bytes - reserve, 0)
    return max(1, min(cap, usable // max(per_sample_bytes, 1)))


def per_sample_bytes(config: Any, max_new_tokens: int, bytes_per_value: int = 2) -> int:
    """A conservative estimate of one page's memory: the decoder's self- and cross-attention KV
    cache at full length plus the encoder's activations (both times a safety factor)."""
    dec = config.decoder
    enc = config.encoder
    h, w = enc.image_size if isinstance(enc.image_size, list | tuple) else (enc.image_size,) * 2
    enc_tokens = (h // 32) * (w // 32)
    kv = 2 * dec.decoder_layers * dec.d_model * bytes_per_value * (max_new_tokens + enc_tokens)
    activations = h * w * enc.embed_dim * bytes_per_value * 4
    return int(3 * (kv + activations))


class RepetitionStop:
    """A ``StoppingCriteria``: stop (and flag) each sequence whose tail has become a cycle of
    period ``1..max_period`` tokens covering at least ``min_tokens`` tokens."""

    def __init__(self, batch: int, min_tokens: int, max_period: int, every: int = 8) -> None:
        import torch

        self.flagged = torch.zeros(batch, dtype=torch.bool)
        self.min_tokens = min_tokens
        self.max_period = max_period
        self.every = every

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        n = input_ids.shape[1]
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        if n % self.every or n < self.min_tokens + 1:
            return done
        for period in range(1, self.max_period + 1):
            span = max(self.min_tokens, 2 * period)
            if n < span + period:
                break
            tail = input_ids[:, -span:]
            shifted = input_ids[:, -span - period : -period]
            done |= (tail == shifted).all(dim=1)
        self.flagged |= done.cpu()
        return done


@dataclass
class _PageOut:
    number: int
    markdown: str = ""
    failed: str | None = None


class NougatParser:
    """Parse PDFs with Nougat. Loads the model once per parser instance."""

    name = "nougat"

    def __init__(self, options: NougatOptions | None = None) -> None:
        self.options = options or NougatOptions()
        require_local_weights(self.options.model)  # fail now, not after a long wait
        self.version = f"{PARSER_VERSION}+{Path(self.options.model).name}"
        self._model: Any = None
        self._processor: Any = None
        self._device = ""
        self.fallback = PyMuPDFParser()

    # -- model ------------------------------------------------------------------------------

    def _ensure_model(self) -> None:
        if self._model is not None:
            return
        import torch

        device = self.options.device or ("cuda" if torch.cuda.is_available() else "cpu")
        if device == "cpu":
            warnings.warn(
                "Nougat is running on CPU: expect minutes per page; use a GPU for real work",
                RuntimeWarning,
                stacklevel=3,
            )
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        self._model, self._processor = load(self.options.model, device=device, dtype=dtype)
        self._device = device

    def batch_size(self) -> int:
        if self.options.batch_size:
            return self.options.batch_size
        import torch

        if not self._device.startswith("cuda"):
            return 2
        free, _total = torch.cuda.mem_get_info()
        per = per_sample_bytes(self._model.config, self.options.max_new_tokens)
        return pick_batch_size(free, per, self.options.max_batch_size, reserve=2 << 30)

    # -- parsing ----------------------------------------------------------------------------

    def parse(
        self, path: Path, *, max_pages: int | None = None, pages: list[int] | None = None
    ) -> Document:
        start = time.perf_counter()
        self._ensure_model()
        doc = open_pdf(path, max_pages=max_pages)
        with doc:
            numbers = pages if pages is not None else list(range(doc.page_count))
            for n in numbers:
                self.fallback.check_images(doc, n)  # no decompression bomb reaches the renderer
            outs = self.generate_pages(doc, numbers)
            result = self._assemble(doc, outs)
        result.provenance.duration_s = time.perf_counter() - start
        return result

    def generate_pages(self, doc: pymupdf.Document, numbers: list[int]) -> list[_PageOut]:
        """Run every page through the model, batched, with rendering in a producer thread."""
        import torch

        size = self.batch_size()
        outs: list[_PageOut] = []
        for batch in _batches(self._pixel_values(doc, numbers, size), size):
            nums = [n for n, _ in batch]
            pixels = torch.stack([p for _, p in batch]).to(self._device, self._model.dtype)
            texts, looped = self._generate(pixels)
            for n, text, loop in zip(nums, texts, looped, strict=True):
                outs.append(self._finish(n, text, loop))
        return outs

    def _pixel_values(self, doc: pymupdf.Document, numbers: list[int], size: int) -> Iterator[Any]:
        """(page number, pixel tensor) pairs, produced in a background thread."""
        from PIL import Image

        q: queue.Queue[tuple[int, Any] | BaseException | None] = queue.Queue(maxsize=2 * size)
        stop = threading.Event()

        def produce() -> None:
            try:
                for n in numbers:
                    if stop.is_set():
                        return
                    pix = doc[n].get_pixmap(dpi=self.options.dpi, alpha=False)
                    img = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
                    pixels = self._processor(images=[img], return_tensors="pt").pixel_values[0]
                    q.put((n, pixels))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, re-raised
                q.put(exc)
            finally:
                q.put(None)

        worker = threading.Thread(target=produce, name="nougat-render", daemon=True)
        worker.start()
        try:
            while (item := q.get()) is not None:
                if isinstance(item, BaseException):
                    raise ParseError(f"rendering a page failed: {item}"[:300])
                yield item
        finally:
            stop.set()
            while worker.is_alive():  # unblock a producer waiting on a full queue
                try:
                    q.get_nowait()
                except queue.Empty:
                    worker.join(0.05)

    def _generate(self, pixels: Any) -> tuple[list[str], list[bool]]:
        import torch
        from transformers import StoppingCriteriaList

        o = self.options
        criteria = RepetitionStop(pixels.shape[0], o.min_cycle_tokens, o.max_cycle_period)
        tokenizer = self._processor.tokenizer
        kwargs: dict[str, Any] = {
            "max_new_tokens": o.max_new_tokens,
            "num_beams": 1,
            "do_sample": False,
            "use_cache": True,
            "bad_words_ids": [[tokenizer.unk_token_id]],
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        }
        if o.detect_repetition:
            kwargs["stopping_criteria"] = StoppingCriteriaList([criteria])
        kwargs.update(dict(o.generate_kwargs))
        with torch.inference_mode():
            sequences = self._model.generate(pixel_values=pixels, **kwargs)
        texts = tokenizer.batch_decode(sequences, skip_special_tokens=True)
        return texts, criteria.flagged.tolist()

    def _finish(self, number: int, text: str, looped: bool) -> _PageOut:
        if looped:
            return _PageOut(number, failed="repetition loop in generation")
        if not text.strip():
            return _PageOut(number, failed="empty output")
        md = self._processor.post_process_generation(text, fix_markdown=True)
        md = re.sub(r"\[MISSING_PAGE_\w+(:\d+)?\]", "", md).strip()
        if not md:
            return _PageOut(number, failed="nothing left after post-processing")
        return _PageOut(number, markdown=md)

    def _assemble(self, doc: pymupdf.Document, outs: list[_PageOut]) -> Document:
        failed = [o for o in outs if o.failed]
        fallback = {p.number: p for p in self.fallback.parse_pages(doc, [o.number for o in failed])}
        pages: list[Page] = []
        for out in outs:
            rect = doc[out.number].rect
            page = Page(number=out.number, width=rect.width, height=rect.height)
            if out.failed:
                fb = fallback[out.number]
                page.status, page.is_fallback, page.reason = "fallback", True, out.failed
                for el in fb.elements:
                    el.is_fallback = True
                page.elements = fb.elements
            else:
                box = (0.0, 0.0, rect.width, rect.height)
                page.elements = elements_from_markdown(out.markdown, out.number, box)
            pages.append(page)
        result = Document(
            pages=pages,
            provenance=Provenance(
                parser=self.name, parser_version=self.version, model_id=self.options.model
            ),
            metadata={"page_count": doc.page_count, "device": self._device},
        )
        share = len(failed) / max(len(outs), 1)
        if outs and share > self.options.max_failed_share:
            reasons = sorted({o.failed or "" for o in failed})
            result.status = "failed"
            result.reason = (
                f"{len(failed)} of {len(outs)} pages failed in Nougat "
                f"(budget {self.options.max_failed_share:.0%}): {', '.join(reasons)}"
            )
            for page in pages:
                page.elements = []
        return result


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


_TABLE_LINE = re.compile(r"^\s*\|.*\|\s*$")


def elements_from_markdown(
    md: str, page: int, bbox: tuple[float, float, float, float]
) -> list[Element]:
    """Nougat's .mmd for one page -> elements (Nougat gives no boxes: the page box is used)."""
    out: list[Element] = []
    for chunk in re.split(r"\n{2,}", md.strip()):
        chunk = chunk.strip()
        if not chunk:
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", chunk)
        if heading:
            level = len(heading.group(1)) - 1
            kind: ElementKind = "title" if level == 0 and page == 0 and not out else "heading"
            out.append(Element(kind, page, bbox, heading.group(2), chunk, level=level))
        elif chunk.startswith(("\\[", "$$")) or chunk.startswith("\\begin{equation"):
            out.append(Element("equation", page, bbox, chunk, chunk))
        elif all(_TABLE_LINE.match(ln) for ln in chunk.splitlines()) or chunk.startswith(
            "\\begin{table"
        ):
            out.append(Element("table", page, bbox, chunk, chunk))
        elif re.match(r"^(Figure|Fig\.|Table)\s*\d+", chunk):
            out.append(Element("caption", page, bbox, chunk, chunk))
        elif all(ln.lstrip().startswith(("* ", "- ")) for ln in chunk.splitlines()):
            item: ElementKind = "reference" if re.match(r"^\* \[\d+\]", chunk) else "list"
            out.append(Element(item, page, bbox, chunk, chunk))
        elif chunk.startswith("Footnote"):
            out.append(Element("footnote", page, bbox, chunk, chunk))
        else:
            out.append(Element("paragraph", page, bbox, chunk, chunk))
    return out
