"""Request and Response, with a small stand-in app context."""

from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.exceptions import UnsupportedMediaType
from werkzeug.routing import Rule
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response as WerkzeugResponse

from erlen import json
from erlen.config import Config
from erlen.debughelpers import DebugFilesKeyError
from erlen.globals import _cv_app
from erlen.json.provider import DefaultJSONProvider
from erlen.wrappers import Request
from erlen.wrappers import Response


class FakeApp:
    def __init__(self, debug=False, **config):
        self.config = Config(
            "/",
            {
                "DEBUG": debug,
                "MAX_CONTENT_LENGTH": None,
                "MAX_FORM_MEMORY_SIZE": 500_000,
                "MAX_FORM_PARTS": 1_000,
                "MAX_COOKIE_SIZE": 4093,
                **config,
            },
        )
        self.json = DefaultJSONProvider(self)

    @property
    def debug(self):
        return self.config["DEBUG"]


@contextmanager
def app_context(app):
    token = _cv_app.set(SimpleNamespace(app=app))
    try:
        yield app
    finally:
        _cv_app.reset(token)


def make_request(**kwargs):
    return Request(EnvironBuilder(**kwargs).get_environ())


# Limits


def test_limits_outside_app_use_werkzeug_defaults():
    r = Request({})
    assert r.max_content_length is None
    assert r.max_form_memory_size == 500_000
    assert r.max_form_parts == 1_000


def test_limits_follow_app_config():
    app = FakeApp(MAX_CONTENT_LENGTH=100, MAX_FORM_MEMORY_SIZE=50, MAX_FORM_PARTS=3)
    r = Request({})
    with app_context(app):
        assert r.max_content_length == 100
        assert r.max_form_memory_size == 50
        assert r.max_form_parts == 3
        app.config["MAX_CONTENT_LENGTH"] = 7
        assert r.max_content_length == 7


def test_limit_overrides_win_everywhere():
    app = FakeApp(MAX_CONTENT_LENGTH=100, MAX_FORM_MEMORY_SIZE=50, MAX_FORM_PARTS=3)
    r = Request({})
    r.max_content_length = 90
    r.max_form_memory_size = 30
    r.max_form_parts = 4
    assert (r.max_content_length, r.max_form_memory_size, r.max_form_parts) == (
        90,
        30,
        4,
    )
    with app_context(app):
        assert (r.max_content_length, r.max_form_memory_size, r.max_form_parts) == (
            90,
            30,
            4,
        )
    # Setting None goes back to the config.
    r.max_content_length = None
    with app_context(app):
        assert r.max_content_length == 100


def test_limits_are_per_instance():
    a = Request({})
    a.max_form_parts = 2
    assert Request({}).max_form_parts == 1_000


def test_max_content_length_enforced_when_reading_form():
    app = FakeApp(MAX_CONTENT_LENGTH=50)
    r = make_request(method="POST", data={"field": "x" * 200})
    with app_context(app):
        with pytest.raises(RequestEntityTooLarge):
            r.form["field"]


def test_max_form_parts_enforced():
    app = FakeApp(MAX_FORM_PARTS=2)
    data = {f"f{i}": "v" for i in range(5)}
    r = make_request(method="POST", data=data, content_type="multipart/form-data")
    with app_context(app):
        with pytest.raises(RequestEntityTooLarge):
            _ = r.form


# Routing information


def test_routing_defaults():
    r = Request({})
    assert r.url_rule is None
    assert r.view_args is None
    assert r.routing_exception is None
    assert r.endpoint is None
    assert r.blueprint is None
    assert r.blueprints == []


@pytest.mark.parametrize(
    "endpoint, blueprint, blueprints",
    [
        ("index", None, []),
        ("bp.index", "bp", ["bp"]),
        ("a.b.index", "a.b", ["a.b", "a"]),
        ("a.b.c.view", "a.b.c", ["a.b.c", "a.b", "a"]),
    ],
)
def test_endpoint_and_blueprints(endpoint, blueprint, blueprints):
    r = Request({})
    r.url_rule = Rule("/x", endpoint=endpoint)
    assert r.endpoint == endpoint
    assert r.blueprint == blueprint
    assert r.blueprints == blueprints


