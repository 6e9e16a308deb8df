"""Read the Kaggle ``arxiv-metadata-oai-snapshot.json`` (JSON lines) as batches of lines.

The file (about 4.5 GB, 2.2M lines) is read in batches of whole lines, each an Arrow table of
``(line_no, line, bad_utf8)`` built without copying, with the next batch read in a thread
while the caller stores this one. Parsing, validation and mapping onto the canonical record
happen in the loader (``warehouse.snapshot``), in DuckDB. Memory is bounded by two batches,
whatever the file's size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

DEFAULT_BATCH_BYTES = 64 * 1024 * 1024  # about 45,000 snapshot lines
_NEWLINE = 10

LineBatch = tuple[pa.Table, int]  # (lines, bytes read so far)
_Batch = LineBatch


def _batches(path: Path, batch_bytes: int) -> Iterator[_Batch]:
    """(Arrow table of (line_no, line, bad_utf8), bytes read so far), batch by batch.

    Lines are found with a vectorised newline scan and handed to Arrow without copying: each
    line keeps its terminator, which JSON treats as trailing whitespace. A batch that is not
    valid UTF-8 (rare) is decoded line by line to find the offending lines, which are then
    rejected with their numbers.
    """
    line_no = 1
    with path.open("rb") as handle:
        while True:
            data = handle.read(batch_bytes)
            if not data:
                return
            if not data.endswith(b"\n"):
                data += handle.readline()  # finish the last line of the batch
            if not data.endswith(b"\n"):
                data += b"\n"  # the file's last line had no terminator
            table = _arrow_batch(line_no, data)
            yield table, handle.tell()
            line_no += table.num_rows


def _arrow_batch(first: int, data: bytes) -> pa.Table:
    """``data`` (whole lines, each ending in a newline) as a table of lines, without copying."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == _NEWLINE) + 1
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    lines = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        lines.validate(full=True)  # checks UTF-8
    except pa.ArrowInvalid:
        return _arrow_batch_slow(first, data)
    all_good = pa.py_buffer(np.zeros((len(lines) + 7) // 8, np.uint8))
    return _table(first, lines, pa.Array.from_buffers(pa.bool_(), len(lines), [None, all_good]))


def _arrow_batch_slow(first: int, data: bytes) -> pa.Table:
    lines, bad = [], []
    for raw in data[:-1].split(b"\n"):
        raw += b"\n"
        try:
            lines.append(raw.decode("utf-8"))
            bad.append(False)
        except UnicodeDecodeError:
            lines.append(raw.decode("utf-8", errors="replace"))
            bad.append(True)
    return _table(first, pa.array(lines, pa.large_string()), pa.array(bad, pa.bool_()))


def _table(first: int, lines: pa.Array, bad: pa.Array, chunk: int = 8192) -> pa.Table:
    """Lines as an Arrow table in several record batches, so DuckDB scans them in parallel."""
    # Built from buffers: pa.array() on a NumPy array would import pandas (over a second).
    numbers = np.arange(first, first + len(lines), dtype=np.int64)
    numbers = pa.Array.from_buffers(pa.int64(), len(lines), [None, pa.py_buffer(numbers)])
    batches = [
        pa.RecordBatch.from_arrays(
            [numbers.slice(i, chunk), lines.slice(i, chunk), bad.slice(i, chunk)],
            names=["line_no", "line", "bad_utf8"],
        )
        for i in range(0, len(lines), chunk)
    ]
    return pa.Table.from_batches(batches)


def _prefetched(batches: Iterator[_Batch]) -> Generator[_Batch, None, None]:
    """Read the next batch in a thread while DuckDB (which releases the GIL) stores this one.

    At most one batch waits in the queue, so memory stays bounded by two batches.
    """
    slot: queue.Queue[_Batch | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(item: _Batch | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                slot.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in batches:
                if not offer(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer and re-raised there
            offer(exc)
            return
        offer(None)

    reader = threading.Thread(target=produce, name="snapshot-reader", daemon=True)
    reader.start()
    try:
        while (item := slot.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # the consumer failed or stopped early: let the reader finish
        reader.join()


def line_batches(
    path: Path, batch_bytes: int = DEFAULT_BATCH_BYTES
) -> Generator[LineBatch, None, None]:
    """The file's lines in batches (see the module docstring), the next one read ahead."""
    return _prefetched(_batches(path, batch_bytes))
