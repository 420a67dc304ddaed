"""Contexts carried into helper threads and streamed responses.

* ``copy_current_request_context``: a function copied once and submitted 200
  times to a thread pool, its calls running at the same moment, sees the right
  ``request``, ``session`` and its own ``g`` every time, and leaves no context
  on the pool's threads; the same for 200 separate copies.
* ``copy_current_app_context``: the same for an app context.
* ``stream_with_context``: a response closed half-way (a client that hangs up
  on a real server, or ``close()`` on the WSGI iterable) still runs its
  teardown functions and leaves no context pushed on the thread that closed
  it; the teardowns run once, after the stream.
* Two test clients in nested ``with`` blocks, on one app or two, never share
  ``g``.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.test import EnvironBuilder

import erlen
from erlen import copy_current_request_context
from erlen import current_app
from erlen import Flask
from erlen import g
from erlen import has_request_context
from erlen import request
from erlen import session
from erlen.globals import _cv_app
from erlen.globals import _cv_request

from . import apps

CALLS = 200
POOL = 20  # divides CALLS, so every barrier round fills up
#: How long a call waits for the others at the barrier that makes calls
#: overlap; a broken barrier only means less overlap, never a failure.
BARRIER_WAIT = 2.0


def _pushed() -> tuple[object, object]:
    return _cv_app.get(None), _cv_request.get(None)


def _run_in_pool(func, calls: int = CALLS):
    """Submit ``func(n)`` ``calls`` times to a POOL-thread pool; return, per
    call, ``(result or exception, contexts left on the thread after it)``."""

    def call(n):
        try:
            result = func(n)
        except Exception as exc:  # recorded, asserted by the test
            result = exc
        return result, _pushed()

    with ThreadPoolExecutor(POOL) as pool:
        return [
            f.result(timeout=60) for f in [pool.submit(call, n) for n in range(calls)]
        ]


def _overlap(barrier: threading.Barrier) -> None:
    try:
        barrier.wait(BARRIER_WAIT)
    except threading.BrokenBarrierError:
        barrier.reset()


def _request_probe(ident: str, barrier: threading.Barrier):
    """The body run in the helper threads: check the request and session,
    keep ``n`` in ``g`` across a moment where the other calls run."""

    def probe(n):
        g.n = n
        _overlap(barrier)
        time.sleep(0.0005)
        return (
            request.path,
            request.args.get("ident"),
            session.get("ident"),
            g.n,
            current_app.name,
        )

    return probe


def _expected(app, ident):
    return [(("/view", ident, ident, n, app.name), (None, None)) for n in range(CALLS)]


def test_one_copied_request_context_many_threads(app):
    ident = "request-abc"
    barrier = threading.Barrier(POOL)
    with app.test_request_context(f"/view?ident={ident}"):
        session["ident"] = ident
        g.n = "view"
        copied = copy_current_request_context(_request_probe(ident, barrier))
        results = _run_in_pool(copied)
        # The view's own g is untouched by the helpers.
        assert g.n == "view"
    assert results == _expected(app, ident)


def test_separate_copied_request_contexts_many_threads(app):
    ident = "request-def"
    barrier = threading.Barrier(POOL)
    with app.test_request_context(f"/view?ident={ident}"):
        session["ident"] = ident
        g.n = "view"
        probe = _request_probe(ident, barrier)
        copies = [copy_current_request_context(probe) for _ in range(CALLS)]
        results = _run_in_pool(lambda n: copies[n](n))
        assert g.n == "view"
    assert results == _expected(app, ident)


def test_copied_request_contexts_of_many_requests_interleaved(app):
    """Eight requests, each copying its context for 25 calls, all in one pool:
    every call sees its own request."""
    barrier = threading.Barrier(POOL)
    jobs = []
    for r in range(8):
        ident = f"request-{r}"
        with app.test_request_context(f"/view?ident={ident}"):
            session["ident"] = ident
            probe = _request_probe(ident, barrier)
            jobs += [(ident, copy_current_request_context(probe)) for _ in range(25)]
    order = list(range(len(jobs)))
    order = order[0::2] + order[1::2]  # interleave the requests

    results = _run_in_pool(lambda n: jobs[order[n]][1](n), calls=len(jobs))
    expected = [
        (("/view", jobs[order[n]][0], jobs[order[n]][0], n, app.name), (None, None))
        for n in range(len(jobs))
    ]
    assert results == expected


def test_one_copied_app_context_many_threads(app):
    copy_current_app_context = erlen.copy_current_app_context  # type: ignore[attr-defined]
    barrier = threading.Barrier(POOL)

    with app.app_context():
        g.shared = "from the original context"

        @copy_current_app_context
        def probe(n):
            _overlap(barrier)
            return (
                current_app._get_current_object() is app,
                g.get("shared"),
                has_request_context(),
            )

        results = _run_in_pool(probe)
    assert (
        results == [((True, "from the original context", False), (None, None))] * CALLS
    )


# -- streamed responses ------------------------------------------------------------


def _stream_environ(token: str) -> dict:
    return EnvironBuilder(path="/stream", query_string={"token": token}).get_environ()


def _drop_first(iterable):
    return next(iter(iterable))


def test_stream_closed_after_one_chunk_pops_contexts():
    probe = apps.StreamProbe()
    app = apps.create_stream_app(probe)
    statuses = []

    result = app(_stream_environ("wsgi"), lambda s, h, e=None: statuses.append(s))
    first = _drop_first(result)
    result.close()

    assert statuses == ["200 OK"]
    assert first.startswith(b"0 wsgi ")
    assert [e[1:] for e in probe.kinds("chunk")] == [(0, "wsgi", "wsgi")]
    assert probe.kinds("finished") == []
    # The close was checked on this thread: nothing left pushed.
    (closed,) = probe.kinds("closed")
    assert closed[2:] == (None, None)
    assert _pushed() == (None, None)
    # The teardowns ran after the stream was cut, on this thread.
    last_chunk = probe.events.index(probe.kinds("chunk")[-1])
    after = [e[0] for e in probe.events[last_chunk:]]
    assert "teardown_request" in after
    assert "teardown_appcontext" in after


def test_stream_teardowns_run_once_after_the_stream():
    probe = apps.StreamProbe()
    app = apps.create_stream_app(probe)

    result = app(_stream_environ("once"), lambda s, h, e=None: None)
    _drop_first(result)
    result.close()

    kinds = [e[0] for e in probe.events]
    assert kinds.count("teardown_request") == 1
    assert kinds.count("teardown_appcontext") == 1
    assert kinds.index("teardown_request") > kinds.index("chunk")
    assert _pushed() == (None, None)


@pytest.fixture
def stream_server():
    """A threaded werkzeug server of the stream app on a free loopback port,
    shut down after the test."""
    from werkzeug.serving import make_server

    probe = apps.StreamProbe()
    httpd = make_server("127.0.0.1", 0, apps.create_stream_app(probe), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.socket.getsockname()[1], probe
    finally:
        httpd.shutdown()
        thread.join(15)
        httpd.server_close()


def test_client_hanging_up_mid_stream_runs_teardowns(stream_server):
    port, probe = stream_server
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /stream?token=hangup HTTP/1.1\r\nHost: localhost\r\n\r\n")
        # Read the headers and the first three lines of the body (chunked or
        # not), at most 100 reads.
        for _ in range(100):
            data = sock.recv(4096)
            if not data:
                break
            received += data
            if b"2 hangup " in received.partition(b"\r\n\r\n")[2]:
                break
    # The socket is closed: the server's next writes fail and it closes the
    # response iterable on its request thread.
    assert b" 200 " in received.split(b"\r\n", 1)[0]
    assert b"0 hangup " in received
    assert probe.closed.wait(60), "the server never closed the response"

    chunks = probe.kinds("chunk")
    assert 3 <= len(chunks) < 5000
    assert {e[2:] for e in chunks} == {("hangup", "hangup")}
    assert probe.kinds("finished") == []
    (closed,) = probe.kinds("closed")
    server_thread = closed[1]
    assert closed[2:] == (None, None), "a context was left on the server thread"
    last_chunk = probe.events.index(chunks[-1])
    after = [e[:2] for e in probe.events[last_chunk:]]
    assert ("teardown_request", server_thread) in after
    assert ("teardown_appcontext", server_thread) in after


# -- nested test clients -------------------------------------------------------------


def _g_app(name: str) -> Flask:
    app = Flask(name)
    app.config.update(TESTING=True, SECRET_KEY="nested")

    @app.route("/set/<value>")
    def set_value(value):
        g.value = value
        return value

    return app


def _nested_clients(outer_app: Flask, inner_app: Flask) -> None:
    with outer_app.test_client() as outer:
        assert outer.get("/set/outer").data == b"outer"
        outer_g = g._get_current_object()
        assert g.value == "outer"
        with inner_app.test_client() as inner:
            assert inner.get("/set/inner").data == b"inner"
            inner_g = g._get_current_object()
            assert g.value == "inner"
            assert inner_g is not outer_g
            assert outer_g.value == "outer"
        # The outer client's context is current again, with its own g.
        assert g._get_current_object() is outer_g
        assert g.value == "outer"
        assert request.path == "/set/outer"
    assert _pushed() == (None, None)


def test_nested_test_clients_of_two_apps_do_not_share_g():
    _nested_clients(_g_app("outer_app"), _g_app("inner_app"))


def test_nested_test_clients_of_one_app_do_not_share_g():
    app = _g_app("one_app")
    _nested_clients(app, app)
