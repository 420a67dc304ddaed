"""Differential testing of erlen against real Flask 3.1.3.

Every app below is written once, as a function of the framework module
(``build(fw)`` with ``fw`` being ``erlen`` or ``flask``), and built twice in
one process. The same request, described by a :class:`Req`, is turned into
two fresh WSGI environs and sent to both apps; the two answers are reduced
to an :class:`Outcome` and compared field by field:

- the status line, or the type of the exception the app raised (the apps
  run with ``TESTING`` on unless they say otherwise, so unhandled errors
  propagate);
- every response header, in order. The session cookie's value is decoded
  with Flask's own signing serializer (both frameworks sign with
  itsdangerous and the same key, so a value that only Flask could read is a
  difference too); its other attributes are compared exactly. The one
  time-dependent part, an ``Expires`` date in the future, is compared only
  for its presence (:func:`normalise_set_cookie`);
- the body, byte for byte;
- the signals sent, in order, with their sender and key arguments;
- what the app's own hooks wrote to its log (``app.diff_log``).

Requests are also sent in generated sequences, each framework keeping a
cookie jar of its own (:meth:`Pair.check_sequence`), so that what one
response sets (a session, a flashed message) reaches the next request.

A difference is accepted only when a named :class:`Allowance` recognises
the request, and then only if erlen's outcome equals that of a Flask build
of the same app with the allowed behaviour emulated: one of the deliberate
differences that erlen's README lists (:data:`ALLOWANCES`), or a known,
undocumented difference that has a strict xfail test in
``tests/test_flask_parity.py`` (:data:`KNOWN`). Anything else fails with
the outcomes printed.

``tests/test_differential.py`` runs a bounded, derandomised quick mode. For a
long run set ``ERLEN_DIFF_EXAMPLES`` (examples per app), or run this file::

    python conformance/differential.py 2000
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import io
import json
import logging
import re
import sys
import time
import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from http import HTTPStatus
from urllib.parse import urlencode

import flask
import flask.ctx
import flask.json.provider
import flask.sessions
import flask.views
from hypothesis import strategies as st
from markupsafe import Markup
from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound
from werkzeug.test import encode_multipart
from werkzeug.test import EnvironBuilder

import erlen
import erlen.ctx
import erlen.json.provider
import erlen.sessions
import erlen.views

FRAMEWORKS = {"erlen": erlen, "flask": flask}
SECRET = "differential secret"
OLD_SECRET = "old differential secret"
MAX_BODY = 16 * 1024

SIGNALS = (
    "appcontext_pushed",
    "request_started",
    "before_render_template",
    "template_rendered",
    "message_flashed",
    "got_request_exception",
    "request_finished",
    "request_tearing_down",
    "appcontext_tearing_down",
    "appcontext_popped",
)


# --------------------------------------------------------------------------
# The apps


def _common(fw: t.Any, name: str, **config: t.Any) -> t.Any:
    app = fw.Flask(name)
    app.config.update(
        TESTING=True,
        SECRET_KEY=SECRET,
        SECRET_KEY_FALLBACKS=[OLD_SECRET],
        MAX_CONTENT_LENGTH=MAX_BODY,
    )
    app.config.update(config)
    # The production app's 500s are expected; keep them out of the output.
    app.logger.setLevel(logging.CRITICAL + 1)
    app.diff_log = []
    return app


def _request_summary(fw: t.Any) -> dict[str, t.Any]:
    """What a view can see of the request, as JSON."""
    r = fw.request
    files = {
        key: [f.filename, f.mimetype, f.read().decode("latin-1")]
        for key, f in r.files.items(multi=True)
    }
    return {
        "method": r.method,
        "path": r.path,
        "full_path": r.full_path,
        "url": r.url,
        "base_url": r.base_url,
        "url_root": r.url_root,
        "host": r.host,
        "scheme": r.scheme,
        "args": r.args.to_dict(flat=False),
        "form": r.form.to_dict(flat=False),
        "files": files,
        "cookies": r.cookies.to_dict(flat=False),
        "headers": sorted(r.headers.items()),
        "mimetype": r.mimetype,
        "is_json": r.is_json,
        "json": r.get_json(silent=True),
        "content_length": r.content_length,
        "endpoint": r.endpoint,
        "view_args": r.view_args,
        "accept": [list(v) for v in r.accept_mimetypes],
    }


def build_core(fw: t.Any) -> t.Any:
    """Routing, converters, methods, hooks, responses, errors, JSON, request
    data, ``g``, ``url_for``, ``after_this_request``, templates, class-based
    and async views."""
    app = _common(fw, "diff_core", MAX_FORM_PARTS=8, MAX_FORM_MEMORY_SIZE=512)
    log = app.diff_log

    class Teapot(Exception):
        pass

    @app.before_request
    def before() -> t.Any:
        log.append(("before", fw.request.endpoint))
        fw.g.seen = fw.request.endpoint
        if fw.request.args.get("stop") == "1":
            return "stopped early", 203
        if fw.request.args.get("proxy") == "1":
            # What a hand-written proxy fix does: rewrite the environ.
            environ = fw.request.environ
            environ["REMOTE_ADDR"] = "203.0.113.9"
            environ["wsgi.url_scheme"] = "https"
            environ["QUERY_STRING"] = "rewritten=1"
            environ["SCRIPT_NAME"] = "/mounted"
        return None

    @app.after_request
    def after(response: t.Any) -> t.Any:
        log.append(("after", response.status_code))
        response.headers["X-Seen"] = str(fw.g.get("seen"))
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        log.append(("teardown", type(exc).__name__ if exc else None))

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        log.append(("teardown_app", type(exc).__name__ if exc else None))

    @app.errorhandler(ValueError)
    def value_error(e: ValueError) -> t.Any:
        return f"value error: {e}", 418

    @app.errorhandler(Teapot)
    def teapot(e: Teapot) -> t.Any:
        return fw.jsonify(teapot=str(e)), 418, {"X-Teapot": "yes"}

    @app.errorhandler(403)
    def forbidden(e: t.Any) -> t.Any:
        return f"forbidden: {e.description}", 403

    @app.route("/")
    def index() -> str:
        return "hello"

    @app.route("/int/<int:n>")
    def int_view(n: int) -> t.Any:
        return {"n": n, "double": n * 2}

    @app.route("/float/<float:x>")
    def float_view(x: float) -> t.Any:
        return [x, repr(x)]

    @app.route("/path/<path:p>")
    def path_view(p: str) -> str:
        return f"path={p}"

    @app.route("/uuid/<uuid:u>")
    def uuid_view(u: t.Any) -> str:
        return u.hex

    @app.route("/str/<string(length=3):s>")
    def str_view(s: str) -> str:
        return s.upper()

    @app.route("/any/<any(red, blue):colour>")
    def any_view(colour: str) -> str:
        return colour

    @app.route("/list", defaults={"page": 1})
    @app.route("/list/<int:page>")
    def listing(page: int) -> str:
        return f"page {page}"

    app.add_url_rule("/old", "old", redirect_to="/list/2")

    @app.route("/slash/")
    def slash() -> str:
        return "slash"

    @app.route("/noslash")
    def noslash() -> str:
        return "noslash"

    @app.route("/methods", methods=["GET", "POST", "PUT", "DELETE"])
    def methods() -> str:
        return fw.request.method

    @app.route("/post-only", methods=["POST"])
    def post_only() -> str:
        return "posted"

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH"])
    def echo() -> t.Any:
        return fw.jsonify(_request_summary(fw))

    @app.route("/json", methods=["GET", "POST", "PUT"])
    def json_view() -> t.Any:
        return fw.jsonify(got=fw.request.get_json())

    @app.route("/json-force", methods=["POST"])
    def json_force() -> t.Any:
        return fw.jsonify(got=fw.request.get_json(force=True, silent=True))

    @app.route("/data", methods=["POST", "PUT"])
    def data() -> t.Any:
        return fw.request.get_data()

    @app.route("/abort/<int:code>")
    def abort_view(code: int) -> t.Any:
        fw.abort(code)

    @app.route("/abort-response")
    def abort_response() -> t.Any:
        fw.abort(fw.make_response("made to abort", 409))

    @app.route("/raise/<name>")
    def raise_view(name: str) -> t.Any:
        exc = {
            "value": ValueError,
            "key": KeyError,
            "zero": ZeroDivisionError,
            "teapot": Teapot,
        }.get(name, LookupError)
        raise exc(name)

    @app.route("/rv/<kind>")
    def rv(kind: str) -> t.Any:
        if kind == "tuple2":
            return "created", 201
        if kind == "tuple-headers":
            return "with headers", {"X-A": "1", "X-B": "2"}
        if kind == "tuple3":
            return "three", 202, [("X-C", "3")]
        if kind == "dict":
            return {"b": 1, "a": [1, 2, None]}
        if kind == "list":
            return [1, "two", {"three": 3}]
        if kind == "bytes":
            return b"\x00\xffbytes"
        if kind == "generator":
            return (str(i) for i in range(3))
        if kind == "response":
            response = fw.make_response("made", 206)
            response.headers["X-Made"] = "1"
            response.set_cookie("other", "v", max_age=60, path="/rv")
            return response
        if kind == "status-string":
            return "odd status", "299 Whatever"
        if kind == "none":
            return None
        if kind == "http-exception":
            return NotFound("returned, not raised")
        if kind == "wsgi":

            def wsgi(environ: t.Any, start_response: t.Any) -> t.Any:
                start_response("202 Accepted", [("X-Wsgi", "1")])
                return [b"from a WSGI callable"]

            return wsgi
        if kind == "enum":
            return "created", HTTPStatus.CREATED
        if kind == "response-status":
            return fw.make_response("made"), 202, {"X-Extra": "1"}
        if kind == "dict-headers":
            return {"a": 1}, {"X-Dict": "1"}
        if kind == "list-status":
            return [1, 2], 201
        return 42

    @app.route("/stream")
    def stream() -> t.Any:
        def generate() -> t.Iterator[str]:
            yield "args="
            yield ",".join(sorted(fw.request.args))

        return fw.Response(fw.stream_with_context(generate()))

    @app.route("/redirect")
    def redirect_view() -> t.Any:
        return fw.redirect(fw.url_for("int_view", n=7, q=fw.request.args.get("q")))

    @app.route("/urls")
    def urls() -> t.Any:
        return fw.jsonify(
            index=fw.url_for("index"),
            external=fw.url_for("index", _external=True),
            anchor=fw.url_for("path_view", p="a/b c", _anchor="x y"),
            query=fw.url_for("int_view", n=3, extra=["1", "2"]),
            static=fw.url_for("static", filename="x.css"),
            method=fw.url_for("methods", _method="POST"),
        )

    @app.route("/url-missing")
    def url_missing() -> t.Any:
        return fw.url_for("int_view")

    @app.route("/g")
    def g_view() -> t.Any:
        fw.g.a = 1
        fw.g.setdefault("b", 2)
        popped = fw.g.pop("a")
        return fw.jsonify(
            popped=popped, has_a="a" in fw.g, b=fw.g.get("b"), names=sorted(fw.g)
        )

    @app.route("/after-this")
    def after_this() -> str:
        @fw.after_this_request
        def add_header(response: t.Any) -> t.Any:
            log.append("after_this_request")
            response.headers["X-After-This"] = "yes"
            return response

        return "after this"

    @app.route("/file")
    def file() -> t.Any:
        return fw.send_file(
            io.BytesIO(b"0123456789" * 5),
            mimetype="text/plain",
            download_name="digits é.txt",
            as_attachment="attach" in fw.request.args,
            etag="digits-v1",
            last_modified=datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
            max_age=60,
        )

    @app.route("/unicode")
    def unicode() -> t.Any:
        return fw.jsonify(text="grüße ☃", html="<script>&</script>", n=1.0)

    @app.route("/remote")
    def remote() -> t.Any:
        r = fw.request
        return fw.jsonify(
            remote_addr=r.remote_addr,
            access_route=list(r.access_route),
            scheme=r.scheme,
            is_secure=r.is_secure,
            url=r.url,
            script_root=r.script_root,
            args=r.args.to_dict(),
        )

    @app.route("/template")
    def template() -> str:
        return fw.render_template_string(
            "{{ x }} at {{ request.path }} {{ g.seen }}", x=fw.request.args.get("x")
        )

    @app.route("/async")
    async def async_view() -> str:
        return "async " + fw.request.method

    class Plain(fw.views.View):
        methods = ("GET", "POST")

        def dispatch_request(self) -> str:
            return "plain " + fw.request.method

    class Items(fw.views.MethodView):
        def get(self, item: int | None = None) -> t.Any:
            return {"get": item}

        def post(self) -> t.Any:
            return {"post": fw.request.form.to_dict()}, 201

        def delete(self, item: int) -> t.Any:
            return "", 204

    app.add_url_rule("/plain", view_func=Plain.as_view("plain"))
    items = Items.as_view("items")
    app.add_url_rule("/items", view_func=items, methods=["GET", "POST"])
    app.add_url_rule("/items/<int:item>", view_func=items, methods=["GET", "DELETE"])
    return app


def build_sessions(fw: t.Any) -> t.Any:
    """Signed-cookie sessions: read, write, permanent, modify, clear, tagged
    values, flashing; cookie attributes from the config."""
    app = _common(
        fw,
        "diff_sessions",
        PERMANENT_SESSION_LIFETIME=timedelta(days=3),
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
    )
    s = fw.session

    @app.route("/s/get")
    def get() -> t.Any:
        return fw.jsonify(data=dict(s), permanent=s.permanent, new=s.new)

    @app.route("/s/noop")
    def noop() -> str:
        return "untouched"

    @app.route("/s/contains")
    def contains() -> str:
        return str("a" in s)

    @app.route("/s/set", methods=["GET", "POST"])
    def set_() -> str:
        for key, value in fw.request.values.items():
            s[key] = value
        return "set"

    @app.route("/s/pop/<key>")
    def pop(key: str) -> str:
        return repr(s.pop(key, None))

    @app.route("/s/clear")
    def clear() -> str:
        s.clear()
        return "cleared"

    @app.route("/s/permanent/<int:on>")
    def permanent(on: int) -> str:
        s.permanent = bool(on)
        return "permanent"

    @app.route("/s/modify")
    def modify() -> str:
        s.setdefault("items", []).append(len(s))
        s.modified = True
        return "modified"

    @app.route("/s/tagged")
    def tagged() -> str:
        s["tuple"] = (1, "two")
        s["bytes"] = b"\x00\x01"
        s["markup"] = Markup("<b>")
        s["nested"] = {"list": [1, 2, {"x": None}]}
        return "tagged"

    @app.route("/s/fail/<op>")
    def fail(op: str) -> str:
        try:
            if op == "delete-missing":
                del s["missing"]
            elif op == "popitem-empty" and not s:
                s.popitem()
            elif op == "update-int":
                s.update(5)
        except (KeyError, TypeError):
            pass
        return f"modified={s.modified}"

    @app.route("/s/flash")
    def flash() -> str:
        fw.flash(
            fw.request.args.get("msg", "hello"), fw.request.args.get("cat", "message")
        )
        return "flashed"

    @app.route("/s/flashes")
    def flashes() -> t.Any:
        return fw.jsonify(fw.get_flashed_messages(with_categories=True))

    return app


def build_blueprints(fw: t.Any) -> t.Any:
    """Nested blueprints with url_prefix, blueprint hooks, blueprint and app
    error handlers, URL value preprocessors and defaults."""
    app = _common(fw, "diff_blueprints")
    log = app.diff_log
    parent = fw.Blueprint("parent", "diff_blueprints", url_prefix="/p")
    child = fw.Blueprint("child", "diff_blueprints", url_prefix="/c")
    lang = fw.Blueprint("lang", "diff_blueprints", url_prefix="/<lang>")

    @app.errorhandler(404)
    def app_404(e: t.Any) -> t.Any:
        return fw.jsonify(error="app 404", path=fw.request.path), 404

    @app.before_request
    def app_before() -> None:
        log.append(("app before", fw.request.blueprint))

    @app.after_request
    def app_after(response: t.Any) -> t.Any:
        log.append("app after")
        return response

    @parent.before_request
    def parent_before() -> t.Any:
        log.append("parent before")
        if "deny" in fw.request.args:
            return "denied by parent", 401
        return None

    @parent.after_request
    def parent_after(response: t.Any) -> t.Any:
        log.append("parent after")
        response.headers["X-Parent"] = "1"
        return response

    @parent.teardown_request
    def parent_teardown(exc: BaseException | None) -> None:
        log.append("parent teardown")

    @parent.errorhandler(KeyError)
    def parent_key_error(e: KeyError) -> t.Any:
        return f"parent handled {e!r}", 400

    @child.before_request
    def child_before() -> None:
        log.append("child before")

    @child.errorhandler(404)
    def child_404(e: t.Any) -> t.Any:
        return "child 404", 404

    @child.errorhandler(LookupError)
    def child_lookup(e: LookupError) -> t.Any:
        # For a KeyError in a child view this wins over the parent's
        # KeyError handler: blueprints are searched before the class MRO.
        return f"child caught {type(e).__name__}", 409

    @app.errorhandler(HTTPException)
    def any_http(e: t.Any) -> t.Any:
        return fw.jsonify(code=e.code, name=e.name), e.code

    @parent.route("/")
    def parent_index() -> str:
        here = fw.url_for(".parent_index")
        return f"parent {here} " + fw.url_for("parent.child.leaf", n=1)

    @parent.route("/key")
    def parent_key() -> t.Any:
        return fw.request.args["missing"]

    @child.route("/leaf/<int:n>")
    def leaf(n: int) -> str:
        return f"leaf {n} {fw.request.blueprint} {fw.request.blueprints}"

    @child.route("/missing")
    def child_missing() -> t.Any:
        fw.abort(404)

    @child.route("/key")
    def child_key() -> t.Any:
        raise KeyError("child")

    @lang.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        fw.g.lang = (values or {}).pop("lang", None)

    @lang.url_defaults
    def add_lang(endpoint: str, values: dict[str, t.Any]) -> None:
        values.setdefault("lang", fw.g.get("lang", "en"))

    @lang.route("/hello")
    def hello() -> str:
        return f"{fw.g.lang}: " + fw.url_for("lang.hello")

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    app.register_blueprint(parent, name="again", url_prefix="/again")
    app.register_blueprint(lang)
    return app


def build_production(fw: t.Any) -> t.Any:
    """``TESTING`` off: unhandled errors become 500s through a custom
    handler, which sees the original exception."""
    app = _common(fw, "diff_production", TESTING=False)
    log = app.diff_log

    @app.errorhandler(500)
    def internal(e: t.Any) -> t.Any:
        original = getattr(e, "original_exception", None)
        return f"500 for {type(original).__name__}", 500

    @app.before_request
    def before() -> None:
        if "fail-before" in fw.request.args:
            raise RuntimeError("before")
        fw.g.fail_teardown = "fail-teardown" in fw.request.args

    @app.after_request
    def after(response: t.Any) -> t.Any:
        if "fail-after" in fw.request.args:
            raise RuntimeError("after")
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        log.append(("teardown", type(exc).__name__ if exc else None))

    @app.teardown_request
    def teardown_raising(exc: BaseException | None) -> None:
        # Registered last, so it runs first.
        if fw.g.get("fail_teardown"):
            raise RuntimeError("teardown")

    @app.route("/")
    def index() -> str:
        return "fine"

    @app.route("/boom")
    def boom() -> t.Any:
        return 1 // 0

    @app.route("/abort500")
    def abort500() -> t.Any:
        fw.abort(500)

    @app.route("/bad-return")
    def bad_return() -> t.Any:
        return None

    @app.route("/json", methods=["POST"])
    def json_view() -> t.Any:
        return fw.jsonify(fw.request.json)

    return app


def build_hosts(fw: t.Any) -> t.Any:
    """``SERVER_NAME``, subdomains, ``TRUSTED_HOSTS``, ``APPLICATION_ROOT``
    and external URLs."""
    app = _common(
        fw,
        "diff_hosts",
        SERVER_NAME="example.com",
        TRUSTED_HOSTS=["example.com", ".example.com", "localhost"],
        APPLICATION_ROOT="/root",
        PREFERRED_URL_SCHEME="https",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_NAME="hosts_session",
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    api = fw.Blueprint("api", "diff_hosts", subdomain="api")

    @app.route("/login/<name>")
    def login(name: str) -> str:
        fw.session["user"] = name
        fw.session.permanent = "remember" in fw.request.args
        return "hello " + str(fw.session.get("visits"))

    @app.route("/")
    def index() -> t.Any:
        r = fw.request
        return fw.jsonify(
            host=r.host,
            url=r.url,
            root=r.url_root,
            external=fw.url_for("index", _external=True),
            api=fw.url_for("api.info", _external=False),
            https=fw.url_for("index", _scheme="https", _external=True),
        )

    @app.route("/user/<name>", subdomain="<tenant>")
    def tenant(tenant: str, name: str) -> str:
        return f"{tenant}:{name}:" + fw.url_for("tenant", tenant=tenant, name=name)

    @api.route("/info")
    def info() -> str:
        return "api " + fw.url_for(".info")

    app.register_blueprint(api)
    return app


def build_custom_session(fw: t.Any) -> t.Any:
    """A subclass of the cookie session interface whose ``open_session``
    reads the session it opened and logs each call."""
    app = _common(fw, "diff_custom_session")
    log = app.diff_log

    class DefaultUser(fw.sessions.SecureCookieSessionInterface):
        def open_session(self, app: t.Any, request: t.Any) -> t.Any:
            log.append("open_session")
            session = super().open_session(app, request)
            if session is not None and session.get("user") is None:
                log.append("anonymous")
            return session

    app.session_interface = DefaultUser()

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/whoami")
    def whoami() -> str:
        return str(fw.session.get("user"))

    @app.route("/login/<name>")
    def login(name: str) -> str:
        fw.session["user"] = name
        return "logged in"

    return app


def build_subclasses(fw: t.Any) -> t.Any:
    """A Flask subclass that overrides lifecycle methods, with its own
    request, response, ``g`` and JSON provider classes: every override must
    be called as Flask calls it."""
    log: list[t.Any] = []

    class Request(fw.Request):
        max_form_parts = 3
        max_content_length = 4096

        def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
            log.append(("json failed", e is None))
            return {"invalid": True}

    class Response(fw.Response):
        default_mimetype = "text/plain"
        default_status = 203

        def set_cookie(self, key: str, *args: t.Any, **kwargs: t.Any) -> None:
            log.append(("set_cookie", key))
            super().set_cookie(key, *args, **kwargs)

    class Globals(fw.ctx._AppCtxGlobals):
        default = "from the class"

    class Provider(fw.json.provider.DefaultJSONProvider):
        sort_keys = False
        ensure_ascii = False
        mimetype = "application/vnd.diff+json"

    class App(fw.Flask):
        request_class = Request
        response_class = Response
        app_ctx_globals_class = Globals
        json_provider_class = Provider

        def create_url_adapter(self, request: t.Any) -> t.Any:
            log.append(("url adapter", request is not None))
            return super().create_url_adapter(request)

        def preprocess_request(self) -> t.Any:
            log.append("preprocess")
            return super().preprocess_request()

        def dispatch_request(self) -> t.Any:
            log.append(("dispatch", fw.request.endpoint))
            return super().dispatch_request()

        def make_response(self, rv: t.Any) -> t.Any:
            if isinstance(rv, int):
                rv = f"int {rv}"
            return super().make_response(rv)

        def process_response(self, response: t.Any) -> t.Any:
            response.headers["X-Processed"] = "yes"
            return super().process_response(response)

        def handle_http_exception(self, e: t.Any) -> t.Any:
            log.append(("http exception", e.code))
            return super().handle_http_exception(e)

        def handle_user_exception(self, e: Exception) -> t.Any:
            log.append(("user exception", type(e).__name__))
            return super().handle_user_exception(e)

        def do_teardown_request(self, exc: BaseException | None = None) -> None:
            log.append("teardown request")
            super().do_teardown_request(exc)

        def make_default_options_response(self) -> t.Any:
            log.append("options")
            return super().make_default_options_response()

        def raise_routing_exception(self, request: t.Any) -> t.NoReturn:
            log.append(("routing", type(request.routing_exception).__name__))
            super().raise_routing_exception(request)

        def inject_url_defaults(self, endpoint: str, values: dict[str, t.Any]) -> None:
            log.append(("url defaults", endpoint))
            super().inject_url_defaults(endpoint, values)

        def handle_url_build_error(
            self, error: Exception, endpoint: str, values: dict[str, t.Any]
        ) -> str:
            log.append(("build error", endpoint))
            return "/unbuildable"

        def redirect(self, location: str, code: int = 302) -> t.Any:
            response = super().redirect(location, code)
            response.headers["X-Redirected-By"] = "app"
            return response

        def full_dispatch_request(self) -> t.Any:
            log.append("full dispatch")
            return super().full_dispatch_request()

        def finalize_request(
            self, rv: t.Any, from_error_handler: bool = False
        ) -> t.Any:
            log.append(("finalize", from_error_handler))
            return super().finalize_request(rv, from_error_handler)

        def handle_exception(self, e: Exception) -> t.Any:
            log.append(("handle exception", type(e).__name__))
            return super().handle_exception(e)

        def should_ignore_error(self, error: BaseException | None) -> bool:
            log.append(("ignore error?", type(error).__name__ if error else None))
            return super().should_ignore_error(error)

        def update_template_context(self, context: dict[str, t.Any]) -> None:
            super().update_template_context(context)
            context["from_app"] = "injected"

    app = App("diff_subclasses")
    app.config.update(TESTING=True, SECRET_KEY=SECRET, MAX_CONTENT_LENGTH=MAX_BODY)
    app.logger.setLevel(logging.CRITICAL + 1)
    app.diff_log = log

    @app.route("/")
    def index() -> t.Any:
        return 5

    @app.route("/json", methods=["POST", "PUT"])
    def json_view() -> t.Any:
        return fw.jsonify(got=fw.request.get_json(), ü="ß", a=1)

    @app.route("/form", methods=["POST"])
    def form() -> t.Any:
        return fw.jsonify(sorted(fw.request.form.items(multi=True)))

    @app.route("/g")
    def g_view() -> str:
        return fw.g.default

    @app.route("/abort/<int:code>")
    def abort_view(code: int) -> t.Any:
        fw.abort(code)

    @app.route("/raise")
    def raise_view() -> t.Any:
        raise LookupError("raised")

    @app.route("/urls")
    def urls() -> t.Any:
        return fw.jsonify(
            index=fw.url_for("index"), missing=fw.url_for("no_such_endpoint")
        )

    @app.route("/go")
    def go() -> t.Any:
        return fw.redirect(fw.url_for("g_view"))

    @app.route("/login", methods=["GET", "POST"])
    def login() -> str:
        fw.session["user"] = fw.request.values.get("user", "someone")
        return "welcome"

    @app.route("/template")
    def template() -> str:
        return fw.render_template_string("{{ from_app }} {{ g.default }}")

    return app


def build_core_debug(fw: t.Any) -> t.Any:
    """The core app in debug mode: pretty JSON, detailed 400s, errors
    propagated."""
    app = build_core(fw)
    app.debug = True
    return app


APPS: dict[str, t.Callable[[t.Any], t.Any]] = {
    "core": build_core,
    "core_debug": build_core_debug,
    "sessions": build_sessions,
    "blueprints": build_blueprints,
    "production": build_production,
    "hosts": build_hosts,
    "custom_session": build_custom_session,
    "subclasses": build_subclasses,
}


# --------------------------------------------------------------------------
# Requests


@dataclasses.dataclass(frozen=True)
class Req:
    """One request, described by value, so that each framework gets an
    environ of its own built from it."""

    method: str = "GET"
    path: str = "/"
    script_root: str = ""
    query: tuple[tuple[str, str], ...] = ()
    raw_query: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] | None = None
    files: tuple[tuple[str, str, bytes], ...] = ()
    data: bytes | None = None
    content_type: str | None = None
    chunked: bool = False

    def environ(self) -> dict[str, t.Any]:
        kwargs: dict[str, t.Any] = {
            "path": self.path,
            "base_url": f"http://localhost{self.script_root}",
            "method": self.method,
            "query_string": self.query_string(),
            "headers": list(self.headers),
        }
        if self.files:
            # Encoded here with a fixed boundary: werkzeug's own is random,
            # and the body would differ between the two environs.
            fields: list[tuple[str, t.Any]] = list(self.form or ())
            fields += [
                (n, FileStorage(io.BytesIO(c), filename=fn)) for n, fn, c in self.files
            ]
            boundary, body = encode_multipart(
                MultiDict(fields), boundary="diff-boundary"
            )
            kwargs["data"] = body
            kwargs["content_type"] = f'multipart/form-data; boundary="{boundary}"'
        elif self.form is not None:
            kwargs["data"] = MultiDict(list(self.form))
        elif self.data is not None:
            kwargs["data"] = self.data
        if self.content_type is not None:
            kwargs["content_type"] = self.content_type
        builder = EnvironBuilder(**kwargs)
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{n}={v}" for n, v in self.cookies)
        if self.raw_query is not None:
            environ["QUERY_STRING"] = self.raw_query.decode("latin-1")
        if self.chunked:
            body = environ["wsgi.input"].read()
            environ.pop("CONTENT_LENGTH", None)
            environ["HTTP_TRANSFER_ENCODING"] = "chunked"
            environ["wsgi.input_terminated"] = True
            environ["wsgi.input"] = io.BytesIO(body)
        return environ

    def __repr__(self) -> str:
        fields = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value != field.default:
                fields.append(f"{field.name}={_short(value, 120)}")
        return f"Req({', '.join(fields)})"

    def query_string(self) -> str:
        return urlencode(list(self.query))

    def cookie(self, name: str) -> str | None:
        for n, v in self.cookies:
            if n == name:
                return v
        return None


# --------------------------------------------------------------------------
# Outcomes


@dataclasses.dataclass
class Outcome:
    status: str | None
    headers: list[t.Any]
    body: bytes
    exception: str | None
    signals: list[t.Any]
    log: list[t.Any]
    # The raw Set-Cookie values, for a client's cookie jar; not compared
    # (the normalised ones in ``headers`` are).
    set_cookies: list[str] = dataclasses.field(default_factory=list, compare=False)

    def fields(self) -> dict[str, t.Any]:
        fields = dataclasses.asdict(self)
        del fields["set_cookies"]
        return fields


def exception_name(exc: BaseException) -> str:
    """The exception's type, with the framework's own package name made
    neutral (``erlen.x.E`` and ``flask.x.E`` are the same class name)."""
    module = type(exc).__module__
    head, _, rest = module.partition(".")
    if head in FRAMEWORKS:
        module = "<fw>." + rest if rest else "<fw>"
    return f"{module}.{type(exc).__qualname__}"


def _signal_args(kwargs: dict[str, t.Any]) -> tuple[t.Any, ...]:
    out = []
    for key in sorted(kwargs):
        value = kwargs[key]
        if key == "response":
            value = (value.status, value.headers.get("Content-Type"))
        elif key in ("exception", "exc"):
            value = exception_name(value) if value is not None else None
        elif key == "template":
            value = value.name
        elif key == "context":
            value = sorted(value)
        out.append((key, value))
    return tuple(out)


class Recorder:
    """Records the signals one framework sends for one app, while
    connected."""

    def __init__(self, fw: t.Any, app: t.Any) -> None:
        self.fw = fw
        self.app = app
        self.events: list[t.Any] = []
        self._receivers: list[tuple[t.Any, t.Any]] = []

    def connect(self) -> None:
        for name in SIGNALS:
            signal = getattr(self.fw, name)

            def receiver(sender: t.Any, _name: str = name, **kwargs: t.Any) -> None:
                who = "app" if sender is self.app else type(sender).__name__
                self.events.append((_name, who, _signal_args(kwargs)))

            signal.connect(receiver, sender=self.app, weak=False)
            self._receivers.append((signal, receiver))

    def disconnect(self) -> None:
        for signal, receiver in self._receivers:
            # From every sender: with sender= given, blinker would keep the
            # receiver in ``signal.receivers``, and erlen's request path
            # would go on seeing a receiver.
            signal.disconnect(receiver)
        self._receivers.clear()


_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def normalise_set_cookie(value: str, session_name: str, decode: t.Any) -> t.Any:
    """A ``Set-Cookie`` value as ``(name, value, attributes)``.

    The session cookie's value is replaced by the data it carries. The one
    time-dependent attribute, an ``Expires`` date other than the epoch (the
    epoch is how a cookie is deleted, and is compared exactly), is replaced
    by a marker after checking that it is a date: a permanent session expires
    a fixed time after *now*, and *now* differs between the two runs.
    """
    from werkzeug.http import parse_date

    first, *attrs = value.split("; ")
    name, _, cookie_value = first.partition("=")
    if name == session_name and cookie_value:
        try:
            cookie_value = ("session data", decode(cookie_value))
        except Exception as exc:  # noqa: BLE001 - an unreadable cookie is data
            cookie_value = ("undecodable", exception_name(exc))
    kept = []
    for attr in attrs:
        key, _, attr_value = attr.partition("=")
        if key.lower() == "expires" and attr_value != _EPOCH:
            assert parse_date(attr_value) is not None, attr
            attr = "Expires=<a date>"
        kept.append(attr)
    return (name, cookie_value, tuple(kept))


class Pair:
    """One app built on both frameworks, with its signals recorded.

    Use as a context manager: the signal receivers are connected on entry
    and disconnected on exit, so that no other test sees them.
    """

    def __init__(self, build: t.Callable[[t.Any], t.Any]) -> None:
        self.build = build
        self.apps = {name: build(fw) for name, fw in FRAMEWORKS.items()}
        self.recorders = {
            name: Recorder(FRAMEWORKS[name], app) for name, app in self.apps.items()
        }
        flask_app = self.apps["flask"]
        self.session_name = flask_app.config["SESSION_COOKIE_NAME"]
        self.reference = flask.sessions.SecureCookieSessionInterface()
        self.serializers = {
            name: app.session_interface.get_signing_serializer(app)
            for name, app in self.apps.items()
        }
        self.compared = 0
        # How often each allowance was applied to a difference.
        self.applied: dict[str, int] = {}
        self._entered = False

    def __enter__(self) -> Pair:  # noqa: PYI034 - Self needs Python 3.11
        self._entered = True
        for recorder in self.recorders.values():
            recorder.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._entered = False
        for recorder in self.recorders.values():
            recorder.disconnect()

    def decode_session(self, value: str) -> t.Any:
        """Flask's reading of a session cookie value."""
        serializer = self.reference.get_signing_serializer(self.apps["flask"])
        return serializer.loads(value)

    def run_one(self, name: str, req: Req) -> Outcome:
        app = self.apps[name]
        recorder = self.recorders[name]
        recorder.events.clear()
        app.diff_log.clear()
        started: list[t.Any] = []

        def start_response(
            status: str, headers: t.Any, exc_info: t.Any = None
        ) -> t.Any:
            started[:] = [status, list(headers)]
            return lambda data: None

        body = b""
        error = None
        try:
            app_iter = app(req.environ(), start_response)
            try:
                body = b"".join(app_iter)
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    close()
        except Exception as exc:  # noqa: BLE001 - the exception is compared
            error = exception_name(exc)
        status, raw_headers = started if started else (None, [])
        headers = []
        set_cookies = []
        for key, value in raw_headers:
            if key.lower() == "set-cookie":
                set_cookies.append(value)
                value = normalise_set_cookie(
                    value, self.session_name, self.decode_session
                )
            headers.append((key, value))
        return Outcome(
            status=status,
            headers=headers,
            body=body,
            exception=error,
            signals=list(recorder.events),
            log=list(app.diff_log),
            set_cookies=set_cookies,
        )

    def run(self, req: Req) -> tuple[Outcome, Outcome]:
        return self.run_one("erlen", req), self.run_one("flask", req)

    def check(self, req: Req) -> None:
        """Send ``req`` to both apps; fail unless the outcomes are equal, or
        the Flask app with exactly the triggered allowances emulated gives
        erlen's outcome."""
        ours, theirs = self.run(req)
        self.compare(req, ours, theirs)

    def check_sequence(self, reqs: list[Req]) -> list[Outcome]:
        """Send ``reqs`` in turn, each framework with a cookie jar of its
        own, as a browser would: what one response sets, the next request
        sends. Each step is compared as :meth:`check` does; erlen's
        outcomes are returned."""
        jars: dict[str, dict[str, str]] = {"erlen": {}, "flask": {}}
        outcomes = []
        for req in reqs:
            sent = {
                name: dataclasses.replace(req, cookies=(*jar.items(), *req.cookies))
                for name, jar in jars.items()
            }
            ours = self.run_one("erlen", sent["erlen"])
            # Allowances see what Flask was sent. After an allowed
            # difference, Flask's jar takes the cookies of the outcome that
            # erlen matched, so that the next steps start alike.
            reference = self.compare(
                sent["flask"], ours, self.run_one("flask", sent["flask"])
            )
            _update_jar(jars["erlen"], ours.set_cookies)
            _update_jar(jars["flask"], reference.set_cookies)
            outcomes.append(ours)
        return outcomes

    def compare(self, req: Req, ours: Outcome, theirs: Outcome) -> Outcome:
        """Count and compare one pair of outcomes for ``req``; return the
        outcome erlen's matched (Flask's, or that of Flask with the
        allowances emulated)."""
        self.compared += 1
        if ours == theirs:
            return theirs
        rules = [a for a in (*ALLOWANCES, *KNOWN) if a.trigger(self, req)]
        if not rules:
            raise AssertionError(describe(req, ours, theirs))
        emulated = self.run_one(self.emulated(rules), req)
        for rule in rules:
            if rule.expect is not None:
                emulated = rule.expect(req, emulated)
        if ours != emulated:
            names = ", ".join(a.name for a in rules)
            raise AssertionError(
                describe(req, ours, theirs)
                + f"\n\nand Flask with {names} emulated differs too:\n"
                + describe(req, ours, emulated)
            )
        for rule in rules:
            self.applied[rule.name] = self.applied.get(rule.name, 0) + 1
        return emulated

    def emulated(self, rules: list[Allowance]) -> str:
        """The name of a Flask build of the app with ``rules`` emulated,
        built (and its signals recorded) on first use."""
        rules = [a for a in rules if a.emulate is not None]
        name = "+".join(["flask", *(a.name for a in rules)])
        if name not in self.apps:
            app = self.build(flask)
            for rule in rules:
                rule.emulate(app)  # type: ignore[misc]
            self.apps[name] = app
            self.recorders[name] = Recorder(flask, app)
            if self._entered:
                self.recorders[name].connect()
        return name


