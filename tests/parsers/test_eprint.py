"""The e-print parser on the 3 real source trees in ../shared/fixtures/arxiv_fulltext/src, packed
here the way arXiv packs them (a gzipped tar; a single gzipped .tex for a one-file paper), and
on hostile archives, which must be refused with a reason in bounded time and memory."""

from __future__ import annotations

import gzip
import io
import re
import shutil
import subprocess
import tarfile
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

from parsers.base import ParseError
from parsers.eprint import (
    ArchiveLimits,
    Eprint,
    EprintIsPdfError,
    UnsafeArchiveError,
    parse_eprint,
    strip_comments,
)
from parsers.isolate import IsolatedWorker, Limits

TREES = {  # tree -> (main file per 00README.json, references in its .bbl)
    "2502.07870": ("main.tex", 58),
    "2506.02070": ("main.tex", 36),
    "2508.20357v4": ("main_v4.tex", 78),
}


def pack(tree: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(tree.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(tree)))
    return buf.getvalue()


@pytest.fixture(scope="module")
def trees(shared: Path) -> dict[str, Path]:
    return {name: shared / "fixtures" / "arxiv_fulltext" / "src" / name for name in TREES}


@pytest.fixture(scope="module")
def parsed(trees: dict[str, Path]) -> dict[str, Eprint]:
    return {name: parse_eprint(pack(tree)) for name, tree in trees.items()}


def _sections(tree: Path, files: tuple[str, ...]) -> list[str]:
    """Plain ``\\section{...}`` titles of the files that were inlined, read with a regex."""
    titles = []
    for name in files:
        text = (tree / name).read_text(errors="replace")
        for line in text.splitlines():
            if line.lstrip().startswith("%"):
                continue
            m = re.search(r"\\section\*?\{([A-Za-z][A-Za-z ,\-]+)\}", line.split("%")[0])
            if m:
                titles.append(m.group(1).strip())
    return titles


@pytest.mark.parametrize("name", list(TREES))
def test_tree_gives_main_file_inlined_inputs_and_sections(
    trees: dict[str, Path], parsed: dict[str, Eprint], name: str
) -> None:
    eprint = parsed[name]
    main, n_refs = TREES[name]
    assert eprint.main_file == main
    doc = eprint.document
    assert doc.status == "ok", doc.reason
    assert doc.provenance.parser == "arxiv-src" and doc.provenance.source == "arxiv-src"
    headings = [el for el in doc.elements if el.kind == "heading"]
    wanted = _sections(trees[name], (main, *eprint.inlined))
    assert wanted
    got = {el.text for el in headings if el.level == 1}
    assert [w for w in wanted if w not in got] == []
    assert {el.level for el in headings} >= {1, 2}
    refs = [el for el in doc.elements if el.kind == "reference"]
    assert len(refs) == n_refs  # the .bbl entries
    assert len([el for el in doc.elements if el.kind == "paragraph"]) > 50
    # the cleaned LaTeX: RedPajama's cut, no comments, no bibliography, no preamble
    latex = eprint.latex
    assert latex.startswith("\\section")
    assert "\\documentclass" not in latex and "\\begin{thebibliography}" not in latex
    assert not re.search(r"(?m)^\s*%", latex)
    assert "\\input{" not in latex and "\\subfile{" not in latex


def test_inputs_are_inlined_and_commented_ones_are_not(
    trees: dict[str, Path], parsed: dict[str, Eprint]
) -> None:
    e = parsed["2502.07870"]
    assert "sections/1_Introduction.tex" in e.inlined
    assert "utils/preamble.tex" in e.inlined
    assert not any("3_2_Evaluation" in f for f in e.inlined)  # "% \input{...}" in main.tex
    intro = strip_comments((trees["2502.07870"] / "sections/1_Introduction.tex").read_text())
    first = next(line for line in intro.splitlines() if len(line) > 60 and "\\" not in line)
    assert first.strip()[:50] in e.latex
    # \subfile: the child's body only, never its own preamble
    s = parsed["2506.02070"]
    assert "subfiles/part_01.tex" in s.inlined
    assert "subfiles/part_06.tex" not in s.inlined  # commented out in main.tex
    assert s.latex.count("\\begin{document}") == 0
    # user macros without arguments are expanded (RedPajama's step)
    assert "\\DatasetName" not in e.latex and "TextAtlas5M" in e.latex


