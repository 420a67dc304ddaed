"""Error handling: handlers by code and by class, the most specific first,
blueprint before app, propagation, trapping and logging."""

import logging

import pytest
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import NotFound

import erlen


class ParentError(Exception):
    pass


class ChildError(ParentError):
    pass


class GrandchildError(ChildError):
    pass


def test_handler_by_code(app, client):
    @app.errorhandler(404)
    def not_found(e):
        assert isinstance(e, NotFound)
        return "custom 404", 404

    assert client.get("/missing").data == b"custom 404"


def test_handler_by_http_exception_class(app, client):
    @app.errorhandler(Forbidden)
    def forbidden(e):
        return f"forbidden {e.code}", 403

    @app.route("/")
    def index():
        erlen.abort(403)

    rv = client.get("/")
    assert rv.status_code == 403 and rv.data == b"forbidden 403"


def test_handler_for_all_http_exceptions(app, client):
    @app.errorhandler(HTTPException)
    def any_http(e):
        return f"http {e.code}", e.code

    @app.route("/")
    def index():
        erlen.abort(418)

    assert client.get("/").data == b"http 418"
    assert client.get("/nope").data == b"http 404"
    assert client.post("/").data == b"http 405"


def test_code_handler_wins_over_class_handler(app, client):
    app.register_error_handler(HTTPException, lambda e: ("generic", 500))
    app.register_error_handler(404, lambda e: ("by code", 404))
    assert client.get("/x").data == b"by code"


def test_most_specific_class_first(app, client):
    app.register_error_handler(ParentError, lambda e: "parent")
    app.register_error_handler(ChildError, lambda e: "child")

    @app.route("/<kind>")
    def raise_(kind):
        raise {"p": ParentError, "c": ChildError, "g": GrandchildError}[kind]()

    assert client.get("/p").data == b"parent"
    assert client.get("/c").data == b"child"
    assert client.get("/g").data == b"child"


def test_handler_for_exception_catches_unhandled(app, client):
    app.register_error_handler(Exception, lambda e: (f"caught {type(e).__name__}", 500))

    @app.route("/")
    def index():
        raise KeyError()

    assert client.get("/").data == b"caught KeyError"


def test_unhandled_error_propagates_in_testing(app, client):
    @app.route("/")
    def index():
        raise ZeroDivisionError()

    with pytest.raises(ZeroDivisionError):
        client.get("/")


def test_unhandled_error_is_500_and_logged(app, client, caplog):
    app.testing = False

    @app.route("/")
    def index():
        raise ZeroDivisionError()

    with caplog.at_level(logging.ERROR, logger="erlen_test"):
        rv = client.get("/")
    assert rv.status_code == 500
    assert b"Internal Server Error" in rv.data
    assert "Exception on / [GET]" in caplog.text
    assert "ZeroDivisionError" in caplog.text


