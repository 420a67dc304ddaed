"""The application and request contexts, the ``g`` namespace, and the helpers
that work on the current request context."""

from __future__ import annotations

import contextvars
import sys
import typing as t
from functools import update_wrapper

from werkzeug.exceptions import HTTPException

from . import signals
from ._werkzeug import remembered_match
from .compat import pop_preserved
from .compat import warn_deprecated
from .globals import _cv_app
from .globals import _cv_request

if t.TYPE_CHECKING:  # pragma: no cover
    from types import TracebackType

    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.routing import MapAdapter

    from .app import Flask
    from .sessions import SessionMixin
    from .wrappers import Request

_sentinel = object()

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


class _AppCtxGlobals:
    """The ``g`` object: a plain namespace for data during one app context.

    Each app context gets a fresh one. Besides attribute access it supports
    ``in``, iteration over the names, and dict-like :meth:`get`,
    :meth:`pop` and :meth:`setdefault`.
    """

    # Attribute access is the plain object protocol: no Python-level
    # __getattr__, so reading ``g.x`` costs no extra call. Type checkers
    # are told it is a namespace with any attributes.
    if t.TYPE_CHECKING:  # pragma: no cover

        def __getattr__(self, name: str) -> t.Any: ...

        def __setattr__(self, name: str, value: t.Any) -> None: ...

        def __delattr__(self, name: str) -> None: ...

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

    # A request context PRESERVE_CONTEXT_ON_EXCEPTION kept over this one.
    _preserved_request: RequestContext | None = None

    def __init__(self, app: Flask) -> None:
        self.app = app
        #: Builds URLs outside a request; ``None`` without ``SERVER_NAME``.
        self.url_adapter = app.create_url_adapter(None)
        #: The :data:`~erlen.g` namespace of this context.
        self.g: _AppCtxGlobals = app.app_ctx_globals_class()
        self._cv_tokens: list[contextvars.Token[AppContext]] = []
        # How many holders keep this context past the end of its request (a
        # stream_with_context body, or a test client's ``with`` block): while
        # there are any, the last pop leaves the teardown functions to them.
        self._teardown_holds = 0
        # Set by a test client on an app context it keeps after a request
        # in its ``with`` block, until the block ends: a request made
        # meanwhile, by another client, gets an app context of its own.
        self._preserved_by_client = False

    def copy(self) -> AppContext:
        """A new context for the same app sharing this one's :data:`g`, to
        push in another thread."""
        new = self.app.app_context()
        new.g = self.g
        return new

    def push(self) -> None:
        """Make this context the current one."""
        self._cv_tokens.append(_cv_app.set(self))
        if signals.appcontext_pushed.receivers:
            signals.appcontext_pushed.send(
                self.app, _async_wrapper=self.app.ensure_sync
            )

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Pop this context. The last pop runs the ``teardown_appcontext``
        functions with ``exc`` (by default the exception being handled)."""
        app = self.app
        try:
            if len(self._cv_tokens) == 1 and not self._teardown_holds:
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                app.do_teardown_appcontext(exc)
        finally:
            current = _cv_app.get(None)
            if self._cv_tokens:
                _cv_app.reset(self._cv_tokens.pop())
        if current is not self:
            raise AssertionError(
                f"Popped wrong app context. ({current!r} instead of {self!r})"
            )
        if signals.appcontext_popped.receivers:
            signals.appcontext_popped.send(app, _async_wrapper=app.ensure_sync)

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

    #: Whether ``PRESERVE_CONTEXT_ON_EXCEPTION`` kept it after an error.
    preserved = False
    _preserved_exc: BaseException | None = None

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
        #: Matches this request's URL and builds URLs; ``None`` when binding
        #: failed (the error is kept on ``request.routing_exception``).
        self.url_adapter: MapAdapter | None = None
        try:
            self.url_adapter = app.create_url_adapter(request)
        except HTTPException as e:
            request.routing_exception = e
        #: The flashed messages once read, by :func:`~erlen.get_flashed_messages`.
        self.flashes: list[tuple[str, str]] | None = None
        self._session = session
        self._after_request_functions: list[t.Callable[..., t.Any]] = []
        self._cv_tokens: list[
            tuple[contextvars.Token[RequestContext], AppContext | None]
        ] = []
        # See AppContext.
        self._teardown_holds = 0

    def copy(self) -> RequestContext:
        """A new context for the same request, app and session, to push in
        another thread or greenlet."""
        return self.__class__(
            self.app,
            environ=self.request.environ,
            request=self.request,
            session=self._session,
        )

    @property
    def session(self) -> SessionMixin:
        """The session of this request, available once the context is
        pushed. Reading it (as the :data:`~erlen.session` proxy does) marks
        it accessed, which adds ``Vary: Cookie`` to the response."""
        session = self._session
        assert session is not None, "The session has not yet been opened."
        session.accessed = True
        return session

    @session.setter
    def session(self, value: SessionMixin | None) -> None:
        self._session = value

    @property
    def g(self) -> _AppCtxGlobals:
        """The :data:`~erlen.g` of the current app context (removed from
        Flask in 2.3; use :data:`~erlen.g`)."""
        warn_deprecated("RequestContext.g", "'erlen.g'", "removed in Flask 2.3")
        return _cv_app.get().g

    @g.setter
    def g(self, value: _AppCtxGlobals) -> None:
        warn_deprecated("RequestContext.g", "'erlen.g'", "removed in Flask 2.3")
        _cv_app.get().g = value

    def match_request(self) -> None:
        """Match the URL, setting ``request.url_rule`` and ``view_args``, or
        keeping the routing error on ``request.routing_exception``."""
        request = self.request
        try:
            request.url_rule, request.view_args = remembered_match(
                self.app._url_matches,
                self.url_adapter,  # type: ignore[arg-type]
            )
        except HTTPException as e:
            request.routing_exception = e

    def push(self) -> None:
        """Make this context current, after pushing an app context if none
        for this app is active; open the session and match the URL."""
        app = self.app
        app_ctx = _cv_app.get(None)
        if app_ctx is not None and app_ctx._preserved_request is not None:
            app_ctx = pop_preserved(app_ctx)
        if app_ctx is None or app_ctx.app is not app or app_ctx._preserved_by_client:
            app_ctx = app.app_context()
            app_ctx.push()
        else:
            app_ctx = None  # not ours to pop
        self._cv_tokens.append((_cv_request.set(self), app_ctx))

        # Opened on the first push only: a context pushed again (by
        # stream_with_context, say) keeps its session. Opened before
        # matching, so that URL converters can use it.
        if self._session is None:
            interface = app.session_interface
            self._session = interface.open_session(app, self.request)
            if self._session is None:
                self._session = interface.make_null_session(app)

        if self.url_adapter is not None:
            self.match_request()

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Pop this context. The last pop runs the ``teardown_request``
        functions with ``exc`` (by default the exception being handled),
        closes the request, and pops the app context this push created."""
        last = len(self._cv_tokens) == 1
        try:
            if last and not self._teardown_holds:
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                self.app.do_teardown_request(exc)
                close = getattr(self.request, "close", None)
                if close is not None:
                    close()
        finally:
            current = _cv_request.get(None)
            app_ctx = None
            if self._cv_tokens:
                token, app_ctx = self._cv_tokens.pop()
                _cv_request.reset(token)
            # The request and its environ refer to each other: break the
            # cycle so the request is freed without the garbage collector.
            if last:
                self.request.environ["werkzeug.request"] = None
            if app_ctx is not None:
                app_ctx.pop(exc)
        if current is not self:
            raise AssertionError(
                f"Popped wrong request context. ({current!r} instead of {self!r})"
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
        return (
            f"<{type(self).__name__} {request.url!r} [{request.method}]"
            f" of {self.app.name}>"
        )
