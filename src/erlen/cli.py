"""The ``erlen`` (and ``flask``-compatible) command line: app discovery,
dotenv loading, and the ``run``, ``serve``, ``shell`` and ``routes``
commands (``serve`` lives in :mod:`erlen.serving`).

The app to load is given with ``--app``, or the :envvar:`ERLEN_APP` or
:envvar:`FLASK_APP` environment variable, or found in a ``wsgi.py`` or
``app.py`` file in the working directory.
"""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import os
import platform
import re
import sys
import threading
import traceback
import typing as t
from functools import update_wrapper
from types import ModuleType

import click
from click.core import ParameterSource
from werkzeug import run_simple
from werkzeug.serving import is_running_from_reloader
from werkzeug.utils import import_string

from . import globals as _globals
from .helpers import get_debug_flag
from .helpers import get_load_dotenv
from .serving import serve_command

# Bound by assignment for speed: see the PERF note in erlen.ctx.
_cv_app = _globals._cv_app

if t.TYPE_CHECKING:  # pragma: no cover
    import ssl

    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

    from .app import Flask

#: The Flask release whose API and behaviour erlen reproduces.
FLASK_API_VERSION = "3.1.3"

_APP_HELP = (
    "Use the '--app' option, the 'ERLEN_APP' or 'FLASK_APP' environment"
    " variable, or a 'wsgi.py' or 'app.py' file in the current directory."
)


class NoAppException(click.UsageError):
    """Raised when no application can be found or loaded."""


def _flask_class() -> type[Flask]:
    from .app import Flask

    return Flask


def _failed_inside(func: t.Callable[..., t.Any]) -> bool:
    """While handling a ``TypeError`` from calling ``func``: ``True`` when the
    error was raised by code that ``func`` ran, ``False`` when the call itself
    failed (wrong arguments) before entering ``func``'s body.
    """
    code = getattr(func, "__code__", None)
    tb = sys.exc_info()[2]
    try:
        while tb is not None:
            if tb.tb_frame.f_code is code:
                return True
            tb = tb.tb_next
        return False
    finally:
        # A traceback held in a local keeps every frame alive.
        del tb


def _called_with_wrong_args(f: t.Callable[..., t.Any]) -> bool:
    """While handling a ``TypeError`` from calling ``f``: whether the call
    itself failed, rather than something ``f`` ran."""
    return not _failed_inside(f)


def _call_factory(
    factory: t.Callable[..., t.Any], args: t.Sequence[t.Any], kwargs: dict[str, t.Any]
) -> t.Any:
    """Call an app factory. One written for Flask before 2.1 may require a
    ``script_info`` argument, which Flask passed then: it gets the current
    :class:`ScriptInfo`, with a warning."""
    parameters = inspect.signature(factory).parameters
    wanted = parameters.get("script_info")
    if (
        wanted is None
        or wanted.default is not inspect.Parameter.empty
        or "script_info" in kwargs
    ):
        return factory(*args, **kwargs)
    from .compat import warn_deprecated

    warn_deprecated(
        "an app factory's script_info argument",
        "a factory that takes no script_info",
        "no longer passed since Flask 2.1",
    )
    ctx = click.get_current_context(silent=True)
    info = ctx.find_object(ScriptInfo) if ctx is not None else None
    return factory(*args, script_info=info, **kwargs)


def call_factory(
    script_info: ScriptInfo | None,
    app_factory: t.Callable[..., t.Any],
    args: t.Sequence[t.Any] | None = None,
    kwargs: dict[str, t.Any] | None = None,
) -> t.Any:
    """Call ``app_factory(*args, **kwargs)``, passing ``script_info`` as
    Flask 2.0 did: as the ``script_info`` argument if the factory has one,
    else as the only argument of a factory that requires exactly one when
    ``args`` is empty. Removed from Flask in 2.1; call the factory instead."""
    from .compat import warn_deprecated

    warn_deprecated(
        "erlen.cli.call_factory", "a call of the factory", "removed in Flask 2.1"
    )
    parameters = inspect.signature(app_factory).parameters
    args, kwargs = list(args or ()), dict(kwargs or {})
    if "script_info" in parameters:
        kwargs["script_info"] = script_info
    elif not args and len(parameters) == 1:
        (only,) = parameters.values()
        if only.default is only.empty and only.kind is not only.VAR_KEYWORD:
            args.append(script_info)
    return app_factory(*args, **kwargs)