def _update_jar(jar: dict[str, str], set_cookies: list[str]) -> None:
    for header in set_cookies:
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if value and "Max-Age=0" not in header:
            jar[name] = value
        else:
            jar.pop(name, None)


def _short(value: t.Any, limit: int = 800) -> str:
    text = repr(value)
    if len(text) > limit:
        left, right = text[: limit // 2], text[-limit // 2 :]
        text = f"{left} ...({len(text) - limit} more)... {right}"
    return text


def describe(req: Req, ours: Outcome, theirs: Outcome) -> str:
    lines = [f"erlen and Flask differ on {req!r}:"]
    a, b = ours.fields(), theirs.fields()
    for key in a:
        if a[key] != b[key]:
            lines.append(
                f"  {key}:\n    erlen: {_short(a[key])}\n    flask: {_short(b[key])}"
            )
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Generated requests

_RULE_PART = re.compile(r"<(?:(?P<conv>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<var>\w+)>")
_SEGMENT = st.text(alphabet="abcXYZ019-_.~ é%", min_size=0, max_size=6)
_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=8
)
_HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12
)
_QUERY_KEYS = (
    st.sampled_from(
        [
            "q",
            "x",
            "a",
            "b",
            "msg",
            "cat",
            "stop",
            "deny",
            "missing",
            "fail-before",
            "fail-after",
            "fail-teardown",
            "proxy",
            "attach",
        ]
    )
    | _SEGMENT
)
_QUERY_VALUES = st.sampled_from(["", "1", "0", "hi"]) | _TEXT


