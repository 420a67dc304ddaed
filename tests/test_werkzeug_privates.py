"""What erlen.wrappers and erlen._werkzeug do in place of werkzeug's own
code gives: the same attributes, headers, status and body, for every input
the fast paths take and for the inputs they hand back to werkzeug."""

from __future__ import annotations

import io
import itertools
from http import HTTPStatus

import pytest
from werkzeug.datastructures import EnvironHeaders
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WRequest
from werkzeug.wrappers import Response as WResponse

from erlen.compat import ResponseHeaders
from erlen.wrappers import Request
from erlen.wrappers import Response

# -- Request ------------------------------------------------------------------

REQUEST_ATTRS = (
    "method", "scheme", "server", "root_path", "path", "query_string",
    "remote_addr", "shallow",
)


def _environs():
    yield EnvironBuilder("/").get_environ()
    yield EnvironBuilder("/", environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_environ()
    yield EnvironBuilder("/a/b/", query_string="x=1&y=%C3%A9").get_environ()
    yield EnvironBuilder("/p", base_url="https://example.org:8443/root/").get_environ()
    env = EnvironBuilder("/caf\u00e9").get_environ()
    yield env
    env = EnvironBuilder("/x").get_environ()
    env["SCRIPT_NAME"] = "/r\u00c3\u00a9//"  # latin-1 read of UTF-8 bytes
    env["PATH_INFO"] = "//\u00c3\u00a9t\u00c3\u00a9"
    env["QUERY_STRING"] = "q=\u00e9"
    yield env
    env = EnvironBuilder("/").get_environ()
    env["SERVER_PORT"] = "not-a-port"  # a unix socket
    yield env
    env = EnvironBuilder("/").get_environ()
    del env["SERVER_NAME"]
    yield env
    env = EnvironBuilder("/").get_environ()
    del env["PATH_INFO"], env["SCRIPT_NAME"], env["QUERY_STRING"]
    del env["REQUEST_METHOD"], env["wsgi.url_scheme"]
    env.pop("REMOTE_ADDR", None)
    yield env
    env = EnvironBuilder("/", method="patch").get_environ()
    env["REQUEST_METHOD"] = "patch"
    yield env


@pytest.mark.parametrize("environ", list(_environs()))
@pytest.mark.parametrize(
    ("populate", "shallow"), [(True, False), (False, False), (True, True)]
)
def test_request_matches_werkzeug(environ, populate, shallow):
    ours = Request(dict(environ), populate, shallow)
    theirs = WRequest(dict(environ), populate, shallow)
    # The constructor sets exactly what werkzeug's sets, with the same values.
    assert ours.__dict__.keys() == theirs.__dict__.keys()
    for name, value in theirs.__dict__.items():
        if name not in ("environ", "headers"):
            assert ours.__dict__[name] == value, name
    for name in REQUEST_ATTRS:
        assert getattr(ours, name) == getattr(theirs, name), name
    assert type(ours.headers) is EnvironHeaders
    assert list(ours.headers) == list(theirs.headers)
    assert ours.headers.__dict__.keys() == theirs.headers.__dict__.keys()
    assert ours.headers.environ is ours.environ
    assert ("werkzeug.request" in ours.environ) == (
        "werkzeug.request" in theirs.environ
    )
    assert ours.url == theirs.url


def test_request_attributes_are_read_when_it_is_made():
    environ = EnvironBuilder("/a", query_string="q=1").get_environ()
    ours, theirs = Request(environ), WRequest(dict(environ))
    environ.update(
        REMOTE_ADDR="10.9.9.9", QUERY_STRING="q=2", SCRIPT_NAME="/mounted"
    )
    environ["wsgi.url_scheme"] = "https"
    for name in ("remote_addr", "scheme", "query_string", "root_path", "url"):
        assert getattr(ours, name) == getattr(theirs, name), name


def test_request_subclass_init_still_runs():
    seen = []

    class MyRequest(Request):
        def __init__(self, environ, *args, **kwargs):
            seen.append(environ)
            super().__init__(environ, *args, **kwargs)

    env = EnvironBuilder("/x").get_environ()
    req = MyRequest(env)
    assert seen == [env] and req.path == "/x"


# -- Response construction ----------------------------------------------------

BODIES = [None, "", "h\u00e9llo", b"bytes", bytearray(b"ba"), [b"a", "b"], iter([b"x"])]
STATUSES = [
    None,
    200,
    201,
    "404",
    "418 I'm a teapot",
    " 201 ",
    "weird",
    HTTPStatus.ACCEPTED,
    299,
    True,
]
HEADERS = [
    None,
    {},
    [],
    {"X-A": "1"},
    [("Content-Type", "text/plain")],
    Headers([("X", "y")]),
]
MIMETYPES = [None, "text/plain", "application/json", "image/png"]
CONTENT_TYPES = [None, "text/csv; charset=latin1"]


def _state(resp):
    d = dict(resp.__dict__)
    headers_type = type(resp.headers)
    if headers_type is ResponseHeaders:
        # werkzeug's Headers, also taking bytes as werkzeug 2 did: what
        # erlen's responses hold unless they are given a Headers object.
        assert isinstance(resp, Response) and set(vars(headers_type)) <= {
            "__module__", "__doc__", "add", "set", "__setitem__",
            "__static_attributes__", "__firstlineno__",
        }
        headers_type = Headers
    d["headers"] = (headers_type, list(resp.headers))
    body = d["response"]
    if not isinstance(body, (list, tuple)):
        d["response"] = type(body)
    return list(d.items())


def _build(cls, body, **kwargs):
    if isinstance(body, list):
        body = list(body)
    elif not isinstance(body, (str, bytes, bytearray, type(None))):
        body = iter([b"x"])
    if isinstance(kwargs.get("headers"), Headers):
        kwargs["headers"] = Headers(kwargs["headers"])
    return cls(body, **kwargs)


class PlainResponse(WResponse):
    """werkzeug's Response with erlen's class defaults, the reference."""

    default_mimetype = "text/html"
    autocorrect_location_header = False


@pytest.mark.parametrize("body", BODIES, ids=repr)
@pytest.mark.parametrize("status", STATUSES, ids=repr)
def test_response_init_matches_werkzeug(body, status):
    for headers, mimetype, content_type in itertools.product(
        HEADERS, MIMETYPES, CONTENT_TYPES
    ):
        kwargs = dict(status=status, headers=headers, mimetype=mimetype,
                      content_type=content_type)
        ours = _build(Response, body, **kwargs)
        theirs = _build(PlainResponse, body, **kwargs)
        assert _state(ours) == _state(theirs), kwargs


def test_response_init_errors_match_werkzeug():
    for kwargs in [
        dict(mimetype="text/plain\nX: y"),
        dict(content_type="text/plain\r\n"),
        dict(status=""),
        dict(status=200.0),
        dict(headers={"X": "a\nb"}),
    ]:
        with pytest.raises(Exception) as theirs:
            PlainResponse("x", **kwargs)
        with pytest.raises(type(theirs.value)):
            Response("x", **kwargs)


def test_response_passed_headers_object_is_kept():
    headers = Headers()
    assert Response("x", headers=headers).headers is headers


def test_response_subclass_hooks_are_called():
    calls = []

    class Custom(Response):
        default_mimetype = "text/plain"
        default_status = 202

        def set_data(self, value):
            calls.append(("set_data", value))
            super().set_data(value)

        @property
        def status(self):
            return self._status

        @status.setter
        def status(self, value):
            calls.append(("status", value))
            self._status, self._status_code = self._clean_status(value)

    resp = Custom("hi")
    assert calls == [("status", 202), ("set_data", "hi")]
    assert resp.status == "202 ACCEPTED"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"


# -- Response as a WSGI application ------------------------------------------


def _run(resp, method="GET"):
    environ = EnvironBuilder("/", method=method).get_environ()
    environ["wsgi.input"] = io.BytesIO()
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    app_iter = resp(environ, start_response)
    try:
        body = b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    return seen["status"], seen["headers"], body


def _responses():
    yield lambda cls: cls("hello")
    yield lambda cls: cls(b"bytes", status=201)
    yield lambda cls: cls([b"a", b"bc"])
    yield lambda cls: cls((b"a", b"b"))
    yield lambda cls: cls(["a", b"b"])  # a str chunk
    yield lambda cls: cls(iter([b"a", b"b"]))
    yield lambda cls: cls("x", status=204)
    yield lambda cls: cls("x", status=304, headers={"ETag": "e"})
    yield lambda cls: cls("x", status=101)
    yield lambda cls: cls("x", status=99)
    yield lambda cls: cls("moved", status=302, headers={"Location": "/\u00e9"})
    yield lambda cls: cls("x", headers={"Content-Location": "/\u00e9"})
    yield lambda cls: cls("x", headers={"Set-Cookie": "a=b", "X-Many": "1"})

    def no_length(cls):
        r = cls("abc")
        del r.headers["Content-Length"]
        return r

    yield no_length

    def wrong_length(cls):
        r = cls("abc")
        r.headers["Content-Length"] = "99"
        return r

    yield wrong_length

    def passthrough(cls):
        r = cls([b"a"])
        r.direct_passthrough = True
        return r

    yield passthrough

    def data_changed(cls):
        r = cls("abc")
        r.set_data(b"longer body")
        r.headers.add("X-After", "1")
        return r

    yield data_changed

    def no_auto_length(cls):
        r = cls([b"abc"])
        r.automatically_set_content_length = False
        return r

    yield no_auto_length


@pytest.mark.parametrize("make", list(_responses()))
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_response_call_matches_werkzeug(make, method):
    assert _run(make(Response), method) == _run(make(PlainResponse), method)


def test_response_call_runs_close_callbacks():
    closed = []
    resp = Response("x")
    resp.call_on_close(lambda: closed.append(True))
    assert _run(resp)[2] == b"x"
    assert closed == [True]


def test_response_call_respects_overridden_wsgi_hooks():
    class Custom(Response):
        def get_wsgi_headers(self, environ):
            headers = super().get_wsgi_headers(environ)
            headers["X-Custom"] = "1"
            return headers

    status, headers, body = _run(Custom("x"))
    assert ("X-Custom", "1") in headers and body == b"x"


def test_response_call_returns_body_of_a_buffered_response():
    resp = Response("x")
    status, headers, body = _run(resp)
    assert status == "200 OK"
    assert headers == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", "1"),
    ]
    assert body == b"x"