def find_best_app(module: ModuleType) -> Flask:
    """Find the application in ``module``.

    In order: an app named ``app`` or ``application``; the only app instance
    in the module; the result of calling a ``create_app`` or ``make_app``
    factory with no arguments. Raises :exc:`NoAppException` otherwise.
    """
    Flask = _flask_class()
    name = module.__name__

    for attr in ("app", "application"):
        candidate = getattr(module, attr, None)
        if isinstance(candidate, Flask):
            return candidate

    found = [v for v in vars(module).values() if isinstance(v, Flask)]
    if len(found) == 1:
        return found[0]
    if found:
        raise NoAppException(
            f"Detected multiple erlen applications in module '{name}'."
            f" Use '{name}:name' to specify the correct one."
        )

    for attr in ("create_app", "make_app"):
        factory = getattr(module, attr, None)
        if not inspect.isfunction(factory):
            continue
        try:
            app = _call_factory(factory, (), {})
        except TypeError as e:
            if _failed_inside(factory):
                raise
            raise NoAppException(
                f"Detected factory '{attr}' in module '{name}', but could not"
                f" call it without arguments. Use '{name}:{attr}(args)' to"
                " specify arguments."
            ) from e
        if isinstance(app, Flask):
            return app
        found.append(app)

    raise NoAppException(
        f"Failed to find an erlen application or factory in module '{name}'."
        f" Use '{name}:name' to specify one."
        + _real_flask_hint(found or vars(module).values())
    )


_AS_FLASK_HINT = (
    " To run an app written for Flask unchanged, add --as-flask"
    " (erlen --as-flask --app ... run), or change its imports from 'flask' to"
    " 'erlen'."
)


def _real_flask_hint(candidates: t.Iterable[t.Any]) -> str:
    """The ``--as-flask`` hint when one of ``candidates`` is an app of the
    real ``flask`` package, which erlen finds only under the alias."""
    real = sys.modules.get("flask")
    real_flask = getattr(real, "Flask", None)
    if real is None or real is sys.modules.get("erlen") or real_flask is None:
        return ""
    if any(isinstance(c, real_flask) for c in candidates):
        return " It holds an app of the 'flask' package." + _AS_FLASK_HINT
    return ""


def _parse_app_expression(
    app_name: str,
) -> tuple[str, list[t.Any], dict[str, t.Any]]:
    """Split ``"name"`` or ``"factory(args)"`` into the name and the literal
    positional and keyword arguments."""
    bad = NoAppException(
        f"Failed to parse {app_name!r} as an attribute name or function call."
    )
    try:
        node = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        raise bad from None

    if isinstance(node, ast.Name):
        return node.id, [], {}
    if not isinstance(node, ast.Call):
        raise bad
    if not isinstance(node.func, ast.Name):
        raise NoAppException(f"Function reference must be a simple name: {app_name!r}.")
    try:
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {
            kw.arg: ast.literal_eval(kw.value)
            for kw in node.keywords
            if kw.arg is not None
        }
    except ValueError:
        # literal_eval's own messages do not say which expression failed.
        raise NoAppException(
            f"Failed to parse arguments as literal values: {app_name!r}."
        ) from None
    return node.func.id, args, kwargs


def find_app_by_string(module: ModuleType, app_name: str) -> Flask:
    """Get the app from ``module`` by ``app_name``: an attribute name, or a
    factory call with literal arguments such as ``create_app("dev")``."""
    attr_name, args, kwargs = _parse_app_expression(app_name)
    mod_name = module.__name__

    try:
        attr = getattr(module, attr_name)
    except AttributeError as e:
        raise NoAppException(
            f"Failed to find attribute {attr_name!r} in {mod_name!r}."
        ) from e

    if inspect.isfunction(attr):
        try:
            app = _call_factory(attr, args, kwargs)
        except TypeError as e:
            if _failed_inside(attr):
                raise
            raise NoAppException(
                f"The factory {app_name!r} in module {mod_name!r} could not be"
                " called with the specified arguments."
            ) from e
    else:
        app = attr

    if isinstance(app, _flask_class()):
        return app
    raise NoAppException(
        f"A valid erlen application was not obtained from '{mod_name}:{app_name}'."
        + _real_flask_hint([app])
    )


