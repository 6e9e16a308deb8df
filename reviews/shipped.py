"""The review model that ships with the package, and its recorded figures (read without
loading scikit-learn, for dataset cards)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_MODEL_DIR = Path(__file__).parent / "default_model"
_ASPECTS = ("significance", "reasons_accept", "reasons_reject", "suggestions")


def shipped_figures(version: str | None) -> dict[str, Any] | None:
    """The held-out figures recorded with the shipped default model, when ``version`` is it."""
    try:
        meta = json.loads((DEFAULT_MODEL_DIR / "model.json").read_text())
    except (OSError, ValueError):
        return None
    if version is None or meta.get("version") != version:
        return None
    metrics = meta.get("metrics") or {}
    return {
        "heldout": "ICLR 2024 reviews of held-out forums, headings removed",
        "f1": {a: metrics[a]["f1"] for a in _ASPECTS if a in metrics},
        "dropped": metrics.get("dropped"),
        "accuracy": metrics.get("accuracy"),
    }
