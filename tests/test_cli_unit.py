"""Command-line pieces that need no application: import path preparation,
import failures, app expressions, dotenv loading and the ``run`` options."""

import os
import platform
import ssl
import sys
import types
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from erlen import cli as cli_module
from erlen.cli import find_app_by_string
from erlen.cli import FLASK_API_VERSION
from erlen.cli import get_version
from erlen.cli import load_dotenv
from erlen.cli import locate_app
from erlen.cli import NoAppException
from erlen.cli import prepare_import
from erlen.cli import run_command
from erlen.cli import ScriptInfo
from erlen.cli import show_server_banner

CLIAPPS = Path(__file__).parent.joinpath("cliapps").resolve()
ENV_NAMES = (
    "FLASK_APP",
    "ERLEN_APP",
    "FLASK_DEBUG",
    "ERLEN_DEBUG",
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


@pytest.fixture
def restore_sys_path():
    saved = sys.path[:]
    yield
    sys.path[:] = saved


@pytest.fixture
def cliapps(monkeypatch):
    """Put the fixture apps on the import path; forget modules imported from
    them afterwards so each test imports afresh."""
    monkeypatch.syspath_prepend(str(CLIAPPS))
    before = set(sys.modules)
    yield CLIAPPS
    for name in set(sys.modules) - before:
        del sys.modules[name]


@pytest.mark.parametrize(
    ("value", "folder", "module"),
    [
        ("plain", Path.cwd(), "plain"),
        ("plain.py", Path.cwd(), "plain"),
        ("sub/plain", Path.cwd() / "sub", "plain"),
        ("pkg/__init__.py", Path.cwd(), "pkg"),
        ("pkg/__init__", Path.cwd(), "pkg"),
        ("a.b.c", Path.cwd(), "a.b.c"),
        (CLIAPPS / "clipkg" / "single.py", CLIAPPS, "clipkg.single"),
        (CLIAPPS / "clipkg" / "deep" / "__init__.py", CLIAPPS, "clipkg.deep"),
        (CLIAPPS / "clipkg" / "deep" / "deeper", CLIAPPS, "clipkg.deep.deeper"),
        (
            CLIAPPS / "clipkg" / "deep" / "deeper" / "mod.py",
            CLIAPPS,
            "clipkg.deep.deeper.mod",
        ),
        (CLIAPPS / "clipkg.single", CLIAPPS, "clipkg.single"),
        # Not a Python file: the name is kept and the import fails later.
        (CLIAPPS / "clipkg" / "notes.txt", CLIAPPS, "clipkg.notes.txt"),
    ],
)
def test_prepare_import(restore_sys_path, value, folder, module):
    assert prepare_import(str(value)) == module
    assert sys.path[0] == str(folder)


def test_prepare_import_does_not_duplicate_path(restore_sys_path):
    target = str(CLIAPPS / "clipkg" / "single.py")
    prepare_import(target)
    count = sys.path.count(str(CLIAPPS))
    prepare_import(target)
    assert sys.path.count(str(CLIAPPS)) == count


def test_locate_app_missing_module(cliapps):
    with pytest.raises(NoAppException, match="Could not import 'erlen_no_such_mod'"):
        locate_app("erlen_no_such_mod", None)
    assert locate_app("erlen_no_such_mod", None, raise_if_not_found=False) is None


def test_locate_app_import_error_inside_module(cliapps):
    with pytest.raises(NoAppException) as exc_info:
        locate_app("clipkg.bad_import", None)
    message = exc_info.value.format_message()
    assert "While importing 'clipkg.bad_import', an ImportError was raised" in message
    # The original traceback is included so the user sees the real cause.
    assert "erlen_tests_missing_dependency" in message
    assert "Traceback" in message
    # Not suppressed: the module exists, its import is what failed.
    with pytest.raises(NoAppException):
        locate_app("clipkg.bad_import", None, raise_if_not_found=False)


def test_locate_app_not_python(cliapps):
    with pytest.raises(NoAppException):
        locate_app("clipkg.notes.txt", None)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("create_app(", "Failed to parse 'create_app(' as an attribute name"),
        ("1 + 2", "Failed to parse '1 + 2' as an attribute name"),
        ("pkg.create_app()", "Function reference must be a simple name"),
        ("create_app(config)", "Failed to parse arguments as literal values"),
        ("create_app(x=len)", "Failed to parse arguments as literal values"),
        ("missing", "Failed to find attribute 'missing' in 'fake_mod'"),
    ],
)
def test_find_app_by_string_bad_expressions(expression, message):
    module = types.ModuleType("fake_mod")
    with pytest.raises(
        NoAppException, match=message.replace("(", r"\(").replace("+", r"\+")
    ):
        find_app_by_string(module, expression)


