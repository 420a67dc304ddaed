"""Fault injection into every phase of a request.

For each phase (URL matching through a converter and a URL value
preprocessor, ``before_first_request``, ``before_request``, the view, an
error handler that itself raises, ``after_request``, session open and save,
``teardown_request``, ``teardown_appcontext``, a plain generator body and a
``stream_with_context`` body) one request fails with :class:`Injected`, under
every combination of ``PROPAGATE_EXCEPTIONS`` and ``TESTING`` that matters,
driven through the test client and through a bare WSGI call. Each test
checks:

- the client gets a 500 page, or the exception propagates when
  ``PROPAGATE_EXCEPTIONS`` (or its default, ``TESTING``) says so;
- ``got_request_exception`` and the app log saw the error exactly when a
  500 was produced;
- each of the four teardown functions ran exactly once, with the error;
- no app or request context is left pushed;
- the next request is served normally.

The behaviour was compared with Flask 3.1.3 running the same app
(``hostile_apps.build_fault_app(flask, ...)``). Deliberate differences:

- when a teardown function raises, Flask skips the teardown functions of the
  same kind that would have run after it; erlen runs all of them and raises
  the first error afterwards;
- with ``stream_with_context`` Flask runs the teardown functions twice (when
  the view returns, before the body, and again after it); erlen once, after
  the body.
"""

from __future__ import annotations

import logging
import typing as t

import pytest
from werkzeug.test import create_environ

import erlen
from erlen.globals import _cv_app
from erlen.globals import _cv_request

try:
    from . import hostile_apps as H
except ImportError:  # tests/reliability is not a package
    import hostile_apps as H  # type: ignore[no-redef]

# (PROPAGATE_EXCEPTIONS, TESTING): the default (None) follows TESTING.
MODES = [
    pytest.param(None, False, id="default-production"),
    pytest.param(None, True, id="default-testing"),
    pytest.param(True, False, id="propagate"),
    pytest.param(False, True, id="no-propagate-testing"),
    pytest.param(False, False, id="no-propagate"),
]

# Phases whose error goes through handle_exception(): a 500, or propagated.
DISPATCH_PHASES = (
    "url_converter",
    "url_value_preprocessor",
    "before_first_request",
    "before_request",
    "view",
    "error_handler",
    "after_request",
    "session_open",
    "session_save",
)
TEARDOWN_PHASES = ("teardown_request", "teardown_appcontext")
BODY_PHASES = ("generator", "stream_with_context")


def _phase_params() -> list[t.Any]:
    return [pytest.param(phase, id=phase) for phase in H.PHASES]


class Outcome:
    def __init__(self) -> None:
        self.status: int | None = None
        self.body: bytes | None = None
        self.error: BaseException | None = None
        self.body_error: BaseException | None = None
        self.content_type: str | None = None


def _via_client(app: t.Any, path: str) -> Outcome:
    out = Outcome()
    client = app.test_client()
    try:
        rv = client.get(path)
    except Exception as e:  # noqa: BLE001 - the outcome under test
        out.error = e
        return out
    out.status = rv.status_code
    out.content_type = rv.content_type
    try:
        out.body = rv.get_data()
    except Exception as e:  # noqa: BLE001 - the outcome under test
        out.body_error = e
    finally:
        rv.close()
    return out


def _via_wsgi(app: t.Any, path: str) -> Outcome:
    """Call the app as a WSGI server would: start_response, iterate the
    body, and always call ``close()`` on it."""
    out = Outcome()
    environ = create_environ(path, "http://localhost/")
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list, exc_info: t.Any = None) -> t.Any:
        started.append((status, headers))
        return lambda data: None

    try:
        app_iter = app(environ, start_response)
    except Exception as e:  # noqa: BLE001 - the outcome under test
        out.error = e
        return out
    try:
        chunks = []
        try:
            for chunk in app_iter:
                chunks.append(chunk)  # noqa: PERF402 - a failing body stops here
        except Exception as e:  # noqa: BLE001 - the outcome under test
            out.body_error = e
        else:
            out.body = b"".join(chunks)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    status, headers = started[0]
    out.status = int(status.split()[0])
    out.content_type = dict(headers).get("Content-Type")
    return out


DRIVERS = [
    pytest.param(_via_client, id="client"),
    pytest.param(_via_wsgi, id="wsgi"),
]


@pytest.fixture
def log_capture():
    """Capture the records of every app's logger (``erlen_fault_*``)."""
    captured = H.LogCapture()
    yield captured


