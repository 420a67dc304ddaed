"""App and request contexts, ``g``, and the helpers that use the current
request context."""

import threading

import pytest

import erlen
from erlen.globals import _cv_app
from erlen.globals import _cv_request
from erlen.globals import app_ctx as app_ctx_proxy
from erlen.globals import request_ctx


def test_app_context_sets_current_app_and_g(app):
    assert not erlen.has_app_context()
    with app.app_context() as ctx:
        assert erlen.has_app_context()
        assert erlen.current_app._get_current_object() is app
        assert app_ctx_proxy._get_current_object() is ctx
        erlen.g.value = 42
        assert ctx.g.value == 42
    assert not erlen.has_app_context()
    with pytest.raises(RuntimeError, match="application context"):
        _ = erlen.current_app.name


def test_g_is_fresh_per_app_context(app):
    with app.app_context():
        erlen.g.x = 1
    with app.app_context():
        assert "x" not in erlen.g
        assert erlen.g.get("x") is None


def test_g_dict_like_methods(app_ctx):
    g = erlen.g
    assert g.get("a", 5) == 5
    assert g.setdefault("a", 1) == 1
    assert g.setdefault("a", 2) == 1
    g.b = 2
    assert "a" in g and "b" in g
    assert sorted(g) == ["a", "b"]
    assert g.pop("a") == 1
    assert g.pop("a", "gone") == "gone"
    with pytest.raises(KeyError):
        g.pop("a")
    with pytest.raises(AttributeError):
        _ = g.missing
    del g.b
    assert list(g) == []


def test_g_repr_names_the_app(app):
    with app.app_context():
        assert repr(erlen.g) == "<erlen.g of 'erlen_test'>"
    g_obj = app.app_ctx_globals_class()
    assert repr(g_obj).startswith("<erlen.ctx._AppCtxGlobals object")


def test_request_context_pushes_app_context(app):
    ctx = app.test_request_context("/?q=1")
    assert _cv_app.get(None) is None
    ctx.push()
    try:
        assert erlen.has_request_context()
        assert erlen.current_app._get_current_object() is app
        assert erlen.request.args["q"] == "1"
        assert request_ctx._get_current_object() is ctx
    finally:
        ctx.pop()
    assert _cv_app.get(None) is None
    assert _cv_request.get(None) is None


def test_request_context_reuses_active_app_context_of_same_app(app):
    with app.app_context() as actx:
        with app.test_request_context():
            assert _cv_app.get() is actx
        assert _cv_app.get() is actx


def test_request_context_pushes_new_app_context_for_other_app(app):
    other = erlen.Flask("other")
    with app.app_context() as actx:
        with other.test_request_context():
            assert erlen.current_app._get_current_object() is other
            assert _cv_app.get() is not actx
        assert _cv_app.get() is actx


def test_nested_push_of_same_request_context(app):
    calls = []
    app.teardown_request(lambda exc: calls.append(exc))
    ctx = app.test_request_context()
    ctx.push()
    ctx.push()
    ctx.pop()
    assert calls == []  # teardown only on the last pop
    assert _cv_request.get() is ctx
    ctx.pop()
    assert calls == [None]
    assert _cv_request.get(None) is None


def test_popping_wrong_context_raises(app):
    first = app.test_request_context("/a")
    second = app.test_request_context("/b")
    first.push()
    second.push()
    with pytest.raises(AssertionError, match="Popped wrong request context"):
        first.pop()
    # first.pop() reset the variable to what it was before first.push():
    # nothing is current any more, and second's app context was not popped.
    assert _cv_request.get(None) is None
    leftover = _cv_app.get(None)
    while leftover is not None:
        _cv_app.reset(leftover._cv_tokens.pop())
        leftover = _cv_app.get(None)


def test_popping_wrong_app_context_raises(app):
    a = app.app_context()
    b = app.app_context()
    a.push()
    b.push()
    with pytest.raises(AssertionError, match="Popped wrong app context"):
        a.pop()
    assert _cv_app.get(None) is None