def prepare_import(path: str) -> str:
    """Turn a file path or dotted name into an importable module name, and
    put the folder it must be imported from first on :data:`sys.path`.

    Package folders (those with an ``__init__.py``) are walked up so that
    ``pkg/sub/mod.py`` becomes ``pkg.sub.mod``.
    """
    path = os.path.realpath(path)
    stem, ext = os.path.splitext(path)
    if ext == ".py":
        path = stem
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)

    parts: list[str] = []
    while True:
        path, part = os.path.split(path)
        parts.append(part)
        if not os.path.exists(os.path.join(path, "__init__.py")):
            break

    if sys.path[0] != path:
        sys.path.insert(0, path)
    parts.reverse()
    return ".".join(parts)


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: t.Literal[True] = True
) -> Flask: ...


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: t.Literal[False] = ...
) -> Flask | None: ...


def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = True
) -> Flask | None:
    """Import ``module_name`` and get the app from it, by ``app_name`` if
    given, else with :func:`find_best_app`.

    An ``ImportError`` raised inside the module is reported with its
    traceback. A module that does not exist raises :exc:`NoAppException`,
    or returns ``None`` when ``raise_if_not_found`` is false.
    """
    try:
        __import__(module_name)
    except ImportError as e:
        # A traceback deeper than this frame means the module was found and
        # something it imported failed.
        if sys.exc_info()[2].tb_next:  # type: ignore[union-attr]
            missing = getattr(e, "name", None) or ""
            if missing == "flask" or missing.startswith("flask."):
                raise NoAppException(
                    f"{module_name!r} imports {missing!r}, and Flask is not"
                    f" installed.{_AS_FLASK_HINT}"
                ) from None
            raise NoAppException(
                f"While importing {module_name!r}, an ImportError was raised:"
                f"\n\n{traceback.format_exc()}"
            ) from None
        if raise_if_not_found:
            raise NoAppException(f"Could not import {module_name!r}.") from None
        return None

    module = sys.modules[module_name]
    if app_name is None:
        return find_best_app(module)
    return find_app_by_string(module, app_name)


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _core_in_use() -> str:
    """Which context-local core is active, and why when it is not the
    compiled one."""
    from . import local

    if local.COMPILED:
        return "compiled (erlen._local_c)"
    if os.environ.get("ERLEN_NO_EXTENSIONS", "") not in ("", "0"):
        return "pure Python (ERLEN_NO_EXTENSIONS is set)"
    return "pure Python (erlen._local_c is not built or cannot be imported)"


def get_version(
    ctx: click.Context, param: click.Parameter | None, value: t.Any
) -> None:
    """Callback of the ``--version`` option: print the Python, erlen (with the
    Flask API it implements) and Werkzeug versions and which context-local
    core is active, then exit."""
    if not value or ctx.resilient_parsing:
        return
    erlen_version = _dist_version("erlen")
    if erlen_version is None:
        from . import __version__ as erlen_version  # type: ignore[no-redef]
    click.echo(
        f"Python {platform.python_version()}\n"
        f"Erlen {erlen_version} (Flask {FLASK_API_VERSION} API)\n"
        f"Werkzeug {_dist_version('werkzeug')}\n"
        f"Core: {_core_in_use()}",
        color=ctx.color,
    )
    ctx.exit()


version_option = click.Option(
    ["--version"],
    help="Show the erlen version.",
    expose_value=False,
    callback=get_version,
    is_flag=True,
    is_eager=True,
)


