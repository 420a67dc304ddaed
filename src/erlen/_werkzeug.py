"""What erlen relies on in werkzeug beyond its documented API, in one place.

Each helper here either reaches a private attribute of werkzeug or repeats
what werkzeug computes privately. ``tests/test_werkzeug_privates.py`` checks
every one of them against the werkzeug installed, so a werkzeug release that
changes them fails that test loudly instead of changing erlen's behaviour.
One use lives elsewhere: ``erlen.wrappers.Request`` overrides werkzeug's
``_load_form_data``, as Flask's does, and that test checks it is still the
method werkzeug calls to parse a form.
``pyproject.toml`` bounds werkzeug to the minor version those tests pass on.
"""

from __future__ import annotations

import sys
import typing as t
import warnings

from werkzeug.datastructures import EnvironHeaders
from werkzeug.datastructures import Headers
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import Map
from werkzeug.routing import MapAdapter
from werkzeug.wrappers import Request as RequestBase
from werkzeug.wrappers import Response as ResponseBase
from werkzeug.wsgi import get_host
from werkzeug.wsgi import LimitedStream

from .compat import ResponseHeaders

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.routing import Rule

_BUILTIN_CONVERTERS = frozenset(Map.default_converters.values())
_BASE_VARY = ResponseBase.vary
_BASE_COOKIES = RequestBase.cookies
_MEMO_SIZE = 1024  # keys come from clients: bound what they can fill


def wsgi_decoded(value: str) -> str:
    """A WSGI string (bytes read as latin-1) read as UTF-8, as werkzeug's
    request and URL map decode the path, script root and query."""
    if value.isascii():  # the decoding leaves ASCII as it is
        return value
    return value.encode("latin1").decode(errors="replace")


def environ_headers(environ: WSGIEnvironment) -> EnvironHeaders:
    """``EnvironHeaders(environ)``, without its two constructor calls."""
    headers = EnvironHeaders.__new__(EnvironHeaders)
    headers._list = []
    headers.environ = environ
    return headers


_statuses: dict[int | str, tuple[str, int]] = {}


def build_buffered(
    response: t.Any, body: bytes, content_type: str | None, status: t.Any
) -> None:
    """Make ``response`` as werkzeug's Response constructor does for a body
    of bytes, no headers and this content type and status: the same
    attributes and headers, in the same order.

    PERF: werkzeug spends some fifteen calls on it (one of them a header
    lookup that raises and catches KeyError). The cleaned status line of an
    int or string status is remembered, where werkzeug builds it each time.
    """
    items = [] if content_type is None else [("Content-Type", content_type)]
    headers = Headers.__new__(ResponseHeaders)
    headers._list = items
    response.headers = headers
    clean = _statuses.get(status) if type(status) in (int, str) else None
    if clean is None:
        response.status = status  # werkzeug checks and cleans it
        if type(status) in (int, str) and len(_statuses) < 256:
            _statuses[status] = (response._status, response._status_code)
    else:
        response._status, response._status_code = clean
    response.direct_passthrough = False
    response._on_close = []
    response.response = [body]
    if response.automatically_set_content_length:
        items.append(("Content-Length", str(len(body))))


def send_buffered(
    response: t.Any, environ: WSGIEnvironment, start_response: t.Any
) -> list[bytes] | None:
    """Send a buffered response as werkzeug's ``Response.__call__`` would,
    and return its body; or return ``None``, having sent nothing, when the
    response is not a list of bytes with nothing to call on close, plain
    headers, a status with a body and no ``Location`` to fix up, or the
    request is ``HEAD``.

    PERF: werkzeug spends some twenty calls copying the headers one by one,
    wrapping the body in a ClosingIterator and re-checking each chunk.
    """
    body = response.response
    code = response._status_code
    if (
        type(body) is not list
        or response.direct_passthrough
        or response._on_close
        or (
            type(response.headers) is not ResponseHeaders
            and type(response.headers) is not Headers
        )
        or code < 200
        or code == 204
        or code == 304
        or environ["REQUEST_METHOD"] == "HEAD"
    ):
        return None
    items = response.headers._list
    has_length = False
    for key, _ in items:
        name = key.lower()
        if name == "content-length":
            has_length = True
        elif name == "location" or name == "content-location":
            return None
    length = 0
    for chunk in body:
        if type(chunk) is not bytes:
            return None
        length += len(chunk)
    items = list(items)
    if not has_length and response.automatically_set_content_length:
        items.append(("Content-Length", str(length)))
    start_response(response._status, items)
    return body