def test_pop_passes_current_exception_to_teardown(app):
    seen = []
    app.teardown_request(lambda exc: seen.append(("req", type(exc))))
    app.teardown_appcontext(lambda exc: seen.append(("app", type(exc))))
    ctx = app.test_request_context()
    ctx.push()
    try:
        raise KeyError("x")
    except KeyError:
        ctx.pop()
    assert seen == [("req", KeyError), ("app", KeyError)]


def test_with_block_passes_exception_to_teardown(app):
    seen = []
    app.teardown_request(lambda exc: seen.append(exc))
    with pytest.raises(ZeroDivisionError):
        with app.test_request_context():
            _ = 1 / 0
    assert isinstance(seen[0], ZeroDivisionError)


def test_auto_pop_is_pop(app):
    seen = []
    app.teardown_request(lambda exc: seen.append(exc))
    ctx = app.test_request_context()
    ctx.push()
    err = ValueError("boom")
    ctx.auto_pop(err)
    assert seen == [err]
    assert _cv_request.get(None) is None


def test_match_request_sets_rule_and_view_args(app):
    @app.route("/user/<int:uid>")
    def user(uid):
        return str(uid)

    with app.test_request_context("/user/7") as ctx:
        assert ctx.request.url_rule.rule == "/user/<int:uid>"
        assert ctx.request.view_args == {"uid": 7}
        assert erlen.request.endpoint == "user"
        assert ctx.request.routing_exception is None


def test_routing_error_is_kept_not_raised(app):
    with app.test_request_context("/missing") as ctx:
        assert ctx.request.url_rule is None
        assert ctx.request.routing_exception.code == 404


def test_copy_shares_request_and_session(app):
    with app.test_request_context("/x") as ctx:
        erlen.session["k"] = "v"
        copied = ctx.copy()
    assert copied.request is ctx.request
    with copied:
        assert erlen.session["k"] == "v"
        assert erlen.request.path == "/x"


def test_copy_current_request_context_in_thread(app, client):
    results = {}

    @app.route("/")
    def index():
        erlen.session["who"] = "main"

        @erlen.copy_current_request_context
        def work():
            results["path"] = erlen.request.path
            results["session"] = erlen.session["who"]
            results["app"] = erlen.current_app.name

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return "ok"

    assert client.get("/").data == b"ok"
    assert results == {"path": "/", "session": "main", "app": "erlen_test"}


def test_copy_current_request_context_needs_request():
    with pytest.raises(RuntimeError, match="copy_current_request_context"):
        erlen.copy_current_request_context(lambda: None)


def test_after_this_request(app, client):
    @app.route("/")
    def index():
        @erlen.after_this_request
        def add_header(response):
            response.headers["X-Foo"] = "a"
            return response

        return "body"

    @app.after_request
    def after(response):
        # after_this_request functions run before the after_request ones.
        response.headers["X-Order"] = response.headers.get("X-Foo", "none")
        return response

    rv = client.get("/")
    assert rv.headers["X-Foo"] == "a"
    assert rv.headers["X-Order"] == "a"
    with pytest.raises(RuntimeError, match="after_this_request"):
        erlen.after_this_request(lambda r: r)


def test_after_this_request_only_affects_its_request(app, client):
    count = {"n": 0}

    @app.route("/")
    def index():
        count["n"] += 1
        if count["n"] == 1:
            erlen.after_this_request(lambda r: (r.headers.set("X-First", "1"), r)[1])
        return "x"

    assert client.get("/").headers.get("X-First") == "1"
    assert client.get("/").headers.get("X-First") is None


def test_context_reprs(app):
    with app.test_request_context("/p", method="POST") as ctx:
        assert repr(ctx) == "<RequestContext 'http://localhost/p' [POST] of erlen_test>"
        assert repr(_cv_app.get()) == "<AppContext of 'erlen_test'>"


