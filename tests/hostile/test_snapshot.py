"""`import arxiv-snapshot` against hostile files: a value of the wrong JSON type is a reject,
never coerced; an over-long line is a reject with its number and size, read past with bounded
memory; a file that is not JSON lines at all is one file-level error naming its format; and
control characters in the data never reach the terminal."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sources.arxiv_snapshot import MAX_LINE_BYTES
from tests.hostile.conftest import Outcome
from warehouse import Warehouse

Cli = Callable[..., Outcome]
REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
ESC = "\x1b]0;owned\x07\x1b[2J"


@pytest.fixture
def records(shared: Path) -> list[dict[str, object]]:
    sample = shared / "fixtures/kaggle_arxiv-metadata-oai-snapshot.sample.jsonl"
    return [json.loads(line) for line in sample.read_text().splitlines()]


@pytest.fixture
def big(tmp_path: Path) -> Iterator[Path]:
    """A path for a file of hundreds of MB, removed after the test."""
    path = tmp_path / "big.json"
    yield path
    path.unlink(missing_ok=True)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _import(cli: Cli, home: Path, path: Path) -> Outcome:
    return cli("--home", str(home), "import", "arxiv-snapshot", str(path))


def _rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    with Warehouse(home / "warehouse.duckdb").read() as con:
        return con.execute(sql).fetchall()


def _rejects(home: Path) -> list[tuple[object, ...]]:
    return _rows(home, "SELECT line_no, reason FROM rejects ORDER BY line_no")


def _papers(home: Path) -> list[str]:
    rows = _rows(home, "SELECT paper_id FROM papers ORDER BY 1")
    ids = [str(r[0]) for r in rows]
    assert len(ids) == len(set(ids))  # nothing duplicated
    return ids


def _record(records: list[dict[str, object]], i: int, **changes: object) -> dict[str, object]:
    record = dict(records[i])
    record.update(changes)
    return record


def test_wrong_json_types_are_rejects_not_coerced(
    cli: Cli, tmp_path: Path, records: list[dict[str, object]]
) -> None:
    home = tmp_path / "home"
    missing = _record(records, 3, id="1501.00003")
    del missing["categories"]
    lines = [
        json.dumps(_record(records, 0)),
        json.dumps(_record(records, 1, id="1501.00001", categories=["cs.AI", "cs.LG"])),
        # json.dumps would write 1501.1234; the snapshot line as reported had 1501.12340.
        json.dumps(_record(records, 2, id="ID")).replace('"ID"', "1501.12340"),
        json.dumps(missing),
        json.dumps(_record(records, 4, id="1501.00004", categories="")),
        json.dumps(_record(records, 5, id="1501.00005", categories="   ")),
        json.dumps(_record(records, 6, id="1501.00006", categories=None)),
        json.dumps(_record(records, 7, id="1501.00007", title=42)),
        json.dumps(_record(records, 8, id="1501.00008", doi={"value": "10.1/x"})),
        json.dumps(_record(records, 9, id="1501.00009", abstract=True)),
        json.dumps(_record(records, 10, id=["1501.00010"])),
        json.dumps(_record(records, 11)),
    ]
    path = _write(tmp_path / "types.jsonl", lines)
    result = _import(cli, home, path)
    assert result.code == 0, result.err
    assert "12 lines: 2 new" in result.out and "10 rejected" in result.out
    assert _rejects(home) == [
        (2, "categories is a list, not a string"),
        (3, "id is a number, not a string"),
        (4, "missing categories"),
        (5, "empty categories"),
        (6, "empty categories"),
        (7, "missing categories"),
        (8, "title is a number, not a string"),
        (9, "doi is an object, not a string"),
        (10, "abstract is a boolean, not a string"),
        (11, "id is a list, not a string"),
    ]
    assert _papers(home) == sorted([str(records[0]["id"]), str(records[11]["id"])])
    # Nothing coerced was stored: no list-as-text category, no shortened id, no NULLs.
    assert _rows(
        home,
        "SELECT count(*) FROM papers WHERE paper_id IN ('1501.1234', '1501.12340') "
        "OR categories IS NULL OR primary_category IS NULL OR list_contains(categories, "
        '\'["cs.AI","cs.LG"]\')',
    ) == [(0,)]
    # A rerun changes nothing and duplicates nothing.
    again = _import(cli, home, path)
    assert again.code == 0 and "2 unchanged" in again.out
    assert len(_rejects(home)) == 10 and len(_papers(home)) == 2


def test_a_line_over_the_limit_is_rejected_with_its_number_and_size(
    cli: Cli, tmp_path: Path, records: list[dict[str, object]]
) -> None:
    home = tmp_path / "home"
    huge = json.dumps(_record(records, 1, abstract="x" * (MAX_LINE_BYTES + 10)))
    at_limit = json.dumps(_record(records, 2, abstract="")).encode()
    padded = json.dumps(_record(records, 2, abstract="y" * (MAX_LINE_BYTES - len(at_limit))))
    assert len(padded.encode()) == MAX_LINE_BYTES  # exactly at the limit: still read
    lines = [json.dumps(records[0]), huge, padded, json.dumps(records[3])]
    path = _write(tmp_path / "long.jsonl", lines)
    result = _import(cli, home, path)
    assert result.code == 0, result.err
    size = len(huge.encode())
    assert _rejects(home) == [(2, f"line is {size:,} bytes, over the limit of {MAX_LINE_BYTES:,}")]
    assert _papers(home) == sorted(str(records[i]["id"]) for i in (0, 2, 3))
    assert _rows(home, "SELECT raw FROM rejects") == [(None,)]  # none of it is kept


def _peak_rss_kb(home: Path, path: Path) -> tuple[int, str, float]:
    """Import ``path`` in a child process: (its peak RSS in KB, its stderr, seconds)."""
    code = (
        "import resource, sys\n"
        "from cli.app import command\n"
        "from cli.errors import run_cli\n"
        "rc = run_cli(command(), sys.argv[1:])\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(f'PEAK {peak} RC {rc}', file=sys.stderr)\n"
    )
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code, "--home", str(home), "import", "arxiv-snapshot", str(path)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - start
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("PEAK") and last.endswith("RC 0"), done.stderr
    return int(last.split()[1]), done.stderr, seconds


def test_a_300_mb_file_without_a_newline_is_read_with_bounded_memory(
    tmp_path: Path, big: Path, records: list[dict[str, object]]
) -> None:
    small = _write(tmp_path / "small.jsonl", [json.dumps(r) for r in records[:5]])
    with big.open("wb") as out:  # one line, streamed: 300 MB and no newline at all
        out.write(b'{"id": "1501.00001", "title": "')
        block = b"a" * MB
        for _ in range(300):
            out.write(block)
    size = big.stat().st_size
    baseline, _, _ = _peak_rss_kb(tmp_path / "h1", small)
    peak, err, seconds = _peak_rss_kb(tmp_path / "h2", big)
    assert "Traceback" not in err
    # Before: the line was read whole (and copied), a peak of more than its 300 MB.
    assert (peak - baseline) * 1024 < 150 * MB, (peak, baseline)
    assert seconds < 120
    home = tmp_path / "h2"
    assert _rejects(home) == [(1, f"line is {size:,} bytes, over the limit of {MAX_LINE_BYTES:,}")]
    assert _papers(home) == []


def test_a_one_line_289_mb_json_array_is_one_file_level_error(
    cli: Cli, tmp_path: Path, big: Path, records: list[dict[str, object]]
) -> None:
    home = tmp_path / "home"
    chunk = ",".join(json.dumps(r) for r in records).encode()
    with big.open("wb") as out:  # the whole snapshot as one JSON array on one line
        out.write(b"[")
        out.write(chunk)
        while out.tell() < 289 * MB:
            out.write(b"," + chunk)
        out.write(b"]")
    start = time.monotonic()
    result = _import(cli, home, big)
    assert time.monotonic() - start < 60
    assert result.code == 1
    line = result.one_line_error()
    assert "big.json is a JSON array" in line and "JSON lines" in line, line
    assert _rejects(home) == [] and _papers(home) == []
    [(status, error)] = _rows(home, "SELECT status, error FROM runs")
    assert status == "failed" and str(error).startswith("SnapshotFormatError")


def _zip(data: bytes) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("arxiv-metadata-oai-snapshot.json", data)
    return buf.getvalue()


def _pretty(data: bytes) -> bytes:
    return json.dumps(json.loads(data.splitlines()[0]), indent=2).encode()


@pytest.mark.parametrize(
    ("encode", "named"),
    [
        (gzip.compress, "gzip-compressed"),
        (bz2.compress, "bzip2-compressed"),
        (lzma.compress, "xz-compressed"),
        (_zip, "a zip archive"),
        (_pretty, "pretty-printed JSON"),
        (lambda data: data.decode().encode("utf-16"), "UTF-16 text"),
        (lambda data: b"\x00" * 64 + data, "binary data"),
    ],
    ids=["gzip", "bzip2", "xz", "zip", "pretty", "utf16", "binary"],
)
def test_a_file_that_is_not_json_lines_is_one_error_naming_its_format(
    cli: Cli,
    tmp_path: Path,
    records: list[dict[str, object]],
    encode: Callable[[bytes], bytes],
    named: str,
) -> None:
    home = tmp_path / "home"
    plain = ("\n".join(json.dumps(r) for r in records) + "\n").encode()
    path = tmp_path / "arxiv-metadata-oai-snapshot.json.x"
    path.write_bytes(encode(plain))
    result = _import(cli, home, path)
    assert result.code == 1
    line = result.one_line_error()
    assert f"{path.name} is {named}" in line, line
    assert _rejects(home) == [] and _papers(home) == []
    # The same records as JSON lines import in full: nothing was held back by the refusal.
    ok = tmp_path / "plain.jsonl"
    ok.write_bytes(plain)
    assert _import(cli, home, ok).code == 0
    assert len(_papers(home)) == len(records) and _rejects(home) == []


def test_control_characters_never_reach_the_terminal(
    cli: Cli, tmp_path: Path, records: list[dict[str, object]]
) -> None:
    home = tmp_path / "home"
    lines = [
        json.dumps(_record(records, 0, id=ESC)),  # a bad id: rejected, quoted escaped
        json.dumps(_record(records, 1, title=f"A title {ESC} [bold red]markup[/]")),  # stored
    ]
    assert _import(cli, home, _write(tmp_path / "esc.jsonl", lines)).code == 0
    [(line_no, reason)] = _rejects(home)
    assert line_no == 1 and reason == 'invalid arXiv id: "\\u001B]0;owned\\u0007\\u001B[2J"'
    [(title,)] = _rows(home, "SELECT title FROM papers")
    assert ESC in str(title)  # the data is kept as it came; only its display is escaped
    for args in (
        ("status",),
        ("warehouse", "sql", "SELECT title FROM papers"),
        ("warehouse", "sql", "SELECT title FROM papers", "--csv"),
        ("warehouse", "sql", "SELECT raw, reason FROM rejects"),
    ):
        shown = cli("--home", str(home), *args)
        assert shown.code == 0, shown.err
        assert "\x1b" not in shown.out and "\x07" not in shown.out, args
    csv = cli("--home", str(home), "warehouse", "sql", "SELECT title FROM papers", "--csv")
    assert "\\x1b]0;owned\\x07\\x1b[2J" in csv.out
    table = cli("--home", str(home), "warehouse", "sql", "SELECT title FROM papers")
    assert "[bold red]markup[/]" in table.out  # markup is shown as text, not applied


@pytest.mark.parametrize("batch_bytes", [7, 64, 300, 4096])
def test_over_long_lines_across_batch_boundaries(tmp_path: Path, batch_bytes: int) -> None:
    """The reader on its own, with a small limit: lines within it (up to exactly the limit)
    are read whole wherever a batch ends; longer ones, split across reads or not, are cut to
    an empty line with their size; a last line without a newline is read too."""
    from sources.arxiv_snapshot import line_batches

    limit = 100
    lines = [b"a" * 10, b"b" * 150, b"c" * limit, b"d" * (limit + 1), b"", b"e" * 99, b"f" * 250]
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"\n".join(lines))  # no final newline
    seen = []
    for table, _offset in line_batches(path, batch_bytes=batch_bytes, max_line_bytes=limit):
        seen.extend(table.to_pylist())
    too_long = f"line is {{:,}} bytes, over the limit of {limit:,}".format
    assert [(r["line_no"], r["line"].rstrip("\n"), r["problem"]) for r in seen] == [
        (1, "a" * 10, None),
        (2, "", too_long(150)),
        (3, "c" * limit, None),
        (4, "", too_long(limit + 1)),
        (5, "", None),
        (6, "e" * 99, None),
        (7, "", too_long(250)),
    ]
