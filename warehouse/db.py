"""Opening the warehouse: short connections, lock-conflict retries, clear errors.

DuckDB lets one process hold a database file open for writing at a time, and the lock is held
for as long as a connection is open. So the warehouse never keeps a connection: every read or
write opens one, does its work in one transaction and closes it. A process that finds the file
locked retries with jittered exponential backoff until ``lock_timeout`` runs out.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from warehouse.errors import CorruptDatabaseError, LockTimeoutError, WarehouseError

MEMORY = ":memory:"
DEFAULT_MEMORY_LIMIT = "1GB"

_LOCK_MARKERS = ("Could not set lock on file", "Conflicting lock is held")
_CORRUPT_MARKERS = (
    "not a valid DuckDB database file",
    "database file is corrupt",
    "Corrupt database file",
    "older version of DuckDB",
    "newer version of DuckDB",
    "storage version",
)


def is_lock_conflict(exc: BaseException) -> bool:
    """True when ``exc`` says another process holds the database file."""
    return isinstance(exc, duckdb.Error) and any(m in str(exc) for m in _LOCK_MARKERS)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for lock conflicts: first delay, cap, and total budget, all in seconds."""

    first_delay: float = 0.02
    max_delay: float = 1.0
    timeout: float = 60.0


@dataclass(frozen=True)
class WarehouseSpec:
    """What it takes to open a ``Warehouse``: small, picklable, and complete, so the lock
    timeout and memory limit survive every hop (a Prefect task, a Dask worker, a child
    process)."""

    path: str
    lock_timeout_s: float = 60.0
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT

    def open(self) -> Warehouse:
        return Warehouse(
            self.path,
            retry=RetryPolicy(timeout=self.lock_timeout_s),
            memory_limit=self.memory_limit,
        )


