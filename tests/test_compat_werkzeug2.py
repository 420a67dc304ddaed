"""What code written for werkzeug 2 did with a response's headers and the
test client's ``cookie_jar``, on erlen (werkzeug 3 removed both).

Apart from the tests about warnings, these tests use only what Flask 2.1
with werkzeug 2.1 had, and pass there too.
"""

import http.cookiejar
import warnings

import pytest
from werkzeug.datastructures import Headers

import erlen
from erlen import Flask


@pytest.fixture
def app():
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="k")
    return app


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def bytes_setters():
    """Every way of putting a header on a response, each given bytes."""

    def item(r):
        r.headers["X-T"] = b"v\xe9"

    def add(r):
        r.headers.add(b"X-T", b"v\xe9")

    def set_(r):
        r.headers.set("X-T", b"v\xe9")

    def setdefault(r):
        r.headers.setdefault("X-T", b"v\xe9")

    def setlist(r):
        r.headers.setlist("X-T", [b"v\xe9"])

    def extend(r):
        r.headers.extend({"X-T": b"v\xe9"})

    def update(r):
        r.headers.update([("X-T", b"v\xe9")])

    def add_header(r):
        r.headers.add_header("X-T", b"v\xe9")

    return [item, add, set_, setdefault, setlist, extend, update,
            add_header]  # fmt: skip


@pytest.mark.parametrize("setter", bytes_setters(), ids=lambda f: f.__name__)
@pytest.mark.parametrize("body", ["text", iter([b"streamed"])], ids=["text", "iter"])
def test_bytes_header_values_are_decoded_as_latin1(app, setter, body):
    @app.route("/")
    def index():
        response = erlen.Response(body)
        setter(response)
        return response

    response = app.test_client().get("/")
    assert response.headers.getlist("X-T") == ["v\xe9"]


@pytest.mark.parametrize(
    "headers",
    [{"X-T": b"v\xe9"}, [(b"X-T", b"v\xe9")], {"X-T": [b"v\xe9", "w"]}],
    ids=["dict", "pairs", "list-value"],
)
@pytest.mark.parametrize("with_status", [False, True])
def test_bytes_in_headers_returned_by_a_view(app, headers, with_status):
    @app.route("/")
    def index():
        return ("body", 202, headers) if with_status else ("body", headers)

    @app.route("/response")
    def made_response():
        made = app.response_class("made")
        return (made, 202, headers) if with_status else (made, headers)

    client = app.test_client()
    for path in ("/", "/response"):
        response = client.get(path)
        assert response.headers.getlist("X-T")[0] == "v\xe9"
        assert response.status_code == (202 if with_status else 200)


def test_bytes_headers_given_to_the_response_constructor(app):
    response = app.response_class("x", headers={b"X-T": b"\xff"})
    assert response.headers["X-T"] == "\xff"
    assert ("X-T", "\xff") in response.headers.to_wsgi_list()


def test_a_headers_object_given_to_a_response_is_kept(app):
    headers = Headers([("X-A", "1")])
    assert app.response_class("x", headers=headers).headers is headers


def test_newlines_in_bytes_header_values_are_refused(app):
    response = app.response_class("x")
    with pytest.raises(ValueError):
        response.headers["X-T"] = b"a\r\nSet-Cookie: evil=1"


def test_str_headers_are_untouched(app):
    response = app.response_class("x")
    response.headers["X-T"] = "b'x'"
    response.headers.add("X-N", 5)
    assert response.headers["X-T"] == "b'x'" and response.headers["X-N"] == "5"


def test_bytes_header_warns_once_naming_str():
    from erlen import compat

    compat._warned.discard("a bytes header name or value")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        response = erlen.Response("x")
        response.headers[b"X-A"] = b"1"
        response.headers.add("X-B", b"2")
        response.headers["X-C"] = "3"
    messages = [str(w.message) for w in record if w.category is DeprecationWarning]
    assert len(messages) == 1 and "Use a str instead" in messages[0]


# -- client.cookie_jar --------------------------------------------------------


@pytest.fixture
def cookie_app(app):
    @app.route("/")
    def index():
        response = erlen.make_response("cookies")
        erlen.session["user"] = "ann"
        response.set_cookie("theme", "dark", path="/app", max_age=60)
        if erlen.request.host.endswith("example.com"):
            response.set_cookie("site", "1", domain="example.com", secure=True)
        return response

    @app.route("/echo")
    def echo():
        return ",".join(sorted(erlen.request.cookies))

    return app


def test_cookie_jar_lists_the_cookies(cookie_app):
    client = cookie_app.test_client()
    set_cookies = client.get("/").headers.getlist("Set-Cookie")
    jar = client.cookie_jar
    assert len(jar) == 2
    cookies = sorted(jar, key=lambda c: c.name)
    assert [c.name for c in cookies] == ["session", "theme"]
    assert all(isinstance(c, http.cookiejar.Cookie) for c in cookies)
    session, theme = cookies
    assert session.domain == theme.domain == "localhost.local"
    assert not session.domain_specified
    assert (session.path, theme.path) == ("/", "/app")
    assert f"session={session.value}; HttpOnly; Path=/" in set_cookies
    assert theme.value == "dark"
    assert session.expires is None and session.discard
    assert isinstance(theme.expires, int) and not theme.discard
    assert session.has_nonstandard_attr("HttpOnly")
    assert not theme.has_nonstandard_attr("HttpOnly")
    assert not session.secure


def test_cookie_jar_domain_cookies(cookie_app):
    client = cookie_app.test_client()
    client.get("/", base_url="http://www.example.com")
    cookies = {c.name: c for c in client.cookie_jar}
    assert sorted(cookies) == ["session", "site", "theme"]
    assert cookies["site"].domain == ".example.com"
    assert cookies["site"].domain_specified and cookies["site"].secure
    assert cookies["session"].domain == "www.example.com"


def test_cookie_jar_follows_the_client(cookie_app):
    client = cookie_app.test_client()
    jar = client.cookie_jar
    assert len(jar) == 0 and list(jar) == []
    client.get("/")
    assert len(client.cookie_jar) == 2


def test_cookie_jar_clear(cookie_app):
    client = cookie_app.test_client()
    client.get("/")
    jar = client.cookie_jar
    with pytest.raises(ValueError):
        jar.clear(path="/app")
    with pytest.raises(ValueError):
        jar.clear("localhost.local", name="theme")
    with pytest.raises(KeyError):
        jar.clear("localhost.local", "/app", "missing")
    with pytest.raises(KeyError):
        jar.clear("nowhere.test")
    jar.clear("localhost.local", "/app", "theme")
    assert [c.name for c in client.cookie_jar] == ["session"]
    assert client.get("/echo").data == b"session"
    client.get("/")
    jar.clear("localhost.local", "/")
    assert [c.name for c in client.cookie_jar] == ["theme"]
    client.cookie_jar.clear()
    assert len(client.cookie_jar) == 0
    assert client.get("/echo").data == b""


def test_cookie_jar_is_none_without_cookies(app):
    assert app.test_client(use_cookies=False).cookie_jar is None


def test_cookie_jar_warns_once_naming_get_cookie(app):
    from erlen import compat

    compat._warned.discard("client.cookie_jar")
    client = app.test_client()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        len(client.cookie_jar)
        list(client.cookie_jar)
    messages = [str(w.message) for w in record if w.category is DeprecationWarning]
    assert len(messages) == 1 and "get_cookie" in messages[0]
