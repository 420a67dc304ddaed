"""Routing: rules, methods, automatic HEAD and OPTIONS, converters, strict
slashes, subdomains and hosts, URL value hooks and url_for."""

import pytest
from werkzeug.routing import BaseConverter
from werkzeug.routing import BuildError

import erlen
from erlen import Flask


def test_route_and_methods(app, client):
    @app.route("/", methods=["GET", "POST"])
    def index():
        return erlen.request.method

    assert client.get("/").data == b"GET"
    assert client.post("/").data == b"POST"
    rv = client.put("/")
    assert rv.status_code == 405
    assert sorted(rv.allow) == ["GET", "HEAD", "OPTIONS", "POST"]


def test_methods_lowercase_are_uppercased(app, client):
    app.add_url_rule("/", "i", lambda: "ok", methods=["post"])
    assert client.post("/").data == b"ok"


def test_methods_as_string_is_an_error(app):
    with pytest.raises(TypeError, match="Allowed methods must be a list"):
        app.add_url_rule("/", "i", lambda: "", methods="POST")


@pytest.mark.parametrize("method", ["get", "post", "put", "delete", "patch"])
def test_method_shortcuts(app, client, method):
    getattr(app, method)("/")(lambda: method)
    assert getattr(client, method)("/").data == method.encode()
    other = "post" if method == "get" else "get"
    assert getattr(client, other)("/").status_code == 405


def test_method_shortcut_rejects_methods(app):
    with pytest.raises(TypeError, match="Use the 'route' decorator"):
        app.get("/", methods=["POST"])


def test_head_is_automatic(app, client):
    app.add_url_rule("/", "i", lambda: "body")
    rv = client.head("/")
    assert rv.status_code == 200
    assert rv.data == b""
    assert rv.headers["Content-Length"] == "4"


def test_automatic_options(app, client):
    app.add_url_rule("/", "i", lambda: "x", methods=["GET", "POST"])
    rv = client.open("/", method="OPTIONS")
    assert rv.status_code == 200
    assert sorted(rv.allow) == ["GET", "HEAD", "OPTIONS", "POST"]
    assert rv.data == b""


def test_automatic_options_disabled_per_view(app, client):
    def view():
        return erlen.request.method

    view.provide_automatic_options = False
    app.add_url_rule("/", "i", view)
    app.add_url_rule(
        "/b",
        "b",
        lambda: "own",
        provide_automatic_options=False,
        methods=["GET", "OPTIONS"],
    )
    assert client.open("/", method="OPTIONS").status_code == 405
    assert client.open("/b", method="OPTIONS").data == b"own"


def test_automatic_options_disabled_by_config(client, app):
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.add_url_rule("/", "i", lambda: "x")
    assert client.open("/", method="OPTIONS").status_code == 405


def test_view_with_explicit_options(app, client):
    @app.route("/", methods=["OPTIONS"])
    def opts():
        return "mine"

    assert client.open("/", method="OPTIONS").data == b"mine"


def test_view_methods_attribute_and_required_methods(app, client):
    def view():
        return erlen.request.method

    view.methods = ["POST"]
    view.required_methods = ["PUT"]
    app.add_url_rule("/", "i", view)
    assert client.post("/").data == b"POST"
    assert client.put("/").data == b"PUT"
    assert client.get("/").status_code == 405


def test_endpoint_defaults_to_function_name(app):
    @app.route("/")
    def my_view():
        return ""

    assert "my_view" in app.view_functions
    rule = next(r for r in app.url_map.iter_rules() if r.rule == "/")
    assert rule.endpoint == "my_view"


def test_endpoint_decorator(app, client):
    app.add_url_rule("/", "named")

    @app.endpoint("named")
    def view():
        return "via endpoint"

    assert client.get("/").data == b"via endpoint"


def test_overwriting_endpoint_is_an_error(app):
    app.add_url_rule("/a", "same", lambda: "a")
    with pytest.raises(AssertionError, match="overwriting an existing endpoint"):
        app.add_url_rule("/b", "same", lambda: "b")


def test_same_function_on_two_rules(app, client):
    def view():
        return erlen.request.path

    app.add_url_rule("/a", "v", view)
    app.add_url_rule("/b", "v", view)
    assert client.get("/a").data == b"/a"
    assert client.get("/b").data == b"/b"


