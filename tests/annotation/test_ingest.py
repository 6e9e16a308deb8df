"""Feedback ingest: validation, rejects with reasons, consent, PII scrubbing, idempotency."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from annotation.errors import FeedbackFileError
from annotation.ingest import ingest_file
from annotation.sample import sample_feedback, write_jsonl
from annotation.schema import json_schema
from annotation.scrub import scrub
from cli.app import command
from cli.errors import run_cli
from warehouse import Warehouse

REPO = Path(__file__).resolve().parents[2]


def _good(i: int = 0, **changes: object) -> dict[str, object]:
    record = sample_feedback(1, seed=100 + i)[0]
    record.update({"id": f"good-{i}", "user_consent": True})
    record.update(changes)
    return record


def test_sample_file_is_stored_and_a_rerun_stores_nothing(wh: Warehouse, tmp_path: Path) -> None:
    records = sample_feedback(120)
    path = write_jsonl(records, tmp_path / "f.jsonl")
    first = ingest_file(wh, path)
    consented = [r for r in records if r["user_consent"]]
    assert first.records == 120 and first.rejected == 0
    assert first.no_consent == 120 - len(consented) > 0
    assert first.stored == len(consented)
    assert first.positives + first.negatives == first.stored
    assert first.scrubbed == sum(1 for r in consented if "comment" in r)
    again = ingest_file(wh, path)
    assert (again.stored, again.duplicates) == (0, len(consented))
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM feedback").fetchone() == (len(consented),)
        states = dict(con.execute("SELECT state, count(*) FROM feedback GROUP BY 1").fetchall())
        assert states == {"pool": first.positives, "queued": first.negatives}
        ids = {r[0] for r in con.execute("SELECT feedback_id FROM feedback").fetchall()}
        assert not ids & {r["id"] for r in records if not r["user_consent"]}  # never stored
        audit = con.execute(
            "SELECT records, stored, duplicates, no_consent FROM feedback_ingests "
            "ORDER BY ingested_at"
        ).fetchall()
        assert audit == [
            (120, len(consented), 0, first.no_consent),
            (120, 0, len(consented), first.no_consent),
        ]


def test_pii_is_scrubbed_from_every_free_text_field(wh: Warehouse, tmp_path: Path) -> None:
    record = _good(
        query="Mail bob@uni.example.edu about it",
        answer="Call +44 20 7946 0958 now",
        comment="me: alice.researcher@example.org, (030) 1234567",
        contexts=[{"paper_id": "2611.00001", "text": "Contact: carol@lab.example.com"}],
    )
    ingest_file(wh, write_jsonl([record], tmp_path / "pii.jsonl"))
    with wh.read() as con:
        row = con.execute(
            "SELECT query, answer, comment, contexts::VARCHAR, scrubbed FROM feedback"
        ).fetchone()
    assert row is not None
    text = " ".join(str(x) for x in row[:4])
    assert "@" not in text and "7946" not in text and "1234567" not in text
    assert row[0] == "Mail [email] about it" and row[1] == "Call [phone] now"
    assert row[4] is True
    # numbers that are not phone numbers survive
    assert scrub("in 2019-2020, doi 10.1145/3290605, 0.934 0.927 0.955")[1] is False


_NO_ANSWER = {k: v for k, v in _good(2).items() if k != "answer"}
BAD_LINES = [
    ("not json", "{this is not json", "invalid JSON"),
    (
        "wrong type",
        json.dumps(_good(1, user_consent="yes")),
        "user_consent: Input should be a valid boolean",
    ),
    ("missing field", json.dumps(_NO_ANSWER), "answer: Field required"),
    ("bad rating", json.dumps(_good(3, rating="meh")), "rating: Input should be 'up' or 'down'"),
    (
        "huge field",
        json.dumps(_good(4, query="x" * 30_000)),
        "query: String should have at most 20000",
    ),
    ("unknown field", json.dumps(_good(5, extra="?")), "'extra': Extra inputs are not permitted"),
    ("unsafe id", json.dumps(_good(6, id="../../etc/passwd ")), "id: String should match"),
    ("script url", json.dumps(_good(7, page_image="javascript:alert(1)")), "page_image: Value"),
    ("array", json.dumps([1, 2]), "not a JSON object (a list)"),
]


def test_bad_records_are_rejected_with_line_and_reason(wh: Warehouse, tmp_path: Path) -> None:
    script = _good(8, query="<script>alert(1)</script> and <img src=x onerror=alert(2)>")
    lines = [json.dumps(_good(0))] + [line for _, line, _ in BAD_LINES] + ["", json.dumps(script)]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = ingest_file(wh, path)
    assert (result.stored, result.rejected) == (2, len(BAD_LINES))
    with wh.read() as con:
        rejects = con.execute(
            "SELECT line_no, reason, raw FROM feedback_rejects ORDER BY line_no"
        ).fetchall()
    assert [r[0] for r in rejects] == list(range(2, 2 + len(BAD_LINES)))
    for (case, line, reason), (_, got, raw) in zip(BAD_LINES, rejects, strict=True):
        assert reason in got, (case, got)
        consented = '"user_consent": true' in line
        # only a record whose sender consented keeps an excerpt
        assert (raw is not None and len(raw) <= 2000) if consented else raw is None, case
    # script text is stored as text (escaped only where shown: see test_task_data_escapes)
    with wh.read() as con:
        stored = con.execute("SELECT query FROM feedback WHERE feedback_id = 'good-8'").fetchone()
    assert stored == (script["query"],)


def test_task_data_escapes_html() -> None:
    from annotation.config import task_data

    data = task_data(
        {
            "feedback_id": "f1",
            "task": "qa",
            "query": "<script>alert(1)</script>",
            "answer": 'He said "<b>no</b>"',
            "contexts": [{"paper_id": "p<1>", "text": "<img src=x onerror=alert(2)>"}],
        }
    )
    blob = json.dumps(data)
    assert "<script>" not in blob and "<img" not in blob and "<b>no" not in blob
    assert data["query_html"] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "&lt;img src=x onerror=alert(2)&gt;" in data["contexts_html"]


def test_parquet_files_and_broken_files(wh: Warehouse, tmp_path: Path) -> None:
    records = [r for r in sample_feedback(30, seed=3) if r["user_consent"]]
    for r in records:
        r["metadata"] = json.dumps(r["metadata"])
        r.setdefault("comment", None)
        r.setdefault("page_image", None)
    path = tmp_path / "f.parquet"
    pq.write_table(pa.Table.from_pylist(records), path)
    assert ingest_file(wh, path).stored == len(records)

    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(FeedbackFileError, match="not a readable Parquet file"):
        ingest_file(wh, broken)
    with pytest.raises(FeedbackFileError, match=r"unknown format \.csv"):
        ingest_file(wh, tmp_path / "x.csv")


def test_cli_ingest_and_stats(
    wh: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = wh.path.parent  # type: ignore[union-attr]
    path = write_jsonl(sample_feedback(40), tmp_path / "cli.jsonl")
    path.write_text(path.read_text() + "{broken\n")
    assert run_cli(command(), ["--home", str(home), "feedback", "ingest", str(path)]) == 0
    out = capsys.readouterr().out
    assert "cli.jsonl" in out and "feedback_rejects" in out
    assert run_cli(command(), ["--home", str(home), "annotate", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["rejects"] == 1 and stats["queue_depth"] > 0 and stats["no_consent"] >= 1
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n")
    assert run_cli(command(), ["--home", str(home), "feedback", "ingest", str(bad)]) == 1
    assert "unknown format" in capsys.readouterr().err
    assert run_cli(command(), ["--home", str(home), "annotate", "push"]) == 1
    assert "Label Studio is not configured" in capsys.readouterr().err


def test_published_json_schema_is_current() -> None:
    published = json.loads((REPO / "docs" / "feedback.schema.json").read_text())
    assert published == json_schema(), (
        "regenerate: scicurate feedback schema > docs/feedback.schema.json"
    )
