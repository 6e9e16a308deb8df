"""The teardown helper for server processes: a bounded grace, then a kill of the group."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.prefect_helpers import stop_process_group

IGNORES_SIGTERM = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "child = subprocess.Popen([sys.executable, '-c', "
    "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(600)\n"
)


def test_a_process_that_ignores_sigterm_is_killed_with_its_children() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.PIPE, start_new_session=True
    )
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    started = time.monotonic()
    code = stop_process_group(proc, grace_s=0.5)
    assert code == -9 and time.monotonic() - started < 15
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the grandchild went with the group
        try:
            with open(f"/proc/{child}/stat") as fh:
                if fh.read().split()[2] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the child outlived its group")


def test_a_process_that_exits_on_sigterm_is_not_killed() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                            start_new_session=True)  # fmt: skip
    time.sleep(0.3)
    assert stop_process_group(proc, grace_s=10) == -15
