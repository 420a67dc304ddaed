"""The WSGI application: :class:`Flask` and the request lifecycle."""

from __future__ import annotations

import collections.abc as cabc
import contextvars
import inspect
import os
import sys
import threading
import typing as t
import warnings
import weakref
from datetime import timedelta
from functools import lru_cache
from functools import update_wrapper
from types import FunctionType
from urllib.parse import quote as _url_quote

import click
from werkzeug.datastructures import Headers
from werkzeug.datastructures import ImmutableDict
from werkzeug.exceptions import BadRequestKeyError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.routing import BuildError
from werkzeug.routing import Map
from werkzeug.routing import MapAdapter
from werkzeug.routing import RequestRedirect
from werkzeug.routing import RoutingException
from werkzeug.routing import Rule
from werkzeug.serving import is_running_from_reloader
from werkzeug.wrappers import Response as BaseResponse
from werkzeug.wsgi import get_host

from . import cli
from . import ctx as _ctx_module
from . import signals as _signals
from .signals import lifecycle as _lifecycle
from .ctx import AppContext
from .ctx import RequestContext
from .ctx import _MATCH_MEMO
from .ctx import _UNMADE
from .ctx import _adapter_for
from ._overrides import Unchanged
from .globals import g
from .globals import request
from .globals import session
from .helpers import get_debug_flag
from .helpers import get_flashed_messages
from .helpers import get_load_dotenv
from .helpers import send_from_directory
from .sansio.app import App
from .sansio.scaffold import _sentinel
from .sansio.scaffold import setupmethod
from .sessions import SecureCookieSessionInterface
from .sessions import SessionInterface
from .wrappers import Request
from .wrappers import Response
from .wrappers import send_text

from . import globals as _globals

# Bound by assignment for speed: see the PERF note in erlen.ctx.
_cv_app = _globals._cv_app
_cv_request = _globals._cv_request
_new_object = object.__new__

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment

    from .testing import FlaskClient
    from .testing import FlaskCliRunner

T = t.TypeVar("T", bound=t.Callable[..., t.Any])

_CO_COROUTINE = inspect.CO_COROUTINE
_SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
# Characters left as they are in a URL fragment.
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


@lru_cache(maxsize=512)
def _chain_of(endpoint: str) -> tuple[str, ...]:
    """The blueprints of an endpoint, innermost first:
    ``"a.b.view"`` -> ``("a.b", "a")``; ``()`` for an app endpoint."""
    name, dot, _ = endpoint.rpartition(".")
    if not dot:
        return ()
    chain = [name]
    while "." in name:
        name = name.rpartition(".")[0]
        chain.append(name)
    return tuple(chain)


def _blueprints_of(request: Request) -> tuple[str, ...]:
    # PERF: the chain is derived from the rule's endpoint through a C-level
    # lru_cache, instead of the request's properties which build a new list.
    rule = request.url_rule
    if rule is None:
        return ()
    return _chain_of(rule.endpoint)


def _app_first(registry: t.Any, bps: tuple[str, ...]) -> t.Any:
    """The hook lists of the app, then of each blueprint from the outermost."""
    cache = getattr(registry, "app_first", None)
    if cache is None:  # a plain dict put in place of the registry
        return [registry[n] for n in (None, *reversed(bps)) if n in registry]
    lists = cache.get(bps)
    if lists is None:
        lists = registry.build_app_first(bps)
    return lists


def _bp_first(registry: t.Any, bps: tuple[str, ...]) -> t.Any:
    """The hook lists of each blueprint from the innermost, then the app's."""
    cache = getattr(registry, "bp_first", None)
    if cache is None:  # a plain dict put in place of the registry
        return [registry[n] for n in (*bps, None) if n in registry]
    lists = cache.get(bps)
    if lists is None:
        lists = registry.build_bp_first(bps)
    return lists


def _public_module_name() -> str:
    # Under the ``flask`` alias this module is ``flask.app``: warnings are
    # attributed to that name, so filters written for Flask apply.
    if sys.modules.get("flask.app") is sys.modules.get(__name__):
        return "flask.app"
    return __name__


def _current_subdomain(environ: WSGIEnvironment, server_name: str) -> str:
    """The subdomain of the request's host under ``server_name``, or
    ``"<invalid>"`` (with a warning) when the host is not under it; the
    same as werkzeug's ``bind_to_environ`` computes, with the warning
    attributed to the app module."""
    host = get_host(environ).lower()
    scheme = environ["wsgi.url_scheme"]
    upgrade = any(
        v.strip(" \t") == "upgrade"
        for v in environ.get("HTTP_CONNECTION", "").lower().split(",")
    )
    if upgrade and environ.get("HTTP_UPGRADE", "").lower() == "websocket":
        scheme = "wss" if scheme == "https" else "ws"
    name = server_name.lower()
    if scheme in {"http", "ws"} and name.endswith(":80"):
        name = name[:-3]
    elif scheme in {"https", "wss"} and name.endswith(":443"):
        name = name[:-4]
    current = host.split(".")
    configured = name.split(".")
    offset = -len(configured)
    if current[offset:] != configured:
        warnings.warn_explicit(
            f"Current server name {host!r} doesn't match configured"
            f" server name {name!r}",
            UserWarning,
            __file__,
            sys._getframe().f_lineno,
            module=_public_module_name(),
        )
        return "<invalid>"
    return ".".join(filter(None, current[:offset]))


class _ThreadLoop:
    """A thread's own event loop, closed when the thread ends (the holder
    lives in a ``threading.local``) or at interpreter exit."""

    __slots__ = ("loop", "pid", "__weakref__")

    def __init__(self, loop: t.Any) -> None:
        self.loop = loop
        self.pid = os.getpid()


_thread_loops = threading.local()


def _close_loop(loop: t.Any, pid: int) -> None:
    import asyncio

    if loop.is_closed() or loop.is_running():
        return
    try:
        if pid == os.getpid():  # a forked child only drops its copy
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(
                    asyncio.gather(*tasks, return_exceptions=True)
                )
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
    except RuntimeError:  # another loop runs in this thread: just close
        pass
    finally:
        loop.close()


def _thread_loop() -> t.Any:
    """This thread's event loop, made on first use."""
    holder = getattr(_thread_loops, "holder", None)
    if (
        holder is not None
        and holder.pid == os.getpid()
        and not holder.loop.is_closed()
    ):
        return holder.loop
    import asyncio

    holder = _ThreadLoop(asyncio.new_event_loop())
    weakref.finalize(holder, _close_loop, holder.loop, holder.pid)
    _thread_loops.holder = holder
    return holder.loop


