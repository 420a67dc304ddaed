"""The command line with real applications: app discovery, ScriptInfo,
app contexts for commands, FlaskGroup's options, and the run, routes and
shell commands."""

import importlib.metadata
import os
import subprocess
import sys
import types
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from erlen import Blueprint
from erlen import cli as cli_module
from erlen import Flask
from erlen.cli import AppGroup
from erlen.cli import find_app_by_string
from erlen.cli import find_best_app
from erlen.cli import FlaskGroup
from erlen.cli import locate_app
from erlen.cli import NoAppException
from erlen.cli import ScriptInfo
from erlen.cli import with_appcontext
from erlen.globals import _cv_app

CLIAPPS = Path(__file__).parent.joinpath("cliapps").resolve()
ENV_NAMES = (
    "FLASK_APP",
    "ERLEN_APP",
    "FLASK_DEBUG",
    "ERLEN_DEBUG",
    "FLASK_ENV_FILE",
    "ERLEN_ENV_FILE",
    "FLASK_SKIP_DOTENV",
    "ERLEN_SKIP_DOTENV",
    "FLASK_RUN_FROM_CLI",
    "WERKZEUG_RUN_MAIN",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        # setenv first so that monkeypatch also removes a variable that the
        # test itself creates (delenv alone records nothing when unset).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    # Keep dotenv files of the surrounding folders out of these tests.
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")


@pytest.fixture
def cliapps(monkeypatch):
    """Put the fixture apps on the import path; forget modules imported from
    them afterwards so each test imports afresh."""
    monkeypatch.syspath_prepend(str(CLIAPPS))
    saved_path = sys.path[:]
    before = set(sys.modules)
    yield CLIAPPS
    sys.path[:] = saved_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


@pytest.fixture
def runner():
    return CliRunner()


def module_with(**attrs):
    module = types.ModuleType("fixture_module")
    module.__dict__.update(attrs)
    return module


class TestFindBestApp:
    def test_preferred_names(self):
        app = Flask("a")
        assert find_best_app(module_with(app=app, other=Flask("o"))) is app
        application = Flask("b")
        assert (
            find_best_app(module_with(application=application, x=Flask("x")))
            is application
        )

    def test_single_instance_any_name(self):
        site = Flask("site")
        assert find_best_app(module_with(site=site, number=3)) is site

    def test_instance_beats_factory(self):
        site = Flask("site")
        assert (
            find_best_app(module_with(site=site, create_app=lambda: Flask("f"))) is site
        )

    @pytest.mark.parametrize("factory_name", ["create_app", "make_app"])
    def test_factories(self, factory_name):
        def factory(**kwargs):
            return Flask(f"from_{factory_name}")

        assert (
            find_best_app(module_with(**{factory_name: factory})).name
            == f"from_{factory_name}"
        )

    def test_multiple_instances(self):
        with pytest.raises(NoAppException, match="multiple erlen applications"):
            find_best_app(module_with(one=Flask("1"), two=Flask("2")))

    def test_nothing_found(self):
        with pytest.raises(NoAppException, match="Failed to find an erlen application"):
            find_best_app(module_with(x=1))

    def test_factory_needs_arguments(self):
        def create_app(config):
            return Flask(config)

        with pytest.raises(NoAppException, match="could not call it without arguments"):
            find_best_app(module_with(create_app=create_app))

    def test_factory_raising_type_error_inside(self):
        def create_app():
            raise TypeError("bad factory")

        with pytest.raises(TypeError, match="bad factory"):
            find_best_app(module_with(create_app=create_app))

    def test_factory_returning_non_app(self):
        with pytest.raises(NoAppException):
            find_best_app(module_with(create_app=lambda: None))


@pytest.mark.parametrize(
    ("module", "name", "expected"),
    [
        ("clipkg.single", None, "single_site"),
        ("clipkg.single", "website", "single_site"),
        ("clipkg.conventional", None, "named_app"),
        ("clipkg.application_only", None, "named_application"),
        ("clipkg.factory", None, "factory_default"),
        ("clipkg.factory", "create_app", "factory_default"),
        ("clipkg.factory", "create_app()", "factory_default"),
        ("clipkg.factory", ' build("x") ', "built_x_prod"),
        ("clipkg.factory", 'build("x", mode="dev", )', "built_x_dev"),
        ("clipkg.make", None, "made"),
    ],
)
def test_locate_app(cliapps, module, name, expected):
    assert locate_app(module, name).name == expected


@pytest.mark.parametrize(
    ("module", "name", "message"),
    [
        ("clipkg.single", "missing", "Failed to find attribute 'missing'"),
        (
            "clipkg.factory",
            "build()",
            "could not be called with the specified arguments",
        ),
        ("clipkg.factory", "nothing", "A valid erlen application was not obtained"),
        ("clipkg.factory", "NOT_AN_APP", "A valid erlen application was not obtained"),
        ("clipkg.twoapps", None, "multiple erlen applications"),
        ("clipkg.empty", None, "Failed to find an erlen application or factory"),
        ("clipkg.needs_args", None, "could not call it without arguments"),
    ],
)
def test_locate_app_errors(cliapps, module, name, message):
    with pytest.raises(NoAppException, match=message):
        locate_app(module, name)


def test_locate_app_factory_type_error_propagates(cliapps):
    with pytest.raises(TypeError):
        locate_app("clipkg.factory", "broken")
    with pytest.raises(TypeError):
        locate_app("clipkg.broken_factory", None)


def test_find_app_by_string_plain_attribute():
    site = Flask("site")
    assert find_app_by_string(module_with(site=site), "site") is site


class TestScriptInfo:
    def test_import_path_forms(self, cliapps):
        for path in (
            "clipkg.single:website",
            "clipkg.single",
            str(cliapps / "clipkg" / "single.py"),
            f"{cliapps / 'clipkg' / 'single.py'}:website",
            "clipkg.factory:build('y')",
        ):
            info = ScriptInfo(app_import_path=path)
            app = info.load_app()
            assert app.name in ("single_site", "built_y_prod"), path
            # Loaded once.
            assert info.load_app() is app

    def test_create_app(self):
        info = ScriptInfo(create_app=lambda: Flask("created"))
        app = info.load_app()
        assert app.name == "created"
        assert info.load_app() is app

    def test_create_app_wins_over_path(self, cliapps):
        info = ScriptInfo(
            app_import_path="clipkg.single", create_app=lambda: Flask("c")
        )
        assert info.load_app().name == "c"

    def test_discovers_wsgi_py(self, cliapps, monkeypatch):
        monkeypatch.chdir(cliapps / "wsgidir")
        assert ScriptInfo().load_app().name == "from_wsgi"

    def test_discovers_app_py(self, cliapps, monkeypatch):
        monkeypatch.chdir(cliapps / "appdir")
        assert ScriptInfo().load_app().name == "from_app_py"

    @pytest.mark.parametrize(
        ("var", "value", "expected"),
        [
            ("FLASK_DEBUG", "1", True),
            ("ERLEN_DEBUG", "true", True),
            ("FLASK_DEBUG", "0", False),
            (None, None, False),
        ],
    )
    def test_debug_flag_from_environment(self, monkeypatch, var, value, expected):
        if var:
            monkeypatch.setenv(var, value)

        def create():
            app = Flask("dbg")
            app.debug = not expected
            return app

        assert ScriptInfo(create_app=create).load_app().debug is expected

    def test_debug_flag_left_alone(self, monkeypatch):
        monkeypatch.setenv("FLASK_DEBUG", "0")

        def create():
            app = Flask("dbg")
            app.debug = True
            return app

        assert (
            ScriptInfo(create_app=create, set_debug_flag=False).load_app().debug is True
        )


def test_with_appcontext(runner):
    @click.command()
    @with_appcontext
    def cmd():
        click.echo(_cv_app.get().app.name)

    result = runner.invoke(cmd, obj=ScriptInfo(create_app=lambda: Flask("ctxapp")))
    assert result.exit_code == 0, result.output
    assert result.output == "ctxapp\n"


def test_with_appcontext_reuses_active_context(runner):
    app = Flask("active")
    loaded = []

    def create():
        loaded.append(True)
        return Flask("other")

    @click.command()
    @with_appcontext
    def cmd():
        click.echo(_cv_app.get().app.name)

    with app.app_context():
        result = runner.invoke(cmd, obj=ScriptInfo(create_app=create))
    assert result.output == "active\n"
    assert loaded == []


def test_app_group(runner):
    @click.group(cls=AppGroup)
    def group():
        pass

    @group.command()
    def inside():
        click.echo(_cv_app.get().app.name)

    @group.command(with_appcontext=False)
    def outside():
        click.echo(str(_cv_app.get(None)))

    @group.group()
    def sub():
        pass

    @sub.command()
    def deep():
        click.echo(f"deep {_cv_app.get().app.name}")

    assert isinstance(sub, AppGroup)
    obj = ScriptInfo(create_app=lambda: Flask("grouped"))
    assert runner.invoke(group, ["inside"], obj=obj).output == "grouped\n"
    assert runner.invoke(group, ["outside"], obj=obj).output == "None\n"
    assert runner.invoke(group, ["sub", "deep"], obj=obj).output == "deep grouped\n"


class TestFlaskGroup:
    def test_app_commands_get_app_context(self, runner):
        app = Flask("group_app")

        def check_param(ctx, param, value):
            return _cv_app.get(None) is not None

        @app.cli.command()
        @click.argument("value", callback=check_param)
        def check(value):
            same = _cv_app.get().app is click.get_current_context().obj.load_app()
            return same, value

        group = FlaskGroup(create_app=lambda: app)
        result = runner.invoke(group, ["check", "x"], standalone_mode=False)
        assert result.return_value == (True, True)

    def test_group_commands_get_app_context(self, runner):
        @click.group(cls=FlaskGroup, create_app=lambda: Flask("decorated_group"))
        def group(**params):
            pass

        @group.command()
        def name():
            click.echo(_cv_app.get().app.name)

        result = runner.invoke(group, ["name"])
        assert result.exit_code == 0, result.output
        assert result.output == "decorated_group\n"

    @pytest.mark.parametrize("how", ["option", "FLASK_APP", "ERLEN_APP"])
    def test_app_option_and_env(self, cliapps, runner, monkeypatch, how):
        group = FlaskGroup()
        args = ["hello", "--name", "you"]
        if how == "option":
            args = ["--app", "clipkg.with_commands"] + args
        else:
            monkeypatch.setenv(how, "clipkg.with_commands")
        result = runner.invoke(group, args)
        assert result.exit_code == 0, result.output
        assert result.output == "hello you from with_commands\n"

    def test_erlen_app_wins(self, cliapps, runner, monkeypatch):
        monkeypatch.setenv("ERLEN_APP", "clipkg.with_commands")
        monkeypatch.setenv("FLASK_APP", "clipkg.single")
        result = runner.invoke(FlaskGroup(), ["hello"])
        assert result.output == "hello world from with_commands\n"

    def test_help_lists_app_commands(self, cliapps, runner, monkeypatch):
        monkeypatch.setenv("FLASK_APP", "clipkg.with_commands")
        result = runner.invoke(FlaskGroup(), ["--help"])
        assert result.exit_code == 0
        for name in ("hello", "routes", "run", "shell"):
            assert name in result.stdout

    def test_missing_app_errors(self, runner, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        result = runner.invoke(cli_module.cli, ["missing"])
        assert result.exit_code == 2
        assert "FLASK_APP" in result.stderr
        assert "Usage:" in result.stderr
        result = runner.invoke(cli_module.cli, ["--help"])
        assert result.exit_code == 0
        assert "Could not locate an erlen application" in result.stderr
        assert "Usage:" in result.stdout

    def test_help_shows_loading_exception(self, runner):
        def create_app():
            raise RuntimeError("factory exploded")

        result = runner.invoke(FlaskGroup(create_app=create_app), ["--help"])
        assert result.exit_code == 0
        assert "RuntimeError: factory exploded" in result.stderr
        assert "Usage:" in result.stdout

    def test_builtin_commands_work_without_app(self, runner, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        result = runner.invoke(cli_module.cli, ["routes", "--help"])
        assert result.exit_code == 0
        assert "--all-methods" in result.output

    @pytest.mark.parametrize("set_debug_flag", [True, False])
    def test_set_debug_flag(self, runner, set_debug_flag):
        def create_app():
            app = Flask("debuggable")
            app.debug = True
            return app

        @click.group(
            cls=FlaskGroup, create_app=create_app, set_debug_flag=set_debug_flag
        )
        def group(**params):
            pass

        @group.command()
        def show():
            click.echo(str(_cv_app.get().app.debug))

        assert runner.invoke(group, ["show"]).output == f"{not set_debug_flag}\n"

    @pytest.mark.parametrize(
        ("args", "env", "expected_env", "expected_debug"),
        [
            (["--debug"], {}, "1", True),
            (["--no-debug"], {"FLASK_DEBUG": "1"}, "0", False),
            (["--debug"], {"ERLEN_DEBUG": "0"}, "1", True),
            ([], {"ERLEN_DEBUG": "1"}, "1", True),
            ([], {}, None, False),
        ],
    )
    def test_debug_option(
        self, cliapps, runner, monkeypatch, args, env, expected_env, expected_debug
    ):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        group = FlaskGroup()

        @group.command()
        def show():
            app = _cv_app.get().app
            click.echo(f"{app.config['SEEN_FLASK_DEBUG']} {app.debug}")

        result = runner.invoke(group, ["--app", "clipkg.debug_factory", *args, "show"])
        assert result.exit_code == 0, result.output
        # The factory already sees the flag while it runs.
        assert result.output == f"{expected_env} {expected_debug}\n"

    def test_nested_in_other_group(self, runner):
        outer = click.Group("outer")
        group = FlaskGroup(name="erlen", create_app=lambda: Flask("nested_app"))
        outer.add_command(group)

        @group.command()
        def show():
            click.echo(_cv_app.get().app.name)

        assert runner.invoke(outer, ["erlen", "show"]).output == "nested_app\n"

    def test_plugin_commands(self, runner, monkeypatch):
        @click.command("plugged")
        def plugged():
            click.echo("plugin ran")

        class EntryPoint:
            name = "plugged"

            def load(self):
                return plugged

        groups = []

        def entry_points(group):
            groups.append(group)
            return [EntryPoint()] if group == "flask.commands" else []

        monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
        group = FlaskGroup(create_app=lambda: Flask("plug"))
        result = runner.invoke(group, ["plugged"])
        assert result.output == "plugin ran\n"
        assert set(groups) == {"flask.commands", "erlen.commands"}

    def test_version(self, runner):
        result = runner.invoke(FlaskGroup(), ["--version"])
        assert result.exit_code == 0
        assert f"Flask {cli_module.FLASK_API_VERSION}" in result.output
        assert "Werkzeug" in result.output
        no_version = FlaskGroup(add_version_option=False)
        assert runner.invoke(no_version, ["--version"]).exit_code == 2

    def test_without_default_commands(self, runner):
        group = FlaskGroup(add_default_commands=False, create_app=lambda: Flask("bare"))
        result = runner.invoke(group, ["routes"])
        assert result.exit_code == 2


class TestRoutes:
    @pytest.fixture
    def app(self):
        app = Flask("routes_app")
        app.add_url_rule(
            "/get_post/<int:x>/<int:y>",
            methods=["GET", "POST"],
            endpoint="yyy_get_post",
        )
        app.add_url_rule("/zzz_post", methods=["POST"], endpoint="aaa_post")
        return app

    def invoke(self, runner, app, *args):
        return runner.invoke(FlaskGroup(create_app=lambda: app), ["routes", *args])

    @staticmethod
    def endpoints(output):
        return [line.split()[0] for line in output.splitlines()[2:]]

    def test_table(self, runner, app):
        result = self.invoke(runner, app)
        assert result.exit_code == 0
        lines = result.output.splitlines()
        assert lines[0].split() == ["Endpoint", "Methods", "Rule"]
        assert set(lines[1].replace(" ", "")) == {"-"}
        assert self.endpoints(result.output) == ["aaa_post", "static", "yyy_get_post"]
        row = next(line for line in lines if line.startswith("yyy_get_post"))
        assert "GET, POST" in row
        assert "/get_post/<int:x>/<int:y>" in row
        # Columns are aligned.
        assert lines[0].index("Methods") == row.index("GET")

    def test_sort(self, runner, app):
        default = self.invoke(runner, app).output
        assert self.invoke(runner, app, "--sort", "endpoint").output == default
        assert self.endpoints(self.invoke(runner, app, "-s", "methods").output) == [
            "static",
            "yyy_get_post",
            "aaa_post",
        ]
        assert self.endpoints(self.invoke(runner, app, "-s", "rule").output) == [
            "yyy_get_post",
            "static",
            "aaa_post",
        ]
        match_order = [rule.endpoint for rule in app.url_map.iter_rules()]
        assert (
            self.endpoints(self.invoke(runner, app, "-s", "match").output)
            == match_order
        )

    def test_all_methods(self, runner, app):
        assert "GET, HEAD, OPTIONS, POST" not in self.invoke(runner, app).output
        assert (
            "GET, HEAD, OPTIONS, POST"
            in self.invoke(runner, app, "--all-methods").output
        )

    def test_no_routes(self, runner):
        app = Flask("empty", static_folder=None)
        result = self.invoke(runner, app)
        assert result.exit_code == 0
        assert "No routes were registered." in result.output

    def test_subdomain_column(self, runner):
        app = Flask("subs", static_folder=None)
        app.add_url_rule("/a", subdomain="alpha", endpoint="a")
        app.add_url_rule("/b", endpoint="b")
        result = self.invoke(runner, app)
        assert result.output.splitlines()[0].split() == [
            "Endpoint",
            "Methods",
            "Subdomain",
            "Rule",
        ]
        assert "alpha" in result.output
        assert self.endpoints(self.invoke(runner, app, "-s", "domain").output) == [
            "b",
            "a",
        ]

    def test_host_column(self, runner):
        app = Flask("hosts", static_folder=None, host_matching=True)
        app.add_url_rule("/a", host="a.example", endpoint="a")
        app.add_url_rule("/b", host="b.example", endpoint="b")
        result = self.invoke(runner, app)
        assert "Host" in result.output.splitlines()[0]
        assert "a.example" in result.output

    def test_blueprint_routes(self, runner):
        app = Flask("bps", static_folder=None)
        bp = Blueprint("shop", __name__, url_prefix="/shop")
        bp.add_url_rule("/cart", endpoint="cart", view_func=lambda: "")
        app.register_blueprint(bp)
        result = self.invoke(runner, app)
        assert "shop.cart" in result.output
        assert "/shop/cart" in result.output


def test_shell_command(runner, monkeypatch, cliapps):
    captured = {}

    def interact(banner=None, local=None, **kwargs):
        captured["banner"] = banner
        captured["local"] = local
        captured["app_active"] = _cv_app.get(None) is not None

    import code

    monkeypatch.setattr(code, "interact", interact)
    monkeypatch.delattr(sys, "__interactivehook__", raising=False)
    startup = cliapps / "clipkg" / "empty.py"
    monkeypatch.setenv("PYTHONSTARTUP", str(startup))
    result = runner.invoke(FlaskGroup(), ["--app", "clipkg.with_commands", "shell"])
    assert result.exit_code == 0, result.output
    assert "App: with_commands" in captured["banner"]
    assert "Instance: " in captured["banner"]
    namespace = captured["local"]
    # From the app's shell context processors and the default context.
    assert namespace["answer"] == 42
    assert namespace["app"].name == "with_commands"
    assert "g" in namespace
    # From PYTHONSTARTUP.
    assert namespace["VALUE"] == 1
    assert captured["app_active"]


class TestRun:
    @pytest.fixture
    def calls(self, monkeypatch):
        calls = []

        def fake_run_simple(host, port, app, **options):
            calls.append((host, port, app, options))

        monkeypatch.setattr(cli_module, "run_simple", fake_run_simple)
        return calls

    def test_defaults(self, runner, calls):
        app = Flask("runner_app")
        result = runner.invoke(FlaskGroup(create_app=lambda: app), ["run"])
        assert result.exit_code == 0, result.output
        ((host, port, served, options),) = calls
        assert (host, port, served) == ("127.0.0.1", 5000, app)
        assert options["use_reloader"] is False
        assert options["use_debugger"] is False
        assert options["threaded"] is True
        assert options["ssl_context"] is None
        assert "Debug mode: off" in result.output

    def test_debug_turns_on_reloader_and_debugger(self, runner, calls):
        group = FlaskGroup(create_app=lambda: Flask("dbg"))
        result = runner.invoke(group, ["--debug", "run", "-h", "0.0.0.0", "-p", "8001"])
        assert result.exit_code == 0, result.output
        host, port, _, options = calls[0]
        assert (host, port) == ("0.0.0.0", 8001)
        assert options["use_reloader"] is True
        assert options["use_debugger"] is True
        assert "Debug mode: on" in result.output

    def test_explicit_switches(self, runner, calls, tmp_path):
        extra = tmp_path / "settings.cfg"
        extra.write_text("")
        group = FlaskGroup(create_app=lambda: Flask("sw"))
        args = [
            "--debug",
            "run",
            "--no-reload",
            "--no-debugger",
            "--without-threads",
            "--extra-files",
            str(extra),
            "--exclude-patterns",
            "*.tmp",
        ]
        result = runner.invoke(group, args)
        assert result.exit_code == 0, result.output
        options = calls[0][3]
        assert options["use_reloader"] is False
        assert options["use_debugger"] is False
        assert options["threaded"] is False
        assert options["extra_files"] == [str(extra)]
        assert options["exclude_patterns"] == ["*.tmp"]

    def test_debug_option_on_run_command(self, runner, calls):
        group = FlaskGroup(create_app=lambda: Flask("d"))
        runner.invoke(group, ["run", "--debug"])
        assert calls[0][3]["use_debugger"] is True

    def test_banner_names_app(self, runner, calls, cliapps):
        result = runner.invoke(FlaskGroup(), ["--app", "clipkg.single", "run"])
        assert "Serving erlen app 'clipkg.single'" in result.output

    def test_load_error_fails(self, runner, calls, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        result = runner.invoke(cli_module.cli, ["run"])
        assert result.exit_code != 0
        assert calls == []

    def test_load_error_in_reloader_serves_error(self, runner, calls, monkeypatch):
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")

        def create_app():
            raise RuntimeError("syntax slip")

        result = runner.invoke(FlaskGroup(create_app=create_app), ["run"])
        assert result.exit_code == 0, result.output
        ((_, _, served, _),) = calls
        with pytest.raises(RuntimeError, match="syntax slip"):
            served({}, lambda *a: None)


def test_run_from_cli_makes_app_run_noop(runner, monkeypatch, cliapps):
    # app.run() at import time must not start a server under the CLI.
    started = []
    monkeypatch.setattr(
        "werkzeug.serving.run_simple", lambda *a, **k: started.append(a)
    )
    group = FlaskGroup(create_app=lambda: Flask("noop"))

    @group.command()
    def go():
        _cv_app.get().app.run()
        click.echo("returned")

    result = runner.invoke(group, ["go"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("returned\n")
    assert started == []


def test_console_script_runs_app_command(cliapps):
    env = dict(os.environ)
    src = str(Path(cli_module.__file__).parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, str(cliapps)])
    env["ERLEN_APP"] = "clipkg.with_commands"
    env["ERLEN_SKIP_DOTENV"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "erlen", "hello", "--name", "sub"],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(cliapps),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello sub from with_commands\n"


# -- apps written for Flask: the --as-flask hint ------------------------------

FLASK_APP_SOURCE = """
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "written for Flask"
"""


def _erlen_cli(tmp_path, *args, block_flask=False):
    """Run ``python -m erlen`` on ``tmp_path/hello.py`` in a subprocess; with
    ``block_flask``, as on a machine where Flask is not installed."""
    (tmp_path / "hello.py").write_text(FLASK_APP_SOURCE)
    code = "import sys, runpy\n"
    if block_flask:
        code += "sys.modules['flask'] = None  # an import of it then fails\n"
    code += "sys.argv = ['erlen', *sys.argv[1:]]\n"
    code += "runpy.run_module('erlen', run_name='__main__')\n"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "ERLEN_"))
    }
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "block_flask", [False, True], ids=["flask-installed", "no-flask"]
)
def test_an_app_written_for_flask_gets_the_as_flask_hint(tmp_path, block_flask):
    pytest.importorskip("flask")
    result = _erlen_cli(tmp_path, "--app", "hello", "routes", block_flask=block_flask)
    assert result.returncode != 0
    assert "--as-flask" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_the_hint_works(tmp_path):
    result = _erlen_cli(tmp_path, "--as-flask", "--app", "hello", "routes")
    assert result.returncode == 0, result.stderr
    assert "index" in result.stdout
