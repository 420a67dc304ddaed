"""``erlen serve``: how its options map to granian and gunicorn, its errors,
and real ``erlen serve`` processes on loopback, end to end."""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from serving_support import erlen_command
from serving_support import free_port
from serving_support import get
from serving_support import REPO
from serving_support import ServerProcess
from serving_support import SERVING_APP
from serving_support import wait_for

from erlen import serving
from erlen.cli import cli
from erlen.serving import ServeError
from erlen.serving import ServeOptions

needs_granian = pytest.mark.skipif(
    importlib.util.find_spec("granian") is None, reason="granian is not installed"
)


# -- the option mapping ---------------------------------------------------------


@needs_granian
def test_granian_defaults() -> None:
    from granian.constants import Interfaces

    settings = serving.granian_settings(ServeOptions(workers=3))
    assert settings["interface"] == Interfaces.WSGI
    assert settings["workers"] == 3
    assert settings["blocking_threads"] == 1
    assert settings["backlog"] == 1024
    assert settings["address"] == "127.0.0.1" and settings["port"] == 8000
    assert "uds" not in settings
    assert settings["http1_settings"].keep_alive is True
    assert settings["respawn_failed_workers"] is True
    assert settings["workers_kill_timeout"] == 30
    assert settings["log_access"] is True
    assert settings["log_access_format"] == serving.GRANIAN_ACCESS_FORMAT
    assert "workers_lifetime" not in settings and "workers_max_rss" not in settings


@needs_granian
def test_granian_mapping() -> None:
    opts = ServeOptions(
        uds="/tmp/x.sock",
        workers=2,
        threads=8,
        backlog=256,
        keep_alive=0,
        header_timeout=2.5,
        max_lifetime=600,
        max_rss=512,
        respawn=False,
        graceful_timeout=7.2,
        access_log=False,
    )
    settings = serving.granian_settings(opts)
    assert settings["uds"] == Path("/tmp/x.sock") and "port" not in settings
    assert settings["blocking_threads"] == 8
    assert settings["backlog"] == 256
    assert settings["http1_settings"].keep_alive is False
    assert settings["http1_settings"].header_read_timeout == 2500
    assert settings["workers_lifetime"] == 600
    assert settings["workers_max_rss"] == 512
    assert settings["respawn_failed_workers"] is False
    assert settings["workers_kill_timeout"] == 7
    assert settings["log_access"] is False


@needs_granian
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timeout": 30}, "granian has no equivalent of --timeout"),
        ({"keep_alive": 5}, "granian has no equivalent of --keep-alive SECONDS"),
        ({"max_requests": 1000}, "recycles workers by age (--max-lifetime)"),
        ({"max_requests_jitter": 10}, "granian has no equivalent of --max-requests"),
        ({"backlog": 64}, "its smallest backlog is 128"),
        ({"max_lifetime": 30}, "60 seconds at the earliest"),
        ({"header_timeout": 90}, "--header-timeout must be in (0, 60]"),
    ],
)
def test_granian_refuses_what_it_cannot_do(change: dict, message: str) -> None:
    with pytest.raises(ServeError) as info:
        serving.granian_settings(ServeOptions(**change))
    assert message in info.value.format_message()
    assert "\n" not in info.value.format_message()


def test_gunicorn_defaults() -> None:
    settings = serving.gunicorn_settings(ServeOptions(workers=3))
    assert settings["bind"] == ["127.0.0.1:8000"]
    assert settings["workers"] == 3
    assert settings["worker_class"] == "sync" and settings["threads"] == 1
    assert settings["backlog"] == 1024
    assert settings["graceful_timeout"] == 30
    assert settings["accesslog"] == "-"
    assert settings["access_log_format"] == serving.GUNICORN_ACCESS_FORMAT
    assert settings["forwarded_allow_ips"] == ""
    for unset in ("keepalive", "timeout", "max_requests", "max_requests_jitter"):
        assert unset not in settings