def _restore_context(context: contextvars.Context) -> None:
    # The coroutine ran in a copy of the caller's context; carry what it
    # changed back to the caller, as asgiref does.
    for var, value in context.items():
        try:
            if var.get() is value:
                continue
        except LookupError:
            pass
        var.set(value)


def _running_loop() -> t.Any:
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _run_in_thread_loop(
    func: t.Callable[..., t.Any],
    args: tuple[t.Any, ...],
    kwargs: dict[str, t.Any],
    loop: t.Any = None,
) -> t.Any:
    if loop is None:
        loop = _thread_loop()
    context = contextvars.copy_context()
    # Inside the coroutine the exception being handled is still the current
    # one (error handlers may look at sys.exc_info()), as with asgiref.
    handling = sys.exc_info()[1]
    final = [context]

    async def main() -> t.Any:
        try:
            if handling is not None:
                try:
                    raise handling
                except BaseException:
                    return await func(*args, **kwargs)
            return await func(*args, **kwargs)
        finally:
            final[0] = contextvars.copy_context()

    task = context.run(loop.create_task, main())
    try:
        return loop.run_until_complete(task)
    finally:
        _restore_context(final[0])


def _gevent_patched() -> bool:
    """Whether gevent's monkey patch made threads into greenlets."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("threading"))


def _greenlet_loop() -> t.Any:
    """The current greenlet's own event loop, made on first use and closed
    with the greenlet."""
    from greenlet import getcurrent

    current = getcurrent()
    holder = getattr(current, "_erlen_loop", None)
    if holder is None or holder.pid != os.getpid() or holder.loop.is_closed():
        import asyncio

        holder = _ThreadLoop(asyncio.new_event_loop())
        weakref.finalize(holder, _close_loop, holder.loop, holder.pid)
        current._erlen_loop = holder
    _swap_running_loops_on_switch()
    return holder.loop


def _swap_running_loops_on_switch() -> None:
    """Keep asyncio's "running loop" per greenlet in this thread.

    asyncio records the running loop per OS thread, which greenlets share:
    while one greenlet's loop waits in its (gevent-patched) selector, every
    other greenlet would see that loop as running and could not run its own.
    A greenlet switch hook puts each greenlet's running loop back when it
    resumes. Installed once per gevent hub (one per thread).
    """
    from gevent import get_hub

    hub = get_hub()
    if getattr(hub, "_erlen_loop_swap", False):
        return
    import asyncio

    import greenlet

    running: weakref.WeakKeyDictionary[t.Any, t.Any] = weakref.WeakKeyDictionary()
    previous = greenlet.settrace(None)

    def trace(event: str, args: t.Any) -> None:
        if event in ("switch", "throw"):
            origin, target = args
            loop = asyncio._get_running_loop()
            if loop is not None:
                running[origin] = loop
            asyncio._set_running_loop(running.pop(target, None))
        if previous is not None:
            previous(event, args)

    greenlet.settrace(trace)
    hub._erlen_loop_swap = True


def _is_coroutine_function(func: t.Any) -> bool:
    # PERF: a plain function is checked by its code flags; only other
    # callables (partials, marked functions, methods) take inspect's path.
    if type(func) is FunctionType and "_is_coroutine_marker" not in func.__dict__:
        return bool(func.__code__.co_flags & _CO_COROUTINE)
    return inspect.iscoroutinefunction(func)


class Flask(App):
    """The WSGI application object: a registry of views, hooks and
    configuration, and the callable a WSGI server calls for each request.

    ::

        from erlen import Flask
        app = Flask(__name__)

    See :class:`~erlen.sansio.app.App` for the parameters.
    """

    default_config = ImmutableDict(
        {
            "DEBUG": None,
            "TESTING": False,
            "PROPAGATE_EXCEPTIONS": None,
            "SECRET_KEY": None,
            "SECRET_KEY_FALLBACKS": None,
            "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
            "USE_X_SENDFILE": False,
            "TRUSTED_HOSTS": None,
            "SERVER_NAME": None,
            "APPLICATION_ROOT": "/",
            "SESSION_COOKIE_NAME": "session",
            "SESSION_COOKIE_DOMAIN": None,
            "SESSION_COOKIE_PATH": None,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SECURE": False,
            "SESSION_COOKIE_PARTITIONED": False,
            "SESSION_COOKIE_SAMESITE": None,
            "SESSION_REFRESH_EACH_REQUEST": True,
            "MAX_CONTENT_LENGTH": None,
            "MAX_FORM_MEMORY_SIZE": 500_000,
            "MAX_FORM_PARTS": 1_000,
            "SEND_FILE_MAX_AGE_DEFAULT": None,
            "TRAP_BAD_REQUEST_ERRORS": None,
            "TRAP_HTTP_EXCEPTIONS": False,
            "EXPLAIN_TEMPLATE_LOADING": False,
            "PREFERRED_URL_SCHEME": "http",
            "TEMPLATES_AUTO_RELOAD": None,
            "MAX_COOKIE_SIZE": 4093,
            "PROVIDE_AUTOMATIC_OPTIONS": True,
        }
    )

    #: The class of request objects.
    request_class: type[Request] = Request
    #: The class of response objects.
    response_class: type[Response] = Response
    #: Opens and saves sessions; a signed cookie by default.
    session_interface: SessionInterface = SecureCookieSessionInterface()

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ):
        super().__init__(
            import_name=import_name,
            static_url_path=static_url_path,
            static_folder=static_folder,
            static_host=static_host,
            host_matching=host_matching,
            subdomain_matching=subdomain_matching,
            template_folder=template_folder,
            instance_path=instance_path,
            instance_relative_config=instance_relative_config,
            root_path=root_path,
        )

        #: The app's click command group, used by the ``flask``/``erlen``
        #: command.
        self.cli = cli.AppGroup()
        self.cli.name = self.name

        #: Legacy (Flask < 2.3): functions run once, before the first request.
        self.before_first_request_funcs: list[t.Callable[[], t.Any]] = []
        self._before_first_request_lock = threading.RLock()
        self._before_first_request_running = False
        # func -> what ensure_sync returned for it; see _sync().
        self._sync_cache: dict[t.Any, t.Callable[..., t.Any]] = {}
        # environ host/script/scheme -> MapAdapter; see create_url_adapter().
        self._adapter_cache: dict[tuple[t.Any, ...], MapAdapter] = {}
        # raw request inputs -> (binding, rule, view_args); see _remember_route().
        self._route_memo: dict[tuple[t.Any, ...], tuple[t.Any, t.Any, t.Any]] = {}

        if self.has_static_folder:
            assert bool(static_host) == host_matching, (
                "Invalid static_host/host_matching combination"
            )
            # A weak reference: the view is stored in the app, and a strong
            # one would make a reference cycle.
            app_ref = weakref.ref(self)
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=lambda **kw: app_ref().send_static_file(**kw),  # type: ignore[union-attr]
            )

    # files and resources

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """The ``max_age`` for :meth:`send_static_file`: the
        ``SEND_FILE_MAX_AGE_DEFAULT`` config (``None`` lets the browser
        revalidate with conditional requests)."""
        value = self.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if isinstance(value, timedelta):
            return int(value.total_seconds())
        return value  # type: ignore[no-any-return]

    def send_static_file(self, filename: str) -> Response:
        """Serve a file from :attr:`static_folder` (the view of the
        ``static`` route)."""
        if not self.has_static_folder:
            raise RuntimeError("'static_folder' must be set to serve static_files.")
        max_age = self.get_send_file_max_age(filename)
        return send_from_directory(
            t.cast(str, self.static_folder), filename, max_age=max_age
        )

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> t.IO[t.AnyStr]:
        """Open a file relative to :attr:`root_path` for reading."""
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)  # noqa: SIM115
        return open(path, mode, encoding=encoding)  # noqa: SIM115

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.AnyStr]:
        """Open a file relative to :attr:`instance_path`; unlike
        :meth:`open_resource` it may be opened for writing."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)  # noqa: SIM115
        return open(path, mode, encoding=encoding)  # noqa: SIM115

    # templates and shell

    def create_jinja_environment(self) -> t.Any:
        """Create :attr:`jinja_env` from :attr:`jinja_options`, with the
        app's autoescape and auto-reload settings and its template globals."""
        options = dict(self.jinja_options)
        if "autoescape" not in options:
            options["autoescape"] = self.select_jinja_autoescape
        if "auto_reload" not in options:
            auto_reload = self.config["TEMPLATES_AUTO_RELOAD"]
            if auto_reload is None:
                auto_reload = self.debug
            options["auto_reload"] = auto_reload
        env = self.jinja_environment(self, **options)
        env.globals.update(
            url_for=self.url_for,
            get_flashed_messages=get_flashed_messages,
            config=self.config,
            request=request,
            session=session,
            g=g,
        )
        env.policies["json.dumps_function"] = self.json.dumps
        return env

    def update_template_context(self, context: dict[str, t.Any]) -> None:
        """Add the values of the context processors (the app's, then those
        of the current blueprints) to ``context``; values already in
        ``context`` win."""
        req_ctx = _cv_request.get(None)
        bps = _blueprints_of(req_ctx.request) if req_ctx is not None else ()
        registry = self.template_context_processors
        lists = _app_first(registry, bps)
        original = context.copy()
        for funcs in lists:
            for func in funcs:
                context.update(self._sync(func)())
        context.update(original)

    def make_shell_context(self) -> dict[str, t.Any]:
        """The namespace of the ``shell`` command: ``app``, ``g`` and what
        the shell context processors return."""
        rv: dict[str, t.Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            rv.update(processor())
        return rv

    # running

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: t.Any,
    ) -> None:
        """Serve the app with werkzeug's development server
        (:func:`werkzeug.serving.run_simple`). Not for production.

        The host and port default to those of ``SERVER_NAME``, then
        ``127.0.0.1:5000``. ``debug`` turns on the reloader and debugger.
        Under the ``flask run`` command the call is ignored.
        """
        if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
            if not is_running_from_reloader():
                click.secho(
                    " * Ignoring a call to 'app.run()' that would block"
                    " the current 'flask' CLI command.\n"
                    "   Only call 'app.run()' in an 'if __name__ =="
                    ' "__main__"\' guard.',
                    fg="red",
                )
            return

        if get_load_dotenv(load_dotenv):
            cli.load_dotenv()
            if "FLASK_DEBUG" in os.environ:
                self.debug = get_debug_flag()
        if debug is not None:
            self.debug = bool(debug)

        server_name = self.config.get("SERVER_NAME")
        sn_host = sn_port = None
        if server_name:
            sn_host, _, sn_port = server_name.partition(":")
        if not host:
            host = sn_host or "127.0.0.1"
        if port or port == 0:
            port = int(port)
        elif sn_port:
            port = int(sn_port)
        else:
            port = 5000

        options.setdefault("use_reloader", self.debug)
        options.setdefault("use_debugger", self.debug)
        options.setdefault("threaded", True)
        cli.show_server_banner(self.debug, self.name)

        from werkzeug.serving import run_simple

        try:
            run_simple(t.cast(str, host), port, self, **options)
        finally:
            # A reloaded or restarted server handles its first request
            # again; let setup methods run in between.
            self._got_first_request = False

    def test_client(self, use_cookies: bool = True, **kwargs: t.Any) -> FlaskClient:
        """A test client of :attr:`test_client_class`."""
        cls = self.test_client_class
        if cls is None:
            from .testing import FlaskClient as cls
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)  # type: ignore[no-any-return]

    def test_cli_runner(self, **kwargs: t.Any) -> FlaskCliRunner:
        """A CLI runner of :attr:`test_cli_runner_class` for the app's
        commands."""
        cls = self.test_cli_runner_class
        if cls is None:
            from .testing import FlaskCliRunner as cls
        return cls(self, **kwargs)  # type: ignore[no-any-return]

    # legacy: before_first_request

    @setupmethod
    def before_first_request(self, f: T) -> T:
        """Register a function run once, before the app's first request
        (kept for code written for Flask before 2.3; do the work at setup
        time instead)."""
        warnings.warn(
            "'before_first_request' is deprecated. Run setup code while"
            " creating the application instead.",
            DeprecationWarning,
            stacklevel=3,
        )
        self.before_first_request_funcs.append(f)
        return f

    def try_trigger_before_first_request_functions(self) -> None:
        """Run the ``before_first_request`` functions if this app has not
        handled a request yet. Several threads arriving at once wait on a
        lock, so the functions run exactly once."""
        if self._got_first_request:
            return
        with self._before_first_request_lock:
            # The re-entrancy guard lets a function make a request itself.
            if self._got_first_request or self._before_first_request_running:
                return
            self._before_first_request_running = True
            try:
                for func in self.before_first_request_funcs:
                    self.ensure_sync(func)()
                self._got_first_request = True
            finally:
                self._before_first_request_running = False

    # async support

    def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Return ``func`` if it is synchronous, or a synchronous wrapper
        (:meth:`async_to_sync`) for a coroutine function."""
        if _is_coroutine_function(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(
        self, func: t.Callable[..., t.Coroutine[t.Any, t.Any, t.Any]]
    ) -> t.Callable[..., t.Any]:
        """Wrap a coroutine function to run synchronously. Needs asgiref, as
        in Flask (``pip install 'erlen[async]'``).

        Unlike Flask, which through asgiref runs every call on a new event
        loop in a new thread, each worker thread keeps one event loop, made
        on first use and closed when the thread ends. Objects bound to a
        loop (connection pools of async clients, queues, locks) made in one
        request therefore keep working in the next one handled by the same
        thread. The coroutine runs in a copy of the caller's context
        (``request``, ``g`` and other context variables are visible) and
        what it changes there is carried back, as with asgiref. Under
        asgiref's own ``SyncToAsync`` (an ASGI adapter), the call goes to
        asgiref, which runs it on the outer event loop.

        Calling the wrapper while an event loop is running in the same
        thread raises a :exc:`RuntimeError`: await the coroutine instead.
        """
        try:
            from asgiref.sync import SyncToAsync
            from asgiref.sync import async_to_sync as asgiref_async_to_sync
        except ImportError:
            raise RuntimeError(
                "Install erlen with the 'async' extra (pip install 'erlen[async]',"
                " which brings asgiref) in order to use async views."
            ) from None

        threadlocal = SyncToAsync.threadlocal

        def run_sync(*args: t.Any, **kwargs: t.Any) -> t.Any:
            # PERF: a new loop in a new thread per call (asgiref's way when
            # no outer loop exists) costs far more than the view itself;
            # the thread's own loop is reused instead.
            outer = getattr(threadlocal, "main_event_loop", None)
            if (
                outer is not None
                and getattr(threadlocal, "main_event_loop_pid", None) == os.getpid()
                and not outer.is_closed()
            ):
                return asgiref_async_to_sync(func)(*args, **kwargs)
            if _gevent_patched():
                return _run_in_thread_loop(func, args, kwargs, loop=_greenlet_loop())
            if _running_loop() is not None:
                raise RuntimeError(
                    f"Cannot run the coroutine function {func!r} synchronously"
                    " in a thread where an event loop is already running (an"
                    " async view or hook calling sync code that calls async"
                    " code). Await it directly instead."
                )
            return _run_in_thread_loop(func, args, kwargs)

        return update_wrapper(run_sync, func)

    def _sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        # PERF: registered views and hooks are checked for being coroutine
        # functions once, not on every call.
        cache = self._sync_cache
        try:
            return cache[func]
        except KeyError:
            rv = cache[func] = self.ensure_sync(func)
            return rv
        except TypeError:  # unhashable callable
            return self.ensure_sync(func)

    # URLs

    def _bind_request(self, request: Request) -> t.Any:
        """What :meth:`create_url_adapter` binds a request's adapter from:
        ``(template, path_info, method)`` for a werkzeug ``Map``, where the
        template is the adapter bound for the request's host, script root
        and scheme (see :func:`_adapter_for`); or a custom map's own
        adapter. Raises the 400 of an untrusted host.

        PERF: the triple is also the key of the map's remembered matches,
        so a request whose match is remembered never builds an adapter: the
        request context makes one when something first reads it (url_for).
        """
        config = self.config
        trusted_hosts = config["TRUSTED_HOSTS"]
        if trusted_hosts is not None:
            request.trusted_hosts = trusted_hosts
        if request.trusted_hosts is not None:
            # Werkzeug's adapter does not check trusted hosts; computing
            # the host now raises a 400 for an untrusted one.
            request.host = get_host(request.environ, request.trusted_hosts)  # type: ignore[misc]
        url_map = self.url_map
        subdomain = None
        server_name = config["SERVER_NAME"]
        if url_map.host_matching:
            server_name = None
        elif not self.subdomain_matching:
            subdomain = url_map.default_subdomain or ""
        elif server_name is not None:
            subdomain = _current_subdomain(request.environ, server_name)

        environ = request.environ
        if type(url_map) is not Map:
            # A custom map may bind differently: leave it to its own.
            return url_map.bind_to_environ(
                environ, server_name=server_name, subdomain=subdomain
            )
        # PERF: binding to an environ costs some thirty calls, and all but
        # the path, method and query depend only on the host, script
        # root and scheme. The adapter bound for those is kept as a
        # template, and each request's adapter is a shallow copy of it
        # with its own path, method and query.
        host = environ.get("HTTP_HOST")
        if host is None:  # werkzeug then takes SERVER_NAME and SERVER_PORT
            host = (environ.get("SERVER_NAME"), environ.get("SERVER_PORT"))
        upgrade = environ.get("HTTP_UPGRADE")
        if upgrade is not None:  # the Connection header matters only then
            upgrade = (upgrade, environ.get("HTTP_CONNECTION"))
        key = (
            host,
            environ.get("wsgi.url_scheme"),
            environ.get("SCRIPT_NAME"),
            upgrade,
            server_name,
            subdomain,
        )
        cache = self._adapter_cache
        template = cache.get(key)
        if template is None or template.map is not url_map:
            template = url_map.bind_to_environ(
                environ, server_name=server_name, subdomain=subdomain
            )
            if len(cache) >= 256:  # hosts come from clients: stay bounded
                cache.clear()
            cache[key] = template
        # The same decoding werkzeug applies to WSGI strings (latin-1
        # bytes read as UTF-8), which leaves ASCII as it is.
        path_info = environ.get("PATH_INFO")
        if path_info is None:
            path_info = "/"
        elif not path_info.isascii():
            path_info = path_info.encode("latin1").decode(errors="replace")
        return (template, path_info, environ["REQUEST_METHOD"])

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """The URL adapter for ``request``, or for the app context (only
        with ``SERVER_NAME`` set) when ``request`` is ``None``.

        ``TRUSTED_HOSTS`` is checked here. Without ``host_matching`` or
        ``subdomain_matching`` the host does not take part in matching.
        """
        if request is not None:
            bound = self._bind_request(request)
            if type(bound) is tuple:
                return _adapter_for(bound, request.environ)
            return bound  # type: ignore[return-value]

        config = self.config
        if config["SERVER_NAME"] is not None:
            return self.url_map.bind(
                config["SERVER_NAME"],
                script_name=config["APPLICATION_ROOT"],
                url_scheme=config["PREFERRED_URL_SCHEME"],
            )
        return None

    def raise_routing_exception(self, request: Request) -> t.NoReturn:
        """Raise the request's routing error. In debug mode, a redirect that
        would drop a form body (a 301/302 for a non-safe method) raises a
        clearer error instead."""
        exc = request.routing_exception
        if (
            not self.debug
            or not isinstance(exc, RequestRedirect)
            or exc.code in {307, 308}
            or request.method in _SAFE_METHODS
        ):
            raise exc  # type: ignore[misc]
        from .debughelpers import FormDataRoutingRedirect

        raise FormDataRoutingRedirect(request)

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: t.Any,
    ) -> str:
        """Build the URL of ``endpoint`` with ``values`` as the rule's
        arguments (the others become the query string).

        In a request, the URL is relative and ``".name"`` means the current
        blueprint's endpoint; outside one, it is external and needs
        ``SERVER_NAME``. ``_scheme`` implies ``_external``; ``_method``
        picks the rule for a method; ``_anchor`` adds a fragment.
        """
        req_ctx = _cv_request.get(None)
        if req_ctx is not None:
            url_adapter = req_ctx.url_adapter
            if endpoint[:1] == ".":
                bp = req_ctx.request.blueprint
                endpoint = f"{bp}{endpoint}" if bp is not None else endpoint[1:]
            if _external is None:
                _external = _scheme is not None
        else:
            app_ctx = _cv_app.get(None)
            if app_ctx is not None and app_ctx.app is self:
                url_adapter = app_ctx.url_adapter
            else:
                url_adapter = self.create_url_adapter(None)
            if url_adapter is None:
                raise RuntimeError(
                    "Unable to build URLs outside an active request"
                    " without 'SERVER_NAME' configured. Also configure"
                    " 'APPLICATION_ROOT' and 'PREFERRED_URL_SCHEME' as"
                    " needed."
                )
            if _external is None:
                _external = True

        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")

        self.inject_url_defaults(endpoint, values)
        try:
            rv = url_adapter.build(  # type: ignore[union-attr]
                endpoint,
                values,
                method=_method,
                url_scheme=_scheme,
                force_external=_external,
            )
        except BuildError as error:
            values.update(
                _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external
            )
            return self.handle_url_build_error(error, endpoint, values)

        if _anchor is not None:
            rv = f"{rv}#{_url_quote(_anchor, safe=_ANCHOR_SAFE)}"
        return rv

    # the request lifecycle

    def app_context(self) -> AppContext:
        """A new :class:`~erlen.ctx.AppContext` for this app; use it with
        ``with`` to work outside a request."""
        return AppContext(self)

    def request_context(self, environ: WSGIEnvironment) -> RequestContext:
        """A new :class:`~erlen.ctx.RequestContext` for a WSGI environ."""
        return RequestContext(self, environ)

    def test_request_context(self, *args: t.Any, **kwargs: t.Any) -> RequestContext:
        """A request context for a request built from the arguments of
        :class:`~erlen.testing.EnvironBuilder` (path, method, data, json,
        headers, ``base_url``, ``subdomain``, ``url_scheme``...)."""
        from .testing import EnvironBuilder

        builder = EnvironBuilder(self, *args, **kwargs)
        try:
            return self.request_context(builder.get_environ())
        finally:
            builder.close()

    def wsgi_app(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> cabc.Iterable[bytes]:
        """The WSGI application proper. :meth:`__call__` calls it, so that
        middleware can wrap it: ``app.wsgi_app = Middleware(app.wsgi_app)``.
        """
        # PERF: behind a real server every cache is cold when a request
        # comes in, and what a request costs follows the objects and code it
        # touches more than its instructions. For an app that overrides
        # none of _INLINED, with the context classes unpatched, the request
        # context's construction and push and the dispatch are taken here,
        # inline: the same steps in the same order as RequestContext's
        # __init__() and push(), AppContext's push(), _dispatch_value() and
        # dispatch_request(), which the other apps go through; and a URL seen
        # before is bound and matched by one lookup in the route memo. In a
        # replay of gunicorn's sync worker this took erlen's extra time per
        # hello request from 8.5 to 7.0 us. (Taking the pop inline as well
        # saved nothing measurable: its cost is in the checks it makes.)
        if not (
            _inline_flask.check_object(self)
            and _inline_request_ctx.check(RequestContext)
            and _inline_app_ctx.check(AppContext)
        ):
            return self._wsgi_app_by_steps(environ, start_response)
        # RequestContext(self, environ): the request, and its binding and
        # match from the app's route memo (see _remember_route()) when the
        # same inputs were matched before; otherwise the context's own
        # constructor binds, and match_request() matches, below.
        request = self.request_class(environ)
        request.json_module = self.json
        config = self.config
        url_map = self.url_map
        route_key = (
            environ.get("HTTP_HOST"),
            environ.get("PATH_INFO"),
            environ.get("REQUEST_METHOD"),
            environ.get("wsgi.url_scheme"),
            environ.get("SCRIPT_NAME"),
            config["SERVER_NAME"],
            url_map,
            url_map.host_matching,
            url_map.default_subdomain,
            self.subdomain_matching,
        )
        if url_map._remap:
            # Rules were added to the map directly since it last sorted them
            # (add_url_rule() forgets the memo itself).
            self._route_memo.clear()
        route = self._route_memo.get(route_key)
        if (
            route is not None
            and config["TRUSTED_HOSTS"] is None
            and request.trusted_hosts is None
            and "HTTP_UPGRADE" not in environ
        ):
            # The attributes RequestContext.__init__ sets, in its order.
            ctx = _new_object(RequestContext)
            ctx.app = self
            ctx.request = request
            ctx.flashes = None
            ctx._sess = None
            ctx._lazy_session = False
            ctx._teardown_holds = 0
            ctx._after_request_functions = []
            ctx._cv_tokens = tokens = []
            ctx._binding = route[0]
            ctx._url_adapter = _UNMADE
            ctx._plain_hooks = True
            request.url_rule = route[1]
            request.view_args = dict(route[2]) if route[2] else {}
        else:
            ctx = RequestContext(self, environ, request)
            tokens = ctx._cv_tokens
            route = None
        app_ctx = None
        error: BaseException | None = None
        try:
            try:
                # RequestContext.push()
                app_ctx = _cv_app.get(None)
                if (
                    app_ctx is None
                    or app_ctx.app is not self
                    or app_ctx._preserved_by_client
                ):
                    # AppContext(self).push()
                    app_ctx = AppContext(self)
                    app_ctx._cv_tokens.append(_cv_app.set(app_ctx))
                    if not _lifecycle.quiet and _signals.appcontext_pushed.receivers:
                        _signals.appcontext_pushed.send(self, _async_wrapper=self.ensure_sync)
                else:
                    app_ctx = None
                tokens.append((_cv_request.set(ctx), app_ctx))
                if type(self.session_interface) is SecureCookieSessionInterface:
                    ctx._lazy_session = True
                else:
                    ctx._open_session()
                if route is None and ctx._url_adapter is not None:
                    ctx.match_request()
                    self._remember_route(route_key, ctx)
                # _dispatch_value()
                if not self._got_first_request:
                    self.try_trigger_before_first_request_functions()
                    self._got_first_request = True
                try:
                    if not _lifecycle.quiet and _signals.request_started.receivers:
                        _signals.request_started.send(self, _async_wrapper=self.ensure_sync)
                    if self.url_value_preprocessors or self.before_request_funcs:
                        rv = self.preprocess_request()
                    else:
                        rv = None
                    if rv is None:
                        # dispatch_request()
                        if request.routing_exception is not None:
                            self.raise_routing_exception(request)
                        rule = request.url_rule
                        if request.method == "OPTIONS" and getattr(
                            rule, "provide_automatic_options", False
                        ):
                            rv = self.make_default_options_response()
                        else:
                            view = self.view_functions[rule.endpoint]  # type: ignore[union-attr]
                            try:
                                view = self._sync_cache[view]
                            except KeyError:
                                view = self._sync(view)
                            except TypeError:
                                view = self.ensure_sync(view)
                            rv = view(**request.view_args)  # type: ignore[arg-type]
                except Exception as e:
                    rv = self.handle_user_exception(e)
                # See _wsgi_app_by_steps().
                if (
                    type(rv) is str
                    and not self.after_request_funcs
                    and not ctx._after_request_functions
                    and (_lifecycle.quiet or not _signals.request_finished.receivers)
                    and ctx._sess is None
                    and (not ctx._lazy_session or "HTTP_COOKIE" not in environ)
                ):
                    body = send_text(self.response_class, rv, environ, start_response)
                    if body is not None:
                        return body
                response = self.finalize_request(rv)
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except BaseException:
                error = sys.exc_info()[1]
                raise
            return response(environ, start_response)
        finally:
            self._end_request(ctx, environ, error)

    def _remember_route(self, key: tuple[t.Any, ...], ctx: RequestContext) -> None:
        """Keep what binding and matching gave ``ctx`` in the app's route
        memo under ``key``, the raw inputs wsgi_app() read: the environ's
        host, path, method, scheme and script root, ``SERVER_NAME``, the URL
        map and its host and subdomain settings.

        PERF: with a request from the memo, wsgi_app() makes neither the
        binding's key nor the match's (see Flask._bind_request() and
        RequestContext.match_request()). Only a request whose binding depends
        on nothing else is kept (a ``Host`` header, no ``Upgrade``, no trusted
        hosts to check), and only a match the URL map's own memo keeps (see
        match_request()). It is forgotten when rules are added, as the
        map's own memo is.
        """
        request = ctx.request
        binding = ctx._binding
        if (
            binding is None
            or key[0] is None
            or request.routing_exception is not None
            or request.trusted_hosts is not None
            or "HTTP_UPGRADE" in request.environ
        ):
            return
        match = self.url_map.__dict__.get(_MATCH_MEMO, {}).get(binding)
        if match is None:
            return
        memo = self._route_memo
        if len(memo) >= 1024:  # hosts and paths come from clients
            memo.clear()
        memo[key] = (binding, match[0], match[1])

    def _wsgi_app_by_steps(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> cabc.Iterable[bytes]:
        """:meth:`wsgi_app` for an app that overrides one of the methods it
        would otherwise take inline."""
        # PERF: an app that overrides none of the methods in _OVERRIDABLE
        # (the usual case) takes the same steps without the calls to them.
        plain = _plain_flask.check_object(self)
        ctx = RequestContext(self, environ) if plain else self.request_context(environ)
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                if plain:
                    rv = self._dispatch_value(True)
                    # PERF: a string with nothing to run on its response is
                    # sent without making the response object (see
                    # wrappers.send_text()): no after_request or
                    # after_this_request functions, no request_finished
                    # receivers, and a session that would not be saved.
                    if (
                        type(rv) is str
                        and not self.after_request_funcs
                        and not ctx._after_request_functions
                        and (_lifecycle.quiet or not _signals.request_finished.receivers)
                        and ctx._sess is None
                        and (not ctx._lazy_session or "HTTP_COOKIE" not in environ)
                    ):
                        body = send_text(self.response_class, rv, environ, start_response)
                        if body is not None:
                            return body
                    response = self.finalize_request(rv)
                else:
                    response = self.full_dispatch_request()
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except BaseException:
                error = sys.exc_info()[1]
                raise
            return response(environ, start_response)
        finally:
            self._end_request(ctx, environ, error)

    def _end_request(
        self, ctx: RequestContext, environ: WSGIEnvironment, error: BaseException | None
    ) -> None:
        """The end of :meth:`wsgi_app`: hand the contexts to a test client
        that keeps them, then pop the request context with ``error``."""
        preserve = environ.get("werkzeug.debug.preserve_context")
        if preserve is not None:
            # The test client pushes these again and pops them at the end
            # of its ``with`` block: the teardown functions run then, once.
            app_ctx = _cv_app.get()
            app_ctx._teardown_holds += 1
            ctx._teardown_holds += 1
            preserve(app_ctx)
            preserve(ctx)
        if error is not None and self.should_ignore_error(error):
            error = None
        ctx.pop(error)

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> cabc.Iterable[bytes]:
        """Call :meth:`wsgi_app`, which middleware may have replaced."""
        return self.wsgi_app(environ, start_response)

    def full_dispatch_request(self) -> Response:
        """Run the request: the first-request functions, the
        ``request_started`` signal, :meth:`preprocess_request` and
        :meth:`dispatch_request`, with errors going to
        :meth:`handle_user_exception`; then :meth:`finalize_request`."""
        return self.finalize_request(self._dispatch_value(False))

    def _dispatch_value(self, plain: bool) -> t.Any:
        """What :meth:`full_dispatch_request` finalizes: the value of the
        view, of a ``before_request`` function that ended the request, or of
        the error handler of what either raised. ``plain``: the app
        overrides none of the methods in ``_OVERRIDABLE``."""
        if not self._got_first_request:
            self.try_trigger_before_first_request_functions()
            self._got_first_request = True
        try:
            if not _lifecycle.quiet and _signals.request_started.receivers:
                _signals.request_started.send(self, _async_wrapper=self.ensure_sync)
            # PERF: with no hooks (and the method not overridden) there is
            # nothing to run; skipping the call saves a frame per request.
            if (
                not self.url_value_preprocessors
                and not self.before_request_funcs
                and (plain or _plain_preprocess.check_object(self))
            ):
                rv = None
            else:
                rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
        return rv

    def preprocess_request(self) -> t.Any:
        """Run the URL value preprocessors, then the ``before_request``
        functions: the app's, then each blueprint's from the outermost.
        The first one to return a value other than ``None`` ends the
        request with that value."""
        value_pre = self.url_value_preprocessors
        before = self.before_request_funcs
        # PERF: an app without these hooks does no work at all here.
        if not value_pre and not before:
            return None
        req = _cv_request.get().request
        rule = req.url_rule
        # PERF: _chain_of is an lru_cache, so a hit costs no Python frame.
        bps = _chain_of(rule.endpoint) if rule is not None else ()
        if value_pre:
            lists = _app_first(value_pre, bps)
            for funcs in lists:
                for url_func in funcs:
                    url_func(req.endpoint, req.view_args)
        if before:
            cache = self._sync_cache
            for funcs in _app_first(before, bps):
                for func in funcs:
                    try:
                        sync_func = cache[func]
                    except (KeyError, TypeError):
                        sync_func = self._sync(func)
                    rv = sync_func()
                    if rv is not None:
                        return rv
        return None

    def dispatch_request(self) -> t.Any:
        """Call the view of the matched rule with its arguments, answer an
        automatic ``OPTIONS`` request, or raise the routing error."""
        req = _cv_request.get().request
        if req.routing_exception is not None:
            self.raise_routing_exception(req)
        rule: Rule = req.url_rule  # type: ignore[assignment]
        if req.method == "OPTIONS" and getattr(
            rule, "provide_automatic_options", False
        ):
            return self.make_default_options_response()
        view = self.view_functions[rule.endpoint]
        try:
            view = self._sync_cache[view]
        except KeyError:
            view = self._sync(view)
        except TypeError:
            view = self.ensure_sync(view)
        return view(**req.view_args)  # type: ignore[arg-type]

    def make_default_options_response(self) -> Response:
        """The response to an automatic ``OPTIONS`` request: an empty body
        with ``Allow`` listing the URL's methods."""
        adapter = _cv_request.get().url_adapter
        methods = adapter.allowed_methods()  # type: ignore[union-attr]
        rv = self.response_class()
        rv.allow.update(methods)
        return rv

    def finalize_request(self, rv: t.Any, from_error_handler: bool = False) -> Response:
        """Turn the view's return value into a response, run
        :meth:`process_response` and send ``request_finished``. When called
        for an error handler's value, errors here are logged, not raised."""
        response = self.make_response(rv)
        try:
            response = self.process_response(response)
            if not _lifecycle.quiet and _signals.request_finished.receivers:
                _signals.request_finished.send(
                    self, _async_wrapper=self.ensure_sync, response=response
                )
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception(
                "Request finalizing failed with an error while handling an error"
            )
        return response

    def make_response(self, rv: t.Any) -> Response:
        """Convert a view's return value into a :attr:`response_class`.

        Accepted: a response object; ``str``, ``bytes`` or ``bytearray``
        (the body); a ``dict`` or ``list`` (JSON, through :attr:`json`); an
        iterator or generator (streamed); any other WSGI callable; and a
        tuple ``(body, status)``, ``(body, headers)`` or
        ``(body, status, headers)`` of those, where the status is an int or
        a string and the headers a dict, a list of pairs or a ``Headers``.
        """
        status = headers = None
        if isinstance(rv, tuple):
            n = len(rv)
            if n == 3:
                rv, status, headers = rv
            elif n == 2:
                if isinstance(rv[1], (Headers, dict, tuple, list)):
                    rv, headers = rv
                else:
                    rv, status = rv
            else:
                raise TypeError(
                    "The view function did not return a valid response tuple."
                    " The tuple must have the form (body, status, headers),"
                    " (body, status), or (body, headers)."
                )

        if rv is None:
            req_ctx = _cv_request.get(None)
            endpoint = req_ctx.request.endpoint if req_ctx is not None else None
            raise TypeError(
                f"The view function for {endpoint!r} did not"
                " return a valid response. The function either returned"
                " None or ended without a return statement."
            )

        response_class = self.response_class
        if not isinstance(rv, response_class):
            if isinstance(rv, (str, bytes, bytearray)) or isinstance(rv, cabc.Iterator):
                # The constructor applies status and headers itself.
                rv = response_class(rv, status=status, headers=headers)
                status = headers = None
            elif isinstance(rv, (dict, list)):
                rv = self.json.response(rv)
            elif isinstance(rv, BaseResponse) or callable(rv):
                req_ctx = _cv_request.get(None)
                environ = req_ctx.request.environ if req_ctx is not None else None
                try:
                    rv = response_class.force_type(rv, environ)  # type: ignore[arg-type]
                except TypeError as e:
                    raise TypeError(
                        f"{e}\nThe view function did not return a valid"
                        " response. The return type must be a string,"
                        " dict, list, tuple with headers or status,"
                        " Response instance, or WSGI callable, but it"
                        f" was a {type(rv).__name__}."
                    ).with_traceback(sys.exc_info()[2]) from None
            else:
                raise TypeError(
                    "The view function did not return a valid"
                    " response. The return type must be a string,"
                    " dict, list, tuple with headers or status,"
                    " Response instance, or WSGI callable, but it was a"
                    f" {type(rv).__name__}."
                )

        if status is not None:
            if isinstance(status, (str, bytes, bytearray)):
                rv.status = status
            else:
                rv.status_code = status
        if headers:
            rv.headers.update(headers)
        return rv  # type: ignore[no-any-return]

    def process_response(self, response: Response) -> Response:
        """Run the ``after_this_request`` functions, then the
        ``after_request`` functions (each blueprint's from the innermost,
        then the app's, each list in reverse registration order), then save
        the session unless it is a null session."""
        ctx = _cv_request.get()
        for func in ctx._after_request_functions:
            response = self.ensure_sync(func)(response)

        after = self.after_request_funcs
        if after:
            rule = ctx.request.url_rule
            bps = _chain_of(rule.endpoint) if rule is not None else ()
            cache = self._sync_cache
            for funcs in _bp_first(after, bps):
                for func in reversed(funcs):
                    try:
                        sync_func = cache[func]
                    except (KeyError, TypeError):
                        sync_func = self._sync(func)
                    response = sync_func(response)

        sess = ctx._sess
        if sess is None:
            # Not opened yet (lazy cookie session). Without a cookie header it
            # would be a new, empty, untouched session: nothing to save.
            if not ctx._lazy_session or "HTTP_COOKIE" not in ctx.request.environ:
                return response
            sess = ctx._open_session()
        interface = self.session_interface
        if not interface.is_null_session(sess):
            interface.save_session(self, sess, response)  # type: ignore[arg-type]
        return response

    def do_teardown_request(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Run the ``teardown_request`` functions (each blueprint's from the
        innermost, then the app's, in reverse registration order) with
        ``exc``, and send ``request_tearing_down``.

        Every function runs even if one raises; the first error is raised
        at the end.
        """
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        first_error: BaseException | None = None
        teardown = self.teardown_request_funcs
        if teardown:
            req_ctx = _cv_request.get(None)
            bps = _blueprints_of(req_ctx.request) if req_ctx is not None else ()
            for funcs in _bp_first(teardown, bps):
                error = self._call_every_teardown(reversed(funcs), exc)
                if first_error is None:
                    first_error = error
        if _signals.request_tearing_down.receivers:
            _signals.request_tearing_down.send(
                self, _async_wrapper=self.ensure_sync, exc=exc
            )
        if first_error is not None:
            raise first_error

    def _call_every_teardown(
        self, funcs: t.Iterable[t.Callable[..., t.Any]], exc: BaseException | None
    ) -> Exception | None:
        """Call each teardown function with ``exc``, even after one raised;
        return the first error (the caller raises it once all have run)."""
        first_error: Exception | None = None
        for func in funcs:
            try:
                self._sync(func)(exc)
            except Exception as e:
                if first_error is None:
                    first_error = e
        return first_error

    def do_teardown_appcontext(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Run the ``teardown_appcontext`` functions in reverse registration
        order with ``exc``, and send ``appcontext_tearing_down``.

        Every function runs even if one raises; the first error is raised
        at the end.
        """
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        first_error = self._call_every_teardown(
            reversed(self.teardown_appcontext_funcs), exc
        )
        if _signals.appcontext_tearing_down.receivers:
            _signals.appcontext_tearing_down.send(
                self, _async_wrapper=self.ensure_sync, exc=exc
            )
        if first_error is not None:
            raise first_error

    # errors

    def handle_http_exception(self, e: HTTPException) -> t.Any:
        """Handle an HTTP exception with its registered handler, or return
        it as the response. Routing exceptions (redirects included) and
        exceptions without a code are returned unhandled."""
        if e.code is None or isinstance(e, RoutingException):
            return e
        req_ctx = _cv_request.get(None)
        bps = _blueprints_of(req_ctx.request) if req_ctx is not None else ()
        handler = self._find_error_handler(e, bps)
        if handler is None:
            return e
        return self._sync(handler)(e)

    def handle_user_exception(self, e: Exception) -> t.Any:
        """Handle an exception raised while dispatching: HTTP exceptions
        go to :meth:`handle_http_exception` unless trapped; others to their
        registered handler, or they are re-raised for
        :meth:`handle_exception`."""
        if isinstance(e, BadRequestKeyError) and (
            self.debug or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            e.show_exception = True

        if isinstance(e, HTTPException) and not self.trap_http_exception(e):
            return self.handle_http_exception(e)

        req_ctx = _cv_request.get(None)
        bps = _blueprints_of(req_ctx.request) if req_ctx is not None else ()
        handler = self._find_error_handler(e, bps)
        if handler is None:
            raise
        return self._sync(handler)(e)

    def handle_exception(self, e: Exception) -> Response:
        """Handle an exception no handler dealt with: send
        ``got_request_exception``, then re-raise it when
        ``PROPAGATE_EXCEPTIONS`` (by default in testing and debug mode), or
        log it and answer with a 500 through the ``InternalServerError``
        handler."""
        exc_info = sys.exc_info()
        if _signals.got_request_exception.receivers:
            _signals.got_request_exception.send(
                self, _async_wrapper=self.ensure_sync, exception=e
            )

        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        if propagate is None:
            propagate = self.testing or self.debug
        if propagate:
            if exc_info[1] is e:
                raise
            raise e

        self.log_exception(exc_info)
        server_error: t.Any = InternalServerError(original_exception=e)
        req_ctx = _cv_request.get(None)
        bps = _blueprints_of(req_ctx.request) if req_ctx is not None else ()
        handler = self._find_error_handler(server_error, bps)
        if handler is not None:
            server_error = self._sync(handler)(server_error)
        return self.finalize_request(server_error, from_error_handler=True)

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, t.Any] | tuple[None, None, None],
    ) -> None:
        """Log an unhandled exception on :attr:`logger`."""
        req_ctx = _cv_request.get(None)
        if req_ctx is not None:
            req = req_ctx.request
            where = f" on {req.path} [{req.method}]"
        else:
            where = ""
        self.logger.error(f"Exception{where}", exc_info=exc_info)


# The methods wsgi_app's fast path stands in for. Replaced on the class (a
# subclass, a patch) or on the app itself (``app.process_response = ...``),
# they are called as usual.
_OVERRIDABLE = frozenset(
    (
        "request_context",
        "full_dispatch_request",
        "preprocess_request",
        "finalize_request",
        "make_response",
        "process_response",
    )
)
_plain_flask = Unchanged(Flask, *_OVERRIDABLE)
# What wsgi_app() takes inline for an app that overrides none of these (see
# there), and the context methods whose steps it repeats.
_INLINED = _OVERRIDABLE | frozenset(
    (
        "app_context",
        "dispatch_request",
        "do_teardown_request",
        "do_teardown_appcontext",
        "create_url_adapter",
    )
)
_inline_flask = Unchanged(Flask, *_INLINED)
_inline_request_ctx = Unchanged(RequestContext, "__init__", "push", "pop", "match_request")
_inline_app_ctx = Unchanged(AppContext, "__init__", "push", "pop")
# For an app that is not plain: whether preprocess_request() is still
# Flask's own, on the class and on the app.
_plain_preprocess = Unchanged(Flask, "preprocess_request")
_ctx_module._plain_app_hooks = Unchanged(
    Flask, "do_teardown_request", "do_teardown_appcontext", "create_url_adapter"
)