def _converter_value(conv: str | None, args: str | None) -> st.SearchStrategy[str]:
    if conv == "int":
        return st.integers(-3, 10**6).map(str) | st.sampled_from(["007", "1.5", "x"])
    if conv == "float":
        return st.sampled_from(["1.5", "0.0", "2", "-1.5", "1e3"]) | st.floats(
            0, 1e6, allow_nan=False
        ).map(repr)
    if conv == "path":
        return st.lists(_SEGMENT, min_size=1, max_size=3).map("/".join)
    if conv == "uuid":
        return st.uuids().map(str) | _SEGMENT
    if conv == "any":
        words = [w.strip() for w in (args or "").split(",")]
        return st.sampled_from(words + ["green"])
    return _SEGMENT | st.sampled_from(WORDS)


# Values the apps' string arguments act on.
WORDS = (
    "value",
    "key",
    "zero",
    "teapot",
    "tuple2",
    "tuple-headers",
    "tuple3",
    "dict",
    "list",
    "bytes",
    "generator",
    "response",
    "status-string",
    "none",
    "delete-missing",
    "popitem-empty",
    "update-int",
    "a",
    "items",
    "acme",
    "http-exception",
    "wsgi",
    "enum",
    "response-status",
    "dict-headers",
    "list-status",
)