def test_gunicorn_mapping() -> None:
    opts = ServeOptions(
        host="::1",
        port=9000,
        threads=4,
        keep_alive=2.5,
        timeout=60,
        max_requests=500,
        max_requests_jitter=50,
        graceful_timeout=4.5,
        access_log=False,
    )
    settings = serving.gunicorn_settings(opts)
    assert settings["bind"] == ["[::1]:9000"]
    assert settings["worker_class"] == "gthread" and settings["threads"] == 4
    assert settings["keepalive"] == 3
    assert settings["timeout"] == 60
    assert settings["max_requests"] == 500
    assert settings["max_requests_jitter"] == 50
    assert settings["graceful_timeout"] == 5
    assert settings["accesslog"] is None
    assert serving.gunicorn_settings(ServeOptions(uds="/tmp/g.sock"))["bind"] == [
        "unix:/tmp/g.sock"
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"max_rss": 100}, "gunicorn has no equivalent of --max-lifetime/--max-rss"),
        ({"max_lifetime": 600}, "gunicorn has no equivalent of --max-lifetime"),
        ({"header_timeout": 5}, "gunicorn has no equivalent of --header-timeout"),
        ({"respawn": False}, "always replaces dead workers"),
    ],
)
def test_gunicorn_refuses_what_it_cannot_do(change: dict, message: str) -> None:
    with pytest.raises(ServeError) as info:
        serving.gunicorn_settings(ServeOptions(**change))
    assert message in info.value.format_message()


def test_gunicorn_accepts_its_settings() -> None:
    """Every setting erlen passes is one gunicorn knows, with a valid value."""
    from gunicorn.config import Config

    config = Config()
    opts = ServeOptions(threads=4, keep_alive=2, timeout=10, max_requests=9)
    for key, value in serving.gunicorn_settings(opts).items():
        config.set(key, value)
    assert config.worker_class_str == "gthread"
    assert config.keepalive == 2 and config.max_requests == 9


def test_default_workers_is_the_cpu_count() -> None:
    expected = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    )
    assert serving.default_workers() == (expected or os.cpu_count() or 1)
    assert ServeOptions().workers == serving.default_workers()


def test_app_spec_round_trip() -> None:
    spec = serving.AppSpec("pkg.mod:create_app('x')", "/srv", True, 2)
    assert serving.AppSpec.loads(spec.dumps()) == spec


def test_load_wsgi_finds_the_app_and_applies_proxy_fix() -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from erlen import Flask

    spec = serving.AppSpec(str(SERVING_APP), os.getcwd(), False, 0)
    assert isinstance(serving.load_wsgi(spec.dumps()), Flask)
    spec.proxy_hops = 2
    wrapped = serving.load_wsgi(spec.dumps())
    assert isinstance(wrapped, ProxyFix)
    assert (wrapped.x_for, wrapped.x_proto, wrapped.x_host) == (2, 2, 2)
    assert (wrapped.x_port, wrapped.x_prefix) == (2, 2)
    assert isinstance(wrapped.app, Flask)


# -- the command's errors -----------------------------------------------------------


def test_unknown_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["--app", str(SERVING_APP), "serve", "--bogus"])
    assert result.exit_code == 2
    assert "No such option '--bogus'" in result.output


