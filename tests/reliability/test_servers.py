"""Isolation under real load: real servers on loopback ports, thousands of
concurrent requests, zero cross-talk.

Every request carries its own identity four times: in its path
(``/echo/<ident>``), its query (``?q=<ident>``), its JSON body and its signed
session cookie. The view (``apps.create_echo_app``) stores the identity in
``g`` and the session, yields (sleeps, or awaits in the async view), reads it
back and returns it; after_request copies ``g`` into a header and the session
cookie is written again. A response matches its request when every copy is
the request's own identity, the new session cookie holds it too, and no
context was found pushed on the worker when the request arrived.

Server variants, each for the sync and the async view:

* ``werkzeug``: werkzeug's threaded server in this process (the core as
  imported here, normally the compiled one);
* ``werkzeug-python``: the same in a subprocess under ``ERLEN_NO_EXTENSIONS=1``;
* ``gunicorn-gthread``: ``gunicorn -k gthread --threads 8 -w 2``;
* ``gevent``: gevent's pywsgi server in a subprocess after
  ``gevent.monkey.patch_all()`` (never in the test process);
* ``gunicorn-gevent``: gunicorn's gevent worker, which patches itself.

32 client threads send the requests with http.client (keep-alive where the
server offers it). 2 000 requests per variant in CI; see conftest.py for
``ERLEN_RELIABILITY_SCALE``. Each run stops by itself when its requests are
sent or at its time limit (a hung server), whichever comes first; the number
served is printed in the terminal summary.
"""

from __future__ import annotations

import http.client
import importlib.util
import itertools
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from http.cookies import SimpleCookie

import pytest

import erlen.local

from . import apps
from .conftest import APPS
from .conftest import compiled_available
from .conftest import scale
from .conftest import subprocess_env

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_THREADS = 32
#: Seconds a variant may take before its loop stops sending (a hang guard,
#: far above what a sound run needs).
RUN_LIMIT = float(os.environ.get("ERLEN_RELIABILITY_RUN_LIMIT", "0")) or None
START_LIMIT = 60.0
#: A run gives up after this many transport errors (a dead server).
MAX_ERRORS = 50
COOKIE_NAME = "session"

pytestmark = pytest.mark.slow


# -- the load driver -------------------------------------------------------------


@dataclass
class Outcome:
    planned: int
    served: int = 0
    retries: int = 0
    #: Answers with another request's identity (cross-talk) or a context
    #: left pushed on the worker.
    mismatches: list[str] = field(default_factory=list)
    #: Answers that are not 200 at all.
    bad_status: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pids: set[int] = field(default_factory=set)
    compiled: set[bool] = field(default_factory=set)
    timed_out: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def _check(
    ident: str, route: str, headers: t.Any, raw: bytes, outcome: Outcome
) -> list[str]:
    """What is wrong with this 200 response to the request ``ident`` (empty
    when it matches)."""
    problems = []
    data = json.loads(raw)
    expected_source = {"aecho": "async", "echo": "sync"}.get(route, route)
    for key in ("path", "query", "body", "cookie", "g", "g_before", "session_written"):
        if data.get(key) != ident:
            problems.append(f"{key}={data.get(key)!r}")
    if data.get("request_path") != f"/{route}/{ident}":
        problems.append(f"request_path={data.get('request_path')!r}")
    if data.get("source") != expected_source:
        problems.append(f"source={data.get('source')!r}")
    if data.get("stale") is not None:
        problems.append(f"stale context on the worker: {data['stale']}")
    header = headers.get("X-Ident")
    if header != ident:
        problems.append(f"X-Ident={header!r}")
    cookie = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or ():
        cookie.load(value)
    if COOKIE_NAME not in cookie:
        problems.append("no session cookie set")
    else:
        stored = apps.read_session_cookie(cookie[COOKIE_NAME].value, SIGNER)
        if stored != {"ident": ident, "echo": ident}:
            problems.append(f"session cookie={stored!r}")
    with outcome.lock:
        outcome.pids.add(data.get("pid"))
        outcome.compiled.add(data.get("compiled"))
    return problems


