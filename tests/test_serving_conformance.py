"""The same checks against every server erlen supports, each a real process
on loopback serving ``tests/serving_app.py``:

* ``granian``: ``erlen serve`` (granian's WSGI interface), 2 workers x 4 threads;
* ``gunicorn-sync``: ``erlen serve --server gunicorn``, 2 sync workers;
* ``gunicorn-gthread``: the same with ``--threads 4`` (gthread workers);
* ``werkzeug``: ``erlen run``, werkzeug's threaded development server.

Where a server does something other than the others (or than WSGI says),
``EXPECT`` below names it, and the test checks that the server does exactly
that; the README's "Serving in production" section lists the same
differences.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import json
import os
import re
import socket
import struct
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import serving_app
from serving_support import erlen_command
from serving_support import events
from serving_support import free_port
from serving_support import get
from serving_support import ServerProcess
from serving_support import wait_for

SERVERS = ("granian", "gunicorn-sync", "gunicorn-gthread", "werkzeug")

#: What each server does where they differ.
EXPECT: dict[str, dict[str, t.Any]] = {
    "granian": {
        # One connection carries many requests.
        "keep_alive": True,
        # wsgi.input_terminated is set on every request (granian hands the
        # app a body it has already de-chunked).
        "chunked_input_terminated": True,
        # SIGTERM: in-flight requests finish, new connections are refused.
        "graceful": True,
        # wsgi.multiprocess is False even with several worker processes,
        # and every environ carries a copy of the process environment.
        "multiprocess": False,
        "os_environ_copied": True,
    },
    "gunicorn-sync": {
        # The sync worker closes the connection after every response.
        "keep_alive": False,
        "chunked_input_terminated": True,
        "graceful": True,
        "multiprocess": True,
        "os_environ_copied": False,
    },
    "gunicorn-gthread": {
        "keep_alive": True,
        "chunked_input_terminated": True,
        "graceful": True,
        "multiprocess": True,
        "os_environ_copied": False,
    },
    "werkzeug": {
        # Keep-alive is off in werkzeug's development server (since 2.1):
        # every response says "Connection: close".
        "keep_alive": False,
        "chunked_input_terminated": True,
        # A development server: SIGTERM ends the process at once, and the
        # requests it was serving are cut off.
        "graceful": False,
        # One process (threaded).
        "multiprocess": False,
        "os_environ_copied": False,
    },
}


def server_args(name: str, port: int) -> list[str]:
    if name == "werkzeug":
        return erlen_command("run", "--port", str(port), "--no-reload", "--no-debugger")
    if name == "granian":
        extra = ["--threads", "4"]
    elif name == "gunicorn-sync":
        extra = ["--server", "gunicorn"]
    else:
        extra = ["--server", "gunicorn", "--threads", "4"]
    return erlen_command(
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
        "--graceful-timeout",
        "20",
        *extra,
    )


def needs(name: str) -> None:
    module = {"granian": "granian", "werkzeug": "werkzeug"}.get(name, "gunicorn")
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


@dataclass
class Running:
    name: str
    port: int
    record_dir: Path
    process: ServerProcess

    @property
    def expect(self) -> dict[str, t.Any]:
        return EXPECT[self.name]

    def events(self) -> list[str]:
        return events(self.record_dir)


def start(name: str, tmp: Path) -> ServerProcess:
    port = free_port()
    env = dict(os.environ, SERVING_RECORD_DIR=str(tmp), SERVING_INSTANCE=name)
    env.pop("ERLEN_DEBUG", None)
    env.pop("FLASK_DEBUG", None)
    return ServerProcess(server_args(name, port), port, tmp / "server.log", env=env)


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    name = request.param
    needs(name)
    tmp = tmp_path_factory.mktemp(name)
    with start(name, tmp) as process:
        yield Running(name, t.cast(int, process.port), tmp, process)
        stale = [line for line in events(tmp) if line.startswith("stale")]
        assert stale == [], "a context was left pushed on a worker"


# -- streamed responses -------------------------------------------------------


def test_stream_teardown_runs_once_after_the_body(server: Running) -> None:
    status, headers, body = get(server.port, "/stream?n=20&tag=whole")
    assert status == 200
    assert body.decode().splitlines() == [f"whole {i}" for i in range(20)]
    assert headers["X-Stale"] == "0"

    def teardowns() -> list[str]:
        return [e for e in server.events() if e.split()[1:2] == ["whole"]]

    wait_for(lambda: any(e.startswith("teardown") for e in teardowns()), 10)
    assert teardowns() == ["body-done whole sent=20", "teardown whole sent=20"]


def _disconnect_mid_stream(port: int, tag: str) -> bytes:
    """Ask for a long, slow stream, read its first chunk, then drop the
    connection with a reset (SO_LINGER 0)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.sendall(
            f"GET /stream?n=400&delay=0.02&tag={tag} HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\n\r\n".encode()
        )
        received = b""
        while f"{tag} 1\n".encode() not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()
    return received


