"""Nougat weights: load them offline, or build a randomly initialised model from configs.

Real weights (``facebook/nougat-base``/``-small``) load from a local directory or a hub cache
made elsewhere; no machine here reaches a model hub. ``build_random`` makes the same
architecture with random weights, from configs alone, for tests (``size="tiny"``) and for the
GPU throughput benchmark (``size="base"``, the full nougat-base shapes).
"""

from __future__ import annotations

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


NOT_LOCAL = "model not found locally; set SCICURATE_NOUGAT_MODEL to a local folder"
_WEIGHTS = ("*.safetensors", "pytorch_model*.bin")
_HUB_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def _in_hub_cache(model_id: str) -> bool:
    """Whether the local hub cache holds ``model_id``'s config and weights (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        def cached(name: str) -> bool:
            return isinstance(try_to_load_from_cache(model_id, name), str)

        return cached("config.json") and any(cached(name) for name in _HUB_WEIGHTS)
    except (ImportError, ValueError):  # no hub client, or not a valid repo id
        return False


def local_weights_problem(model_id: str) -> str | None:
    """Why ``model_id`` cannot be loaded without a network (None when it can): it must be a
    folder with a config and weights, or a hub id already in the local hub cache."""
    path = Path(model_id).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            return f"the folder {model_id} holds no config.json"
        if not any(any(path.glob(pattern)) for pattern in _WEIGHTS):
            return f"the folder {model_id} holds no weights (*.safetensors)"
        return None
    if path.is_absolute() or model_id.startswith((".", "~")) or model_id.count("/") > 1:
        return f"no folder {model_id}"
    if _in_hub_cache(model_id):
        return None
    return "not a folder, and not in the local hub cache (weights load only from this machine)"


def require_local_weights(model_id: str) -> None:
    """Raise ``ModelLoadError`` at once, before anything tries a network, when the weights of
    ``model_id`` are not on this machine."""
    problem = local_weights_problem(model_id)
    if problem is not None:
        raise ModelLoadError(f"Nougat {model_id!r}: {NOT_LOCAL} ({problem})")


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
    """(model, processor) from a local directory or a hub id already in the local hub cache,
    evaluated on ``device``. Never reaches for a network: weights that are not here raise
    ``ModelLoadError`` at once (``require_local_weights``)."""
    from transformers import NougatProcessor, VisionEncoderDecoderModel

    require_local_weights(model_id)
    try:
        processor = NougatProcessor.from_pretrained(model_id, local_files_only=True)
        model: Any = VisionEncoderDecoderModel.from_pretrained(
            model_id,
            dtype=dtype,
            local_files_only=True,
        )
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load Nougat from {model_id!r}: {exc}"[:400]) from None
    model.to(device)
    model.eval()
    return model, processor


def weights_available(model_id: str) -> bool:
    """A local directory with a config and weights, or a cached hub id."""
    return local_weights_problem(model_id) is None
