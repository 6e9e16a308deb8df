"""Training-set builders, one file each; ``BUILDERS`` maps dataset names to them."""

from warehouse.builders.base import Builder, BuildOutput
from warehouse.builders.cpt_corpus import CptCorpusBuilder
from warehouse.builders.cpt_reinforcement import CptReinforcementBuilder
from warehouse.builders.parser_corrections import ParserCorrectionsBuilder
from warehouse.builders.preference_pairs import PreferencePairsBuilder
from warehouse.builders.rag_retrieval import RagRetrievalBuilder
from warehouse.builders.sft_corrections import SftCorrectionsBuilder
from warehouse.builders.sft_feedback import SftFeedbackBuilder
from warehouse.builders.sft_review import SftReviewBuilder
from warehouse.builders.sft_title import SftTitleBuilder

BUILDERS: dict[str, Builder] = {
    b.name: b
    for b in (
        SftTitleBuilder(),
        CptCorpusBuilder(),
        SftReviewBuilder(),
        SftFeedbackBuilder(),
        ParserCorrectionsBuilder(),
        RagRetrievalBuilder(),
        CptReinforcementBuilder(),
        SftCorrectionsBuilder(),
        PreferencePairsBuilder(),
    )
}
# The sets the feedback loop routes annotations into (re-published after every sync).
ROUTED_DATASETS = (
    "parser-corrections",
    "rag-retrieval",
    "cpt-reinforcement",
    "sft-corrections",
    "preference-pairs",
)

__all__ = ["BUILDERS", "ROUTED_DATASETS", "BuildOutput", "Builder"]
