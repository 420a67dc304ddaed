"""Logging helpers and the template loading explanation."""

import logging
import sys
from io import StringIO
from types import SimpleNamespace

import pytest

from erlen.globals import _cv_request
from erlen.logging import create_logger
from erlen.logging import default_handler
from erlen.logging import has_level_handler
from erlen.logging import wsgi_errors_stream

LOGGER_NAME = "erlen_logging_unit"


@pytest.fixture(autouse=True)
def reset_logging(pytestconfig):
    root_handlers = logging.root.handlers[:]
    logging.root.handlers = []
    root_level = logging.root.level
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers = []
    logger.setLevel(logging.NOTSET)
    plugin = pytestconfig.pluginmanager.unregister(name="logging-plugin")

    yield

    logging.root.handlers[:] = root_handlers
    logging.root.setLevel(root_level)
    logger.handlers = []
    logger.setLevel(logging.NOTSET)
    logger.propagate = True

    if plugin:
        pytestconfig.pluginmanager.register(plugin, "logging-plugin")


class FakeApp:
    def __init__(self, debug=False, name=LOGGER_NAME):
        self.name = name
        self.import_name = name
        self.debug = debug


def push_request(stream):
    request = SimpleNamespace(environ={"wsgi.errors": stream}, blueprint=None)
    return _cv_request.set(SimpleNamespace(request=request))


def test_wsgi_errors_stream_without_request():
    assert wsgi_errors_stream._get_current_object() is sys.stderr


def test_wsgi_errors_stream_with_request():
    stream = StringIO()
    token = push_request(stream)
    try:
        assert wsgi_errors_stream._get_current_object() is stream
        wsgi_errors_stream.write("via proxy")
    finally:
        _cv_request.reset(token)

    assert stream.getvalue() == "via proxy"
    assert wsgi_errors_stream._get_current_object() is sys.stderr


def test_default_handler_writes_to_request_stream():
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(default_handler)
    stream = StringIO()
    token = push_request(stream)
    try:
        logger.error("boom")
    finally:
        _cv_request.reset(token)

    assert "ERROR in test_logging_unit: boom" in stream.getvalue()
    assert stream.getvalue().startswith("[")


def test_has_level_handler():
    logger = logging.getLogger(f"{LOGGER_NAME}.child")
    assert not has_level_handler(logger)

    handler = logging.StreamHandler()
    logging.root.addHandler(handler)
    assert has_level_handler(logger)

    logger.propagate = False
    try:
        assert not has_level_handler(logger)
    finally:
        logger.propagate = True

    handler.setLevel(logging.ERROR)
    assert not has_level_handler(logger)

    logger.setLevel(logging.ERROR)
    try:
        assert has_level_handler(logger)
    finally:
        logger.setLevel(logging.NOTSET)


def test_has_level_handler_own_handler():
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(logging.NullHandler())
    assert has_level_handler(logger)


def test_create_logger():
    logger = create_logger(FakeApp())
    assert logger.name == LOGGER_NAME
    assert logger.level == logging.NOTSET
    assert logger.handlers == [default_handler]


def test_create_logger_debug_sets_level():
    logger = create_logger(FakeApp(debug=True))
    assert logger.level == logging.DEBUG
    assert logger.handlers == [default_handler]


def test_create_logger_debug_keeps_explicit_level():
    logging.getLogger(LOGGER_NAME).setLevel(logging.WARNING)
    assert create_logger(FakeApp(debug=True)).level == logging.WARNING


def test_create_logger_respects_existing_handler():
    logging.root.addHandler(logging.StreamHandler())
    logger = create_logger(FakeApp())
    assert logger.level == logging.NOTSET
    assert not logger.handlers


def test_create_logger_does_not_add_twice():
    app = FakeApp()
    create_logger(app)
    logger = create_logger(app)
    assert logger.handlers == [default_handler]


# explain_template_loading_attempts


class _Loader:
    def __init__(self, searchpath):
        self.searchpath = searchpath
        self.encoding = "utf-8"
        self.followlinks = False
        self._private = "hidden"
        self.mixed = ["a", 1]
        self.obj = object()


