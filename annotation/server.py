"""Start and stop a local Label Studio (1.23.2, from its own venv) for the demo and the tests.

Label Studio cannot share an environment with Prefect (conflicting pins), so ``make
labelstudio`` installs it into ``.venv-labelstudio``; this helper runs that executable on a
free loopback port with a fresh data directory and a generated API token, waits for
``/health``, and checks the port it really took (Label Studio silently moves to the next port
when its port is busy).

The server runs in a process group (a session) of its own, so a Ctrl-C or a timeout that
signals the caller's group does not reach it: it must be stopped by ``stop``, which signals
its whole group, waits, kills what is left and reaps it. ``start`` stops it again when it
fails or is interrupted half-way, and a started server is also stopped when the interpreter
exits (an uncaught error in a script that never called ``stop``).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from annotation.errors import LabelStudioUnavailableError

# Variables that change Label Studio's behaviour if they leak in from the environment.
_STRAY = ("USERNAME", "PASSWORD", "PORT", "HOST", "DJANGO_SETTINGS_MODULE", "LABEL_STUDIO_HOST")


CREDENTIALS = "scicurate-credentials.json"


def save_credentials(server: LabelStudioServer) -> Path:
    """Keep a local server's login and key (0600) so a restart, and the commands, reuse them."""
    path = server.data_dir / CREDENTIALS
    path.write_text(
        json.dumps(
            {
                "url": server.url,
                "username": server.username,
                "password": server.password,
                "api_key": server.api_key,
            }
        )
    )
    path.chmod(0o600)
    return path


def load_credentials(data_dir: Path) -> dict[str, str] | None:
    path = data_dir / CREDENTIALS
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return {k: str(v) for k, v in data.items()}


def local_server(data_dir: Path, port: int = 0) -> LabelStudioServer:
    """A server for ``data_dir``, with the login and key it had before (if it ran before)."""
    server = LabelStudioServer(data_dir=data_dir, port=port)
    saved = load_credentials(data_dir)
    if saved:
        server.username = saved["username"]
        server.password = saved["password"]
        server.api_key = saved["api_key"]
        if not port and saved.get("url"):
            server.port = int(saved["url"].rsplit(":", 1)[1])
            if not port_free(server.port):
                server.port = 0
    return server


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def find_executable(explicit: Path | None = None) -> Path:
    """``explicit``, else ``SCICURATE_LABEL_STUDIO_BIN``, else ``.venv-labelstudio`` here or in
    a parent directory, else ``label-studio`` on PATH."""
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(explicit)
    if env := os.environ.get("SCICURATE_LABEL_STUDIO_BIN"):
        candidates.append(Path(env))
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        candidates.append(folder / ".venv-labelstudio" / "bin" / "label-studio")
    if on_path := shutil.which("label-studio"):
        candidates.append(Path(on_path))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise LabelStudioUnavailableError(
        "the Label Studio server is not installed: run `make labelstudio` (it installs "
        "label-studio 1.23.2 into .venv-labelstudio) or set SCICURATE_LABEL_STUDIO_BIN"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal: it is there
        return True
    return True


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    """Stop a child started with ``start_new_session=True`` and everything in its group:
    SIGTERM, up to ``grace_s`` for the leader and the group to go, then SIGKILL, and reap."""
    pgid = proc.pid  # a session leader's pid is its group id
    with contextlib.suppress(ProcessLookupError):  # gone already: the leader may need reaping
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        # the leader is reaped as soon as it exits (else, a zombie, it keeps the group alive)
        if proc.poll() is not None and not _group_alive(pgid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):  # stuck in the kernel: no more to do
        proc.wait(10)


@dataclass
class LabelStudioServer:
    """One Label Studio process. Use as a context manager, or call ``start``/``stop``."""

    data_dir: Path
    port: int = 0  # 0: pick a free one
    username: str = "admin@scicurate.local"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    api_key: str = field(default_factory=lambda: secrets.token_hex(20))  # 40 characters
    executable: Path | None = None
    startup_timeout_s: float = 180.0
    log_path: Path | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LabelStudioServer:
        exe = find_executable(self.executable)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in _STRAY}
        env.update(
            {
                "LABEL_STUDIO_USERNAME": self.username,
                "LABEL_STUDIO_PASSWORD": self.password,
                "LABEL_STUDIO_USER_TOKEN": self.api_key,
                "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
                "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
                "LATEST_VERSION_CHECK": "false",
                "COLLECT_ANALYTICS": "false",
                "SENTRY_DSN": "",
                "FRONTEND_SENTRY_DSN": "",
                "SSRF_PROTECTION_ENABLED": "false",
            }
        )
        log_path = self.log_path or self.data_dir / "label-studio.log"
        log = log_path.open("ab")
        self._proc = subprocess.Popen(
            [
                str(exe),
                "start",
                "--no-browser",
                "--internal-host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        atexit.register(self.stop)
        try:
            self._wait_healthy(log_path)
        except BaseException:  # a failed or interrupted start leaves no server behind
            self.stop()
            raise
        return self

    def _wait_healthy(self, log_path: Path) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-800:]
                self.stop()  # whatever it started is stopped too
                raise LabelStudioUnavailableError(
                    f"Label Studio exited with code {self._proc.returncode} while starting: {tail}"
                )
            try:
                resp = requests.get(f"{self.url}/health", timeout=2)
                if resp.ok and resp.json().get("status") == "UP":
                    self._check_ours()
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.5)
        self.stop()
        raise LabelStudioUnavailableError(
            f"Label Studio did not become healthy on port {self.port} within "
            f"{self.startup_timeout_s:.0f}s (see {log_path})"
        )

    def _check_ours(self) -> None:
        """The port answers with *our* token: not another Label Studio that held the port."""
        resp = requests.get(
            f"{self.url}/api/current-user/whoami",
            headers={"Authorization": f"Token {self.api_key}"},
            timeout=5,
        )
        if resp.status_code != 200 or resp.json().get("email") != self.username:
            self.stop()
            raise LabelStudioUnavailableError(
                f"port {self.port} is served by another Label Studio (the new one moved on)"
            )

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM the server's whole process group, wait up to ``grace_s`` for it to exit,
        then SIGKILL what is left of the group (also when the leader has exited already:
        anything it started would otherwise outlive it) and reap the leader."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        stop_group(proc, grace_s)

    def __enter__(self) -> LabelStudioServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