def test_view_functions_can_be_replaced(app, client):
    app.add_url_rule("/", "i", lambda: "first")
    assert client.get("/").data == b"first"
    app2 = Flask("x")
    app2.add_url_rule("/", "i", lambda: "first")
    app2.view_functions["i"] = lambda: "second"
    assert app2.test_client().get("/").data == b"second"


def test_converters(app, client):
    @app.route("/int/<int:n>")
    def integer(n):
        return repr(n)

    @app.route("/path/<path:p>")
    def path(p):
        return p

    @app.route("/uuid/<uuid:u>")
    def uuid_(u):
        return type(u).__name__

    assert client.get("/int/12").data == b"12"
    assert client.get("/int/x").status_code == 404
    assert client.get("/path/a/b/c").data == b"a/b/c"
    assert client.get("/uuid/a8098c1a-f86e-11da-bd1a-00112444be1e").data == b"UUID"


def test_custom_converter(app, client):
    class ListConverter(BaseConverter):
        def to_python(self, value):
            return value.split(",")

        def to_url(self, value):
            base = super().to_url
            return ",".join(base(v) for v in value)

    app.url_map.converters["list"] = ListConverter

    @app.route("/<list:items>")
    def index(items):
        return "|".join(items)

    assert client.get("/a,b").data == b"a|b"
    with app.test_request_context():
        assert erlen.url_for("index", items=["x", "y"]) == "/x,y"


def test_converter_can_use_session(app, client):
    class SessionConverter(BaseConverter):
        def to_python(self, value):
            return erlen.session.get("prefix", "") + value

    app.url_map.converters["s"] = SessionConverter

    @app.route("/<s:v>")
    def index(v):
        return v

    with client.session_transaction() as sess:
        sess["prefix"] = "p-"
    assert client.get("/x").data == b"p-x"


def test_strict_slashes_redirect(app, client):
    @app.route("/dir/")
    def directory():
        return "dir"

    rv = client.get("/dir")
    assert rv.status_code == 308
    assert rv.location.endswith("/dir/")
    assert client.get("/dir", follow_redirects=True).data == b"dir"


def test_strict_slashes_off(app, client):
    app.add_url_rule("/file/", "f", lambda: "f", strict_slashes=False)
    assert client.get("/file").data == b"f"


def test_redirect_keeps_query(app, client):
    app.add_url_rule("/d/", "d", lambda: "d")
    rv = client.get("/d?x=1")
    assert rv.location.endswith("/d/?x=1")


def test_debug_form_redirect_error(app, client):
    app.debug = True
    app.add_url_rule("/d/", "d", lambda: "d", methods=["POST"])
    # A 308 keeps the body, so no error even in debug mode.
    assert client.post("/d", data={"a": "1"}).status_code == 308


