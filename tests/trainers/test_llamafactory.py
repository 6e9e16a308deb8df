"""LLaMA-Factory (0.9.5, in .venv-llamafactory) reads what scicurate publishes.

The builders publish the datasets the demo makes (sft-title, sft-feedback, sft-corrections,
preference-pairs, cpt-corpus; sft-title sharded into several files per split), and
`scicurate datasets export-llamafactory` puts them in one dataset_dir. Then LLaMA-Factory's own
`get_dataset` loads them for stage sft (three datasets mixed, with eval_dataset), rm and dpo
(the ranking set) and pt (packed), and its trainer runs 2 steps of each on a tiny randomly
initialised Llama with the Nougat tokenizer from ../shared (tests/trainers/llamafactory_check.py,
run by that venv's python). The row counts must match the manifests.

Skips without .venv-llamafactory (`make llamafactory`), unless SCICURATE_REQUIRE_LLAMAFACTORY=1
(`make check-trainers`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from annotation.ingest import ingest_file
from annotation.sample import sample_feedback, write_jsonl
from cli.app import command
from cli.errors import run_cli
from jobs.export_datasets import build_dataset
from tests.conftest import REPO
from tests.warehouse.builders.test_dedup_cpt import document
from tests.warehouse.builders.test_sft_title import paper
from warehouse import Warehouse
from warehouse.builders.finish import EvalMinimum
from warehouse.papers import upsert_papers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

LF_PYTHON = REPO / ".venv-llamafactory" / "bin" / "python"
CHECK = Path(__file__).with_name("llamafactory_check.py")
SFT = ("sft-title", "sft-feedback", "sft-corrections")
RANKING = "preference-pairs"
CPT = "cpt-corpus"
SHARDED = "sft-title"
ROWS_PER_FILE = 7


def _llamafactory_python() -> Path:
    # The stamp, not the interpreter: a failed install leaves a venv without LLaMA-Factory.
    if (LF_PYTHON.parents[1] / ".synced").is_file():
        return LF_PYTHON
    why = f"{LF_PYTHON.parents[1].name} is missing or incomplete (make llamafactory installs it)"
    if os.environ.get("SCICURATE_REQUIRE_LLAMAFACTORY") == "1":
        pytest.fail(f"SCICURATE_REQUIRE_LLAMAFACTORY=1 but {why}")
    pytest.skip(why)


def _seed_warehouse(wh: Warehouse, tmp: Path) -> None:
    """Papers (sft-title), parsed documents (cpt-corpus), feedback (sft-feedback) and expert
    consensus on instruction-following errors (sft-corrections, preference-pairs), standing in
    for the Label Studio round trip that the annotation tests cover."""
    upsert_papers(wh, [paper(i) for i in range(70)])
    with wh.write() as con:
        for i in range(40):
            con.execute(
                "INSERT INTO documents (doc_id, paper_id, pdf_sha256, parser, parser_version, "
                "status, markdown) VALUES (?, ?, 'x', 'pymupdf', '1', 'ok', ?)",
                [f"doc{i}", f"2401.{i:05d}", document(1000 + i, n=400)],
            )
    records = sample_feedback(240, seed=5, negative_share=0.5)
    ingest_file(wh, write_jsonl(records, tmp / "feedback.jsonl"))
    negatives = [r["id"] for r in records if r["rating"] == "down" and r["user_consent"]][:60]
    with wh.write() as con:
        for task, feedback_id in enumerate(negatives):
            con.execute(
                "INSERT INTO task_consensus (feedback_id, task_id, annotators, status, "
                "error_types, agreement, corrected_answer) VALUES (?, ?, 2, 'consensus', "
                "['instruction_following'], 1.0, ?)",
                [feedback_id, task, f"- a corrected answer, point {task}\n- and a second point"],
            )


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    """The export folder, and each dataset's manifest."""
    from warehouse import migrate

    home = tmp_path_factory.mktemp("home")
    wh = Warehouse(home / "warehouse.duckdb")
    migrate(wh)
    _seed_warehouse(wh, home)
    root = home / "datasets"
    manifests = {}
    for name in (*SFT, RANKING, CPT):
        params = {"validation": "0.25"} if name != CPT else {"validation": "0.2"}
        per_file = ROWS_PER_FILE if name == SHARDED else 2_000_000
        result = build_dataset(
            wh, root, name, params, eval_minimum=EvalMinimum(rows=3, tokens=512),
            rows_per_file=per_file,
        ).result  # fmt: skip
        manifests[name] = json.loads((result.path / "manifest.json").read_text())
    out = home / "lf"
    args = ["--home", str(home), "datasets", "export-llamafactory", str(out), *manifests]
    assert run_cli(command(), args) == 0
    return out, manifests


