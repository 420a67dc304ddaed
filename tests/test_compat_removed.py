"""The details of the APIs Flask 2.0 to 3.0 removed and erlen keeps: how
each behaves at its edges, and that each warns once per name."""

import json
import warnings

import pytest
from werkzeug.test import EnvironBuilder

import erlen
from erlen import Blueprint
from erlen import compat
from erlen import Flask


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(compat, "_warned", set())


def deprecations(record):
    return [
        str(w.message) for w in record if issubclass(w.category, DeprecationWarning)
    ]


class SetEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, set):
            return sorted(o)
        return super().default(o)


def test_each_name_warns_once_and_names_the_modern_spelling():
    app = Flask(__name__)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(3):
            app.session_cookie_name  # noqa: B018
            app.use_x_sendfile = False
            app.env  # noqa: B018
    messages = deprecations(record)
    assert len(messages) == 3
    assert "app.config['SESSION_COOKIE_NAME']" in messages[0]
    assert "app.config['USE_X_SENDFILE']" in messages[1]
    assert "'app.debug'" in messages[2] and "Flask 2.3" in messages[2]


def test_warning_points_at_the_callers_line():
    app = Flask(__name__)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        app.propagate_exceptions  # noqa: B018
    assert record[0].filename == __file__


def test_legacy_config_keys_are_in_the_config_with_flask_2_2_defaults(monkeypatch):
    monkeypatch.delenv("FLASK_ENV", raising=False)
    config = Flask(__name__).config
    assert config["ENV"] == "production"
    for key in (
        "JSON_AS_ASCII",
        "JSON_SORT_KEYS",
        "JSONIFY_MIMETYPE",
        "JSONIFY_PRETTYPRINT_REGULAR",
    ):
        assert key in config and config[key] is None
    # Flask 3.1's own default_config stays as it is.
    assert "ENV" not in Flask.default_config


def test_flask_debug_wins_over_flask_env(monkeypatch):
    monkeypatch.delenv("ERLEN_DEBUG", raising=False)
    monkeypatch.setenv("FLASK_ENV", "development")
    monkeypatch.setenv("FLASK_DEBUG", "0")
    with pytest.warns(DeprecationWarning, match="FLASK_ENV"):
        assert Flask(__name__).debug is False
    monkeypatch.delenv("FLASK_DEBUG")
    monkeypatch.setenv("FLASK_ENV", "production")
    assert Flask(__name__).debug is False


def test_unset_json_keys_leave_the_provider_in_charge():
    app = Flask(__name__)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with app.app_context():
            assert erlen.json.dumps({"b": "é", "a": 1}) == '{"b": "é", "a": 1}'
    app.config["JSON_SORT_KEYS"] = True
    with pytest.warns(DeprecationWarning, match="app.json.sort_keys"):
        assert app.json.dumps({"b": 1, "a": 1}) == '{"a": 1, "b": 1}'


def test_jsonify_pretty_false_is_compact_even_in_debug():
    app = Flask(__name__)
    app.debug = True
    app.config["JSONIFY_PRETTYPRINT_REGULAR"] = False
    with app.app_context(), pytest.warns(DeprecationWarning):
        assert erlen.jsonify(a=1).get_data(as_text=True) == '{"a":1}\n'


def test_json_sort_keys_reaches_view_responses():
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    app.get("/")(lambda: {"b": 1, "a": 2})
    with pytest.warns(DeprecationWarning, match="JSON_SORT_KEYS"):
        assert app.test_client().get("/").data == b'{"b":1,"a":2}\n'


def test_blueprint_encoder_only_for_that_blueprints_requests():
    app = Flask(__name__)
    bp = Blueprint("sets", __name__)
    with pytest.warns(DeprecationWarning, match="bp.json_encoder"):
        bp.json_encoder = SetEncoder
    bp.get("/s")(lambda: erlen.jsonify(v={2, 1}))
    app.register_blueprint(bp, url_prefix="/bp")
    app.get("/s")(lambda: erlen.jsonify(v={2, 1}))
    app.testing = True
    client = app.test_client()
    assert client.get("/bp/s").get_json() == {"v": [1, 2]}
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        client.get("/s")


def test_before_app_first_request_after_registration_is_an_error():
    app = Flask(__name__)
    bp = Blueprint("late", __name__)
    app.register_blueprint(bp)
    with pytest.raises(AssertionError, match="before_app_first_request"):
        bp.before_app_first_request(lambda: None)


def test_got_first_request_is_read_only():
    app = Flask(__name__)
    with pytest.raises(AttributeError):
        app.got_first_request = True
    with pytest.raises(AttributeError):
        app.propagate_exceptions = True