def test_blueprints_returns_a_fresh_list():
    r = Request({})
    r.url_rule = Rule("/x", endpoint="a.b.index")
    r.blueprints.append("junk")
    assert r.blueprints == ["a.b", "a"]


# JSON


def test_json_module_is_erlen_json():
    assert Request.json_module is json
    assert Response.json_module is json


def test_get_json():
    r = make_request(method="POST", data='{"a": [1]}', content_type="application/json")
    assert r.get_json() == {"a": [1]}
    assert r.json == {"a": [1]}


def test_custom_json_mimetype():
    r = make_request(method="POST", data='"foo"', content_type="application/x+json")
    assert r.get_json() == "foo"


@pytest.mark.parametrize("debug", [True, False])
def test_bad_json(debug):
    r = make_request(method="POST", data="malformed", content_type="application/json")
    with app_context(FakeApp(debug=debug)):
        with pytest.raises(BadRequest) as e:
            r.get_json()
    assert e.value.code == 400
    assert ("Failed to decode JSON object" in e.value.get_description()) is debug


def test_wrong_content_type_is_415():
    r = make_request(method="POST", data="{}", content_type="text/plain")
    with pytest.raises(UnsupportedMediaType) as e:
        r.get_json()
    assert e.value.code == 415
    assert r.get_json(silent=True) is None


def test_bad_json_without_app_is_plain_400():
    r = make_request(method="POST", data="{", content_type="application/json")
    with pytest.raises(BadRequest) as e:
        r.get_json()
    assert "Failed to decode" not in e.value.get_description()


# Form data and the debug helper


def test_files_key_error_explained_in_debug():
    r = make_request(method="POST", data={"foo": "index.txt"})
    with app_context(FakeApp(debug=True)):
        with pytest.raises(DebugFilesKeyError) as e:
            r.files["foo"]
    msg = str(e.value)
    assert "no file contents were transmitted" in msg
    assert "This was submitted: 'index.txt'" in msg
    assert 'enctype="multipart/form-data"' in msg
    assert isinstance(e.value, KeyError)
    # Keys that were not sent at all stay plain KeyErrors.
    with pytest.raises(KeyError) as e2:
        r.files["other"]
    assert not isinstance(e2.value, DebugFilesKeyError)
    assert type(r.files).__name__ == "ImmutableMultiDict"


def test_files_key_error_plain_outside_debug():
    r = make_request(method="POST", data={"foo": "index.txt"})
    with app_context(FakeApp(debug=False)):
        with pytest.raises(KeyError) as e:
            r.files["foo"]
    assert not isinstance(e.value, DebugFilesKeyError)


def test_multipart_is_not_patched():
    r = make_request(
        method="POST", data={"foo": "bar"}, content_type="multipart/form-data"
    )
    with app_context(FakeApp(debug=True)):
        with pytest.raises(KeyError) as e:
            r.files["foo"]
    assert not isinstance(e.value, DebugFilesKeyError)


# Response


def test_response_defaults():
    rv = Response("hi")
    assert isinstance(rv, WerkzeugResponse)
    assert rv.mimetype == "text/html"
    assert rv.autocorrect_location_header is False


def test_response_json_property():
    rv = Response('{"a": 1}', mimetype="application/json")
    assert rv.json == {"a": 1}


def test_location_header_not_made_absolute():
    rv = Response(status=302, headers={"Location": "/relative"})
    env = EnvironBuilder().get_environ()
    headers = rv.get_wsgi_headers(env)
    assert headers["Location"] == "/relative"


def test_max_cookie_size():
    assert Response().max_cookie_size == WerkzeugResponse.max_cookie_size
    app = FakeApp(MAX_COOKIE_SIZE=100)
    with app_context(app):
        rv = Response()
        assert rv.max_cookie_size == 100
        with pytest.warns(UserWarning, match="cookie is too large"):
            rv.set_cookie("big", "x" * 200)
        app.config["MAX_COOKIE_SIZE"] = 0
        assert rv.max_cookie_size == 0