def vary_on_cookie(response: t.Any) -> None:
    """``response.vary.add("Cookie")``.

    PERF: ``vary`` parses the header into a set and writes it back, a dozen
    calls, twice for each saved session. With plain Headers and werkzeug's
    own ``vary``, the two cases a session meets are done directly: no Vary
    header yet (one is added, as the set would) and a first Vary header that
    is already ``Cookie`` (nothing changes).
    """
    headers = response.headers
    if (type(headers) is ResponseHeaders or type(headers) is Headers) and type(
        response
    ).vary is _BASE_VARY:
        items = headers._list
        for key, value in items:
            if key.lower() == "vary":  # the first one is what the set reads
                if value.lower() == "cookie":
                    return
                break
        else:
            items.append(("Vary", "Cookie"))
            return
    response.vary.add("Cookie")


def cookie_value(
    memo: dict[t.Any, str | None], request: t.Any, name: str
) -> str | None:
    """``request.cookies.get(name)``, remembered in ``memo``.

    PERF: parsing the Cookie header costs more than the rest of opening a
    remembered session, and a client sends the same header again and again.
    With werkzeug's own ``cookies``, not yet parsed for this request, the
    value is a pure function of the header, so it is remembered; the request
    parses its cookies only if something else asks for them.
    """
    header = request.environ.get("HTTP_COOKIE")
    if (
        type(header) is not str
        or "cookies" in request.__dict__
        or type(request).cookies is not _BASE_COOKIES
        or type(request).dict_storage_class is not ImmutableMultiDict
    ):
        return request.cookies.get(name)  # type: ignore[no-any-return]
    key = (header, name)
    try:
        return memo[key]
    except KeyError:
        value = request.cookies.get(name)
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = value
        return value  # type: ignore[no-any-return]


def has_parsed_files(request: t.Any) -> bool:
    """Whether the request's ``files`` were made (its ``close()`` closes
    them, and has nothing else to do)."""
    return "files" in request.__dict__


def current_subdomain(environ: WSGIEnvironment, server_name: str, module: str) -> str:
    """The subdomain werkzeug's ``bind_to_environ`` finds for the request's
    host under ``server_name``: ``"<invalid>"``, with the same warning, when
    the host is not under it. The warning is attributed to ``module``, so
    that filters written for Flask's app module apply."""
    host = get_host(environ).lower()
    scheme = environ["wsgi.url_scheme"]
    connection = environ.get("HTTP_CONNECTION", "").lower().split(",")
    if "upgrade" in (v.strip() for v in connection) and (
        environ.get("HTTP_UPGRADE", "").lower() == "websocket"
    ):
        scheme = "wss" if scheme == "https" else "ws"
    name = server_name.lower()
    default_port = ":80" if scheme in ("http", "ws") else ":443"
    name = name.removesuffix(default_port)
    parts, wanted = host.split("."), name.split(".")
    if parts[-len(wanted):] != wanted:
        warnings.warn_explicit(
            f"Current server name {host!r} doesn't match configured"
            f" server name {name!r}",
            UserWarning,
            getattr(sys.modules.get(module), "__file__", None) or __file__,
            0,
            module=module,
        )
        return "<invalid>"
    return ".".join(filter(None, parts[: -len(wanted)]))