SIGNER = erlen.Flask("erlen_reliability_signer")
SIGNER.config.update(SECRET_KEY=apps.SECRET_KEY)

_TRANSIENT = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
    http.client.BadStatusLine,
)


def hammer(port: int, route: str, label: str, total: int) -> Outcome:
    """Send ``total`` requests to ``/route/<ident>`` from CLIENT_THREADS
    threads and check every response. Stops when all are sent, at the time
    limit, or after MAX_ERRORS transport errors."""
    outcome = Outcome(planned=total)
    indexes = itertools.count()
    index_lock = threading.Lock()
    limit = RUN_LIMIT or 120 + total / 20
    deadline = time.monotonic() + limit
    stop = threading.Event()
    run_tag = secrets.token_hex(3)

    def next_index() -> int | None:
        if stop.is_set():
            return None
        if time.monotonic() > deadline:
            outcome.timed_out = True
            stop.set()
            return None
        with index_lock:
            n = next(indexes)
        return n if n < total else None

    def send(conn: http.client.HTTPConnection, ident: str) -> tuple[int, t.Any, bytes]:
        cookie = apps.session_cookie({"ident": ident}, SIGNER)
        conn.request(
            "POST",
            f"/{route}/{ident}?q={ident}",
            body=json.dumps({"ident": ident}),
            headers={
                "Content-Type": "application/json",
                "Cookie": f"{COOKIE_NAME}={cookie}",
            },
        )
        response = conn.getresponse()
        return response.status, response.headers, response.read()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while (n := next_index()) is not None:
                ident = f"{label}-{run_tag}-{n}-{secrets.token_hex(4)}"
                try:
                    try:
                        status, headers, raw = send(conn, ident)
                    except _TRANSIENT:
                        # A kept-alive connection the server had just closed:
                        # send once more on a new one.
                        conn.close()
                        with outcome.lock:
                            outcome.retries += 1
                        status, headers, raw = send(conn, ident)
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    with outcome.lock:
                        outcome.errors.append(f"{ident}: {exc!r}")
                        if len(outcome.errors) >= MAX_ERRORS:
                            stop.set()
                    continue
                with outcome.lock:
                    outcome.served += 1
                if status != 200:
                    with outcome.lock:
                        outcome.bad_status.append(f"{ident}: {status} {raw[:200]!r}")
                    continue
                problems = _check(ident, route, headers, raw, outcome)
                if problems:
                    with outcome.lock:
                        outcome.mismatches.append(f"{ident}: {'; '.join(problems)}")
        finally:
            conn.close()

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        futures = [pool.submit(worker) for _ in range(CLIENT_THREADS)]
        for future in futures:
            future.result()
    return outcome


# -- servers ---------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    compiled: bool


