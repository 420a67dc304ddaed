"""The Flask object: construction, configuration, responses, static files,
resources, the dev server entry point and async views."""

import os
from datetime import timedelta

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as WerkzeugResponse

import erlen
from erlen import Flask

HERE = os.path.dirname(__file__)


def test_default_config_has_flask_keys(app):
    config = Flask("x").config
    assert config["TESTING"] is False
    assert config["PROPAGATE_EXCEPTIONS"] is None
    assert config["SECRET_KEY"] is None
    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)
    assert config["APPLICATION_ROOT"] == "/"
    assert config["SESSION_COOKIE_NAME"] == "session"
    assert config["MAX_FORM_MEMORY_SIZE"] == 500_000
    assert config["MAX_FORM_PARTS"] == 1_000
    assert config["PREFERRED_URL_SCHEME"] == "http"
    assert config["MAX_COOKIE_SIZE"] == 4093
    assert config["PROVIDE_AUTOMATIC_OPTIONS"] is True
    assert config["TRUSTED_HOSTS"] is None
    assert "SECRET_KEY_FALLBACKS" in config
    assert set(Flask.default_config) <= set(config)


def test_config_attributes(app):
    app.testing = False
    assert app.config["TESTING"] is False
    app.secret_key = "abc"
    assert app.config["SECRET_KEY"] == "abc"
    app.permanent_session_lifetime = 60
    assert app.permanent_session_lifetime == timedelta(seconds=60)
    app.debug = True
    assert app.config["DEBUG"] is True
    assert app.jinja_env.auto_reload is True


