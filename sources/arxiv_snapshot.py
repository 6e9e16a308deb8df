"""Read the Kaggle ``arxiv-metadata-oai-snapshot.json`` (JSON lines) as batches of lines.

The file (about 4.5 GB, 2.2M lines) is read in batches of whole lines, each an Arrow table of
``(line_no, line, problem)`` built without copying, with the next batch read in a thread
while the caller stores this one. Parsing, validation and mapping onto the canonical record
happen in the loader (``warehouse.snapshot``), in DuckDB. Memory is bounded by two batches,
whatever the file's size:

- a line longer than ``MAX_LINE_BYTES`` is never held whole: it is skipped in small blocks and
  stands in its batch as an empty line whose ``problem`` gives its number of bytes;
- a line that is not valid UTF-8 keeps its number, with the byte offset as its ``problem``;
- a file that is not JSON lines at all (a JSON array, pretty-printed JSON, gzip or another
  compressed or binary format) is refused as a whole, before any line is read, with
  ``SnapshotFormatError`` naming the format.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from sources.errors import SnapshotFormatError

DEFAULT_BATCH_BYTES = 64 * 1024 * 1024  # about 45,000 snapshot lines
# The real snapshot's longest lines are well under 1 MB; feedback files use the same limit.
MAX_LINE_BYTES = 10 * 1024 * 1024
_SKIP_BLOCK = 1024 * 1024  # an over-long line is read past in blocks of this size
_NEWLINE = 10
_SNIFF_BYTES = 4096

LineBatch = tuple[pa.Table, int]  # (lines, bytes read so far)
_Batch = LineBatch

# Leading bytes of formats that are not JSON lines, and what to do about each.
_DECOMPRESS = "decompress it first"
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "gzip-compressed", f"{_DECOMPRESS} (gunzip -k FILE)"),
    (b"BZh", "bzip2-compressed", f"{_DECOMPRESS} (bunzip2 -k FILE)"),
    (b"\xfd7zXZ\x00", "xz-compressed", f"{_DECOMPRESS} (unxz -k FILE)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", f"{_DECOMPRESS} (unzstd FILE)"),
    (b"\x04\x22\x4d\x18", "lz4-compressed", f"{_DECOMPRESS} (unlz4 FILE)"),
    (b"PK\x03\x04", "a zip archive", "extract the .json file from it (unzip FILE)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract the .json file from it"),
    (b"PAR1", "a Parquet file", "import the JSON-lines snapshot instead"),
    (b"%PDF-", "a PDF", "import the JSON-lines snapshot instead"),
    (b"\xff\xfe", "UTF-16 text", "convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"),
    (b"\xfe\xff", "UTF-16 text", "convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"),
)
_TAR_MAGIC = (257, b"ustar")
_JSON_WS = b" \t\r\n"


def snapshot_format_problem(head: bytes) -> str | None:
    """Why a file starting with ``head`` is not JSON lines at all (its format and what to do),
    or None when it may be."""
    for magic, what, todo in _MAGIC:
        if head.startswith(magic):
            return f"{what}; {todo}"
    offset, magic = _TAR_MAGIC
    if head[offset : offset + len(magic)] == magic:
        return "a tar archive; extract the .json file from it (tar -xf FILE)"
    if b"\x00" in head:
        return "binary data (NUL bytes), not text"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(_JSON_WS)
    if text.startswith(b"["):
        return "a JSON array; convert it to one object per line first (jq -c '.[]' FILE)"
    first_line = text.split(b"\n", 1)[0].strip(_JSON_WS)
    if first_line == b"{" and b"\n" in text:
        return "pretty-printed JSON (one object over many lines); write one object per line"
    return None


def check_format(path: Path) -> None:
    """Raise ``SnapshotFormatError`` when ``path`` is plainly not a JSON-lines file."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    problem = snapshot_format_problem(head)
    if problem is not None:
        raise SnapshotFormatError(
            f"{path.name} is {problem}; the arXiv snapshot is JSON lines (one object per line)"
        )


def _skip_line(handle: BinaryIO) -> int:
    """Read past the rest of the current line in small blocks; the bytes skipped (without
    the newline). Leaves ``handle`` at the start of the next line (or at the end)."""
    skipped = 0
    while block := handle.read(_SKIP_BLOCK):
        newline = block.find(b"\n")
        if newline >= 0:
            handle.seek(newline + 1 - len(block), 1)
            return skipped + newline
        skipped += len(block)
    return skipped


