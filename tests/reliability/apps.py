"""Apps shared by the reliability tests, and a small command line that serves
them or drives them from a subprocess.

The module imports only the standard library and erlen at the top, so that it
can be loaded by gunicorn (``apps:create_echo_app()``), run as a script in a
subprocess (after ``gevent.monkey.patch_all()`` or under
``ERLEN_NO_EXTENSIONS=1``), and imported by the tests.

Command line (the tests use it; it is also handy by hand)::

    python apps.py serve werkzeug   # threaded werkzeug server, prints PORT <n>
    python apps.py serve gevent     # gevent pywsgi after patch_all()
    python apps.py memory REQUESTS WARMUP   # prints one JSON line

Every server started here exits by itself after ``--lifetime`` seconds, in
case the test that started it could not kill it.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and sys.argv[1:3] == ["serve", "gevent"]:
    # Before anything else imports threading, socket or time.
    from gevent import monkey

    monkey.patch_all()

import asyncio
import gc
import io
import json
import random
import threading
import time
import typing as t

import erlen.local
from erlen import Flask
from erlen import g
from erlen import request
from erlen import session
from erlen import stream_with_context
from erlen.globals import _cv_app
from erlen.globals import _cv_request

SECRET_KEY = "erlen reliability secret"
#: The key of the environ entry where the leak-checking middleware records
#: a context it found pushed when the request arrived (``None`` when clean).
STALE_KEY = "erlen.reliability.stale"


def _pause() -> None:
    """Give other threads or greenlets a chance to run in the middle of a
    request (time.sleep yields to the gevent hub once patched)."""
    time.sleep(random.uniform(0, 0.002))


def _stale_context() -> str | None:
    app_ctx = _cv_app.get(None)
    req_ctx = _cv_request.get(None)
    if app_ctx is None and req_ctx is None:
        return None
    return f"app={app_ctx!r} request={req_ctx!r}"


def _echo(ident: str, source: str) -> dict[str, t.Any]:
    """What the echo views return: every copy of the request's identity, read
    back from where the request stored it."""
    body = request.get_json(silent=True) or {}
    return {
        "source": source,
        "path": ident,
        "request_path": request.path,
        "query": request.args.get("q"),
        "body": body.get("ident"),
        "cookie": session.get("ident"),
        "g": g.get("ident"),
        "g_before": g.get("before"),
        "session_written": session.get("echo"),
        "stale": request.environ.get(STALE_KEY),
        "compiled": erlen.local.COMPILED,
        "pid": os.getpid(),
    }


def create_echo_app() -> Flask:
    """The isolation app.

    ``POST /echo/<ident>?q=<ident>`` (and the async ``/aecho/<ident>``) with
    the JSON body ``{"ident": ident}`` and a session cookie holding
    ``{"ident": ident}``: the view stores the identity in ``g`` and in the
    session, yields, reads it back and returns everything as JSON. The
    ``X-Ident`` header comes from ``g`` in after_request, and the new session
    cookie holds ``echo = ident``.

    A middleware records, per request, any context found pushed on the worker
    when the request arrives (a context leaked by an earlier request on the
    same thread or greenlet).
    """
    app = Flask("erlen_reliability_echo")
    app.config.update(SECRET_KEY=SECRET_KEY)

    @app.before_request
    def remember_query() -> None:
        g.before = request.args.get("q")
        time.sleep(0)

    @app.after_request
    def ident_header(response: t.Any) -> t.Any:
        response.headers["X-Ident"] = g.get("ident") or ""
        return response

    @app.post("/echo/<ident>")
    def echo(ident: str) -> dict[str, t.Any]:
        g.ident = ident
        session["echo"] = ident
        _pause()
        return _echo(ident, "sync")

    @app.post("/aecho/<ident>")
    async def aecho(ident: str) -> dict[str, t.Any]:
        g.ident = ident
        session["echo"] = ident
        await asyncio.sleep(random.uniform(0, 0.002))
        return _echo(ident, "async")

    shared: dict[str, t.Any] = {}
    pair = threading.Barrier(2)

    @app.post("/broken/<ident>")
    def broken(ident: str) -> dict[str, t.Any]:
        # The control of the cross-talk check: the identity goes through a
        # plain shared dict, and requests wait for each other in pairs
        # between writing and reading it, so one of each pair reads the
        # other's.
        shared["ident"] = ident
        g.ident = ident
        session["echo"] = ident
        try:
            pair.wait(timeout=5)
        except threading.BrokenBarrierError:
            pair.reset()
        data = _echo(ident, "broken")
        data["g"] = shared["ident"]
        return data

    @app.get("/ping")
    def ping() -> dict[str, t.Any]:
        return {"compiled": erlen.local.COMPILED, "pid": os.getpid()}

    inner = app.wsgi_app

    def check_no_stale_context(environ: t.Any, start_response: t.Any) -> t.Any:
        environ[STALE_KEY] = _stale_context()
        return inner(environ, start_response)

    app.wsgi_app = check_no_stale_context  # type: ignore[method-assign]
    return app


def session_cookie(data: dict[str, t.Any], app: Flask | None = None) -> str:
    """A session cookie value, signed the way the apps here expect."""
    if app is None:
        app = Flask("erlen_reliability_signer")
        app.config.update(SECRET_KEY=SECRET_KEY)
    serializer = app.session_interface.get_signing_serializer(app)
    assert serializer is not None
    return t.cast(str, serializer.dumps(data))


def read_session_cookie(value: str, app: Flask | None = None) -> dict[str, t.Any]:
    """The data in a session cookie signed by the apps here."""
    if app is None:
        app = Flask("erlen_reliability_signer")
        app.config.update(SECRET_KEY=SECRET_KEY)
    serializer = app.session_interface.get_signing_serializer(app)
    assert serializer is not None
    return t.cast("dict[str, t.Any]", serializer.loads(value))


class StreamProbe:
    """A thread-safe record of what a streaming app did: chunks produced,
    teardowns run, and the contexts left on the worker after the response
    was closed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[t.Any, ...]] = []
        self.closed = threading.Event()

    def add(self, *event: t.Any) -> None:
        with self.lock:
            self.events.append(event)

    def kinds(self, kind: str) -> list[tuple[t.Any, ...]]:
        with self.lock:
            return [e for e in self.events if e[0] == kind]


