"""wsgi_app() takes a plain app's request inline, with the binding and match
of a URL it has seen from the app's route memo. Everything here must behave
as the context methods it stands in for: what changes the binding or the
match (new rules, a new map, SERVER_NAME, trusted hosts, an Upgrade header)
is seen on the next request."""

from __future__ import annotations

import pytest
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.test import EnvironBuilder

import erlen
from erlen import ctx as ctx_module
from erlen.ctx import RequestContext
from erlen.globals import _cv_request


def _build(app):
    @app.route("/")
    def index():
        return "index"

    @app.route("/a/<name>")
    def by_name(name):
        erlen.request.view_args["touched"] = True  # must not reach the memo
        return f"name {name}"

    @app.route("/link")
    def link():
        return erlen.url_for("index", _external=True)

    return app


@pytest.fixture
def app():
    return _build(erlen.Flask(__name__))


def _call(app, path="/", **kwargs):
    """One request straight through ``app(environ, start_response)``."""
    environ = EnvironBuilder(path, **kwargs).get_environ()
    status = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    return int(status[0].split()[0]), body


def test_a_seen_url_comes_from_the_memo_with_fresh_view_args(app):
    assert _call(app, "/a/x") == (200, b"name x")
    assert len(app._route_memo) == 1
    (_binding, rule, view_args), = app._route_memo.values()
    assert rule.endpoint == "by_name" and view_args == {"name": "x"}
    for _ in range(2):
        assert _call(app, "/a/x") == (200, b"name x")
    # The view's change to its own view_args stayed with its request.
    assert view_args == {"name": "x"}
    assert _call(app, "/a/y") == (200, b"name y")
    assert len(app._route_memo) == 2


def test_the_memo_context_has_what_the_constructor_sets(app):
    seen = []

    @app.route("/ctx")
    def ctx_view():
        ctx = _cv_request.get()
        seen.append((type(ctx), dict(vars(ctx)), ctx.url_adapter))
        return "ok"

    for _ in range(2):
        assert _call(app, "/ctx") == (200, b"ok")
    assert len(app._route_memo) == 1  # the second request came from it
    (cls1, first, adapter1), (cls2, second, adapter2) = seen
    assert cls1 is cls2 is RequestContext
    fresh = vars(RequestContext(app, EnvironBuilder("/ctx").get_environ()))
    assert list(second) == list(first)  # same attributes, same order
    assert set(fresh) <= set(second)
    for name in fresh:
        if name not in ("app", "request", "_after_request_functions", "_cv_tokens",
                        "_url_adapter"):
            assert type(second[name]) is type(first[name]), name
    # The first request matched with an adapter; the second needed none, and
    # its adapter was made when the view read it.
    assert second["_url_adapter"] is ctx_module._UNMADE
    assert second["_binding"] == first["_binding"]
    assert adapter2.path_info == adapter1.path_info == "/ctx"
    assert adapter2.map is app.url_map


def test_the_app_context_has_what_its_constructor_sets(app):
    seen = []

    @app.route("/app-ctx")
    def app_ctx_view():
        app_ctx = erlen.globals._cv_app.get()
        erlen.g.value = len(seen)
        seen.append((type(app_ctx), list(vars(app_ctx)), app_ctx))
        return "ok"

    for _ in range(2):
        assert _call(app, "/app-ctx") == (200, b"ok")
    (cls1, names1, ctx1), (cls2, names2, ctx2) = seen
    assert cls1 is cls2 is ctx_module.AppContext
    expected = list(vars(ctx_module.AppContext(app)))
    # The same attributes in the same order, then g (made on first use).
    assert names1 == names2 == [*expected, "g"]
    assert ctx1 is not ctx2
    assert (ctx1.g.value, ctx2.g.value) == (0, 1)  # a g of its own each
    assert ctx1._cv_tokens == ctx2._cv_tokens == []  # popped
    assert erlen.globals._cv_app.get(None) is None


def test_a_rule_added_to_the_map_directly_is_matched(app):
    assert _call(app, "/a/b") == (200, b"name b")
    app.url_map.add(Rule("/a/b", endpoint="exact"))
    app.view_functions["exact"] = lambda: "exact"
    assert _call(app, "/a/b") == (200, b"exact")
    assert _call(app, "/a/c") == (200, b"name c")


def test_a_new_url_map_is_used(app):
    assert _call(app, "/") == (200, b"index")
    app.url_map = Map([Rule("/", endpoint="other")])
    app.view_functions["other"] = lambda: "other"
    assert _call(app, "/") == (200, b"other")


def test_a_server_name_set_later_is_used(app):
    assert _call(app, "/link") == (200, b"http://localhost/")
    app.config["SERVER_NAME"] = "example.test"
    expected = _build(erlen.Flask("fresh"))
    expected.config["SERVER_NAME"] = "example.test"
    assert _call(app, "/link") == _call(expected, "/link")
    assert _call(app, "/link")[1] == b"http://example.test/"


def test_trusted_hosts_set_later_are_checked(app):
    assert _call(app, "/", base_url="http://bad.test") == (200, b"index")
    app.config["TRUSTED_HOSTS"] = ["good.test"]
    assert _call(app, "/", base_url="http://bad.test")[0] == 400
    assert _call(app, "/", base_url="http://good.test") == (200, b"index")


def test_trusted_hosts_of_the_request_class_are_checked():
    class Request(erlen.Request):
        pass

    app = _build(erlen.Flask(__name__))
    app.request_class = Request
    assert _call(app, "/", base_url="http://bad.test") == (200, b"index")
    Request.trusted_hosts = ["good.test"]
    assert _call(app, "/", base_url="http://bad.test")[0] == 400


def test_an_upgrade_request_is_bound_and_matched_afresh(app):
    assert _call(app, "/") == (200, b"index")
    headers = {"Upgrade": "websocket", "Connection": "Upgrade"}
    fresh = _build(erlen.Flask("fresh"))
    status = _call(app, "/", headers=headers)
    assert status == _call(fresh, "/", headers=headers)
    assert status[0] == 400  # werkzeug: a websocket request for an HTTP rule


def test_a_patched_context_method_is_called(app, monkeypatch):
    assert _call(app, "/") == (200, b"index")
    pushed = []
    push = RequestContext.push

    def counting_push(self):
        pushed.append(self)
        push(self)

    monkeypatch.setattr(RequestContext, "push", counting_push)
    assert _call(app, "/") == (200, b"index")
    assert len(pushed) == 1


def test_an_overridden_dispatch_request_is_called():
    class App(erlen.Flask):
        def dispatch_request(self):
            return "overridden"

    app = _build(App(__name__))
    for _ in range(2):
        assert _call(app, "/") == (200, b"overridden")


def test_the_memo_stays_bounded(app):
    for n in range(1100):
        assert _call(app, f"/a/{n}")[0] == 200
    assert 0 < len(app._route_memo) <= 1024
    assert len(app.url_map.__dict__[ctx_module._MATCH_MEMO]) <= 1024
