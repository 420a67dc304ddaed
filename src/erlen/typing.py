"""Type aliases for the callables and values an application works with."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIApplication
    from werkzeug.datastructures import Headers
    from werkzeug.sansio.response import Response

ResponseValue = t.Union[
    "Response",
    str,
    bytes,
    list[t.Any],
    t.Mapping[str, t.Any],
    t.Iterator[str],
    t.Iterator[bytes],
    cabc.AsyncIterable[str],
    cabc.AsyncIterable[bytes],
]
"""What a view may return as a body: a response, text, bytes, a list or
mapping (sent as JSON), or a (sync or async) iterator of text or bytes."""

HeaderValue = str | list[str] | tuple[str, ...]
"""One header's value, or several values for the same name."""

HeadersValue = t.Union[
    "Headers",
    t.Mapping[str, HeaderValue],
    t.Sequence[tuple[str, HeaderValue]],
]
"""Headers a view may return: a ``Headers`` object, a mapping, or pairs."""

ResponseReturnValue = t.Union[
    ResponseValue,
    tuple[ResponseValue, HeadersValue],
    tuple[ResponseValue, int],
    tuple[ResponseValue, int, HeadersValue],
    "WSGIApplication",
]
"""Everything a view may return: a body, optionally in a tuple with a
status and/or headers, or a WSGI application."""

ResponseClass = t.TypeVar("ResponseClass", bound="Response")
"""A response type, for callables that return what they were given."""

StatusCode = int
"""An HTTP status code."""

AppOrBlueprintKey = str | None
"""The key of per-blueprint registries: a blueprint's name, or ``None``
for the application itself."""

AfterRequestCallable = (
    t.Callable[[ResponseClass], ResponseClass]
    | t.Callable[[ResponseClass], t.Awaitable[ResponseClass]]
)
"""An ``after_request`` function: takes the response and returns one."""

BeforeFirstRequestCallable = t.Callable[[], None] | t.Callable[[], t.Awaitable[None]]
"""A ``before_first_request`` function (removed from Flask 3; kept for the
compatibility shim)."""

BeforeRequestCallable = (
    t.Callable[[], ResponseReturnValue | None]
    | t.Callable[[], t.Awaitable[ResponseReturnValue | None]]
)
"""A ``before_request`` function: returns ``None``, or a value that becomes
the response and skips the view."""

ShellContextProcessorCallable = t.Callable[[], dict[str, t.Any]]
"""A shell context processor: returns names for ``flask shell``."""

TeardownCallable = (
    t.Callable[[BaseException | None], None]
    | t.Callable[[BaseException | None], t.Awaitable[None]]
)
"""A teardown function: takes the unhandled error, if any."""

TemplateContextProcessorCallable = (
    t.Callable[[], dict[str, t.Any]] | t.Callable[[], t.Awaitable[dict[str, t.Any]]]
)
"""A template context processor: returns names for templates."""

TemplateFilterCallable = t.Callable[..., t.Any]
"""A Jinja filter."""

TemplateGlobalCallable = t.Callable[..., t.Any]
"""A Jinja global function."""

TemplateTestCallable = t.Callable[..., bool]
"""A Jinja test."""

URLDefaultCallable = t.Callable[[str, dict[str, t.Any]], None]
"""A URL defaults function: takes the endpoint and the values dict, and
fills in values."""

URLValuePreprocessorCallable = t.Callable[
    [str | None, dict[str, t.Any] | None], None
]
"""A URL value preprocessor: takes the endpoint and the view arguments, and
may change them."""

ErrorHandlerCallable = (
    t.Callable[[t.Any], ResponseReturnValue]
    | t.Callable[[t.Any], t.Awaitable[ResponseReturnValue]]
)
"""An error handler: takes the exception and returns a response value."""

RouteCallable = (
    t.Callable[..., ResponseReturnValue]
    | t.Callable[..., t.Awaitable[ResponseReturnValue]]
)
"""A view function, sync or async."""


def __getattr__(name: str) -> t.Any:
    # Aliases Flask 2.1 and 2.2 removed (ViewCallable...): see erlen.compat.
    from . import compat

    return compat.legacy_attribute(
        __name__, name, compat.LEGACY_MODULE_ATTRIBUTES["erlen.typing"]
    )