def test_app_ctx_url_adapter_needs_server_name(app):
    with app.app_context() as ctx:
        assert ctx.url_adapter is None
    app.config["SERVER_NAME"] = "example.com"
    with app.app_context() as ctx:
        assert ctx.url_adapter is not None


def test_session_not_opened_before_push(app):
    ctx = app.test_request_context()
    with pytest.raises(AssertionError, match="not yet been opened"):
        _ = ctx.session


def test_custom_session_interface_opened_on_push(app):
    from erlen.sessions import SecureCookieSession
    from erlen.sessions import SessionInterface

    opened = []

    class Interface(SessionInterface):
        def open_session(self, app_, request):
            # The request context is already current while opening.
            opened.append(erlen.request.path)
            return SecureCookieSession()

        def save_session(self, app_, session, response):
            pass

    app.session_interface = Interface()
    with app.test_request_context("/here"):
        assert opened == ["/here"]


def test_threads_do_not_share_request_session_or_g(app):
    app.config["SECRET_KEY"] = "k"
    barrier = threading.Barrier(4)
    results = {}
    errors = []

    @app.route("/<name>")
    def view(name):
        erlen.g.name = name
        erlen.session["name"] = name
        barrier.wait(timeout=5)  # every thread is inside its request now
        results[name] = (
            erlen.g.name,
            erlen.session["name"],
            erlen.request.view_args["name"],
        )
        return name

    def run(name):
        try:
            rv = app.test_client().get(f"/{name}")
            assert rv.data == name.encode()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(f"t{i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert results == {f"t{i}": (f"t{i}",) * 3 for i in range(4)}


def test_context_not_visible_in_other_thread(app):
    seen = []
    with app.test_request_context():
        th = threading.Thread(target=lambda: seen.append(erlen.has_request_context()))
        th.start()
        th.join()
    assert seen == [False]


def test_uploaded_files_closed_when_context_pops(app, client):
    import io

    kept = []

    @app.post("/")
    def upload():
        f = erlen.request.files["f"]
        kept.append(f)
        assert not f.stream.closed
        return f.read()

    assert client.post("/", data={"f": (io.BytesIO(b"data"), "a.txt")}).data == b"data"
    assert kept[0].stream.closed


def test_files_reached_through_the_form_or_set_directly_are_closed(app):
    import io

    from werkzeug.datastructures import FileStorage
    from werkzeug.datastructures import MultiDict

    opened = []
    with app.test_request_context(
        "/", method="POST", data={"f": (io.BytesIO(b"x"), "a.txt")}
    ) as ctx:
        assert erlen.request.form == {}  # loads the files too
        opened.append(ctx.request.__dict__["files"]["f"])
    with app.test_request_context() as ctx:
        set_directly = FileStorage(io.BytesIO(b"y"), "b.txt")
        ctx.request.files = MultiDict({"g": set_directly})
        opened.append(set_directly)
    assert [f.stream.closed for f in opened] == [True, True]


def test_custom_request_close_is_called(app):
    closed = []

    class MyRequest(erlen.Request):
        def close(self):
            closed.append(True)
            super().close()

    app.request_class = MyRequest
    with app.test_request_context():
        pass
    assert closed == [True]


def test_app_context_url_adapter_follows_config_and_can_be_set(app):
    with app.app_context() as ctx:
        assert ctx.url_adapter is None
        ctx.url_adapter = "custom"
        assert ctx.url_adapter == "custom"
    app.config["SERVER_NAME"] = "srv.test"
    with app.app_context() as ctx:
        assert ctx.url_adapter.server_name == "srv.test"


def test_g_is_made_with_the_context_and_can_be_replaced(app):
    made = []

    class G(erlen.ctx._AppCtxGlobals):
        def __init__(self):
            made.append(self)

    app.app_ctx_globals_class = G
    ctx = app.app_context()
    assert made == [ctx.g]
    with ctx:
        assert erlen.g._get_current_object() is made[0]
        assert ctx.g is made[0]
        ctx.g = replacement = G()
        assert erlen.g._get_current_object() is replacement
    assert len(made) == 2