def _build(phase: str, propagate: bool | None, testing: bool, capture: H.LogCapture):
    app, trigger, rec = H.build_fault_app(
        erlen, phase, propagate=propagate, testing=testing
    )
    app.logger.addHandler(capture)
    # The default handler would print the expected tracebacks to stderr.
    app.logger.propagate = False
    return app, trigger, rec


def _assert_no_context() -> None:
    assert _cv_app.get(None) is None
    assert _cv_request.get(None) is None


def _expected_body(phase: str, n: int) -> bytes:
    if phase == "generator":
        return b"ab"
    if phase == "stream_with_context":
        return f"{n}/item/{n}".encode()
    return f"item {n}".encode()


def _assert_next_request_normal(app: t.Any, phase: str, rec: H.Record, drive) -> None:
    before = rec.teardown_counts()
    out = drive(app, "/item/2")
    assert out.error is None and out.body_error is None
    assert out.status == 200
    assert out.body == _expected_body(phase, 2)
    assert rec.teardown_counts() == tuple(n + 1 for n in before)
    assert rec.teardown_request[-1] is None
    assert rec.teardown_appcontext[-1] is None
    _assert_no_context()


@pytest.mark.parametrize("drive", DRIVERS)
@pytest.mark.parametrize(("propagate", "testing"), MODES)
@pytest.mark.parametrize("phase", _phase_params())
def test_fault_in_phase(phase, propagate, testing, drive, log_capture):
    app, trigger, rec = _build(phase, propagate, testing, log_capture)
    # A normal request first, so before_first_request is not special.
    if phase != "before_first_request":
        warm = drive(app, "/item/0")
        assert warm.status == 200 and warm.body == _expected_body(phase, 0)
        rec.__init__()  # type: ignore[misc]
    log_capture.records.clear()

    trigger.arm()
    out = drive(app, "/item/1")
    assert trigger.fired == 1, "the fault was not injected"
    effective_propagate = testing if propagate is None else propagate

    if phase in DISPATCH_PHASES:
        if effective_propagate:
            assert isinstance(out.error, H.Injected)
            assert log_capture.errors == []
        else:
            assert out.error is None, out.error
            assert out.status == 500
            assert out.content_type is not None
            assert out.content_type.startswith("text/html")
            assert b"Internal Server Error" in (out.body or b"")
            assert [r.getMessage() for r in log_capture.errors] == [
                "Exception on /item/1 [GET]"
            ]
            exc_info = log_capture.errors[0].exc_info
            assert exc_info is not None and exc_info[0] is H.Injected
        assert [type(e) for e in rec.got_request_exception] == [H.Injected]
        excs = (
            rec.teardown_request
            + rec.teardown_request_other
            + rec.teardown_appcontext
            + rec.teardown_appcontext_other
        )
        assert all(isinstance(e, H.Injected) for e in excs), excs
    elif phase in TEARDOWN_PHASES:
        # The response was ready, but a teardown error always reaches the
        # server (Flask behaves the same).
        assert isinstance(out.error, H.Injected)
        assert rec.got_request_exception == []
        assert log_capture.errors == []
        assert rec.teardown_request == [None]
        assert rec.teardown_appcontext == [None]
    else:
        # The headers are sent; the body fails while the server iterates.
        assert out.error is None
        assert out.status == 200
        assert isinstance(out.body_error, H.Injected)
        assert rec.got_request_exception == []
        assert log_capture.errors == []

    # Every teardown function exactly once, even the ones that run after a
    # raising teardown function (Flask would skip those).
    assert rec.teardown_counts() == (1, 1, 1, 1)
    _assert_no_context()
    _assert_next_request_normal(app, phase, rec, drive)


@pytest.mark.parametrize("drive", DRIVERS)
@pytest.mark.parametrize(("propagate", "testing"), MODES)
def test_fault_in_stream_with_context_body(propagate, testing, drive, log_capture):
    """A stream_with_context body keeps its contexts: the teardown functions
    run once, after the body, and see the body's error (Flask 3.1.3 runs
    them twice, the first time before the body starts)."""
    app, trigger, rec = _build("stream_with_context", propagate, testing, log_capture)
    trigger.arm()
    out = drive(app, "/item/1")
    assert out.error is None and out.status == 200
    assert isinstance(out.body_error, H.Injected)
    assert rec.teardown_counts() == (1, 1, 1, 1)
    # The teardown ran after the body: it saw the body's error.
    assert isinstance(rec.teardown_request[-1], H.Injected)
    assert isinstance(rec.teardown_appcontext[-1], H.Injected)
    assert log_capture.errors == []
    _assert_no_context()
    out = drive(app, "/item/2")
    assert out.status == 200 and out.body == b"2/item/2"
    _assert_no_context()


