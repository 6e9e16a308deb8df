"""Nougat through transformers, offline, with a tiny random model built from configs.

The model is a real ``VisionEncoderDecoderModel`` (DonutSwin encoder + mBART decoder) with the
real Nougat tokenizer from ../shared; its weights are random, so the tests steer generation
with ``prefix_allowed_tokens_fn`` to get either a clean page or a forced repetition loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (the gpu extra)")
pytest.importorskip("transformers", reason="transformers is not installed (the gpu extra)")

from parsers.nougat import (  # noqa: E402
    NougatOptions,
    NougatParser,
    RepetitionStop,
    per_sample_bytes,
    pick_batch_size,
)
from parsers.nougat_model import ModelLoadError, build_random, load  # noqa: E402
from tests.parsers import hostile  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Nougat is running on CPU")]


@pytest.fixture(scope="module")
def tiny_model(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokenizer = shared / "models" / "nougat-tokenizer" / "tokenizer.json"
    return build_random(tmp_path_factory.mktemp("nougat") / "tiny", tokenizer)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "paper.pdf"
    path.write_bytes(hostile.good_pdf())  # two pages: a two-column page and references
    return path


def _forced(tokenizer: Any, text: str) -> Callable[[int, Any], list[int]]:
    ids = [*tokenizer(text, add_special_tokens=False).input_ids, tokenizer.eos_token_id]

    def allowed(batch_id: int, input_ids: Any) -> list[int]:
        step = input_ids.shape[-1] - 1  # the decoder start token is already there
        return [ids[step]] if step < len(ids) else [tokenizer.eos_token_id]

    return allowed


def _looping(tokenizer: Any) -> Callable[[int, Any], list[int]]:
    cycle = tokenizer("the same words again ", add_special_tokens=False).input_ids

    def allowed(batch_id: int, input_ids: Any) -> list[int]:
        return [cycle[(input_ids.shape[-1] - 1) % len(cycle)]]

    return allowed


def test_tiny_model_saves_and_loads_offline(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, processor = load(str(tiny_model), device="cpu", dtype=torch.float32)
    assert type(model).__name__ == "VisionEncoderDecoderModel"
    assert model.config.encoder.model_type == "donut-swin"
    assert model.config.decoder.model_type == "mbart"
    assert model.config.encoder.num_hidden_layers >= model.config.decoder.decoder_layers
    assert len(processor.tokenizer) == model.config.decoder.vocab_size
    with pytest.raises(ModelLoadError, match="model not found locally; set SCICURATE_NOUGAT_MODEL"):
        load("facebook/nougat-not-here", device="cpu", dtype=torch.float32)


def test_batches_generation_and_post_processing(tiny_model: Path, pdf: Path) -> None:
    _, processor = load(str(tiny_model), device="cpu", dtype=torch.float32)
    text = "## 1 Introduction\n\nWe study the equation \\(x^{2}+y^{2}=1\\) on the unit circle."
    options = NougatOptions(
        model=str(tiny_model),
        device="cpu",
        batch_size=2,
        max_new_tokens=80,
        generate_kwargs=(("prefix_allowed_tokens_fn", _forced(processor.tokenizer, text)),),
    )
    parser = NougatParser(options)
    parser._ensure_model()
    import pymupdf

    with pymupdf.open(pdf) as doc:
        pixels = list(parser._pixel_values(doc, [0, 1], size=2))
    assert [n for n, _ in pixels] == [0, 1]
    assert all(tuple(p.shape) == (3, 64, 48) for _, p in pixels)

    calls: list[tuple[int, ...]] = []
    generate = parser._model.generate

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(tuple(kwargs["pixel_values"].shape))
        return generate(*args, **kwargs)

    parser._model.generate = spy
    result = parser.parse(pdf)
    assert calls == [(2, 3, 64, 48)]  # both pages in one batch
    assert result.status == "ok" and result.page_status == ["ok", "ok"]
    assert result.provenance.parser == "nougat" and result.provenance.model_id == str(tiny_model)
    page = result.pages[0]
    assert [el.kind for el in page.elements] == ["heading", "paragraph"]
    assert page.elements[0].text == "1 Introduction" and page.elements[0].level == 1
    assert "\\(x^{2}+y^{2}=1\\)" in page.elements[1].markdown
    assert result.to_markdown().count("## 1 Introduction") == 2
    assert not any(el.is_fallback for el in result.elements)


def test_forced_repetition_falls_back_to_pymupdf(tiny_model: Path, pdf: Path) -> None:
    _, processor = load(str(tiny_model), device="cpu", dtype=torch.float32)
    options = NougatOptions(
        model=str(tiny_model),
        device="cpu",
        batch_size=2,
        max_new_tokens=200,
        max_failed_share=1.0,
        generate_kwargs=(("prefix_allowed_tokens_fn", _looping(processor.tokenizer)),),
    )
    result = NougatParser(options).parse(pdf)
    assert result.status == "ok"
    assert result.page_status == ["fallback", "fallback"]
    assert result.fallback_pages == 2
    assert all(p.reason == "repetition loop in generation" for p in result.pages)
    assert result.elements and all(el.is_fallback for el in result.elements)
    assert "Mixture of experts" in result.to_markdown()  # the PyMuPDF text of page one


def test_failed_pages_over_budget_fail_the_document(tiny_model: Path, pdf: Path) -> None:
    _, processor = load(str(tiny_model), device="cpu", dtype=torch.float32)
    options = NougatOptions(
        model=str(tiny_model),
        device="cpu",
        max_new_tokens=200,
        max_failed_share=0.3,
        generate_kwargs=(("prefix_allowed_tokens_fn", _looping(processor.tokenizer)),),
    )
    result = NougatParser(options).parse(pdf)
    assert result.status == "failed"
    assert result.reason and "2 of 2 pages failed" in result.reason
    assert result.elements == []  # not half-kept


def test_repetition_stop_flags_only_looping_rows() -> None:
    stop = RepetitionStop(batch=2, min_tokens=12, max_period=4, every=1)
    loop = [5, 6, 7] * 10
    varied = list(range(30))
    ids = torch.tensor([loop, varied])
    done = stop(ids, None)
    assert done.tolist() == [True, False]
    assert stop.flagged.tolist() == [True, False]


def test_batch_size_from_free_memory(tiny_model: Path) -> None:
    from transformers import AutoConfig

    assert pick_batch_size(80 << 30, 1 << 30, cap=64, reserve=2 << 30) == 64
    assert pick_batch_size(10 << 30, 1 << 30, cap=64, reserve=2 << 30) == 8
    assert pick_batch_size(1 << 30, 4 << 30, cap=64, reserve=2 << 30) == 1
    config = AutoConfig.from_pretrained(tiny_model)
    assert per_sample_bytes(config, 3584) > per_sample_bytes(config, 512) > 0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_bf16(tiny_model: Path, pdf: Path) -> None:
    _, processor = load(str(tiny_model), device="cpu", dtype=torch.float32)
    text = "## Results\n\nThe table shows the results."
    options = NougatOptions(
        model=str(tiny_model),
        max_new_tokens=64,
        generate_kwargs=(("prefix_allowed_tokens_fn", _forced(processor.tokenizer, text)),),
    )
    parser = NougatParser(options)
    result = parser.parse(pdf)
    assert parser._model.dtype == torch.bfloat16 and parser._device == "cuda"
    assert result.status == "ok" and "## Results" in result.to_markdown()
    assert os.environ.get("CUDA_VISIBLE_DEVICES", "0") != ""


def test_auto_router_sends_math_pages_to_nougat_when_it_can(
    tiny_model: Path, shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parsers.router import AutoParser

    pdf = shared / "corpus" / "mineru_academic_paper_formula.pdf"  # one page of display math
    no_gpu = AutoParser(nougat=NougatOptions(model=str(tiny_model), device="cpu"))
    monkeypatch.setattr("parsers.router.cuda_available", lambda: False)
    doc = no_gpu.parse(pdf)
    assert doc.provenance.router == "pymupdf: 1 pages wanted Nougat, but no CUDA GPU"
    assert doc.provenance.parser == "auto" and doc.page_status == ["ok"]

    _, processor = load(str(tiny_model), device="cpu", dtype=torch.float32)
    text = "\\[\\int_{0}^{1}x\\,dx=\\frac{1}{2}\\]"
    options = NougatOptions(
        model=str(tiny_model),
        device="cpu",
        max_new_tokens=60,
        generate_kwargs=(("prefix_allowed_tokens_fn", _forced(processor.tokenizer, text)),),
    )
    monkeypatch.setattr("parsers.router.cuda_available", lambda: True)  # weights are local
    doc = AutoParser(nougat=options).parse(pdf)
    assert doc.provenance.router == "nougat: pages [0] (math-dense); pymupdf: the rest"
    assert doc.provenance.model_id == str(tiny_model)
    assert [el.kind for el in doc.elements] == ["equation"]
    assert "\\frac{1}{2}" in doc.to_markdown()