def bind_remembered(
    cache: dict[t.Any, tuple[MapAdapter, str]],
    url_map: Map,
    request: t.Any,
    server_name: str | None,
    subdomain: str | None,
) -> MapAdapter | None:
    """Set ``request.host`` to ``get_host(request.environ)`` and return
    ``url_map.bind_to_environ(environ, server_name=server_name,
    subdomain=subdomain)``; or return ``None``, having done nothing, where
    that cannot be remembered: trusted hosts to check, a custom map, or a
    configuration in which binding warns about a mismatched server name.

    PERF: binding costs some thirty calls, and everything in the adapter but
    the path, method and query depends only on the host, scheme and script
    root, as the host itself does. The adapter bound for those, and the
    host, are kept in ``cache``; each request gets a new adapter made from
    that one.
    """
    environ = request.environ
    if (
        type(url_map) is not Map
        or request.trusted_hosts is not None
        or (subdomain is None and server_name is not None and not url_map.host_matching)
    ):
        return None
    get = environ.get
    key = (
        url_map,
        url_map.host_matching,
        url_map.default_subdomain,
        server_name,
        subdomain,
        get("HTTP_HOST"),
        get("SERVER_NAME"),
        get("SERVER_PORT"),
        get("wsgi.url_scheme"),
        get("HTTP_CONNECTION"),
        get("HTTP_UPGRADE"),
        get("SCRIPT_NAME"),
    )
    kept = cache.get(key)
    if kept is None:
        kept = (
            url_map.bind_to_environ(
                environ, server_name=server_name, subdomain=subdomain
            ),
            get_host(environ),
        )
        if len(cache) >= _MEMO_SIZE:
            cache.clear()
        cache[key] = kept
    template, request.__dict__["host"] = kept  # werkzeug's cached_property
    path_info = get("PATH_INFO")
    query = get("QUERY_STRING")
    return MapAdapter(
        url_map,
        template.server_name,
        template.script_name,
        template.subdomain,
        template.url_scheme,
        path_info
        if path_info is None or path_info.isascii()
        else wsgi_decoded(path_info),
        environ["REQUEST_METHOD"],
        query if query is None or query.isascii() else wsgi_decoded(query),
    )


def remembered_match(
    memo: dict[t.Any, tuple[Rule, dict[str, t.Any]]], adapter: MapAdapter
) -> tuple[Rule, dict[str, t.Any]]:
    """``adapter.match(return_rule=True)``, remembered in ``memo``.

    PERF: when every converter of the map is one of werkzeug's own (pure
    functions giving immutable values), a match depends only on the map, the
    host, scheme, script root, path and method, so it is kept in ``memo``
    and found there the next time: werkzeug's matcher runs once per URL.
    Each request gets its own copy of the arguments. Errors (404, 405,
    redirects) are not kept. The memo is emptied when rules are added.
    """
    url_map = adapter.map
    if type(adapter) is not MapAdapter or type(url_map) is not Map:
        return adapter.match(return_rule=True)  # type: ignore[return-value]
    if url_map._remap:
        # Rules were added to the map since it last sorted them.
        memo.clear()
    key = (
        url_map,
        adapter.server_name,
        adapter.script_name,
        adapter.subdomain,
        adapter.url_scheme,
        adapter.path_info,
        adapter.default_method,
    )
    hit = memo.get(key)
    if hit is not None:
        return hit[0], dict(hit[1])
    rule, args = adapter.match(return_rule=True)
    if all(c in _BUILTIN_CONVERTERS for c in url_map.converters.values()):
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = (rule, dict(args))
    return rule, args  # type: ignore[return-value]


class _MaxBodyStream(LimitedStream):
    """werkzeug's stream for a body the server terminates itself, limited to
    a maximum length, which also notices a body that goes on past the
    maximum (reading up to the limit alone never looks further)."""

    def readinto(self, b: t.Any) -> int | None:
        size = super().readinto(b)
        if self.is_exhausted and self._stream.read(1):
            raise RequestEntityTooLarge()
        return size


def strict_body_stream(stream: t.Any) -> t.Any:
    """``stream``, made to raise a 413 for a terminated body that goes past
    ``max_content_length`` when it is a werkzeug stream limited to it."""
    if type(stream) is LimitedStream and stream._limit_is_max:
        stream.__class__ = _MaxBodyStream
    return stream


def client_cookies(client: t.Any) -> dict[tuple[str, str, str], t.Any] | None:
    """A werkzeug test client's cookies, keyed by ``(domain, path, name)``, or
    ``None`` when it was made with ``use_cookies=False``. Werkzeug 3 keeps
    them in its private ``_cookies`` dict and shows only one at a time
    (``get_cookie``); ``client.cookie_jar`` lists and clears them."""
    return client._cookies  # type: ignore[no-any-return]


def add_client_cookies(client: t.Any, environ: WSGIEnvironment) -> None:
    """Put a werkzeug test client's cookies for ``environ``'s host and path
    into its ``HTTP_COOKIE``, as the client does before each request."""
    client._add_cookies_to_wsgi(environ)


def store_client_cookies(
    client: t.Any, host: str, path: str, set_cookie: list[str]
) -> None:
    """Store ``Set-Cookie`` header values in a werkzeug test client as if a
    response for ``host`` and ``path`` had sent them."""
    client._update_cookies_from_response(host, path, set_cookie)
