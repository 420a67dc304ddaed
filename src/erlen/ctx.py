"""The application and request contexts, the ``g`` namespace, and the helpers
that work on the current request context."""

from __future__ import annotations

import contextvars
import sys
import typing as t
from functools import update_wrapper

from werkzeug.exceptions import HTTPException
from werkzeug.routing import converters as _converters
from werkzeug.routing import MapAdapter
from werkzeug.wrappers import Request as _BaseRequest

from . import signals as _signals
from .signals import lifecycle as _lifecycle
from ._lazy import OnFirstRead
from ._overrides import Unchanged
from .sessions import SecureCookieSessionInterface as _SecureCookieSessionInterface

from . import globals as _globals

# PERF: bound by assignment, not by import: CPython 3.11 compiles a method
# call on an imported name as an attribute load (it expects a module), which
# it cannot specialize for a ContextVar; on these it makes LOAD_METHOD.
_cv_app = _globals._cv_app
_cv_request = _globals._cv_request

if t.TYPE_CHECKING:  # pragma: no cover
    from types import TracebackType

    from _typeshed.wsgi import WSGIEnvironment

    from .app import Flask
    from .sessions import SessionMixin
    from .wrappers import Request

_sentinel = object()
_UNMADE = object()  # a request context's URL adapter, not made yet
# Whether an app's class still has Flask's own do_teardown_request,
# do_teardown_appcontext and create_url_adapter: an Unchanged check, set by
# app.py once the class exists (this module is imported first). The
# contexts skip calling the first two when they would do nothing, and make
# the URL adapter the cheaper way (see RequestContext.__init__).
# PERF: a METH_O call, where reading ``type(app).name`` is an attribute
# load on a class that CPython 3.11 does not specialize (two method-cache
# lookups each, cold behind a server).
_plain_app_hooks: t.Any = None
# Whether a request's class has werkzeug's close(), which only closes
# uploaded files.
_plain_request_close = Unchanged(_BaseRequest, "close")
# The attribute of a werkzeug Map that holds its remembered matches.
_MATCH_MEMO = "_erlen_match_memo"
_new_adapter = object.__new__

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


# werkzeug's own converters: to_python is a pure function of the URL part
# and gives immutable values (str, int, float, UUID).
_PURE_CONVERTERS = frozenset(
    (
        _converters.UnicodeConverter,
        _converters.PathConverter,
        _converters.AnyConverter,
        _converters.IntegerConverter,
        _converters.FloatConverter,
        _converters.UUIDConverter,
    )
)
# The memo entry that says whether every converter of the map is pure; it
# goes when the memo is emptied, with the rules that made it.
_PURE_KEY = "pure converters"


def _pure_map(memo: dict[t.Any, t.Any], url_map: t.Any) -> bool:
    """Whether every rule of ``url_map`` converts with werkzeug's own
    converters only.

    PERF: then matching is a pure function of the map, host, path and method
    (matching a path may try the converters of other rules, which is why
    one custom converter anywhere in the map rules this out), and matches
    of rules with arguments can be remembered too: the benchmark's
    ``/item/<int:item_id>`` skips werkzeug's matcher from the second time on.
    """
    pure = memo.get(_PURE_KEY)
    if pure is None:
        pure = memo[_PURE_KEY] = all(
            type(converter) in _PURE_CONVERTERS
            for rule in url_map.iter_rules()
            for converter in getattr(rule, "_converters", {None: None}).values()
        )
    return pure  # type: ignore[no-any-return]


def _adapter_for(binding: tuple[t.Any, str, str], environ: WSGIEnvironment) -> MapAdapter:
    """The request's adapter from what :meth:`Flask._bind_request` gave: a
    shallow copy of the template with the request's path, method and query."""
    template, path_info, method = binding
    adapter = _new_adapter(type(template))
    adapter.__dict__.update(template.__dict__)
    adapter.path_info = path_info
    adapter.default_method = method
    query = environ.get("QUERY_STRING")
    if query is not None and not query.isascii():
        query = query.encode("latin1").decode(errors="replace")
    adapter.query_args = query
    return adapter  # type: ignore[no-any-return]


class _AppCtxGlobals:
    """The ``g`` object: a plain namespace for data during one app context.

    Each app context gets a fresh one. Besides attribute access it supports
    ``in``, iteration over the names, and dict-like :meth:`get`,
    :meth:`pop` and :meth:`setdefault`.
    """

    # Attribute access is the plain object protocol: no Python-level
    # __getattr__, so reading ``g.x`` costs no extra call.

    def get(self, name: str, default: t.Any | None = None) -> t.Any:
        """The attribute ``name``, or ``default`` if it is not set."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: t.Any = _sentinel) -> t.Any:
        """Remove the attribute ``name`` and return its value; without a
        ``default``, a missing name raises ``KeyError``."""
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: t.Any = None) -> t.Any:
        """The attribute ``name``, set to ``default`` first if missing."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> t.Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        ctx = _cv_app.get(None)
        if ctx is not None:
            # Under the ``flask`` alias the object is ``flask.g``.
            prefix = (
                "flask"
                if sys.modules.get("flask") is sys.modules.get("erlen")
                else "erlen"
            )
            return f"<{prefix}.g of {ctx.app.name!r}>"
        return object.__repr__(self)


