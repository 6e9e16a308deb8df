"""``scicurate reviews structure --input FILE.jsonl --output OUT.jsonl``: structure reviews
from a file instead of the catalog.

Each input line is a JSON object with a ``content`` object (the review's fields); the output
line is that object, every key kept, plus ``aspects`` (the four aspect strings, or null) and,
for a review the method could not structure, ``structure_error``. The whole input is checked
first: any bad line stops the run with its line number before anything is written, so no
review is dropped silently. The output is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ScicurateError
from reviews.base import StructureError, Structurer

MAX_REPORTED = 10


class InputFileError(ScicurateError):
    """Lines of the input file are not review objects; the message names each one."""


@dataclass
class FileCounts:
    structured: int = 0
    empty: int = 0
    failed: int = 0


def read_input(path: Path) -> list[dict[str, Any]]:
    """Every line of ``path`` as a review object, or InputFileError naming the bad lines."""
    objects: list[dict[str, Any]] = []
    bad: list[str] = []
    with path.open(encoding="utf-8", errors="strict") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                bad.append(f"line {number}: not JSON ({exc})")
                continue
            if not isinstance(obj, dict):
                bad.append(f"line {number}: not a JSON object")
            elif not isinstance(obj.get("content"), dict):
                bad.append(f"line {number}: no 'content' object")
            else:
                objects.append(obj)
    if bad:
        more = f" (and {len(bad) - MAX_REPORTED} more)" if len(bad) > MAX_REPORTED else ""
        raise InputFileError(
            f"{len(bad)} bad line(s) in {path.name}, nothing written: "
            + "; ".join(bad[:MAX_REPORTED])
            + more
        )
    return objects


def structure_file(structurer: Structurer, input_path: Path, output_path: Path) -> FileCounts:
    counts = FileCounts()
    objects = read_input(input_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".structure-", dir=output_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for obj in objects:
                row = dict(obj)
                try:
                    aspects = structurer.structure(obj["content"])
                except StructureError as exc:
                    counts.failed += 1
                    row.update(aspects=None, structure_error=str(exc))
                else:
                    counts.structured += 1
                    counts.empty += aspects.is_empty()
                    row["aspects"] = aspects.as_dict()
                row["structure_method"] = structurer.method
                if structurer.prompt_version:
                    row["structure_version"] = structurer.prompt_version
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        Path(tmp).replace(output_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return counts
