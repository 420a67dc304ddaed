"""A view returning a string, with nothing to run on its response, is sent
without making a response object (app.wsgi_app with wrappers.send_text).
Whatever could make the response differ takes the usual path, and the
result is the same either way."""

from __future__ import annotations

import pytest
from markupsafe import Markup

import erlen
from erlen import signals
from erlen import wrappers


@pytest.fixture
def app():
    app = erlen.Flask(__name__)
    app.secret_key = "key"

    @app.route("/", methods=["GET", "POST"])
    def index():
        return "Hello, W\u00f6rld!"

    return app


@pytest.fixture
def direct_sends(monkeypatch):
    """How many responses went out through send_text's direct path."""
    sent = []
    real = wrappers.send_text

    def counting(*args):
        body = real(*args)
        if body is not None:
            sent.append(body)
        return body

    monkeypatch.setattr(erlen.app, "send_text", counting)
    return sent


def _wsgi(app, method="GET", path="/", **environ):
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = headers

    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": __import__("io").BytesIO(b""),
        **environ,
    }
    body = b"".join(app(env, start_response))
    return captured["status"], captured["headers"], body


def _usual(app, *args, **kwargs):
    """The same request through the usual path: an after_request function
    that changes nothing turns the direct path off."""
    app.after_request_funcs.setdefault(None, []).append(lambda response: response)
    try:
        return _wsgi(app, *args, **kwargs)
    finally:
        app.after_request_funcs[None].pop()
        if not app.after_request_funcs[None]:
            del app.after_request_funcs[None]


def test_direct_response_is_the_usual_one(app, direct_sends):
    for method in ("GET", "POST"):
        direct = _wsgi(app, method)
        usual = _usual(app, method)
        assert direct == usual
        assert direct == (
            "200 OK",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "14")],
            "Hello, W\u00f6rld!".encode(),
        )
    # The first request may fill the status cache through the usual path.
    assert len(direct_sends) >= 1
    direct_sends.clear()
    assert _wsgi(app) == _usual(app)
    assert len(direct_sends) == 1


def test_head_takes_the_usual_path(app, direct_sends):
    direct_sends.clear()
    status, headers, body = _wsgi(app, "HEAD")
    assert body == b"" and ("Content-Length", "14") in headers
    assert direct_sends == []


def test_patched_response_class_attributes_are_seen(app, direct_sends, monkeypatch):
    _wsgi(app)
    monkeypatch.setattr(erlen.Response, "default_mimetype", "text/plain")
    assert _wsgi(app)[1][0] == ("Content-Type", "text/plain; charset=utf-8")
    monkeypatch.setattr(erlen.Response, "automatically_set_content_length", False)
    assert [k for k, _ in _wsgi(app)[1]] == ["Content-Type"]

    def get_wsgi_headers(self, environ):
        headers = erlen.wrappers.ResponseBase.get_wsgi_headers(self, environ)
        headers["X-Patched"] = "1"
        return headers

    monkeypatch.setattr(erlen.Response, "get_wsgi_headers", get_wsgi_headers)
    assert ("X-Patched", "1") in _wsgi(app)[1]
    assert _wsgi(app) == _usual(app)


def test_a_class_default_status_is_sent_and_its_changes_seen(app, direct_sends):
    class Created(erlen.Response):
        default_status = 201

    app.response_class = Created
    direct_sends.clear()
    assert _wsgi(app)[0] == "201 CREATED"
    assert len(direct_sends) == 1
    Created.default_status = 202  # the class changed: its plan is made again
    assert _wsgi(app)[0] == "202 ACCEPTED"
    assert _wsgi(app) == _usual(app)
    Created.default_status = 204  # no body: the response object is made
    direct_sends.clear()
    assert _wsgi(app)[:2] == _usual(app)[:2]
    assert _wsgi(app)[0] == "204 NO CONTENT"
    assert direct_sends == []


def test_a_custom_response_class_is_used(app, direct_sends):
    class MyResponse(erlen.Response):
        default_mimetype = "text/plain"

        def get_app_iter(self, environ):
            return [b"custom"]

    app.response_class = MyResponse
    direct_sends.clear()
    assert _wsgi(app)[2] == b"custom"
    assert direct_sends == []


@pytest.mark.parametrize("method", ["__init__", "__call__"])
def test_a_response_class_extending_init_or_call_is_used(app, direct_sends, method):
    def __init__(self, *args, **kwargs):
        erlen.Response.__init__(self, *args, **kwargs)
        self.headers["X-Init"] = "1"

    def __call__(self, environ, start_response):
        self.headers["X-Call"] = "1"
        return erlen.Response.__call__(self, environ, start_response)

    app.response_class = type(
        "MyResponse", (erlen.Response,), {method: locals()[method]}
    )
    _wsgi(app)
    direct_sends.clear()
    header = "X-Init" if method == "__init__" else "X-Call"
    assert (header, "1") in _wsgi(app)[1]
    assert direct_sends == []


def test_overridden_or_patched_app_methods_are_called(app, direct_sends):
    seen = []

    class App(erlen.Flask):
        def process_response(self, response):
            seen.append("class")
            return super().process_response(response)

    sub = App(__name__)
    sub.add_url_rule("/", "index", lambda: "x")
    assert _wsgi(sub)[2] == b"x" and seen == ["class"]

    original = app.make_response

    def make_response(rv):
        seen.append("instance")
        return original(rv)

    app.make_response = make_response
    assert _wsgi(app)[2] == "Hello, W\u00f6rld!".encode()
    assert seen == ["class", "instance"]


def test_hooks_signals_and_sessions_take_the_usual_path(app, direct_sends):
    @app.route("/later")
    def later():
        @erlen.after_this_request
        def add(response):
            response.headers["X-Later"] = "1"
            return response

        return "later"

    @app.route("/session")
    def session_view():
        erlen.session["n"] = 1
        return "stored"

    _wsgi(app)
    direct_sends.clear()
    assert ("X-Later", "1") in _wsgi(app, path="/later")[1]
    status, headers, body = _wsgi(app, path="/session")
    assert body == b"stored"
    assert any(k == "Set-Cookie" and v.startswith("session=") for k, v in headers)
    assert ("Vary", "Cookie") in headers
    finished = []
    with signals.request_finished.connected_to(
        lambda sender, response, **kw: finished.append(response), app
    ):
        _wsgi(app)
    assert len(finished) == 1 and finished[0].data == "Hello, W\u00f6rld!".encode()
    assert direct_sends == []


def test_a_cookie_header_still_refreshes_a_permanent_session(app, direct_sends):
    client = app.test_client()

    @app.route("/login")
    def login():
        erlen.session.permanent = True
        erlen.session["user"] = "a"
        return "in"

    client.get("/login")
    response = client.get("/")  # the view never reads the session
    assert response.data == "Hello, W\u00f6rld!".encode()
    assert "Set-Cookie" in response.headers  # refreshed, as in Flask


def test_only_exact_strings_go_direct(app, direct_sends):
    @app.route("/markup")
    def markup():
        return Markup("<b>x</b>")

    @app.route("/bad")
    def bad():
        return "\ud800"  # cannot be encoded

    _wsgi(app)
    direct_sends.clear()
    assert _wsgi(app, path="/markup")[2] == b"<b>x</b>"
    assert direct_sends == []
    assert _wsgi(app, path="/bad")[0] == "500 INTERNAL SERVER ERROR"
    assert _wsgi(app)[0] == "200 OK"  # nothing was left behind