def test_missing_extra_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "granian" else real(name, *a),
    )
    result = CliRunner().invoke(cli, ["--app", str(SERVING_APP), "serve"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == ["Error: granian is not installed: pip install 'erlen[serve]'"]


def test_missing_gunicorn_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "gunicorn" else real(name, *a),
    )
    result = CliRunner().invoke(
        cli, ["--app", str(SERVING_APP), "serve", "--server", "gunicorn"]
    )
    assert result.exit_code == 1
    assert "pip install gunicorn" in result.output
    assert "pip install 'erlen[serve]'" in result.output


@needs_granian
def test_refused_option_fails_before_loading_the_app() -> None:
    """A refused option is reported even when no app could be found."""
    result = CliRunner().invoke(
        cli, ["--app", "no_such_module_here", "serve", "--timeout", "5"]
    )
    assert result.exit_code == 1
    assert "granian has no equivalent of --timeout" in result.output


@needs_granian
def test_missing_app_is_reported() -> None:
    result = CliRunner().invoke(cli, ["--app", "no_such_module_here", "serve"])
    assert result.exit_code == 2
    assert "Could not import 'no_such_module_here'" in result.output


def test_serve_is_listed_with_its_options() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--server", "--uds", "--workers", "--threads", "--proxy-headers"):
        assert option in result.output


# -- real processes -----------------------------------------------------------------


SERVERS = [pytest.param("granian", marks=needs_granian), "gunicorn"]

ACCESS_LINE = {
    # granian logs the peer's address, before ProxyFix:
    # 127.0.0.1 - - [2026-12-02 15:46:43 +0000] "GET /env HTTP/1.1" 200 -
    "granian": r'127\.0\.0\.1 - - \[[^]]+\] "GET /env HTTP/1\.1" 200 -',
    # gunicorn logs after the app ran, so the address ProxyFix set:
    # 203.0.113.9 - - [02/Dec/2026:15:47:03 +0000] "GET /env HTTP/1.1" 200 108
    "gunicorn": r'203\.0\.113\.9 - - \[[^]]+\] "GET /env HTTP/1\.1" 200 \d+',
}


@pytest.mark.parametrize("server", SERVERS)
def test_serve_end_to_end(server: str, tmp_path: Path) -> None:
    port = free_port()
    args = erlen_command(
        "serve",
        "--server",
        server,
        "--port",
        str(port),
        "--workers",
        "2",
        "--proxy-headers",
        "1",
    )
    env = dict(os.environ, SERVING_RECORD_DIR=str(tmp_path))
    with ServerProcess(args, port, tmp_path / "server.log", env=env) as proc:
        status, headers, body = get(port, "/ping")
        assert (status, body) == (200, b"pong")
        status, _, body = get(
            port,
            "/env",
            headers={
                "X-Forwarded-For": "203.0.113.9",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "example.test",
            },
        )
        data = json.loads(body)
        # One trusted proxy: its forwarded values are taken.
        assert data["remote_addr"] == "203.0.113.9"
        assert data["scheme"] == "https"
        assert data["host"] == "example.test"
        assert wait_for(lambda: re.search(ACCESS_LINE[server], proc.log()), 10), (
            proc.log()
        )
        proc.terminate()
        assert proc.wait(40) == 0, proc.log()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


@pytest.mark.parametrize("server", SERVERS)
def test_without_proxy_headers_forwarded_values_are_ignored(
    server: str, tmp_path: Path
) -> None:
    port = free_port()
    args = erlen_command(
        "serve",
        "--server",
        server,
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
    )
    with ServerProcess(args, port, tmp_path / "server.log") as proc:
        _, _, body = get(
            port,
            "/env",
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        )
        data = json.loads(body)
        assert data["remote_addr"] == "127.0.0.1"
        assert data["scheme"] == "http"
        assert '"GET /env' not in proc.log()


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.path)


@pytest.mark.parametrize("server", SERVERS)
def test_serve_on_a_unix_socket(server: str, tmp_path: Path) -> None:
    path = tmp_path / "erlen.sock"
    args = erlen_command(
        "serve", "--server", server, "--uds", str(path), "--workers", "1"
    )
    with ServerProcess(args, None, tmp_path / "server.log") as proc:
        wait_for(lambda: path.exists() or proc.proc.poll() is not None, 60)
        assert path.exists(), proc.log()

        def answer() -> bytes | None:
            conn = UnixConnection(str(path))
            try:
                conn.request("GET", "/ping")
                return conn.getresponse().read()
            except OSError:
                return None
            finally:
                conn.close()

        assert wait_for(answer, 60) == b"pong", proc.log()