class ScriptInfo:
    """What the command line knows about the app to load; passed to commands
    as click's context object. :class:`FlaskGroup` creates it.

    :param app_import_path: Where the app is, as ``module:name`` or
        ``path/to/file.py:name``; ``name`` may be a factory call.
    :param create_app: A function that returns the app, used instead of
        ``app_import_path``.
    :param set_debug_flag: Set ``app.debug`` from the environment after
        loading.
    :param load_dotenv_defaults: Whether the default dotenv files should be
        loaded (turned off by :envvar:`FLASK_SKIP_DOTENV`). ``ScriptInfo``
        itself loads nothing.
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: t.Callable[..., Flask] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        #: Where to import the app from, if set.
        self.app_import_path = app_import_path
        #: A function that returns the app, if set.
        self.create_app = create_app
        #: Free-form data commands can share.
        self.data: dict[t.Any, t.Any] = {}
        self.set_debug_flag = set_debug_flag
        #: Whether ``.flaskenv`` and ``.env`` should be loaded.
        self.load_dotenv_defaults = get_load_dotenv(load_dotenv_defaults)
        self._loaded_app: Flask | None = None

    def load_app(self) -> Flask:
        """Load the app once and return it; later calls return the same
        app. Raises :exc:`NoAppException` if no app can be found."""
        if self._loaded_app is not None:
            return self._loaded_app

        app: Flask | None
        if self.create_app is not None:
            app = self.create_app()
        elif self.app_import_path:
            # A ":" followed by a slash belongs to a Windows drive ("C:\\"),
            # not to the "module:name" separator.
            parts = re.split(r":(?![\\/])", self.app_import_path, maxsplit=1)
            name = parts[1] if len(parts) > 1 else None
            app = locate_app(prepare_import(parts[0]), name)
        else:
            app = None
            for filename in ("wsgi.py", "app.py"):
                app = locate_app(
                    prepare_import(filename), None, raise_if_not_found=False
                )
                if app is not None:
                    break

        if app is None:
            raise NoAppException(f"Could not locate an erlen application. {_APP_HELP}")

        if self.set_debug_flag:
            # Assign through the property so settings derived from debug
            # (template reloading) follow.
            app.debug = get_debug_flag()

        self._loaded_app = app
        return app


pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def with_appcontext(f: F) -> F:
    """Run a click command callback inside the app context of the script's
    app, loading the app if needed. The context stays active for
    subcommands too.

    Commands registered on ``app.cli`` or a blueprint's ``cli`` already run
    with an app context and do not need this.
    """

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if _cv_app.get(None) is None:
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return update_wrapper(decorator, f)  # type: ignore[return-value]


class AppGroup(click.Group):
    """A :class:`click.Group` whose :meth:`command` wraps callbacks in
    :func:`with_appcontext` (unless ``with_appcontext=False`` is passed) and
    whose :meth:`group` makes :class:`AppGroup` subgroups.
    """

    def command(  # type: ignore[override]
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Command]:
        """Like :meth:`click.Group.command`, with the callback wrapped in
        :func:`with_appcontext` unless ``with_appcontext=False``."""
        wrap = kwargs.pop("with_appcontext", True)
        make_command = super().command(*args, **kwargs)

        def decorator(f: t.Callable[..., t.Any]) -> click.Command:
            return make_command(with_appcontext(f) if wrap else f)  # type: ignore[no-any-return]

        return decorator

    def group(  # type: ignore[override]
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Group]:
        """Like :meth:`click.Group.group`, defaulting ``cls`` to
        :class:`AppGroup`."""
        kwargs.setdefault("cls", AppGroup)
        return super().group(*args, **kwargs)  # type: ignore[no-any-return]


def _set_app(ctx: click.Context, param: click.Option, value: str | None) -> str | None:
    if value is not None:
        ctx.ensure_object(ScriptInfo).app_import_path = value
    return value


# Eager so that the app is known when --help lists the app's commands; it must
# come before --help in the parameter list.
_app_option = click.Option(
    ["-A", "--app"],
    metavar="IMPORT",
    envvar="ERLEN_APP",
    help=(
        "The application or factory function to load, in the form"
        " 'module:name'. Module can be a dotted import or file path. Name is"
        " not required if it is 'app', 'application', 'create_app', or"
        " 'make_app', and can be 'name(args)' to pass arguments. Also read"
        " from ERLEN_APP or FLASK_APP."
    ),
    is_eager=True,
    expose_value=False,
    callback=_set_app,
)


def _set_debug(ctx: click.Context, param: click.Option, value: bool) -> bool | None:
    source = ctx.get_parameter_source(param.name)
    # The flag's own default (False) must not override the environment.
    if source in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
        return None
    # Through the environment rather than ScriptInfo, so that an app factory
    # sees it while it runs.
    flag = "1" if value else "0"
    os.environ["FLASK_DEBUG"] = flag
    if "ERLEN_DEBUG" in os.environ:
        # get_debug_flag prefers ERLEN_DEBUG; keep it from contradicting.
        os.environ["ERLEN_DEBUG"] = flag
    return value


_debug_option = click.Option(
    ["--debug/--no-debug"],
    envvar="ERLEN_DEBUG",
    help="Set debug mode.",
    expose_value=False,
    callback=_set_debug,
)


def _env_file_callback(
    ctx: click.Context, param: click.Option, value: str | None
) -> str | None:
    try:
        import dotenv  # noqa: F401
    except ImportError:
        # Without an explicit file, go on: load_dotenv prints a hint if
        # default files exist.
        if value is not None:
            raise click.BadParameter(
                "python-dotenv must be installed to load an env file.",
                ctx=ctx,
                param=param,
            ) from None

    load_defaults = ctx.ensure_object(ScriptInfo).load_dotenv_defaults
    if value is not None or load_defaults:
        load_dotenv(value, load_defaults=load_defaults)
    return value


# Eager so that the variables it loads are there for the other options.
_env_file_option = click.Option(
    ["-e", "--env-file"],
    type=click.Path(exists=True, dir_okay=False),
    envvar="ERLEN_ENV_FILE",
    help=(
        "Load environment variables from this file, taking precedence over"
        " those set by '.env' and '.flaskenv'. Variables set directly in the"
        " environment take highest precedence. python-dotenv must be"
        " installed."
    ),
    is_eager=True,
    expose_value=False,
    callback=_env_file_callback,
)


def _as_flask_callback(ctx: click.Context, param: click.Option, value: bool) -> bool:
    if value:
        from .compat import install_as_flask

        try:
            install_as_flask()
        except RuntimeError as e:
            raise click.UsageError(str(e), ctx=ctx) from None
    return value


# Eager, and the app is imported only later (when a command needs it), so an
# app that does "from flask import Flask" gets erlen's modules.
_as_flask_option = click.Option(
    ["--as-flask"],
    is_flag=True,
    envvar="ERLEN_AS_FLASK",
    help=(
        "Run an unmodified Flask app on erlen: 'import flask' and every"
        " 'flask.*' module resolve to erlen's. Also read from ERLEN_AS_FLASK."
    ),
    is_eager=True,
    expose_value=False,
    callback=_as_flask_callback,
)


class FlaskGroup(AppGroup):
    """The top-level command group: adds ``--env-file``, ``--as-flask``,
    ``--app`` and ``--debug`` options, the ``run``, ``serve``, ``shell`` and
    ``routes`` commands, the
    commands of installed plugins (entry point groups ``flask.commands`` and
    ``erlen.commands``) and the commands of the loaded app's ``cli``.

    :param add_default_commands: Add ``run``, ``serve``, ``shell`` and
        ``routes``.
    :param create_app: A function that returns the app; overrides
        ``--app``.
    :param add_version_option: Add ``--version``.
    :param load_dotenv: Load the nearest ``.env`` and ``.flaskenv`` files.
    :param set_debug_flag: Set the app's debug flag from the environment.

    Options fall back to ``FLASK_``-prefixed environment variables
    (``FLASK_APP``, ``FLASK_DEBUG``, ``FLASK_RUN_PORT``...); the
    ``ERLEN_``-prefixed names are read first.
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: t.Callable[..., Flask] | None = None,
        add_version_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: t.Any,
    ) -> None:
        params: list[click.Parameter] = list(extra.pop("params", None) or ())
        # Option callbacks rather than a group callback do the work, so a
        # user's group callback keeps it. --env-file first: it must be
        # processed before --app.
        params += [_env_file_option, _as_flask_option, _app_option, _debug_option]
        if add_version_option:
            params.append(version_option)

        settings = extra.setdefault("context_settings", {})
        settings.setdefault("auto_envvar_prefix", "FLASK")
        super().__init__(params=params, **extra)

        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag

        if add_default_commands:
            self.add_command(run_command)
            self.add_command(serve_command)
            self.add_command(shell_command)
            self.add_command(routes_command)

        self._loaded_plugin_commands = False

    def _load_plugin_commands(self) -> None:
        if self._loaded_plugin_commands:
            return
        for group in ("flask.commands", "erlen.commands"):
            for ep in importlib.metadata.entry_points(group=group):
                self.add_command(ep.load(), ep.name)
        self._loaded_plugin_commands = True

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._load_plugin_commands()
        # Built-in and plugin commands work even when the app fails to load.
        command = super().get_command(ctx, name)
        if command is not None:
            return command

        try:
            app = ctx.ensure_object(ScriptInfo).load_app()
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
            return None

        # Make the app context available to the command's parameter callbacks
        # as well as to the command, without @with_appcontext.
        app_ctx = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not app:
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        names = set(super().list_commands(ctx))
        try:
            names.update(
                ctx.ensure_object(ScriptInfo).load_app().cli.list_commands(ctx)
            )
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        except Exception:
            # An unexpected failure: the traceback is what helps.
            click.secho(f"{traceback.format_exc()}\n", err=True, fg="red")
        return sorted(names)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        # Tells app.run() to do nothing: a module that calls it at import time
        # would otherwise start a server while the CLI loads it.
        os.environ["FLASK_RUN_FROM_CLI"] = "true"
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if (not args and self.no_args_is_help) or (
            len(args) == 1 and args[0] in self.get_help_option_names(ctx)
        ):
            # Help is printed before eager options run, so process --env-file
            # and --app from the environment now: the help then lists the
            # app's commands.
            _env_file_option.handle_parse_result(ctx, {}, [])
            _app_option.handle_parse_result(ctx, {}, [])
        return super().parse_args(ctx, args)


