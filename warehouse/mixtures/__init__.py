"""Training mixtures: several published datasets sampled into one versioned dataset."""

from warehouse.mixtures.mix import MixResult, mix
from warehouse.mixtures.spec import MixError, MixSource, MixSpec, load_spec, parse_source

__all__ = ["MixError", "MixResult", "MixSource", "MixSpec", "load_spec", "mix", "parse_source"]