def test_client_leaving_mid_stream(server: Running) -> None:
    received = _disconnect_mid_stream(server.port, "gone")
    assert b"gone 0\n" in received

    def teardown() -> list[str]:
        return [e for e in server.events() if e.startswith("teardown gone ")]

    # The stream would take 8 s in full; the server notices the reset at
    # its next write and closes the body, which runs the teardown.
    assert wait_for(teardown, 20), server.events()
    [line] = teardown()
    sent = int(line.rsplit("=", 1)[1])
    assert 1 <= sent < 400, line
    assert "body-done gone sent=400" not in server.events()
    # The worker serves on, with nothing left pushed.
    status, headers, _ = get(server.port, "/ping")
    assert status == 200 and headers["X-Stale"] == "0"


# -- bodies -------------------------------------------------------------------


def test_chunked_request_body(server: Running) -> None:
    parts = [os.urandom(size) for size in (1, 1000, 65536, 3, 200_000)]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(
            "POST",
            "/upload",
            body=iter(parts),
            encode_chunked=True,
            headers={"Content-Type": "application/octet-stream"},
        )
        response = conn.getresponse()
        data = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 200
    whole = b"".join(parts)
    assert data["chunked"] is True
    assert data["length"] == len(whole)
    assert data["sha256"] == hashlib.sha256(whole).hexdigest()
    assert data["input_terminated"] is server.expect["chunked_input_terminated"]


