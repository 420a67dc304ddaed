"""The cookie session's serializer keeps its signer and the cookies it
verified and signed, and that changes nothing a client or a view can see:
kept cookies still expire, copies are not shared, the signed output is
itsdangerous' own, and the cookie and ``Vary`` helpers give what werkzeug
gives."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response as WResponse

import erlen
from erlen import sessions
from erlen._werkzeug import vary_on_cookie
from erlen.json.tag import TaggedJSONSerializer
from erlen.sessions import SecureCookieSessionInterface
from erlen.wrappers import Request
from erlen.wrappers import Response


@pytest.fixture
def app():
    app = erlen.Flask(__name__)
    app.secret_key = "perf-secret"
    app.session_interface = SecureCookieSessionInterface()

    @app.route("/set/<name>/<int:value>")
    def set_value(name, value):
        erlen.session[name] = value
        return "ok"

    @app.route("/get/<name>")
    def get_value(name):
        return repr(erlen.session.get(name))

    @app.route("/append")
    def append():
        erlen.session.setdefault("items", []).append(1)
        erlen.session.modified = True
        return repr(erlen.session["items"])

    @app.route("/mutate")
    def mutate():
        value = erlen.session.get("user")
        erlen.session["seen"] = value
        return repr(value)

    return app


def _cookie_of(response):
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("session="):
            return header.split(";", 1)[0][len("session=") :]
    return None


def _plain_serializer(app):
    return URLSafeTimedSerializer(
        app.secret_key,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def test_cached_session_reads_the_same(app):
    client = app.test_client()
    client.get("/set/a/1")
    for _ in range(3):
        assert client.get("/get/a").data == b"1"
    ser = app.session_interface.get_signing_serializer(app)
    assert ser.__dict__.get("_verified")


def test_remembered_cookie_still_expires(app, monkeypatch):
    client = app.test_client()
    client.get("/set/a/1")
    assert client.get("/get/a").data == b"1"  # now remembered
    ser = app.session_interface.get_signing_serializer(app)
    signer = ser.make_signer()
    real = type(signer).get_timestamp
    app.permanent_session_lifetime = timedelta(seconds=10)
    monkeypatch.setattr(type(signer), "get_timestamp", lambda self: real(self) + 11)
    assert client.get("/get/a").data == b"None"
    # A clock behind the signature is rejected too, as itsdangerous does.
    monkeypatch.setattr(type(signer), "get_timestamp", lambda self: real(self) - 5)
    assert client.get("/get/a").data == b"None"
    monkeypatch.setattr(type(signer), "get_timestamp", real)
    assert client.get("/get/a").data == b"1"


def test_expiry_follows_the_current_lifetime(app, monkeypatch):
    client = app.test_client()
    client.get("/set/a/1")
    assert client.get("/get/a").data == b"1"
    ser = app.session_interface.get_signing_serializer(app)
    real = type(ser.make_signer()).get_timestamp
    monkeypatch.setattr(
        type(ser.make_signer()), "get_timestamp", lambda self: real(self) + 100
    )
    assert client.get("/get/a").data == b"1"  # 31 days allowed
    app.permanent_session_lifetime = timedelta(seconds=50)
    assert client.get("/get/a").data == b"None"


def test_mutable_values_are_not_shared_between_requests(app):
    client = app.test_client()
    assert client.get("/append").data == b"[1]"
    cookie = client.get_cookie("session").value
    # Send the same cookie twice: each request must start from the cookie.
    for _ in range(2):
        client.set_cookie("session", cookie)
        assert client.get("/append").data == b"[1, 1]"


def test_each_request_gets_its_own_session_dict(app):
    seen = []

    @app.route("/keep")
    def keep():
        seen.append(
            erlen.session._get_current_object()
            if hasattr(erlen.session, "_get_current_object")
            else erlen.session
        )
        erlen.session.get("a")
        return "ok"

    client = app.test_client()
    client.get("/set/a/1")
    cookie = client.get_cookie("session").value
    for _ in range(2):
        client.set_cookie("session", cookie)
        client.get("/keep")
    assert seen[0] is not seen[1]
    seen[0]["a"] = 99
    client.set_cookie("session", cookie)
    assert client.get("/get/a").data == b"1"


def test_new_secret_key_does_not_accept_remembered_cookie(app):
    client = app.test_client()
    client.get("/set/a/1")
    assert client.get("/get/a").data == b"1"
    app.secret_key = "another"
    assert client.get("/get/a").data == b"None"
    app.config["SECRET_KEY_FALLBACKS"] = ["perf-secret"]
    assert client.get("/get/a").data == b"1"


def test_tampered_cookie_is_rejected_after_a_good_one(app):
    client = app.test_client()
    client.get("/set/a/1")
    cookie = client.get_cookie("session").value
    assert client.get("/get/a").data == b"1"
    # Change a character near the start: the last base64 character of the
    # signature can carry only padding bits, and changing it may leave the
    # decoded signature (and so a valid cookie) as it was.
    tampered = cookie[:1] + ("A" if cookie[1] != "A" else "B") + cookie[2:]
    assert tampered != cookie
    client.set_cookie("session", tampered)
    assert client.get("/get/a").data == b"None"


def test_signed_output_is_itsdangerous_own(app):
    ser = app.session_interface.get_signing_serializer(app)
    plain = _plain_serializer(app)
    for data in [{"a": 1}, {"x": "y" * 300}, {"t": (1, 2), "b": b"\x00"}, {}]:
        for _ in range(2):  # a miss, then a hit
            ours = ser.dumps_session(data)
            assert plain.loads(ours) == data
            theirs = plain.dumps(data)
            # Same second (or the next one): same bytes once the clocks agree.
            if ours.rsplit(".", 2)[-2] == theirs.rsplit(".", 2)[-2]:
                assert ours == theirs


def test_signed_output_follows_the_clock(app, monkeypatch):
    ser = app.session_interface.get_signing_serializer(app)
    signer_cls = type(ser.make_signer())
    monkeypatch.setattr(signer_cls, "get_timestamp", lambda self: 1_700_000_000)
    first = ser.dumps_session({"a": 1})
    assert ser.dumps_session({"a": 1}) == first
    monkeypatch.setattr(signer_cls, "get_timestamp", lambda self: 1_700_000_001)
    second = ser.dumps_session({"a": 1})
    assert second != first
    plain = _plain_serializer(app)
    assert plain.loads(second, return_timestamp=True)[1].timestamp() == 1_700_000_001


def test_cookie_value_follows_the_header():
    from erlen._werkzeug import cookie_value

    memo = {}
    for header, expected in [
        ("session=abc", "abc"),
        ("other=1; session=xyz", "xyz"),
        ("session=first; session=second", "first"),
        ("nope=1", None),
        ("session=abc", "abc"),
    ]:
        for _ in range(2):  # a miss, then a hit
            env = EnvironBuilder("/", headers={"Cookie": header}).get_environ()
            request = Request(env)
            assert cookie_value(memo, request, "session") == expected
            assert request.cookies.get("session") == expected
    assert len(memo) == 4


def test_cookie_value_uses_a_custom_cookies_property():
    from erlen._werkzeug import cookie_value

    class MyRequest(Request):
        @property
        def cookies(self):
            return {"session": "custom"}

    env = EnvironBuilder("/", headers={"Cookie": "session=abc"}).get_environ()
    memo = {}
    assert cookie_value(memo, MyRequest(env), "session") == "custom"
    assert memo == {}


def test_kept_cookies_stay_bounded(app):
    ser = app.session_interface.get_signing_serializer(app)
    for i in range(sessions._KEPT_COOKIES * 2):
        ser.loads_session(ser.dumps({"i": i}), 3600)
        ser.dumps_session({"i": i})
    assert len(ser._verified) <= sessions._KEPT_COOKIES
    assert len(ser._signed) <= sessions._KEPT_COOKIES


VARY_CASES = [
    [],
    [("Vary", "Cookie")],
    [("vary", "cookie")],
    [("Vary", "Accept-Encoding")],
    [("Vary", "Accept, Cookie")],
    [("X", "1"), ("VARY", "Origin"), ("Vary", "Cookie")],
]


@pytest.mark.parametrize("headers", VARY_CASES)
def test_vary_on_cookie_matches_werkzeug(headers):
    class Plain(WResponse):
        default_mimetype = "text/html"

    ours = Response("x", headers=list(headers))
    theirs = Plain("x", headers=list(headers))
    for _ in range(2):
        vary_on_cookie(ours)
        theirs.vary.add("Cookie")
        assert list(ours.headers) == list(theirs.headers)
