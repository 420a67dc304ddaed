"""erlen.json and the JSON providers, with a small stand-in app."""

import dataclasses
import datetime
import decimal
import io
import uuid
from contextlib import contextmanager

import pytest
from werkzeug.exceptions import BadRequest
from werkzeug.http import http_date
from werkzeug.test import EnvironBuilder

from erlen import json
from erlen.config import Config
from erlen.globals import _cv_app
from erlen.json.provider import DefaultJSONProvider
from erlen.json.provider import JSONProvider
from erlen.wrappers import Request
from erlen.wrappers import Response


class FakeApp:
    response_class = Response

    def __init__(self, debug=False):
        self.config = Config(
            "/",
            {
                "DEBUG": debug,
                "MAX_CONTENT_LENGTH": None,
                "MAX_FORM_MEMORY_SIZE": 500_000,
                "MAX_FORM_PARTS": 1_000,
            },
        )
        self.json = DefaultJSONProvider(self)

    @property
    def debug(self):
        return self.config["DEBUG"]


class FakeAppContext:
    def __init__(self, app):
        self.app = app


@contextmanager
def app_context(app):
    token = _cv_app.set(FakeAppContext(app))
    try:
        yield app
    finally:
        _cv_app.reset(token)


@pytest.fixture
def app():
    return FakeApp()


@pytest.fixture
def app_ctx(app):
    with app_context(app):
        yield app


# Outside an app context the module falls back to the standard library.