def _rule_path(rule: str) -> st.SearchStrategy[str]:
    parts: list[st.SearchStrategy[str]] = []
    pos = 0
    for match in _RULE_PART.finditer(rule):
        parts.append(st.just(rule[pos : match.start()]))
        parts.append(_converter_value(match["conv"], match["args"]))
        pos = match.end()
    parts.append(st.just(rule[pos:]))
    return st.tuples(*parts).map("".join)


def paths(app: t.Any) -> st.SearchStrategy[str]:
    """The app's own routes with generated arguments, the same with the
    trailing slash toggled, and random paths."""
    rules = sorted(r.rule for r in app.url_map.iter_rules() if "static" not in r.rule)
    from_rules = st.sampled_from(rules).flatmap(_rule_path)
    toggled = from_rules.map(
        lambda p: p[:-1] if p.endswith("/") and p != "/" else p + "/"
    )
    random = st.lists(_SEGMENT, max_size=3).map(lambda s: "/" + "/".join(s))
    return st.one_of(from_rules, from_rules, from_rules, toggled, random)


_HEADERS = st.lists(
    st.one_of(
        st.tuples(
            st.just("Accept"),
            st.sampled_from(
                ["application/json", "text/html,*/*;q=0.8", "*/*", "garbage;;q=x"]
            ),
        ),
        st.tuples(
            st.just("Host"),
            st.sampled_from(
                [
                    "localhost",
                    "example.com",
                    "example.com:8080",
                    "EXAMPLE.org",
                    "[::1]:80",
                    "api.example.com",
                    "acme.example.com",
                    "evil.com",
                ]
            ),
        ),
        st.tuples(st.just("X-Custom"), _HEADER_TEXT),
        st.tuples(
            st.just("Authorization"),
            st.sampled_from(["Basic dXNlcjpwYXNz", "Bearer token", "Basic !!"]),
        ),
        st.tuples(st.just("X-Forwarded-For"), st.just("10.0.0.1, 10.0.0.2")),
        st.tuples(st.just("Origin"), st.just("https://other.example")),
        st.tuples(
            st.just("If-None-Match"),
            st.sampled_from(['"abc"', '"digits-v1"', 'W/"digits-v1"', "*"]),
        ),
        st.tuples(
            st.just("If-Modified-Since"),
            st.sampled_from(
                [
                    "Mon, 06 May 2024 07:08:09 GMT",
                    "Sun, 05 May 2024 00:00:00 GMT",
                    "not a date",
                ]
            ),
        ),
        st.tuples(
            st.just("Range"),
            st.sampled_from(
                [
                    "bytes=0-4",
                    "bytes=45-",
                    "bytes=-3",
                    "bytes=100-200",
                    "bytes=3-1",
                    "bytes=0-1,4-5",
                    "lines=1-2",
                ]
            ),
        ),
        st.tuples(st.just("If-Range"), st.sampled_from(['"digits-v1"', '"old"'])),
        st.tuples(st.just("X-Forwarded-Proto"), st.just("https")),
    ),
    max_size=3,
).map(tuple)

