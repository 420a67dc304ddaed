"""The apps that the whole-request benchmarks drive, built for erlen or Flask.

Both frameworks go through the same code path: each builder takes the
framework module (``erlen`` or ``flask``) and uses only the API the two share.
This module also holds the floors (a bare WSGI callable and a bare werkzeug
Request/Response app), the prebuilt environs and a minimal WSGI driver.
"""

from __future__ import annotations

import importlib
import io
import json
import typing as t
from http.cookies import SimpleCookie

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

FRAMEWORKS = ("erlen", "flask")

HELLO_PATH = "/"
HELLO_BODY = "Hello, World!"

SECRET_KEY = "erlen-bench-secret"
USERS = {7: {"id": 7, "name": "ada"}}
ITEM_PATH = "/item/42"
ITEM_QUERY = {"fields": "name,price"}
ITEM_JSON = {"id": 42, "fields": "name,price", "user": "ada"}
ITEM_HEADER = ("X-Bench", "realistic")

WSGIApp = t.Callable[[dict[str, t.Any], t.Callable[..., t.Any]], t.Iterable[bytes]]


def load_framework(name: str) -> t.Any:
    """Import ``erlen`` or ``flask``; raise ImportError if it has no ``Flask``
    yet (erlen is being built while these benchmarks are written)."""
    module = importlib.import_module(name)
    # NOTE: erlen.install_as_flask() would make "flask" mean erlen; the flask
    # row must be the real Flask or the comparison means nothing.
    if module.__name__ != name:
        raise RuntimeError(f"{name!r} is aliased to {module.__name__!r}")
    if not hasattr(module, "Flask"):
        raise ImportError(f"{name}.Flask does not exist yet")
    return module


# -- the apps ----------------------------------------------------------------


def build_hello(fw: t.Any) -> t.Any:
    """One route, ``/``, returning a string."""
    app = fw.Flask(__name__)

    @app.route("/")
    def index() -> str:
        return HELLO_BODY

    return app


def build_realistic(fw: t.Any) -> t.Any:
    """A signed-cookie session, ``g``, a converter, a query argument, a JSON
    response, and a before and an after request function."""
    app = fw.Flask(__name__)
    app.config["SECRET_KEY"] = SECRET_KEY
    session, g, request = fw.session, fw.g, fw.request

    @app.before_request
    def load_user() -> None:
        g.user = USERS.get(session.get("user_id"))

    @app.route("/login")
    def login() -> str:
        # Only used once, to make the session cookie that every benchmarked
        # request carries.
        session["user_id"] = 7
        return "logged in"

    @app.route("/item/<int:item_id>")
    def item(item_id: int) -> dict[str, t.Any]:
        fields = request.args.get("fields", "all")
        session["last_item"] = item_id
        user = g.user
        return {"id": item_id, "fields": fields, "user": user["name"] if user else None}

    @app.after_request
    def add_header(response: t.Any) -> t.Any:
        response.headers[ITEM_HEADER[0]] = ITEM_HEADER[1]
        return response

    return app


BLUEPRINTS = 50
ROUTES_PER_BLUEPRINT = 10
# A route in the last blueprint registered, with a converter.
HEAVY_PATH = f"/bp{BLUEPRINTS - 1}/r{ROUTES_PER_BLUEPRINT - 1}/42"
HEAVY_BODY = f"bp{BLUEPRINTS - 1}.r{ROUTES_PER_BLUEPRINT - 1} 42"


def build_blueprint_heavy(fw: t.Any) -> t.Any:
    """50 blueprints of 10 routes each, every blueprint with its own
    ``before_request``; the benchmark hits a route of the last one."""
    app = fw.Flask(__name__)
    g = fw.g

    def make_view(name: str) -> t.Callable[..., str]:
        def view(item: int) -> str:
            return f"{g.bp}.{name} {item}"

        return view

    for i in range(BLUEPRINTS):
        bp = fw.Blueprint(f"bp{i}", __name__, url_prefix=f"/bp{i}")

        def before(name: str = f"bp{i}") -> None:
            g.bp = name

        bp.before_request(before)
        for j in range(ROUTES_PER_BLUEPRINT):
            bp.add_url_rule(f"/r{j}/<int:item>", f"r{j}", make_view(f"r{j}"))
        app.register_blueprint(bp)
    return app


ERROR_PATHS = ("/missing", "/fail")
ERROR_BODY = "handled: teapot"


class BenchError(Exception):
    pass


def build_errors(fw: t.Any) -> t.Any:
    """A 404 (no such route, werkzeug's default page) and an exception that
    a registered handler turns into a 418."""
    app = fw.Flask(__name__)

    @app.route("/fail")
    def fail() -> str:
        raise BenchError("teapot")

    @app.errorhandler(BenchError)
    def handle(e: BenchError) -> tuple[str, int]:
        return f"handled: {e}", 418

    return app


