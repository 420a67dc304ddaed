"""Sessions and session interfaces, with a small stand-in app."""

import base64
import re
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from http.cookies import SimpleCookie
from uuid import uuid4

import pytest
from itsdangerous import TimestampSigner
from markupsafe import Markup
from werkzeug.http import parse_date
from werkzeug.test import EnvironBuilder

from erlen.config import Config
from erlen.config import ConfigAttribute
from erlen.sessions import NullSession
from erlen.sessions import SecureCookieSession
from erlen.sessions import SecureCookieSessionInterface
from erlen.sessions import SessionInterface
from erlen.sessions import SessionMixin
from erlen.wrappers import Request
from erlen.wrappers import Response

DEFAULTS = {
    "SECRET_KEY": "dev key",
    "SECRET_KEY_FALLBACKS": None,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    "SESSION_COOKIE_SAMESITE": None,
    "SESSION_REFRESH_EACH_REQUEST": True,
    "APPLICATION_ROOT": "/",
}


def _to_timedelta(value):
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


class FakeApp:
    secret_key = ConfigAttribute("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute(
        "PERMANENT_SESSION_LIFETIME", get_converter=_to_timedelta
    )

    def __init__(self, **config):
        self.config = Config("/", {**DEFAULTS, **config})


@pytest.fixture
def app():
    return FakeApp()


@pytest.fixture
def si():
    return SecureCookieSessionInterface()


def make_request(cookie=None):
    headers = {"Cookie": f"session={cookie}"} if cookie is not None else {}
    return Request(EnvironBuilder(headers=headers).get_environ())


def saved_cookie(si, app, session):
    response = Response()
    si.save_session(app, session, response)
    return response


def cookie_value(response, name="session"):
    for header in response.headers.getlist("Set-Cookie"):
        jar = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar[name].value
    return None


def fresh(data):
    """A session holding ``data`` that counts as changed, so it is saved."""
    session = SecureCookieSession(data)
    session.modified = True
    return session


def round_trip(si, app, data):
    session = fresh(data)
    response = saved_cookie(si, app, session)
    return si.open_session(app, make_request(cookie_value(response)))


# SecureCookieSession


def test_new_session_flags():
    s = SecureCookieSession()
    assert s == {}
    assert not s.modified and not s.accessed and not s.new
    assert isinstance(s, SessionMixin)
    assert isinstance(s, dict)


def test_initial_data_is_not_a_modification():
    s = SecureCookieSession({"a": 1})
    assert s == {"a": 1}
    assert not s.modified and not s.accessed
    assert SecureCookieSession([("b", 2)]) == {"b": 2}


@pytest.mark.parametrize(
    "read",
    [
        lambda s: s["a"],
        lambda s: s.get("a"),
        lambda s: s.get("missing", 0),
        lambda s: s.setdefault("a", 5),
        lambda s: s.permanent,
    ],
)
def test_reads_mark_nothing(read):
    # As in Flask 3.1: only the request context's ``session`` marks it
    # accessed (see test_ctx), the session object itself never does.
    s = SecureCookieSession({"a": 1})
    read(s)
    assert not s.accessed
    assert not s.modified


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.__setitem__("b", 2),
        lambda s: s.__delitem__("a"),
        lambda s: s.clear(),
        lambda s: s.pop("a"),
        lambda s: s.pop("a", None),
        lambda s: s.popitem(),
        lambda s: s.update(b=2),
        lambda s: s.update({"b": 2}),
        lambda s: s.setdefault("b", 2),
        lambda s: s.__ior__({"b": 2}),
    ],
)
def test_writes_mark_modified(write):
    s = SecureCookieSession({"a": 1})
    write(s)
    assert s.modified
    assert not s.accessed


@pytest.mark.parametrize(
    ("write", "error"),
    [
        (lambda s: s.__delitem__("missing"), KeyError),
        (lambda s: SecureCookieSession().popitem(), KeyError),
        (lambda s: s.pop("missing"), KeyError),
        (lambda s: s.update(5), TypeError),
        (lambda s: s.__setitem__([], 1), TypeError),
    ],
)
def test_failed_writes_mark_nothing(write, error):
    s = SecureCookieSession({"a": 1})
    with pytest.raises(error):
        write(s)
    assert not s.modified