class Warehouse:
    """A handle on one DuckDB catalog file (or an in-memory database for tests).

    The handle is cheap and holds no open file: ``read()`` and ``write()`` open a connection
    for the duration of a ``with`` block. For ``:memory:`` one connection is kept, since the
    data would otherwise vanish with it.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        retry: RetryPolicy | None = None,
        memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        self.path = path if str(path) == MEMORY else Path(path)
        self.retry = retry or RetryPolicy()
        # DuckDB caches up to 80% of RAM by default; a bound keeps imports' memory flat (it
        # spills to disk beyond it). Every handle on one file must use the same value.
        self.memory_limit = memory_limit
        self._memory: duckdb.DuckDBPyConnection | None = None
        self._memory_lock = threading.RLock()
        self.lock_waits = 0  # how often this handle found the file locked and backed off
        # The connection of a HeldWriter on this handle, while it is open: DuckDB refuses a
        # read-only connection to a file that this process holds open for writing, so read()
        # takes a cursor (a connection of its own, safe in another thread) of this one instead.
        self._held: duckdb.DuckDBPyConnection | None = None

    @property
    def spec(self) -> WarehouseSpec:
        """The handle's settings, to reopen it elsewhere (``spec.open()``)."""
        return WarehouseSpec(str(self.path), self.retry.timeout, self.memory_limit)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its spec: a file-backed handle crosses processes with its settings
        (the retry policy's delays are the defaults there); an in-memory one cannot."""
        if self.in_memory:
            raise TypeError("an in-memory warehouse cannot leave its process")
        return (_open_spec, (self.spec,))

    @property
    def in_memory(self) -> bool:
        return str(self.path) == MEMORY

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"

    def _open(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        """Open a connection, retrying while another process holds the lock."""
        assert isinstance(self.path, Path)
        if read_only and not self.path.exists():
            from warehouse.errors import NotMigratedError

            raise NotMigratedError(
                f"no warehouse at {self.path}; run `scicurate warehouse migrate` first"
            )
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        delay = self.retry.first_delay
        deadline = time.monotonic() + self.retry.timeout
        while True:
            try:
                config: dict[str, str | bool | int | float | list[str]] = (
                    {"memory_limit": self.memory_limit} if self.memory_limit else {}
                )
                return duckdb.connect(str(self.path), read_only=read_only, config=config)
            except duckdb.Error as exc:
                if is_lock_conflict(exc):
                    if time.monotonic() >= deadline:
                        raise LockTimeoutError(
                            f"{self.path} stayed locked by another process for "
                            f"{self.retry.timeout:.0f}s; is a long-running writer still active?"
                        ) from None
                    self.lock_waits += 1
                    time.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter, not crypto
                    delay = min(delay * 2, self.retry.max_delay)
                    continue
                if any(m in str(exc) for m in _CORRUPT_MARKERS):
                    raise CorruptDatabaseError(
                        f"{self.path} is not a DuckDB database this build can open "
                        f"({_first_line(exc)}); move it aside or restore it from a backup — "
                        "scicurate never resets a catalog it cannot read"
                    ) from None
                raise WarehouseError(f"cannot open {self.path}: {_first_line(exc)}") from None

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to read with for the duration of the block (read-only, or a cursor of
        the open connection of a held writer on this handle)."""
        if self.in_memory:
            with self._memory_lock:
                yield self._memory_connection()
            return
        con = self._held.cursor() if self._held is not None else self._open(read_only=True)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def read_own(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection of its own, never a cursor of a held writer: settings made on
        it (such as a sandbox) cannot reach another connection of this process."""
        if self.in_memory:
            raise WarehouseError("an in-memory warehouse has no connection of its own to read with")
        con = self._open(read_only=True)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One short write transaction: committed when the block exits, rolled back on error."""
        if self.in_memory:
            with self._memory_lock:
                con = self._memory_connection()
                con.begin()
                try:
                    yield con
                except BaseException:
                    con.rollback()
                    raise
                con.commit()
            return
        con = self._open(read_only=False)  # beside a held writer too: same settings
        try:
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()
        finally:
            con.close()

    @contextmanager
    def writer(self, *, hold_s: float = 10.0) -> Iterator[HeldWriter]:
        """Many consecutive write transactions on one connection, for bulk jobs.

        Opening and closing a connection per transaction costs a checkpoint each time; a
        ``HeldWriter`` keeps its connection and lets it go every ``hold_s`` seconds (after a
        commit), so other processes still get their turn at the file during a long import.
        """
        held = HeldWriter(self, hold_s)
        try:
            yield held
        finally:
            held.release()

    def _memory_connection(self) -> duckdb.DuckDBPyConnection:
        if self._memory is None:
            self._memory = duckdb.connect(MEMORY)
        return self._memory

    def close(self) -> None:
        """Release the in-memory database, if any. File-backed handles hold nothing."""
        if self._memory is not None:
            self._memory.close()
            self._memory = None


class HeldWriter:
    """Write transactions on a connection that is reused until ``hold_s`` have passed."""

    def __init__(self, wh: Warehouse, hold_s: float) -> None:
        self._wh = wh
        self._hold_s = hold_s
        self._con: duckdb.DuckDBPyConnection | None = None
        self._since = 0.0

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction: committed when the block exits, rolled back on error."""
        if self._wh.in_memory:
            with self._wh.write() as con:
                yield con
            return
        if self._con is None:
            self._con = self._wh._open(read_only=False)
            self._wh._held = self._con
            self._since = time.monotonic()
        con = self._con
        con.begin()
        try:
            yield con
        except BaseException:
            try:
                con.rollback()
            finally:
                self.release()
            raise
        con.commit()
        if time.monotonic() - self._since >= self._hold_s:
            self.release()

    def release(self) -> None:
        """Close the connection (other processes may then open the file)."""
        if self._con is not None:
            con, self._con = self._con, None
            self._wh._held = None
            con.close()


def _open_spec(spec: WarehouseSpec) -> Warehouse:
    return spec.open()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def fetch_one(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, with the result fully consumed.

    DuckDB 2 keeps a partly fetched result open on the connection and refuses some later
    calls (``unregister``, ``close``) until it is consumed, so ``fetchone()`` is avoided.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def fetch_int(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    """A single integer (a count, a version); 0 when the query returns nothing or NULL."""
    row = fetch_one(con, sql, params)
    return int(row[0]) if row and row[0] is not None else 0