def create_stream_app(probe: StreamProbe, chunks: int = 5000) -> Flask:
    """``GET /stream`` streams up to ``chunks`` lines with
    ``stream_with_context``, each naming the request's path and ``g``; the
    teardown functions and the close of the response iterable report to
    ``probe``."""
    app = Flask("erlen_reliability_stream")
    app.config.update(SECRET_KEY=SECRET_KEY)

    @app.teardown_request
    def teardown_request(exc: BaseException | None) -> None:
        probe.add("teardown_request", threading.get_ident(), type(exc).__name__)

    @app.teardown_appcontext
    def teardown_appcontext(exc: BaseException | None) -> None:
        probe.add("teardown_appcontext", threading.get_ident(), type(exc).__name__)

    @app.get("/stream")
    def stream() -> t.Any:
        g.token = request.args.get("token", "")

        @stream_with_context
        def generate() -> t.Iterator[str]:
            for i in range(chunks):
                probe.add("chunk", i, request.args.get("token"), g.token)
                yield f"{i} {g.token} {'x' * 1000}\n"
                time.sleep(0.001)
            probe.add("finished")

        return app.response_class(generate(), mimetype="text/plain")

    inner = app.wsgi_app

    class Closing:
        """Wraps the response iterable; on close, checks on the closing
        thread that no context is left pushed."""

        def __init__(self, iterable: t.Any) -> None:
            self.iterable = iterable

        def __iter__(self) -> t.Iterator[bytes]:
            return iter(self.iterable)

        def close(self) -> None:
            try:
                close = getattr(self.iterable, "close", None)
                if close is not None:
                    close()
            finally:
                probe.add(
                    "closed",
                    threading.get_ident(),
                    _cv_app.get(None),
                    _cv_request.get(None),
                )
                probe.closed.set()

    def closing_middleware(environ: t.Any, start_response: t.Any) -> t.Any:
        return Closing(inner(environ, start_response))

    app.wsgi_app = closing_middleware  # type: ignore[method-assign]
    return app


# -- the realistic app of the memory test -------------------------------------

