"""The Kaggle snapshot importer, and one canonical record whichever path a paper came by."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import arxiv
import pytest

from core.records import Paper
from jobs.import_snapshot import import_snapshot
from sources.arxiv_api import result_to_paper
from sources.arxiv_oai import parse_list_records
from sources.arxiv_record import clean_text
from warehouse import Warehouse, migrate
from warehouse.papers import get_paper, upsert_papers


@pytest.fixture
def sample(shared: Path) -> Path:
    return shared / "fixtures/kaggle_arxiv-metadata-oai-snapshot.sample.jsonl"


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_imports_every_field_of_real_records(wh: Warehouse, sample: Path) -> None:
    result = import_snapshot(wh, sample)
    assert result.lines == 100 and result.rejected == 0
    assert result.papers.inserted == 100
    p = get_paper(wh, "0704.0001")
    assert p is not None
    assert p.source == "arxiv-snapshot"
    assert p.submitter == "Pavel Nadolsky"
    assert p.authors == "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan"
    assert p.authors_parsed == [
        ["Balázs", "C.", ""],
        ["Berger", "E. L.", ""],
        ["Nadolsky", "P. M.", ""],
        ["Yuan", "C. -P.", ""],
    ]
    assert p.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert p.comments == "37 pages, 15 figures; published version"
    assert p.journal_ref == "Phys.Rev.D76:013009,2007"
    assert p.doi == "10.1103/PhysRevD.76.013009"
    assert p.report_no == "ANL-HEP-PR-07-12"
    assert p.categories == ["hep-ph"] and p.primary_category == "hep-ph"
    assert p.license is None
    assert p.abstract is not None and p.abstract.startswith("A fully differential calculation")
    assert "\n" not in p.abstract and "  " not in p.abstract
    assert [(v.version, v.created) for v in p.versions] == [
        ("v1", datetime(2007, 4, 2, 19, 18, 42)),
        ("v2", datetime(2007, 7, 24, 20, 10, 27)),
    ]
    assert p.published == datetime(2007, 4, 2, 19, 18, 42)
    assert p.updated == datetime(2007, 7, 24, 20, 10, 27)
    assert p.update_date == date(2008, 11, 26)
    # Multi-category records keep order; the first is primary.
    q = get_paper(wh, "0704.0002")
    assert q is not None and q.categories == ["math.CO", "cs.CG"]
    assert q.primary_category == "math.CO"
    assert q.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    # authors_parsed is kept as the snapshot gives it, affiliations included.
    with wh.read() as con:
        [(n,)] = con.execute(
            "SELECT count(*) FROM papers WHERE list_bool_or(list_transform(authors_parsed, "
            "lambda a: len(a) > 3))"
        ).fetchall()
    assert n > 0


def test_every_line_matches_its_json(wh: Warehouse, sample: Path) -> None:
    import_snapshot(wh, sample)
    for rec in _lines(sample):
        p = get_paper(wh, str(rec["id"]))
        assert p is not None
        assert p.submitter == rec["submitter"]
        assert p.doi == clean_text(rec["doi"])  # type: ignore[arg-type]
        assert p.report_no == clean_text(rec["report-no"])  # type: ignore[arg-type]
        assert p.journal_ref == clean_text(rec["journal-ref"])  # type: ignore[arg-type]
        assert p.authors_parsed == rec["authors_parsed"]
        assert [v.version for v in p.versions] == [v["version"] for v in rec["versions"]]  # type: ignore[attr-defined]
        assert p.categories == str(rec["categories"]).split()


def test_rerun_and_newer_snapshot_update_in_place(
    wh: Warehouse, sample: Path, tmp_path: Path
) -> None:
    import_snapshot(wh, sample)
    again = import_snapshot(wh, sample)
    assert again.papers.unchanged == 100 and again.papers.inserted == again.papers.updated == 0

    records = _lines(sample)
    newer = dict(records[0])
    newer["versions"] = [
        *newer["versions"],
        {"version": "v3", "created": "Mon, 5 Jan 2009 10:00:00 GMT"},
    ]  # type: ignore[list-item]
    newer["title"] = "A revised title"
    newer_file = tmp_path / "newer.jsonl"
    newer_file.write_text("\n".join(json.dumps(r) for r in [newer, *records[1:]]) + "\n")
    result = import_snapshot(wh, newer_file)
    assert (result.papers.updated, result.papers.unchanged) == (1, 99)
    p = get_paper(wh, "0704.0001")
    assert p is not None and p.title == "A revised title" and len(p.versions) == 3

    # Importing the older snapshot again does not roll the paper back.
    import_snapshot(wh, sample)
    p = get_paper(wh, "0704.0001")
    assert p is not None and p.title == "A revised title" and len(p.versions) == 3
    with wh.read() as con:
        assert con.execute("SELECT count(*), count(DISTINCT paper_id) FROM papers").fetchall() == [
            (100, 100)
        ]


BAD_LINES = [
    ('{"id": "0704.9001", "title": "broken', "invalid JSON"),
    ("[1, 2, 3]", "not a JSON object"),
    ('{"title": "no id"}', "missing id"),
    ('{"id": "../../etc/passwd", "title": "x"}', "invalid arXiv id"),
    ('{"id": "0704.9002"}', "missing title"),
    ('{"id": "0704.9003", "title": "t", "versions": "v1"}', "versions is not a list"),
    (
        '{"id": "0704.9004", "title": "t", "versions": [{"version": "v1", "created": "soon"}]}',
        "unparseable version date",
    ),
    ('{"id": "0704.9005", "title": "t", "authors_parsed": "Smith"}', "authors_parsed"),
    ('{"id": "0704.9006", "title": "t", "update_date": "yesterday"}', "update_date"),
    ('{"id": "0704.9007", "title": "broken utf-8 \udcff\udcfe"}', "invalid UTF-8"),
]


def test_bad_lines_are_rejected_with_line_numbers(
    wh: Warehouse, sample: Path, tmp_path: Path
) -> None:
    good = sample.read_text().splitlines()
    mixed = tmp_path / "mixed.jsonl"
    lines = [good[0], *(b for b, _ in BAD_LINES), "", good[1]]
    mixed.write_bytes(
        b"\n".join(line.encode("utf-8", errors="surrogateescape") for line in lines) + b"\n"
    )
    result = import_snapshot(wh, mixed, batch_bytes=300)  # small batches: numbering across them
    assert result.papers.inserted == 2
    assert result.rejected == len(BAD_LINES)
    with wh.read() as con:
        rows = con.execute(
            "SELECT line_no, reason, raw FROM rejects WHERE source = 'arxiv-snapshot' ORDER BY 1"
        ).fetchall()
    assert [r[0] for r in rows] == list(range(2, 2 + len(BAD_LINES)))
    for (_, reason, raw), (_line, expected) in zip(rows, BAD_LINES, strict=True):
        assert expected in reason
        assert raw
    # A rerun records the same rejects once, and adds no papers.
    again = import_snapshot(wh, mixed)
    assert again.papers.unchanged == 2
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM rejects").fetchall() == [(len(BAD_LINES),)]


def _as_oai(rec: dict[str, object]) -> bytes:
    """The snapshot record written as an arXivRaw ListRecords page (recorded-style)."""
    versions = "".join(
        f'<version version="{v["version"]}"><date>{v["created"]}</date><size>10kb</size></version>'
        for v in rec["versions"]  # type: ignore[attr-defined]
    )
    fields = {
        "title": "title",
        "authors": "authors",
        "categories": "categories",
        "comments": "comments",
        "journal-ref": "journal-ref",
        "doi": "doi",
        "report-no": "report-no",
        "abstract": "abstract",
        "submitter": "submitter",
    }
    body = "".join(
        f"<{tag}>{escape(str(rec[key]))}</{tag}>" for tag, key in fields.items() if rec.get(key)
    )
    return (
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>'
        f"<identifier>oai:arXiv.org:{rec['id']}</identifier><datestamp>{rec['update_date']}"
        '</datestamp></header><metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">'
        f"<id>{rec['id']}</id>{versions}{body}</arXivRaw></metadata></record></ListRecords>"
        "</OAI-PMH>"
    ).encode()


def _as_api(rec: dict[str, object], names: list[str]) -> arxiv.Result:
    """The record as the arXiv API's Atom entry for its latest version would carry it."""
    from email.utils import parsedate_to_datetime

    vs = rec["versions"]
    return arxiv.Result(
        entry_id=f"http://arxiv.org/abs/{rec['id']}{vs[-1]['version']}",  # type: ignore[index]
        published=parsedate_to_datetime(vs[0]["created"]),  # type: ignore[index]
        updated=parsedate_to_datetime(vs[-1]["created"]),  # type: ignore[index]
        title=str(rec["title"]),
        authors=[arxiv.Result.Author(n) for n in names],
        summary=str(rec["abstract"]),
        comment=str(rec["comments"]),
        journal_ref=str(rec["journal-ref"]),
        doi=str(rec["doi"]),
        primary_category=str(rec["categories"]).split()[0],
        categories=str(rec["categories"]).split(),
    )


