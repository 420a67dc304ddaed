"""Sessions as the app uses them: opened through ``app.session_interface``,
saved in process_response, null without a secret key."""

import pytest

import erlen
from erlen.sessions import NullSession
from erlen.sessions import SecureCookieSession
from erlen.sessions import SessionInterface


def test_session_round_trip(app, client):
    @app.post("/set")
    def set_():
        erlen.session["value"] = erlen.request.form["value"]
        return "set"

    @app.get("/get")
    def get():
        return erlen.session.get("value", "none")

    assert client.get("/get").data == b"none"
    client.post("/set", data={"value": "42"})
    assert client.get("/get").data == b"42"


def test_null_session_without_secret_key(app, client):
    app.secret_key = None

    @app.route("/")
    def index():
        assert isinstance(erlen.session._get_current_object(), NullSession)
        assert erlen.session.get("x") is None
        erlen.session["x"] = 1  # raises: no secret key
        return ""

    with pytest.raises(RuntimeError, match="secret key"):
        client.get("/")


def test_untouched_session_sets_no_cookie_and_no_vary(app, client):
    app.add_url_rule("/", "i", lambda: "x")
    rv = client.get("/")
    assert "Set-Cookie" not in rv.headers
    assert "Cookie" not in rv.vary


def test_read_session_adds_vary(app, client):
    app.add_url_rule("/", "i", lambda: str(erlen.session.get("a")))
    rv = client.get("/")
    assert "Cookie" in rv.vary
    assert "Set-Cookie" not in rv.headers


def test_permanent_session_refreshed_without_access(app, client):
    @app.route("/login")
    def login():
        erlen.session.permanent = True
        erlen.session["user"] = "amy"
        return ""

    app.add_url_rule("/plain", "plain", lambda: "plain")
    first = client.get("/login")
    assert "Set-Cookie" in first.headers
    # A permanent session is re-sent on every request (refresh), even when
    # the view never touched it.
    rv = client.get("/plain")
    assert "session=" in rv.headers.get("Set-Cookie", "")
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    assert "Set-Cookie" not in client.get("/plain").headers


def test_clearing_session_deletes_cookie(app, client):
    @app.route("/set")
    def set_():
        erlen.session["a"] = 1
        return ""

    @app.route("/clear")
    def clear():
        erlen.session.clear()
        return ""

    client.get("/set")
    rv = client.get("/clear")
    cookie = rv.headers["Set-Cookie"]
    assert cookie.startswith("session=;")
    assert "Expires=Thu, 01 Jan 1970" in cookie


def test_custom_session_interface_used(app, client):
    events = []

    class Interface(SessionInterface):
        def open_session(self, app_, request):
            events.append(("open", request.path))
            s = SecureCookieSession({"from": "custom"})
            return s

        def save_session(self, app_, session, response):
            events.append(("save", dict(session)))
            response.headers["X-Saved"] = "1"

    app.session_interface = Interface()

    @app.route("/")
    def index():
        erlen.session["seen"] = True
        return erlen.session["from"]

    rv = client.get("/")
    assert rv.data == b"custom"
    assert rv.headers["X-Saved"] == "1"
    assert events == [("open", "/"), ("save", {"from": "custom", "seen": True})]


def test_null_session_not_saved(app, client):
    saved = []

    class Interface(SessionInterface):
        def open_session(self, app_, request):
            return None

        def save_session(self, *args):
            saved.append(args)

    app.session_interface = Interface()
    app.add_url_rule(
        "/", "i", lambda: type(erlen.session._get_current_object()).__name__
    )
    assert client.get("/").data == b"NullSession"
    assert saved == []


def test_session_accessed_and_modified_flags(app, client):
    from erlen.globals import request_ctx

    app.add_url_rule("/nothing", "n", lambda: "")
    app.add_url_rule("/write", "w", lambda: erlen.session.update(a=1) or "")
    with client:
        client.get("/nothing")
        assert not request_ctx._session.accessed
        assert not request_ctx._session.modified
    with client:
        client.get("/write")
        assert request_ctx._session.accessed
        assert request_ctx._session.modified


def test_session_with_cookie_not_used_by_view(app, client):
    """A request carrying a session cookie whose view does not use the
    session must not change or drop it."""

    @app.route("/set")
    def set_():
        erlen.session["keep"] = "me"
        return ""

    @app.route("/get")
    def get():
        return erlen.session.get("keep", "lost")

    app.add_url_rule("/other", "o", lambda: "other")
    client.get("/set")
    rv = client.get("/other")
    assert "Set-Cookie" not in rv.headers
    assert client.get("/get").data == b"me"


def test_flash_uses_session(app, client):
    @app.route("/flash")
    def flash():
        erlen.flash("hello")
        return ""

    @app.route("/show")
    def show():
        return "|".join(erlen.get_flashed_messages())

    client.get("/flash")
    assert client.get("/show").data == b"hello"
    assert client.get("/show").data == b""