USERS = {
    uid: {"id": uid, "name": f"user{uid}", "roles": ["reader"]} for uid in range(50)
}


def create_realistic_app() -> Flask:
    """before_request loads the user named by the session into ``g``; a
    route with an int URL parameter reads a query argument, writes the
    session and returns a dict; after_request adds a header."""
    app = Flask("erlen_reliability_realistic")
    app.config.update(SECRET_KEY=SECRET_KEY)

    @app.before_request
    def load_user() -> None:
        g.user = USERS.get(session.get("uid", -1))

    @app.get("/items/<int:item_id>")
    def item(item_id: int) -> dict[str, t.Any]:
        page = request.args.get("page", 1, type=int)
        session["last_item"] = item_id
        session["visits"] = session.get("visits", 0) + 1
        user = g.user
        return {
            "item": item_id,
            "page": page,
            "user": user["name"] if user else None,
            "visits": session["visits"],
        }

    @app.after_request
    def add_header(response: t.Any) -> t.Any:
        response.headers["X-Served-By"] = "erlen-reliability"
        return response

    return app


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def drive_realistic(requests: int, warmup: int) -> dict[str, t.Any]:
    """Send ``warmup`` then ``requests`` requests through the realistic app
    in process (``app(environ, start_response)``) and measure the RSS after
    the warm-up and at the end."""
    from werkzeug.test import EnvironBuilder

    app = create_realistic_app()
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    cookies = [
        f"{cookie_name}={session_cookie({'uid': uid, 'visits': uid}, app)}"
        for uid in range(len(USERS))
    ]
    base = EnvironBuilder(path="/items/0", base_url="http://localhost/").get_environ()
    statuses: dict[str, int] = {}
    bad: list[str] = []

    def start_response(status: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
        statuses[status] = statuses.get(status, 0) + 1
        return None

    def run(count: int, offset: int) -> None:
        for n in range(offset, offset + count):
            environ = dict(base)
            item_id = n % 1000
            environ["PATH_INFO"] = f"/items/{item_id}"
            environ["QUERY_STRING"] = f"page={n % 7}"
            environ["HTTP_COOKIE"] = cookies[n % len(cookies)]
            environ["wsgi.input"] = io.BytesIO(b"")
            result = app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if n % 997 == 0:  # spot-check the answers without slowing the loop
                data = json.loads(body)
                if data["item"] != item_id or data["user"] != f"user{n % len(USERS)}":
                    bad.append(body.decode())

    run(warmup, 0)
    gc.collect()
    before = rss_bytes()
    samples = [before]
    step = max(1, requests // 10)
    done = 0
    while done < requests:
        count = min(step, requests - done)
        run(count, warmup + done)
        done += count
        samples.append(rss_bytes())
    gc.collect()
    after = rss_bytes()
    return {
        "compiled": erlen.local.COMPILED,
        "warmup": warmup,
        "requests": done,
        "rss_before": before,
        "rss_after": after,
        "rss_max": max(samples + [after]),
        "statuses": statuses,
        "bad": bad[:5],
        "left_pushed": _stale_context(),
    }


# -- command line ----------------------------------------------------------------


def _serve(kind: str, lifetime: float) -> None:
    app = create_echo_app()
    if kind == "werkzeug":
        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", 0, app, threaded=True)
        port = server.socket.getsockname()[1]
        timer = threading.Timer(lifetime, os._exit, args=(3,))
        timer.daemon = True
        timer.start()
        print(f"PORT {port}", flush=True)
        server.serve_forever()
    elif kind == "gevent":
        import gevent
        from gevent.pywsgi import WSGIServer

        gevent_server = WSGIServer(("127.0.0.1", 0), app, log=None)
        gevent_server.start()
        gevent.spawn_later(lifetime, os._exit, 3)
        print(f"PORT {gevent_server.server_port}", flush=True)
        gevent_server.serve_forever()
    else:
        raise SystemExit(f"unknown server {kind!r}")


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "serve":
        lifetime = float(argv[2]) if len(argv) > 2 else 600.0
        _serve(argv[1], lifetime)
        return 0
    if len(argv) == 3 and argv[0] == "memory":
        print(json.dumps(drive_realistic(int(argv[1]), int(argv[2]))), flush=True)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
