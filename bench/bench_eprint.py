"""E-print extraction and cleaning in documents/s, on the 3 real source trees in
../shared/fixtures/arxiv_fulltext/src packed as arXiv packs them (gzipped tars).

In the same process and over the same bytes: the baseline is a bare safe-less extraction
(``tarfile`` reading every member into memory); then our bounded extraction alone, and the
full ``parse_eprint`` (extraction, main file, inlining, cleaned LaTeX and the ``Document``).
Best of ROUNDS after a warm-up. Also printed per tree: the headings by level against the
``\\section``-family commands of the inlined source, and the equation elements.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

from parsers.eprint import ArchiveLimits, extract, inline_source, parse_eprint

TREES = (
    Path(os.environ.get("SCICURATE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    / "fixtures"
    / "arxiv_fulltext"
    / "src"
)
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5


def pack(tree: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(tree.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(tree)))
    return buf.getvalue()


def bare(archives: list[bytes]) -> int:
    n = 0
    for data in archives:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                fh = tar.extractfile(member)
                if fh is not None:
                    n += len(fh.read())
    return n


def bounded(archives: list[bytes]) -> int:
    return sum(len(extract(data)) for data in archives)


def full(archives: list[bytes]) -> int:
    return sum(len(parse_eprint(data).latex) for data in archives)


def best(*runs: tuple[object, tuple[object, ...]]) -> list[float]:
    """Best time of each run over ROUNDS, the runs interleaved within each round so that a
    shared machine's load drifts over all of them alike."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(ROUNDS):
        for k, (fn, args) in enumerate(runs):
            t0 = time.perf_counter()
            fn(*args)  # type: ignore[operator]
            times[k].append(time.perf_counter() - t0)
    return [min(t) for t in times]


def fidelity(name: str, data: bytes) -> dict[str, object]:
    eprint = parse_eprint(data)
    source, _, _, _ = inline_source(extract(data), eprint.main_file, ArchiveLimits())
    body = source[source.find("\\begin{document}") :]
    commands = Counter(
        len(m.group(1)) // 3 + 1 for m in re.finditer(r"\\((?:sub)*)section\*?\s*[\[{]", body)
    )
    headings = Counter(
        el.level
        for el in eprint.document.elements
        if el.kind == "heading" and el.text not in ("Abstract", "References") and el.level
    )
    return {
        "tree": name,
        "section_commands_by_level": dict(sorted(commands.items())),
        "headings_by_level": {k: headings[k] for k in sorted(commands)},
        "equations": eprint.document.quality["equations"],
        "references": sum(1 for el in eprint.document.elements if el.kind == "reference"),
    }


def main() -> None:
    if not TREES.is_dir():
        sys.exit(f"the source trees are not at {TREES}; set SCICURATE_SHARED")
    trees = sorted(p for p in TREES.iterdir() if p.is_dir())
    archives = [pack(t) for t in trees]
    bare(archives)  # warm-up
    full(archives)
    bare_s, bounded_s, full_s = best(
        (bare, (archives,)), (bounded, (archives,)), (full, (archives,))
    )
    n = len(archives)
    print(
        json.dumps(
            {
                "bench": "arxiv-eprint-parse",
                "documents": n,
                "megabytes_packed": round(sum(map(len, archives)) / 1e6, 2),
                "bare_tarfile_docs_per_s": round(n / bare_s, 2),
                "bounded_extract_docs_per_s": round(n / bounded_s, 2),
                "parse_eprint_docs_per_s": round(n / full_s, 2),
                "ratio_vs_bare_tarfile": round(bare_s / full_s, 3),
            }
        )
    )
    for tree, data in zip(trees, archives, strict=True):
        print(json.dumps({"bench": "arxiv-eprint-structure", **fidelity(tree.name, data)}))


if __name__ == "__main__":
    main()