@pytest.mark.parametrize("server", SERVERS)
def test_a_killed_worker_is_replaced(server: str, tmp_path: Path) -> None:
    port = free_port()
    args = erlen_command(
        "serve", "--server", server, "--port", str(port), "--workers", "1"
    )
    with ServerProcess(args, port, tmp_path / "server.log") as proc:
        _, headers, _ = get(port, "/ping")
        first = int(headers["X-Pid"])
        assert first != proc.proc.pid  # a worker, not the main process
        os.kill(first, signal.SIGKILL)

        def new_worker() -> int | None:
            try:
                _, headers, _ = get(port, "/ping", timeout=5)
            except OSError:
                return None
            pid = int(headers["X-Pid"])
            return pid if pid != first else None

        assert wait_for(new_worker, 60, step=0.2), proc.log()
        assert proc.proc.poll() is None


@needs_granian
def test_as_flask_serves_an_unmodified_flask_app(tmp_path: Path) -> None:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "erlen",
        "--as-flask",
        "--app",
        str(Path(__file__).parent / "serving_flask_app.py"),
        "serve",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with ServerProcess(args, port, tmp_path / "server.log"):
        _, _, body = get(port, "/which")
    assert json.loads(body) == {"flask_module": "erlen", "app_class": "erlen.app"}


@needs_granian
def test_the_notes_example_serves(tmp_path: Path) -> None:
    env = dict(os.environ, NOTES_INSTANCE_PATH=str(tmp_path / "instance"))
    notes = REPO / "examples" / "notes"
    subprocess.run(
        erlen_command("init-db", app=notes),
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    args = erlen_command("serve", "--port", str(port), "--workers", "2", app=notes)
    with ServerProcess(args, port, tmp_path / "server.log", env=env, ready_path="/"):
        status, _, body = get(port, "/")
        assert status == 200
        assert b"Notes board" in body
        status, _, body = get(port, "/api/notes")
        assert status == 200
        assert isinstance(json.loads(body), (list, dict))


def test_gunicorn_recycles_a_worker_after_max_requests(tmp_path: Path) -> None:
    port = free_port()
    args = erlen_command(
        "serve",
        "--server",
        "gunicorn",
        "--port",
        str(port),
        "--workers",
        "1",
        "--max-requests",
        "5",
        "--no-access-log",
    )
    with ServerProcess(args, port, tmp_path / "server.log") as proc:
        pids = []
        for _ in range(40):
            try:
                _, headers, _ = get(port, "/ping", timeout=10)
            except OSError:
                continue  # the moment between the old worker and the new
            pids.append(int(headers["X-Pid"]))
            if len(set(pids)) >= 3:
                break
        # Every 5 requests (the readiness probe among them), a new worker.
        assert len(set(pids)) >= 3, (pids, proc.log()[-2000:])
        assert max(pids.count(pid) for pid in set(pids)) <= 5


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
@pytest.mark.parametrize("server", SERVERS)
def test_serve_on_the_ipv6_loopback(server: str, tmp_path: Path) -> None:
    port = free_port("::1")
    args = erlen_command(
        "serve",
        "--server",
        server,
        "--host",
        "::1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
    )
    with ServerProcess(args, None, tmp_path / "server.log") as proc:

        def answer() -> bytes | None:
            try:
                return get(port, "/ping", host="::1", timeout=5)[2]
            except OSError:
                return None if proc.proc.poll() is None else b"exited"

        assert wait_for(answer, 60, step=0.1) == b"pong", proc.log()


def test_a_group_factory_without_an_import_path_is_refused() -> None:
    from erlen import Flask
    from erlen.cli import FlaskGroup

    group = FlaskGroup(create_app=lambda: Flask("made-by-the-group"))
    result = CliRunner().invoke(group, ["serve"])
    assert result.exit_code == 1
    assert "give --app (or ERLEN_APP)" in result.output
