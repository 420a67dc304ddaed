"""App builders shared by the reliability tests (faults and hostile input).

Every builder takes the framework module (``erlen``, or ``flask`` when
comparing behaviour by hand) so the same app can run on both.
"""

from __future__ import annotations

import itertools
import logging
import os
import typing as t

from werkzeug.routing import BaseConverter

# Apps get unique names: an app's logger is named after it, and handlers
# added by one test must not collect the records of another's app.
_app_numbers = itertools.count()
SECRET = "current secret key"
OLD_SECRET = "old secret key"

# Every phase a fault can be injected into.
PHASES = (
    "url_converter",
    "url_value_preprocessor",
    "before_first_request",
    "before_request",
    "view",
    "error_handler",
    "after_request",
    "session_open",
    "session_save",
    "teardown_request",
    "teardown_appcontext",
    "generator",
    "stream_with_context",
)


class Injected(Exception):
    """The exception a fault injection raises."""


class ViewError(Exception):
    """Raised by the view when the error handler is the faulty phase; the
    handler for it then raises :class:`Injected`."""


class Trigger:
    """Raises :class:`Injected` once, at the armed phase, then stays quiet,
    so the request after the faulty one runs normally."""

    def __init__(self, phase: str) -> None:
        self.phase = phase
        self.armed = False
        self.fired = 0

    def arm(self) -> None:
        self.armed = True

    def check(self, where: str) -> None:
        if self.armed and where == self.phase:
            self.armed = False
            self.fired += 1
            raise Injected(where)


class Record:
    """What ran during the requests of a fault app."""

    def __init__(self) -> None:
        self.teardown_request: list[BaseException | None] = []
        self.teardown_request_other: list[BaseException | None] = []
        self.teardown_appcontext: list[BaseException | None] = []
        self.teardown_appcontext_other: list[BaseException | None] = []
        self.got_request_exception: list[BaseException] = []
        self.before_first_request = 0

    def teardown_counts(self) -> tuple[int, int, int, int]:
        return (
            len(self.teardown_request),
            len(self.teardown_request_other),
            len(self.teardown_appcontext),
            len(self.teardown_appcontext_other),
        )