def _explain(app, attempts, request_blueprint=None):
    from erlen.debughelpers import explain_template_loading_attempts

    records = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.INFO)
    logger.addHandler(Capture())
    app.logger = logger
    token = None

    if request_blueprint is not None:
        request = SimpleNamespace(environ={}, blueprint=request_blueprint)
        token = _cv_request.set(SimpleNamespace(request=request))

    try:
        explain_template_loading_attempts(app, "page.html", attempts)
    finally:
        if token is not None:
            _cv_request.reset(token)

    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    return records[0].getMessage()


def _app_and_blueprint():
    sansio_app = pytest.importorskip("erlen.sansio.app")
    sansio_bp = pytest.importorskip("erlen.sansio.blueprints")

    app = sansio_app.App.__new__(sansio_app.App)
    app.import_name = "myapp"
    bp = sansio_bp.Blueprint.__new__(sansio_bp.Blueprint)
    bp.name = "admin"
    bp.import_name = "myapp.admin"
    return app, bp


def test_explain_not_found_in_blueprint():
    app, bp = _app_and_blueprint()

    text = _explain(
        app,
        [(_Loader(["/t"]), app, None), (_Loader(["/bt"]), bp, None)],
        request_blueprint="admin",
    )
    assert text.startswith("Locating template 'page.html':")
    assert "    1: trying loader of application 'myapp'" in text
    assert "    2: trying loader of blueprint 'admin' (myapp.admin)" in text
    assert "       class: test_logging_unit._Loader" in text
    assert "       searchpath:\n         - /t" in text
    assert "       encoding: 'utf-8'" in text
    assert "followlinks: False" in text
    assert "_private" not in text and "mixed" not in text and "obj:" not in text
    assert text.count("-> no match") == 2
    assert "Error: the template could not be found." in text
    assert "belongs to the blueprint 'admin'" in text
    assert "See https://flask.palletsprojects.com/blueprints/#templates" in text


def test_explain_found_once_and_twice():
    class Other:
        def __repr__(self):
            return "<other source>"

    app = FakeApp()
    src = Other()
    once = _explain(app, [(_Loader([]), src, ("page.html", "/t/page.html", None))])
    assert "trying loader of <other source>" in once
    assert "-> found ('/t/page.html')" in once
    assert "Error" not in once and "Warning" not in once

    twice = _explain(
        app,
        [
            (_Loader([]), src, ("page.html", None, None)),
            (_Loader([]), src, ("page.html", "/b/page.html", None)),
        ],
        request_blueprint="bp",
    )
    assert "-> found ('<string>')" in twice
    assert "Warning: multiple loaders returned a match for the template." in twice
    assert "belongs to the blueprint 'bp'" in twice


# With a real erlen app


@pytest.fixture
def real_app():
    erlen = pytest.importorskip("erlen")
    app = erlen.Flask(LOGGER_NAME)
    app.testing = True
    return app


def test_app_logger_is_created_by_create_logger(real_app):
    assert real_app.logger.name == LOGGER_NAME
    assert real_app.logger.handlers == [default_handler]


def test_app_logger_debug_level(real_app):
    real_app.debug = True
    assert real_app.logger.level == logging.DEBUG


def test_app_logs_to_wsgi_errors(real_app):
    @real_app.route("/")
    def index():
        real_app.logger.error("from the view")
        return ""

    stream = StringIO()
    real_app.test_client().get("/", errors_stream=stream)
    assert "ERROR in test_logging_unit: from the view" in stream.getvalue()

    with real_app.test_request_context(errors_stream=stream):
        assert wsgi_errors_stream._get_current_object() is stream
    assert wsgi_errors_stream._get_current_object() is sys.stderr


def test_app_logs_unhandled_exception(real_app):
    @real_app.route("/")
    def index():
        raise Exception("test")

    real_app.testing = False
    stream = StringIO()
    rv = real_app.test_client().get("/", errors_stream=stream)
    assert rv.status_code == 500
    assert "Exception on / [GET]" in stream.getvalue()
    assert "Exception: test" in stream.getvalue()
