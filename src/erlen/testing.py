"""Testing helpers: a test client that knows the app, an environ builder
that knows its config, and a CLI runner."""

from __future__ import annotations

import http.cookiejar
import importlib.metadata
import time
import typing as t
from contextlib import contextmanager
from contextlib import ExitStack
from copy import copy
from types import TracebackType
from urllib.parse import urlsplit

import werkzeug.test
from click.testing import CliRunner
from click.testing import Result
from werkzeug.test import Client
from werkzeug.wrappers import Request as BaseRequest

from ._werkzeug import add_client_cookies
from ._werkzeug import client_cookies
from ._werkzeug import store_client_cookies
from .cli import ScriptInfo
from .compat import warn_deprecated
from .ctx import AppContext
from .globals import _cv_app

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.test import TestResponse

    from .app import Flask
    from .ctx import RequestContext
    from .sessions import SessionMixin

_werkzeug_version = ""


def _get_werkzeug_version() -> str:
    global _werkzeug_version
    if not _werkzeug_version:
        _werkzeug_version = importlib.metadata.version("werkzeug")
    return _werkzeug_version


class EnvironBuilder(werkzeug.test.EnvironBuilder):
    """A :class:`werkzeug.test.EnvironBuilder` whose defaults come from the
    app: the host from ``SERVER_NAME`` (else ``localhost``), the script
    root from ``APPLICATION_ROOT`` and the scheme from
    ``PREFERRED_URL_SCHEME``; ``json=`` is serialized by ``app.json``.

    :param app: The app the request is for.
    :param path: The request path; a full URL sets the scheme and host too.
    :param base_url: Overrides the computed base URL; it cannot be combined
        with ``subdomain`` or ``url_scheme``.
    :param subdomain: Subdomain put before ``SERVER_NAME``.
    :param url_scheme: Overrides ``PREFERRED_URL_SCHEME``.
    """

    def __init__(
        self,
        app: Flask,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> None:
        assert not (base_url or subdomain or url_scheme) or (
            base_url is not None
        ) != bool(subdomain or url_scheme), (
            'Cannot pass "subdomain" or "url_scheme" with "base_url".'
        )

        if base_url is None:
            config = app.config
            host = config.get("SERVER_NAME") or "localhost"
            if subdomain:
                host = f"{subdomain}.{host}"
            if url_scheme is None:
                url_scheme = config["PREFERRED_URL_SCHEME"]
            root = config["APPLICATION_ROOT"].lstrip("/")
            parts = urlsplit(path)
            base_url = f"{parts.scheme or url_scheme}://{parts.netloc or host}/{root}"
            path = parts.path
            if parts.query:
                path += (b"?" if isinstance(parts.query, bytes) else "?") + parts.query

        self.app = app
        super().__init__(path, base_url, *args, **kwargs)

    def json_dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``json=`` data with the app's JSON provider."""
        return self.app.json.dumps(obj, **kwargs)


class FlaskClient(Client):
    """A werkzeug test client for an app.

    ``with client:`` keeps the context of the last request pushed until the
    block ends, so ``request``, ``session`` and ``g`` can be inspected
    after a request. :meth:`session_transaction` edits the session that the
    next request will see.
    """

    application: Flask

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.preserve_context = False
        self._new_contexts: list[AppContext | RequestContext] = []
        self._context_stack = ExitStack()
        #: Values added to every request's environ.
        self.environ_base = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": f"Werkzeug/{_get_werkzeug_version()}",
        }

    @contextmanager
    def session_transaction(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Iterator[SessionMixin]:
        """Open the session as the next request would see it, yield it to
        be read or changed, then store it in the client's cookies. The
        arguments are those of :meth:`~erlen.Flask.test_request_context`.
        """
        if client_cookies(self) is None:
            raise TypeError(
                "Cookies are disabled. Create a client with 'use_cookies=True'."
            )

        app = self.application
        ctx = app.test_request_context(*args, **kwargs)
        add_client_cookies(self, ctx.request.environ)
        interface = app.session_interface
        with ctx:
            sess = interface.open_session(app, ctx.request)
        if sess is None:
            raise RuntimeError("Session backend did not open a session.")

        yield sess

        if interface.is_null_session(sess):
            return
        resp = app.response_class()
        with ctx:
            interface.save_session(app, sess, resp)
        store_client_cookies(
            self,
            ctx.request.host.partition(":")[0],
            ctx.request.path,
            resp.headers.getlist("Set-Cookie"),
        )

    def _copy_environ(self, other: WSGIEnvironment) -> WSGIEnvironment:
        out = {**self.environ_base, **other}
        if self.preserve_context:
            out["werkzeug.debug.preserve_context"] = self._new_contexts.append
        return out

    def _request_from_builder_args(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> BaseRequest:
        kwargs["environ_base"] = self._copy_environ(kwargs.get("environ_base", {}))
        builder = EnvironBuilder(self.application, *args, **kwargs)
        try:
            return builder.get_request()
        finally:
            builder.close()

    def set_cookie(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set a cookie the client sends with later requests (see
        :meth:`werkzeug.test.Client.set_cookie`). Code written for werkzeug
        2 passes the server name first, ``set_cookie("localhost", "name",
        "value")``, and its other arguments in werkzeug 2's order: that
        still works, with a warning."""
        if len(args) < 3:
            super().set_cookie(*args, **kwargs)
            return
        warn_deprecated(
            "client.set_cookie(server_name, key, value)",
            "'client.set_cookie(key, value, domain=server_name)'",
            "removed in werkzeug 3.0",
        )
        server_name, key, value, *rest = args
        names = ("max_age", "expires", "path", "domain", "secure", "httponly")
        options = {**dict(zip(names, rest, strict=False)), **kwargs}
        options.pop("charset", None)  # werkzeug 2's; text is always UTF-8
        if options.get("domain") is None:
            options.pop("domain", None)
        else:  # the cookie's Domain attribute
            server_name = options.pop("domain").lstrip(".")
            options["origin_only"] = False
        super().set_cookie(key, value, domain=server_name, **options)

    @property
    def cookie_jar(self) -> CookieJar | None:
        """The client's cookies as werkzeug 2 showed them (removed in
        werkzeug 3.0; use :meth:`get_cookie`, :meth:`set_cookie` and
        :meth:`delete_cookie`), or ``None`` when cookies are disabled."""
        warn_deprecated(
            "client.cookie_jar",
            "'client.get_cookie(key)', 'set_cookie' and 'delete_cookie'",
            "removed in werkzeug 3.0",
        )
        cookies = client_cookies(self)
        return None if cookies is None else CookieJar(cookies)

    def open(
        self,
        *args: t.Any,
        buffered: bool = False,
        follow_redirects: bool = False,
        **kwargs: t.Any,
    ) -> TestResponse:
        """Make a request. The arguments are those of
        :class:`EnvironBuilder`, or a single ``EnvironBuilder``, environ
        dict or request object."""
        as_tuple = kwargs.pop("as_tuple", False)
        first = args[0] if args else None
        if isinstance(first, werkzeug.test.EnvironBuilder):
            builder = copy(first)
            builder.environ_base = self._copy_environ(builder.environ_base or {})  # type: ignore[arg-type]
            request = builder.get_request()
        elif isinstance(first, dict):
            request = EnvironBuilder.from_environ(
                first, app=self.application, environ_base=self._copy_environ({})
            ).get_request()
        elif isinstance(first, BaseRequest):
            request = copy(first)
            request.environ = self._copy_environ(request.environ)
        else:
            request = self._request_from_builder_args(args, kwargs)

        # The contexts kept from the previous request end before this one.
        self._context_stack.close()
        outer = _cv_app.get(None)

        try:
            response = super().open(
                request, buffered=buffered, follow_redirects=follow_redirects
            )
        finally:
            # Also when the app's exception propagated: wsgi_app left the
            # kept contexts' teardown to us.
            self._keep_new_contexts(outer)
        response.json_module = self.application.json  # type: ignore[assignment]
        if as_tuple:
            warn_deprecated(
                "client.open(as_tuple=True)",
                "'response.request.environ'",
                "removed in werkzeug 2.1",
            )
            return (response.request.environ, response)  # type: ignore[return-value]
        return response

    def _keep_new_contexts(self, outer: AppContext | None) -> None:
        """Push again the contexts wsgi_app kept, to stay until the next
        request or the end of the ``with`` block. ``outer`` is the app
        context that was current before the request (the user's own, say)."""
        kept = self._new_contexts[:]
        self._new_contexts.clear()
        for context in kept:
            self._context_stack.enter_context(context)
        for context in kept:
            # wsgi_app left their teardown to us: it runs when they are popped.
            context._teardown_holds -= 1
            # An app context the request made for itself is marked while
            # kept, so that a request made meanwhile by another client gets
            # a context (and a g) of its own; one that was current before
            # is left as it is. Marked only now: the kept request context
            # above must reuse its own app context.
            if isinstance(context, AppContext) and context is not outer:
                context._preserved_by_client = True
                self._context_stack.callback(_unmark, context)

    def __enter__(self) -> FlaskClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        self.preserve_context = True
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.preserve_context = False
        self._context_stack.close()


class CookieJar:
    """What ``client.cookie_jar`` was in werkzeug 2, over the client's
    cookies: it iterates over them as :class:`http.cookiejar.Cookie`
    objects (``name``, ``value``, ``domain``, ``path``, ``expires``...),
    has their number as its length, and :meth:`clear` removes them."""

    def __init__(self, cookies: dict[tuple[str, str, str], t.Any]) -> None:
        self._cookies = cookies

    def __iter__(self) -> t.Iterator[http.cookiejar.Cookie]:
        for c in list(self._cookies.values()):
            if c.origin_only:  # werkzeug 2's jar named a dotless host "host.local"
                domain = c.domain if "." in c.domain else f"{c.domain}.local"
            else:
                domain = "." + c.domain.lstrip(".")
            expires = c.expires.timestamp() if c.expires is not None else None
            if c.max_age is not None:
                expires = time.time() + c.max_age
            rest: dict[str, t.Any] = {"HttpOnly": None} if c.http_only else {}
            if c.same_site is not None:
                rest["SameSite"] = c.same_site
            yield http.cookiejar.Cookie(
                0, c.key, c.value, None, False, domain, not c.origin_only,
                c.domain.startswith("."), c.path, True, bool(c.secure),
                None if expires is None else int(expires), expires is None,
                None, None, rest,
            )  # fmt: skip

    def __len__(self) -> int:
        return len(self._cookies)

    def clear(
        self,
        domain: str | None = None,
        path: str | None = None,
        name: str | None = None,
    ) -> None:
        """Remove every cookie; or those of ``domain``, of ``domain`` and
        ``path``, or the one named ``name`` there, raising ``KeyError`` when
        there are none, as :meth:`http.cookiejar.CookieJar.clear` does."""
        if name is not None and (domain is None or path is None):
            raise ValueError("domain and path must be given to remove a cookie by name")
        if path is not None and domain is None:
            raise ValueError("domain must be given to remove cookies by path")
        gone = [
            key
            for key, cookie in zip(self._cookies, self, strict=True)
            if domain in (None, cookie.domain)
            and path in (None, cookie.path)
            and name in (None, cookie.name)
        ]
        if domain is not None and not gone:
            raise KeyError(name or path or domain)
        for key in gone:
            del self._cookies[key]


def make_test_environ_builder(
    app: Flask, *args: t.Any, **kwargs: t.Any
) -> EnvironBuilder:
    """An :class:`EnvironBuilder` for ``app`` (removed from Flask in 2.0)."""
    warn_deprecated(
        "make_test_environ_builder",
        "'erlen.testing.EnvironBuilder'",
        "removed in Flask 2.0",
    )
    return EnvironBuilder(app, *args, **kwargs)


def _unmark(context: AppContext) -> None:
    context._preserved_by_client = False


class FlaskCliRunner(CliRunner):
    """A click test runner for an app's commands."""

    def __init__(self, app: Flask, **kwargs: t.Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(  # type: ignore[override]
        self, cli: t.Any = None, args: t.Any = None, **kwargs: t.Any
    ) -> Result:
        """Invoke a command (by default the app's command group) in an
        isolated environment, with a :class:`~erlen.cli.ScriptInfo` that
        loads the app unless ``obj`` is given."""
        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            kwargs["obj"] = ScriptInfo(create_app=lambda: self.app)
        return super().invoke(cli, args, **kwargs)
