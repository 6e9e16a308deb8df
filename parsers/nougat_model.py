"""Nougat weights: load them offline, or build a randomly initialised model from configs.

Real weights (``facebook/nougat-base``/``-small``) load from a local directory or a hub cache
made elsewhere; no machine here reaches a model hub. ``build_random`` makes the same
architecture with random weights, from configs alone, for tests (``size="tiny"``) and for the
GPU throughput benchmark (``size="base"``, the full nougat-base shapes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from core.errors import ScicurateError


@dataclass(frozen=True)
class Shape:
    image: tuple[int, int]
    embed_dim: int
    depths: tuple[int, ...]
    heads: tuple[int, ...]
    window: int
    d_model: int
    decoder_layers: int
    decoder_heads: int
    ffn: int
    max_positions: int


# The published nougat-base shapes (encoder: DonutSwin at 896x672; decoder: 10-layer mBART).
BASE = Shape((896, 672), 128, (2, 2, 14, 2), (4, 8, 16, 32), 7, 1024, 10, 16, 4096, 4096)
# Small enough for CI; the encoder keeps at least as many layers as the decoder.
TINY = Shape((64, 48), 16, (1, 1), (2, 2), 2, 32, 1, 2, 64, 512)


class ModelLoadError(ScicurateError):
    """The Nougat model or its processor could not be loaded from the given id or path."""


def build_random(
    out_dir: Path, tokenizer_json: Path, *, size: Literal["tiny", "base"] = "tiny", seed: int = 0
) -> Path:
    """Write a random-weight Nougat model + processor to ``out_dir`` (loadable offline)."""
    import torch
    from transformers import (
        DonutSwinConfig,
        MBartConfig,
        NougatImageProcessorPil,
        NougatProcessor,
        NougatTokenizer,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
    )

    shape = BASE if size == "base" else TINY
    tokenizer = NougatTokenizer(tokenizer_file=str(tokenizer_json))
    encoder = DonutSwinConfig(
        image_size=list(shape.image),
        patch_size=4,
        num_channels=3,
        embed_dim=shape.embed_dim,
        depths=list(shape.depths),
        num_heads=list(shape.heads),
        window_size=shape.window,
    )
    decoder_flags: dict[str, Any] = {
        "add_final_layer_norm": True,
        "is_decoder": True,
        "add_cross_attention": True,
    }
    decoder = MBartConfig(
        vocab_size=len(tokenizer),
        d_model=shape.d_model,
        decoder_layers=shape.decoder_layers,
        decoder_attention_heads=shape.decoder_heads,
        decoder_ffn_dim=shape.ffn,
        encoder_layers=0,
        max_position_embeddings=shape.max_positions,
        scale_embedding=True,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.bos_token_id,
        forced_eos_token_id=tokenizer.eos_token_id,
        **decoder_flags,
    )
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.pad_token_id = tokenizer.pad_token_id
    config.decoder_start_token_id = tokenizer.bos_token_id
    config.eos_token_id = tokenizer.eos_token_id
    torch.manual_seed(seed)
    model = VisionEncoderDecoderModel(config=config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.decoder_start_token_id = tokenizer.bos_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    image_processor = NougatImageProcessorPil(
        size={"height": shape.image[0], "width": shape.image[1]}
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    NougatProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out_dir)
    return out_dir


def load(model_id: str, *, device: str, dtype: Any) -> tuple[Any, Any]:
    """(model, processor) from a local directory or a hub id, evaluated on ``device``."""
    from transformers import NougatProcessor, VisionEncoderDecoderModel

    local = Path(model_id).is_dir()
    offline = local or os.environ.get("HF_HUB_OFFLINE") == "1"
    try:
        processor = NougatProcessor.from_pretrained(model_id, local_files_only=offline)
        model: Any = VisionEncoderDecoderModel.from_pretrained(
            model_id,
            dtype=dtype,
            local_files_only=offline,
        )
    except (OSError, ValueError) as exc:
        where = "directory" if local else "model id (set a local path; hubs are offline here)"
        raise ModelLoadError(f"cannot load Nougat from {where} {model_id!r}: {exc}"[:400]) from None
    model.to(device)
    model.eval()
    return model, processor


def weights_available(model_id: str) -> bool:
    """A local directory with a config and weights, or a cached hub id."""
    path = Path(model_id)
    if path.is_dir():
        return (path / "config.json").exists() and any(path.glob("*.safetensors"))
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(model_id, "config.json"), str)
    except ImportError:
        return False
