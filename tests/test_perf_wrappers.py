"""The inline fast paths of Request and Response give what werkzeug's own
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

from erlen import wrappers
from erlen.wrappers import Request
from erlen.wrappers import Response


def test_fast_paths_are_active():
    assert wrappers._FAST


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


ERLEN_STATE = {"_form_loaded", "routing_exception"}


@pytest.mark.parametrize("environ", list(_environs()))
@pytest.mark.parametrize(("populate", "shallow"), [(True, False), (False, False), (True, True)])
def test_request_matches_werkzeug(environ, populate, shallow):
    ours = Request(dict(environ), populate, shallow)
    theirs = WRequest(dict(environ), populate, shallow)
    # Only what every request reads is set at once; the rest on first read.
    # erlen's own state: whether the form was loaded, and no routing error.
    assert set(ours.__dict__) == {"method", "environ", "shallow", *ERLEN_STATE}
    assert ours._form_loaded is False and ours.routing_exception is None
    for name in REQUEST_ATTRS:
        assert getattr(ours, name) == getattr(theirs, name), name
    assert type(ours.headers) is EnvironHeaders
    assert list(ours.headers) == list(theirs.headers)
    assert ours.headers.__dict__.keys() == theirs.headers.__dict__.keys()
    assert ours.headers.environ is ours.environ
    assert ("werkzeug.request" in ours.environ) == ("werkzeug.request" in theirs.environ)
    assert ours.url == theirs.url
    # Once read, the instance holds what werkzeug's constructor sets.
    assert set(ours.__dict__) - ERLEN_STATE == set(theirs.__dict__)
    for name, value in theirs.__dict__.items():
        if name not in ("environ", "headers"):
            assert ours.__dict__[name] == value, name


def test_request_attributes_can_be_set_before_and_after_first_read():
    req = Request(EnvironBuilder("/a").get_environ())
    req.path = "/set"
    assert req.path == "/set"  # a set value is never replaced
    assert req.scheme == "http"
    req.scheme = "https"
    assert req.scheme == "https" and req.url.startswith("https://")
    del req.scheme  # deleting a read value reads it again from the environ
    assert req.scheme == "http"


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
STATUSES = [None, 200, 201, "404", "418 I'm a teapot", " 201 ", "weird", HTTPStatus.ACCEPTED, 299, True]
HEADERS = [None, {}, [], {"X-A": "1"}, [("Content-Type", "text/plain")], Headers([("X", "y")])]
MIMETYPES = [None, "text/plain", "application/json", "image/png"]
CONTENT_TYPES = [None, "text/csv; charset=latin1"]


def _state(resp):
    d = dict(resp.__dict__)
    d["headers"] = (type(resp.headers), list(resp.headers))
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