def test_noop_writes_do_not_mark_modified():
    s = SecureCookieSession({"a": 1})
    assert s.pop("missing", "default") == "default"
    assert s.setdefault("a", 99) == 1
    assert not s.modified
    with pytest.raises(KeyError):
        s.pop("missing")
    assert not s.modified


def test_in_place_or_updates_the_session():
    s = SecureCookieSession({"a": 1})
    s |= {"b": 2}
    assert type(s) is SecureCookieSession
    assert s == {"a": 1, "b": 2}
    assert s.modified


def test_mutating_a_nested_value_is_not_seen():
    s = SecureCookieSession({"items": []})
    s.modified = False
    dict.__getitem__(s, "items").append(1)
    assert not s.modified


def test_permanent_property():
    s = SecureCookieSession()
    assert s.permanent is False
    assert not s.accessed, "reading permanent must not add Vary: Cookie"
    s.permanent = 1
    assert s["_permanent"] is True
    assert s.permanent is True
    assert s.modified


def test_mixin_on_plain_dict():
    class Session(dict, SessionMixin):
        pass

    s = Session()
    assert s.modified is True, "untracked sessions are always saved"
    assert s.permanent is False
    s.permanent = True
    assert s == {"_permanent": True}


def test_session_repr():
    assert repr(SecureCookieSession({"a": 1})) == "<SecureCookieSession {'a': 1}>"


# NullSession


def test_null_session_reads():
    s = NullSession()
    assert s.get("x") is None
    assert "x" not in s
    assert len(s) == 0
    assert s.permanent is False


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.__setitem__("a", 1),
        lambda s: s.__delitem__("a"),
        lambda s: s.clear(),
        lambda s: s.pop("a"),
        lambda s: s.pop("a", None),
        lambda s: s.popitem(),
        lambda s: s.update(a=1),
        lambda s: s.setdefault("a", 1),
        lambda s: setattr(s, "permanent", True),
    ],
)
def test_null_session_writes_fail(write):
    s = NullSession()
    with pytest.raises(RuntimeError) as e:
        write(s)
    assert "session is unavailable" in str(e.value)
    assert "secret_key" in str(e.value)


# SessionInterface defaults


def test_interface_abstract_methods(app):
    base = SessionInterface()
    with pytest.raises(NotImplementedError):
        base.open_session(app, make_request())
    with pytest.raises(NotImplementedError):
        base.save_session(app, SecureCookieSession(), Response())


def test_null_session_helpers(app):
    base = SessionInterface()
    null = base.make_null_session(app)
    assert type(null) is NullSession
    assert base.is_null_session(null)
    assert not base.is_null_session(SecureCookieSession())
    assert base.pickle_based is False

    class MyNull(NullSession):
        pass

    class Custom(SessionInterface):
        null_session_class = MyNull

    assert type(Custom().make_null_session(app)) is MyNull


def test_cookie_settings_come_from_config():
    app = FakeApp(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN=".example.com",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PARTITIONED=True,
    )
    si = SessionInterface()
    assert si.get_cookie_name(app) == "sid"
    assert si.get_cookie_domain(app) == ".example.com"
    assert si.get_cookie_httponly(app) is False
    assert si.get_cookie_secure(app) is True
    assert si.get_cookie_samesite(app) == "Lax"
    assert si.get_cookie_partitioned(app) is True


def test_cookie_path_falls_back_to_application_root():
    si = SessionInterface()
    assert si.get_cookie_path(FakeApp(APPLICATION_ROOT="/app")) == "/app"
    assert (
        si.get_cookie_path(FakeApp(APPLICATION_ROOT="/app", SESSION_COOKIE_PATH="/s"))
        == "/s"
    )


def test_expiration_time(app):
    si = SessionInterface()
    s = SecureCookieSession()
    assert si.get_expiration_time(app, s) is None
    s.permanent = True
    expires = si.get_expiration_time(app, s)
    expected = datetime.now(timezone.utc) + timedelta(days=31)
    assert abs((expires - expected).total_seconds()) < 5