def test_request_is_werkzeug_request():
    assert issubclass(Request, WerkzeugRequest)


# The routing redirect debug error


def test_form_data_routing_redirect_trailing_slash():
    from werkzeug.routing import RequestRedirect

    from erlen.debughelpers import FormDataRoutingRedirect

    r = make_request(method="POST", path="/user", data={"a": "b"})
    r.routing_exception = RequestRedirect("http://localhost/user/")
    err = FormDataRoutingRedirect(r)
    msg = str(err)
    assert isinstance(err, AssertionError)
    assert "A request was sent to 'http://localhost/user'" in msg
    assert "canonical URL 'http://localhost/user/'" in msg
    assert "defined with a trailing slash" in msg
    assert "307 or 308" in msg
    assert "only raised in debug mode" in msg


def test_form_data_routing_redirect_other_url():
    from werkzeug.routing import RequestRedirect

    from erlen.debughelpers import FormDataRoutingRedirect

    r = make_request(method="POST", path="/old")
    r.routing_exception = RequestRedirect("http://localhost/new?x=1")
    msg = str(FormDataRoutingRedirect(r))
    assert "canonical URL 'http://localhost/new?x=1'" in msg
    assert "trailing slash" not in msg


def test_unexpected_unicode_error_types():
    from erlen.debughelpers import UnexpectedUnicodeError

    assert issubclass(UnexpectedUnicodeError, AssertionError)
    assert issubclass(UnexpectedUnicodeError, UnicodeError)


# With a real erlen app


@pytest.fixture
def real_app():
    erlen = pytest.importorskip("erlen")
    app = erlen.Flask(__name__)
    app.testing = True
    return app


def test_app_uses_these_classes(real_app):
    assert real_app.request_class is Request
    assert real_app.response_class is Response


def test_app_max_content_length(real_app):
    from erlen import request

    real_app.config["MAX_CONTENT_LENGTH"] = 50

    @real_app.post("/")
    def index():
        request.form["myfile"]
        return "read"

    @real_app.errorhandler(413)
    def too_large(error):
        return "413 handled"

    client = real_app.test_client()
    assert client.post("/", data={"myfile": "foo" * 50}).text == "413 handled"
    assert client.post("/", data={"myfile": "foo"}).text == "read"


def test_app_nested_blueprint_request_attributes(real_app):
    from erlen import Blueprint
    from erlen import request

    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)

    @child.route("/view")
    def view():
        return {
            "endpoint": request.endpoint,
            "blueprint": request.blueprint,
            "blueprints": request.blueprints,
            "view_args": request.view_args,
        }

    parent.register_blueprint(child, url_prefix="/child")
    real_app.register_blueprint(parent, url_prefix="/parent")
    rv = real_app.test_client().get("/parent/child/view")
    assert rv.json == {
        "endpoint": "parent.child.view",
        "blueprint": "parent.child",
        "blueprints": ["parent.child", "parent"],
        "view_args": {},
    }


def test_app_enctype_debug_helper(real_app):
    from erlen import request

    real_app.debug = True

    @real_app.post("/fail")
    def fail():
        return request.files["foo"].filename

    with pytest.raises(DebugFilesKeyError) as e:
        real_app.test_client().post("/fail", data={"foo": "index.txt"})
    assert "This was submitted: 'index.txt'" in str(e.value)


@pytest.mark.parametrize("debug", [True, False])
def test_app_bad_json_response(real_app, debug):
    from erlen import request

    real_app.config["DEBUG"] = debug
    real_app.config["TRAP_BAD_REQUEST_ERRORS"] = False

    @real_app.post("/json")
    def post_json():
        request.get_json()
        return ""

    rv = real_app.test_client().post("/json", data="{", content_type="application/json")
    assert rv.status_code == 400
    assert (b"Failed to decode JSON object" in rv.data) is debug