def load_dotenv(
    path: str | os.PathLike[str] | None = None, load_defaults: bool = True
) -> bool:
    """Set environment variables from dotenv files.

    ``path`` wins over ``.env``, which wins over ``.flaskenv`` (the defaults
    are searched upwards from the working directory). A variable already in
    :data:`os.environ` is never changed. Does nothing (returns ``False``) when
    python-dotenv is not installed, printing a hint if dotenv files exist.

    :param path: A file to load.
    :param load_defaults: Also find and load ``.flaskenv`` and ``.env``.
    :return: Whether any variable was read from a file.
    """
    try:
        import dotenv
    except ImportError:
        if path or os.path.isfile(".env") or os.path.isfile(".flaskenv"):
            click.secho(
                " * Tip: There are .env files present. Install python-dotenv"
                " to use them.",
                fg="yellow",
                err=True,
            )
        return False

    files: list[str | os.PathLike[str]] = []
    if load_defaults:
        # Lowest precedence first; later files override earlier ones.
        for name in (".flaskenv", ".env"):
            found = dotenv.find_dotenv(name, usecwd=True)
            if found:
                files.append(found)
    if path is not None and os.path.isfile(path):
        files.append(path)

    merged: dict[str, str | None] = {}
    for file in files:
        merged.update(dotenv.dotenv_values(file, encoding="utf-8"))

    environ = os.environ
    for key, value in merged.items():
        if value is not None and key not in environ:
            environ[key] = value
    return bool(merged)


