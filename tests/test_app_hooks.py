"""Request hooks: order, short-circuits, teardown with errors from every
phase of a request, and the per-chain hook cache."""

import pytest

import erlen
from erlen.globals import _cv_app
from erlen.globals import _cv_request


def test_before_request_order_and_short_circuit(app, client):
    calls = []

    @app.before_request
    def first():
        calls.append("first")

    @app.before_request
    def second():
        calls.append("second")
        if erlen.request.args.get("stop"):
            return "stopped"

    @app.before_request
    def third():
        calls.append("third")

    @app.route("/")
    def index():
        calls.append("view")
        return "view"

    assert client.get("/").data == b"view"
    assert calls == ["first", "second", "third", "view"]
    calls.clear()
    assert client.get("/?stop=1").data == b"stopped"
    assert calls == ["first", "second"]


def test_short_circuit_response_still_processed(app, client):
    app.before_request(lambda: ("early", 202))

    @app.after_request
    def after(response):
        response.headers["X-After"] = "yes"
        return response

    rv = client.get("/whatever")
    assert rv.status_code == 202
    assert rv.headers["X-After"] == "yes"


def test_after_request_reverse_order(app, client):
    calls = []

    for name in ("a", "b", "c"):

        def after(response, name=name):
            calls.append(name)
            return response

        app.after_request(after)

    app.add_url_rule("/", "i", lambda: "x")
    client.get("/")
    assert calls == ["c", "b", "a"]


def test_after_request_can_replace_response(app, client):
    app.add_url_rule("/", "i", lambda: "original")
    app.after_request(lambda response: erlen.Response("replaced"))
    assert client.get("/").data == b"replaced"


def test_teardown_request_gets_none_or_exception(app, client):
    seen = []
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.teardown_request
    def td(exc):
        seen.append(exc)

    app.add_url_rule("/ok", "ok", lambda: "ok")

    @app.route("/boom")
    def boom():
        raise ZeroDivisionError()

    client.get("/ok")
    assert client.get("/boom").status_code == 500
    assert seen[0] is None
    assert isinstance(seen[1], ZeroDivisionError)


def test_teardown_order_and_appcontext(app, client):
    calls = []
    app.teardown_request(lambda e: calls.append("req1"))
    app.teardown_request(lambda e: calls.append("req2"))
    app.teardown_appcontext(lambda e: calls.append("app1"))
    app.teardown_appcontext(lambda e: calls.append("app2"))
    app.add_url_rule("/", "i", lambda: "x")
    client.get("/")
    assert calls == ["req2", "req1", "app2", "app1"]


def test_handled_error_is_not_passed_to_teardown(app, client):
    seen = []
    app.teardown_request(seen.append)

    @app.errorhandler(KeyError)
    def handle(e):
        return "handled", 400

    @app.route("/")
    def index():
        raise KeyError("x")

    assert client.get("/").status_code == 400
    assert seen == [None]


def _boom(*args):
    raise RuntimeError("boom")


PHASES = [
    "before_request",
    "view",
    "after_request",
    "teardown_request",
    "teardown_appcontext",
]


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("propagate", [True, False])
def test_error_in_any_phase_pops_contexts_and_runs_every_teardown(
    app, phase, propagate
):
    """Whatever raises, both contexts end popped and every teardown function
    runs; with propagation the error reaches the caller."""
    app.config["PROPAGATE_EXCEPTIONS"] = propagate
    calls = []

    if phase == "before_request":
        app.before_request(_boom)
    if phase == "after_request":
        app.after_request(_boom)

    @app.route("/")
    def index():
        if phase == "view":
            _boom()
        return "fine"

    app.teardown_request(lambda e: calls.append("req-a"))
    if phase == "teardown_request":
        app.teardown_request(_boom)
    app.teardown_request(lambda e: calls.append("req-c"))
    app.teardown_appcontext(lambda e: calls.append("app-a"))
    if phase == "teardown_appcontext":
        app.teardown_appcontext(_boom)
    app.teardown_appcontext(lambda e: calls.append("app-c"))

    client = app.test_client()
    raises = propagate or phase.startswith("teardown")
    if raises:
        with pytest.raises(RuntimeError, match="boom"):
            client.get("/")
    else:
        assert client.get("/").status_code == 500

    assert sorted(calls) == ["app-a", "app-c", "req-a", "req-c"]
    assert _cv_request.get(None) is None
    assert _cv_app.get(None) is None


def test_error_while_saving_session_pops_contexts(app, client, monkeypatch):
    calls = []
    app.teardown_request(lambda e: calls.append(type(e)))
    app.teardown_appcontext(lambda e: calls.append(type(e)))

    def broken_save(*args):
        raise OSError("disk full")

    monkeypatch.setattr(type(app.session_interface), "save_session", broken_save)

    @app.route("/")
    def index():
        erlen.session["x"] = 1
        return "x"

    with pytest.raises(OSError, match="disk full"):
        client.get("/")
    assert calls == [OSError, OSError]
    assert _cv_request.get(None) is None
    assert _cv_app.get(None) is None


def test_error_in_error_handler_pops_contexts(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    calls = []
    app.teardown_request(lambda e: calls.append("req"))

    @app.errorhandler(500)
    def broken(e):
        raise ValueError("handler broke")

    @app.route("/")
    def index():
        raise KeyError()

    with pytest.raises(ValueError, match="handler broke"):
        client.get("/")
    assert calls == ["req"]
    assert _cv_request.get(None) is None


def test_url_value_preprocessor_runs_before_before_request(app, client):
    calls = []

    @app.url_value_preprocessor
    def pre(endpoint, values):
        calls.append(("pre", endpoint, dict(values)))

    @app.before_request
    def before():
        calls.append(("before",))

    app.add_url_rule("/<x>", "v", lambda x: x)
    client.get("/1")
    assert calls == [("pre", "v", {"x": "1"}), ("before",)]


def test_context_processor(app):
    @app.context_processor
    def inject():
        return {"injected": "yes"}

    with app.test_request_context():
        assert erlen.render_template_string("{{ injected }}") == "yes"


def test_hooks_added_directly_to_registries_are_seen(app, client):
    calls = []
    app.add_url_rule("/", "i", lambda: "x")
    app.before_request_funcs.setdefault(None, []).append(lambda: calls.append("a"))
    client.get("/")
    assert calls == ["a"]


def test_hook_cache_sees_hooks_added_after_a_request(app):
    calls = []
    app.add_url_rule("/", "i", lambda: "x")
    app.test_client().get("/")
    # Setup methods are locked after the first request, but the registries
    # themselves may still be changed, and must be seen.
    app.before_request_funcs[None].append(lambda: calls.append("appended"))
    app.test_client().get("/")
    app.after_request_funcs[None] = [lambda r: (calls.append("replaced"), r)[1]]
    app.test_client().get("/")
    assert calls == ["appended", "appended", "replaced"]


def test_no_hooks_means_no_preprocess_work(app):
    with app.test_request_context():
        assert app.preprocess_request() is None


def test_registries_replaced_by_plain_dicts_still_work(app, client):
    from collections import defaultdict

    calls = []
    app.before_request_funcs = defaultdict(list, {None: [lambda: calls.append("b")]})
    app.after_request_funcs = {None: [lambda r: (calls.append("a"), r)[1]]}
    app.teardown_request_funcs = {None: [lambda e: calls.append("t")]}
    app.add_url_rule("/", "i", lambda: "x")
    assert client.get("/").data == b"x"
    assert calls == ["b", "a", "t"]