ASYNC_BODY = "Hello, async World!"


def build_async(fw: t.Any) -> t.Any:
    """One ``async def`` view that awaits once."""
    import asyncio

    app = fw.Flask(__name__)

    @app.route("/")
    async def index() -> str:
        await asyncio.sleep(0)
        return ASYNC_BODY

    return app


# -- the floors --------------------------------------------------------------


def _bare_wsgi(body: bytes, content_type: str, extra: list[tuple[str, str]]) -> WSGIApp:
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        *extra,
    ]

    def app(
        environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> list[bytes]:
        start_response("200 OK", list(headers))
        return [body]

    return app


def bare_wsgi_hello() -> WSGIApp:
    """A bare WSGI callable that gives the hello response: the floor."""
    return _bare_wsgi(HELLO_BODY.encode(), "text/html; charset=utf-8", [])


def bare_wsgi_realistic() -> WSGIApp:
    """A bare WSGI callable that gives the realistic response (without the
    session work): the floor."""
    body = (json.dumps(ITEM_JSON) + "\n").encode()
    return _bare_wsgi(body, "application/json", [ITEM_HEADER])


def bare_wsgi_text(body: str) -> WSGIApp:
    """A bare WSGI callable answering ``body`` as HTML: the floor."""
    return _bare_wsgi(body.encode(), "text/html; charset=utf-8", [])


def bare_wsgi_errors() -> WSGIApp:
    """A bare WSGI callable answering the two error responses by path."""
    from werkzeug.exceptions import NotFound

    not_found = NotFound().get_body()
    pages = {
        "/missing": ("404 NOT FOUND", not_found.encode()),
        "/fail": ("418 I'M A TEAPOT", ERROR_BODY.encode()),
    }

    def app(
        environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> list[bytes]:
        status, body = pages[environ["PATH_INFO"]]
        start_response(
            status,
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

    return app


def werkzeug_hello() -> WSGIApp:
    """The hello app on bare werkzeug: a Request, a path check, a Response."""

    def app(
        environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> t.Iterable[bytes]:
        request = Request(environ)
        if request.path == HELLO_PATH:
            response = Response(HELLO_BODY, mimetype="text/html")
        else:
            response = Response("Not Found", status=404)
        return response(environ, start_response)

    return app


# -- environs ----------------------------------------------------------------


def hello_environ() -> dict[str, t.Any]:
    return EnvironBuilder(path=HELLO_PATH).get_environ()


def path_environ(path: str) -> dict[str, t.Any]:
    return EnvironBuilder(path=path).get_environ()


def session_cookie(app: t.Any) -> str:
    """Log in once through the app's own test client and return the value of
    the session cookie it sets."""
    response = app.test_client().get("/login")
    assert response.status_code == 200, response.status
    cookie: SimpleCookie = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        cookie.load(header)
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    assert name in cookie, f"no {name!r} cookie in {response.headers!r}"
    return cookie[name].value


def realistic_environ(cookie: str | None) -> dict[str, t.Any]:
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    return EnvironBuilder(
        path=ITEM_PATH, query_string=ITEM_QUERY, headers=headers
    ).get_environ()


# -- a minimal WSGI server ---------------------------------------------------


def _write(data: bytes) -> None:
    pass


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
) -> t.Callable[[bytes], None]:
    return _write


def request_loop(
    app: WSGIApp, base: dict[str, t.Any] | list[dict[str, t.Any]], count: int
) -> t.Callable[[], None]:
    """A function that makes ``count`` requests as a WSGI server would: a
    fresh environ dict and input stream for each, the response iterable
    consumed and closed. Given a list of environs, the requests take them
    in turn."""
    bases = base if isinstance(base, list) else [base]
    order = [bases[i % len(bases)] for i in range(count)]

    def run() -> None:
        for one in order:
            environ = one.copy()
            environ["wsgi.input"] = io.BytesIO()
            body = app(environ, _start_response)
            try:
                for _chunk in body:
                    pass
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

    return run


def call(app: WSGIApp, base: dict[str, t.Any]) -> tuple[str, dict[str, str], bytes]:
    """Make one request and return its status, headers and body, for checks."""
    seen: dict[str, t.Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> t.Callable[[bytes], None]:
        seen["status"], seen["headers"] = status, headers
        return _write

    environ = base.copy()
    environ["wsgi.input"] = io.BytesIO()
    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    headers: dict[str, str] = {}
    for key, value in seen["headers"]:
        headers.setdefault(key.lower(), value)
    return seen["status"], headers, data
