"""Near-duplicate detection: docs/s on N synthetic 2 KB documents, with peak RSS.

Compares ``find_duplicates`` (exact pass, then MinHash built in bulk per batch + LSH) with the
naive datasketch loop (one ``MinHash.update`` per shingle) on the same documents, in the same
run. One document in ten is a lightly edited copy of another, so both have work to do.
Usage: python bench/bench_dedup.py [N]   (default 100000)
"""

from __future__ import annotations

import json
import random
import resource
import sys
import time

from warehouse.builders.dedup import find_duplicates, naive_duplicates

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
VOCAB = [f"w{i}" for i in range(20_000)]


def corpus(n: int) -> list[tuple[str, str]]:
    rng = random.Random(0)
    docs = []
    for i in range(n):
        if i % 10 == 9:
            words = docs[rng.randrange(len(docs))][1].split()
            for k in rng.sample(range(len(words)), 5):
                words[k] = rng.choice(VOCAB)
            docs.append((f"d{i}", " ".join(words)))
        else:
            docs.append((f"d{i}", " ".join(rng.choice(VOCAB) for _ in range(330))))  # ~2 KB
    return docs


def main() -> None:
    docs = corpus(N)
    t0 = time.perf_counter()
    ours = find_duplicates(docs)
    ours_s = time.perf_counter() - t0
    rss_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    naive = naive_duplicates(docs)
    naive_s = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "bench": "near_dedup",
                "documents": N,
                "avg_doc_bytes": round(sum(len(t) for _, t in docs) / N),
                "baseline_naive_docs_per_s": round(N / naive_s),
                "docs_per_s": round(N / ours_s),
                "ratio_vs_naive": round(naive_s / ours_s, 2),
                "duplicates_found": len(ours),
                "duplicates_found_naive": len(naive),
                "peak_rss_mb_after_ours": round(rss_ours),
            }
        )
    )


if __name__ == "__main__":
    main()