_SESSION_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner),
    max_leaves=4,
)
_SESSION_DATA = st.dictionaries(
    st.sampled_from(["a", "b", "items", "user", "_permanent", "_flashes"]) | _SEGMENT,
    _SESSION_VALUES,
    max_size=3,
)
# Validly signed payloads that are not a session: not JSON, JSON but not an
# object, an object whose tag does not make a dict.
_CORRUPT_PAYLOADS = [b"not json", b"[1, 2]", b'{" t": ["a"]}', b'"text"']


def session_cookies(pair: Pair) -> st.SearchStrategy[str]:
    """Session cookie values: valid ones made by either framework's
    serializer, tampered ones, garbage, and validly signed corrupt ones."""
    import base64

    signed_by = st.sampled_from(sorted(pair.serializers))
    valid = st.tuples(signed_by, _SESSION_DATA).map(
        lambda a: pair.serializers[a[0]].dumps(a[1])
    )

    def tamper(args: tuple[str, int, str]) -> str:
        value, index, char = args
        index %= max(len(value), 1)
        return value[:index] + char + value[index + 1 :]

    tampered = st.tuples(valid, st.integers(0, 200), st.sampled_from("A_-.x")).map(
        tamper
    )
    garbage = st.text(alphabet="abcXYZ0129-_.", max_size=40)

    def corrupt(args: tuple[str, bytes]) -> str:
        name, payload = args
        serializer = pair.serializers[name]
        encoded = base64.urlsafe_b64encode(payload).rstrip(b"=")
        return serializer.make_signer(serializer.salt).sign(encoded).decode()

    corrupted = st.tuples(signed_by, st.sampled_from(_CORRUPT_PAYLOADS)).map(corrupt)
    # Signed 40 days ago (past any PERMANENT_SESSION_LIFETIME here), with the
    # old key of SECRET_KEY_FALLBACKS, or with a key the apps do not know.
    other_signers = st.sampled_from(
        [
            _session_serializer(SECRET, age=timedelta(days=40)),
            _session_serializer(OLD_SECRET),
            _session_serializer("a key nobody uses"),
        ]
    )
    other = st.tuples(other_signers, _SESSION_DATA).map(lambda a: a[0].dumps(a[1]))
    return st.one_of(valid, valid, tampered, garbage, corrupted, other)


