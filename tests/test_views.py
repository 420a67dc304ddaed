"""Class-based views: View.as_view and MethodView's verb dispatch."""

import functools

import pytest

from erlen import Flask
from erlen.views import http_method_funcs
from erlen.views import MethodView
from erlen.views import View


@pytest.fixture
def app():
    app = Flask("erlen_views_test")
    app.testing = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def test_http_method_funcs():
    assert http_method_funcs == {
        "get",
        "post",
        "head",
        "options",
        "delete",
        "put",
        "trace",
        "patch",
    }


def test_dispatch_request_must_be_overridden(app):
    with app.test_request_context():
        with pytest.raises(NotImplementedError):
            View().dispatch_request()


def test_as_view_function_attributes():
    class Greeter(View):
        """Says hello."""

        methods = ["GET", "POST"]
        provide_automatic_options = False

        def dispatch_request(self):
            return "hi"

    view = Greeter.as_view("greet")
    assert view.__name__ == "greet"
    assert view.__doc__ == "Says hello."
    assert view.__module__ == __name__
    assert view.view_class is Greeter
    assert view.methods == ["GET", "POST"]
    assert view.provide_automatic_options is False
    # Defaults are left to add_url_rule.
    plain = View.as_view("plain")
    assert plain.methods is None
    assert plain.provide_automatic_options is None


def test_basic_view_with_url_values(app, client):
    class Echo(View):
        methods = ["GET", "POST"]

        def dispatch_request(self, word):
            from erlen import request

            return f"{request.method}:{word}"

    app.add_url_rule("/echo/<word>", view_func=Echo.as_view("echo"))
    assert client.get("/echo/abc").text == "GET:abc"
    assert client.post("/echo/xyz").text == "POST:xyz"
    assert client.put("/echo/xyz").status_code == 405
    allowed = set(client.open("/echo/a", method="OPTIONS").allow)
    assert allowed == {"GET", "HEAD", "POST", "OPTIONS"}
    with app.test_request_context():
        from erlen import url_for

        assert url_for("echo", word="w") == "/echo/w"


def test_class_args_and_instances(app, client):
    created = []

    class Counter(View):
        def __init__(self, label, *, start=0):
            created.append(self)
            self.label = label
            self.count = start

        def dispatch_request(self):
            self.count += 1
            return f"{self.label}{self.count}"

    class SharedCounter(Counter):
        init_every_request = False

    app.add_url_rule("/fresh", view_func=Counter.as_view("fresh", "f", start=10))
    app.add_url_rule("/shared", view_func=SharedCounter.as_view("shared", "s"))
    # The shared instance exists as soon as the view function does.
    assert len(created) == 1

    assert [client.get("/fresh").text for _ in range(3)] == ["f11", "f11", "f11"]
    assert [client.get("/shared").text for _ in range(3)] == ["s1", "s2", "s3"]
    assert len(created) == 4


def test_view_class_can_be_patched(app, client):
    class Real(View):
        def dispatch_request(self):
            return "real"

    class Fake(View):
        def dispatch_request(self):
            return "fake"

    view = Real.as_view("thing")
    view.view_class = Fake
    app.add_url_rule("/", view_func=view)
    assert client.get("/").text == "fake"


def test_decorators_applied_in_order(app, client):
    calls = []

    def tag(label):
        def decorator(f):
            @functools.wraps(f)
            def wrapper(**kwargs):
                calls.append((label, f.__name__))
                return f"{label}({f(**kwargs)})"

            return wrapper

        return decorator

    class Decorated(View):
        decorators = [tag("inner"), tag("outer")]

        def dispatch_request(self):
            return "body"

    view = Decorated.as_view("decorated")
    # functools.wraps saw the final name and the attributes are still set.
    assert view.__name__ == "decorated"
    assert view.view_class is Decorated
    app.add_url_rule("/", view_func=view)
    assert client.get("/").text == "outer(inner(body))"
    assert calls == [("outer", "decorated"), ("inner", "decorated")]


def test_provide_automatic_options_false(app, client):
    class NoOptions(View):
        methods = ["GET"]
        provide_automatic_options = False

        def dispatch_request(self):
            return "x"

    app.add_url_rule("/", view_func=NoOptions.as_view("noopts"))
    assert client.open("/", method="OPTIONS").status_code == 405


def test_provide_automatic_options_handled_by_view(app, client):
    class OwnOptions(View):
        methods = ["GET", "OPTIONS"]
        provide_automatic_options = False

        def dispatch_request(self):
            from erlen import request

            return f"own {request.method}"

    app.add_url_rule("/", view_func=OwnOptions.as_view("own"))
    assert client.open("/", method="OPTIONS").text == "own OPTIONS"


def test_method_view_dispatch(app, client):
    class Items(MethodView):
        def get(self, item_id):
            return f"get {item_id}"

        def post(self, item_id):
            return f"post {item_id}"

    assert Items.methods == {"GET", "POST"}
    app.add_url_rule("/items/<int:item_id>", view_func=Items.as_view("items"))
    assert client.get("/items/3").text == "get 3"
    assert client.post("/items/4").text == "post 4"
    assert client.delete("/items/4").status_code == 405
    assert set(client.open("/items/1", method="OPTIONS").allow) == {
        "GET",
        "HEAD",
        "POST",
        "OPTIONS",
    }