def _batches(path: Path, batch_bytes: int, max_line: int = MAX_LINE_BYTES) -> Iterator[_Batch]:
    """(Arrow table of (line_no, line, problem), bytes read so far), batch by batch.

    Lines are found with a vectorised newline scan and handed to Arrow without copying: each
    line keeps its terminator, which JSON treats as trailing whitespace. The line that runs
    past the end of a read is finished with a bounded ``readline``; one longer than
    ``max_line`` is skipped instead and kept as an empty line with its size.
    """
    line_no = 1
    with path.open("rb") as handle:
        while True:
            data = handle.read(batch_bytes)
            if not data:
                return
            long_last: int | None = None  # bytes of an over-long last line, skipped
            if not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1  # where the unfinished last line starts
                have = len(data) - cut
                allowed = max_line + 1 - have  # one byte more than may still come
                rest = handle.readline(allowed) if allowed > 0 else b""
                if rest.endswith(b"\n"):
                    data += rest
                elif allowed > 0 and len(rest) < allowed:
                    data += rest + b"\n"  # the file's last line had no terminator
                else:
                    long_last = have + len(rest) + _skip_line(handle)
                    data = data[:cut] + b"\n"
            table = _arrow_batch(line_no, data, max_line, long_last)
            yield table, handle.tell()
            line_no += table.num_rows


def _too_long(size: int, max_line: int) -> str:
    return f"line is {size:,} bytes, over the limit of {max_line:,}"


def _arrow_batch(
    first: int, data: bytes, max_line: int = MAX_LINE_BYTES, long_last: int | None = None
) -> pa.Table:
    """``data`` (whole lines, each ending in a newline) as a table of lines, without copying.

    A line over ``max_line`` bytes is replaced by an empty line (a copy of the batch, which
    only such a batch pays for), and ``long_last`` is the size of a last line already cut.
    """
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == _NEWLINE) + 1
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    problems: dict[int, str] = {}
    long = np.flatnonzero(np.diff(offsets) - 1 > max_line)
    if len(long):
        for i in long.tolist():
            problems[i] = _too_long(int(offsets[i + 1] - offsets[i] - 1), max_line)
        data = _blank_lines(data, offsets, long.tolist())
        ends = np.flatnonzero(np.frombuffer(data, np.uint8) == _NEWLINE) + 1
        offsets = np.concatenate(([0], ends)).astype(np.int64)
    if long_last is not None:
        problems[len(ends) - 1] = _too_long(long_last, max_line)
    lines = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        lines.validate(full=True)  # checks UTF-8
    except pa.ArrowInvalid:
        return _arrow_batch_slow(first, data, problems)
    if not problems:
        return _table(first, lines, pa.nulls(len(lines), pa.string()))
    column = [problems.get(i) for i in range(len(lines))]
    return _table(first, lines, pa.array(column, pa.string()))


def _blank_lines(data: bytes, offsets: np.ndarray[Any, Any], blank: list[int]) -> bytes:
    """``data`` with the lines numbered ``blank`` (0-based) emptied to a bare newline."""
    pieces, kept_from = [], 0
    for i in blank:
        pieces.append(data[kept_from : int(offsets[i])])
        pieces.append(b"\n")
        kept_from = int(offsets[i + 1])
    pieces.append(data[kept_from:])
    return b"".join(pieces)


def _arrow_batch_slow(first: int, data: bytes, problems: dict[int, str]) -> pa.Table:
    lines: list[str] = []
    column: list[str | None] = []
    for i, raw in enumerate(data[:-1].split(b"\n")):
        raw += b"\n"
        try:
            lines.append(raw.decode("utf-8"))
            column.append(problems.get(i))
        except UnicodeDecodeError as exc:
            lines.append(raw.decode("utf-8", errors="replace"))
            column.append(problems.get(i, f"invalid UTF-8 at byte {exc.start} of the line"))
    return _table(first, pa.array(lines, pa.large_string()), pa.array(column, pa.string()))


def _table(first: int, lines: pa.Array, problem: pa.Array, chunk: int = 8192) -> pa.Table:
    """Lines as an Arrow table in several record batches, so DuckDB scans them in parallel."""
    # Built from buffers: pa.array() on a NumPy array would import pandas (over a second).
    numbers = np.arange(first, first + len(lines), dtype=np.int64)
    numbers = pa.Array.from_buffers(pa.int64(), len(lines), [None, pa.py_buffer(numbers)])
    batches = [
        pa.RecordBatch.from_arrays(
            [numbers.slice(i, chunk), lines.slice(i, chunk), problem.slice(i, chunk)],
            names=["line_no", "line", "problem"],
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
    path: Path, batch_bytes: int = DEFAULT_BATCH_BYTES, max_line_bytes: int = MAX_LINE_BYTES
) -> Generator[LineBatch, None, None]:
    """The file's lines in batches (see the module docstring), the next one read ahead.

    Raises ``SnapshotFormatError`` at once (before any batch) for a file that is plainly not
    JSON lines."""
    check_format(path)
    return _prefetched(_batches(path, batch_bytes, max_line_bytes))