SHARED_FIELDS = [
    "paper_id",
    "title",
    "abstract",
    "categories",
    "primary_category",
    "comments",
    "journal_ref",
    "doi",
    "published",
    "updated",
]
RICH_FIELDS = [
    *SHARED_FIELDS,
    "submitter",
    "authors",
    "authors_parsed",
    "report_no",
    "license",
    "update_date",
]


def test_api_oai_and_snapshot_agree_field_for_field(sample: Path, tmp_path: Path) -> None:
    rec = _lines(sample)[0]  # 0704.0001: two versions, accents, every optional field
    snap = Warehouse(tmp_path / "snap.duckdb")
    from warehouse import migrate

    migrate(snap)
    import_snapshot(snap, sample)
    from_snapshot = get_paper(snap, "0704.0001")
    [oai_record] = parse_list_records(_as_oai(rec)).records
    from_oai = oai_record.paper
    from_api = result_to_paper(
        _as_api(rec, ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"])
    )
    assert from_snapshot is not None and from_oai is not None
    for name in RICH_FIELDS:
        assert getattr(from_oai, name) == getattr(from_snapshot, name), name
    assert [(v.version, v.created) for v in from_oai.versions] == [
        (v.version, v.created) for v in from_snapshot.versions
    ]
    for name in SHARED_FIELDS:
        assert getattr(from_api, name) == getattr(from_snapshot, name), name
    assert from_api.authors_parsed == from_snapshot.authors_parsed


def test_sources_merge_without_losing_fields(mem_wh: Warehouse, sample: Path) -> None:
    rec = _lines(sample)[0]
    [oai_record] = parse_list_records(_as_oai(rec)).records
    assert oai_record.paper is not None
    api_paper = result_to_paper(
        _as_api(rec, ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"])
    )
    # API first, then OAI: the richer source fills in submitter, versions, report number.
    upsert_papers(mem_wh, [api_paper])
    result = upsert_papers(mem_wh, [oai_record.paper])
    assert result.updated == 1
    merged = get_paper(mem_wh, "0704.0001")
    assert merged is not None
    assert merged.submitter == "Pavel Nadolsky" and len(merged.versions) == 2
    # The API again: it erases nothing and overrides nothing the OAI record set.
    changed_api = dataclasses.replace(api_paper, title="Title as the API spells it")
    assert upsert_papers(mem_wh, [changed_api]).unchanged == 1
    again = get_paper(mem_wh, "0704.0001")
    assert again == merged
    # A brand-new API-only paper is stored as the API gives it.
    fresh = dataclasses.replace(api_paper, paper_id="2104.12255")
    assert upsert_papers(mem_wh, [fresh]).inserted == 1
    stored = get_paper(mem_wh, "2104.12255")
    assert stored is not None and stored.title == api_paper.title
    assert isinstance(stored, Paper) and stored.source == "arxiv-api"


def _table(wh: Warehouse) -> list[tuple[object, ...]]:
    with wh.read() as con:
        return con.execute(
            "SELECT * EXCLUDE (first_seen, last_changed) FROM papers ORDER BY paper_id"
        ).fetchall()


def test_line_endings_and_a_missing_final_newline_change_nothing(
    sample: Path, tmp_path: Path
) -> None:
    lines = sample.read_text().splitlines()
    crlf = tmp_path / "crlf.jsonl"
    crlf.write_bytes(("\r\n".join([*lines[:50], "", *lines[50:]])).encode())  # no final newline
    plain, windows = Warehouse(tmp_path / "a.duckdb"), Warehouse(tmp_path / "b.duckdb")
    migrate(plain)
    migrate(windows)
    import_snapshot(plain, sample)
    result = import_snapshot(windows, crlf, batch_bytes=4096)
    assert result.lines == 101 and result.rejected == 0 and result.papers.inserted == 100
    assert _table(windows) == _table(plain)


def test_a_failure_mid_import_keeps_committed_batches_and_a_rerun_completes(
    wh: Warehouse, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sources import arxiv_snapshot
    from warehouse import snapshot

    stored = snapshot._store_batch
    calls = 0

    def fail_on_the_fourth(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("disk full")
        return stored(*args)

    monkeypatch.setattr(snapshot, "_store_batch", fail_on_the_fourth)
    # Batches of a few lines, and a transaction spans batches until it holds 8 lines or more:
    # batches one and two commit together, three and four roll back together.
    sizes = [t.num_rows for t, _ in arxiv_snapshot._batches(sample, 8000)]
    assert sizes[0] < 8 <= sizes[0] + sizes[1] and sizes[2] < 8
    with pytest.raises(RuntimeError, match="disk full"):
        import_snapshot(wh, sample, batch_bytes=8000, commit_rows=8)
    with wh.read() as con:
        committed = con.execute("SELECT count(*) FROM papers").fetchall()[0][0]
    assert committed == sizes[0] + sizes[1]
    monkeypatch.setattr(snapshot, "_store_batch", stored)
    again = import_snapshot(wh, sample, batch_bytes=8000, commit_rows=8)
    assert again.papers.unchanged == committed
    assert again.papers.inserted == 100 - committed
    with wh.read() as con:
        assert con.execute("SELECT count(*), count(DISTINCT paper_id) FROM papers").fetchall() == [
            (100, 100)
        ]