def test_response_class_defaults_read_through_the_instance():
    class Dynamic(Response):
        @property
        def default_mimetype(self):
            return "text/csv"

        @property
        def default_status(self):
            return 203

    resp = Dynamic("a,b")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.status == PlainResponse("x", status=203).status


def test_response_call_respects_an_overridden_status_code():
    class NoBody(Response):
        @property
        def status_code(self):
            return 204

        @status_code.setter
        def status_code(self, value):
            self.status = value

    status, headers, body = _run(NoBody("x"))
    assert body == b""
    assert not any(k == "Content-Length" for k, _ in headers)


# -- Routing: the bound adapters and the remembered matches -------------------

from werkzeug.routing import BaseConverter  # noqa: E402

import erlen  # noqa: E402


@pytest.fixture
def routed():
    app = erlen.Flask(__name__)

    @app.route("/item/<int:item_id>/<path:rest>")
    def item(item_id, rest):
        erlen.request.view_args["touched"] = True  # must not leak into the memo
        return f"{item_id} {rest}"

    @app.route("/u/<uuid:key>")
    def by_uuid(key):
        return str(key)

    return app


def _paths(memo):
    return {key[5] for key in memo}


ADAPTER_ATTRS = (
    "map", "server_name", "script_name", "subdomain", "url_scheme", "path_info",
    "default_method", "query_args", "websocket",
)


