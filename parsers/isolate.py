"""Run untrusted work (opening or parsing a PDF) in a child process with hard limits.

A worker process gets an address-space limit (RLIMIT_AS); the parent enforces a wall-clock
limit per call and kills the worker when a call runs over. A crash, a timeout or a limit hit
comes back as ``IsolationError`` with a one-line reason, nothing the child did half-way reaches
the caller, and the next call gets a fresh worker. Workers are forked from a fork server that
has PyMuPDF loaded already, and a healthy worker serves many calls, so isolation costs
milliseconds per document rather than a process start and an import.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from core.errors import ScicurateError

T = TypeVar("T")

_CTX = mp.get_context("forkserver")
_CTX.set_forkserver_preload(["parsers.isolate", "pymupdf", "parsers.arxiv_html", "parsers.eprint"])


class IsolationError(ScicurateError):
    """The isolated call failed: it raised, crashed, ran out of time or hit a limit."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Limits:
    wall_s: float = 120.0
    memory_mb: int = 2048  # 0: no address-space limit (CUDA maps far more than it uses)


def _serve(conn: Connection, memory_mb: int) -> None:
    """Worker loop: run each (fn, args) received and send back (ok, result-or-reason)."""
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            fn, args = conn.recv()
        except EOFError:
            return
        try:
            reply: tuple[bool, Any] = (True, fn(*args))
        except MemoryError:
            reply = (False, f"memory limit of {memory_mb} MB exceeded")
        except Exception as exc:  # noqa: BLE001 - every failure is reported to the parent
            where = traceback.extract_tb(exc.__traceback__)[-1:]
            origin = f" (in {where[0].name})" if where else ""
            reply = (False, f"{type(exc).__name__}: {exc}{origin}"[:500])
        try:
            conn.send(reply)
        except MemoryError:
            conn.send((False, f"memory limit of {memory_mb} MB exceeded (sending the result)"))


class IsolatedWorker:
    """A reusable child process for isolated calls. Not thread-safe: one call at a time."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._proc: Any = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        if self._conn is None or self._proc is None or not self._proc.is_alive():
            self.close()
            parent, child = _CTX.Pipe(duplex=True)
            proc = _CTX.Process(target=_serve, args=(child, self.limits.memory_mb), daemon=True)
            try:
                proc.start()
            except AssertionError as exc:  # e.g. "daemonic processes are not allowed to have
                parent.close()  # children": a Dask worker started as a daemon
                child.close()
                raise IsolationError(
                    f"cannot start the isolated parser process: {exc}; on Dask, set "
                    "distributed.worker.daemon to False"
                ) from None
            self._proc = proc
            child.close()
            self._conn = parent
        return self._conn

    def call(self, fn: Callable[..., T], *args: Any, wall_s: float | None = None) -> T:
        """``fn(*args)`` in the worker. ``fn`` must be a module-level (importable) function."""
        conn = self._start()
        timeout = self.limits.wall_s if wall_s is None else wall_s
        try:
            conn.send((fn, args))
            if not conn.poll(timeout):
                self.close(kill=True)
                raise IsolationError(f"timed out after {timeout:g}s")
            ok, payload = conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = self._proc.exitcode if self._proc is not None else None
            if self._proc is not None:
                self._proc.join(5)
                code = self._proc.exitcode
            self.close(kill=True)
            raise IsolationError(
                f"child process died (exit code {code})"
                + (", likely at the memory limit" if code in (-9, 137) else "")
            ) from None
        if not ok:
            self.close(kill=True)  # never reuse a worker whose last call went wrong
            raise IsolationError(str(payload))
        result: T = payload
        return result

    def close(self, *, kill: bool = False) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            if kill and self._proc.is_alive():
                self._proc.kill()
            self._proc.join(5)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join()
            self._proc = None

    def __enter__(self) -> IsolatedWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_isolated(fn: Callable[..., T], *args: Any, limits: Limits | None = None) -> T:
    """One call in a fresh worker, which is then shut down."""
    with IsolatedWorker(limits) as worker:
        return worker.call(fn, *args)
