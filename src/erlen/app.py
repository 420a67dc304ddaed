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
from functools import update_wrapper
from urllib.parse import quote as _url_quote

import click
from werkzeug.datastructures import Headers
from werkzeug.datastructures import ImmutableDict
from werkzeug.exceptions import BadRequestKeyError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.routing import BuildError
from werkzeug.routing import MapAdapter
from werkzeug.routing import RequestRedirect
from werkzeug.routing import RoutingException
from werkzeug.routing import Rule
from werkzeug.serving import is_running_from_reloader
from werkzeug.wrappers import Response as BaseResponse
from werkzeug.wsgi import get_host

from . import cli
from . import signals as _signals
from ._werkzeug import bind_remembered
from ._werkzeug import current_subdomain
from .compat import preserve_on_error
from .ctx import AppContext
from .ctx import RequestContext
from .globals import _cv_app
from .globals import _cv_request
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

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment

    from .testing import FlaskClient
    from .testing import FlaskCliRunner

T = t.TypeVar("T", bound=t.Callable[..., t.Any])

_SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
# Characters left as they are in a URL fragment.
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


def _app_module() -> str:
    # Under the ``flask`` alias this module is ``flask.app``: warnings are
    # attributed to that name, so that filters written for Flask apply.
    if sys.modules.get("flask.app") is sys.modules[__name__]:
        return "flask.app"
    return __name__


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
        # The adapters create_url_adapter() binds from, and the matches
        # RequestContext.match_request() found (see erlen._werkzeug).
        self._url_adapters: dict[t.Any, tuple[MapAdapter, str]] = {}
        self._url_matches: dict[t.Any, t.Any] = {}

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
        original = context.copy()
        for name in (None, *reversed(self._current_blueprints())):
            for func in self.template_context_processors.get(name, ()):
                context.update(self.ensure_sync(func)())
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
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)  # type: ignore[misc]

    def test_cli_runner(self, **kwargs: t.Any) -> FlaskCliRunner:
        """A CLI runner of :attr:`test_cli_runner_class` for the app's
        commands."""
        cls = self.test_cli_runner_class
        if cls is None:
            from .testing import FlaskCliRunner as cls
        return cls(self, **kwargs)  # type: ignore[misc]

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

    def _try_trigger_before_first_request_functions(self) -> None:
        """Run the ``before_first_request`` functions if this app has not
        handled a request yet. Several threads arriving at once wait on a
        lock, so the functions run exactly once. (The public name, which
        Flask removed, is in :class:`~erlen.compat.LegacyAppAttributes`.)"""
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
        if inspect.iscoroutinefunction(func):
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
            from asgiref.sync import async_to_sync as asgiref_async_to_sync
            from asgiref.sync import SyncToAsync
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

    # URLs

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """The URL adapter for ``request``, or for the app context (only
        with ``SERVER_NAME`` set) when ``request`` is ``None``.

        ``TRUSTED_HOSTS`` is checked here: an untrusted host is a 400.
        Without ``host_matching`` or ``subdomain_matching`` the host does
        not take part in matching.
        """
        config = self.config
        if request is None:
            if config["SERVER_NAME"] is None:
                return None
            return self.url_map.bind(
                config["SERVER_NAME"],
                script_name=config["APPLICATION_ROOT"],
                url_scheme=config["PREFERRED_URL_SCHEME"],
            )
        if config["TRUSTED_HOSTS"] is not None:
            request.trusted_hosts = config["TRUSTED_HOSTS"]
        server_name = config["SERVER_NAME"]
        subdomain = None
        if self.url_map.host_matching:
            server_name = None  # the host is what is matched
        elif not self.subdomain_matching:
            subdomain = self.url_map.default_subdomain or ""
        elif server_name is not None:
            # Found here rather than by werkzeug, which would warn from
            # its own module rather than the app's.
            subdomain = current_subdomain(request.environ, server_name, _app_module())
        adapter = bind_remembered(
            self._url_adapters, self.url_map, request, server_name, subdomain
        )
        if adapter is None:
            # werkzeug's binding does not check trusted hosts; computing the
            # host does (an untrusted one is a 400).
            request.host = get_host(request.environ, request.trusted_hosts)
            adapter = self.url_map.bind_to_environ(
                request.environ, server_name=server_name, subdomain=subdomain
            )
        return adapter

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
        ctx = self.request_context(environ)
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                response = self.full_dispatch_request()
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except BaseException:
                error = sys.exc_info()[1]
                raise
            return response(environ, start_response)
        finally:
            preserve = environ.get("werkzeug.debug.preserve_context")
            if preserve is not None:
                # A test client keeps these: it pushes them again and pops
                # them when its ``with`` block ends, and their teardown
                # functions run then, once.
                for kept in (_cv_app.get(), ctx):
                    kept._teardown_holds += 1
                    preserve(kept)
            if error is not None and self.should_ignore_error(error):
                error = None
            if error is None or preserve or not preserve_on_error(self, ctx, error):
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
        if not self._got_first_request:
            self._try_trigger_before_first_request_functions()
            self._got_first_request = True
        try:
            if _signals.request_started.receivers:
                _signals.request_started.send(self, _async_wrapper=self.ensure_sync)
            rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
        return self.finalize_request(rv)

    def _current_blueprints(self) -> list[str]:
        """The current request's blueprints, innermost first; none outside
        a request. Hooks and handlers are registered under these names and
        under ``None``, the app's."""
        ctx = _cv_request.get(None)
        return ctx.request.blueprints if ctx is not None else []

    def preprocess_request(self) -> t.Any:
        """Run the URL value preprocessors, then the ``before_request``
        functions: the app's, then each blueprint's from the outermost.
        The first one to return a value other than ``None`` ends the
        request with that value."""
        if not self.url_value_preprocessors and not self.before_request_funcs:
            return None
        request = _cv_request.get().request
        scopes = (None, *reversed(self._current_blueprints()))
        for name in scopes:
            for url_func in self.url_value_preprocessors.get(name, ()):
                url_func(request.endpoint, request.view_args)
        for name in scopes:
            for func in self.before_request_funcs.get(name, ()):
                rv = self.ensure_sync(func)()
                if rv is not None:
                    return rv
        return None

    def dispatch_request(self) -> t.Any:
        """Call the view of the matched rule with its arguments, answer an
        automatic ``OPTIONS`` request, or raise the routing error."""
        request = _cv_request.get().request
        if request.routing_exception is not None:
            self.raise_routing_exception(request)
        rule: Rule = request.url_rule  # type: ignore[assignment]
        if request.method == "OPTIONS" and getattr(
            rule, "provide_automatic_options", False
        ):
            return self.make_default_options_response()
        view = self.ensure_sync(self.view_functions[rule.endpoint])
        return view(**request.view_args)  # type: ignore[arg-type]

    def make_default_options_response(self) -> Response:
        """The response to an automatic ``OPTIONS`` request: an empty body
        with ``Allow`` listing the URL's methods."""
        adapter = _cv_request.get().url_adapter
        rv = self.response_class()
        rv.allow.update(adapter.allowed_methods())  # type: ignore[union-attr]
        return rv

    def finalize_request(self, rv: t.Any, from_error_handler: bool = False) -> Response:
        """Turn the view's return value into a response, run
        :meth:`process_response` and send ``request_finished``. When called
        for an error handler's value, errors here are logged, not raised."""
        response = self.make_response(rv)
        try:
            response = self.process_response(response)
            if _signals.request_finished.receivers:
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
        # PERF: the most common values first (their exact types are not
        # iterators, so the order below does not change their meaning).
        if type(rv) is str:
            return self.response_class(rv)
        if type(rv) is dict or type(rv) is list:
            return self.json.response(rv)  # type: ignore[return-value]
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
                rv = response_class(rv, status=status, headers=headers)  # type: ignore[arg-type]
                status = headers = None
            elif isinstance(rv, (dict, list)):
                rv = self.json.response(rv)
            elif isinstance(rv, BaseResponse) or callable(rv):
                req_ctx = _cv_request.get(None)
                environ = req_ctx.request.environ if req_ctx is not None else None
                try:
                    rv = response_class.force_type(rv, environ)
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
        the session unless it is a null session or was never opened."""
        ctx = _cv_request.get()
        for func in ctx._after_request_functions:
            response = self.ensure_sync(func)(response)
        if self.after_request_funcs:
            for name in (*self._current_blueprints(), None):
                for func in reversed(self.after_request_funcs.get(name, ())):
                    response = self.ensure_sync(func)(response)
        # A session that never opened (open_session raised) is not saved.
        session = ctx._session
        interface = self.session_interface
        if session is not None and not interface.is_null_session(session):
            interface.save_session(self, session, response)
        return response

    def do_teardown_request(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Run the ``teardown_request`` functions (each blueprint's from the
        innermost, then the app's, in reverse registration order) with
        ``exc``, and send ``request_tearing_down``.

        Every function runs even if one raises; the first error is raised
        at the end.
        """
        signal = _signals.request_tearing_down
        if not self.teardown_request_funcs and not signal.receivers:
            return
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        funcs: list[t.Callable[..., t.Any]] = []
        for name in (*self._current_blueprints(), None):
            funcs.extend(reversed(self.teardown_request_funcs.get(name, ())))
        self._tear_down(funcs, exc, signal)

    def do_teardown_appcontext(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Run the ``teardown_appcontext`` functions in reverse registration
        order with ``exc``, and send ``appcontext_tearing_down``.

        Every function runs even if one raises; the first error is raised
        at the end.
        """
        signal = _signals.appcontext_tearing_down
        if not self.teardown_appcontext_funcs and not signal.receivers:
            return
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        self._tear_down(reversed(self.teardown_appcontext_funcs), exc, signal)

    def _tear_down(
        self,
        funcs: t.Iterable[t.Callable[..., t.Any]],
        exc: BaseException | None,
        signal: t.Any,
    ) -> None:
        """Call each teardown function with ``exc``, even after one raised,
        then send ``signal``; raise the first error once all have run."""
        first_error: Exception | None = None
        for func in funcs:
            try:
                self.ensure_sync(func)(exc)
            except Exception as e:
                if first_error is None:
                    first_error = e
        if signal.receivers:
            signal.send(self, _async_wrapper=self.ensure_sync, exc=exc)
        if first_error is not None:
            raise first_error

    # errors

    def handle_http_exception(self, e: HTTPException) -> t.Any:
        """Handle an HTTP exception with its registered handler, or return
        it as the response. Routing exceptions (redirects included) and
        exceptions without a code are returned unhandled."""
        if e.code is None or isinstance(e, RoutingException):
            return e
        handler = self._find_error_handler(e, self._current_blueprints())
        if handler is None:
            return e
        return self.ensure_sync(handler)(e)

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

        handler = self._find_error_handler(e, self._current_blueprints())
        if handler is None:
            raise
        return self.ensure_sync(handler)(e)

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
        handler = self._find_error_handler(server_error, self._current_blueprints())
        if handler is not None:
            server_error = self.ensure_sync(handler)(server_error)
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
