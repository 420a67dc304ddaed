"""The app that tests/test_serving*.py serve on real servers.

Served as ``erlen --app tests/serving_app.py serve ...`` (or ``run``), so it
must build itself from the environment:

* ``SERVING_RECORD_DIR``: a folder where the app appends what it saw
  (``events.log``, one line per event, written with ``O_APPEND`` so that
  workers and threads never interleave a line) and keeps the file that
  ``/file`` sends;
* ``SERVING_INSTANCE``: the name returned in every response's
  ``X-Instance`` header (which instance behind a load balancer answered);
* ``SERVING_SECRET_KEY`` and ``SERVING_SECRET_KEY_FALLBACKS`` (comma
  separated).

Every request first checks that no app or request context was left pushed
on the thread that serves it (``X-Stale`` is ``0``, or the event ``stale`` is
recorded).
"""

from __future__ import annotations

import hashlib
import os
import time
import typing as t

from erlen import flash
from erlen import Flask
from erlen import g
from erlen import get_flashed_messages
from erlen import jsonify
from erlen import request
from erlen import send_file
from erlen import session
from erlen import stream_with_context
from erlen.globals import _cv_app
from erlen.globals import _cv_request

MAX_CONTENT_LENGTH = 8 * 1024 * 1024
#: /file sends this many bytes of PATTERN.
FILE_SIZE = 3 * 1024 * 1024 + 17
PATTERN = bytes(range(256))


def pattern_bytes(size: int) -> bytes:
    """``size`` bytes of the repeating 0..255 pattern (what /download and
    /file send)."""
    whole, rest = divmod(size, len(PATTERN))
    return PATTERN * whole + PATTERN[:rest]


def record(event: str) -> None:
    folder = os.environ.get("SERVING_RECORD_DIR")
    if not folder:
        return
    line = (event.replace("\n", " ") + "\n").encode()
    fd = os.open(
        os.path.join(folder, "events.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND
    )
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def create_app() -> Flask:
    app = Flask(__name__)
    fallbacks = os.environ.get("SERVING_SECRET_KEY_FALLBACKS", "")
    app.config.update(
        SECRET_KEY=os.environ.get("SERVING_SECRET_KEY", "serving-test-key"),
        SECRET_KEY_FALLBACKS=[k for k in fallbacks.split(",") if k],
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
    )
    instance = os.environ.get("SERVING_INSTANCE", "solo")
    folder = os.environ.get("SERVING_RECORD_DIR")
    file_path = os.path.join(folder, "payload.bin") if folder else None
    if file_path and not os.path.exists(file_path):
        with open(file_path + f".{os.getpid()}", "wb") as f:
            f.write(pattern_bytes(FILE_SIZE))
        os.replace(file_path + f".{os.getpid()}", file_path)

    inner = app.wsgi_app

    def check_nothing_pushed(environ: t.Any, start_response: t.Any) -> t.Any:
        stale = _cv_app.get(None) is not None or _cv_request.get(None) is not None
        if stale:
            record(f"stale {environ.get('PATH_INFO')}")
        environ["serving.stale"] = stale
        return inner(environ, start_response)

    app.wsgi_app = check_nothing_pushed  # type: ignore[method-assign]

    @app.after_request
    def name_the_instance(response: t.Any) -> t.Any:
        response.headers["X-Instance"] = instance
        response.headers["X-Pid"] = str(os.getpid())
        response.headers["X-Stale"] = "1" if request.environ["serving.stale"] else "0"
        return response

    @app.teardown_request
    def record_teardown(exc: BaseException | None) -> None:
        tag = g.get("tag")
        if tag is not None:
            record(f"teardown {tag} sent={g.get('sent', 0)}")

    @app.route("/ping", methods=["GET", "HEAD"])
    def ping() -> t.Any:
        return "pong"

    @app.route("/env")
    def env() -> t.Any:
        return jsonify(
            remote_port=request.environ.get("REMOTE_PORT"),
            remote_addr=request.remote_addr,
            scheme=request.scheme,
            host=request.host,
            script_root=request.script_root,
            multiprocess=request.environ.get("wsgi.multiprocess"),
            multithread=request.environ.get("wsgi.multithread"),
            os_environ_copied="SERVING_RECORD_DIR" in request.environ,
        )

    @app.route("/stream")
    def stream() -> t.Any:
        g.tag = request.args["tag"]
        count = request.args.get("n", 5, type=int)
        delay = request.args.get("delay", 0.0, type=float)
        g.sent = 0

        def generate() -> t.Iterator[str]:
            for i in range(count):
                # The request context is still there while the body is sent.
                yield f"{request.args['tag']} {i}\n"
                g.sent = i + 1
                if delay:
                    time.sleep(delay)
            record(f"body-done {g.tag} sent={g.sent}")

        return app.response_class(
            stream_with_context(generate()), mimetype="text/plain"
        )

    @app.route("/upload", methods=["POST", "PUT"])
    def upload() -> t.Any:
        data = request.get_data()
        return jsonify(
            length=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content_length=request.environ.get("CONTENT_LENGTH") or None,
            chunked="chunked" in request.headers.get("Transfer-Encoding", "").lower(),
            input_terminated=request.environ.get("wsgi.input_terminated", False),
        )

    @app.route("/download")
    def download() -> t.Any:
        size = request.args.get("size", 0, type=int)
        step = 64 * 1024

        def generate() -> t.Iterator[bytes]:
            for start in range(0, size, step):
                yield pattern_bytes(min(step, size - start))

        return app.response_class(generate(), mimetype="application/octet-stream")

    @app.route("/file", methods=["GET", "HEAD"])
    def file() -> t.Any:
        return send_file(
            file_path, mimetype="application/octet-stream", conditional=True
        )

    @app.route("/boom")
    def boom() -> t.Any:
        raise RuntimeError(f"boom-{request.args.get('tag', '')}")

    @app.route("/slow")
    def slow() -> t.Any:
        tag = request.args.get("tag", "")
        record(f"slow-start {tag}")
        time.sleep(request.args.get("secs", 1.0, type=float))
        return f"slow done {tag}"

    @app.route("/session/<ident>")
    def session_view(ident: str) -> t.Any:
        """Counts this client's requests in its session; the identity in the
        session must be the one in the URL."""
        seen = session.get("ident")
        session["ident"] = ident
        session["n"] = session.get("n", 0) + 1
        return jsonify(ident=ident, seen=seen, n=session["n"], instance=instance)

    @app.route("/flash/<message>", methods=["POST"])
    def flash_view(message: str) -> t.Any:
        flash(message)
        return jsonify(instance=instance)

    @app.route("/flashes")
    def flashes() -> t.Any:
        return jsonify(messages=get_flashed_messages(), instance=instance)

    return app
