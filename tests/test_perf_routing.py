"""Remembered URL matches of rules with arguments: only while every
converter of the map is werkzeug's own, and never shared between requests."""

from __future__ import annotations

import uuid

import pytest
from werkzeug.routing import BaseConverter

import erlen
from erlen import ctx as ctx_module


@pytest.fixture
def app():
    app = erlen.Flask(__name__)

    @app.route("/item/<int:item_id>/<path:rest>")
    def item(item_id, rest):
        erlen.request.view_args["touched"] = True  # must not leak into the memo
        return f"{item_id} {rest}"

    @app.route("/u/<uuid:key>")
    def by_uuid(key):
        return str(key)

    return app


def _memo(app):
    return app.url_map.__dict__.get(ctx_module._MATCH_MEMO, {})


def test_dynamic_matches_are_remembered_with_builtin_converters(app):
    client = app.test_client()
    assert client.get("/item/1/a/b").data == b"1 a/b"
    # The key is the request's binding: (template adapter, path, method).
    assert any(isinstance(k, tuple) and k[1:] == ("/item/1/a/b", "GET") for k in _memo(app))
    assert client.get("/item/1/a/b").data == b"1 a/b"
    assert client.get("/item/2/c").data == b"2 c"
    key = uuid.uuid4()
    for _ in range(2):
        assert client.get(f"/u/{key}").data == str(key).encode()


def test_remembered_view_args_are_copies(app):
    seen = []

    @app.before_request
    def capture():
        seen.append(erlen.request.view_args)

    client = app.test_client()
    client.get("/item/1/x")
    client.get("/item/1/x")
    assert seen[0] is not seen[1]
    hits = [v for k, v in _memo(app).items() if isinstance(k, tuple)]
    assert all("touched" not in args for _, args in hits)


def test_a_custom_converter_anywhere_turns_dynamic_memo_off(app):
    calls = []

    class Tracking(BaseConverter):
        def to_python(self, value):
            calls.append(value)
            return value

    app.url_map.converters["track"] = Tracking

    @app.route("/t/<track:name>")
    def tracked(name):
        return name

    client = app.test_client()
    for _ in range(2):
        assert client.get("/t/x").data == b"x"
        assert client.get("/item/3/y").data == b"3 y"
    assert calls == ["x", "x"]
    assert not any(
        isinstance(k, tuple) and k[1] in ("/t/x", "/item/3/y") for k in _memo(app)
    )


def test_new_rules_recheck_the_converters(app):
    client = app.test_client()
    client.get("/item/1/a")
    assert _memo(app).get(ctx_module._PURE_KEY) is True

    class Custom(BaseConverter):
        pass

    app.url_map.converters["custom"] = Custom
    app._got_first_request = False
    app.add_url_rule("/c/<custom:v>", "c", lambda v: v)
    assert client.get("/c/z").data == b"z"
    assert _memo(app).get(ctx_module._PURE_KEY) is False


def test_redirects_and_errors_are_not_remembered(app):
    @app.route("/dir/<int:n>/")
    def directory(n):
        return str(n)

    client = app.test_client()
    for _ in range(2):
        assert client.get("/dir/1").status_code == 308
        assert client.get("/item/x/y").status_code == 404
    assert client.get("/dir/1/").data == b"1"


def test_a_remembered_match_builds_the_adapter_only_when_read(app):
    """The request's adapter is made on first read, equal to the one
    create_url_adapter() gives, and a set adapter is used as it is."""
    client = app.test_client()
    client.get("/item/1/a")  # remembered from now on
    with app.test_request_context("/item/1/a?x=%C3%A9") as ctx:
        assert vars(ctx)["_url_adapter"] is ctx_module._UNMADE  # not made yet
        assert erlen.request.view_args == {"item_id": 1, "rest": "a"}
        adapter = ctx.url_adapter
        assert ctx.url_adapter is adapter  # kept once made
        fresh = app.create_url_adapter(erlen.request)
        assert fresh is not adapter
        for name in ("path_info", "default_method", "query_args", "server_name",
                     "script_name", "url_scheme", "subdomain", "map"):
            assert getattr(adapter, name) == getattr(fresh, name), name
        assert adapter.query_args == "x=%C3%A9"
        assert erlen.url_for("item", item_id=2, rest="b") == "/item/2/b"
        ctx.url_adapter = None
        assert ctx.url_adapter is None


def test_an_overridden_create_url_adapter_is_still_called():
    seen = []

    class App(erlen.Flask):
        def create_url_adapter(self, request):
            seen.append(request)
            return super().create_url_adapter(request)

    app = App(__name__)
    app.add_url_rule("/", "index", lambda: "ok")
    client = app.test_client()
    for _ in range(2):
        assert client.get("/").data == b"ok"
    assert len(seen) == 2


def test_untrusted_host_is_a_400_with_no_adapter(app):
    app.config["TRUSTED_HOSTS"] = ["good.test"]
    assert app.test_client().get("/item/1/a", base_url="http://bad.test").status_code == 400
    with app.test_request_context("/item/1/a", base_url="http://bad.test") as ctx:
        assert ctx.url_adapter is None
        assert erlen.request.routing_exception.code == 400