def test_before_first_request_runs_again_after_failing(log_capture):
    """A failed first request does not mark the app as started: the
    functions run again on the next request, and then never again."""
    app, trigger, rec = _build("before_first_request", False, False, log_capture)
    trigger.arm()
    assert _via_client(app, "/item/1").status == 500
    assert rec.before_first_request == 1
    assert _via_client(app, "/item/2").status == 200
    assert _via_client(app, "/item/3").status == 200
    assert rec.before_first_request == 2
    _assert_no_context()


@pytest.mark.parametrize("propagate", [True, False])
def test_every_teardown_function_raises(propagate, log_capture):
    """All four teardown functions raise: all still run once, the contexts
    are popped, and an error reaches the server."""
    app, _trigger, rec = _build("view", propagate, True, log_capture)
    errors: list[str] = []

    @app.teardown_request
    def bad_request_teardown(exc: BaseException | None) -> None:
        errors.append("request")
        raise RuntimeError("teardown_request")

    @app.teardown_appcontext
    def bad_app_teardown(exc: BaseException | None) -> None:
        errors.append("app")
        raise RuntimeError("teardown_appcontext")

    with pytest.raises(RuntimeError, match="teardown_"):
        app.test_client().get("/item/1")
    assert errors == ["request", "app"]
    assert rec.teardown_counts() == (1, 1, 1, 1)
    _assert_no_context()


class Fatal(BaseException):
    """Not an Exception: like KeyboardInterrupt, never handled."""


@pytest.mark.parametrize(("propagate", "testing"), MODES)
@pytest.mark.parametrize("drive", DRIVERS)
def test_base_exception_propagates_and_tears_down(
    propagate, testing, drive, log_capture
):
    app, _trigger, rec = _build("view", propagate, testing, log_capture)

    @app.route("/fatal")
    def fatal() -> t.Any:
        raise Fatal()

    with pytest.raises(Fatal):
        drive(app, "/fatal")
    assert rec.teardown_counts() == (1, 1, 1, 1)
    assert isinstance(rec.teardown_request[0], Fatal)
    assert isinstance(rec.teardown_appcontext[0], Fatal)
    assert rec.got_request_exception == []
    _assert_no_context()
    _assert_next_request_normal(app, "view", rec, drive)


@pytest.mark.parametrize(
    "where", ["url_value_preprocessor", "before_request", "view", "after_request"]
)
@pytest.mark.parametrize(("propagate", "testing"), MODES)
def test_http_exception_in_phase_is_not_a_fault(where, propagate, testing, log_capture):
    """``abort(403)`` anywhere before the response is an answer, in every
    mode: no propagation, no log, teardown sees no error."""
    app, _trigger, rec = _build("view", propagate, testing, log_capture)
    if where == "url_value_preprocessor":
        app.url_value_preprocessor(lambda endpoint, values: erlen.abort(403))
    elif where == "before_request":
        app.before_request(lambda: erlen.abort(403))
    elif where == "view":

        @app.route("/forbidden/<faulty:n>")
        def forbidden(n: int) -> t.Any:
            erlen.abort(403)

    path = "/forbidden/1" if where == "view" else "/item/1"
    if where == "after_request":

        def after(response: t.Any) -> t.Any:
            erlen.abort(403)

        app.after_request(after)
        # An HTTP error from after_request is not handled by the dispatch
        # error handling (as in Flask): it goes through handle_exception.
        out = _via_client(app, path)
        effective = testing if propagate is None else propagate
        if effective:
            assert out.error is not None and getattr(out.error, "code", None) == 403
        else:
            assert out.status == 500
    else:
        out = _via_client(app, path)
        assert out.error is None
        assert out.status == 403
        assert log_capture.errors == []
        assert rec.got_request_exception == []
        assert rec.teardown_request == [None]
    assert rec.teardown_counts() == (1, 1, 1, 1)
    _assert_no_context()


