"""``reviews structure --input/--output`` for each method, ``reviews train`` into the runs
table, and re-structuring when the model version changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli.app import command
from cli.errors import run_cli
from jobs.crawl_openreview import crawl_openreview
from jobs.structure_reviews import structure_reviews
from jobs.train_review_model import store_model
from reviews.learned import ModelStructurer, fit, load_model
from reviews.llm import PROMPT_VERSION
from reviews.model import TrainParams
from tests.flows.test_crawl_openreview import config
from tests.openreview_replay import V2_VENUE, serve_openreview
from tests.replay import ReplayServer
from tests.reviews.test_llm import GOOD, ChatServer
from warehouse import Warehouse

FREE_TEXT = (
    "This paper proposes a new optimizer for transformers and studies its convergence.\n\n"
    "The paper is clearly written and the experiments are thorough.\n\n"
    "However, the novelty is limited and the baselines are weak (e.g. no Adam variant).\n\n"
    "Could the authors report results on ImageNet? Please also fix the typo in Eq. 3."
)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_cli(command(), list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def good_input(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "in.jsonl", [
        json.dumps({"id": "a", "venue": "ICLR 2019", "content": {"review": FREE_TEXT,
                                                                  "rating": "4: reject"}}),
        "",
        json.dumps({"id": "b", "content": {"summary": "A study of X.", "strengths": "Clear.",
                                           "weaknesses": "Small data.", "questions": "Why?"}}),
    ])  # fmt: skip


@pytest.mark.parametrize("method", ["fields", "model"])
def test_round_trip_keeps_every_key_and_adds_aspects(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, method: str
) -> None:
    out_path = tmp_path / "out" / "structured.jsonl"
    code, out, err = cli(
        capsys, "--home", str(tmp_path / "home"), "reviews", "structure", "--method", method,
        "--input", str(good_input(tmp_path)), "--output", str(out_path),
    )  # fmt: skip
    assert code == 0, err
    assert "2 structured" in out
    a, b = (json.loads(line) for line in out_path.read_text().splitlines())
    assert (a["id"], a["venue"], a["content"]["rating"]) == ("a", "ICLR 2019", "4: reject")
    assert set(a["aspects"]) == {"significance", "reasons_accept", "reasons_reject",
                                 "suggestions"}  # fmt: skip
    assert b["aspects"] == {"significance": "A study of X.", "reasons_accept": "Clear.",
                            "reasons_reject": "Small data.", "suggestions": "Why?"}  # fmt: skip
    assert a["structure_method"] == method
    if method == "model":
        assert a["structure_version"] == load_model(None).version
        assert "Could the authors report results on ImageNet?" in a["aspects"]["suggestions"]
        assert "the novelty is limited" in a["aspects"]["reasons_reject"]
        assert "clearly written" in a["aspects"]["reasons_accept"]
        assert "proposes a new optimizer" in a["aspects"]["significance"]


def test_bad_lines_are_named_and_nothing_is_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = write_lines(tmp_path / "bad.jsonl", [
        json.dumps({"content": {"review": "Fine."}}), "{not json", "[1, 2]",
        json.dumps({"content": "a string"}), json.dumps({"content": {"review": "Fine too."}}),
    ])  # fmt: skip
    out_path = tmp_path / "out.jsonl"
    code, _, err = cli(
        capsys, "--home", str(tmp_path / "home"), "reviews", "structure",
        "--input", str(bad), "--output", str(out_path),
    )  # fmt: skip
    assert code == 1
    assert "3 bad line(s)" in err and "line 2: not JSON" in err
    assert "line 3: not a JSON object" in err and "line 4: no 'content' object" in err
    assert not out_path.exists() and list(tmp_path.glob(".structure-*")) == []


def test_input_needs_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = cli(capsys, "--home", str(tmp_path), "reviews", "structure",
                       "--input", str(good_input(tmp_path)))  # fmt: skip
    assert code == 2 and "--input and --output go together" in err


def test_llm_method_on_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ReplayServer() as srv:
        chat = ChatServer(srv)
        chat.answers = [json.dumps(GOOD), "nope", "still nope"]  # the second review fails
        monkeypatch.setenv("SCICURATE_LLM_URL", f"{srv.url}/v1")
        monkeypatch.setenv("SCICURATE_LLM_MODEL", "tiny-reviewer")
        out_path = tmp_path / "out.jsonl"
        code, out, err = cli(
            capsys, "--home", str(tmp_path / "home"), "reviews", "structure", "--method", "llm",
            "--input", str(good_input(tmp_path)), "--output", str(out_path),
        )  # fmt: skip
    assert code == 0, err
    assert "1 structured" in out and "1 failed" in out
    a, b = (json.loads(line) for line in out_path.read_text().splitlines())
    assert a["aspects"] == GOOD and a["structure_version"] == PROMPT_VERSION
    assert b["aspects"] is None and "twice" in b["structure_error"] and b["id"] == "b"
    assert len(chat.requests) == 3


def test_train_records_a_run_and_a_new_model_restructures_everything(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    shared: Path,
    wh: Warehouse,
    reviews_v2: list[dict[str, Any]],
) -> None:
    with ReplayServer() as openreview:
        serve_openreview(openreview, shared)
        crawl_openreview(wh, config(openreview), home=tmp_path, venues=[V2_VENUE])
    code, out, err = cli(capsys, "--home", str(tmp_path), "reviews", "train", "--seed", "3")
    assert code == 0, err
    models = tmp_path / "models" / "review-aspects"
    version = (models / "CURRENT").read_text().strip()
    assert f"trained {version}" in out and (models / version / "model.npz").is_file()
    with wh.read() as con:
        params, counts = con.execute(
            "SELECT params, counts FROM runs WHERE flow = 'train-review-model' "
            "AND status = 'completed'"
        ).fetchone()
    params, counts = json.loads(params), json.loads(counts)
    assert params["seed"] == 3 and params["source"] == "catalog"
    assert counts["model_version"] == version and counts["reviews"] >= 1
    assert len(counts["data_sha256"]) == 64
    # --method model now uses the stored model, and its version is kept with each review.
    code, out, err = cli(capsys, "--home", str(tmp_path), "reviews", "structure",
                         "--method", "model")  # fmt: skip
    assert code == 0, err
    with wh.read() as con:
        rows = con.execute("SELECT DISTINCT structure_method, prompt_version FROM reviews "
                           "WHERE kind = 'review'").fetchall()  # fmt: skip
    assert rows == [("model", version)]
    assert structure_reviews(wh, ModelStructurer(load_model(models))).structured == 0
    # Another model (another seed) is another version: every review is structured again.
    newer, _ = fit(reviews_v2[:300], TrainParams(seed=4, epochs=3), max_heldout=0)
    store_model(newer, models)
    assert newer.version != version
    redone = structure_reviews(wh, ModelStructurer(load_model(models)))
    assert redone.structured == 9
    with wh.read() as con:
        assert con.execute("SELECT DISTINCT prompt_version FROM reviews "
                           "WHERE kind = 'review'").fetchall() == [(newer.version,)]  # fmt: skip


def test_default_method_is_model_else_fields(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = good_input(tmp_path)
    args = ["--home", str(tmp_path / "home"), "reviews", "structure", "--input", str(src)]
    code, _, err = cli(capsys, *args, "--output", str(tmp_path / "a.jsonl"))
    assert code == 0, err
    first = json.loads((tmp_path / "a.jsonl").read_text().splitlines()[0])
    assert first["structure_method"] == "model"
    assert first["structure_version"] == load_model(None).version
    # With no model that loads (no stored one, the shipped one missing), fields it is.
    monkeypatch.setattr("reviews.learned.DEFAULT_MODEL_DIR", tmp_path / "no-model")
    code, _, err = cli(capsys, *args, "--output", str(tmp_path / "b.jsonl"))
    assert code == 0, err
    first = json.loads((tmp_path / "b.jsonl").read_text().splitlines()[0])
    assert first["structure_method"] == "fields"