def _session_serializer(key: str, age: timedelta = timedelta(0)) -> t.Any:
    """A serializer that writes session cookies as Flask's would, signed
    with ``key`` and dated ``age`` ago."""
    from itsdangerous import TimestampSigner
    from itsdangerous import URLSafeTimedSerializer

    class Dated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age.total_seconds())

    return URLSafeTimedSerializer(
        key,
        salt="cookie-session",
        serializer=flask.sessions.session_json_serializer,
        signer=Dated,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def cookie_jars(pair: Pair) -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    session = session_cookies(pair).map(lambda v: (pair.session_name, v))
    other = st.tuples(
        st.sampled_from(["theme", "other", "x"]),
        st.text(alphabet="abcXYZ0129-_.", max_size=8),
    )
    return st.lists(session | other, max_size=2).map(tuple)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3)
    ),
    max_leaves=6,
)


def bodies() -> st.SearchStrategy[dict[str, t.Any]]:
    pairs = st.lists(st.tuples(_QUERY_KEYS, _QUERY_VALUES), max_size=3).map(tuple)
    return st.one_of(
        st.just({}),
        pairs.map(lambda f: {"form": f}),
        st.tuples(pairs, st.binary(max_size=20)).map(
            lambda a: {"form": a[0], "files": (("upload", "a b.txt", a[1]),)}
        ),
        _JSON_VALUES.map(
            lambda v: {
                "data": json.dumps(v).encode(),
                "content_type": "application/json",
            }
        ),
        st.sampled_from([b"{", b"[1,", b"{'a': 1}", b"\xff\xfe", b"", b"nul"]).map(
            lambda d: {"data": d, "content_type": "application/json"}
        ),
        st.tuples(
            st.binary(max_size=30),
            st.sampled_from(
                [
                    "text/plain",
                    "application/octet-stream",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                    "application/vnd.api+json",
                ]
            ),
        ).map(lambda a: {"data": a[0], "content_type": a[1]}),
        st.integers(MAX_BODY + 1, MAX_BODY * 3).map(
            lambda n: {
                "data": b"x=" + b"y" * n,
                "content_type": "application/x-www-form-urlencoded",
            }
        ),
        st.tuples(
            st.integers(0, MAX_BODY * 2),
            st.sampled_from(["text/plain", "application/x-www-form-urlencoded"]),
        ).map(
            lambda a: {
                "data": b"x=" + b"a" * a[0],
                "content_type": a[1],
                "chunked": True,
            }
        ),
        st.integers(1200, 3000).map(
            lambda n: {"data": b"[" * n + b"]" * n, "content_type": "application/json"}
        ),
    )