@pytest.mark.parametrize(
    "modified, permanent, refresh, expected",
    [
        (True, False, False, True),
        (False, True, True, True),
        (False, True, False, False),
        (False, False, True, False),
    ],
)
def test_should_set_cookie(modified, permanent, refresh, expected):
    app = FakeApp(SESSION_REFRESH_EACH_REQUEST=refresh)
    s = SecureCookieSession({"_permanent": True} if permanent else {})
    s.modified = modified
    assert SessionInterface().should_set_cookie(app, s) is expected


# SecureCookieSessionInterface: loading


def test_no_secret_key_gives_none(si):
    app = FakeApp(SECRET_KEY=None)
    assert si.get_signing_serializer(app) is None
    assert si.open_session(app, make_request("anything")) is None
    assert si.get_signing_serializer(FakeApp(SECRET_KEY="")) is None


def test_no_cookie_gives_new_empty_session(si, app):
    s = si.open_session(app, make_request())
    assert type(s) is SecureCookieSession
    assert s == {} and not s.modified and not s.accessed

    other = Request(EnvironBuilder(headers={"Cookie": "other=1"}).get_environ())
    assert si.open_session(app, other) == {}


def test_round_trip_special_types(si, app):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    the_uuid = uuid4()
    data = {
        "t": (1, 2, 3),
        "b": b"\xff",
        "m": Markup("<html>"),
        "u": the_uuid,
        "d": now,
        "t_tag": {" t": "not-a-tuple"},
        "di_t_tag": {" t__": "not-a-tuple"},
        "di_tag": {" di": "not-a-dict"},
    }
    loaded = round_trip(si, app, data)
    assert loaded == data
    assert type(loaded["b"]) is bytes
    assert type(loaded["m"]) is Markup
    assert not loaded.modified


@pytest.mark.parametrize(
    "mangle",
    [
        # Changed inside the signature (the last base64 digit may carry only
        # padding bits, so it is not a reliable place to change).
        lambda v: v[:-5] + ("A" if v[-5] != "A" else "B") + v[-4:],
        lambda v: ("f" if v[0] != "f" else "e") + v[1:],  # payload changed
        lambda v: v[: len(v) // 2],  # truncated
        lambda v: "garbage",
        lambda v: "...",
        lambda v: "." + v,  # marks a compressed payload
        lambda v: base64.urlsafe_b64encode(b'{"a":1}').decode() + ".x.y",
    ],
)
def test_bad_cookie_gives_empty_session(si, app, mangle):
    response = saved_cookie(si, app, fresh({"a": 1, "_fresh": True}))
    good = cookie_value(response)
    assert si.open_session(app, make_request(good)) == {"a": 1, "_fresh": True}
    s = si.open_session(app, make_request(mangle(good)))
    assert s == {}
    assert type(s) is SecureCookieSession


def test_cookie_signed_with_other_key_is_rejected(si):
    response = saved_cookie(si, FakeApp(SECRET_KEY="one"), fresh({"a": 1}))
    assert (
        si.open_session(FakeApp(SECRET_KEY="two"), make_request(cookie_value(response)))
        == {}
    )


def test_expired_cookie_gives_empty_session(si, monkeypatch):
    app = FakeApp(PERMANENT_SESSION_LIFETIME=60)
    response = saved_cookie(si, app, fresh({"a": 1}))
    value = cookie_value(response)
    assert si.open_session(app, make_request(value)) == {"a": 1}

    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + 120)
    assert si.open_session(app, make_request(value)) == {}


def test_non_dict_payload_gives_empty_session(si, app):
    signer = si.get_signing_serializer(app)
    assert si.open_session(app, make_request(signer.dumps([1, 2]))) == {}


def test_secret_key_fallbacks(si):
    old = FakeApp(SECRET_KEY="0 key", SECRET_KEY_FALLBACKS=["-1 key"])
    value = cookie_value(saved_cookie(si, old, fresh({"a": 1})))

    rotated = FakeApp(SECRET_KEY="+1 key", SECRET_KEY_FALLBACKS=["0 key", "-1 key"])
    assert si.open_session(rotated, make_request(value)) == {"a": 1}

    # New cookies are signed with the current key only.
    new_value = cookie_value(saved_cookie(si, rotated, fresh({"b": 2})))
    assert si.open_session(FakeApp(SECRET_KEY="+1 key"), make_request(new_value)) == {
        "b": 2
    }
    assert si.open_session(FakeApp(SECRET_KEY="0 key"), make_request(new_value)) == {}

    dropped = FakeApp(SECRET_KEY="+1 key", SECRET_KEY_FALLBACKS=["-1 key"])
    assert si.open_session(dropped, make_request(value)) == {}


