"""``PRESERVE_CONTEXT_ON_EXCEPTION``, as Flask before 2.2 had it: set to
true, an unhandled error leaves the request context pushed, for a debugger
or a test to look at, until the next request context is pushed in the same
thread or it is popped by hand; its teardown functions run then.

Apart from the tests about warnings and about what Flask 2.2 changed, these
tests use only what Flask 2.1 had, and pass there too.
"""

import threading
import warnings

import pytest

import erlen
from erlen import Flask


@pytest.fixture
def app():
    app = Flask(__name__)
    app.config.update(PRESERVE_CONTEXT_ON_EXCEPTION=True)
    app.torn_down = []
    app.teardown_request(app.torn_down.append)

    @app.route("/fail")
    def fail():
        erlen.g.seen = erlen.request.args.get("n")
        return 1 // 0

    @app.route("/ok")
    def ok():
        return "ok"

    @app.route("/handled")
    def handled():
        raise LookupError()

    app.register_error_handler(LookupError, lambda e: ("handled", 418))
    return app


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
    # What a test left pushed on purpose.
    while erlen._request_ctx_stack.top is not None:
        erlen._request_ctx_stack.top.pop()


def error_types(app):
    return [type(e).__name__ for e in app.torn_down]


def test_the_request_stays_inspectable_after_a_500(app):
    client = app.test_client()
    response = client.get("/fail?n=1")
    assert response.status_code == 500
    assert erlen.request.path == "/fail" and erlen.request.args["n"] == "1"
    assert erlen.g.seen == "1" and erlen.current_app._get_current_object() is app
    ctx = erlen._request_ctx_stack.top
    assert ctx.preserved
    assert app.torn_down == []


def test_the_error_propagates_and_the_context_stays(app):
    app.testing = True
    with pytest.raises(ZeroDivisionError):
        app.test_client().get("/fail?n=2")
    assert erlen.request.args["n"] == "2"
    assert app.torn_down == []


def test_the_next_request_pops_it_with_its_error(app):
    client = app.test_client()
    client.get("/fail")
    assert client.get("/ok").data == b"ok"
    assert error_types(app) == ["ZeroDivisionError", "NoneType"]
    assert erlen._request_ctx_stack.top is None
    assert erlen._app_ctx_stack.top is None
    client.get("/ok")
    assert error_types(app) == ["ZeroDivisionError", "NoneType", "NoneType"]


def test_only_the_last_failed_request_is_kept(app):
    client = app.test_client()
    for n in range(3):
        client.get(f"/fail?n={n}")
    assert error_types(app) == ["ZeroDivisionError", "ZeroDivisionError"]
    assert erlen.request.args["n"] == "2"
    erlen._request_ctx_stack.top.pop()  # its app context goes too
    assert erlen._request_ctx_stack.top is None
    assert erlen._app_ctx_stack.top is None
    assert len(app.torn_down) == 3


def test_a_test_request_context_pops_it_too(app):
    app.test_client().get("/fail")
    with app.test_request_context("/other"):
        assert erlen.request.path == "/other"
        assert error_types(app) == ["ZeroDivisionError"]
    assert erlen._request_ctx_stack.top is None


def test_inside_an_app_context_of_ones_own(app):
    with app.app_context() as outer:
        app.test_client().get("/fail")
        assert erlen.request.path == "/fail"
        app.test_client().get("/ok")
        assert error_types(app) == ["ZeroDivisionError", "NoneType"]
        assert erlen._app_ctx_stack.top is outer
        assert erlen._request_ctx_stack.top is None


def test_popped_by_hand_then_another_request(app):
    client = app.test_client()
    client.get("/fail")
    erlen._request_ctx_stack.top.pop()
    client.get("/ok")
    assert len(app.torn_down) == 2 and erlen._request_ctx_stack.top is None


def test_off_by_default_and_for_handled_errors(app):
    app.config["PRESERVE_CONTEXT_ON_EXCEPTION"] = False
    client = app.test_client()
    assert client.get("/fail").status_code == 500
    assert erlen._request_ctx_stack.top is None
    app.config["PRESERVE_CONTEXT_ON_EXCEPTION"] = True
    assert client.get("/handled").status_code == 418
    assert client.get("/missing").status_code == 404
    assert erlen._request_ctx_stack.top is None
    assert error_types(app) == ["ZeroDivisionError", "NoneType", "NoneType"]


def test_kept_per_thread(app):
    client = app.test_client()
    client.get("/fail?n=main")
    seen = []

    def other():
        seen.append(erlen._request_ctx_stack.top)
        client.get("/fail?n=thread")
        seen.append(erlen.request.args["n"])
        erlen._request_ctx_stack.top.pop()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == [None, "thread"]
    assert erlen.request.args["n"] == "main"


def test_with_client_keeps_its_contexts_as_it_does(app):
    client = app.test_client()
    with client:
        client.get("/fail?n=w")
        assert erlen.request.args["n"] == "w"
        assert app.torn_down == []
    assert erlen._request_ctx_stack.top is None
    assert len(app.torn_down) == 1


def test_property_follows_debug_when_unset(app):
    assert app.preserve_context_on_exception is True
    app.config["PRESERVE_CONTEXT_ON_EXCEPTION"] = None
    app.debug = True
    assert app.preserve_context_on_exception is True
    app.debug = False
    assert app.preserve_context_on_exception is False


def test_unset_in_debug_mode_pops_as_flask_2_2_does(app):
    app.config["PRESERVE_CONTEXT_ON_EXCEPTION"] = None
    app.debug = True
    with pytest.raises(ZeroDivisionError):
        app.test_client().get("/fail")
    assert erlen._request_ctx_stack.top is None
    assert error_types(app) == ["ZeroDivisionError"]


def test_warns_once_when_it_keeps_a_context(app):
    from erlen import compat

    compat._warned.discard("PRESERVE_CONTEXT_ON_EXCEPTION")
    client = app.test_client()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        client.get("/ok")
        client.get("/fail")
        client.get("/fail")
    messages = [str(w.message) for w in record if w.category is DeprecationWarning]
    assert len(messages) == 1
    assert "PRESERVE_CONTEXT_ON_EXCEPTION" in messages[0]
    assert "with client:" in messages[0]
