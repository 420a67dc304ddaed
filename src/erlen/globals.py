"""The context variables and the proxies that user code reads them through.

The framework itself reads ``_cv_app`` and ``_cv_request`` directly (or is
handed the context) and never goes through these proxies.
"""

from __future__ import annotations

import typing as t
import warnings
from contextvars import ContextVar

from .local import LocalProxy

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .ctx import _AppCtxGlobals
    from .ctx import AppContext
    from .ctx import RequestContext
    from .sessions import SessionMixin
    from .wrappers import Request

_no_app_msg = """\
Working outside of application context.

This typically means that you attempted to use functionality that needed
the current application. To solve this, set up an application context
with app.app_context(). See the documentation for more information.\
"""
_cv_app: ContextVar[AppContext] = ContextVar("erlen.app_ctx")
app_ctx: AppContext = LocalProxy(_cv_app, unbound_message=_no_app_msg)  # type: ignore[assignment]
current_app: Flask = LocalProxy(_cv_app, "app", unbound_message=_no_app_msg)  # type: ignore[assignment]
g: _AppCtxGlobals = LocalProxy(_cv_app, "g", unbound_message=_no_app_msg)  # type: ignore[assignment]

_no_req_msg = """\
Working outside of request context.

This typically means that you attempted to use functionality that needed
an active HTTP request. Consult the documentation on testing for
information about how to avoid this problem.\
"""
_cv_request: ContextVar[RequestContext] = ContextVar("erlen.request_ctx")
request_ctx: RequestContext = LocalProxy(_cv_request, unbound_message=_no_req_msg)  # type: ignore[assignment]
request: Request = LocalProxy(_cv_request, "request", unbound_message=_no_req_msg)  # type: ignore[assignment]
session: SessionMixin = LocalProxy(_cv_request, "session", unbound_message=_no_req_msg)  # type: ignore[assignment]


class _LegacyContextStack:
    """A stand-in for the ``LocalStack`` objects that Flask before 2.3
    exposed as ``_app_ctx_stack`` and ``_request_ctx_stack``.

    ``top`` is the current context; ``push(ctx)`` makes ``ctx`` current and
    ``pop()`` removes the current one, both through the same ContextVar the
    rest of the framework uses, so the proxies always agree with the stack.
    The first use warns once that the API is deprecated.
    """

    def __init__(self, name: str, cv: ContextVar[t.Any], modern: str) -> None:
        self._name = name
        self._cv = cv
        self._modern = modern
        # The tokens of the contexts pushed through this object, per
        # context (thread, task), so pop() can undo exactly those.
        self._pushed: ContextVar[tuple[tuple[t.Any, t.Any], ...]] = ContextVar(
            f"erlen.legacy.{name}", default=()
        )
        self._warned = False

    def _warn(self) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"'{self._name}' is deprecated and will be removed. Use"
                f" {self._modern} instead.",
                DeprecationWarning,
                stacklevel=3,
            )

    @property
    def top(self) -> t.Any:
        """The current context, or ``None``."""
        self._warn()
        return self._cv.get(None)

    def push(self, ctx: t.Any) -> None:
        """Make ``ctx`` the current context."""
        self._warn()
        token = self._cv.set(ctx)
        self._pushed.set((*self._pushed.get(), (ctx, token)))

    def pop(self) -> t.Any:
        """Remove the current context and return it (``None`` if there is
        none). A context pushed normally is popped with its own ``pop()``,
        so its teardown runs."""
        self._warn()
        top = self._cv.get(None)
        if top is None:
            return None
        pushed = self._pushed.get()
        if pushed and pushed[-1][0] is top:
            self._cv.reset(pushed[-1][1])
            self._pushed.set(pushed[:-1])
        else:
            top.pop()
        return top

    @property
    def __ident_func__(self) -> t.Callable[[], t.Any]:
        """The function old werkzeug stacks keyed their storage by: the
        current greenlet when greenlet is installed, else the thread. Some
        extensions scoped their database sessions with it."""
        self._warn()
        try:
            from greenlet import getcurrent
        except ImportError:
            from threading import get_ident

            return get_ident
        return getcurrent  # type: ignore[no-any-return]

    def __call__(self) -> t.Any:
        """A proxy to the current context, like a stack's old ``__call__``."""
        return LocalProxy(lambda: self.top)

    def __repr__(self) -> str:
        return f"<legacy context stack {self._name!r}>"


_app_ctx_stack: t.Any = _LegacyContextStack(
    "_app_ctx_stack", _cv_app, "'erlen.globals.app_ctx' (or 'has_app_context()')"
)
_request_ctx_stack: t.Any = _LegacyContextStack(
    "_request_ctx_stack",
    _cv_request,
    "'erlen.globals.request_ctx' (or 'has_request_context()')",
)
