"""Training-set builders, one file each; ``BUILDERS`` maps dataset names to them."""

from warehouse.builders.base import Builder, BuildOutput
from warehouse.builders.cpt_corpus import CptCorpusBuilder
from warehouse.builders.sft_review import SftReviewBuilder
from warehouse.builders.sft_title import SftTitleBuilder

BUILDERS: dict[str, Builder] = {
    b.name: b for b in (SftTitleBuilder(), CptCorpusBuilder(), SftReviewBuilder())
}

__all__ = ["BUILDERS", "BuildOutput", "Builder"]