def test_subdomain_routing(client):
    app = Flask("x", subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/", subdomain="api")
    def api():
        return "api"

    @app.route("/")
    def index():
        return "root"

    @app.route("/", subdomain="<user>")
    def user(user):
        return user

    c = app.test_client()
    assert c.get("/", "http://example.com/").data == b"root"
    assert c.get("/", "http://api.example.com/").data == b"api"
    assert c.get("/", "http://bob.example.com/").data == b"bob"
    with app.app_context():
        assert erlen.url_for("api") == "http://api.example.com/"
        assert erlen.url_for("user", user="amy") == "http://amy.example.com/"


def test_subdomain_ignored_without_subdomain_matching():
    app = Flask("x")
    app.config["SERVER_NAME"] = "example.com"
    app.add_url_rule("/", "i", lambda: "root")
    # The host is not matched: any host reaches the default subdomain.
    assert app.test_client().get("/", "http://other.example.org/").data == b"root"


def test_host_matching():
    app = Flask("x", host_matching=True, static_host="static.example.com")

    @app.route("/", host="a.example.com")
    def a():
        return "a"

    @app.route("/", host="<name>.example.org")
    def b(name):
        return name

    c = app.test_client()
    assert c.get("/", "http://a.example.com/").data == b"a"
    assert c.get("/", "http://zed.example.org/").data == b"zed"
    assert c.get("/", "http://nope.example.net/").status_code == 404


def test_trusted_hosts(app, client):
    app.config["TRUSTED_HOSTS"] = ["good.example"]
    app.add_url_rule("/", "i", lambda: "ok")
    assert client.get("/", "http://good.example/").data == b"ok"
    assert client.get("/", "http://evil.example/").status_code == 400


def test_url_value_preprocessor_and_defaults(app, client):
    @app.url_value_preprocessor
    def pull_lang(endpoint, values):
        erlen.g.lang = values.pop("lang", None)

    @app.url_defaults
    def add_lang(endpoint, values):
        if "lang" not in values and app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values["lang"] = erlen.g.lang

    @app.route("/<lang>/page")
    def page():
        return f"{erlen.g.lang} {erlen.url_for('page')}"

    assert client.get("/de/page").data == b"de /de/page"


def test_url_for_in_request(app):
    @app.route("/item/<int:id>")
    def item(id):
        return ""

    app.add_url_rule("/both", "both", lambda: "", methods=["GET", "POST"])
    with app.test_request_context("/"):
        assert erlen.url_for("item", id=3) == "/item/3"
        assert erlen.url_for("item", id=3, q="a b") == "/item/3?q=a+b"
        assert erlen.url_for("item", id=3, _external=True) == "http://localhost/item/3"
        assert (
            erlen.url_for("item", id=3, _scheme="https") == "https://localhost/item/3"
        )
        assert erlen.url_for("item", id=3, _anchor="x y") == "/item/3#x%20y"
        assert erlen.url_for("both", _method="POST") == "/both"
        with pytest.raises(ValueError, match="_scheme"):
            erlen.url_for("item", id=3, _scheme="https", _external=False)
        with pytest.raises(BuildError):
            erlen.url_for("missing")


def test_url_for_outside_request_needs_server_name(app):
    app.add_url_rule("/x", "x", lambda: "")
    with app.app_context():
        with pytest.raises(RuntimeError, match="SERVER_NAME"):
            erlen.url_for("x")
    app.config.update(
        SERVER_NAME="example.com",
        APPLICATION_ROOT="/root",
        PREFERRED_URL_SCHEME="https",
    )
    with app.app_context():
        assert erlen.url_for("x") == "https://example.com/root/x"
    # app.url_for works without any context too.
    assert app.url_for("x") == "https://example.com/root/x"


def test_url_for_with_self_argument(app):
    app.add_url_rule("/<self>", "s", lambda self: self)
    with app.test_request_context():
        assert erlen.url_for("s", self="me") == "/me"


def test_url_build_error_handlers(app):
    calls = []

    def first(error, endpoint, values):
        calls.append(("first", endpoint, values.get("_external")))
        raise BuildError(endpoint, values, "GET")

    def second(error, endpoint, values):
        calls.append(("second", endpoint))
        if endpoint == "known":
            return "/handled"
        return None

    app.url_build_error_handlers.extend([first, second])
    with app.test_request_context():
        assert erlen.url_for("known") == "/handled"
        with pytest.raises(BuildError):
            erlen.url_for("unknown")
    assert calls[0] == ("first", "known", False)
    assert ("second", "known") in calls


def test_request_attributes_after_routing(app, client):
    @app.route("/r/<x>")
    def r(x):
        req = erlen.request
        return f"{req.url_rule.rule}|{req.view_args}|{req.endpoint}|{req.blueprint}"

    assert client.get("/r/1").data == b"/r/<x>|{'x': '1'}|r|None"


def test_404_and_405_responses(app, client):
    app.add_url_rule("/", "i", lambda: "", methods=["POST"])
    assert client.get("/nothing").status_code == 404
    assert client.get("/").status_code == 405


def test_application_root_in_test_client(app):
    app.config["APPLICATION_ROOT"] = "/prefix"
    app.add_url_rule("/x", "x", lambda: erlen.url_for("x"))
    rv = app.test_client().get("/x")
    assert rv.data == b"/prefix/x"


def test_matches_stay_right_when_rules_are_added_later(app, client):
    from werkzeug.routing import Rule

    app.add_url_rule("/a", "a", lambda: "a")
    assert client.get("/a").data == b"a"
    assert client.get("/a").data == b"a"  # remembered match
    # A rule added straight to the map (as extensions do) is seen at once.
    app.url_map.add(Rule("/b", endpoint="b"))
    app.view_functions["b"] = lambda: "b"
    assert client.get("/b").data == b"b"
    assert client.get("/a").data == b"a"


def test_view_args_are_fresh_per_request(app, client):
    seen = []

    @app.url_value_preprocessor
    def take(endpoint, values):
        seen.append(dict(values))
        values.pop("lang")

    app.add_url_rule("/s", "s", lambda: "ok", defaults={"lang": "xx"})
    assert client.get("/s").data == b"ok"
    assert client.get("/s").data == b"ok"
    assert seen == [{"lang": "xx"}, {"lang": "xx"}]


def test_adapter_per_request_path_method_and_query(app, client):
    app.add_url_rule("/dir/", "d", lambda: "d", methods=["GET", "POST"])
    app.add_url_rule("/m", "m", lambda: erlen.request.method, methods=["GET", "PUT"])
    assert client.get("/dir/").data == b"d"
    # Same host and scheme, so the same bound adapter underneath; the
    # redirect must still carry this request's query.
    assert client.get("/dir?a=1").location.endswith("/dir/?a=1")
    assert client.get("/dir?b=2").location.endswith("/dir/?b=2")
    assert client.put("/m").data == b"PUT"
    assert client.post("/m").status_code == 405
    with app.test_request_context("/m", method="PUT") as ctx:
        assert ctx.url_adapter.path_info == "/m"
        assert ctx.url_adapter.default_method == "PUT"


def test_adapter_per_host(app):
    app.config["SERVER_NAME"] = "example.com"
    app.add_url_rule("/", "i", lambda: erlen.url_for("i", _external=True))
    c = app.test_client()
    assert c.get("/").data == b"http://example.com/"
    assert c.get("/", "https://example.com/").data == b"https://example.com/"


def test_non_ascii_path(app, client):
    app.add_url_rule("/caf\u00e9", "c", lambda: erlen.request.path)
    assert client.get("/caf\u00e9").data == "/caf\u00e9".encode()


def test_custom_map_class_binds_every_request():
    from werkzeug.routing import Map

    binds = []

    class CountingMap(Map):
        def bind_to_environ(self, environ, server_name=None, subdomain=None):
            binds.append(environ["PATH_INFO"])
            return super().bind_to_environ(environ, server_name, subdomain)

    class MyFlask(Flask):
        url_map_class = CountingMap

    app = MyFlask("x")
    app.add_url_rule("/a", "a", lambda: "a")
    c = app.test_client()
    assert c.get("/a").data == b"a"
    assert c.get("/a").data == b"a"
    assert binds == ["/a", "/a"]


def test_subdomain_matching_host_outside_server_name():
    app = Flask("x", subdomain_matching=True)
    app.config["SERVER_NAME"] = "dev.local:5000"
    app.add_url_rule("/", "i", lambda: "default")
    app.add_url_rule("/", "sub", lambda: "sub", subdomain="foo")
    c = app.test_client()
    assert c.get("/", "http://dev.local:5000").data == b"default"
    assert c.get("/", "http://foo.dev.local:5000").data == b"sub"
    with pytest.warns(UserWarning, match="doesn't match configured server name") as rec:
        assert c.get("/", "http://foo.localhost").status_code == 404
    # Attributed to the app module, so filters on it apply.
    assert rec[0].filename.endswith("app.py")
    app.config["SERVER_NAME"] = "dev.local:443"
    assert c.get("/", "https://dev.local").data == b"default"


def test_replacing_the_url_map_forgets_old_matches(app, client):
    from werkzeug.routing import Map
    from werkzeug.routing import Rule

    app.add_url_rule("/a", "a", lambda: "a")
    app.add_url_rule("/b", "b", lambda: "b")
    assert client.get("/a").data == b"a"
    app.url_map = Map([Rule("/a", endpoint="b")])
    assert client.get("/a").data == b"b"


def test_websocket_rules_follow_upgrade_headers(app, client):
    app.add_url_rule("/ws", "ws", lambda: "socket", websocket=True)
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket"}
    assert client.get("/ws").status_code == 400  # WebsocketMismatch
    assert client.get("/ws", headers=upgrade).data == b"socket"
    assert client.get("/ws").status_code == 400
    half = {"Upgrade": "websocket", "Connection": "keep-alive"}
    assert client.get("/ws", headers=half).status_code == 400