def build_fault_app(
    fw: t.Any,
    phase: str,
    *,
    propagate: bool | None,
    testing: bool,
) -> tuple[t.Any, Trigger, Record]:
    """An app with a hook in every phase; ``trigger.arm()`` makes the next
    request fail in ``phase``. Two teardown functions of each kind record
    the exception they were given; when the teardown is the faulty phase,
    the one that runs first raises."""
    trigger = Trigger(phase)
    rec = Record()

    class FaultyConverter(BaseConverter):
        def to_python(self, value: str) -> t.Any:
            trigger.check("url_converter")
            return int(value)

        def to_url(self, value: t.Any) -> str:
            return str(value)

    class FaultySessions(fw.sessions.SecureCookieSessionInterface):
        def open_session(self, app: t.Any, request: t.Any) -> t.Any:
            trigger.check("session_open")
            return super().open_session(app, request)

        def save_session(self, app: t.Any, session: t.Any, response: t.Any) -> None:
            trigger.check("session_save")
            super().save_session(app, session, response)

    app = fw.Flask(f"fault_{phase}_{next(_app_numbers)}")
    app.config.update(
        SECRET_KEY=SECRET, TESTING=testing, PROPAGATE_EXCEPTIONS=propagate
    )
    app.url_map.converters["faulty"] = FaultyConverter
    app.session_interface = FaultySessions()

    if phase == "before_first_request":
        # The legacy decorator warns; the warning is not what is tested.
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)

            @app.before_first_request
            def first() -> None:
                rec.before_first_request += 1
                trigger.check("before_first_request")

    @app.url_value_preprocessor
    def pre(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        trigger.check("url_value_preprocessor")

    @app.before_request
    def before() -> None:
        trigger.check("before_request")

    @app.route("/item/<faulty:n>")
    def item(n: int) -> t.Any:
        fw.session["n"] = n
        fw.g.n = n
        if trigger.armed and phase == "error_handler":
            raise ViewError("view")
        trigger.check("view")
        if phase == "generator":

            def body() -> t.Iterator[bytes]:
                yield b"a"
                trigger.check("generator")
                yield b"b"

            return body()
        if phase == "stream_with_context":

            @fw.stream_with_context
            def body_ctx() -> t.Iterator[bytes]:
                yield str(fw.g.n).encode()
                trigger.check("stream_with_context")
                yield fw.request.path.encode()

            return body_ctx()
        return f"item {n}"

    @app.errorhandler(ViewError)
    def on_view_error(e: ViewError) -> t.Any:
        trigger.check("error_handler")
        return "handled", 418

    @app.after_request
    def after(response: t.Any) -> t.Any:
        trigger.check("after_request")
        response.headers["X-After"] = "1"
        return response

    # Registered first, so it runs last.
    @app.teardown_request
    def teardown_other(exc: BaseException | None) -> None:
        rec.teardown_request_other.append(exc)

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        rec.teardown_request.append(exc)
        trigger.check("teardown_request")

    @app.teardown_appcontext
    def teardown_app_other(exc: BaseException | None) -> None:
        rec.teardown_appcontext_other.append(exc)

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        rec.teardown_appcontext.append(exc)
        trigger.check("teardown_appcontext")

    def on_exception(sender: t.Any, exception: BaseException, **kw: t.Any) -> None:
        rec.got_request_exception.append(exception)

    # Held by the app so the weak signal reference stays alive.
    app.extensions["fault_on_exception"] = on_exception
    fw.got_request_exception.connect(on_exception, app)
    return app, trigger, rec


class LogCapture(logging.Handler):
    """Collects the records of a logger (the app's) for assertions."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def errors(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= logging.ERROR or r.exc_info]


def make_static_dir(base: str) -> str:
    """Under ``base``: a ``static`` folder with two files, and a secret file
    next to it that path traversal must never reach. Returns the folder."""
    static = os.path.join(base, "static")
    os.makedirs(os.path.join(static, "sub"), exist_ok=True)
    files = {
        os.path.join(static, "hello.txt"): b"hello static\n",
        os.path.join(static, "sub", "inner.txt"): b"inner\n",
        os.path.join(base, "secret.txt"): b"TOP SECRET\n",
    }
    for path, data in files.items():
        with open(path, "wb") as f:
            f.write(data)
    return static


def build_realistic_app(
    fw: t.Any, static: str, **config: t.Any
) -> tuple[t.Any, LogCapture, list]:
    """An app with sessions, JSON, forms, uploads and static files, the
    target of the hostile-input tests. Returns the app, a capture of its
    logger and the list ``got_request_exception`` appends to."""
    app = fw.Flask(
        f"hostile_{next(_app_numbers)}",
        static_folder=static,
        static_url_path="/static",
    )
    app.config.update(SECRET_KEY=SECRET, **config)

    @app.route("/")
    def index() -> t.Any:
        return "index"

    @app.route("/session")
    def read_session() -> t.Any:
        return {"session": dict(fw.session)}

    @app.route("/session/set", methods=["GET", "POST"])
    def set_session() -> t.Any:
        fw.session["visits"] = fw.session.get("visits", 0) + 1
        return {"session": dict(fw.session)}

    @app.route("/json", methods=["POST", "PUT"])
    def echo_json() -> t.Any:
        data = fw.request.json
        return {"type": type(data).__name__}

    @app.route("/json/silent", methods=["POST"])
    def silent_json() -> t.Any:
        data = fw.request.get_json(silent=True)
        return {"none": data is None}

    @app.route("/form", methods=["POST"])
    def form() -> t.Any:
        return {
            "fields": len(fw.request.form),
            "files": len(fw.request.files),
        }

    @app.route("/data", methods=["POST"])
    def data() -> t.Any:
        return {"size": len(fw.request.get_data())}

    @app.route("/files/<path:name>")
    def files(name: str) -> t.Any:
        return fw.send_from_directory(static, name)

    @app.route("/user/<int:uid>")
    def user(uid: int) -> t.Any:
        return {"uid": uid, "q": fw.request.args.get("q", "")}

    @app.route("/echo/<path:rest>")
    def echo(rest: str) -> t.Any:
        return {"len": len(rest), "args": len(fw.request.args)}

    capture = LogCapture()
    app.logger.addHandler(capture)
    crashes: list = []

    def on_exception(sender: t.Any, exception: BaseException, **kw: t.Any) -> None:
        crashes.append(exception)

    app.extensions["hostile_on_exception"] = on_exception
    fw.got_request_exception.connect(on_exception, app)
    return app, capture, crashes