class _DispatchingApp:
    """A WSGI app that loads the real one with ``loader``, as ``flask run``
    did before Flask 2.2: at once (eager), or in a background thread (lazy)
    whose error, if any, is raised by the next request. By default it is
    lazy only in the reloader's child process."""

    def __init__(
        self, loader: t.Callable[[], WSGIApplication], use_eager_loading: bool | None
    ) -> None:
        self.loader = loader
        self._app: WSGIApplication | None = None
        self._lock = threading.Lock()
        self._bg_loading_exc: Exception | None = None
        if use_eager_loading is None:
            use_eager_loading = not is_running_from_reloader()
        if use_eager_loading:
            self._load_unlocked()
        else:
            self._load_in_background()

    def _load_in_background(self) -> None:
        click_ctx = click.get_current_context(silent=True)

        def load() -> None:
            with self._lock:
                if click_ctx is not None:  # the loader may need the ScriptInfo
                    click.globals.push_context(click_ctx)
                try:
                    self._load_unlocked()
                except Exception as e:
                    self._bg_loading_exc = e
                finally:
                    if click_ctx is not None:
                        click.globals.pop_context()

        threading.Thread(target=load).start()

    def _flush_bg_loading_exception(self) -> None:
        exc, self._bg_loading_exc = self._bg_loading_exc, None
        if exc is not None:
            raise exc

    def _load_unlocked(self) -> WSGIApplication:
        self._app = app = self.loader()
        self._bg_loading_exc = None
        return app

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]:
        __traceback_hide__ = True  # noqa: F841
        if self._app is not None:
            return self._app(environ, start_response)
        self._flush_bg_loading_exception()
        with self._lock:
            app = self._app if self._app is not None else self._load_unlocked()
        return app(environ, start_response)


class DispatchingApp(_DispatchingApp):
    __doc__ = _DispatchingApp.__doc__

    def __init__(
        self,
        loader: t.Callable[[], WSGIApplication],
        use_eager_loading: bool | None = None,
    ) -> None:
        from .compat import warn_deprecated

        warn_deprecated(
            "erlen.cli.DispatchingApp",
            "the loaded app itself (erlen run loads it before serving)",
            "removed in Flask 2.2",
        )
        super().__init__(loader, use_eager_loading)


def show_server_banner(debug: bool, app_import_path: str | None) -> None:
    """Print which app is served and the debug mode, except in the
    reloader's child process (the parent already printed it)."""
    if is_running_from_reloader():
        return
    if app_import_path is not None:
        click.echo(f" * Serving erlen app '{app_import_path}'")
    if debug is not None:
        click.echo(f" * Debug mode: {'on' if debug else 'off'}")
    click.echo(f" * Core: {_core_in_use()}")