def test_debug_from_environment(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert Flask("x").debug is True
    monkeypatch.setenv("FLASK_DEBUG", "0")
    assert Flask("x").debug is False


def test_name_and_import_name():
    app = Flask("some.module")
    assert app.name == "some.module"
    assert app.import_name == "some.module"
    assert repr(app) == "<Flask 'some.module'>"


def test_name_of_a_main_module_without_a_file(monkeypatch):
    import sys
    import types

    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    app = Flask("__main__", root_path=HERE, instance_path=HERE)
    assert app.name == "__main__"


@pytest.mark.parametrize(
    ("located", "prefix"),
    [
        ("/opt/py/lib/site-packages", "/opt/py"),
        ("/opt/py/lib/python3.11/site-packages", "/opt/py"),
        ("/opt/py/site-packages", "/opt/py"),
        ("/opt/py/src", None),
    ],
)
def test_find_package_outside_the_interpreter_prefix(monkeypatch, located, prefix):
    from erlen.sansio import scaffold

    monkeypatch.setattr(scaffold, "_locate_import_dir", lambda name: located)
    monkeypatch.setattr(scaffold.sys, "prefix", "/elsewhere")
    assert scaffold.find_package("pkg") == (prefix, located)


def test_instance_path_must_be_absolute():
    with pytest.raises(ValueError, match="must be absolute"):
        Flask("x", instance_path="relative")
    app = Flask("x", instance_path="/abs/path")
    assert app.instance_path == "/abs/path"


def test_default_instance_path_next_to_module():
    app = Flask(__name__)
    # Not installed: ``instance`` in the folder the tests are imported from.
    assert os.path.basename(app.instance_path) == "instance"


def test_instance_relative_config(tmp_path):
    app = Flask("x", instance_path=str(tmp_path), instance_relative_config=True)
    assert app.config.root_path == str(tmp_path)


def test_extensions_and_registries_are_per_app():
    a, b = Flask("a"), Flask("b")
    a.extensions["x"] = 1
    assert b.extensions == {}
    assert a.url_map is not b.url_map
    assert a.view_functions is not b.view_functions


def test_class_attributes_for_customization():
    from werkzeug.routing import Map
    from werkzeug.routing import Rule

    assert Flask.url_map_class is Map
    assert Flask.url_rule_class is Rule
    assert Flask.request_class is erlen.Request
    assert Flask.response_class is erlen.Response
    assert Flask.test_client_class is None
    assert Flask.test_cli_runner_class is None


def test_custom_url_rule_class():
    from werkzeug.routing import Rule

    class MyRule(Rule):
        pass

    class MyFlask(Flask):
        url_rule_class = MyRule

    app = MyFlask("x")
    app.add_url_rule("/", "i", lambda: "")
    assert all(isinstance(r, MyRule) for r in app.url_map.iter_rules())


def test_call_goes_through_wsgi_app_for_middleware(app):
    @app.route("/")
    def index():
        return "inner"

    calls = []
    inner = app.wsgi_app

    def middleware(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.wsgi_app = middleware
    assert app.test_client().get("/").data == b"inner"
    assert calls == ["/"]


@pytest.mark.parametrize(
    ("rv", "status", "body", "ctype"),
    [
        ("text", 200, b"text", "text/html; charset=utf-8"),
        (b"bytes", 200, b"bytes", "text/html; charset=utf-8"),
        (bytearray(b"ba"), 200, b"ba", "text/html; charset=utf-8"),
        ({"a": 1}, 200, b'{"a":1}\n', "application/json"),
        ([1, 2], 200, b"[1,2]\n", "application/json"),
        (("created", 201), 201, b"created", "text/html; charset=utf-8"),
        (("teapot", "418 I AM A TEAPOT"), 418, b"teapot", "text/html; charset=utf-8"),
        (({"a": 1}, 202), 202, b'{"a":1}\n', "application/json"),
    ],
)
def test_make_response_values(app, rv, status, body, ctype):
    with app.test_request_context():
        response = app.make_response(rv)
    assert response.status_code == status
    assert response.data == body
    assert response.content_type == ctype


def test_make_response_headers_forms(app):
    with app.test_request_context():
        r1 = app.make_response(("x", {"X-A": "1"}))
        r2 = app.make_response(("x", [("X-A", "2")]))
        r3 = app.make_response(("x", 404, {"X-A": "3"}))
        r4 = app.make_response(("x", erlen.Response().headers))
    assert r1.status_code == 200 and r1.headers["X-A"] == "1"
    assert r2.headers["X-A"] == "2"
    assert r3.status_code == 404 and r3.headers["X-A"] == "3"
    assert r4.status_code == 200


def test_make_response_response_object_and_status_override(app):
    with app.test_request_context():
        original = erlen.Response("body", status=200)
        assert app.make_response(original) is original
        changed = app.make_response((erlen.Response("b"), 400, {"X": "y"}))
    assert changed.status_code == 400
    assert changed.headers["X"] == "y"


def test_make_response_generator_is_streamed(app, client):
    @app.route("/")
    def index():
        def gen():
            yield "a"
            yield "b"

        return gen()

    streamed = []

    @app.after_request
    def check(response):
        streamed.append(response.is_streamed)
        return response

    rv = client.get("/")
    assert rv.data == b"ab"
    assert streamed == [True]


def test_make_response_wsgi_callable_and_werkzeug_response(app, client):
    def wsgi(environ, start_response):
        start_response("203 OK", [("Content-Type", "text/plain")])
        return [b"from wsgi"]

    app.add_url_rule("/wsgi", "wsgi", lambda: wsgi)
    app.add_url_rule("/wz", "wz", lambda: WerkzeugResponse("wz", status=206))
    rv = client.get("/wsgi")
    assert rv.status_code == 203 and rv.data == b"from wsgi"
    rv = client.get("/wz")
    assert rv.status_code == 206 and rv.data == b"wz"
    assert isinstance(rv, WerkzeugResponse)


@pytest.mark.parametrize(
    ("rv", "match"),
    [
        (None, "did not return a valid response"),
        (42, "but it was a int"),
        (object(), "but it was a object"),
        (("a", 200, {}, "extra"), "did not return a valid response tuple"),
        ((), "did not return a valid response tuple"),
    ],
)
def test_make_response_rejects(app, rv, match):
    with app.test_request_context():
        with pytest.raises(TypeError, match=match):
            app.make_response(rv)


def test_view_returning_none_names_endpoint(app, client):
    @app.route("/")
    def quiet():
        pass

    with pytest.raises(TypeError, match="'quiet' did not return"):
        client.get("/")


def test_wrong_callable_type_error(app):
    with app.test_request_context():
        with pytest.raises(TypeError, match="WSGI callable, but it was a function"):
            app.make_response(lambda: None)


def test_static_route(app, client):
    assert app.has_static_folder
    assert app.static_url_path == "/static"
    rv = client.get("/static/hello.txt")
    assert rv.status_code == 200
    assert rv.data.strip() == b"static hello"
    rv.close()
    assert client.get("/static/missing.txt").status_code == 404


def test_static_url_path_and_folder_options():
    app = Flask("x", static_url_path="/assets", root_path=HERE)
    assert [r.rule for r in app.url_map.iter_rules()] == ["/assets/<path:filename>"]
    bare = Flask("x", static_folder=None, root_path=HERE)
    assert list(bare.url_map.iter_rules()) == []
    with pytest.raises(RuntimeError, match="static_folder"):
        bare.send_static_file("x")


def test_static_host_requires_host_matching():
    with pytest.raises(AssertionError, match="static_host"):
        Flask("x", static_host="example.com")
    app = Flask("x", host_matching=True, static_host="static.example.com")
    rule = next(app.url_map.iter_rules())
    assert rule.host == "static.example.com"


def test_send_file_max_age(app):
    assert app.get_send_file_max_age("a") is None
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = timedelta(hours=1)
    assert app.get_send_file_max_age("a") == 3600
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 12
    assert app.get_send_file_max_age("a") == 12
    with app.test_request_context():
        rv = app.send_static_file("hello.txt")
        assert rv.cache_control.max_age == 12
        rv.close()


def test_open_resource(app):
    with app.open_resource("static/hello.txt") as f:
        assert f.read().strip() == b"static hello"
    with app.open_resource("static/hello.txt", "r", encoding="utf-8") as f:
        assert f.read().strip() == "static hello"
    with pytest.raises(ValueError, match="only be opened for reading"):
        app.open_resource("static/hello.txt", "w")


def test_open_instance_resource(tmp_path):
    app = Flask("x", instance_path=str(tmp_path))
    with app.open_instance_resource("data.txt", "w") as f:
        f.write("saved")
    with app.open_instance_resource("data.txt", "r") as f:
        assert f.read() == "saved"
    with app.open_instance_resource("data.txt") as f:
        assert f.read() == b"saved"


def test_json_provider_instance(app, client):
    assert isinstance(app.json, erlen.json.provider.DefaultJSONProvider)

    @app.route("/")
    def index():
        return erlen.jsonify(a=1)

    assert client.get("/").json == {"a": 1}


def test_jinja_env_and_template_registration(app):
    @app.template_filter()
    def shout(s):
        return s.upper()

    @app.template_test("odd")
    def is_odd(n):
        return n % 2 == 1

    @app.template_global()
    def answer():
        return 42

    app.add_template_filter(lambda s: s[::-1], "rev")
    with app.test_request_context():
        out = erlen.render_template_string(
            "{{ 'a'|shout }} {{ 3 is odd }} {{ answer() }} {{ 'ab'|rev }}"
        )
    assert out == "A True 42 ba"
    assert app.jinja_env.globals["url_for"] == app.url_for
    assert app.jinja_env.globals["config"] is app.config


def test_select_jinja_autoescape(app):
    assert app.select_jinja_autoescape(None) is True
    assert app.select_jinja_autoescape("a.html") is True
    assert app.select_jinja_autoescape("a.svg") is True
    assert app.select_jinja_autoescape("a.txt") is False


def test_jinja_options_are_used():
    class MyFlask(Flask):
        jinja_options = {"trim_blocks": True}

    assert MyFlask("x").jinja_env.trim_blocks is True


def test_update_template_context_keeps_given_values(app):
    @app.context_processor
    def extra():
        return {"who": "processor", "other": 1}

    with app.test_request_context():
        context = {"who": "caller"}
        app.update_template_context(context)
    assert context["who"] == "caller"
    assert context["other"] == 1
    assert "g" in context and "request" in context


def test_shell_context(app):
    @app.shell_context_processor
    def more():
        return {"answer": 42}

    ctx = app.make_shell_context()
    assert ctx["app"] is app
    assert ctx["answer"] == 42
    assert "g" in ctx


def test_run_calls_run_simple(app, monkeypatch):
    import werkzeug.serving

    seen = {}

    def fake_run_simple(host, port, application, **options):
        seen.update(host=host, port=port, application=application, **options)

    monkeypatch.setattr(werkzeug.serving, "run_simple", fake_run_simple)
    app.run(load_dotenv=False)
    assert seen["host"] == "127.0.0.1"
    assert seen["port"] == 5000
    assert seen["application"] is app
    assert seen["threaded"] is True
    app.config["SERVER_NAME"] = "example.org:8080"
    app.run(load_dotenv=False)
    assert (seen["host"], seen["port"]) == ("example.org", 8080)
    app.run(host="0.0.0.0", port=0, debug=True, load_dotenv=False)
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 0)
    assert seen["use_reloader"] is True and seen["use_debugger"] is True


def test_run_ignored_under_cli(app, monkeypatch):
    import werkzeug.serving

    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    monkeypatch.setattr(
        werkzeug.serving, "run_simple", lambda *a, **k: pytest.fail("ran")
    )
    app.run()


def test_run_resets_first_request_flag(app, monkeypatch):
    import werkzeug.serving

    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *a, **k: None)
    app._got_first_request = True
    app.run(load_dotenv=False)
    assert app._got_first_request is False


