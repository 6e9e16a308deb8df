"""What every build goes through: eval minimums, a licence column, sizes, and a card that HF
`datasets` loads (every split, no warning) and that says how to train on it."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from jobs.export_datasets import build_dataset
from tests.warehouse.builders.test_sft_title import paper
from warehouse import Warehouse
from warehouse.builders.base import BuildOutput
from warehouse.builders.finish import EvalMinimum, finish_build
from warehouse.datasets.model import DatasetCard
from warehouse.papers import upsert_papers


def _papers(wh: Warehouse, n: int) -> None:
    licences = ("http://creativecommons.org/licenses/by/4.0/", None)
    upsert_papers(wh, [paper(i, license=licences[i % 2]) for i in range(n)])


def _header(readme: str) -> dict[str, object]:
    return yaml.safe_load(readme.split("---\n")[1])  # type: ignore[no-any-return]


def test_small_eval_splits_join_train_and_the_card_says_why(wh: Warehouse, tmp_path: Path) -> None:
    _papers(wh, 120)  # sft-title asks for 1% validation and 1% test: a row or two each
    item = build_dataset(wh, tmp_path, "sft-title", eval_minimum=EvalMinimum(rows=20))
    assert item.result.rows == {"train": 120}
    assert len(item.notes) == 2 and all("fewer than the minimum of 20" in n for n in item.notes)
    readme = (item.result.path / "README.md").read_text()
    assert "`validation` not written" in readme and "`test` not written" in readme
    # With a lower floor the same papers split, and no paper is in two splits.
    item = build_dataset(
        wh, tmp_path, "sft-title", {"validation": "0.2", "test": "0.2"},
        eval_minimum=EvalMinimum(rows=5),
    )  # fmt: skip
    assert set(item.result.rows) == {"train", "validation", "test"} and not item.notes
    from datasets import load_dataset

    ids = {
        s: set(load_dataset(str(item.result.path), split=s)["paper_id"]) for s in item.result.rows
    }
    assert not ids["train"] & ids["validation"] and not ids["validation"] & ids["test"]


def test_card_header_licences_and_hf_loads_every_split_without_warnings(
    wh: Warehouse, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _papers(wh, 60)
    item = build_dataset(
        wh, tmp_path, "sft-title", {"validation": "0.3"}, eval_minimum=EvalMinimum(rows=5)
    )
    path = item.result.path
    readme = (path / "README.md").read_text()
    header = _header(readme)
    assert header["pretty_name"] == "scicurate sft-title"
    assert header["license"] == "other" and header["license_name"] and header["license_link"]
    assert header["language"] == ["en"] and header["task_categories"] == ["text-generation"]
    assert header["size_categories"] == ["n<1K"]
    info = header["dataset_info"]
    assert isinstance(info, dict)
    assert all(s["num_bytes"] > 0 and s["num_examples"] > 0 for s in info["splits"])
    assert info["dataset_size"] == sum(s["num_bytes"] for s in info["splits"])
    assert "| license | rows |" in readme and "| unknown | 30 |" in readme
    assert "| LaTeX noise | 0 |" in readme  # every filter, zeros too
    assert "tokens (est.)" in readme and "ceil(characters / 4)" in readme
    assert f'load_dataset("datasets/sft-title/v{item.result.version}")' in readme
    assert "stage: sft" in readme and "eval_dataset: sft-title_validation" in readme

    from datasets import load_dataset
    from datasets.utils import logging as hf_logging

    hf_logging.enable_propagation()
    try:
        with caplog.at_level(logging.WARNING), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = load_dataset(str(path), cache_dir=str(tmp_path / "hf"))
    finally:
        hf_logging.disable_propagation()
    assert set(ds) == {"train", "validation"}  # every split, not only train
    assert {k: v.num_rows for k, v in ds.items()} == item.result.rows
    card_words = ("yaml", "card", "split", "malformed", "readme", "metadata")
    said = [r.getMessage() for r in caplog.records] + [str(w.message) for w in caught]
    assert not [m for m in said if any(w in m.lower() for w in card_words)], said
    row = ds["train"][0]
    assert row["license"] in ("http://creativecommons.org/licenses/by/4.0/", "unknown")


def _output(card: DatasetCard, splits: dict[str, pa.Table], **params: float) -> BuildOutput:
    return BuildOutput(splits=splits, card=card, params={"validation": 0.1, **params})


def test_pretraining_eval_needs_enough_tokens(mem_wh: Warehouse) -> None:
    card = DatasetCard("text", formatting="text", columns={"prompt": "text"})
    table = lambda n, chars: pa.table(  # noqa: E731
        {"sample_id": [f"{i}" for i in range(n)], "text": ["x" * chars] * n}
    )
    out = finish_build(
        mem_wh, _output(card, {"train": table(50, 4000), "validation": table(5, 400)}),
        EvalMinimum(rows=5, tokens=1024),
    )  # fmt: skip
    assert set(out.splits) == {"train"} and out.splits["train"].num_rows == 55
    assert "about 500 tokens, fewer than the minimum of 1,024" in out.card.extra["split_notes"][0]
    assert out.card.extra["stage"] == "pt" and out.card.extra["tokens"] == {
        "train": 50 * 1000 + 5 * 100
    }
    kept = finish_build(
        mem_wh, _output(card, {"train": table(50, 4000), "validation": table(5, 4000)}),
        EvalMinimum(rows=5, tokens=1024),
    )  # fmt: skip
    assert set(kept.splits) == {"train", "validation"}


def test_preference_pairs_report_chosen_against_rejected(mem_wh: Warehouse, tmp_path: Path) -> None:
    from warehouse.datasets.card import render_card

    card = DatasetCard("pairs", columns={"chosen": "chosen", "rejected": "rejected"}, ranking=True)
    rows = pa.table({"sample_id": ["a", "b"], "chosen": ["x" * 50, "y" * 54],
                     "rejected": ["z" * 150, "w" * 150]})  # fmt: skip
    out = finish_build(mem_wh, _output(card, {"train": rows}, validation=0.0), EvalMinimum())
    assert out.card.extra["stage"] == "dpo"
    assert out.card.extra["pair_lengths"]["chosen"]["mean_chars"] == 52.0
    text = render_card("pp", 1, out.card, rows.schema, {"train": ["x"]}, {"train": 2}, {})
    assert "## Chosen against rejected" in text and "0.35 times as long" in text
    assert "stage: dpo" in text and "stage: rm" in text
