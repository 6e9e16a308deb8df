"""A mixture's specification: which dataset versions, with what weights, sampled how.

On the command line a source is ``NAME[@vN][:WEIGHT]``; in a file (``mix.toml``)::

    name = "sft-mix"
    strategy = "temperature"   # proportional | temperature | capped
    temperature = 2.0
    seed = 0
    instructions = "varied"    # single | varied
    [[source]]
    dataset = "sft-title"
    version = 3                # optional: the latest version when absent
    weight = 1.0
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warehouse.datasets.model import DatasetError, check_name

STRATEGIES = ("proportional", "temperature", "capped")
_SOURCE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._-]*)(?:@v(?P<version>\d+))?(?::(?P<w>[^:]+))?$")


class MixError(DatasetError):
    """A mixture cannot be built as specified."""


@dataclass(frozen=True)
class MixSource:
    dataset: str
    version: int | None = None  # None: the latest version when the mixture is built
    weight: float = 1.0


@dataclass(frozen=True)
class MixSpec:
    name: str
    sources: tuple[MixSource, ...]
    strategy: str = "proportional"
    temperature: float = 1.0
    cap: int | None = None
    total: int | None = None
    seed: int = 0
    instructions: str = "single"
    extra: dict[str, Any] = field(default_factory=dict)

    def check(self) -> MixSpec:
        check_name(self.name)
        if not self.sources:
            raise MixError("a mixture needs at least one source (--from NAME[@vN][:WEIGHT])")
        names = [s.dataset for s in self.sources]
        if len(set(names)) != len(names):
            raise MixError(f"a source is named twice: {', '.join(names)}")
        if self.name in names:
            raise MixError(f"a mixture cannot be one of its own sources ({self.name})")
        if self.strategy not in STRATEGIES:
            raise MixError(
                f"strategy must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}"
            )
        if not (math.isfinite(self.temperature) and 0 < self.temperature <= 100):
            raise MixError("temperature must be a number in (0, 100]")
        if self.strategy == "capped" and (self.cap is None or self.cap < 1):
            raise MixError("--strategy capped needs --cap N (N >= 1)")
        if self.total is not None and self.total < 1:
            raise MixError("--total must be at least 1")
        if self.instructions not in ("single", "varied"):
            raise MixError("--instructions must be single or varied")
        for s in self.sources:
            check_name(s.dataset)
            if not (math.isfinite(s.weight) and s.weight > 0):
                raise MixError(f"{s.dataset}: a weight must be a positive number")
        return self

    def as_params(self) -> dict[str, Any]:
        return {
            "sources": [
                {"dataset": s.dataset, "version": s.version, "weight": s.weight}
                for s in self.sources
            ],
            "strategy": self.strategy,
            "temperature": self.temperature,
            "cap": self.cap,
            "total": self.total,
            "seed": self.seed,
            "instructions": self.instructions,
        }


def parse_source(text: str) -> MixSource:
    """``sft-title@v3:0.5`` -> MixSource("sft-title", 3, 0.5)."""
    m = _SOURCE.match(text.strip())
    if not m:
        raise MixError(f"{text!r}: a source is NAME[@vN][:WEIGHT], e.g. sft-title@v2:0.7")
    weight = 1.0
    if m["w"] is not None:
        try:
            weight = float(m["w"])
        except ValueError:
            raise MixError(f"{text!r}: the weight {m['w']!r} is not a number") from None
    return MixSource(m["name"], int(m["version"]) if m["version"] else None, weight)


def load_spec(path: Path) -> MixSpec:
    """A mixture spec from a TOML file (see the module docstring)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MixError(f"{path.name}: not a readable TOML mixture spec ({exc})") from None
    known = {"name", "strategy", "temperature", "cap", "total", "seed", "instructions", "source"}
    unknown = set(data) - known
    if unknown:
        raise MixError(f"{path.name}: unknown keys {', '.join(sorted(unknown))}")
    try:
        sources = tuple(
            MixSource(str(s["dataset"]), s.get("version"), float(s.get("weight", 1.0)))
            for s in data.get("source", [])
        )
        spec = MixSpec(
            name=str(data["name"]),
            sources=sources,
            strategy=str(data.get("strategy", "proportional")),
            temperature=float(data.get("temperature", 1.0)),
            cap=data.get("cap"),
            total=data.get("total"),
            seed=int(data.get("seed", 0)),
            instructions=str(data.get("instructions", "single")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MixError(f"{path.name}: {type(exc).__name__}: {exc}") from None
    return spec.check()
