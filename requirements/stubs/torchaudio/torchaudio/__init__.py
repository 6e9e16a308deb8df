"""A stand-in for torchaudio, so LLaMA-Factory's text stages import in .venv-llamafactory.

PyPI's torchaudio wheels do not load with the CPU torch build used there. LLaMA-Factory imports
torchaudio at the top of its multimodal plugin but calls it only for audio inputs, which the
scicurate datasets never have; any call here says so.
"""

from __future__ import annotations

from typing import Any

__version__ = "2.13.0+stub"


class _Unavailable:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> _Unavailable:
        return _Unavailable(f"{self._name}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"{self._name}: this torchaudio is a stub (scicurate requirements/stubs/torchaudio); "
            "install a torchaudio built for this torch to read audio"
        )


def __getattr__(name: str) -> Any:
    return _Unavailable(f"torchaudio.{name}")