def requests(pair: Pair) -> st.SearchStrategy[Req]:
    """Requests for ``pair``'s app."""
    app = pair.apps["erlen"]
    methods = st.sampled_from(
        [
            "GET",
            "GET",
            "GET",
            "POST",
            "POST",
            "PUT",
            "DELETE",
            "PATCH",
            "HEAD",
            "OPTIONS",
        ]
    )
    query = st.lists(st.tuples(_QUERY_KEYS, _QUERY_VALUES), max_size=3).map(tuple)
    raw_query = (
        st.none()
        | st.none()
        | st.none()
        | st.binary(min_size=1, max_size=6).map(lambda b: b"q=" + b)
    )
    script_root = st.sampled_from(["", "", "", "/root", "/app"])
    return st.builds(
        lambda method, path, root, query, raw_query, headers, cookies, body: Req(
            method=method,
            path=path,
            script_root=root,
            query=query,
            raw_query=raw_query,
            headers=headers,
            cookies=cookies,
            **body,
        ),
        methods,
        paths(app),
        script_root,
        query,
        raw_query,
        _HEADERS,
        cookie_jars(pair),
        bodies(),
    )


# --------------------------------------------------------------------------
# Allowances
#
# A difference is allowed only through an :class:`Allowance`: a named rule
# with a narrow ``trigger`` (a predicate on the request alone) and an
# ``emulate`` step that gives a Flask app the behaviour erlen has instead.
# When erlen and Flask differ, the allowances whose trigger matches the
# request are applied to a fresh Flask build of the same app, and erlen's
# outcome must then equal that app's outcome exactly. So an allowance never
# hides anything but the one behaviour it describes, and it checks that
# behaviour too.
#
# ``ALLOWANCES`` are the deliberate differences of the README's "Deliberate
# differences" (``readme`` quotes the bullet). ``KNOWN`` are undocumented
# differences, each with a strict xfail test in tests/test_flask_parity.py
# (``xfail_test`` names it).


@dataclasses.dataclass(frozen=True)
class Allowance:
    """``emulate`` changes a fresh Flask app so that it behaves as erlen
    does; ``expect`` instead maps Flask's outcome to the one erlen should
    give, for behaviour that an app change cannot reproduce."""

    name: str
    trigger: t.Callable[[Pair, Req], bool]
    emulate: t.Callable[[t.Any], None] | None = None
    expect: t.Callable[[Req, Outcome], Outcome] | None = None
    readme: str | None = None
    xfail_test: str | None = None

    def __repr__(self) -> str:
        return f"<Allowance {self.name}>"


def _is_corrupt_session(pair: Pair, req: Req) -> bool:
    """The request's session cookie (the first, as werkzeug reads it) has a
    valid signature but its payload does not load as a session dict."""
    value = req.cookie(pair.session_name)
    if not value:
        return False
    serializer = pair.reference.get_signing_serializer(pair.apps["flask"])
    try:
        serializer.make_signer(serializer.salt).unsign(value)
    except Exception:  # noqa: BLE001 - not validly signed: not this case
        return False
    try:
        pair.reference.session_class(serializer.loads(value))
    except Exception:  # noqa: BLE001 - whatever fails to load is corrupt
        return True
    return False