def _wait_ready(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + START_LIMIT
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/ping")
                if conn.getresponse().status == 200:
                    return
            finally:
                conn.close()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no answer on port {port} in {START_LIMIT}s")
        time.sleep(0.1)


def _start_subprocess(
    args: list[str], env: dict[str, str], logs: t.Any, pattern: str
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server subprocess whose output goes to files in ``logs`` and
    wait until it names its port (``pattern``) and answers /ping. The
    caller must stop the process (see _stop)."""
    out_path = logs / "stdout.log"
    err_path = logs / "stderr.log"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=HERE)
    try:
        deadline = time.monotonic() + START_LIMIT
        port = None
        while port is None:
            text = out_path.read_text(errors="replace") + err_path.read_text(
                errors="replace"
            )
            match = re.search(pattern, text)
            if match:
                port = int(match.group(1))
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {text[-3000:]}")
            time.sleep(0.05)
        _wait_ready(port, proc)
    except BaseException:
        _stop(proc)
        raise
    return proc, port


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


SERVERS = [
    "werkzeug",
    "werkzeug-python",
    "gunicorn-gthread",
    "gevent",
    "gunicorn-gevent",
]


@pytest.fixture(scope="module", params=SERVERS)
def server(request, tmp_path_factory):
    """A running server of the echo app, shut down after the module."""
    name = request.param
    compiled_here = compiled_available()
    if name == "werkzeug":
        from werkzeug.serving import make_server

        httpd = make_server("127.0.0.1", 0, apps.create_echo_app(), threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            port = httpd.socket.getsockname()[1]
            _wait_ready(port)
            yield Server(name, port, erlen.local.COMPILED)
        finally:
            httpd.shutdown()
            thread.join(15)
            httpd.server_close()
        return

    logs = tmp_path_factory.mktemp(name)
    port_line = r"PORT (\d+)"
    gunicorn_line = r"Listening at: http://127\.0\.0\.1:(\d+)"
    if name == "werkzeug-python":
        args = [sys.executable, APPS, "serve", "werkzeug"]
        env, pattern, compiled = subprocess_env(True), port_line, False
    elif name == "gevent":
        _needs("gevent")
        args = [sys.executable, APPS, "serve", "gevent"]
        env, pattern, compiled = subprocess_env(False), port_line, compiled_here
    else:
        _needs("gunicorn")
        worker = name.split("-", 1)[1]
        if worker == "gevent":
            _needs("gevent")
            worker_args = ["-k", "gevent", "--worker-connections", "200"]
        else:
            worker_args = ["-k", "gthread", "--threads", "8"]
        args = [
            sys.executable,
            "-m",
            "gunicorn",
            *worker_args,
            "-w",
            "2",
            "-b",
            "127.0.0.1:0",
            "--pythonpath",
            HERE,
            "--graceful-timeout",
            "5",
            "--timeout",
            "120",
            "apps:create_echo_app()",
        ]
        env, pattern, compiled = subprocess_env(False), gunicorn_line, compiled_here
    proc, port = _start_subprocess(args, env, logs, pattern)
    try:
        yield Server(name, port, compiled)
    finally:
        _stop(proc)


@pytest.mark.parametrize("route", ["echo", "aecho"], ids=["sync", "async"])
def test_every_response_matches_its_request(server, route, reliability_report, request):
    total = scale()["server_requests"]
    label = f"{server.name}-{route}"
    outcome = hammer(server.port, route, label, total)

    reliability_report(
        f"servers[{server.name}, {'async' if route == 'aecho' else 'sync'}]:"
        f" {outcome.served} of {outcome.planned} requests served,"
        f" {len(outcome.mismatches)} mismatches,"
        f" {len(outcome.bad_status)} not 200, {len(outcome.errors)} errors,"
        f" {outcome.retries} resent on a new connection,"
        f" {len(outcome.pids)} server process(es), compiled={sorted(outcome.compiled)}"
    )
    assert outcome.mismatches == []
    assert outcome.bad_status == []
    assert outcome.errors == []
    assert not outcome.timed_out, (
        f"time limit hit after {outcome.served} of {outcome.planned} requests"
    )
    assert outcome.served == outcome.planned
    assert outcome.compiled == {server.compiled}


def test_harness_detects_crosstalk(reliability_report):
    """The control: a view that keeps the identity in a module global (not
    in ``g``) while two requests overlap must be caught, so a clean run above
    means something."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, apps.create_echo_app(), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        port = httpd.socket.getsockname()[1]
        _wait_ready(port)
        outcome = hammer(port, "broken", "control", 64)
    finally:
        httpd.shutdown()
        thread.join(15)
        httpd.server_close()
    reliability_report(
        f"servers[control, shared global]: {outcome.served} served,"
        f" {len(outcome.mismatches)} mismatches caught"
    )
    assert outcome.errors == []
    assert outcome.bad_status == []
    assert outcome.served == 64
    assert outcome.mismatches
    assert all("g=" in m for m in outcome.mismatches)