def test_locked_cached_property_set_and_class_access():
    from erlen.helpers import locked_cached_property

    with pytest.warns(DeprecationWarning, match="functools.cached_property"):

        class Ext:
            @locked_cached_property
            def value(self):
                """The value."""
                return "computed"

    ext = Ext()
    ext.value = "set"
    assert ext.value == "set"
    assert isinstance(Ext.value, locked_cached_property)
    assert Ext.value.__doc__ == "The value."


def test_locked_cached_property_is_importable_from_the_flask_helpers_path():
    # Flask-Babel 2 does ``from flask.helpers import locked_cached_property``.
    import erlen.helpers

    assert erlen.helpers.locked_cached_property is compat.locked_cached_property


def test_send_from_directory_old_send_file_names(tmp_path):
    (tmp_path / "f.txt").write_text("hi")
    app = Flask(__name__)
    with app.test_request_context(), warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        rv = erlen.send_from_directory(str(tmp_path), "f.txt", cache_timeout=7)
    assert rv.cache_control.max_age == 7
    assert any("'max_age'" in m for m in deprecations(record))
    rv.close()
    with app.test_request_context(), pytest.raises(TypeError, match="'path'"):
        erlen.send_from_directory(str(tmp_path))


def test_signals_available_warns_once():
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert erlen.signals_available is True
        assert erlen.signals_available is True
    assert len(deprecations(record)) == 1


def test_response_subclass_charset_class_attribute_warns():
    with pytest.warns(DeprecationWarning, match="Response.charset"):

        class Latin(erlen.Response):
            charset = "utf-8"

    with pytest.warns(DeprecationWarning, match="Request.url_charset"):

        class OldRequest(erlen.Request):
            url_charset = "utf-8"

    request = OldRequest(EnvironBuilder(query_string="q=%C3%A9").get_environ())
    assert request.args["q"] == "é"


def test_setting_charset_on_an_instance_is_kept_per_instance():
    first = erlen.Response("x")
    second = erlen.Response("x")
    with pytest.warns(DeprecationWarning):
        first.charset = "utf-8"
    first.charset = "latin-1"
    assert first.charset == "latin-1"
    assert second.charset == "utf-8"


def test_str_cookies_do_not_warn():
    rv = erlen.Response()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rv.set_cookie("k", "v", max_age=10, httponly=True)
        rv.delete_cookie("k", path="/x")
    cookies = rv.headers.getlist("Set-Cookie")
    assert "Max-Age=10" in cookies[0] and "HttpOnly" in cookies[0]
    assert "Path=/x" in cookies[1]


def test_bytes_cookie_value_that_is_not_utf8_fails_as_in_werkzeug_2_3():
    rv = erlen.Response()
    with pytest.warns(DeprecationWarning), pytest.raises(UnicodeDecodeError):
        rv.set_cookie("k", b"\xff")


def test_json_load_with_encoding_leaves_the_file_open():
    import gc
    import io

    fp = io.BytesIO('{"a": "é"}'.encode("latin-1"))
    with pytest.warns(DeprecationWarning, match="encoding"):
        assert erlen.json.load(fp, encoding="latin-1") == {"a": "é"}
    gc.collect()
    assert not fp.closed
    out = io.BytesIO()
    with pytest.warns(DeprecationWarning, match="json.dump"):
        erlen.json.dump([1], out, encoding="utf-8")
    gc.collect()
    assert not out.closed and out.getvalue() == b"[1]"


def test_blueprint_json_classes_are_read_without_warnings_per_request():
    app = Flask(__name__)
    bp = Blueprint("sets", __name__)
    with pytest.warns(DeprecationWarning):
        bp.json_encoder = SetEncoder
    bp.get("/s")(lambda: erlen.jsonify(v={2, 1}))
    app.register_blueprint(bp)
    client = app.test_client()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert client.get("/s").get_json() == {"v": [1, 2]}
        assert client.get("/s").get_json() == {"v": [1, 2]}


def test_blueprint_subclass_may_set_encoder_on_the_class():
    with pytest.warns(DeprecationWarning, match="bp.json_encoder"):

        class SetBlueprint(Blueprint):
            json_encoder = SetEncoder

    app = Flask(__name__)
    bp = SetBlueprint("sets", __name__)
    bp.get("/s")(lambda: erlen.jsonify(v={2, 1}))
    app.register_blueprint(bp)
    assert app.test_client().get("/s").get_json() == {"v": [1, 2]}
