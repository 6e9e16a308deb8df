"""``scicurate reviews train``: train the review-aspect model on the catalog's structured
reviews, store it under the home as the current model, and record data, parameters and
held-out metrics in ``runs``."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from jobs.lineage import recorded_run
from reviews.learned import fit
from reviews.model import ReviewModel, TrainParams
from warehouse.db import Warehouse
from warehouse.reviews import structured_review_records


def data_digest(records: list[dict[str, Any]]) -> str:
    """A sha256 over the records trained on (forum, note and content), in order."""
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps([r.get("forum"), r.get("note"), r.get("content")],
                            sort_keys=True).encode())  # fmt: skip
    return h.hexdigest()


def store_model(model: ReviewModel, models_dir: Path) -> Path:
    """Save ``model`` as ``models_dir/<version>`` and make it the current one."""
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".train-", dir=models_dir))
    version = model.save(tmp)
    folder = models_dir / version
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)
    current = models_dir / ".CURRENT.tmp"
    current.write_text(version + "\n")
    current.replace(models_dir / "CURRENT")
    return folder


def train_review_model(
    wh: Warehouse, models_dir: Path, *, params: TrainParams, max_reviews: int | None = None
) -> ReviewModel:
    """Train, store and record one review model; returns it (its version is ``.version``)."""
    with recorded_run(
        wh, "train-review-model", {**params.__dict__, "max_reviews": max_reviews,
                                   "source": "catalog"}
    ) as run:  # fmt: skip
        records = structured_review_records(wh)
        model, metrics = fit(records, params, max_train=max_reviews)
        store_model(model, models_dir)
        run.update(
            model_version=model.version, data_sha256=data_digest(records),
            reviews=int(model.meta["reviews"]), units=int(model.meta["units"]),
            heldout_reviews=int(model.meta["heldout_reviews"]),
            metrics={k: v for k, v in metrics.items() if k != "confusion"},
        )  # fmt: skip
    return model