def test_setup_methods_fail_after_first_request(app, client):
    app.add_url_rule("/", "i", lambda: "x")
    client.get("/")
    with pytest.raises(AssertionError, match="already handled its first request"):
        app.add_url_rule("/b", "b", lambda: "x")
    with pytest.raises(AssertionError, match="before_request"):
        app.before_request(lambda: None)


def test_async_view(app, client):
    pytest.importorskip("asgiref")

    @app.route("/")
    async def index():
        return "async"

    @app.before_request
    async def before():
        erlen.g.before = True

    @app.after_request
    async def after(response):
        response.headers["X-Async"] = str(erlen.g.before)
        return response

    rv = client.get("/")
    assert rv.data == b"async"
    assert rv.headers["X-Async"] == "True"


def test_ensure_sync(app):
    def plain():
        return 1

    async def coro():
        return 2

    assert app.ensure_sync(plain) is plain
    wrapped = app.ensure_sync(coro)
    assert wrapped is not coro
    assert wrapped() == 2


def test_async_without_asgiref(app, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("asgiref"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)

    async def coro():
        return 1

    with pytest.raises(RuntimeError, match=r"erlen\[async\]"):
        app.ensure_sync(coro)


def test_aborter(app, client):
    assert isinstance(app.aborter, app.aborter_class)

    @app.route("/")
    def index():
        erlen.abort(404)

    assert client.get("/").status_code == 404
    with pytest.raises(NotFound):
        app.aborter(404)


def test_app_redirect(app):
    rv = app.redirect("/there", 307)
    assert isinstance(rv, erlen.Response)
    assert rv.status_code == 307
    assert rv.location == "/there"


def test_logger_named_after_app(app):
    assert app.logger.name == "erlen_test"


def test_test_cli_runner_class(app):
    from erlen.testing import FlaskCliRunner

    assert isinstance(app.test_cli_runner(), FlaskCliRunner)

    class Runner(FlaskCliRunner):
        pass

    app.test_cli_runner_class = Runner
    assert isinstance(app.test_cli_runner(), Runner)


class _Poison:
    """Stands in for a proxy: any use fails the test."""

    def __getattribute__(self, name):
        if name.startswith("__"):  # introspection by monkeypatch itself
            return object.__getattribute__(self, name)
        pytest.fail(f"framework code read a proxy ({name!r})")

    def __bool__(self):
        pytest.fail("framework code read a proxy")


def test_lifecycle_never_reads_the_proxies(app, monkeypatch):
    """The request lifecycle works with the context it holds: replacing the
    proxies in the framework's own modules changes nothing."""
    import erlen.app
    import erlen.blueprints
    import erlen.ctx
    import erlen.testing

    for module in (erlen.app, erlen.ctx, erlen.blueprints, erlen.testing):
        for name in (
            "request",
            "session",
            "g",
            "current_app",
            "request_ctx",
            "app_ctx",
        ):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, _Poison())

    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")
    bp.before_request(lambda: None)
    bp.after_request(lambda r: r)
    bp.teardown_request(lambda e: None)
    bp.register_error_handler(KeyError, lambda e: ("key", 400))
    bp.add_url_rule("/<x>", "view", lambda x: {}[x])
    app.register_blueprint(bp)
    app.before_request(lambda: None)
    app.after_request(lambda r: r)
    app.teardown_appcontext(lambda e: None)
    app.url_value_preprocessor(lambda e, v: None)
    app.add_url_rule("/", "index", lambda: "ok")

    client = app.test_client()
    assert client.get("/").data == b"ok"
    assert client.get("/bp/x").data == b"key"
    assert client.get("/missing").status_code == 404
    assert client.open("/", method="OPTIONS").status_code == 200
    with client.session_transaction() as sess:
        sess["a"] = 1
    assert client.get("/").status_code == 200
