"""Stopping a local Label Studio's process group: nothing it started outlives ``stop``, also
when its leader has exited already or ignores SIGTERM (plain processes, no server needed)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from annotation.server import stop_group

# The leader starts a child that ignores SIGTERM, prints its pid, and exits at once.
LEADER_LEAVES_A_CHILD = (
    "import subprocess, sys\n"
    "child = subprocess.Popen([sys.executable, '-c', "
    "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'])\n"
    "print(child.pid, flush=True)\n"
)
LEADER_IGNORES_SIGTERM = (
    "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print(0, flush=True)\ntime.sleep(600)\n"
)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def _start(code: str) -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def test_a_child_outliving_its_leader_is_killed() -> None:
    proc, child = _start(LEADER_LEAVES_A_CHILD)
    proc.wait(30)  # the leader is gone; its child is still in the group
    assert not _gone(child)
    started = time.monotonic()
    stop_group(proc, grace_s=0.5)
    deadline = time.monotonic() + 10
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(child) and time.monotonic() - started < 15


def test_a_leader_that_ignores_sigterm_is_killed_and_reaped() -> None:
    proc, _ = _start(LEADER_IGNORES_SIGTERM)
    stop_group(proc, grace_s=0.5)
    assert proc.returncode == -9
    assert _gone(proc.pid)
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError("the group is still there")