def test_upload_of_several_megabytes(server: Running) -> None:
    payload = os.urandom(5 * 1024 * 1024)
    status, _, body = get(
        server.port,
        "/upload",
        method="POST",
        body=payload,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert status == 200
    data = json.loads(body)
    assert data["length"] == len(payload)
    assert data["sha256"] == hashlib.sha256(payload).hexdigest()


def test_download_of_several_megabytes(server: Running) -> None:
    size = 6 * 1024 * 1024 + 5
    status, _, body = get(server.port, f"/download?size={size}")
    assert status == 200
    assert body == serving_app.pattern_bytes(size)


def _send_too_large(port: int, chunked: bool) -> tuple[int, bytes]:
    """Send a body over MAX_CONTENT_LENGTH; the server may answer (and close)
    before it has read it all, so sending errors are tolerated and the
    answer is read anyway."""
    size = serving_app.MAX_CONTENT_LENGTH + 1024 * 1024
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        framing = (
            "Transfer-Encoding: chunked\r\n"
            if chunked
            else f"Content-Length: {size}\r\n"
        )
        sock.sendall(
            f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n{framing}"
            "Content-Type: application/octet-stream\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        block = b"x" * 65536
        try:
            for _ in range(size // len(block)):
                if chunked:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
                else:
                    sock.sendall(block)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        received = b""
        try:
            while len(received) < 1_000_000:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except OSError:
            pass
    finally:
        sock.close()
    match = re.match(rb"HTTP/1\.[01] (\d{3})", received)
    assert match, received[:200]
    return int(match.group(1)), received


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_max_content_length_is_413(server: Running, chunked: bool) -> None:
    status, _ = _send_too_large(server.port, chunked)
    assert status == 413
    assert get(server.port, "/ping")[0] == 200


# -- send_file, Range, conditional requests, HEAD -----------------------------


def test_send_file_whole_and_ranges(server: Running) -> None:
    whole = serving_app.pattern_bytes(serving_app.FILE_SIZE)
    status, headers, body = get(server.port, "/file")
    assert status == 200 and body == whole
    assert headers["Accept-Ranges"] == "bytes"
    etag = headers["ETag"]
    modified = headers["Last-Modified"]

    status, headers, body = get(
        server.port, "/file", headers={"Range": "bytes=100-199"}
    )
    assert status == 206
    assert headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert body == whole[100:200]

    status, _, body = get(server.port, "/file", headers={"Range": "bytes=-10"})
    assert status == 206 and body == whole[-10:]

    status, headers, _ = get(
        server.port, "/file", headers={"Range": f"bytes={len(whole) + 10}-"}
    )
    assert status == 416

    status, _, body = get(server.port, "/file", headers={"If-None-Match": etag})
    assert status == 304 and body == b""
    status, _, body = get(server.port, "/file", headers={"If-Modified-Since": modified})
    assert status == 304 and body == b""
    # If-Range with the current ETag gives the range; a stale one, everything.
    status, _, body = get(
        server.port, "/file", headers={"Range": "bytes=0-9", "If-Range": etag}
    )
    assert status == 206 and body == whole[:10]
    status, _, body = get(
        server.port, "/file", headers={"Range": "bytes=0-9", "If-Range": '"stale"'}
    )
    assert status == 200 and len(body) == len(whole)


def test_head(server: Running) -> None:
    status, headers, body = get(server.port, "/file", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) == serving_app.FILE_SIZE
    status, headers, body = get(server.port, "/ping", method="HEAD")
    assert status == 200 and body == b""
    assert headers["Content-Length"] == "4"


# -- connections --------------------------------------------------------------


def test_keep_alive_many_requests_on_one_connection(server: Running) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    local_ports = set()
    try:
        for i in range(200):
            conn.request("GET", "/ping")
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"pong")
            if conn.sock is not None:
                local_ports.add(conn.sock.getsockname()[1])
            else:
                local_ports.add(f"closed-{i}")
    finally:
        conn.close()
    if server.expect["keep_alive"]:
        assert len(local_ports) == 1
    else:
        assert len(local_ports) == 200


def test_environ_flags(server: Running) -> None:
    _, _, body = get(server.port, "/env")
    data = json.loads(body)
    assert data["multithread"] is (server.name != "gunicorn-sync")
    assert data["multiprocess"] is server.expect["multiprocess"]
    assert data["os_environ_copied"] is server.expect["os_environ_copied"]


# -- errors -------------------------------------------------------------------


def test_view_that_raises(server: Running) -> None:
    status, _, body = get(server.port, "/boom?tag=conformance")
    assert status == 500
    assert b"Internal Server Error" in body
    log = server.process.log
    assert wait_for(lambda: "RuntimeError: boom-conformance" in log(), 10), log()[
        -2000:
    ]
    assert "Traceback (most recent call last)" in log()
    # The worker is still serving.
    for _ in range(10):
        assert get(server.port, "/ping")[0] == 200


# -- sessions under concurrency -----------------------------------------------


def test_concurrent_sessions_have_no_cross_talk(server: Running) -> None:
    """2 000 requests from 32 threads; each thread plays 4 clients whose
    session cookies it keeps apart. Every answer must see its own client's
    previous identity and count."""
    threads, clients_per_thread, rounds = 32, 4, 16  # 32 * 4 * 16 = 2048
    problems: list[str] = []
    lock = threading.Lock()

    def play(thread_no: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        cookies: dict[str, str] = {}
        served = 0
        try:
            for round_no in range(rounds):
                for c in range(clients_per_thread):
                    ident = f"t{thread_no}c{c}"
                    headers = (
                        {"Cookie": f"session={cookies[ident]}"}
                        if ident in cookies
                        else {}
                    )
                    try:
                        conn.request("GET", f"/session/{ident}", headers=headers)
                        response = conn.getresponse()
                        raw = response.read()
                    except (
                        http.client.RemoteDisconnected,
                        ConnectionResetError,
                        BrokenPipeError,
                    ):
                        conn.close()  # a kept-alive connection the server closed
                        conn.request("GET", f"/session/{ident}", headers=headers)
                        response = conn.getresponse()
                        raw = response.read()
                    served += 1
                    data = json.loads(raw)
                    expected_seen = ident if round_no else None
                    if (
                        response.status != 200
                        or data["ident"] != ident
                        or data["seen"] != expected_seen
                        or data["n"] != round_no + 1
                    ):
                        with lock:
                            problems.append(
                                f"{ident} round {round_no}: {response.status} {data}"
                            )
                    jar = SimpleCookie()
                    for value in response.headers.get_all("Set-Cookie") or ():
                        jar.load(value)
                    if "session" in jar:
                        cookies[ident] = jar["session"].value
        finally:
            conn.close()
        return served

    with ThreadPoolExecutor(threads) as pool:
        served = sum(pool.map(play, range(threads)))
    assert problems == []
    assert served == threads * clients_per_thread * rounds


# -- shutdown (its own server: the shared one must stay up) -------------------


@pytest.mark.parametrize("name", SERVERS)
def test_graceful_shutdown_with_requests_in_flight(name: str, tmp_path: Path) -> None:
    needs(name)
    with start(name, tmp_path) as process:
        port = t.cast(int, process.port)
        results: dict[int, t.Any] = {}

        def slow(i: int) -> None:
            try:
                results[i] = get(port, f"/slow?secs=2&tag=s{i}", timeout=30)[::2]
            except OSError as exc:
                results[i] = exc

        callers = [threading.Thread(target=slow, args=(i,)) for i in range(2)]
        for caller in callers:
            caller.start()
        # Both requests are being served before the signal.
        assert wait_for(
            lambda: sum(e.startswith("slow-start") for e in events(tmp_path)) == 2, 20
        ), process.log()
        process.terminate()

        def refused() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return True
            return False

        assert wait_for(refused, 10), "new connections still accepted"
        for caller in callers:
            caller.join(30)
        assert process.wait(40) is not None, "the server did not exit"
    if EXPECT[name]["graceful"]:
        assert results == {i: (200, f"slow done s{i}".encode()) for i in range(2)}
    else:
        assert all(isinstance(r, OSError) for r in results.values()), results