@pytest.mark.parametrize("propagate", [True, False])
@pytest.mark.parametrize("phase", ["view", "session_save", "teardown_request"])
def test_fault_inside_client_block(phase, propagate, log_capture):
    """``with client:`` keeps the last request's contexts until the block
    ends, also after a fault; at the end nothing is left pushed, and the
    teardown functions have each run the same number of times."""
    app, trigger, rec = _build(phase, propagate, True, log_capture)
    trigger.arm()
    try:
        with app.test_client() as client:
            try:
                rv = client.get("/item/1")
            except H.Injected:
                rv = None
            if rv is not None:
                assert rv.status_code == 500
                assert _cv_request.get(None) is not None
                assert erlen.request.path == "/item/1"
    except H.Injected:
        # The kept contexts' teardown functions run when the block ends, so a
        # teardown function that raises does so there.
        assert phase == "teardown_request"
    counts = rec.teardown_counts()
    assert counts[0] >= 1 and len(set(counts)) == 1
    _assert_no_context()
    # The client still works afterwards.
    with app.test_client() as client:
        assert client.get("/item/5").data == b"item 5"
        assert erlen.g.n == 5
    _assert_no_context()


@pytest.mark.parametrize("fault", [False, True], ids=["ok", "500"])
def test_client_block_runs_teardown_once(fault, log_capture):
    app, trigger, rec = _build("view", False, True, log_capture)
    if fault:
        trigger.arm()
    with app.test_client() as client:
        assert client.get("/item/1").status_code == (500 if fault else 200)
        assert erlen.request.path == "/item/1"
    assert rec.teardown_counts() == (1, 1, 1, 1)
    _assert_no_context()


@pytest.mark.parametrize(("propagate", "testing"), MODES)
def test_fault_in_async_view(propagate, testing, log_capture):
    """An async view (run through asgiref) that raises behaves like a sync
    one."""
    pytest.importorskip("asgiref")
    app, _trigger, rec = _build("view", propagate, testing, log_capture)

    @app.route("/async")
    async def async_view() -> t.Any:
        raise H.Injected("async view")

    out = _via_client(app, "/async")
    effective = testing if propagate is None else propagate
    if effective:
        assert isinstance(out.error, H.Injected)
    else:
        assert out.status == 500
    assert rec.teardown_counts() == (1, 1, 1, 1)
    assert isinstance(rec.teardown_request[0], H.Injected)
    _assert_no_context()
    _assert_next_request_normal(app, "view", rec, _via_client)


def test_log_capture_sees_app_errors(log_capture):
    """Sanity check of the capture the other tests rely on."""
    app, trigger, _rec = _build("view", False, False, log_capture)
    trigger.arm()
    _via_client(app, "/item/1")
    assert log_capture.errors and log_capture.errors[0].levelno == logging.ERROR


def test_faults_in_concurrent_requests(log_capture):
    """Threads serve requests side by side, every third one failing in the
    view: each request gets its own answer, each teardown sees its own
    request's error exactly once, and no thread is left with a context."""
    import threading

    app = erlen.Flask(f"fault_threads_{id(log_capture)}")
    app.config.update(SECRET_KEY=H.SECRET, PROPAGATE_EXCEPTIONS=False)
    app.logger.addHandler(log_capture)
    app.logger.propagate = False
    seen: list[tuple[str, str, str | None]] = []
    lock = threading.Lock()

    @app.route("/work/<name>")
    def work(name: str) -> t.Any:
        erlen.g.name = name
        erlen.session["name"] = name
        if erlen.request.args.get("fail"):
            raise H.Injected(name)
        return name

    @app.teardown_request
    def record(exc: BaseException | None) -> None:
        with lock:
            seen.append(("request", erlen.g.name, str(exc) if exc else None))

    @app.teardown_appcontext
    def record_app(exc: BaseException | None) -> None:
        with lock:
            seen.append(("app", erlen.g.get("name"), str(exc) if exc else None))

    failures: list[str] = []
    leaks: list[str] = []
    per_thread = 30

    def worker(k: int) -> None:
        for i in range(per_thread):
            name = f"t{k}r{i}"
            fail = i % 3 == 0
            environ = create_environ(
                f"/work/{name}", query_string="fail=1" if fail else ""
            )
            status: list[str] = []
            body = b"".join(app(environ, lambda s, h, e=None, st=status: st.append(s)))
            expected = "500" if fail else "200"
            if not status[0].startswith(expected) or (
                not fail and body != name.encode()
            ):
                failures.append(f"{name}: {status[0]} {body[:40]!r}")
            if _cv_app.get(None) is not None or _cv_request.get(None) is not None:
                leaks.append(name)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
        assert not th.is_alive()
    assert failures == []
    assert leaks == []
    names = [f"t{k}r{i}" for k in range(4) for i in range(per_thread)]
    expected = [
        (kind, n, n if int(n.split("r")[1]) % 3 == 0 else None)
        for n in names
        for kind in ("request", "app")
    ]
    assert sorted(seen, key=repr) == sorted(expected, key=repr)
    assert len(log_capture.errors) == 4 * (per_thread // 3)
    _assert_no_context()
