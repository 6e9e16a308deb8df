"""`feedback ingest` against hostile files: nothing of a consent-less record is kept, bad text
is a reject with the project's own reason, and every line after a bad one is still read."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from annotation.sample import sample_feedback
from tests.hostile.conftest import Outcome
from warehouse import Warehouse

Cli = Callable[..., Outcome]
MARK = "NOCONSENT-TEXT-7f3a"  # appears only in records whose sender refused consent


def _good(i: int, **changes: object) -> dict[str, object]:
    record = sample_feedback(1, seed=500 + i)[0]
    record.update({"id": f"ok-{i}", "user_consent": True})
    record.pop("comment", None)
    record.update(changes)
    return record


def _ingest(cli: Cli, home: Path, *files: Path) -> Outcome:
    result = cli("--home", str(home), "feedback", "ingest", *map(str, files))
    assert "Traceback" not in result.out + result.err
    return result


def _rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    with Warehouse(home / "warehouse.duckdb").read() as con:
        return con.execute(sql).fetchall()


def _grep_home(home: Path, needle: str) -> list[Path]:
    """Every file under the home that holds ``needle`` (as UTF-8 or UTF-16 bytes)."""
    patterns = [needle.encode(), needle.encode("utf-16-le")]
    return [
        p for p in home.rglob("*") if p.is_file() and any(pat in p.read_bytes() for pat in patterns)
    ]


def test_a_consentless_record_leaves_no_content_whatever_else_is_wrong(
    cli: Cli, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    refused = [
        _good(1, id=f"{MARK}-a", user_consent=False, query=MARK, rating="meh"),
        _good(2, id=f"{MARK}-b", user_consent=False, answer=MARK, extra_field=MARK),
        _good(3, id=f"{MARK}-c", user_consent=False, comment=MARK),  # valid: only counted
        _good(4, id=f"{MARK}-d", user_consent="no", query=MARK),  # not a boolean: no consent
        {k: v for k, v in _good(5, query=MARK).items() if k != "user_consent"},  # missing
    ]
    lines = [json.dumps(r) for r in [_good(0), *refused, _good(6)]]
    lines.append('{"user_consent": false, "query": "' + MARK + '", broken')  # not JSON at all
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = _ingest(cli, home, path)
    assert result.code == 0, result.err
    rejects = _rows(
        home, "SELECT line_no, feedback_id, raw, consent, reason FROM feedback_rejects ORDER BY 1"
    )
    assert [r[0] for r in rejects] == [2, 3, 5, 6, 8]
    for _, fid, raw, consent, reason in rejects:
        assert fid is None and raw is None
        assert consent in {"absent", "unknown"}
        assert MARK not in reason
    assert _rows(home, "SELECT sum(no_consent), sum(stored) FROM feedback_ingests") == [(1, 2)]
    assert _grep_home(home, MARK) == []


def test_a_consented_invalid_record_keeps_its_excerpt(cli: Cli, tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = tmp_path / "f.jsonl"
    path.write_text(json.dumps(_good(1, rating="meh")) + "\n")
    assert _ingest(cli, home, path).code == 0
    [(fid, raw, consent)] = _rows(home, "SELECT feedback_id, raw, consent FROM feedback_rejects")
    assert fid == "ok-1" and consent == "given" and '"rating": "meh"' in raw


def test_lone_surrogates_are_rejects_and_later_lines_are_still_read(
    cli: Cli, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    lines = [
        json.dumps(_good(0)),
        json.dumps(_good(1, id="\ud800")),  # json.dumps writes it as the escape \ud800
        '"\\ud800"',
        json.dumps(_good(2, query="a \udfff b")),
        json.dumps(_good(3)),
    ]
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = _ingest(cli, home, path)
    assert result.code == 0, result.err
    assert _rows(home, "SELECT feedback_id FROM feedback ORDER BY 1") == [("ok-0",), ("ok-3",)]
    rejects = _rows(home, "SELECT line_no, reason FROM feedback_rejects ORDER BY 1")
    assert rejects == [
        (2, "holds a lone UTF-16 surrogate escape (not text)"),
        (3, "not a JSON object (a string)"),
        (4, "holds a lone UTF-16 surrogate escape (not text)"),
    ]
    assert _rows(home, "SELECT records, rejected FROM feedback_ingests") == [(5, 3)]


def test_a_reason_is_never_the_record_s_own_text(cli: Cli, tmp_path: Path) -> None:
    home = tmp_path / "home"
    hostile = "\x1b]0;owned\x07\x1b[2J"
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join([json.dumps(hostile), json.dumps(_good(1, **{hostile: 1}))]) + "\n")
    assert _ingest(cli, home, path).code == 0
    reasons = [r[0] for r in _rows(home, "SELECT reason FROM feedback_rejects ORDER BY line_no")]
    assert reasons[0] == "not a JSON object (a string)"
    assert "\x1b" not in reasons[1] and "Extra inputs are not permitted" in reasons[1]


def test_same_named_files_keep_their_own_rejects(cli: Cli, tmp_path: Path) -> None:
    home = tmp_path / "home"
    files = []
    for folder in ("d1", "d2"):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "same.jsonl"
        path.write_text("{broken\n")
        files.append(path)
    result = _ingest(cli, home, *files)
    assert result.code == 0
    rows = _rows(home, "SELECT source_file, line_no FROM feedback_rejects ORDER BY 1")
    assert rows == [(str(files[0].resolve()), 1), (str(files[1].resolve()), 1)]
    # A rerun replaces its own rows and duplicates nothing.
    _ingest(cli, home, *files)
    assert _rows(home, "SELECT count(*) FROM feedback_rejects") == [(2,)]


def test_invalid_utf8_is_rejected_with_its_byte_offset(cli: Cli, tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = tmp_path / "u.jsonl"
    good = json.dumps(_good(0)).encode()
    bad = json.dumps(_good(1, query="caf-")).encode().replace(b"caf-", b"caf\xe9")
    path.write_bytes(good + b"\n" + bad + b"\n")
    assert _ingest(cli, home, path).code == 0
    [(line_no, reason)] = _rows(home, "SELECT line_no, reason FROM feedback_rejects")
    offset = bad.index(b"\xe9")
    assert (line_no, reason) == (2, f"invalid UTF-8 at byte {offset} of the line")
    assert _rows(home, "SELECT count(*) FROM feedback WHERE query LIKE '%\ufffd%'") == [(0,)]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"user_consent": "yes"}, "user_consent: Input should be a valid boolean"),
        ({"created_at": 1_764_000_000}, "created_at"),
        ({"rating": 1}, "rating"),
    ],
)
def test_parquet_is_validated_as_strictly_as_json_lines(
    cli: Cli, tmp_path: Path, change: dict[str, object], reason: str
) -> None:
    home = tmp_path / "home"
    record = _good(1, **change)
    record["metadata"] = json.dumps(record["metadata"])
    path = tmp_path / "f.parquet"
    pq.write_table(pa.Table.from_pylist([record]), path)
    jsonl = tmp_path / "f.jsonl"
    jsonl.write_text(json.dumps(_good(1, **change)) + "\n")
    assert _ingest(cli, home, path).code == 0
    assert _ingest(cli, home, jsonl).code == 0
    rows = _rows(home, "SELECT reason FROM feedback_rejects ORDER BY source_file")
    assert len(rows) == 2 and all(reason in r[0] for r in rows), rows
    assert _rows(home, "SELECT count(*) FROM feedback") == [(0,)]


def test_parquet_timestamps_are_accepted(cli: Cli, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    home = tmp_path / "home"
    record = _good(1)
    record["metadata"] = json.dumps(record["metadata"])
    record["created_at"] = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    path = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist([record]), path)
    assert _ingest(cli, home, path).code == 0
    assert _rows(home, "SELECT feedback_id FROM feedback") == [("ok-1",)]