# The signing serializer cache


def test_signing_serializer_is_cached(si, app):
    first = si.get_signing_serializer(app)
    assert si.get_signing_serializer(app) is first
    assert si.get_signing_serializer(FakeApp()) is first, (
        "same keys share one serializer"
    )


def test_cache_notices_secret_key_change(si, app):
    first = si.get_signing_serializer(app)
    value = cookie_value(saved_cookie(si, app, fresh({"a": 1})))

    app.secret_key = "changed"
    second = si.get_signing_serializer(app)
    assert second is not first
    assert si.open_session(app, make_request(value)) == {}

    app.secret_key = "dev key"
    assert si.open_session(app, make_request(value)) == {"a": 1}


def test_cache_notices_fallbacks_mutated_in_place(si, app):
    value = cookie_value(saved_cookie(si, app, fresh({"a": 1})))
    app.secret_key = "new"
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert si.open_session(app, make_request(value)) == {}
    app.config["SECRET_KEY_FALLBACKS"].append("dev key")
    assert si.open_session(app, make_request(value)) == {"a": 1}


def test_cache_notices_interface_settings(si, app):
    first = si.get_signing_serializer(app)
    value = cookie_value(saved_cookie(si, app, fresh({"a": 1})))
    si.salt = "other-salt"
    assert si.get_signing_serializer(app) is not first
    assert si.open_session(app, make_request(value)) == {}


def test_cache_is_per_interface(app):
    a = SecureCookieSessionInterface()
    b = SecureCookieSessionInterface()
    b.salt = "b-salt"
    assert a.get_signing_serializer(app) is not b.get_signing_serializer(app)
    value = cookie_value(saved_cookie(a, app, fresh({"x": 1})))
    assert b.open_session(app, make_request(value)) == {}


def test_serializer_is_kept_until_the_keys_change(si, app):
    first = si.get_signing_serializer(app)
    assert si.get_signing_serializer(app) is first
    app.secret_key = "another key"
    second = si.get_signing_serializer(app)
    assert second is not first
    assert second.secret_keys == [b"another key"]


def test_serializer_settings(si, app):
    signer = si.get_signing_serializer(app)
    assert signer.salt == b"cookie-session"
    assert signer.serializer is si.serializer
    assert signer.signer_kwargs["key_derivation"] == "hmac"
    assert signer.signer_kwargs["digest_method"]().name == "sha1"


# SecureCookieSessionInterface: saving


def test_save_sets_cookie_with_attributes(si):
    app = FakeApp(
        SESSION_COOKIE_DOMAIN=".example.com",
        SESSION_COOKIE_PATH="/p",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="sid",
    )
    s = SecureCookieSession()
    s["a"] = 1
    response = saved_cookie(si, app, s)
    header = response.headers["Set-Cookie"].lower()
    assert header.startswith("sid=")
    assert "domain=example.com" in header or "domain=.example.com" in header
    assert "path=/p" in header
    assert "secure" in header
    assert "httponly" not in header
    assert "samesite=strict" in header
    assert "partitioned" in header
    assert "expires" not in header
    assert response.headers["Vary"] == "Cookie"


def test_save_default_attributes(si, app):
    s = SecureCookieSession()
    s["a"] = 1
    header = saved_cookie(si, app, s).headers["Set-Cookie"].lower()
    assert "httponly" in header
    assert "path=/" in header
    assert "samesite" not in header
    assert "secure" not in header


def test_invalid_samesite_raises(si):
    s = SecureCookieSession()
    s["a"] = 1
    with pytest.raises(ValueError):
        saved_cookie(si, FakeApp(SESSION_COOKIE_SAMESITE="invalid"), s)


def test_permanent_session_expires(si, app):
    s = SecureCookieSession()
    s["a"] = 1
    s.permanent = True
    header = saved_cookie(si, app, s).headers["Set-Cookie"]
    expires = parse_date(re.search(r"(?i)expires=([^;]+)", header).group(1))
    expected = datetime.now(timezone.utc) + timedelta(days=31)
    assert abs((expires - expected).total_seconds()) < 5