# Binding needs a scheme and a method (werkzeug's raises KeyError without).
@pytest.mark.parametrize(
    "environ",
    [e for e in _environs() if "wsgi.url_scheme" in e and "REQUEST_METHOD" in e],
)
@pytest.mark.parametrize(
    ("server_name", "subdomain", "host_matching"),
    [
        (None, "", False),
        ("localhost", "", False),
        (None, None, True),
        (None, None, False),
    ],
)
def test_bound_adapter_matches_werkzeug(environ, server_name, subdomain, host_matching):
    from werkzeug.routing import Map
    from werkzeug.routing import Rule

    from erlen._werkzeug import bind_remembered

    url_map = Map([Rule("/", endpoint="i")], host_matching=host_matching)
    environ = dict(environ, HTTP_HOST="localhost")
    cache = {}
    for _ in range(2):  # made, then taken from the cache
        request = Request(dict(environ))
        ours = bind_remembered(cache, url_map, request, server_name, subdomain)
        theirs = url_map.bind_to_environ(
            dict(environ), server_name=server_name, subdomain=subdomain
        )
        assert ours is not None and type(ours) is type(theirs)
        for name in ADAPTER_ATTRS:
            assert getattr(ours, name) == getattr(theirs, name), name
        assert request.host == WRequest(dict(environ)).host