class CertParamType(click.ParamType):  # type: ignore[type-arg]
    """The ``--cert`` option's type: an existing file, ``adhoc`` (needs the
    cryptography library), or the import path of an
    :class:`ssl.SSLContext`."""

    name = "path"

    def __init__(self) -> None:
        self.path_type = click.Path(exists=True, dir_okay=False, resolve_path=True)

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        try:
            import ssl
        except ImportError:
            raise click.BadParameter(
                'Using "--cert" requires Python to be compiled with SSL support.',
                ctx,
                param,
            ) from None

        try:
            return self.path_type(value, param, ctx)
        except click.BadParameter:
            text = click.STRING(value, param, ctx).lower()
            if text == "adhoc":
                try:
                    import cryptography  # noqa: F401
                except ImportError:
                    raise click.BadParameter(
                        "Using ad-hoc certificates requires the cryptography library.",
                        ctx,
                        param,
                    ) from None
                return text
            context = import_string(text, silent=True)
            if isinstance(context, ssl.SSLContext):
                return context
            raise


def _validate_key(ctx: click.Context, param: click.Parameter, value: t.Any) -> t.Any:
    """Check ``--key`` against ``--cert``: required with a certificate file,
    refused with ``adhoc`` or an SSL context. With a file, turns the ``cert``
    parameter into a ``(cert, key)`` pair."""
    cert = ctx.params.get("cert")
    adhoc = cert == "adhoc"
    try:
        import ssl
    except ImportError:
        is_context = False
    else:
        is_context = isinstance(cert, ssl.SSLContext)

    if value is None:
        if cert and not (adhoc or is_context):
            raise click.BadParameter('Required when using "--cert".', ctx, param)
        return value

    if adhoc:
        raise click.BadParameter(
            'When "--cert" is "adhoc", "--key" is not used.', ctx, param
        )
    if is_context:
        raise click.BadParameter(
            'When "--cert" is an SSLContext object, "--key" is not used.', ctx, param
        )
    if not cert:
        raise click.BadParameter('"--cert" must also be specified.', ctx, param)
    ctx.params["cert"] = (cert, value)
    return value


class SeparatedPathType(click.Path):
    """A list of paths separated by :data:`os.pathsep`, each checked as a
    :class:`click.Path`."""

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        convert_one = super().convert
        return [
            convert_one(item, param, ctx) for item in self.split_envvar_value(value)
        ]


@click.command("run", short_help="Run a development server.")
@click.option(
    "--host",
    "-h",
    default="127.0.0.1",
    envvar="ERLEN_RUN_HOST",
    help="The interface to bind to.",
)
@click.option(
    "--port", "-p", default=5000, envvar="ERLEN_RUN_PORT", help="The port to bind to."
)
@click.option(
    "--cert",
    type=CertParamType(),
    envvar="ERLEN_RUN_CERT",
    help="Specify a certificate file to use HTTPS.",
    is_eager=True,
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    envvar="ERLEN_RUN_KEY",
    callback=_validate_key,
    expose_value=False,
    help="The key file to use when specifying a certificate.",
)
@click.option(
    "--reload/--no-reload",
    default=None,
    envvar="ERLEN_RUN_RELOAD",
    help="Enable or disable the reloader. By default the reloader is active"
    " if debug is enabled.",
)
@click.option(
    "--debugger/--no-debugger",
    default=None,
    envvar="ERLEN_RUN_DEBUGGER",
    help="Enable or disable the debugger. By default the debugger is active"
    " if debug is enabled.",
)
@click.option(
    "--eager-loading/--lazy-loading",
    default=None,
    help="Deprecated (removed in Flask 2.2). --lazy-loading loads the app in a"
    " background thread and raises its loading error on requests;"
    " --eager-loading makes a loading error stop the reloader's child too.",
)
@click.option(
    "--with-threads/--without-threads",
    default=True,
    envvar="ERLEN_RUN_WITH_THREADS",
    help="Enable or disable multithreading.",
)
@click.option(
    "--extra-files",
    default=None,
    type=SeparatedPathType(),
    envvar="ERLEN_RUN_EXTRA_FILES",
    help="Extra files that trigger a reload on change. Multiple paths are"
    f" separated by {os.path.pathsep!r}.",
)
@click.option(
    "--exclude-patterns",
    default=None,
    type=SeparatedPathType(),
    envvar="ERLEN_RUN_EXCLUDE_PATTERNS",
    help="Files matching these fnmatch patterns will not trigger a reload on"
    f" change. Multiple patterns are separated by {os.path.pathsep!r}.",
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool | None,
    debugger: bool | None,
    eager_loading: bool | None,
    with_threads: bool,
    cert: ssl.SSLContext | tuple[str, str | None] | t.Literal["adhoc"] | None,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
) -> None:
    """Run a local development server.

    This server is for development only. It does not have the stability,
    security or performance of a production WSGI server.

    The '--debug' option turns on the reloader and the debugger.
    """
    if eager_loading is not None:
        from .compat import warn_deprecated

        warn_deprecated(
            "erlen run --eager-loading/--lazy-loading",
            "nothing: erlen run loads the app before serving, and in the"
            " reloader's child shows a loading error on each request",
            "removed in Flask 2.2",
        )
    try:
        app: WSGIApplication = (
            info.load_app()
            if eager_loading is not False
            else _DispatchingApp(info.load_app, use_eager_loading=False)
        )
    except Exception as e:
        if eager_loading or not is_running_from_reloader():
            raise e from None
        # In the reloader's child, keep serving so that fixing the code
        # reloads it: show the error now and raise it for every request.
        traceback.print_exc()
        error = e

        def app(
            environ: WSGIEnvironment, start_response: StartResponse
        ) -> t.Iterable[bytes]:
            raise error from None

    debug = get_debug_flag()
    if reload is None:
        reload = debug
    if debugger is None:
        debugger = debug

    show_server_banner(debug, info.app_import_path)
    run_simple(
        host,
        port,
        app,
        use_reloader=reload,
        use_debugger=debugger,
        threaded=with_threads,
        ssl_context=cert,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
    )