def test_method_view_head_falls_back_to_get(app, client):
    calls = []

    class Page(MethodView):
        def get(self):
            calls.append("get")
            return "content", {"X-Page": "1"}

    app.add_url_rule("/", view_func=Page.as_view("page"))
    rv = client.head("/")
    assert rv.status_code == 200
    assert rv.data == b""
    assert rv.headers["X-Page"] == "1"
    assert calls == ["get"]


def test_method_view_explicit_head(app, client):
    class Page(MethodView):
        def get(self):
            return "body"

        def head(self):
            return "", {"X-Head": "own"}

    app.add_url_rule("/", view_func=Page.as_view("page"))
    rv = client.head("/")
    assert rv.headers["X-Head"] == "own"
    assert client.get("/").text == "body"


def test_method_view_unimplemented_method(app):
    class OnlyGet(MethodView):
        methods = ["GET", "PUT"]

        def get(self):
            return "g"

    view = OnlyGet.as_view("only")
    with app.test_request_context(method="PUT"):
        with pytest.raises(AssertionError, match="Unimplemented method 'PUT'"):
            view()


def test_method_view_inheritance(app, client):
    class Base(MethodView):
        def get(self):
            return "base get"

    class Child(Base):
        def delete(self):
            return "child delete"

    class Grandchild(Child):
        def get(self):
            return "grandchild get"

    assert Base.methods == {"GET"}
    assert Child.methods == {"GET", "DELETE"}
    assert Grandchild.methods == {"GET", "DELETE"}
    app.add_url_rule("/c", view_func=Child.as_view("child"))
    app.add_url_rule("/g", view_func=Grandchild.as_view("grand"))
    assert client.get("/c").text == "base get"
    assert client.delete("/c").text == "child delete"
    assert client.get("/g").text == "grandchild get"


def test_method_view_methods_from_base_attribute(app, client):
    class Base(View):
        methods = ["GET", "PROPFIND"]

    class Child(Base, MethodView):
        def get(self):
            return "GET"

        def propfind(self):
            return "PROPFIND"

    assert Child.methods == {"GET", "PROPFIND"}
    app.add_url_rule("/", view_func=Child.as_view("child"))
    assert client.get("/").text == "GET"
    assert client.open("/", method="PROPFIND").text == "PROPFIND"


def test_method_view_multiple_inheritance(app, client):
    class Reader(MethodView):
        def get(self):
            return "read"

    class Deleter(MethodView):
        def delete(self):
            return "deleted"

    class Both(Reader, Deleter):
        pass

    assert Both.methods == {"GET", "DELETE"}
    app.add_url_rule("/", view_func=Both.as_view("both"))
    assert client.get("/").text == "read"
    assert client.delete("/").text == "deleted"


def test_method_view_explicit_methods_kept(app, client):
    class Base(MethodView):
        def get(self):
            return "g"

        def post(self):
            return "p"

    class ReadOnly(Base):
        methods = ["GET"]

    assert ReadOnly.methods == ["GET"]
    app.add_url_rule("/", view_func=ReadOnly.as_view("ro"))
    assert client.get("/").text == "g"
    assert client.post("/").status_code == 405


def test_method_view_without_verbs_keeps_default():
    class Nothing(MethodView):
        pass

    assert Nothing.methods is None


def test_endpoint_override(app, client):
    class Thing(View):
        def dispatch_request(self):
            return "thing"

    app.add_url_rule("/", endpoint="other", view_func=Thing.as_view("thing"))
    assert client.get("/").text == "thing"
    with app.test_request_context():
        from erlen import url_for

        assert url_for("other") == "/"
    assert "other" in app.view_functions
    assert "thing" not in app.view_functions


def test_async_views(app, client):
    pytest.importorskip("asgiref")

    class AsyncView(View):
        async def dispatch_request(self):
            return "async view"

    class AsyncMethods(MethodView):
        async def get(self):
            return "async get"

        def post(self):
            return "sync post"

    app.add_url_rule("/v", view_func=AsyncView.as_view("av"))
    app.add_url_rule("/m", view_func=AsyncMethods.as_view("am"))
    assert client.get("/v").text == "async view"
    assert client.get("/m").text == "async get"
    assert client.post("/m").text == "sync post"


def test_ensure_sync_comes_from_current_app(app, client):
    wrapped = []

    class TrackingApp(Flask):
        def ensure_sync(self, func):
            wrapped.append(getattr(func, "__name__", func))
            return super().ensure_sync(func)

    tracking = TrackingApp("erlen_tracking")

    class Page(MethodView):
        def get(self):
            return "ok"

    tracking.add_url_rule("/", view_func=Page.as_view("page"))
    assert tracking.test_client().get("/").text == "ok"
    assert "get" in wrapped


def test_views_outside_contexts():
    class Plain(View):
        def dispatch_request(self):
            return "x"

    class Verbs(MethodView):
        def get(self):
            return "g"

    with pytest.raises(RuntimeError, match="outside of application context"):
        Plain.as_view("plain")()
    with pytest.raises(RuntimeError, match="outside of application context"):
        Verbs.as_view("verbs")()
    with pytest.raises(RuntimeError, match="outside of request context"):
        Verbs().dispatch_request()
