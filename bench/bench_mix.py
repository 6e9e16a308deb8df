"""Mixing 2M + 200k + 5k rows into a 500k-row mixture, against a raw pyarrow concatenate-and-
take of the same numbers of rows from the same Parquet files, each in its own process.

The mixture (``warehouse.mixtures.mix``, proportional 0.6 / 0.3 / 0.1, so the 5k source is
up-sampled ten times) reads and verifies the sources, dedups across them, checks for paper
leakage, samples deterministically and publishes a checksummed version. The baseline reads the
files, takes the same counts of rows (random indices, with repeats for the small source),
concatenates and writes one zstd Parquet file. Prints one JSON line: rows/s and peak RSS of
each, and their ratio.

Usage: python bench/bench_mix.py [BIG] [MID] [SMALL] [TOTAL]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CHILD = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1].startswith("--child-") else None
ARGS = sys.argv[3:] if CHILD else sys.argv[1:]  # a child gets: --child-KIND ROOT [sizes]
SIZES = [int(a) for a in ARGS[:3]] if len(ARGS) >= 3 else [2_000_000, 200_000, 5_000]
TOTAL = int(ARGS[3]) if len(ARGS) > 3 else 500_000
WEIGHTS = [0.6, 0.3, 0.1]
NAMES = ["big", "mid", "small"]


def source(name: str, n: int) -> pa.Table:
    return pa.table(
        {
            "sample_id": [f"{name}-{i:08d}" for i in range(n)],
            "instruction": [f"Task {name}: write a title for this abstract."] * n,
            "input": [
                f"We study problem {i} of {name} and propose a method. " * 6 for i in range(n)
            ],
            "output": [f"A title for {name} paper {i}" for i in range(n)],
            "paper_id": [f"{name}-{i}" for i in range(n)],
        }
    )


def setup(root: Path) -> None:
    from warehouse import Warehouse, migrate
    from warehouse.datasets import BuilderInfo, DatasetCard, publish

    wh = Warehouse(root / "w.duckdb")
    migrate(wh)
    card = DatasetCard(
        description="bench", columns={"prompt": "instruction", "query": "input",
                                      "response": "output"},
    )  # fmt: skip
    for name, n in zip(NAMES, SIZES, strict=True):
        publish(wh, root / "ds", name, {"train": source(name, n)}, card, BuilderInfo(name, "1"))


def run_mix(root: Path) -> dict[str, float]:
    from warehouse import Warehouse
    from warehouse.mixtures import MixSource, MixSpec, mix

    spec = MixSpec(
        "bench-mix",
        tuple(MixSource(n, weight=w) for n, w in zip(NAMES, WEIGHTS, strict=True)),
        total=TOTAL,
    )
    t0 = time.perf_counter()
    result = mix(Warehouse(root / "w.duckdb"), root / "ds", spec)
    seconds = time.perf_counter() - t0
    assert result.publish.rows["train"] == TOTAL, result.publish.rows
    return {"seconds": seconds}


def run_raw(root: Path) -> dict[str, float]:
    import numpy as np

    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    parts = []
    for name, w in zip(NAMES, WEIGHTS, strict=True):
        files = sorted((root / "ds" / name / "v1" / "data").rglob("*.parquet"))
        table = pa.concat_tables([pq.read_table(f) for f in files])
        k = round(TOTAL * w)
        idx = rng.choice(table.num_rows, size=k, replace=k > table.num_rows)
        parts.append(table.take(pa.array(idx)))
    out = pa.concat_tables(parts)
    pq.write_table(out, root / "raw.parquet", compression="zstd")
    seconds = time.perf_counter() - t0
    assert out.num_rows == TOTAL
    return {"seconds": seconds}


def child(kind: str, root: Path) -> None:
    result = run_mix(root) if kind == "mix" else run_raw(root)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    if CHILD == "--child-setup":
        setup(Path(sys.argv[2]))
        return
    if CHILD in ("--child-mix", "--child-raw"):
        child(CHILD.removeprefix("--child-"), Path(sys.argv[2]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # Each step in its own process: a child inherits its parent's peak RSS across exec.
        subprocess.run([sys.executable, __file__, "--child-setup", str(root), *ARGS],
                       check=True)  # fmt: skip
        results = {}
        for kind in ("raw", "mix"):
            done = subprocess.run(
                [sys.executable, __file__, f"--child-{kind}", str(root), *ARGS],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
    raw, mixed = results["raw"], results["mix"]
    print(
        json.dumps(
            {
                "bench": "mix",
                "sources": dict(zip(NAMES, SIZES, strict=True)),
                "mixture_rows": TOTAL,
                "raw_rows_per_s": round(TOTAL / raw["seconds"]),
                "mix_rows_per_s": round(TOTAL / mixed["seconds"]),
                "ratio": round(raw["seconds"] / mixed["seconds"], 3),
                "raw_peak_rss_mb": round(raw["peak_rss_mb"]),
                "mix_peak_rss_mb": round(mixed["peak_rss_mb"]),
            }
        )
    )


if __name__ == "__main__":
    main()