def _empty_session_for_corrupt_payload(app: t.Any) -> None:
    # Below the app's own session interface (which may be a subclass with
    # its own open_session): the serializer reads a corrupt payload as {}.
    from itsdangerous import BadSignature

    base = type(app.session_interface)

    class Lenient:
        def __init__(self, inner: t.Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> t.Any:
            return getattr(self.inner, name)

        def loads(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            try:
                data = self.inner.loads(*args, **kwargs)
            except BadSignature:
                raise
            except Exception:  # noqa: BLE001 - erlen's documented behaviour
                return {}
            return data if isinstance(data, dict) else {}

    class EmptyOnCorruptPayload(base):  # type: ignore[misc, valid-type]
        def get_signing_serializer(self, app: t.Any) -> t.Any:
            serializer = super().get_signing_serializer(app)
            return None if serializer is None else Lenient(serializer)

    app.session_interface = EmptyOnCorruptPayload()


def _is_non_utf8_query(pair: Pair, req: Req) -> bool:
    if req.raw_query is None:
        return False
    try:
        req.raw_query.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


NON_UTF8_QUERY_MESSAGE = (
    "The query string is not valid UTF-8: percent-encode non-ASCII bytes."
)


def _request_class(app: t.Any, name: str, attrs: dict[str, t.Any]) -> None:
    app.request_class = type(name, (app.request_class,), attrs)


def _bad_request_for_non_utf8_query(app: t.Any) -> None:
    from werkzeug.exceptions import BadRequest
    from werkzeug.utils import cached_property

    base = app.request_class

    def args(self: t.Any) -> t.Any:
        try:
            return base.args.fget(self)
        except UnicodeDecodeError:
            raise BadRequest(NON_UTF8_QUERY_MESSAGE) from None

    _request_class(app, "BadRequestOnNonUTF8Query", {"args": cached_property(args)})


def _is_deeply_nested_json(pair: Pair, req: Req) -> bool:
    return req.data is not None and req.data.startswith(b"[" * 500)


def _bad_request_for_deep_json(app: t.Any) -> None:
    base = type(app.json)

    class BoundedDepth(base):  # type: ignore[misc, valid-type]
        def loads(self, s: t.Any, **kwargs: t.Any) -> t.Any:
            try:
                return super().loads(s, **kwargs)
            except RecursionError:
                raise ValueError("JSON is nested too deeply") from None

    app.json = BoundedDepth(app)


def _is_chunked_over_limit(pair: Pair, req: Req) -> bool:
    """A chunked body longer than the request's ``max_content_length``: the
    app's ``MAX_CONTENT_LENGTH``, unless the app's request class sets its
    own."""
    app = pair.apps["flask"]
    limit = inspect.getattr_static(app.request_class, "max_content_length")
    if not isinstance(limit, int):
        limit = app.config["MAX_CONTENT_LENGTH"]
    return req.chunked and req.data is not None and len(req.data) > limit


class _TooLargeWhenRead(io.RawIOBase):
    """A terminated body that raises 413 once reading it goes past
    ``limit``: only when it is read, as a body with a too large
    Content-Length does."""

    def __init__(self, inner: t.Any, limit: int) -> None:
        self.inner = inner
        self.left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        from werkzeug.exceptions import RequestEntityTooLarge

        data = self.inner.read(min(len(buffer), self.left + 1))
        if len(data) > self.left:
            raise RequestEntityTooLarge()
        self.left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _413_for_long_chunked_body(app: t.Any) -> None:
    from werkzeug.utils import cached_property

    base = app.request_class

    def stream(self: t.Any) -> t.Any:
        limit = self.max_content_length
        if (
            self.environ.get("wsgi.input_terminated")
            and self.content_length is None
            and limit is not None
        ):
            return io.BufferedReader(
                _TooLargeWhenRead(self.environ["wsgi.input"], limit)
            )
        return base.stream.fget(self)

    _request_class(app, "TooLargeChunkedBody", {"stream": cached_property(stream)})


STREAM_WITH_CONTEXT_PATHS = frozenset({"/stream"})


def _is_stream_with_context(pair: Pair, req: Req) -> bool:
    """The request is for a view that returns a ``stream_with_context``
    body."""
    return req.path in STREAM_WITH_CONTEXT_PATHS


def _teardown_once_after_body(req: Req, outcome: Outcome) -> Outcome:
    """What erlen should give where Flask gave ``outcome``: the teardown
    functions run once, after the body, in the context that the body pushes
    again.

    Flask runs a round of teardown before the body and, if the body ran,
    another after it: the first round is taken out. For a body that never
    ran (a HEAD request) Flask's only round is before it; erlen's is after
    the body is closed, once the app context has been popped and pushed
    again. Any other outcome (the view did not stream) is left as it is.
    """
    signals, log = list(outcome.signals), list(outcome.log)
    names = [signal[0] for signal in signals]
    rounds = names.count("request_tearing_down")
    if rounds == 2:
        for name in ("request_tearing_down", "appcontext_tearing_down"):
            del signals[[signal[0] for signal in signals].index(name)]
        for name in ("teardown", "teardown_app"):
            first = next(e for e in log if isinstance(e, tuple) and e[0] == name)
            log.remove(first)
    elif (
        rounds == 1
        and req.method == "HEAD"
        and outcome.status == "200 OK"
        and outcome.exception is None
        and "request_finished" in names
        and names[-3:]
        == ["request_tearing_down", "appcontext_tearing_down", "appcontext_popped"]
    ):
        index = names.index("request_tearing_down")
        signals[index:index] = [
            ("appcontext_popped", "app", ()),
            ("appcontext_pushed", "app", ()),
        ]
    return dataclasses.replace(outcome, signals=signals, log=log)


def _is_raising_teardown(pair: Pair, req: Req) -> bool:
    """The production app's teardown function raises for
    ``?fail-teardown``."""
    return (
        pair.build is build_production
        and req.raw_query is None
        and any(key == "fail-teardown" for key, _ in req.query)
    )


def _every_teardown_runs(app: t.Any) -> None:
    def do_teardown_request(exc: t.Any = _NOT_GIVEN) -> None:
        if exc is _NOT_GIVEN:
            exc = sys.exc_info()[1]
        first_error = None
        for name in (*flask.request.blueprints, None):
            for func in reversed(app.teardown_request_funcs.get(name, ())):
                try:
                    app.ensure_sync(func)(exc)
                except Exception as error:  # noqa: BLE001 - raised below
                    first_error = first_error or error
        flask.request_tearing_down.send(app, _async_wrapper=app.ensure_sync, exc=exc)
        if first_error is not None:
            raise first_error

    app.do_teardown_request = do_teardown_request


_NOT_GIVEN = object()


ALLOWANCES: list[Allowance] = [
    Allowance(
        "teardown_error_after_every_teardown",
        _is_raising_teardown,
        _every_teardown_runs,
        readme="If a teardown function raises, the other teardown functions still"
        " run and the first error is raised afterwards (Flask skips the rest).",
    ),
    Allowance(
        "corrupt_signed_session",
        _is_corrupt_session,
        _empty_session_for_corrupt_payload,
        readme="a validly signed but corrupt session payload gives an empty"
        " session ... and 500)",
    ),
    Allowance(
        "non_utf8_query",
        _is_non_utf8_query,
        _bad_request_for_non_utf8_query,
        readme="raw non-UTF-8 bytes in a query string are a 400 ... (Flask"
        " answers 500, 500,",
    ),
    Allowance(
        "deeply_nested_json",
        _is_deeply_nested_json,
        _bad_request_for_deep_json,
        readme="Deeply nested JSON is a 400 ... (Flask answers 500,",
    ),
    Allowance(
        "chunked_over_limit",
        _is_chunked_over_limit,
        _413_for_long_chunked_body,
        readme="a chunked body over MAX_CONTENT_LENGTH is a 413 ... a silently"
        " truncated body",
    ),
    Allowance(
        "stream_with_context_teardown_once",
        _is_stream_with_context,
        expect=_teardown_once_after_body,
        readme="With stream_with_context, the teardown functions run once, after"
        " the body (Flask runs them before the body and again after it).",
    ),
]


# Undocumented differences known from tests/test_flask_parity.py, each with
# the rule that recognises it (none at present).
KNOWN: list[Allowance] = []


# --------------------------------------------------------------------------
# Running


def compare_app(name: str, examples: int, *, derandomize: bool = True) -> Pair:
    """Send ``examples`` generated requests to app ``name`` on both
    frameworks and compare every outcome; return the pair (with its counts).
    Raises AssertionError, with hypothesis' smallest failing request, on an
    unexplained difference."""
    from hypothesis import given
    from hypothesis import HealthCheck
    from hypothesis import settings

    with Pair(APPS[name]) as pair:

        @settings(
            max_examples=examples,
            derandomize=derandomize,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(req=requests(pair))
        def compare(req: Req) -> None:
            pair.check(req)

        @settings(
            max_examples=max(examples // 10, 1),
            derandomize=derandomize,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(reqs=st.lists(requests(pair), min_size=2, max_size=5))
        def compare_sequence(reqs: list[Req]) -> None:
            pair.check_sequence(reqs)

        compare()
        compare_sequence()
    return pair


def main(argv: list[str]) -> int:
    examples = int(argv[0]) if argv else 1000
    names = argv[1:] or list(APPS)
    total = 0
    for name in names:
        pair = compare_app(name, examples, derandomize=False)
        total += pair.compared
        print(
            f"{name}: {pair.compared} requests compared, allowances applied:"
            f" {pair.applied}"
        )
    print(f"total: {total} requests compared, no unexplained difference")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
