"""Train the review model that ships in ``reviews/default_model`` from a JSON-lines file of
structured reviews (``make review-model`` runs it on the shared ICLR 2023/2024 reviews).

    python -m reviews.train_default REVIEWS.jsonl.gz [--max-reviews N] [--seed S]

The same file, seed and limit give the same model, version and metrics.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reviews.corpus import read_reviews
from reviews.learned import fit
from reviews.model import TrainParams
from reviews.shipped import DEFAULT_MODEL_DIR


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reviews", type=Path)
    parser.add_argument("--max-reviews", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args(argv)
    model, metrics = fit(
        list(read_reviews(args.reviews)), TrainParams(seed=args.seed), max_train=args.max_reviews
    )
    model.meta["data"] = {"file": args.reviews.name, "max_reviews": args.max_reviews}
    version = model.save(args.out)
    print(json.dumps({"version": version, **{k: v for k, v in metrics.items()
                                              if k != "confusion"}}))  # fmt: skip


if __name__ == "__main__":
    main()
