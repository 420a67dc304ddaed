"""Starting and stopping real servers for tests/test_serving*.py.

Every server is a subprocess started by the test (or fixture) that needs it,
on a loopback port, with its output in a log file; :class:`ServerProcess`
stops it (SIGTERM, then SIGKILL after a bound) when the ``with`` ends. Every
wait is bounded.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SERVING_APP = HERE / "serving_app.py"
START_LIMIT = 60.0


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def erlen_command(*args: str, app: str | Path = SERVING_APP) -> list[str]:
    """``python -m erlen --app APP ARGS...``."""
    return [sys.executable, "-m", "erlen", "--app", str(app), *args]


def get(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: t.Any = None,
    timeout: float = 30,
    host: str = "127.0.0.1",
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a new connection: status, headers, body."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


class ServerProcess:
    """A server subprocess for the duration of a ``with`` block.

    ``ready_path`` is requested until it answers 200 (bounded by
    START_LIMIT); the process is then the caller's until the block ends,
    when it gets SIGTERM (and SIGKILL if it has not exited after
    ``stop_limit`` seconds).
    """

    def __init__(
        self,
        args: list[str],
        port: int | None,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | str = REPO,
        ready_path: str | None = "/ping",
        stop_limit: float = 30.0,
    ) -> None:
        self.args = args
        self.port = port
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.ready_path = ready_path
        self.stop_limit = stop_limit
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.args,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
                start_new_session=True,
            )
        try:
            if self.ready_path is not None and self.port is not None:
                self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_ready(self) -> None:
        assert self.proc is not None and self.port is not None
        deadline = time.monotonic() + START_LIMIT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode}:\n{self.log()[-3000:]}"
                )
            try:
                status, _, _ = get(self.port, self.ready_path or "/", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"no answer on port {self.port} in {START_LIMIT} s:\n"
                    f"{self.log()[-3000:]}"
                )
            time.sleep(0.1)

    def terminate(self) -> None:
        """SIGTERM to the server's main process only."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(self.stop_limit)
            except subprocess.TimeoutExpired:
                pass
        # Workers left behind by a main process that died are in its
        # process group (start_new_session): take them down too.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc.poll() is None:
            proc.wait(10)


def wait_for(
    predicate: t.Callable[[], t.Any], limit: float, step: float = 0.05
) -> t.Any:
    """Poll ``predicate`` until it returns something true or ``limit``
    seconds pass; return its last value."""
    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def events(record_dir: Path) -> list[str]:
    try:
        return (record_dir / "events.log").read_text().splitlines()
    except FileNotFoundError:
        return []
