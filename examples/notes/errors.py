"""Error pages: styled HTML on the site, JSON under ``/api/``."""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import HTTPException

from erlen import Flask
from erlen import jsonify
from erlen import render_template
from erlen import request


def is_api_request() -> bool:
    # By path, not by blueprint: a URL that matched no route (a 404, a 405)
    # belongs to no blueprint.
    return request.path == "/api" or request.path.startswith("/api/")


def handle_http_error(error: HTTPException) -> Any:
    """Every HTTP error of the app, and the 500 that an unhandled exception
    becomes (its details go to the log, never to the client). Routing
    redirects never reach it: the framework sends them as they are."""
    # Keep the error's own headers, such as a 405's Allow.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if is_api_request():
        response = jsonify(error=error.name, message=error.description)
        return response, error.code, headers
    return render_template("error.html", error=error), error.code, headers


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
