"""Whole-request benchmarks: erlen next to Flask and the floors.

Each benchmarked call makes ``REQUESTS`` requests in process, as a WSGI
server would: ``app(environ, start_response)`` with a fresh copy of a
prebuilt environ and a fresh input stream, the response iterable consumed and
closed. Every row's response is checked once first, so a broken app cannot
produce a fast number.

Rows: ``erlen`` (whichever core ``erlen.local`` picked), ``flask``, ``floor``
(a bare WSGI callable) and, for hello, ``werkzeug`` (bare werkzeug
Request/Response).
"""

from __future__ import annotations

import json
import typing as t

import apps
import pytest

REQUESTS = 10

ROLES = {
    "erlen": "subject",
    "erlen-py": "subject",
    "flask": "peer",
    "werkzeug": "reference",
    "floor": "floor",
}


def framework(row: str) -> t.Any:
    try:
        return apps.load_framework(row)
    except ImportError as exc:
        if row == "erlen":
            pytest.skip(f"erlen.Flask is not importable yet: {exc}")
        raise


def core_of(row: str) -> str | None:
    if row != "erlen":
        return None
    from erlen import local

    return "cython" if local.COMPILED else "python"


def bench_requests(
    benchmark: t.Any, row: str, app: apps.WSGIApp, environ: t.Any
) -> None:
    core = core_of(row)
    if core == "python":
        # The pure-Python core is its own row (run with
        # ERLEN_NO_EXTENSIONS=1; ratios.py --both-cores does both runs).
        row = "erlen-py"
    benchmark.extra_info["row"] = row
    benchmark.extra_info["role"] = ROLES[row]
    benchmark.extra_info["ops"] = REQUESTS
    if core is not None:
        benchmark.extra_info["core"] = core
    benchmark(apps.request_loop(app, environ, REQUESTS))


@pytest.mark.benchmark(group="request-hello")
@pytest.mark.parametrize("row", ["erlen", "flask", "werkzeug", "floor"])
def test_request_hello(benchmark, row):
    if row in apps.FRAMEWORKS:
        app = apps.build_hello(framework(row))
    elif row == "werkzeug":
        app = apps.werkzeug_hello()
    else:
        app = apps.bare_wsgi_hello()
    environ = apps.hello_environ()

    status, headers, body = apps.call(app, environ)
    assert status == "200 OK"
    assert body == apps.HELLO_BODY.encode()
    assert headers["content-type"].startswith("text/html")

    bench_requests(benchmark, row, app, environ)


@pytest.mark.benchmark(group="request-realistic")
@pytest.mark.parametrize("row", ["erlen", "flask", "floor"])
def test_request_realistic(benchmark, row):
    cookie = None
    if row in apps.FRAMEWORKS:
        app = apps.build_realistic(framework(row))
        cookie = apps.session_cookie(app)
        environ = apps.realistic_environ(cookie)
    else:
        app = apps.bare_wsgi_realistic()
        environ = apps.realistic_environ(None)

    status, headers, body = apps.call(app, environ)
    assert status == "200 OK"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == apps.ITEM_JSON  # "user" proves the session loaded
    assert headers[apps.ITEM_HEADER[0].lower()] == apps.ITEM_HEADER[1]
    if row in apps.FRAMEWORKS:
        # The view wrote the session, so a new cookie must come back.
        assert headers["set-cookie"].startswith("session="), headers
        assert not headers["set-cookie"].startswith(f"session={cookie};")

    bench_requests(benchmark, row, app, environ)


@pytest.mark.benchmark(group="request-blueprint-heavy")
@pytest.mark.parametrize("row", ["erlen", "flask", "floor"])
def test_request_blueprint_heavy(benchmark, row):
    if row in apps.FRAMEWORKS:
        app = apps.build_blueprint_heavy(framework(row))
    else:
        app = apps.bare_wsgi_text(apps.HEAVY_BODY)
    environ = apps.path_environ(apps.HEAVY_PATH)

    status, headers, body = apps.call(app, environ)
    assert status == "200 OK"
    assert body == apps.HEAVY_BODY.encode()

    bench_requests(benchmark, row, app, environ)


@pytest.mark.benchmark(group="request-errors")
@pytest.mark.parametrize("row", ["erlen", "flask", "floor"])
def test_request_errors(benchmark, row):
    if row in apps.FRAMEWORKS:
        app = apps.build_errors(framework(row))
    else:
        app = apps.bare_wsgi_errors()
    environs = [apps.path_environ(path) for path in apps.ERROR_PATHS]

    status, headers, body = apps.call(app, environs[0])
    assert status == "404 NOT FOUND"
    assert b"Not Found" in body
    status, headers, body = apps.call(app, environs[1])
    assert status == "418 I'M A TEAPOT"
    assert body == apps.ERROR_BODY.encode()

    # Half the requests are a 404, half a handled exception.
    bench_requests(benchmark, row, app, environs)


@pytest.mark.benchmark(group="request-async")
@pytest.mark.parametrize("row", ["erlen", "flask", "floor"])
def test_request_async(benchmark, row):
    if row in apps.FRAMEWORKS:
        pytest.importorskip("asgiref")
        app = apps.build_async(framework(row))
    else:
        app = apps.bare_wsgi_text(apps.ASYNC_BODY)
    environ = apps.hello_environ()

    status, headers, body = apps.call(app, environ)
    assert status == "200 OK"
    assert body == apps.ASYNC_BODY.encode()

    bench_requests(benchmark, row, app, environ)