def test_untouched_session_sets_nothing(si, app):
    s = SecureCookieSession({"a": 1})
    response = saved_cookie(si, app, s)
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers


def test_read_only_session_adds_vary_only(si, app):
    s = SecureCookieSession({"a": 1})
    s.accessed = True  # as reading the request context's session does
    response = saved_cookie(si, app, s)
    assert "Set-Cookie" not in response.headers
    assert response.headers["Vary"] == "Cookie"


def test_permanent_session_refreshes_each_request(si):
    s = SecureCookieSession({"a": 1, "_permanent": True})
    refreshed = saved_cookie(si, FakeApp(), s)
    assert "Set-Cookie" in refreshed.headers
    assert refreshed.headers["Vary"] == "Cookie"

    not_refreshed = saved_cookie(si, FakeApp(SESSION_REFRESH_EACH_REQUEST=False), s)
    assert "Set-Cookie" not in not_refreshed.headers


def test_emptied_session_deletes_cookie(si):
    app = FakeApp(SESSION_COOKIE_DOMAIN=".example.com", SESSION_COOKIE_SECURE=True)
    s = SecureCookieSession({"a": 1})
    s.pop("a")
    response = saved_cookie(si, app, s)
    header = response.headers["Set-Cookie"].lower()
    assert header.startswith("session=;")
    assert "expires=thu, 01 jan 1970" in header
    assert "secure" in header
    assert "example.com" in header
    assert response.headers.getlist("Vary") == ["Cookie"]


def test_empty_unmodified_session_sets_nothing(si, app):
    response = saved_cookie(si, app, SecureCookieSession())
    assert "Set-Cookie" not in response.headers


def test_vary_is_not_duplicated(si, app):
    response = Response()
    response.vary.update(("Accept-Encoding", "Cookie"))
    s = SecureCookieSession()
    s["a"] = 1
    si.save_session(app, s, response)
    assert response.headers.getlist("Vary") == ["Accept-Encoding, Cookie"]


# Compatibility with Flask's cookies


def _flask_interface():
    flask_sessions = pytest.importorskip("flask.sessions")
    if flask_sessions.SecureCookieSessionInterface is SecureCookieSessionInterface:
        pytest.skip("flask is aliased to erlen")
    return flask_sessions


def test_flask_cookie_loads_in_erlen(si, app):
    flask_sessions = _flask_interface()
    data = {
        "user": 1,
        "t": (1, 2),
        "b": b"\x00",
        "m": Markup("<b>"),
        "_permanent": True,
    }
    value = (
        flask_sessions.SecureCookieSessionInterface()
        .get_signing_serializer(app)
        .dumps(data)
    )
    assert si.open_session(app, make_request(value)) == data


def test_erlen_cookie_loads_in_flask(si, app):
    flask_sessions = _flask_interface()
    data = {"user": 1, "u": uuid4(), "nested": {" t": [1]}}
    value = cookie_value(saved_cookie(si, app, fresh(data)))
    fsi = flask_sessions.SecureCookieSessionInterface()
    assert fsi.get_signing_serializer(app).loads(value) == data


