"""The same app code on erlen and on real Flask 3.1.3 must give the same
outcome.

Each :class:`Finding` has a ``run(fw)`` that builds its app on the
framework module ``fw`` and returns what a user can observe.
``test_flask_reference`` pins what Flask does, so that the oracle itself
cannot drift unnoticed; ``test_erlen_matches_flask`` asks erlen for the
same. A finding that erlen fails today carries an ``xfail`` reason and runs
as ``xfail(strict=True)``: once erlen is fixed it passes, strict makes that
a failure, and the reason must go (together with the matching allowance in
``KNOWN`` of conformance/differential.py, where there is one).
"""

from __future__ import annotations

import typing as t

import flask
import flask.sessions
import pytest

import erlen
import erlen.sessions

SECRET = "parity secret"


def _new_app(fw: t.Any) -> t.Any:
    app = fw.Flask("parity_app")
    app.config.update(TESTING=True, SECRET_KEY=SECRET)
    return app


def _cookies(response: t.Any) -> list[str]:
    """Each Set-Cookie header as ``name=<set>`` or ``name=<deleted>`` (the
    value itself carries a timestamp)."""
    out = []
    for header in response.headers.getlist("Set-Cookie"):
        name = header.split("=", 1)[0]
        out.append(f"{name}=<deleted>" if "Max-Age=0" in header else f"{name}=<set>")
    return out


# --------------------------------------------------------------------------
# A session change that raises does not modify the session.

FAILING_CHANGES = ("delete-missing", "popitem-empty", "update-int")


def run_failed_session_change(fw: t.Any) -> list[t.Any]:
    app = _new_app(fw)

    @app.route("/set")
    def set_() -> str:
        fw.session["a"] = 1
        return "set"

    @app.route("/fail/<op>")
    def fail(op: str) -> str:
        s = fw.session
        try:
            if op == "delete-missing":
                del s["missing"]
            elif op == "popitem-empty":
                s.popitem()
            elif op == "update-int":
                s.update(5)
        except (KeyError, TypeError) as exc:
            return f"{type(exc).__name__} modified={s.modified}"
        return f"no error modified={s.modified}"

    seen = []
    for op in FAILING_CHANGES:
        for with_cookie in (False, True):
            if with_cookie and op == "popitem-empty":
                continue  # popitem on a non-empty session succeeds
            client = app.test_client()
            if with_cookie:
                client.get("/set")
            response = client.get(f"/fail/{op}")
            seen.append(
                (
                    op,
                    with_cookie,
                    response.text,
                    _cookies(response),
                    response.headers.get("Vary"),
                )
            )
    return seen


FLASK_FAILED_SESSION_CHANGE = [
    ("delete-missing", False, "KeyError modified=False", [], "Cookie"),
    ("delete-missing", True, "KeyError modified=False", [], "Cookie"),
    ("popitem-empty", False, "KeyError modified=False", [], "Cookie"),
    ("update-int", False, "TypeError modified=False", [], "Cookie"),
    ("update-int", True, "TypeError modified=False", [], "Cookie"),
]


# --------------------------------------------------------------------------
# Reading the session inside a custom open_session is not an access.


def run_session_read_in_open_session(fw: t.Any) -> list[t.Any]:
    app = _new_app(fw)
    opened = []

    class DefaultUser(fw.sessions.SecureCookieSessionInterface):
        def open_session(self, app: t.Any, request: t.Any) -> t.Any:
            session = super().open_session(app, request)
            if session is not None:
                opened.append(session.get("user", "anonymous"))
            return session

    app.session_interface = DefaultUser()

    @app.route("/")
    def index() -> str:
        return "no session here"

    @app.route("/whoami")
    def whoami() -> str:
        return str(fw.session.get("user"))

    client = app.test_client()
    seen = []
    for path in ("/", "/whoami", "/"):
        response = client.get(path)
        seen.append(
            (path, response.text, response.headers.get("Vary"), _cookies(response))
        )
    return [seen, opened]


FLASK_SESSION_READ_IN_OPEN_SESSION = [
    [
        ("/", "no session here", None, []),
        ("/whoami", "None", "Cookie", []),
        ("/", "no session here", None, []),
    ],
    ["anonymous", "anonymous", "anonymous"],
]


# --------------------------------------------------------------------------
# request.environ rewritten by a before_request function.


def run_environ_rewrite(fw: t.Any) -> dict[str, t.Any]:
    app = _new_app(fw)

    @app.before_request
    def rewrite() -> None:
        environ = fw.request.environ
        environ["REMOTE_ADDR"] = "203.0.113.9"
        environ["wsgi.url_scheme"] = "https"
        environ["QUERY_STRING"] = "rewritten=1"
        environ["SCRIPT_NAME"] = "/mounted"

    @app.route("/where")
    def where() -> t.Any:
        r = fw.request
        return {
            "remote_addr": r.remote_addr,
            "scheme": r.scheme,
            "args": r.args.to_dict(),
            "url": r.url,
            "script_root": r.script_root,
        }

    response = app.test_client().get("/where?a=1")
    return response.get_json()


FLASK_ENVIRON_REWRITE = {
    "remote_addr": "127.0.0.1",
    "scheme": "http",
    "args": {"a": "1"},
    "url": "http://localhost/where?a=1",
    "script_root": "",
}


# --------------------------------------------------------------------------
# An overridden ensure_sync is called on every request.