def test_script_info_without_app(tmp_path, monkeypatch, restore_sys_path):
    monkeypatch.chdir(tmp_path)
    info = ScriptInfo()
    with pytest.raises(NoAppException) as exc_info:
        info.load_app()
    message = exc_info.value.format_message()
    for hint in ("--app", "FLASK_APP", "ERLEN_APP", "wsgi.py", "app.py"):
        assert hint in message


def test_script_info_skip_dotenv(monkeypatch):
    assert ScriptInfo().load_dotenv_defaults is True
    assert ScriptInfo(load_dotenv_defaults=False).load_dotenv_defaults is False
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    assert ScriptInfo().load_dotenv_defaults is False
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "0")
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")
    assert ScriptInfo().load_dotenv_defaults is False


@pytest.fixture
def dotenv_dir(tmp_path, monkeypatch):
    pytest.importorskip("dotenv")
    (tmp_path / ".flaskenv").write_text("E_ONE=flaskenv\nE_TWO=two\nE_KEEP=0\n")
    (tmp_path / ".env").write_text(
        "E_ONE=env\nE_THREE=3\nE_KEEP=2\nE_UTF=Grüße\n", encoding="utf-8"
    )
    (tmp_path / "custom.env").write_text("E_ONE=custom\nE_FOUR=4\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    for name in ("E_ONE", "E_TWO", "E_THREE", "E_FOUR", "E_UTF"):
        monkeypatch.delenv(name, raising=False)
        # Undo whatever load_dotenv sets.
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    monkeypatch.setenv("E_KEEP", "from-environ")
    return tmp_path


def test_load_dotenv_precedence(dotenv_dir, monkeypatch):
    monkeypatch.chdir(dotenv_dir)
    assert load_dotenv() is True
    assert os.environ["E_ONE"] == "env"  # .env beats .flaskenv
    assert os.environ["E_TWO"] == "two"  # only in .flaskenv
    assert os.environ["E_THREE"] == "3"  # only in .env
    assert os.environ["E_KEEP"] == "from-environ"  # environ beats files
    assert os.environ["E_UTF"] == "Grüße"
    assert Path.cwd() == dotenv_dir


def test_load_dotenv_searches_upwards(dotenv_dir, monkeypatch):
    monkeypatch.chdir(dotenv_dir / "a" / "b")
    load_dotenv()
    assert os.environ["E_ONE"] == "env"
    assert Path.cwd() == dotenv_dir / "a" / "b"


def test_load_dotenv_given_path_wins(dotenv_dir, monkeypatch):
    monkeypatch.chdir(dotenv_dir)
    load_dotenv(dotenv_dir / "custom.env")
    assert os.environ["E_ONE"] == "custom"
    assert os.environ["E_FOUR"] == "4"
    assert os.environ["E_TWO"] == "two"


def test_load_dotenv_without_defaults(dotenv_dir, monkeypatch):
    monkeypatch.chdir(dotenv_dir)
    assert load_dotenv(dotenv_dir / "custom.env", load_defaults=False) is True
    assert os.environ["E_ONE"] == "custom"
    assert "E_TWO" not in os.environ
    assert load_dotenv("no-such-file", load_defaults=False) is False


def test_load_dotenv_without_python_dotenv(dotenv_dir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dotenv", None)
    monkeypatch.chdir(dotenv_dir)
    assert load_dotenv() is False
    assert "E_ONE" not in os.environ
    assert "Install python-dotenv" in capsys.readouterr().err


def test_env_file_option_loads_file(dotenv_dir, monkeypatch):
    monkeypatch.chdir(dotenv_dir / "a")
    group = cli_module.FlaskGroup(create_app=lambda: None)  # never loaded

    @group.command(with_appcontext=False)
    def show():
        click.echo(f"{os.environ.get('E_ONE')} {os.environ.get('E_FOUR')}")

    result = CliRunner().invoke(group, ["-e", str(dotenv_dir / "custom.env"), "show"])
    assert result.exit_code == 0, result.output
    assert result.output == "custom 4\n"


def test_skip_dotenv_env_var(dotenv_dir, monkeypatch):
    monkeypatch.chdir(dotenv_dir)
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")
    group = cli_module.FlaskGroup()

    @group.command(with_appcontext=False)
    def show():
        click.echo(str(os.environ.get("E_ONE")))

    result = CliRunner().invoke(group, ["show"])
    assert result.output == "None\n"


def test_version_option(capsys):
    class Ctx:
        resilient_parsing = False
        color = None
        exited = False

        def exit(self):
            self.exited = True

    ctx = Ctx()
    get_version(ctx, None, True)
    out = capsys.readouterr().out
    assert f"Python {platform.python_version()}" in out
    assert f"Flask {FLASK_API_VERSION}" in out
    assert f"Werkzeug {version('werkzeug')}" in out
    assert "Erlen " in out
    assert ctx.exited


def test_version_option_ignored_when_not_given(capsys):
    class Ctx:
        resilient_parsing = False

        def exit(self):  # pragma: no cover - must not be reached
            raise AssertionError

    get_version(Ctx(), None, False)
    assert capsys.readouterr().out == ""


def test_run_cert_file_needs_key():
    with pytest.raises(click.BadParameter, match="Required when using"):
        run_command.make_context("run", ["--cert", __file__])
    with pytest.raises(click.BadParameter, match="must also be specified"):
        run_command.make_context("run", ["--key", __file__])
    for args in (
        ["--cert", __file__, "--key", __file__],
        ["--key", __file__, "--cert", __file__],
    ):
        ctx = run_command.make_context("run", args)
        assert ctx.params["cert"] == (__file__, __file__)


def test_run_cert_adhoc(monkeypatch):
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(click.BadParameter, match="cryptography"):
        run_command.make_context("run", ["--cert", "adhoc"])
    monkeypatch.setitem(sys.modules, "cryptography", types.ModuleType("cryptography"))
    assert (
        run_command.make_context("run", ["--cert", "ADHOC"]).params["cert"] == "adhoc"
    )
    with pytest.raises(click.BadParameter, match="adhoc"):
        run_command.make_context("run", ["--cert", "adhoc", "--key", __file__])


def test_run_cert_ssl_context_import(monkeypatch):
    monkeypatch.setitem(sys.modules, "erlen_missing_ctx", None)
    with pytest.raises(click.BadParameter):
        run_command.make_context("run", ["--cert", "erlen_missing_ctx"])
    # Importable, but not an SSLContext.
    with pytest.raises(click.BadParameter):
        run_command.make_context("run", ["--cert", "erlen"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    monkeypatch.setitem(sys.modules, "erlen_ssl_ctx", context)
    assert (
        run_command.make_context("run", ["--cert", "erlen_ssl_ctx"]).params["cert"]
        is context
    )
    with pytest.raises(click.BadParameter, match="SSLContext"):
        run_command.make_context("run", ["--cert", "erlen_ssl_ctx", "--key", __file__])


def test_run_cert_without_ssl(monkeypatch):
    monkeypatch.setitem(sys.modules, "ssl", None)
    with pytest.raises(click.BadParameter, match="SSL support"):
        run_command.make_context("run", ["--cert", __file__])


def test_run_separated_paths(tmp_path):
    one = tmp_path / "one.py"
    two = tmp_path / "two.py"
    one.write_text("")
    two.write_text("")
    joined = os.pathsep.join([str(one), str(two)])
    ctx = run_command.make_context(
        "run", ["--extra-files", joined, "--exclude-patterns", "*.pyc"]
    )
    assert ctx.params["extra_files"] == [str(one), str(two)]
    assert ctx.params["exclude_patterns"] == ["*.pyc"]


def test_run_defaults():
    ctx = run_command.make_context("run", [])
    assert ctx.params["host"] == "127.0.0.1"
    assert ctx.params["port"] == 5000
    assert ctx.params["reload"] is None
    assert ctx.params["debugger"] is None
    assert ctx.params["with_threads"] is True


@pytest.mark.parametrize("prefix", ["FLASK", "ERLEN"])
def test_run_options_from_environment(monkeypatch, prefix):
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")
    group = cli_module.FlaskGroup()
    monkeypatch.setenv(f"{prefix}_RUN_PORT", "8123")
    monkeypatch.setenv(f"{prefix}_RUN_HOST", "0.0.0.0")
    with group.make_context("erlen", ["run"]) as ctx:
        sub = run_command.make_context("run", [], parent=ctx)
    assert sub.params["port"] == 8123
    assert sub.params["host"] == "0.0.0.0"


def test_show_server_banner(capsys, monkeypatch):
    show_server_banner(True, "pkg.mod:app")
    out = capsys.readouterr().out
    assert "Serving erlen app 'pkg.mod:app'" in out
    assert "Debug mode: on" in out
    show_server_banner(False, None)
    out = capsys.readouterr().out
    assert "Serving" not in out
    assert "Debug mode: off" in out
    # Which core serves the app, as ``erlen --version`` says it.
    import erlen.local

    core = "compiled" if erlen.local.COMPILED else "pure Python"
    assert f" * Core: {core}" in out
    monkeypatch.setattr(erlen.local, "COMPILED", not erlen.local.COMPILED)
    show_server_banner(False, None)
    other = "pure Python" if erlen.local.COMPILED is False else "compiled"
    assert f" * Core: {other}" in capsys.readouterr().out
    # The reloader's child process stays quiet.
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    show_server_banner(True, "x")
    assert capsys.readouterr().out == ""


def test_make_context_marks_cli_run(monkeypatch):
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")
    group = cli_module.FlaskGroup()
    group.make_context("erlen", ["--help"], resilient_parsing=True)
    assert os.environ["FLASK_RUN_FROM_CLI"] == "true"


def test_main_module_runs_cli(tmp_path):
    import subprocess

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(cli_module.__file__).parents[1]), env.get("PYTHONPATH", "")]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "erlen", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"Flask {FLASK_API_VERSION}" in proc.stdout