def test_binding_that_warns_is_not_remembered():
    from werkzeug.routing import Map

    from erlen._werkzeug import bind_remembered

    request = Request(EnvironBuilder("/", base_url="http://other.test").get_environ())
    assert bind_remembered({}, Map(), request, "example.test", None) is None


def test_dynamic_matches_are_remembered_with_builtin_converters(routed):
    import uuid

    client = routed.test_client()
    assert client.get("/item/1/a/b").data == b"1 a/b"
    assert "/item/1/a/b" in _paths(routed._url_matches)
    assert client.get("/item/1/a/b").data == b"1 a/b"
    assert client.get("/item/2/c").data == b"2 c"
    key = uuid.uuid4()
    for _ in range(2):
        assert client.get(f"/u/{key}").data == str(key).encode()


def test_remembered_view_args_are_copies(routed):
    seen = []

    @routed.before_request
    def capture():
        seen.append(erlen.request.view_args)

    client = routed.test_client()
    client.get("/item/1/x")
    client.get("/item/1/x")
    assert seen[0] is not seen[1]
    assert all("touched" not in args for _, args in routed._url_matches.values())


def test_a_custom_converter_anywhere_turns_the_memo_off(routed):
    calls = []

    class Tracking(BaseConverter):
        def to_python(self, value):
            calls.append(value)
            return value

    routed.url_map.converters["track"] = Tracking

    @routed.route("/t/<track:name>")
    def tracked(name):
        return name

    client = routed.test_client()
    for _ in range(2):
        assert client.get("/t/x").data == b"x"
        assert client.get("/item/3/y").data == b"3 y"
    assert calls == ["x", "x"]
    assert routed._url_matches == {}


def test_rules_added_to_the_map_directly_empty_the_memo(routed):
    from werkzeug.routing import Rule

    client = routed.test_client()
    assert client.get("/item/1/a").data == b"1 a"
    assert routed._url_matches
    # Added behind the app's back: the map marks itself for sorting.
    routed.url_map.add(Rule("/item/1/a", endpoint="exact"))
    routed.view_functions["exact"] = lambda: "exact"
    assert client.get("/item/1/a").data == b"exact"


def test_redirects_and_errors_are_not_remembered(routed):
    @routed.route("/dir/<int:n>/")
    def directory(n):
        return str(n)

    client = routed.test_client()
    for _ in range(2):
        assert client.get("/dir/1").status_code == 308
        assert client.get("/item/x/y").status_code == 404
    assert _paths(routed._url_matches) == set()
    assert client.get("/dir/1/").data == b"1"


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
    assert len([r for r in seen if r is not None]) == 2


def test_untrusted_host_is_a_400_with_no_adapter(routed):
    routed.config["TRUSTED_HOSTS"] = ["good.test"]
    client = routed.test_client()
    assert client.get("/item/1/a", base_url="http://bad.test").status_code == 400
    assert client.get("/item/1/a", base_url="http://good.test").status_code == 200
    with routed.test_request_context("/item/1/a", base_url="http://bad.test") as ctx:
        assert ctx.url_adapter is None
        assert erlen.request.routing_exception.code == 400