run_command.params.insert(0, _debug_option)


@click.command("shell", short_help="Run a shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """Run an interactive Python shell in the app context, with the names
    from the app's shell context processors defined."""
    import code

    app = _cv_app.get().app
    banner = (
        f"Python {sys.version} on {sys.platform}\n"
        f"App: {app.import_name}\n"
        f"Instance: {app.instance_path}"
    )
    namespace: dict[str, t.Any] = {}

    # Honour the interpreter's own startup script, as `python` would.
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup) as f:
            exec(compile(f.read(), startup, "exec"), namespace)

    namespace.update(app.make_shell_context())

    hook = getattr(sys, "__interactivehook__", None)
    if hook is not None:
        try:
            import readline
            from rlcompleter import Completer
        except ImportError:
            pass
        else:
            # The default completer reads __main__ (erlen.__main__ here);
            # complete from the shell's namespace instead.
            readline.set_completer(Completer(namespace).complete)
        hook()

    code.interact(banner=banner, local=namespace)


@click.command("routes", short_help="Show the routes for the app.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "domain", "rule", "match")),
    default="endpoint",
    help="Method to sort routes by. 'match' is the order in which routes are"
    " matched when dispatching a request.",
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS methods.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show all registered routes with endpoints and methods."""
    url_map = _cv_app.get().app.url_map
    rules = list(url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return

    hidden = frozenset() if all_methods else frozenset(("HEAD", "OPTIONS"))
    by_host = url_map.host_matching

    def domain(rule: t.Any) -> str:
        return (rule.host if by_host else rule.subdomain) or ""

    show_domain = any(domain(rule) for rule in rules)
    columns = ["endpoint", "methods"] + (["domain"] if show_domain else []) + ["rule"]
    headers = ["Endpoint", "Methods"]
    if show_domain:
        headers.append("Host" if by_host else "Subdomain")
    headers.append("Rule")

    rows = []
    for rule in rules:
        row = [rule.endpoint, ", ".join(sorted(set(rule.methods or ()) - hidden))]
        if show_domain:
            row.append(domain(rule))
        row.append(rule.rule)
        rows.append(row)

    # "match" keeps the map's own order; so does "domain" when no rule has one.
    if sort in columns:
        index = columns.index(sort)
        rows.sort(key=lambda r: r[index])

    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join(f"{{{i}:<{w}}}" for i, w in enumerate(widths))
    click.echo(line.format(*headers))
    click.echo(line.format(*("-" * w for w in widths)))
    for row in rows:
        click.echo(line.format(*row))


cli = FlaskGroup(
    name="erlen",
    help="""\
A general utility script for erlen (and Flask) applications.

An application to load must be given with the '--app' option, the
'ERLEN_APP' or 'FLASK_APP' environment variable, or with a 'wsgi.py' or
'app.py' file in the current directory.
""",
)


def main() -> None:
    """Entry point of the ``erlen`` console script and ``python -m erlen``."""
    cli.main()


if __name__ == "__main__":
    main()