def test_cached_signer_output_matches_plain_itsdangerous(si, monkeypatch):
    import hashlib

    from itsdangerous import URLSafeTimedSerializer

    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: 1_700_000_000)
    app = FakeApp(SECRET_KEY="current", SECRET_KEY_FALLBACKS=["old"])
    ours = si.get_signing_serializer(app)
    plain = URLSafeTimedSerializer(
        ["old", "current"],
        salt="cookie-session",
        serializer=si.serializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    data = {"a": (1, b"x"), "z": None}
    assert ours.dumps(data) == plain.dumps(data)
    # Reused signers and derived keys give the same result on later calls.
    assert ours.dumps(data) == plain.dumps(data)
    assert ours.make_signer() is ours.make_signer()
    assert ours.make_signer("other salt") is not ours.make_signer("other salt")
    assert ours.loads(plain.dumps(data)) == data

    old_only = URLSafeTimedSerializer(
        "old",
        salt="cookie-session",
        serializer=si.serializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    assert ours.loads(old_only.dumps(data)) == data


def test_custom_digest_method_is_used(app):
    import hashlib

    calls = []

    class Sha256Interface(SecureCookieSessionInterface):
        @staticmethod
        def digest_method(data=b""):
            calls.append(1)
            return hashlib.sha256(data)

    si256 = Sha256Interface()
    value = cookie_value(saved_cookie(si256, app, fresh({"a": 1})))
    assert calls, "the custom digest must be used"
    assert si256.open_session(app, make_request(value)) == {"a": 1}
    assert SecureCookieSessionInterface().open_session(app, make_request(value)) == {}


# With a real erlen app


@pytest.fixture
def real_app():
    erlen = pytest.importorskip("erlen")
    app = erlen.Flask(__name__)
    app.secret_key = "test key"
    app.testing = True
    return app


def test_app_session_round_trip(real_app):
    from erlen import session

    @real_app.post("/")
    def set_value():
        session["value"] = (1, b"x")
        return ""

    @real_app.get("/")
    def get_value():
        return repr(session.get("value"))

    @real_app.get("/nothing")
    def nothing():
        return ""

    client = real_app.test_client()
    rv = client.post("/")
    assert rv.headers["Vary"] == "Cookie"
    assert "HttpOnly" in rv.headers["Set-Cookie"]
    rv = client.get("/")
    assert rv.text == "(1, b'x')"
    assert rv.headers["Vary"] == "Cookie"
    assert "Set-Cookie" not in rv.headers
    rv = client.get("/nothing")
    assert "Vary" not in rv.headers
    assert "Set-Cookie" not in rv.headers


def test_app_secret_key_changes_between_requests(real_app):
    from erlen import session

    @real_app.post("/")
    def set_value():
        session["a"] = 1
        return ""

    @real_app.get("/")
    def get_value():
        return dict(session)

    client = real_app.test_client()
    real_app.secret_key = "0 key"
    real_app.config["SECRET_KEY_FALLBACKS"] = ["-1 key"]
    client.post("/")
    assert client.get("/").json == {"a": 1}
    real_app.secret_key = "? key"
    assert client.get("/").json == {}
    real_app.secret_key = "+1 key"
    real_app.config["SECRET_KEY_FALLBACKS"] = ["0 key"]
    assert client.get("/").json == {"a": 1}


def test_app_without_secret_key_has_null_session(real_app):
    from erlen import session

    real_app.secret_key = None

    with real_app.test_request_context():
        assert session.get("x") is None
        with pytest.raises(RuntimeError, match="session is unavailable"):
            session["x"] = 1


def test_app_garbage_cookie_is_an_empty_session(real_app):
    from erlen import session

    @real_app.get("/")
    def index():
        return str(dict(session))

    client = real_app.test_client()
    client.set_cookie("session", "not.a.valid.cookie")
    rv = client.get("/")
    assert rv.status_code == 200
    assert rv.text == "{}"


def test_app_cleared_session_deletes_cookie(real_app):
    from erlen import session

    @real_app.get("/set")
    def set_value():
        session["a"] = 1
        return ""

    @real_app.get("/clear")
    def clear():
        session.clear()
        return ""

    client = real_app.test_client()
    client.get("/set")
    rv = client.get("/clear")
    assert rv.headers["Set-Cookie"].startswith("session=;")
    assert client.get_cookie("session") is None


def test_cache_hits_with_bound_method_digest(app):
    import hashlib

    class BoundDigest(SecureCookieSessionInterface):
        def digest_method(self, data=b""):
            return hashlib.sha256(data)

    si = BoundDigest()
    assert si.get_signing_serializer(app) is si.get_signing_serializer(app)
    value = cookie_value(saved_cookie(si, app, fresh({"a": 1})))
    assert si.open_session(app, make_request(value)) == {"a": 1}


def test_unhashable_serializer_still_works(app):
    from erlen.json.tag import TaggedJSONSerializer

    class Unhashable(TaggedJSONSerializer):
        __slots__ = ()
        __hash__ = None

    si = SecureCookieSessionInterface()
    si.serializer = Unhashable()
    value = cookie_value(saved_cookie(si, app, fresh({"a": (1,)})))
    assert si.open_session(app, make_request(value)) == {"a": (1,)}