def test_dumps_without_app_uses_default_hook():
    assert json.dumps(decimal.Decimal("0.003")) == '"0.003"'
    assert json.dumps({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'


def test_loads_and_load_without_app():
    assert json.loads('{"a": [1]}') == {"a": [1]}
    assert json.loads(b'{"a": 1}') == {"a": 1}
    assert json.load(io.StringIO("[1, 2]")) == [1, 2]


def test_dump_without_app():
    out = io.StringIO()
    json.dump({"u": uuid.UUID(int=1)}, out)
    assert out.getvalue() == '{"u": "00000000-0000-0000-0000-000000000001"}'


def test_jsonify_without_app_raises():
    with pytest.raises(RuntimeError, match="application context"):
        json.jsonify(a=1)


# Inside an app context the app's provider is used.


def test_dumps_with_app_sorts_and_escapes(app_ctx):
    assert json.dumps({"b": 1, "a": "\N{SNOWMAN}"}) == '{"a": "\\u2603", "b": 1}'


@pytest.mark.parametrize(
    "ensure_ascii, expected", [(True, '"\\u2603"'), (False, '"\u2603"')]
)
def test_ensure_ascii(app_ctx, ensure_ascii, expected):
    app_ctx.json.ensure_ascii = ensure_ascii
    assert json.dumps("\N{SNOWMAN}") == expected


def test_sort_keys_off(app_ctx):
    app_ctx.json.sort_keys = False
    assert json.dumps({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'


def test_kwargs_override_provider_settings(app_ctx):
    assert json.dumps({"b": 1, "a": 2}, sort_keys=False) == '{"b": 1, "a": 2}'


def test_dump_load_file_with_app(app_ctx):
    out = io.StringIO()
    json.dump({"name": "erlen"}, out)
    out.seek(0)
    assert json.load(out) == {"name": "erlen"}


def test_module_follows_a_replaced_provider(app):
    class Shouting(DefaultJSONProvider):
        def dumps(self, obj, **kwargs):
            return super().dumps(obj, **kwargs).upper()

    app.json = Shouting(app)
    with app_context(app):
        assert json.dumps("abc") == '"ABC"'


# The default hook.


@pytest.mark.parametrize(
    "value", [datetime.datetime(1973, 3, 11, 6, 30, 45), datetime.date(1975, 1, 5)]
)
def test_dates_are_http_dates(value):
    assert json.loads(json.dumps(value)) == http_date(value)


@pytest.mark.parametrize("hours", [0, -8, 9])
def test_aware_datetimes_are_converted_to_gmt(hours):
    tz = datetime.timezone(datetime.timedelta(hours=hours))
    value = datetime.datetime(2017, 1, 1, 12, 34, 56, tzinfo=tz)
    gmt = value.astimezone(datetime.timezone.utc)
    assert json.dumps(value) == gmt.strftime('"%a, %d %b %Y %H:%M:%S GMT"')


def test_uuid_and_decimal():
    u = uuid.UUID(bytes=b"\xde\xad\xbe\xef" * 4)
    assert json.loads(json.dumps({"u": u, "d": decimal.Decimal("1.10")})) == {
        "u": str(u),
        "d": "1.10",
    }


def test_dataclass():
    @dataclasses.dataclass
    class Point:
        x: int
        y: list

    assert json.loads(json.dumps(Point(1, [2]))) == {"x": 1, "y": [2]}

    with pytest.raises(TypeError):
        json.dumps(Point)


def test_html_method():
    class WithHtml:
        def __html__(self):
            return "<p>test</p>"

    assert json.dumps(WithHtml()) == '"<p>test</p>"'


def test_unknown_type_error_names_the_type():
    class Thing:
        pass

    with pytest.raises(TypeError, match="Thing is not JSON serializable"):
        json.dumps(Thing())


def test_default_can_be_replaced_on_instance(app_ctx):
    class X:
        pass

    def default(o):
        if isinstance(o, X):
            return "<x>"
        return DefaultJSONProvider.default(o)

    app_ctx.json.default = default
    assert json.dumps([X(), datetime.date(2000, 1, 1)]) == (
        '["<x>", "Sat, 01 Jan 2000 00:00:00 GMT"]'
    )


def test_custom_loads_object_hook(app):
    class Provider(DefaultJSONProvider):
        def loads(self, s, **kwargs):
            kwargs.setdefault("object_hook", lambda d: ("hooked", d))
            return super().loads(s, **kwargs)

    app.json = Provider(app)
    with app_context(app):
        assert json.loads('{"a": 1}') == ("hooked", {"a": 1})


# Responses.


def test_response_single_arg(app_ctx):
    rv = json.jsonify({"a": 1})
    assert isinstance(rv, Response)
    assert rv.mimetype == "application/json"
    assert rv.get_data(as_text=True) == '{"a":1}\n'


@pytest.mark.parametrize("value", [0, -1, 23, 3.14, "s", True, False, None])
def test_response_basic_types(app_ctx, value):
    assert json.loads(json.jsonify(value).get_data()) == value


def test_response_args_become_list(app_ctx):
    rv = json.jsonify(1, "two", [3])
    assert rv.get_data(as_text=True) == '[1,"two",[3]]\n'


def test_response_kwargs_become_object(app_ctx):
    rv = json.jsonify(b=1, a=2)
    assert rv.get_data(as_text=True) == '{"a":2,"b":1}\n'


def test_response_no_args_is_null(app_ctx):
    assert json.jsonify().get_data(as_text=True) == "null\n"


def test_response_args_and_kwargs_is_type_error(app_ctx):
    with pytest.raises(TypeError):
        json.jsonify(1, a=2)


def test_response_indented_in_debug():
    app = FakeApp(debug=True)
    with app_context(app):
        body = json.jsonify(a=1, b=[2]).get_data(as_text=True)

    assert body == '{\n  "a": 1,\n  "b": [\n    2\n  ]\n}\n'


@pytest.mark.parametrize(
    "debug, compact, indented",
    [
        (False, None, False),
        (True, None, True),
        (True, True, False),
        (False, False, True),
    ],
)
def test_response_compact_setting(debug, compact, indented):
    app = FakeApp(debug=debug)
    app.json.compact = compact
    body = app.json.response({"a": 1}).get_data(as_text=True)
    assert ("\n  " in body) is indented


def test_response_uses_app_response_class_and_mimetype(app):
    class MyResponse(Response):
        pass

    app.response_class = MyResponse
    app.json.mimetype = "application/vnd.api+json"
    rv = app.json.response([1])
    assert type(rv) is MyResponse
    assert rv.mimetype == "application/vnd.api+json"


def test_debug_key_sorting_of_int_keys():
    app = FakeApp(debug=True)
    body = app.json.response(values=dict.fromkeys(range(3), "x")).get_data(as_text=True)
    assert body.splitlines()[2:5] == ['    "0": "x",', '    "1": "x",', '    "2": "x"']


def test_provider_keeps_weak_reference():
    import gc
    import weakref

    app = FakeApp()
    provider = app.json
    ref = weakref.ref(app)
    del app
    gc.collect()
    assert ref() is None
    with pytest.raises(ReferenceError):
        provider.response(1)


# The base class.


def test_base_provider_requires_dumps_and_loads(app):
    p = JSONProvider(app)
    with pytest.raises(NotImplementedError):
        p.dumps(1)
    with pytest.raises(NotImplementedError):
        p.loads("1")


def test_base_provider_builds_on_dumps_and_loads(app):
    class Minimal(JSONProvider):
        def dumps(self, obj, **kwargs):
            return f"<{obj!r}>"

        def loads(self, s, **kwargs):
            return ("loaded", s)

    p = Minimal(app)
    out = io.StringIO()
    p.dump(5, out)
    assert out.getvalue() == "<5>"
    assert p.load(io.StringIO("abc")) == ("loaded", "abc")
    rv = p.response(1, 2)
    assert rv.get_data(as_text=True) == "<[1, 2]>"
    assert rv.mimetype == "application/json"


# Request JSON goes through the app's provider.


def test_request_get_json_uses_provider(app):
    class Provider(DefaultJSONProvider):
        def loads(self, s, **kwargs):
            return {"via": "provider", "raw": super().loads(s, **kwargs)}

    app.json = Provider(app)
    env = EnvironBuilder(
        method="POST", data='{"a": 1}', content_type="application/json"
    )
    with app_context(app):
        req = Request(env.get_environ())
        assert req.get_json() == {"via": "provider", "raw": {"a": 1}}


@pytest.mark.parametrize("debug", [True, False])
def test_request_bad_json_message_only_in_debug(debug):
    app = FakeApp(debug=debug)
    env = EnvironBuilder(method="POST", data="{bad", content_type="application/json")
    with app_context(app):
        req = Request(env.get_environ())
        with pytest.raises(BadRequest) as e:
            req.get_json()

    assert e.value.code == 400
    assert ("Failed to decode JSON object" in str(e.value.description)) is debug


# With a real erlen app


@pytest.fixture
def real_app():
    erlen = pytest.importorskip("erlen")
    app = erlen.Flask(__name__)
    app.testing = True
    return app


def test_app_has_default_provider(real_app):
    assert isinstance(real_app.json, DefaultJSONProvider)


def test_app_jsonify_views(real_app):
    @real_app.route("/kw")
    def kw():
        return json.jsonify(b=[1, (2, 3)], a=datetime.date(2000, 1, 1))

    @real_app.route("/dict")
    def as_dict():
        return {"u": uuid.UUID(int=0)}

    client = real_app.test_client()
    rv = client.get("/kw")
    assert rv.mimetype == "application/json"
    assert rv.data == b'{"a":"Sat, 01 Jan 2000 00:00:00 GMT","b":[1,[2,3]]}\n'
    assert client.get("/dict").json == {"u": "00000000-0000-0000-0000-000000000000"}


def test_app_debug_indents(real_app):
    real_app.debug = True

    @real_app.route("/")
    def index():
        return json.jsonify(a=1)

    assert real_app.test_client().get("/").data == b'{\n  "a": 1\n}\n'


def test_app_context_switches_provider(real_app):
    real_app.json.sort_keys = False
    with real_app.app_context():
        assert json.dumps({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'
    assert json.dumps({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'
    real_app.json.sort_keys = True
    with real_app.app_context():
        assert json.dumps({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
