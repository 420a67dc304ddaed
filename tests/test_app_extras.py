"""log_exception and handle_url_build_error, which the issue names."""

import logging

import pytest
from werkzeug.routing import BuildError

from erlen import Flask
from erlen import url_for


def test_log_exception_logs_the_request_and_traceback(caplog):
    app = Flask(__name__)

    @app.route("/boom", methods=["POST"])
    def boom():
        raise ValueError("kaput")

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        rv = app.test_client().post("/boom")
    assert rv.status_code == 500
    (record,) = [r for r in caplog.records if r.name == app.logger.name]
    assert record.getMessage() == "Exception on /boom [POST]"
    assert record.exc_info[0] is ValueError
    assert str(record.exc_info[1]) == "kaput"


def test_log_exception_can_be_overridden():
    seen = []

    class App(Flask):
        def log_exception(self, exc_info):
            seen.append(exc_info[1])

    app = App(__name__)

    @app.route("/")
    def index():
        raise KeyError("k")

    assert app.test_client().get("/").status_code == 500
    assert len(seen) == 1 and isinstance(seen[0], KeyError)


def test_handle_url_build_error_uses_the_registered_handlers():
    app = Flask(__name__)
    calls = []

    def external(error, endpoint, values):
        calls.append((type(error), endpoint, dict(values)))
        if endpoint == "elsewhere":
            return f"https://other.example/{values['page']}"
        return None

    app.url_build_error_handlers.append(external)

    with app.test_request_context():
        assert url_for("elsewhere", page=3) == "https://other.example/3"
        with pytest.raises(BuildError) as info:
            url_for("missing")
    assert info.value.endpoint == "missing"
    # As Flask: the handlers also see url_for's own arguments.
    own = {"_anchor": None, "_method": None, "_scheme": None, "_external": False}
    assert calls == [
        (BuildError, "elsewhere", {"page": 3, **own}),
        (BuildError, "missing", own),
    ]


def test_handle_url_build_error_reraises_the_current_error_when_unhandled():
    app = Flask(__name__)

    with app.test_request_context():
        try:
            raise BuildError("nowhere", {}, "GET")
        except BuildError as error:
            with pytest.raises(BuildError) as info:
                app.handle_url_build_error(error, "nowhere", {})
    assert info.value.endpoint == "nowhere"