def after_this_request(f: F) -> F:
    """Register a function to run on this request's response, before the
    ``after_request`` functions. It takes the response and returns one."""
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'after_this_request' can only be used when a request"
            " context is active, such as in a view function."
        )
    ctx._after_request_functions.append(f)
    return f


def copy_current_request_context(f: F) -> F:
    """Decorate a function so that it runs in a copy of the current request
    context, for example in a greenlet or thread started by the view."""
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'copy_current_request_context' can only be used when a"
            " request context is active, such as in a view function."
        )
    copied = ctx.copy()

    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        # NOTE: a fresh copy per call, so that calls running at the same time
        # in several threads each push (and pop) their own context; sharing
        # one context object mixes up their ContextVar tokens.
        with copied.copy() as call_ctx:
            return call_ctx.app.ensure_sync(f)(*args, **kwargs)

    return t.cast(F, update_wrapper(wrapper, f))


def copy_current_app_context(f: F) -> F:
    """Decorate a function so that it runs in a copy of the current app
    context, for example in a thread started outside a request. The copy
    shares the original's :data:`~erlen.g`; each call pushes its own copy, so
    the function may run in several threads at once."""
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "'copy_current_app_context' can only be used when an"
            " application context is active."
        )

    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        with ctx.copy() as call_ctx:
            return call_ctx.app.ensure_sync(f)(*args, **kwargs)

    return t.cast(F, update_wrapper(wrapper, f))


def has_request_context() -> bool:
    """Whether a request context is active."""
    return _cv_request.get(None) is not None


def has_app_context() -> bool:
    """Whether an app context is active."""
    return _cv_app.get(None) is not None


class AppContext:
    """Makes an app current: :data:`~erlen.current_app` and
    :data:`~erlen.g` point at it while it is pushed.

    A request context pushes one for its app when none is active; push one
    yourself with ``with app.app_context():`` to work outside a request.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._cv_tokens: list[contextvars.Token[AppContext]] = []
        # PERF: every attribute the request path reads is set here, none is
        # a class default: CPython 3.11 specializes reads of an instance's
        # own attributes, not of its class's.
        # How many holders keep this context past the end of the request (a
        # stream_with_context body, or a test client's ``with`` block):
        # while there are any, its last pop leaves the teardown functions
        # to them.
        self._teardown_holds = 0
        # Set by the test client on the contexts it keeps after a request
        # (``with client:``): a request made meanwhile, for example by
        # another client, gets an app context (and a ``g``) of its own
        # instead of reusing it.
        self._preserved_by_client = False

    @OnFirstRead
    def g(self) -> _AppCtxGlobals:  # type: ignore[misc]
        """The :data:`~erlen.g` namespace of this context (made on first
        use: most requests never touch it)."""
        return self.app.app_ctx_globals_class()  # type: ignore[no-any-return]

    # PERF: the adapter (which needs SERVER_NAME) is made on first use: most
    # app contexts are pushed by requests, which build URLs with their own.
    @property
    def url_adapter(self) -> MapAdapter | None:
        """The URL adapter for building URLs outside a request; ``None``
        without ``SERVER_NAME``."""
        try:
            return self.__dict__["_url_adapter"]  # type: ignore[no-any-return]
        except KeyError:
            adapter = self.__dict__["_url_adapter"] = self.app.create_url_adapter(None)
            return adapter

    @url_adapter.setter
    def url_adapter(self, value: MapAdapter | None) -> None:
        self.__dict__["_url_adapter"] = value

    def copy(self) -> AppContext:
        """A new context for the same app sharing this one's :data:`g`, to
        push in another thread."""
        new = self.app.app_context()
        new.g = self.g
        return new

    def push(self) -> None:
        """Make this context the current one."""
        self._cv_tokens.append(_cv_app.set(self))
        if not _lifecycle.quiet and _signals.appcontext_pushed.receivers:
            app = self.app
            _signals.appcontext_pushed.send(app, _async_wrapper=app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Pop this context. The last pop runs the ``teardown_appcontext``
        functions with ``exc`` (by default the exception being handled)."""
        tokens = self._cv_tokens
        app = self.app
        try:
            # PERF: without teardown functions, receivers or an override,
            # do_teardown_appcontext() has nothing to do: it is not called.
            if (
                len(tokens) == 1
                and not self._teardown_holds
                and (
                    app.teardown_appcontext_funcs
                    or (not _lifecycle.quiet and _signals.appcontext_tearing_down.receivers)
                    or not _plain_app_hooks.check(type(app))
                )
            ):
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                app.do_teardown_appcontext(exc)
        finally:
            ctx = _cv_app.get(None)
            if tokens:
                _cv_app.reset(tokens.pop())
        if ctx is not self:
            raise AssertionError(
                f"Popped wrong app context. ({ctx!r} instead of {self!r})"
            )
        if not _lifecycle.quiet and _signals.appcontext_popped.receivers:
            _signals.appcontext_popped.send(app, _async_wrapper=app.ensure_sync)

    def __enter__(self) -> AppContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.app.name!r}>"


