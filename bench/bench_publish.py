"""Publishing 1M SFT rows against a raw `pyarrow.parquet.write_table` of the same table.

Both write zstd Parquet in the same process. Publishing adds sorting by sample_id, the content
hash, sha256 of every file, the card, the manifest, fsyncs and the atomic rename.
Target: ratio >= 0.8.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse import Warehouse, migrate
from warehouse.datasets import BuilderInfo, DatasetCard, publish

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000


def table(n: int) -> pa.Table:
    ids = [f"{(i * 2654435761) % 2**32:010d}-{i}" for i in range(n)]  # unsorted, unique
    return pa.table(
        {
            "sample_id": ids,
            "instruction": ["Generate a good paper title for this abstract."] * n,
            "input": [
                f"We study problem {i} and propose a method with results. " * 8 for i in range(n)
            ],
            "output": [f"A title for paper {i}" for i in range(n)],
            "paper_id": [f"24{i % 12 + 1:02d}.{i:05d}" for i in range(n)],
        }
    )


def main() -> None:
    data = table(N)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        pq.write_table(data, Path(tmp) / "raw.parquet", compression="zstd", row_group_size=100_000)
        raw_s = time.perf_counter() - t0
        wh = Warehouse(Path(tmp) / "w.duckdb")
        migrate(wh)
        card = DatasetCard(description="bench", columns={"prompt": "instruction"})
        t0 = time.perf_counter()
        result = publish(
            wh, Path(tmp) / "ds", "bench", {"train": data}, card, BuilderInfo("b", "1")
        )
        pub_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = publish(wh, Path(tmp) / "ds", "bench", {"train": data}, card, BuilderInfo("b", "1"))
        noop_s = time.perf_counter() - t0
    assert result.created and not again.created
    print(
        json.dumps(
            {
                "bench": "dataset_publish",
                "rows": N,
                "baseline_write_table_rows_per_s": round(N / raw_s),
                "publish_rows_per_s": round(N / pub_s),
                "ratio_vs_write_table": round(raw_s / pub_s, 3),
                "unchanged_republish_s": round(noop_s, 2),
                "target_ratio": 0.8,
            }
        )
    )


if __name__ == "__main__":
    main()