def test_private_attributes_relied_on_exist():
    """What erlen._werkzeug reads or sets on werkzeug's objects."""
    from werkzeug.routing import Map
    from werkzeug.routing import Rule
    from werkzeug.wsgi import LimitedStream

    headers = Headers([("A", "1")])
    headers["B"] = "2"
    assert headers._list == [("A", "1"), ("B", "2")]
    assert list(headers) == headers._list
    url_map = Map([Rule("/", endpoint="i")])
    url_map.bind("x").match("/")
    assert url_map._remap is False
    url_map.add(Rule("/b", endpoint="b"))
    assert url_map._remap is True
    response = WResponse("x", status=201)
    assert (response._status, response._status_code) == ("201 CREATED", 201)
    assert response._on_close == []
    stream = LimitedStream(io.BytesIO(b"abc"), 2, is_max=True)
    assert stream._limit_is_max is True and stream._stream.read(1) == b"a"
    request = WRequest(EnvironBuilder("/", headers={"Cookie": "a=b"}).get_environ())
    assert "cookies" not in request.__dict__ and "files" not in request.__dict__
    request.cookies, request.files  # noqa: B018 - werkzeug caches them here
    assert "cookies" in request.__dict__ and "files" in request.__dict__
    request.host = "kept.test"
    assert request.__dict__["host"] == "kept.test"


def test_client_cookies_relied_on_exist():
    """What erlen._werkzeug.client_cookies gives client.cookie_jar: the test
    client's private dict of Cookie objects, with the attributes it reads."""
    from datetime import datetime
    from datetime import timezone

    from werkzeug.test import Client

    from erlen._werkzeug import client_cookies

    EXPIRES = "Fri, 01 Jan 2100 00:00:00 GMT"

    def app(environ, start_response):
        start_response(
            "200 OK",
            [
                ("Set-Cookie", "a=1; Domain=example.com; Path=/p; Secure; Max-Age=9"),
                ("Set-Cookie", "b=2; HttpOnly; SameSite=Lax; Expires=" + EXPIRES),
            ],
        )
        return [b""]

    client = Client(app)
    assert client_cookies(client) is client._cookies == {}
    client.get("/", base_url="http://www.example.com")
    cookies = client_cookies(client)
    assert isinstance(cookies, dict) and sorted(cookies) == [
        ("example.com", "/p", "a"),
        ("www.example.com", "/", "b"),
    ]
    a, b = cookies[("example.com", "/p", "a")], cookies[("www.example.com", "/", "b")]
    assert (a.key, a.value, a.domain, a.path) == ("a", "1", "example.com", "/p")
    assert (a.origin_only, b.origin_only) == (False, True)
    assert (a.secure, b.secure, a.http_only, b.http_only) == (True, False, False, True)
    assert (a.max_age, b.max_age, a.same_site, b.same_site) == (9, None, None, "Lax")
    assert a.expires is None and b.expires == datetime(2100, 1, 1, tzinfo=timezone.utc)
    assert Client(app, use_cookies=False)._cookies is None


def test_client_cookie_helpers_reach_werkzeugs_client():
    """add_client_cookies and store_client_cookies, on werkzeug's own test
    client: a stored cookie goes into the next environ for its host and
    path only, and a deleting Set-Cookie removes it."""
    from werkzeug.test import Client

    from erlen._werkzeug import add_client_cookies
    from erlen._werkzeug import store_client_cookies

    client = Client(lambda environ, start_response: [])
    store_client_cookies(client, "localhost", "/", ["a=1; Path=/p", "b=2"])
    environ = EnvironBuilder("/p/x").get_environ()
    add_client_cookies(client, environ)
    assert sorted(environ["HTTP_COOKIE"].split("; ")) == ["a=1", "b=2"]
    environ = EnvironBuilder("/q").get_environ()
    add_client_cookies(client, environ)
    assert environ["HTTP_COOKIE"] == "b=2"
    store_client_cookies(client, "localhost", "/", ["b=; Max-Age=0"])
    environ = EnvironBuilder("/q").get_environ()
    add_client_cookies(client, environ)
    assert "HTTP_COOKIE" not in environ


def test_load_form_data_is_the_method_werkzeug_parses_forms_with():
    """erlen's Request overrides werkzeug's private _load_form_data (for the
    debug-mode enctype hint): werkzeug must still call it to parse a form."""
    calls = []

    class Recording(WRequest):
        def _load_form_data(self):
            calls.append("loaded")
            super()._load_form_data()

    for attr in ("form", "files"):
        calls.clear()
        request = Recording(
            EnvironBuilder("/", method="POST", data={"a": "1"}).get_environ()
        )
        getattr(request, attr)
        assert calls == ["loaded"], attr
    assert "_load_form_data" in vars(Request)