class RequestContext:
    """Everything about one request: the request object, the URL adapter,
    the session and the flashed messages.

    :meth:`push` makes :data:`~erlen.request` and :data:`~erlen.session`
    point at it, pushing an app context first when none for this app is
    active. ``wsgi_app`` pushes and pops one per request; use
    :meth:`~erlen.Flask.test_request_context` to get one in tests.
    """

    def __init__(
        self,
        app: Flask,
        environ: WSGIEnvironment,
        request: Request | None = None,
        session: SessionMixin | None = None,
    ) -> None:
        self.app = app
        if request is None:
            request = app.request_class(environ)
            request.json_module = app.json
        self.request: Request = request
        # PERF: as in AppContext, all the state is set here as the
        # instance's own attributes, whose reads CPython 3.11 specializes.
        #: The flashed messages once read, by :func:`~erlen.get_flashed_messages`.
        self.flashes: list[tuple[str, str]] | None = None
        # The session once opened. With the default cookie interface it is
        # opened on first use instead of on push; see push().
        self._sess = session
        self._lazy_session = False
        # See AppContext.
        self._teardown_holds = 0
        self._after_request_functions: list[t.Callable[..., t.Any]] = []
        self._cv_tokens: list[
            tuple[contextvars.Token[RequestContext], AppContext | None]
        ] = []
        # What the app bound the URL adapter from, ``(template, path_info,
        # method)``, and the adapter: _UNMADE until first read (see
        # url_adapter and match_request()).
        self._binding: tuple[MapAdapter, str, str] | None = None
        self._url_adapter: t.Any = None
        # The app's class keeps Flask's own teardown and adapter methods
        # (asked once here; pop() reuses the answer).
        self._plain_hooks: bool = _plain_app_hooks.check(type(app))
        try:
            if self._plain_hooks:
                bound = app._bind_request(request)
                if type(bound) is tuple:
                    self._binding = bound
                    self._url_adapter = _UNMADE
                else:
                    self._url_adapter = bound
            else:
                self._url_adapter = app.create_url_adapter(request)
        except HTTPException as e:
            request.routing_exception = e

    @property
    def url_adapter(self) -> MapAdapter | None:
        """The :class:`~werkzeug.routing.MapAdapter` bound to this request,
        which matches its URL and builds URLs; ``None`` when binding failed."""
        adapter = self._url_adapter
        if adapter is _UNMADE:
            adapter = self._url_adapter = _adapter_for(
                self._binding, self.request.environ  # type: ignore[arg-type]
            )
        return adapter  # type: ignore[no-any-return]

    @url_adapter.setter
    def url_adapter(self, value: MapAdapter | None) -> None:
        self._url_adapter = value

    def copy(self) -> RequestContext:
        """A new context for the same request, app and session, to push in
        another thread or greenlet."""
        return self.__class__(
            self.app,
            environ=self.request.environ,
            request=self.request,
            session=self._session,
        )

    def _open_session(self) -> SessionMixin:
        app = self.app
        interface = app.session_interface
        session = interface.open_session(app, self.request)
        if session is None:
            session = interface.make_null_session(app)
        self._sess = session
        return session

    @property
    def _session(self) -> SessionMixin | None:
        """The session, without marking it accessed."""
        session = self._sess
        if session is None and self._lazy_session:
            session = self._open_session()
        return session

    @_session.setter
    def _session(self, value: SessionMixin | None) -> None:
        self._sess = value

    @property
    def session(self) -> SessionMixin:
        """The session of this request, available once the context is
        pushed. Reading it (as the :data:`~erlen.session` proxy does) marks
        it accessed, which adds ``Vary: Cookie`` to the response."""
        session = self._sess
        if session is None:
            assert self._lazy_session, "The session has not yet been opened."
            session = self._open_session()
        session.accessed = True
        return session

    @session.setter
    def session(self, value: SessionMixin | None) -> None:
        self._sess = value

    def match_request(self) -> None:
        """Match the URL, setting ``request.url_rule`` and ``view_args``, or
        keeping the routing error on ``request.routing_exception``."""
        request = self.request
        binding = self._binding
        memo = key = None
        # PERF: a rule without arguments always matches the same way for the
        # same map, host, path and method, so its match is kept on the map
        # until it gets new rules (converters of other rules may have side
        # effects, so matches with arguments are kept only when every
        # converter of the map is werkzeug's own; see _pure_map()).
        adapter = self._url_adapter
        if adapter is _UNMADE:
            # The adapter is not made yet, and a remembered match needs
            # none: the binding (template, path, method) is the key.
            adapter = None
            url_map = binding[0].map
            key = binding
        elif type(adapter) is MapAdapter:
            url_map = adapter.map
            key = (
                adapter.server_name,
                adapter.subdomain,
                adapter.script_name,
                adapter.url_scheme,
                adapter.path_info,
                adapter.default_method,
            )
        if key is not None:
            memo = url_map.__dict__.get(_MATCH_MEMO)
            if memo is None:
                memo = url_map.__dict__[_MATCH_MEMO] = {}
            elif url_map._remap:
                # Rules were added to the map directly since it last sorted
                # them; add_url_rule() empties the memo itself.
                memo.clear()
            hit = memo.get(key)
            if hit is not None:
                request.url_rule = hit[0]
                request.view_args = dict(hit[1])
                return
            if adapter is None:
                adapter = self.url_adapter
        try:
            rule, view_args = adapter.match(return_rule=True)  # type: ignore[union-attr]
        except HTTPException as e:
            request.routing_exception = e
        else:
            request.url_rule = rule
            request.view_args = view_args
            if memo is not None and (not rule.arguments or _pure_map(memo, url_map)):
                if len(memo) >= 1024:  # paths and hosts come from clients
                    memo.clear()
                memo[key] = (rule, dict(view_args))

    def push(self) -> None:
        """Make this context current, after pushing an app context if none
        for this app is active; open the session and match the URL."""
        app = self.app
        app_ctx = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not app or app_ctx._preserved_by_client:
            app_ctx = app.app_context()
            app_ctx.push()
        else:
            app_ctx = None
        self._cv_tokens.append((_cv_request.set(self), app_ctx))

        # Opened only on the first push: a context pushed again (for example
        # by stream_with_context) keeps its session.
        if self._sess is None:
            if type(app.session_interface) is _SecureCookieSessionInterface:
                # PERF: the cookie session costs a serializer and cookie
                # parsing to open, and most requests never touch it. It is
                # opened on first use; process_response() opens it when the
                # request has cookies, so refreshing a permanent session
                # still happens.
                self._lazy_session = True
            else:
                self._open_session()

        # After the session, so that URL converters can use it. (Reading
        # url_adapter would make the adapter that match_request() may not
        # need.)
        if self._url_adapter is not None:
            self.match_request()

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Pop this context. The last pop runs the ``teardown_request``
        functions with ``exc`` (by default the exception being handled),
        closes the request, and pops the app context this push created."""
        tokens = self._cv_tokens
        last = len(tokens) == 1
        request = self.request
        try:
            if last and not self._teardown_holds:
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                app = self.app
                # PERF: as in AppContext.pop(), an empty teardown is skipped.
                if (
                    app.teardown_request_funcs
                    or (not _lifecycle.quiet and _signals.request_tearing_down.receivers)
                    or not self._plain_hooks
                ):
                    app.do_teardown_request(exc)
                # PERF: werkzeug's close() only closes uploaded files, so it
                # is skipped (without making a bound method) when the form
                # was never parsed (see Request._form_loaded).
                if (
                    request._form_loaded
                    or not _plain_request_close.check(type(request))
                ):
                    close = getattr(request, "close", None)
                    if close is not None:
                        close()
        finally:
            ctx = _cv_request.get(None)
            app_ctx = None
            if tokens:
                token, app_ctx = tokens.pop()
                _cv_request.reset(token)
            # Break the request <-> environ cycle so the request is freed
            # without waiting for the garbage collector.
            if last:
                request.environ["werkzeug.request"] = None
            if app_ctx is not None:
                app_ctx.pop(exc)
        if ctx is not self:
            raise AssertionError(
                f"Popped wrong request context. ({ctx!r} instead of {self!r})"
            )

    def auto_pop(self, exc: BaseException | None) -> None:
        """Pop this context at the end of a request (kept for code written
        for older Flask versions; it is :meth:`pop`)."""
        self.pop(exc)

    def __enter__(self) -> RequestContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        request = self.request
        return f"<{type(self).__name__} {request.url!r} [{request.method}] of {self.app.name}>"