def _rows(manifests: dict[str, dict[str, Any]], names: tuple[str, ...], split: str) -> int:
    return sum(manifests[name]["rows"].get(split, 0) for name in names)


def test_sharded_split_is_one_folder_of_its_own(
    exported: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    out, manifests = exported
    info = json.loads((out / "dataset_info.json").read_text())
    files = {
        split: [f for f in manifests[SHARDED]["files"] if f.get("split") == split]
        for split in ("train", "validation")
    }
    assert len(files["train"]) > 1 and len(files["validation"]) > 1  # sharded, both
    for key, split in ((SHARDED, "train"), (f"{SHARDED}_validation", "validation")):
        folder = out / info[key]["file_name"]
        assert folder.is_dir(), key
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            Path(f["path"]).name for f in files[split]
        )


def test_llamafactory_loads_and_trains_on_every_stage(
    exported: tuple[Path, dict[str, dict[str, Any]]], shared: Path, tmp_path: Path
) -> None:
    python = _llamafactory_python()
    out, manifests = exported
    info = json.loads((out / "dataset_info.json").read_text())

    def evals(names: tuple[str, ...]) -> str:
        return ",".join(f"{n}_validation" for n in names if f"{n}_validation" in info)

    assert evals(SFT) and evals((RANKING,)) and evals((CPT,))  # every stage has an eval split
    runs = [
        {"stage": "sft", "dataset": ",".join(SFT), "eval_dataset": evals(SFT), "steps": 2},
        {"stage": "rm", "dataset": RANKING, "eval_dataset": evals((RANKING,)), "steps": 2},
        {"stage": "dpo", "dataset": RANKING, "eval_dataset": evals((RANKING,)), "steps": 2},
        {"stage": "pt", "dataset": CPT, "eval_dataset": evals((CPT,)), "steps": 2},
    ]
    plan = {
        "dataset_dir": str(out),
        # ../shared, beside the checkout (tests/conftest.py): the Nougat model's tokenizer
        "tokenizer": str(shared / "models" / "nougat-tokenizer" / "tokenizer.json"),
        "work": str(tmp_path),
        "results": str(tmp_path / "results.jsonl"),
        "runs": runs,
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf-home"), "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(python), str(CHECK), str(tmp_path / "plan.json")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1100, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-8000:])
    assert done.returncode == 0, done.stderr[-2000:]
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    results = {r["stage"]: r for r in map(json.loads, lines)}
    assert set(results) == {"sft", "rm", "dpo", "pt"}

    sft = results["sft"]  # three datasets mixed, every row kept
    assert sft["raw_train"] == sft["train"] == _rows(manifests, SFT, "train")
    assert sft["raw_eval"] == sft["eval"] == _rows(manifests, SFT, "validation")
    assert {"input_ids", "labels"} <= set(sft["columns"])
    for stage in ("rm", "dpo"):  # both read the ranking set as pairs
        r = results[stage]
        assert r["raw_train"] == r["train"] == _rows(manifests, (RANKING,), "train")
        assert r["raw_eval"] == r["eval"] == _rows(manifests, (RANKING,), "validation")
        assert {"chosen_input_ids", "rejected_input_ids"} <= set(r["columns"])
    pt = results["pt"]  # packed: the rows are whole blocks of (cutoff_len - 1) tokens
    assert pt["raw_train"] == _rows(manifests, (CPT,), "train")
    assert pt["raw_eval"] == _rows(manifests, (CPT,), "validation")
    assert pt["train"] == pt["raw_train_tokens"] // pt["cutoff_len"] > 2
    assert pt["eval"] == pt["raw_eval_tokens"] // pt["cutoff_len"] > 0
    for stage, r in results.items():
        assert r["global_step"] == 2 and r["finite"], (stage, r)