def test_math_stays_latex_and_appendix_is_marked(parsed: dict[str, Eprint]) -> None:
    e = parsed["2508.20357v4"]
    doc = e.document
    eqs = [el for el in doc.elements if el.kind == "equation"]
    assert len(eqs) > 100
    assert all(el.text in e.latex or el.text.split()[0] in e.latex for el in eqs[:20])
    assert all(el.markdown.startswith(("\\[", "\\begin{")) for el in eqs)
    for el in eqs:  # never an environment inside \[...\]
        assert not el.markdown.startswith("\\[\\begin{")
    inline = [el for el in doc.elements if el.kind == "paragraph" and "$" in el.text]
    assert inline and re.search(r"\$[^$]+\$", inline[0].text)
    appendix = [el for el in doc.elements if el.attrs.get("appendix")]
    assert appendix and appendix[0].kind == "heading"
    assert appendix[0].text == "Low energy non-relativistic spin Hamiltonian"
    assert doc.title == "Prospects for relic neutrino detection using nuclear spin experiments"
    assert doc.metadata["abstract"].startswith(
        "Direct detection of the cosmic neutrino background (C$\\nu$B)"
    )
    md = doc.to_markdown()
    assert md.startswith("# Prospects for relic neutrino") and "\n## Introduction\n" in md


def test_a_one_file_paper_as_a_single_gz(trees: dict[str, Path]) -> None:
    tex = (trees["2508.20357v4"] / "main_v4.tex").read_bytes()
    e = parse_eprint(gzip.compress(tex))
    assert e.main_file == "main.tex" and e.files == ("main.tex",)
    assert [el.text for el in e.document.elements if el.kind == "heading"][1] == "Introduction"
    assert e.latex.startswith("\\section{Introduction}")


def test_tables_become_markdown(parsed: dict[str, Eprint]) -> None:
    tables = [el for el in parsed["2502.07870"].document.elements if el.kind == "table"]
    assert tables
    for t in tables:
        rows, cols = t.attrs["shape"]
        lines = t.markdown.splitlines()
        assert len(lines) == rows + 1 and lines[1] == "|" + "---|" * cols


def test_runs_in_the_isolated_worker(trees: dict[str, Path]) -> None:
    data = pack(trees["2506.02070"])
    with IsolatedWorker(Limits(wall_s=60, memory_mb=1024)) as worker:
        e = worker.call(parse_eprint, data)
    assert e.main_file == "main.tex" and e.document.status == "ok"


