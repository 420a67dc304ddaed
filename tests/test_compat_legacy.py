"""APIs that Flask 3 removed and erlen keeps: the context stacks and
``before_first_request``."""

import threading
import time
import warnings

import pytest

import erlen
from erlen import compat
from erlen import globals as erlen_globals
from erlen.globals import _cv_app
from erlen.globals import _cv_request


@pytest.fixture(params=["_app_ctx_stack", "_request_ctx_stack"])
def fresh_stack(request, monkeypatch):
    stack = getattr(erlen_globals, request.param)
    monkeypatch.setattr(stack, "_warned", False)
    return stack


def test_stacks_importable_from_package():
    assert erlen._app_ctx_stack is erlen_globals._app_ctx_stack
    assert erlen._request_ctx_stack is erlen_globals._request_ctx_stack


def test_first_use_warns_once(fresh_stack):
    with pytest.warns(DeprecationWarning, match=fresh_stack._name) as record:
        _ = fresh_stack.top
    assert "erlen.globals" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ = fresh_stack.top  # no second warning
        fresh_stack.pop()  # nothing pushed: returns None, no warning


def test_top_follows_contexts(app, monkeypatch):
    monkeypatch.setattr(erlen_globals._app_ctx_stack, "_warned", True)
    monkeypatch.setattr(erlen_globals._request_ctx_stack, "_warned", True)
    assert erlen._app_ctx_stack.top is None
    assert erlen._request_ctx_stack.top is None
    with app.test_request_context() as ctx:
        assert erlen._request_ctx_stack.top is ctx
        assert erlen._app_ctx_stack.top is _cv_app.get()
        assert erlen._app_ctx_stack.top.app is app
    assert erlen._request_ctx_stack.top is None


def test_old_style_attribute_storage_on_top(app, monkeypatch):
    """Extensions written for old Flask stored their state on ``top``."""
    monkeypatch.setattr(erlen_globals._app_ctx_stack, "_warned", True)
    with app.app_context():
        erlen._app_ctx_stack.top.my_ext_db = "conn"
        assert erlen_globals.app_ctx.my_ext_db == "conn"


def test_push_and_pop_through_stack(app, monkeypatch):
    monkeypatch.setattr(erlen_globals._app_ctx_stack, "_warned", True)
    monkeypatch.setattr(erlen_globals._request_ctx_stack, "_warned", True)
    app_ctx = app.app_context()
    req_ctx = app.test_request_context("/pushed")
    erlen._app_ctx_stack.push(app_ctx)
    erlen._request_ctx_stack.push(req_ctx)
    assert erlen.current_app._get_current_object() is app
    assert erlen.request.path == "/pushed"
    assert erlen._request_ctx_stack.pop() is req_ctx
    assert _cv_request.get(None) is None
    assert erlen._app_ctx_stack.pop() is app_ctx
    assert _cv_app.get(None) is None


def test_pop_of_normally_pushed_context_runs_teardown(app, monkeypatch):
    monkeypatch.setattr(erlen_globals._request_ctx_stack, "_warned", True)
    calls = []
    app.teardown_request(lambda e: calls.append("req"))
    app.teardown_appcontext(lambda e: calls.append("app"))
    ctx = app.test_request_context()
    ctx.push()
    assert erlen._request_ctx_stack.pop() is ctx
    assert calls == ["req", "app"]
    assert _cv_request.get(None) is None
    assert _cv_app.get(None) is None


def test_stack_push_is_per_thread(app, monkeypatch):
    monkeypatch.setattr(erlen_globals._app_ctx_stack, "_warned", True)
    seen = []
    ctx = app.app_context()
    erlen._app_ctx_stack.push(ctx)
    try:
        th = threading.Thread(target=lambda: seen.append(erlen._app_ctx_stack.top))
        th.start()
        th.join()
    finally:
        erlen._app_ctx_stack.pop()
    assert seen == [None]


