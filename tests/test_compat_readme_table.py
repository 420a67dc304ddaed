"""The README's "APIs Flask removed, restored" table, row by row.

Every row has a check here and every check has a row, so the table cannot
promise a name the code does not keep, nor the code keep one the table does
not list. Each check uses the name as old code did, and the test asserts it
warned, naming something to use instead, at most once per name.
"""

import datetime
import io
import json
import os
import re
import subprocess
import sys
import threading
import warnings

import markupsafe
import pytest

import erlen
from erlen import Blueprint
from erlen import compat
from erlen import Flask
from erlen import globals as erlen_globals

README = os.path.join(os.path.dirname(os.path.dirname(__file__)), "README.md")
SECTION = "### APIs Flask removed, restored"


def table_rows():
    """The first cell of each row of the README's table."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n### ", len(SECTION))]
    rows = []
    for line in section.splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows.append(cells[0])
    assert rows[0] == "name"
    return rows[1:]


def new_app(**config):
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="k", **config)
    return app


class SetEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, set):
            return sorted(o)
        return super().default(o)


def check_ctx_stacks():
    app = new_app()
    for stack in (erlen_globals._app_ctx_stack, erlen_globals._request_ctx_stack):
        stack._warned = False
    with app.test_request_context("/x") as ctx:
        assert erlen._request_ctx_stack.top is ctx
        assert erlen._app_ctx_stack.top.app is app
    pushed = app.app_context()
    erlen._app_ctx_stack.push(pushed)
    assert erlen.current_app._get_current_object() is app
    assert erlen._app_ctx_stack.pop() is pushed


def check_before_first_request():
    app = new_app()
    calls = []
    app.before_first_request(lambda: calls.append(1))
    app.get("/")(lambda: "ok")
    client = app.test_client()
    client.get("/")
    client.get("/")
    assert calls == [1]


def check_before_app_first_request():
    app = new_app()
    bp = Blueprint("bp", __name__)
    calls = []
    bp.before_app_first_request(lambda: calls.append("bp"))
    app.register_blueprint(bp)
    app.get("/")(lambda: "ok")
    client = app.test_client()
    client.get("/")
    client.get("/")
    assert calls == ["bp"]


def check_got_first_request():
    app = new_app()
    app.get("/")(lambda: "ok")
    assert app.got_first_request is False
    app.test_client().get("/")
    assert app.got_first_request is True


def check_env(monkeypatch):
    monkeypatch.delenv("ERLEN_DEBUG", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("FLASK_ENV", "development")
    app = Flask(__name__)
    assert app.config["ENV"] == "development"
    assert app.debug is True
    assert app.env == "development"
    app.env = "production"
    assert app.config["ENV"] == "production"


def check_get_env(monkeypatch):
    from erlen.helpers import get_env

    monkeypatch.delenv("FLASK_ENV", raising=False)
    assert get_env() == "production"
    monkeypatch.setenv("FLASK_ENV", "staging")
    assert get_env() == "staging"


def check_session_cookie_name():
    app = new_app()
    assert app.session_cookie_name == "session"
    app.session_cookie_name = "sid"
    assert app.config["SESSION_COOKIE_NAME"] == "sid"

    @app.get("/")
    def index():
        erlen.session["x"] = 1
        return "ok"

    rv = app.test_client().get("/")
    assert rv.headers["Set-Cookie"].startswith("sid=")


def check_send_file_max_age_default():
    app = new_app()
    assert app.send_file_max_age_default is None
    app.send_file_max_age_default = 60
    assert app.send_file_max_age_default == datetime.timedelta(seconds=60)
    assert app.get_send_file_max_age("x.txt") == 60


def check_use_x_sendfile():
    app = new_app()
    assert app.use_x_sendfile is False
    app.use_x_sendfile = True
    assert app.config["USE_X_SENDFILE"] is True


def check_propagate_exceptions():
    app = Flask(__name__)
    assert app.propagate_exceptions is False
    app.testing = True
    assert app.propagate_exceptions is True
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.propagate_exceptions is False


def check_templates_auto_reload():
    app = Flask(__name__)
    app.config["DEBUG"] = False
    assert app.templates_auto_reload is False
    app.config["DEBUG"] = True  # unset, it follows debug mode
    assert app.templates_auto_reload is True
    app.templates_auto_reload = False
    assert app.config["TEMPLATES_AUTO_RELOAD"] is False
    assert app.jinja_env.auto_reload is False


def check_json_ascii_sort_keys():
    app = new_app(JSON_AS_ASCII=False, JSON_SORT_KEYS=False)
    with app.app_context():
        assert erlen.json.dumps({"b": "é", "a": 1}) == '{"b": "é", "a": 1}'


def check_jsonify_config_keys():
    app = new_app(
        JSONIFY_MIMETYPE="application/vnd.api+json", JSONIFY_PRETTYPRINT_REGULAR=True
    )
    with app.app_context():
        rv = erlen.jsonify(a=1)
    assert rv.mimetype == "application/vnd.api+json"
    assert rv.get_data(as_text=True) == '{\n  "a": 1\n}\n'


def check_app_json_classes():
    app = new_app()
    app.json_encoder = SetEncoder
    app.json_decoder = type(
        "Upper",
        (json.JSONDecoder,),
        {
            "__init__": lambda self, **kw: json.JSONDecoder.__init__(
                self, object_hook=lambda d: {k.upper(): v for k, v in d.items()}, **kw
            )
        },
    )
    with app.app_context():
        assert erlen.json.dumps({1, 2}) == "[1, 2]"
        assert erlen.json.loads('{"a": 1}') == {"A": 1}


def check_bp_json_classes():
    app = new_app()
    bp = Blueprint("sets", __name__)
    bp.json_encoder = SetEncoder
    assert bp.json_encoder is SetEncoder
    bp.json_decoder = None
    bp.get("/s")(lambda: erlen.jsonify(v={2, 1}))
    app.register_blueprint(bp, url_prefix="/bp")
    assert app.test_client().get("/bp/s").get_json() == {"v": [1, 2]}


def check_json_encoder_classes():
    assert issubclass(erlen.json.JSONEncoder, json.JSONEncoder)
    assert issubclass(erlen.json.JSONDecoder, json.JSONDecoder)
    day = datetime.date(2020, 1, 2)
    assert (
        json.dumps(day, cls=erlen.json.JSONEncoder) == '"Thu, 02 Jan 2020 00:00:00 GMT"'
    )


def check_htmlsafe():
    assert erlen.json.htmlsafe_dumps("</script>") == '"\\u003c/script\\u003e"'
    out = io.StringIO()
    erlen.json.htmlsafe_dump({"a": "'"}, out)
    assert out.getvalue() == '{"a": "\\u0027"}'


def check_tojson_filter_detect_encoding():
    assert erlen.json.tojson_filter("<b>") == markupsafe.Markup('"\\u003cb\\u003e"')
    assert erlen.json.detect_encoding('{"a": 1}'.encode("utf-16-le")) == "utf-16-le"
    assert erlen.json.detect_encoding(b"\xef\xbb\xbf{}") == "utf-8-sig"


def check_json_app_argument():
    app = new_app()
    app.json.sort_keys = False
    data = {"b": 1, "a": 2}
    assert erlen.json.dumps(data, app=app) == '{"b": 1, "a": 2}'
    assert erlen.json.loads('{"a": 1}', app=app) == {"a": 1}
    out = io.StringIO()
    erlen.json.dump(data, out, app=app)
    assert out.getvalue() == '{"b": 1, "a": 2}'
    assert erlen.json.load(io.StringIO("[1]"), app=app) == [1]


def check_json_encoding_argument():
    assert erlen.json.dumps("é", encoding="utf-16") == '"\\u00e9"'.encode("utf-16")
    assert erlen.json.loads('"é"'.encode("latin-1"), encoding="latin-1") == "é"
    out = io.BytesIO()
    erlen.json.dump([1], out, encoding="utf-16-le")
    assert out.getvalue() == "[1]".encode("utf-16-le")
    assert (
        erlen.json.load(io.BytesIO('"é"'.encode("latin-1")), encoding="latin-1") == "é"
    )


def check_markup_escape():
    assert erlen.Markup is markupsafe.Markup
    assert erlen.escape("<") == "&lt;"


def check_signals_available():
    assert erlen.signals_available is True


def check_locked_cached_property():
    from erlen.helpers import locked_cached_property

    calls = []

    class Ext:
        @locked_cached_property
        def value(self):
            calls.append(1)
            return len(calls)

    ext = Ext()
    threads = [threading.Thread(target=lambda: ext.value) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert ext.value == 1 and calls == [1]
    del ext.value
    assert ext.value == 2


def check_is_ip():
    from erlen.helpers import is_ip

    assert is_ip("127.0.0.1") and is_ip("::1")
    assert not is_ip("localhost")


def check_version():
    assert erlen.__version__ == "3.1.3"


def check_send_file_names():
    app = new_app()
    with app.test_request_context():
        rv = erlen.send_file(
            filename_or_fp=io.BytesIO(b"x"),
            mimetype="text/plain",
            as_attachment=True,
            attachment_filename="a.txt",
            cache_timeout=5,
            add_etags=False,
        )
    assert rv.headers["Content-Disposition"] == "attachment; filename=a.txt"
    assert rv.cache_control.max_age == 5
    assert "ETag" not in rv.headers
    rv.close()


def check_send_from_directory_filename(tmp_path):
    (tmp_path / "f.txt").write_text("hi")
    app = new_app()
    with app.test_request_context():
        rv = erlen.send_from_directory(str(tmp_path), filename="f.txt")
    rv.direct_passthrough = False
    assert rv.get_data() == b"hi"
    rv.close()


def check_from_json(tmp_path):
    (tmp_path / "c.json").write_text('{"FOO": 1, "low": 2}')
    config = erlen.Config(str(tmp_path))
    assert config.from_json("c.json") is True
    assert config["FOO"] == 1 and "low" not in config
    assert config.from_json("missing.json", silent=True) is False


def check_safe_join(tmp_path):
    from werkzeug.exceptions import NotFound

    from erlen.helpers import safe_join

    assert safe_join(str(tmp_path), "a") == str(tmp_path / "a")
    with pytest.raises(NotFound):
        safe_join(str(tmp_path), "..", "x")


def check_total_seconds():
    from erlen.helpers import total_seconds

    assert total_seconds(datetime.timedelta(days=1, seconds=5, microseconds=9)) == 86405


def check_session_methods():
    app = new_app()
    with app.test_request_context() as ctx:
        session = app.open_session(ctx.request)
        session["a"] = 1
        response = app.response_class()
        app.save_session(session, response)
        assert response.headers["Set-Cookie"].startswith("session=")
        assert app.make_null_session().get("a") is None


def check_bytes_cookies():
    rv = erlen.Response()
    rv.set_cookie(b"k", b"caf\xc3\xa9")
    rv.delete_cookie(b"gone")
    cookies = rv.headers.getlist("Set-Cookie")
    assert cookies[0] == 'k="caf\\303\\251"; Path=/'
    assert cookies[1].startswith("gone=;")


def check_charset_attributes():
    from werkzeug.test import EnvironBuilder

    request = erlen.Request(EnvironBuilder().get_environ())
    assert request.charset == "utf-8"
    assert request.url_charset == "utf-8"
    assert request.encoding_errors == "replace"
    response = erlen.Response("é")
    assert response.charset == "utf-8"
    assert response.get_data() == "é".encode()

    class OldResponse(erlen.Response):
        charset = "utf-8"

    assert OldResponse("x").charset == "utf-8"


def check_request_context_g():
    app = new_app()
    with app.test_request_context() as ctx:
        erlen.g.x = 1
        assert ctx.g is erlen.g._get_current_object()
        replacement = app.app_ctx_globals_class()
        ctx.g = replacement
        assert erlen.g._get_current_object() is replacement


def check_method_view_type():
    from erlen import views

    class Items(views.MethodView, metaclass=views.MethodViewType):
        def get(self):
            return "listed"

    app = new_app()
    app.add_url_rule("/items", view_func=Items.as_view("items"))
    response = app.test_client().get("/items")
    assert response.data == b"listed"
    assert Items.methods == {"GET"}


def check_make_test_environ_builder():
    from erlen.testing import EnvironBuilder
    from erlen.testing import make_test_environ_builder

    app = new_app(SERVER_NAME="example.test")
    builder = make_test_environ_builder(app, "/path", method="POST")
    try:
        assert isinstance(builder, EnvironBuilder)
        environ = builder.get_environ()
    finally:
        builder.close()
    assert environ["HTTP_HOST"] == "example.test"
    assert environ["REQUEST_METHOD"] == "POST"


def check_as_tuple():
    app = new_app()
    app.add_url_rule("/t", "t", lambda: "tuple")
    environ, response = app.test_client().get("/t?q=1", as_tuple=True)
    assert environ["QUERY_STRING"] == "q=1"
    assert response.data == b"tuple"


def check_client_set_cookie_server_name():
    app = new_app()
    app.add_url_rule("/c", "c", lambda: erlen.request.cookies.get("name", "-"))
    client = app.test_client()
    client.set_cookie("localhost", "name", "old-style")
    assert client.get("/c").data == b"old-style"
    client.set_cookie("localhost", "name", "kept", None, None, "/other")
    assert client.get("/c").data == b"old-style"  # set for another path
    assert client.get_cookie("name", path="/other").value == "kept"


def check_signals_module_available():
    from erlen import signals

    assert signals.signals_available is True


def check_json_mixin():
    from erlen import wrappers

    class MyResponse(wrappers.JSONMixin, erlen.Response):
        pass

    app = new_app()
    app.response_class = MyResponse
    app.add_url_rule("/j", "j", lambda: {"a": 1})
    assert app.test_client().get("/j").json == {"a": 1}
    with app.test_request_context():
        response = app.make_response({"a": 1})
    assert isinstance(response, MyResponse)
    assert response.get_json() == {"a": 1}


def check_factory_script_info():
    import types

    import click

    from erlen.cli import find_best_app
    from erlen.cli import ScriptInfo

    seen = []

    def create_app(script_info):
        seen.append(script_info)
        app = new_app()
        app.add_url_rule("/", "index", lambda: "made")
        return app

    module = types.ModuleType("old_factory")
    module.create_app = create_app
    assert find_best_app(module).test_client().get("/").data == b"made"
    assert seen == [None]  # no command running: nothing to pass
    info = ScriptInfo(create_app=lambda: find_best_app(module))
    with click.Context(click.Command("x"), obj=info):
        find_best_app(module)
    assert seen[-1] is info


def check_preserve_context_on_exception():
    app = new_app(PRESERVE_CONTEXT_ON_EXCEPTION=True, PROPAGATE_EXCEPTIONS=False)
    torn_down = []
    app.teardown_request(torn_down.append)
    app.add_url_rule("/fail", "fail", lambda: 1 // 0)
    app.add_url_rule("/ok", "ok", lambda: "ok")
    assert app.preserve_context_on_exception is True
    client = app.test_client()
    assert client.get("/fail?n=1").status_code == 500
    kept = erlen_globals.request_ctx._get_current_object()
    assert kept.preserved and erlen.request.args["n"] == "1" and torn_down == []
    client.get("/ok")  # pops the kept context first
    assert not kept.preserved and erlen_globals._cv_request.get(None) is None
    assert [type(e) for e in torn_down] == [ZeroDivisionError, type(None)]


def check_scaffold_module():
    from erlen.sansio import scaffold as moved
    from erlen.scaffold import _endpoint_from_view_func
    from erlen.scaffold import Scaffold
    from erlen.scaffold import setupmethod

    assert Scaffold is moved.Scaffold and setupmethod is moved.setupmethod
    assert issubclass(Flask, Scaffold) and issubclass(Blueprint, Scaffold)
    assert _endpoint_from_view_func(check_scaffold_module) == "check_scaffold_module"
    with pytest.raises(ImportError):
        from erlen.scaffold import NotThere  # noqa: F401


def check_cookie_jar():
    import http.cookiejar

    app = new_app()

    @app.get("/")
    def index():
        response = erlen.make_response("set")
        response.set_cookie("theme", "dark", path="/app")
        erlen.session["user"] = "u"
        return response

    client = app.test_client()
    client.get("/")
    jar = client.cookie_jar
    assert len(jar) == 2
    cookies = {c.name: c for c in jar}
    assert all(isinstance(c, http.cookiejar.Cookie) for c in cookies.values())
    assert cookies["theme"].value == "dark" and cookies["theme"].path == "/app"
    assert cookies["session"].domain == "localhost.local"  # as werkzeug 2 had it
    assert cookies["session"].has_nonstandard_attr("HttpOnly")
    jar.clear("localhost.local", "/app", "theme")
    assert client.get_cookie("theme", path="/app") is None
    jar.clear()
    assert len(client.cookie_jar) == 0 and client.get_cookie("session") is None
    assert app.test_client(use_cookies=False).cookie_jar is None


def check_bytes_headers():
    app = new_app()

    @app.get("/set")
    def set_header():
        response = erlen.make_response("x")
        response.headers["X-Token"] = b"caf\xe9"
        return response

    app.add_url_rule("/tuple", "tuple", lambda: ("x", 201, {b"X-Name": b"v"}))
    client = app.test_client()
    assert client.get("/set").headers["X-Token"] == "caf\xe9"
    response = client.get("/tuple")
    assert response.status_code == 201 and response.headers["X-Name"] == "v"


def check_try_trigger():
    calls = []
    app = new_app()
    app.before_first_request_funcs.append(lambda: calls.append("setup"))
    app.get("/")(lambda: "ok")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        app.test_client().get("/")
    assert calls == ["setup"] and record == []  # erlen's own step is silent
    app.try_trigger_before_first_request_functions()  # done already
    fresh = new_app()
    fresh.before_first_request_funcs.append(lambda: calls.append("fresh"))
    fresh.try_trigger_before_first_request_functions()
    fresh.try_trigger_before_first_request_functions()
    assert calls == ["setup", "fresh"] and fresh._got_first_request

    class OldApp(Flask):
        def try_trigger_before_first_request_functions(self):
            calls.append("override")
            super().try_trigger_before_first_request_functions()

    old = OldApp(__name__)
    old.before_first_request_funcs.append(lambda: calls.append("old"))
    old.get("/")(lambda: "ok")
    client = old.test_client()
    client.get("/")
    client.get("/")
    assert calls[2:] == ["override", "old"]


def check_call_factory():
    from erlen.cli import call_factory
    from erlen.cli import ScriptInfo

    info = ScriptInfo()
    assert call_factory(info, lambda script_info: script_info) is info
    assert call_factory(info, lambda anything: anything) is info
    assert call_factory(info, lambda a=1: a) == 1
    assert call_factory(info, lambda *a, **k: (a, k), [1], {"k": 2}) == ((1,), {"k": 2})
    both = call_factory(info, lambda x, script_info=None: (x, script_info), ["x"])
    assert both == ("x", info)


def check_dispatching_app(monkeypatch):
    from werkzeug.test import Client

    from erlen.cli import DispatchingApp

    app = new_app()
    app.add_url_rule("/", "index", lambda: "loaded")
    eager = DispatchingApp(lambda: app, use_eager_loading=True)
    assert eager._app is app and Client(eager).get("/").data == b"loaded"
    threads, called = [], threading.Event()

    def failing():
        threads.append(threading.current_thread())
        called.set()
        raise LookupError("no app")

    lazy = DispatchingApp(failing, use_eager_loading=False)
    assert called.wait(30) and threads[0] is not threading.current_thread()
    with pytest.raises(LookupError):
        Client(lazy).get("/")
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")  # the reloader's child
    lazy = DispatchingApp(lambda: app)
    assert Client(lazy).get("/").data == b"loaded"


def check_run_loading_options(monkeypatch):
    from click.testing import CliRunner
    from werkzeug.test import Client

    from erlen import cli

    served = []
    monkeypatch.setattr(cli, "run_simple", lambda h, p, app, **o: served.append(app))
    app = new_app()
    app.add_url_rule("/", "index", lambda: "lazy")
    runner = CliRunner()
    group = cli.FlaskGroup(create_app=lambda: app)
    result = runner.invoke(group, ["run", "--lazy-loading"])
    assert result.exit_code == 0, result.output
    assert served[0] is not app and Client(served[0]).get("/").data == b"lazy"

    def broken():
        raise LookupError("broken")

    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")  # the reloader's child
    broken_group = cli.FlaskGroup(create_app=broken)
    result = runner.invoke(broken_group, ["run"])
    assert result.exit_code == 0  # keeps serving; requests raise the error
    result = runner.invoke(broken_group, ["run", "--eager-loading"])
    assert result.exit_code != 0 and len(served) == 2


def check_typing_2_1():
    import typing

    from erlen import typing as ft

    assert ft.HeaderName is str
    assert ft.GenericException.__bound__ is Exception
    assert ft.GenericException.__contravariant__

    assert typing.Callable[[ft.GenericException], str].__parameters__ == (
        ft.GenericException,
    )


def check_typing_2_2():
    import typing

    from erlen import typing as ft

    assert ft.ViewCallable == typing.Callable[..., ft.ResponseReturnValue]
    assert ft.RouteDecorator.__bound__ == ft.ViewCallable
    assert ft.ErrorHandlerDecorator.__bound__ == ft.ErrorHandlerCallable
    assert ft.RouteDecorator is ft.RouteDecorator  # one TypeVar, not one per use
    script = (
        "import erlen; erlen.install_as_flask(); import erlen.typing as ft;"
        " from flask.typing import ViewCallable, RouteDecorator, HeaderName;"
        " assert ViewCallable is ft.ViewCallable and HeaderName is str"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


# Keyed by the README table's first cells, verbatim, so that searching for a
# row finds its check: the long ones stay on one line.
CHECKS = {
    "`_app_ctx_stack`, `_request_ctx_stack` (`top`, `push`, `pop`)": check_ctx_stacks,
    "`app.before_first_request` (runs once per app, even under concurrent first requests)": check_before_first_request,  # noqa: E501
    "`bp.before_app_first_request`": check_before_app_first_request,
    "`app.got_first_request`": check_got_first_request,
    "`app.env`, the `ENV` config key, `FLASK_ENV` (`development` turns debug mode on)": check_env,  # noqa: E501
    "`erlen.helpers.get_env`": check_get_env,
    "`app.session_cookie_name`": check_session_cookie_name,
    "`app.send_file_max_age_default`": check_send_file_max_age_default,
    "`app.use_x_sendfile`": check_use_x_sendfile,
    "`app.propagate_exceptions`": check_propagate_exceptions,
    "`app.templates_auto_reload`": check_templates_auto_reload,
    "`JSON_AS_ASCII`, `JSON_SORT_KEYS` config keys": check_json_ascii_sort_keys,
    "`JSONIFY_MIMETYPE`, `JSONIFY_PRETTYPRINT_REGULAR` config keys": check_jsonify_config_keys,  # noqa: E501
    "`app.json_encoder`, `app.json_decoder`": check_app_json_classes,
    "`bp.json_encoder`, `bp.json_decoder` (used for requests to the blueprint)": check_bp_json_classes,  # noqa: E501
    "`erlen.json.JSONEncoder`, `erlen.json.JSONDecoder`": check_json_encoder_classes,
    "`erlen.json.htmlsafe_dumps`, `erlen.json.htmlsafe_dump`": check_htmlsafe,
    "`erlen.json.tojson_filter`, `erlen.json.detect_encoding`": check_tojson_filter_detect_encoding,  # noqa: E501
    "`app=` argument of `erlen.json.dumps`, `dump`, `loads`, `load`": check_json_app_argument,  # noqa: E501
    "`encoding=` argument of `erlen.json.dumps`, `dump`, `loads`, `load`": check_json_encoding_argument,  # noqa: E501
    "`erlen.Markup`, `erlen.escape`": check_markup_escape,
    "`erlen.signals_available`": check_signals_available,
    "`erlen.helpers.locked_cached_property`": check_locked_cached_property,
    "`erlen.helpers.is_ip`": check_is_ip,
    "`erlen.__version__` (gives the Flask API version, `3.1.3`)": check_version,
    "`send_file(attachment_filename=, cache_timeout=, add_etags=, filename_or_fp=)`": check_send_file_names,  # noqa: E501
    "`send_from_directory(filename=)`": check_send_from_directory_filename,
    "`Config.from_json`": check_from_json,
    "`erlen.helpers.safe_join` (raises `NotFound`)": check_safe_join,
    "`erlen.helpers.total_seconds`": check_total_seconds,
    "`app.open_session`, `app.save_session`, `app.make_null_session`": check_session_methods,  # noqa: E501
    "`erlen.json_available`": lambda: (
        erlen.json_available is True or pytest.fail("not True")
    ),
    "`response.set_cookie` / `delete_cookie` with a `bytes` key or value (decoded as UTF-8)": check_bytes_cookies,  # noqa: E501
    "`Request.charset`, `Request.url_charset`, `Request.encoding_errors`, `Response.charset` (read, set, or set on a subclass)": check_charset_attributes,  # noqa: E501
    "`RequestContext.g`": check_request_context_g,
    "`erlen.views.MethodViewType`": check_method_view_type,
    "`erlen.testing.make_test_environ_builder`": check_make_test_environ_builder,
    "`client.open(..., as_tuple=True)`": check_as_tuple,
    "`client.set_cookie(server_name, key, value, ...)`": check_client_set_cookie_server_name,  # noqa: E501
    "`erlen.signals.signals_available`": check_signals_module_available,
    "`erlen.wrappers.JSONMixin` (mixing it in changes nothing)": check_json_mixin,
    "an app factory that requires a `script_info` argument (gets the command's `ScriptInfo`)": check_factory_script_info,  # noqa: E501
    "`PRESERVE_CONTEXT_ON_EXCEPTION` set to `True` (an unhandled error leaves the request context pushed until the next one is pushed), `app.preserve_context_on_exception`": check_preserve_context_on_exception,  # noqa: E501
    "the `erlen.scaffold` module (`Scaffold`, `setupmethod`, `find_package`...)": check_scaffold_module,  # noqa: E501
    "`client.cookie_jar` (iterating `http.cookiejar.Cookie`s, `len`, `clear()`)": check_cookie_jar,  # noqa: E501
    "`bytes` header names and values (`response.headers[\"X\"] = b\"...\"`, or returned with a view's body; decoded as latin-1)": check_bytes_headers,  # noqa: E501
    "`app.try_trigger_before_first_request_functions()` (a subclass's override of it is called before the first request)": check_try_trigger,  # noqa: E501
    "`erlen.cli.call_factory(script_info, app_factory, args=None, kwargs=None)`": check_call_factory,  # noqa: E501
    "`erlen.cli.DispatchingApp(loader, use_eager_loading=None)` (loads the app at once, or in a background thread)": check_dispatching_app,  # noqa: E501
    "`erlen run --lazy-loading` (loads the app in a background thread; a loading error is raised by requests), `--eager-loading` (a loading error stops the reloader's child too)": check_run_loading_options,  # noqa: E501
    "`erlen.typing.HeaderName`, `erlen.typing.GenericException`": check_typing_2_1,
    "`erlen.typing.ViewCallable`, `erlen.typing.RouteDecorator`, `erlen.typing.ErrorHandlerDecorator`": check_typing_2_2,  # noqa: E501
}


def test_every_row_has_a_check_and_every_check_a_row():
    rows = table_rows()
    assert len(rows) == len(set(rows)), "a row is listed twice"
    assert sorted(set(rows) - set(CHECKS)) == [], "rows without a check"
    assert sorted(set(CHECKS) - set(rows)) == [], "checks without a row"


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Each check sees the first use of every name again."""
    monkeypatch.setattr(compat, "_warned", set())
    for stack in (erlen_globals._app_ctx_stack, erlen_globals._request_ctx_stack):
        monkeypatch.setattr(stack, "_warned", stack._warned)


@pytest.mark.parametrize("row", table_rows())
def test_row(row, fresh_warnings, monkeypatch, tmp_path):
    check = CHECKS[row]
    params = check.__code__.co_varnames[: check.__code__.co_argcount]
    fixtures = {"monkeypatch": monkeypatch, "tmp_path": tmp_path}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        check(**{name: fixtures[name] for name in params})
    messages = [
        str(w.message) for w in record if issubclass(w.category, DeprecationWarning)
    ]
    assert messages, "the old name was used without a DeprecationWarning"
    assert len(messages) == len(set(messages)), f"a name warned twice: {messages}"
    for message in messages:
        assert (
            "instead" in message.lower() or "nothing replaces it" in message.lower()
        ), message