def _tar(members: list[tuple[tarfile.TarInfo, bytes]], mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:  # type: ignore[call-overload]
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buf.getvalue()


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


MAIN = b"\\documentclass{article}\\begin{document}\\section{A}Text.\\end{document}\n"


def _link(name: str, target: str, kind: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, b""


def _device(name: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    return info, b""


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ([_file("main.tex", MAIN), _file("../evil.tex")], "path traversal"),
        ([_file("main.tex", MAIN), _file("a/../../evil.tex")], "path traversal"),
        ([_file("/etc/cron.d/evil", b"x"), _file("main.tex", MAIN)], "absolute path"),
        ([_file("main.tex", MAIN), _link("x.tex", "/etc/passwd", tarfile.SYMTYPE)], "link"),
        ([_file("main.tex", MAIN), _link("y.tex", "main.tex", tarfile.LNKTYPE)], "link"),
        ([_file("main.tex", MAIN), _device("dev")], "device"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink", "hardlink", "device"],
)
def test_hostile_members_are_refused(
    members: list[tuple[tarfile.TarInfo, bytes]], reason: str
) -> None:
    with pytest.raises(UnsafeArchiveError, match=reason):
        parse_eprint(_tar(members))


def _bounded(fn: object, *, seconds: float, mib: float) -> str:
    """Run ``fn``, expecting UnsafeArchiveError; return its reason, checking time and the
    peak of Python allocations."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(UnsafeArchiveError) as err:
            fn()  # type: ignore[operator]
    finally:
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    elapsed = time.perf_counter() - t0
    assert elapsed < seconds, f"took {elapsed:.1f}s"
    assert peak < mib * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"
    return err.value.reason


def test_ten_thousand_members_are_refused_quickly() -> None:
    data = _tar([_file("main.tex", MAIN)] + [_file(f"f/{i}.txt") for i in range(10_000)])
    reason = _bounded(lambda: parse_eprint(data), seconds=5, mib=64)
    assert "more than 5000 members" in reason


def test_a_sparse_1gb_member_is_refused_without_reading_it(tmp_path: Path) -> None:
    if shutil.which("tar") is None:
        pytest.skip("GNU tar is needed to write a sparse member")
    tree = tmp_path / "src"
    tree.mkdir()
    (tree / "main.tex").write_bytes(MAIN)
    with (tree / "big.dat").open("wb") as fh:
        fh.truncate(1024**3)  # a hole of 1 GiB: nothing is written
    out = tmp_path / "sparse.tar.gz"
    subprocess.run(
        ["tar", "--sparse", "-czf", str(out), "-C", str(tree), "main.tex", "big.dat"], check=True
    )
    data = out.read_bytes()
    assert len(data) < 64 * 1024
    reason = _bounded(lambda: parse_eprint(data), seconds=5, mib=64)
    assert "big.dat" in reason and "over the limit" in reason


def _gzip_of_zeros(mib: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zero = bytes(1024 * 1024)
    return b"".join(comp.compress(zero) for _ in range(mib)) + comp.flush()


def test_a_gzip_bomb_is_refused_in_bounded_time_and_memory() -> None:
    # a tar whose one member claims 200 MiB (under the member limit) of zeros: ~200 KiB packed
    header = tarfile.TarInfo("main.tex")
    header.size = 200 * 1024 * 1024
    raw = header.tobuf(format=tarfile.GNU_FORMAT)
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zero = bytes(1024 * 1024)
    bomb = comp.compress(raw) + b"".join(comp.compress(zero) for _ in range(200)) + comp.flush()
    assert len(bomb) < 1024 * 1024
    reason = _bounded(lambda: parse_eprint(bomb), seconds=10, mib=80)
    assert "compression ratio" in reason
    # a single gzipped "paper" of 300 MiB of zeros
    single = _gzip_of_zeros(300)
    reason = _bounded(lambda: parse_eprint(single), seconds=10, mib=80)
    assert "over the limit" in reason or "compression ratio" in reason


def test_tight_limits_are_honoured() -> None:
    data = _tar([_file("main.tex", MAIN), _file("fig.pdf", bytes(4096))])
    with pytest.raises(UnsafeArchiveError, match="over the limit"):
        parse_eprint(data, limits=ArchiveLimits(max_member_bytes=1024))
    with pytest.raises(UnsafeArchiveError, match="more than 1 members"):
        parse_eprint(data, limits=ArchiveLimits(max_members=1))


def test_a_pdf_eprint_is_named() -> None:
    pdf = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
    with pytest.raises(EprintIsPdfError):
        parse_eprint(pdf)
    with pytest.raises(EprintIsPdfError):
        parse_eprint(gzip.compress(pdf))


def test_garbage_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not a gzip, tar, PDF or TeX"):
        parse_eprint(b"<html>captcha</html>")
    with pytest.raises(ParseError, match="corrupt gzip"):
        parse_eprint(b"\x1f\x8b\x08\x00" + b"\xff" * 100)


def test_readme_cycles_and_missing_inputs() -> None:
    members = [
        _file("a.tex", b"\\documentclass{article}\\begin{document}\\section{A}A\\end{document}"),
        _file(
            "paper.tex",
            b"\\documentclass{article}\n\\begin{document}\n\\section{Intro}\n\\input{b}\n"
            b"\\input{nothere}\n% \\input{c}\n\\end{document}\n",
        ),
        _file("b.tex", b"Bee text \\input{paper}\n\\include{c}\n"),
        _file("c.tex", b"Sea 100\\% text % a comment\n"),
        _file("00README.XXX", b"paper.tex toplevelfile\nfig.eps ignore\n"),
    ]
    e = parse_eprint(_tar(members))
    assert e.main_file == "paper.tex"  # the README wins over a.tex, also a \documentclass file
    assert e.inlined == ("b.tex", "c.tex")
    assert set(e.missing) == {"nothere", "paper (cycle)"}
    assert "Bee text" in e.latex and "Sea 100\\% text" in e.latex and "a comment" not in e.latex
    assert e.document.quality["missing_inputs"] == 2


def test_an_uncompressed_tar_also_works() -> None:
    e = parse_eprint(_tar([_file("main.tex", MAIN)], mode="w"))
    assert e.main_file == "main.tex"
    assert [el.text for el in e.document.elements if el.kind == "heading"] == ["A"]


@pytest.mark.parametrize("name", list(TREES))
def test_display_math_markdown_is_well_formed(parsed: dict[str, Eprint], name: str) -> None:
    for el in parsed[name].document.elements:
        if el.kind == "equation":
            md = el.markdown
            assert not md.startswith("\\[\\begin{"), md[:80]  # no environment inside \[...\]
            if md.startswith("\\begin{"):
                env = re.match(r"\\begin\{([a-z*]+)\}", md)
                assert env is not None and md.endswith(f"\\end{{{env.group(1)}}}")
            else:
                assert md.startswith("\\[") and md.endswith("\\]")


def test_deeply_nested_footnotes_are_a_parse_error_not_a_crash() -> None:
    body = b"\\footnote{" * 1500 + b"x" + b"}" * 1500
    tex = b"\\documentclass{article}\\begin{document}\\section{A}" + body + b"\\end{document}"
    with pytest.raises(ParseError, match="nested too deeply"):
        parse_eprint(gzip.compress(tex))