def run_ensure_sync_override(fw: t.Any) -> list[t.Any]:
    calls: list[str] = []

    class Recording(fw.Flask):
        def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Any:
            calls.append(getattr(func, "__name__", repr(func)))
            return super().ensure_sync(func)

    app = Recording("parity_ensure_sync")
    app.config.update(TESTING=True, SECRET_KEY=SECRET)

    @app.before_request
    def before() -> None:
        pass

    @app.after_request
    def after(response: t.Any) -> t.Any:
        return response

    @app.route("/")
    def view() -> str:
        return str(len(calls))

    client = app.test_client()
    seen = []
    for _ in range(3):
        in_view = client.get("/").text
        seen.append((in_view, len(calls), sorted(set(calls))))
    return seen


# The count seen by the view (its own call included), then after the
# request: before_request, the view and after_request, every time.
FLASK_ENSURE_SYNC_OVERRIDE = [
    ("2", 3, ["after", "before", "view"]),
    ("5", 6, ["after", "before", "view"]),
    ("8", 9, ["after", "before", "view"]),
]


# --------------------------------------------------------------------------
# An overridden create_url_adapter is called for each context.


def run_create_url_adapter_override(fw: t.Any) -> list[t.Any]:
    calls: list[t.Any] = []

    class Recording(fw.Flask):
        def create_url_adapter(self, request: t.Any) -> t.Any:
            calls.append("request" if request is not None else "app")
            return super().create_url_adapter(request)

    app = Recording("parity_url_adapter")
    app.config.update(TESTING=True, SECRET_KEY=SECRET, SERVER_NAME="localhost")

    @app.route("/")
    def view() -> str:
        return fw.url_for("view", _external=True)

    seen = []
    response = app.test_client().get("/")
    seen.append(("request", response.text, calls[:]))
    calls.clear()
    with app.app_context():
        seen.append(("app context", fw.url_for("view"), calls[:]))
    calls.clear()
    with app.test_request_context("/"):
        seen.append(("test request context", fw.url_for("view"), calls[:]))
    return seen


FLASK_CREATE_URL_ADAPTER_OVERRIDE = [
    ("request", "http://localhost/", ["request", "app"]),
    ("app context", "http://localhost/", ["app"]),
    ("test request context", "/", ["request", "app"]),
]


# --------------------------------------------------------------------------
# The proxies outside a context.

UNBOUND = [
    "bool(request)",
    "repr(g)",
    "str(g)",
    "'x' in g",
    "len(g)",
    "g.x",
    "request == None",
    "request != None",
    "g == g",
    "hash(g)",
    "hash(request)",
    "list(g)",
    "iter(g)",
    "request < 1",
]


def run_unbound(fw: t.Any, expression: str) -> tuple[str, t.Any]:
    names = {"request": fw.request, "g": fw.g}
    try:
        return ("value", eval(expression, names))
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome
        return ("raises", type(exc).__name__)


FLASK_UNBOUND = {
    "bool(request)": ("value", False),
    "repr(g)": ("value", "<LocalProxy unbound>"),
    "str(g)": ("raises", "RuntimeError"),
    "'x' in g": ("raises", "RuntimeError"),
    "len(g)": ("raises", "RuntimeError"),
    "g.x": ("raises", "RuntimeError"),
    "request == None": ("value", False),
    "request != None": ("value", True),
    "g == g": ("value", True),
    "hash(g)": ("raises", "TypeError"),
    "hash(request)": ("raises", "TypeError"),
    "list(g)": ("raises", "TypeError"),
    "iter(g)": ("raises", "TypeError"),
    "request < 1": ("raises", "TypeError"),
}


# --------------------------------------------------------------------------
# The findings: erlen must match Flask, and Flask must do what it did.


class Finding(t.NamedTuple):
    name: str
    run: t.Callable[[t.Any], t.Any]
    flask: t.Any
    """What Flask 3.1.3 gives."""
    xfail: str | None = None
    """Why erlen differs today; ``None`` once it matches."""


def _unbound(expression: str) -> t.Callable[[t.Any], t.Any]:
    return lambda fw: run_unbound(fw, expression)


FINDINGS = [
    Finding(
        "failed_session_change",
        run_failed_session_change,
        FLASK_FAILED_SESSION_CHANGE,
    ),
    Finding(
        "session_read_in_open_session",
        run_session_read_in_open_session,
        FLASK_SESSION_READ_IN_OPEN_SESSION,
    ),
    Finding(
        "environ_rewrite_in_before_request",
        run_environ_rewrite,
        FLASK_ENVIRON_REWRITE,
    ),
    Finding(
        "ensure_sync_override",
        run_ensure_sync_override,
        FLASK_ENSURE_SYNC_OVERRIDE,
    ),
    Finding(
        "create_url_adapter_override",
        run_create_url_adapter_override,
        FLASK_CREATE_URL_ADAPTER_OVERRIDE,
    ),
    *(
        Finding(f"unbound {e}", _unbound(e), FLASK_UNBOUND[e])
        for e in UNBOUND
    ),
]


def _as_param(finding: Finding) -> t.Any:
    marks = (
        [pytest.mark.xfail(strict=True, reason=finding.xfail)] if finding.xfail else []
    )
    return pytest.param(finding, id=finding.name, marks=marks)


@pytest.mark.parametrize("finding", [_as_param(f) for f in FINDINGS])
def test_erlen_matches_flask(finding):
    assert finding.run(erlen) == finding.run(flask)


@pytest.mark.parametrize("finding", FINDINGS, ids=[f.name for f in FINDINGS])
def test_flask_reference(finding):
    assert finding.run(flask) == finding.flask
