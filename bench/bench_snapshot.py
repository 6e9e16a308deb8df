"""Kaggle snapshot import: rows/s and peak RSS against a raw DuckDB read_json in the same run.

Generates N realistic snapshot lines (the real sample's records, with fresh ids and shuffled
fields), then in separate child processes (so peak RSS is each one's own):
- baseline: `CREATE TABLE t AS SELECT * FROM read_json(file)` into a fresh DuckDB file;
- scicurate: `import_snapshot` into a freshly migrated warehouse;
- rerun: the same import again into that warehouse, where every line is unchanged.

Usage: python bench/bench_snapshot.py [N ...]   (default 1000000; pass `1000000 2000000` to
check that peak RSS stays flat as the input doubles). Needs ../shared for the sample records.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = Path(os.environ.get("SCICURATE_SHARED", REPO.parent / "shared")) / (
    "fixtures/kaggle_arxiv-metadata-oai-snapshot.sample.jsonl"
)


def generate(path: Path, n: int) -> None:
    records = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    rng = random.Random(42)
    with path.open("w") as out:
        for i in range(n):
            rec = dict(records[i % len(records)])
            yymm = 1000 + (i // 99999) % 1500
            rec["id"] = f"{yymm:04d}.{i % 99999 + 1:05d}"
            rec["title"] = rec["title"] + f" {rng.randrange(10**6)}"
            out.write(json.dumps(rec) + "\n")


def _child(kind: str, data: str, db: str) -> None:
    start = time.perf_counter()
    if kind == "raw":
        import duckdb

        con = duckdb.connect(db)
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{data}')").fetchall()
        rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
        con.close()
    else:
        from jobs.import_snapshot import import_snapshot
        from warehouse import Warehouse, migrate

        wh = Warehouse(Path(db))
        if kind == "ours":
            migrate(wh)
        result = import_snapshot(wh, Path(data)).papers
        rows = result.inserted if kind == "ours" else result.unchanged
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss_mb": peak_mb}))


def run(kind: str, data: Path, db: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(data), str(db)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(sizes: list[int]) -> None:
    if not SAMPLE.is_file():
        sys.exit(f"needs the Kaggle sample at {SAMPLE} (../shared)")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "snapshot.jsonl"
            generate(data, n)
            raw = run("raw", data, Path(tmp) / "raw.duckdb")
            ours = run("ours", data, Path(tmp) / "ours.duckdb")
            rerun = run("rerun", data, Path(tmp) / "ours.duckdb")
            print(
                json.dumps(
                    {
                        "bench": "arxiv_snapshot_import",
                        "lines": n,
                        "file_mb": round(data.stat().st_size / 2**20),
                        "baseline_read_json_rows_per_s": round(raw["rows"] / raw["seconds"]),
                        "import_rows_per_s": round(ours["rows"] / ours["seconds"]),
                        "ratio_vs_read_json": round(raw["seconds"] / ours["seconds"], 3),
                        "baseline_peak_rss_mb": round(raw["peak_rss_mb"]),
                        "import_peak_rss_mb": round(ours["peak_rss_mb"]),
                        "rerun_unchanged_rows_per_s": round(rerun["rows"] / rerun["seconds"]),
                        "rerun_peak_rss_mb": round(rerun["peak_rss_mb"]),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(*sys.argv[2:5])
    else:
        main([int(a) for a in sys.argv[1:]] or [1_000_000])
