"""Checked by mypy (``tests/test_typing.py``), never run: the types that
erlen's public API gives to code written against it.

``assert_type`` fails the check when a type is not exactly the one named,
so a proxy that became ``Any`` or a decorator that lost its function's
signature is caught here.
"""

from __future__ import annotations

import typing as t
from contextvars import ContextVar

from typing_extensions import assert_type
from werkzeug.test import TestResponse
from werkzeug.wrappers import Response as BaseResponse

from erlen import Blueprint
from erlen import current_app
from erlen import Flask
from erlen import g
from erlen import jsonify
from erlen import make_response
from erlen import redirect
from erlen import render_template_string
from erlen import Request
from erlen import request
from erlen import Response
from erlen import session
from erlen import url_for
from erlen.ctx import _AppCtxGlobals
from erlen.ctx import AppContext
from erlen.ctx import RequestContext
from erlen.globals import app_ctx
from erlen.globals import request_ctx
from erlen.local import Local
from erlen.local import LocalProxy
from erlen.local import LocalStack
from erlen.sessions import SessionMixin
from erlen.testing import FlaskClient

app = Flask(__name__)
bp = Blueprint("bp", __name__)


def check_proxies() -> None:
    assert_type(request, Request)
    assert_type(request.args.get("q"), str | None)
    assert_type(session, SessionMixin)
    assert_type(current_app, Flask)
    assert_type(request_ctx, RequestContext)
    assert_type(app_ctx, AppContext)
    # A proxy is typed as its object: a misspelt attribute is an error.
    request.no_such_attribute  # type: ignore[attr-defined]  # noqa: B018


def check_g_is_a_namespace() -> None:
    assert_type(g, _AppCtxGlobals)
    g.start = 1
    assert_type(g.start, t.Any)
    del g.start
    assert_type(g.get("user"), t.Any)
    assert_type(g.pop("user", None), t.Any)
    assert_type(g.setdefault("user", "ada"), t.Any)
    assert_type("user" in g, bool)
    assert_type(list(g), list[str])


def check_local_proxy_generics() -> None:
    number: ContextVar[int] = ContextVar("number")
    proxy: LocalProxy[int] = LocalProxy(number)
    assert_type(proxy._get_current_object(), int)

    stack: LocalStack[int] = LocalStack()
    assert_type(stack.top, int | None)
    assert_type(stack.pop(), int | None)
    assert_type(stack(), LocalProxy[t.Any])

    local = Local()
    assert_type(local("name"), LocalProxy[t.Any])


def check_contexts() -> None:
    with app.app_context() as ctx:
        assert_type(ctx, AppContext)
        assert_type(ctx.app, Flask)
    with app.test_request_context("/") as req_ctx:
        assert_type(req_ctx, RequestContext)
        assert_type(req_ctx.request, Request)
        assert_type(req_ctx.session, SessionMixin)


def check_decorators_keep_the_function_type() -> None:
    @app.route("/")
    def index() -> str:
        return "hello"

    @app.get("/user/<name>")
    def user(name: str) -> Response:
        return jsonify(name=name)

    @bp.post("/item/<int:item_id>")
    def item(item_id: int) -> tuple[str, int]:
        return "created", 201

    @app.before_request
    def before() -> None:
        pass

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return "not here", 404

    @app.template_filter("shout")
    def shout(value: str) -> str:
        return value.upper()

    assert_type(index, t.Callable[[], str])
    assert_type(user("ada"), Response)
    assert_type(item(1), tuple[str, int])
    assert_type(before, t.Callable[[], None])
    assert_type(not_found(Exception()), tuple[str, int])
    assert_type(shout("hi"), str)


def check_helpers() -> None:
    assert_type(jsonify(greeting="hello"), Response)
    assert_type(jsonify([1, 2, 3]), Response)
    assert_type(make_response("body", 201), Response)
    assert_type(app.make_response("body"), Response)
    assert_type(redirect("/"), BaseResponse)
    assert_type(url_for("index", page=2), str)
    assert_type(render_template_string("{{ x }}", x=1), str)


def check_test_client() -> None:
    client = app.test_client()
    assert_type(client, FlaskClient)
    assert_type(client.get("/"), TestResponse)