def test_before_first_request_runs_once(app, client):
    calls = []
    with pytest.warns(DeprecationWarning, match="before_first_request"):

        @app.before_first_request
        def setup():
            calls.append(len(calls))

    assert app.before_first_request_funcs == [setup]
    app.add_url_rule("/", "i", lambda: str(calls))
    assert client.get("/").data == b"[0]"
    assert client.get("/").data == b"[0]"
    assert calls == [0]


def test_before_first_request_runs_before_request_started(app, client):
    order = []
    with pytest.warns(DeprecationWarning):
        app.before_first_request(lambda: order.append("first"))
    app.before_request(lambda: order.append("before"))
    app.add_url_rule("/", "i", lambda: "x")
    client.get("/")
    client.get("/")
    assert order == ["first", "before", "before"]


def test_before_first_request_can_still_set_up(app, client):
    def setup():
        # Setup methods are still allowed while the first request is being
        # prepared.
        app.add_url_rule("/late", "late", lambda: "late")

    with pytest.warns(DeprecationWarning):
        app.before_first_request(setup)
    app.add_url_rule("/", "i", lambda: "x")
    client.get("/")
    assert client.get("/late").data == b"late"


def test_before_first_request_once_under_concurrency(app):
    calls = []
    started = threading.Event()

    def slow_setup():
        calls.append(threading.get_ident())
        started.set()
        time.sleep(0.2)  # others arrive while this runs

    with pytest.warns(DeprecationWarning):
        app.before_first_request(slow_setup)

    done = []

    @app.route("/")
    def index():
        # Every request starts only after the setup finished.
        done.append(len(calls))
        return "x"

    threads = [
        threading.Thread(target=lambda: app.test_client().get("/")) for _ in range(6)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(calls) == 1
    assert done == [1] * 6


def test_try_trigger_directly(app, monkeypatch):
    monkeypatch.setattr(compat, "_warned", set())
    calls = []
    with pytest.warns(DeprecationWarning):
        app.before_first_request(lambda: calls.append(1))
    with pytest.warns(DeprecationWarning, match="try_trigger_before_first_request"):
        app.try_trigger_before_first_request_functions()
    app.try_trigger_before_first_request_functions()
    assert calls == [1]
    assert app._got_first_request


def test_before_first_request_error_retries_next_request(app):
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("not ready")

    with pytest.warns(DeprecationWarning):
        app.before_first_request(flaky)
    app.add_url_rule("/", "i", lambda: "x")
    client = app.test_client()
    with pytest.raises(RuntimeError, match="not ready"):
        client.get("/")
    assert client.get("/").data == b"x"
    assert len(attempts) == 2


def test_async_before_first_request(app, client):
    pytest.importorskip("asgiref")
    calls = []

    async def setup():
        calls.append("async")

    with pytest.warns(DeprecationWarning):
        app.before_first_request(setup)
    app.add_url_rule("/", "i", lambda: "x")
    client.get("/")
    assert calls == ["async"]


def test_ident_func_for_old_scoped_sessions(monkeypatch):
    stack = erlen_globals._app_ctx_stack
    monkeypatch.setattr(stack, "_warned", True)
    ident = stack.__ident_func__
    seen = []
    th = threading.Thread(target=lambda: seen.append(ident()))
    th.start()
    th.join()
    assert ident() == ident()
    assert seen[0] != ident()


def test_ident_func_without_greenlet_is_the_thread_ident(monkeypatch):
    import sys

    stack = erlen_globals._request_ctx_stack
    monkeypatch.setattr(stack, "_warned", True)
    monkeypatch.setitem(sys.modules, "greenlet", None)
    assert stack.__ident_func__ is threading.get_ident


def test_stack_repr():
    assert repr(erlen_globals._app_ctx_stack) == (
        "<legacy context stack '_app_ctx_stack'>"
    )


def test_stack_call_gives_a_proxy_to_top(app, monkeypatch):
    stack = erlen_globals._app_ctx_stack
    monkeypatch.setattr(stack, "_warned", True)
    proxy = stack()
    with app.app_context():
        assert proxy.app is app