def test_propagate_setting_overrides_testing(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.add_url_rule("/", "i", lambda: 1 / 0)
    assert client.get("/").status_code == 500
    app2 = erlen.Flask("x")
    app2.config["PROPAGATE_EXCEPTIONS"] = True
    app2.add_url_rule("/", "i", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        app2.test_client().get("/")


def test_500_handler_gets_original_exception(app, client):
    app.testing = False
    seen = []

    @app.errorhandler(500)
    def server_error(e):
        seen.append(e)
        return "oops", 500

    @app.route("/")
    def index():
        raise KeyError("k")

    assert client.get("/").data == b"oops"
    assert isinstance(seen[0], InternalServerError)
    assert isinstance(seen[0].original_exception, KeyError)


def test_abort_500_goes_to_500_handler_as_is(app, client):
    @app.errorhandler(500)
    def server_error(e):
        return f"{type(e).__name__} {e.original_exception}", 500

    @app.route("/")
    def index():
        erlen.abort(500)

    assert client.get("/").data == b"InternalServerError None"


def test_handler_returning_response_tuple(app, client):
    app.register_error_handler(
        ParentError, lambda e: ({"error": "p"}, 409, {"X-E": "1"})
    )

    @app.route("/")
    def index():
        raise ParentError()

    rv = client.get("/")
    assert rv.status_code == 409
    assert rv.json == {"error": "p"}
    assert rv.headers["X-E"] == "1"


def test_after_request_runs_on_handled_errors(app, client):
    app.register_error_handler(404, lambda e: ("nf", 404))

    @app.after_request
    def after(response):
        response.headers["X-Seen"] = "1"
        return response

    assert client.get("/nope").headers["X-Seen"] == "1"


def test_routing_redirect_is_not_handled(app, client):
    app.register_error_handler(HTTPException, lambda e: ("handled", 500))
    app.add_url_rule("/d/", "d", lambda: "")
    rv = client.get("/d")
    assert rv.status_code == 308


def test_trap_http_exceptions(app, client):
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    @app.route("/")
    def index():
        erlen.abort(404)

    with pytest.raises(NotFound):
        client.get("/")


def test_trap_bad_request_errors(app, client):
    @app.route("/", methods=["POST"])
    def index():
        return erlen.request.form["missing"]

    assert client.post("/").status_code == 400
    app.config["TRAP_BAD_REQUEST_ERRORS"] = True
    with pytest.raises(KeyError):
        client.post("/")


def test_bad_request_key_error_in_debug(app, client):
    app.debug = True

    @app.route("/", methods=["POST"])
    def index():
        return erlen.request.form["missing"]

    with pytest.raises(KeyError) as info:
        client.post("/")
    assert info.value.show_exception is True


def test_trapped_http_exception_can_be_handled_by_class(app, client):
    app.config["TRAP_BAD_REQUEST_ERRORS"] = True
    app.register_error_handler(BadRequest, lambda e: ("bad", 400))

    @app.route("/")
    def index():
        erlen.abort(400)

    assert client.get("/").data == b"bad"


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (999, ValueError, "not a recognized HTTP error code"),
        (KeyError(), TypeError, "is an instance, not a class"),
        (str, ValueError, "is not a subclass of Exception"),
    ],
)
def test_register_error_handler_validation(app, value, error, match):
    with pytest.raises(error, match=match):
        app.register_error_handler(value, lambda e: "")


def test_code_handler_is_for_the_code_class_and_subclasses(app, client):
    from werkzeug.exceptions import ImATeapot

    class Teapot(HTTPException):
        code = 418
        description = "short and stout"

    class SubTeapot(ImATeapot):
        pass

    # A code is registered as werkzeug's class for it, as in Flask: an
    # unrelated class with the same code is not handled by it.
    app.register_error_handler(418, lambda e: (f"tea {type(e).__name__}", 418))

    @app.route("/<kind>")
    def index(kind):
        raise {"own": Teapot, "sub": SubTeapot, "wz": ImATeapot}[kind]()

    assert client.get("/wz").data == b"tea ImATeapot"
    assert client.get("/sub").data == b"tea SubTeapot"
    rv = client.get("/own")
    assert rv.status_code == 418
    assert b"short and stout" in rv.data


def test_unregistered_custom_code_needs_class(app):
    class Odd(HTTPException):
        code = 599

    app.register_error_handler(Odd, lambda e: ("odd", 599))
    app.add_url_rule("/", "i", lambda: (_ for _ in ()).throw(Odd()))
    assert app.test_client().get("/").data == b"odd"


def test_got_request_exception_signal(app, client):
    app.testing = False
    got = []

    def receiver(sender, exception, **extra):
        got.append((sender, type(exception)))

    app.add_url_rule("/", "i", lambda: 1 / 0)
    with erlen.got_request_exception.connected_to(receiver, app):
        client.get("/")
    assert got == [(app, ZeroDivisionError)]


def test_should_ignore_error_hides_error_from_teardown(app):
    seen = []

    class Quiet(erlen.Flask):
        def should_ignore_error(self, error):
            return True

    quiet = Quiet("q")
    quiet.config["PROPAGATE_EXCEPTIONS"] = False
    quiet.teardown_request(seen.append)
    quiet.add_url_rule("/", "i", lambda: 1 / 0)
    assert quiet.test_client().get("/").status_code == 500
    assert seen == [None]


def test_error_while_finalizing_error_response_is_logged(app, client, caplog):
    app.testing = False

    @app.after_request
    def broken(response):
        raise RuntimeError("after broke")

    with caplog.at_level(logging.ERROR, logger="erlen_test"):
        rv = client.get("/missing")
    assert rv.status_code == 500
    assert "Request finalizing failed" in caplog.text
