"""Nougat throughput on GPU: the full nougat-base architecture, random weights, 1024 tokens/page.

Real weights cannot be downloaded here, so the model is built from the published nougat-base
shapes with random weights; generation is forced to exactly 1024 new tokens per page
(``min_new_tokens = max_new_tokens = 1024``, loop detection off), which is what the speed
depends on. Pages come from ../shared/corpus and are rendered at 96 dpi by the parser's
background producer. Reported: pages/s at batch sizes 1, 8, 32 and the largest that fits,
next to the rate at which PyMuPDF renders the same pages (the baseline, same process).
Target: >= 10 pages/s on one H100 (Nougat's paper: about 0.3 pages/s on an A10G).

Usage: python bench/bench_nougat.py [--smoke]   (--smoke: tiny model on CPU, 8 tokens)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pymupdf

from parsers.nougat import NougatOptions, NougatParser, per_sample_bytes, pick_batch_size
from parsers.nougat_model import build_random

SHARED = Path(os.environ.get("SCICURATE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SMOKE = "--smoke" in sys.argv


def pages_of(doc: pymupdf.Document, count: int) -> list[int]:
    return [i % doc.page_count for i in range(count)]


def render_rate(doc: pymupdf.Document, numbers: list[int]) -> float:
    t0 = time.perf_counter()
    for n in numbers:
        doc[n].get_pixmap(dpi=96)
    return len(numbers) / (time.perf_counter() - t0)


def run(model_dir: Path, doc: pymupdf.Document, batch: int, tokens: int, device: str) -> float:
    parser = NougatParser(
        NougatOptions(
            model=str(model_dir),
            device=device,
            batch_size=batch,
            max_new_tokens=tokens,
            detect_repetition=False,
            generate_kwargs=(("min_new_tokens", tokens),),
        )
    )
    parser._ensure_model()
    numbers = pages_of(doc, max(batch * (1 if SMOKE else 3), 2))
    parser.generate_pages(doc, numbers[: min(batch, 2)])  # warm-up: kernels, allocator
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    parser.generate_pages(doc, numbers)
    if device == "cuda":
        torch.cuda.synchronize()
    return len(numbers) / (time.perf_counter() - t0)


def main() -> None:
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not SMOKE:
        print(json.dumps({"bench": "nougat-throughput", "skipped": "no CUDA GPU (try --smoke)"}))
        return
    tokens = 8 if SMOKE else 1024
    tokenizer = SHARED / "models" / "nougat-tokenizer" / "tokenizer.json"
    doc = pymupdf.open(SHARED / "corpus" / "pm_2203.00130v1.pdf")  # 39 pages
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_random(Path(tmp) / "m", tokenizer, size="tiny" if SMOKE else "base")
        sizes = [1, 8] if SMOKE else [1, 8, 32]
        if device == "cuda":
            from transformers import AutoConfig

            free, _ = torch.cuda.mem_get_info()
            per = per_sample_bytes(AutoConfig.from_pretrained(model_dir), tokens)
            sizes.append(pick_batch_size(free, per, cap=512, reserve=4 << 30))
        results = {}
        for batch in sorted(set(sizes)):
            try:
                results[batch] = round(run(model_dir, doc, batch, tokens, device), 2)
            except torch.OutOfMemoryError:
                results[batch] = "out of memory"
                torch.cuda.empty_cache()
        baseline = render_rate(doc, pages_of(doc, 64))
    best = max((v for v in results.values() if isinstance(v, float)), default=0.0)
    print(
        json.dumps(
            {
                "bench": "nougat-throughput" + ("-smoke" if SMOKE else ""),
                "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
                "model": "tiny (random)" if SMOKE else "nougat-base architecture (random)",
                "tokens_per_page": tokens,
                "pages_per_s_by_batch": results,
                "pymupdf_render_96dpi_pages_per_s": round(baseline, 1),
                "ratio_best_vs_render": round(best / baseline, 4),
                "target": ">= 10 pages/s on one H100",
            }
        )
    )


if __name__ == "__main__":
    main()
