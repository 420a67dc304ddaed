"""Helpers for views and for the framework itself: URL building, responses,
flashing, file sending, streaming, and a few small path/environment utilities.

This module must not import :mod:`erlen.app`, :mod:`erlen.ctx` or
:mod:`erlen.sansio` at import time: those modules import from here.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import typing as t
from datetime import datetime
from datetime import timedelta
from functools import cache
from functools import update_wrapper

import werkzeug.security
import werkzeug.utils
from werkzeug.exceptions import abort as _werkzeug_abort
from werkzeug.exceptions import NotFound
from werkzeug.utils import redirect as _werkzeug_redirect
from werkzeug.wrappers import Response as BaseResponse

from . import compat as _compat
from . import globals as _globals
from .globals import _no_app_msg
from .globals import _no_req_msg
from .signals import message_flashed

# Bound by assignment for speed: see the PERF note in erlen.ctx.
_cv_app = _globals._cv_app
_cv_request = _globals._cv_request

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .ctx import RequestContext
    from .wrappers import Response

_FALSE_WORDS = frozenset(("0", "false", "no"))


def _env_flag(*names: str) -> str | None:
    """Return the value of the first of ``names`` that is set and not empty."""
    environ = os.environ
    for name in names:
        val = environ.get(name)
        if val:
            return val
    return None


def get_debug_flag() -> bool:
    """Whether debug mode is requested by the environment.

    Reads :envvar:`ERLEN_DEBUG`, then :envvar:`FLASK_DEBUG` (so that an app
    moved over from Flask keeps working). Any value other than ``0``,
    ``false`` or ``no`` (in any case) enables debug mode. Unset means
    ``False``.
    """
    val = _env_flag("ERLEN_DEBUG", "FLASK_DEBUG")
    if not val and os.environ.get("FLASK_ENV"):
        # Before Flask 2.3, FLASK_ENV=development turned debug mode on.
        _compat.warn_deprecated(
            "FLASK_ENV", "FLASK_DEBUG (or ERLEN_DEBUG)", "removed in Flask 2.3"
        )
        return os.environ["FLASK_ENV"] == "development"
    return bool(val) and val.lower() not in _FALSE_WORDS  # type: ignore[union-attr]


def get_env() -> str:
    """The value of :envvar:`FLASK_ENV`, ``"production"`` when unset.

    Removed from Flask in 2.3, with the ``ENV`` config key it filled; kept
    so older code runs. Use :func:`get_debug_flag` instead.
    """
    _compat.warn_deprecated(
        "get_env", "'get_debug_flag' (FLASK_DEBUG)", "removed in Flask 2.3"
    )
    return _compat.flask_env()


def get_load_dotenv(default: bool = True) -> bool:
    """Whether the default dotenv files (``.env``, ``.flaskenv``) should be
    loaded.

    :envvar:`ERLEN_SKIP_DOTENV` or :envvar:`FLASK_SKIP_DOTENV` set to a true
    value disables loading; set to ``0``, ``false`` or ``no`` enables it.

    :param default: What to return when neither variable is set.
    """
    val = _env_flag("ERLEN_SKIP_DOTENV", "FLASK_SKIP_DOTENV")
    if val is None:
        return default
    return val.lower() in _FALSE_WORDS


def _require_request_ctx() -> RequestContext:
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(_no_req_msg)
    return ctx


def _current_app() -> Flask:
    # PERF: on every url_for/render call; one ContextVar read, no helpers.
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx.app


@t.overload
def stream_with_context(
    generator_or_function: t.Iterator[t.AnyStr],
) -> t.Iterator[t.AnyStr]: ...


@t.overload
def stream_with_context(
    generator_or_function: t.Callable[..., t.Iterator[t.AnyStr]],
) -> t.Callable[..., t.Iterator[t.AnyStr]]: ...


def stream_with_context(
    generator_or_function: t.Iterator[t.AnyStr] | t.Callable[..., t.Iterator[t.AnyStr]],
) -> t.Iterator[t.AnyStr] | t.Callable[..., t.Iterator[t.AnyStr]]:
    """Keep the current request context (and its app context) active while a
    response generator runs.

    Without it, a generator returned from a view runs after the request
    context has been popped, so :data:`request`, :data:`session` and
    :data:`g` are gone. Pass a generator (``stream_with_context(gen())``) or
    decorate a generator function (``@stream_with_context``).

    Must be called while a request context is active.
    """
    try:
        source = iter(generator_or_function)  # type: ignore[arg-type]
    except TypeError:
        func = generator_or_function

        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Iterator[t.AnyStr]:
            return stream_with_context(func(*args, **kwargs))  # type: ignore[operator]

        return update_wrapper(wrapper, func)  # type: ignore[arg-type]

    return _context_stream(source)


def _context_stream(source: t.Iterator[t.AnyStr]) -> t.Iterator[t.AnyStr]:
    def run() -> t.Iterator[t.AnyStr]:
        req_ctx = _cv_request.get(None)
        if req_ctx is None:
            raise RuntimeError(
                "'stream_with_context' can only be used when a request"
                " context is active, such as in a view function."
            )
        app_ctx = _cv_app.get()
        # The contexts are captured now but pushed only on the first real
        # iteration: pushing here would bind their ContextVar tokens to the
        # caller's context (wrong under async views). Until the stream ends,
        # the request's own pops leave the teardown functions to it.
        req_ctx._teardown_holds += 1
        app_ctx._teardown_holds += 1
        try:
            yield None  # type: ignore[misc]
        except BaseException:
            # Closed (say, the client went away) before the first chunk: the
            # teardown functions still run, once.
            req_ctx._teardown_holds -= 1
            app_ctx._teardown_holds -= 1
            with app_ctx, req_ctx:
                pass
            raise
        req_ctx._teardown_holds -= 1
        app_ctx._teardown_holds -= 1
        # App context first, so pushing the request context does not create
        # a second, different app context.
        with app_ctx, req_ctx:
            try:
                yield from source
            finally:
                close = getattr(source, "close", None)
                if close is not None:
                    close()

    stream = run()
    # Advance to the first ``yield`` so the contexts are captured right now,
    # while the view is still running.
    next(stream)
    return stream


def make_response(*args: t.Any) -> Response:
    """Turn a view's return value into a response object, so headers can be
    added to it before returning it.

    With no arguments, returns an empty ``app.response_class()``. With one,
    passes it to :meth:`~erlen.Flask.make_response`; with several, passes
    them as a tuple (like returning a tuple from a view).
    """
    app = _current_app()
    if not args:
        return app.response_class()
    return app.make_response(args[0] if len(args) == 1 else args)


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: t.Any,
) -> str:
    """Build a URL for ``endpoint`` with the current app's
    :meth:`~erlen.Flask.url_for`. Needs an active app or request context.

    :param endpoint: The endpoint name. A leading ``.`` means the current
        blueprint.
    :param _anchor: Appended as ``#anchor``.
    :param _method: Build the URL for the rule that handles this method.
    :param _scheme: The scheme for an external URL.
    :param _external: ``True`` for an absolute URL, ``False`` for a path.
        Outside a request URLs are external by default.
    :param values: The rule's variables; unknown keys become query
        arguments.
    """
    return _current_app().url_for(
        endpoint,
        _anchor=_anchor,
        _method=_method,
        _scheme=_scheme,
        _external=_external,
        **values,
    )


def redirect(
    location: str, code: int = 302, Response: type[BaseResponse] | None = None
) -> BaseResponse:
    """Create a redirect response.

    Uses the current app's :meth:`~erlen.Flask.redirect` when an app context
    is active (``Response`` is then ignored in favour of the app's response
    class), otherwise :func:`werkzeug.utils.redirect`.
    """
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.redirect(location, code=code)
    return _werkzeug_redirect(location, code=code, Response=Response)


def abort(code: int | BaseResponse, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    """Raise the :exc:`~werkzeug.exceptions.HTTPException` for ``code``.

    Uses the current app's :attr:`~erlen.Flask.aborter` when an app context
    is active, otherwise :func:`werkzeug.exceptions.abort`.
    """
    ctx = _cv_app.get(None)
    if ctx is not None:
        ctx.app.aborter(code, *args, **kwargs)
    _werkzeug_abort(code, *args, **kwargs)


def get_template_attribute(template_name: str, attribute: str) -> t.Any:
    """Load a macro or variable that a template exports, for use from
    Python code::

        hello = get_template_attribute("_macros.html", "hello")
        hello("World")
    """
    env = _current_app().jinja_env
    return getattr(env.get_template(template_name).module, attribute)


def flash(message: str, category: str = "message") -> None:
    """Store a message in the session for the next request to display with
    :func:`get_flashed_messages`.

    :param message: The message.
    :param category: Its category; ``"message"``, ``"error"``, ``"info"`` and
        ``"warning"`` are conventional, any string works.
    """
    req_ctx = _require_request_ctx()
    session = req_ctx.session
    # Reassign instead of appending in place: session backends that keep the
    # data elsewhere only notice assignments.
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes

    # PERF: skip building the send call when nobody listens.
    if message_flashed.receivers:
        app = req_ctx.app
        message_flashed.send(
            app, _async_wrapper=app.ensure_sync, message=message, category=category
        )


def get_flashed_messages(
    with_categories: bool = False, category_filter: t.Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """Take the flashed messages out of the session and return them.

    The first call in a request removes them from the session; later calls in
    the same request return the same messages again.

    :param with_categories: Return ``(category, message)`` tuples instead of
        just messages.
    :param category_filter: Only return messages in these categories.
    """
    req_ctx = _require_request_ctx()
    flashes = req_ctx.flashes
    if flashes is None:
        session = req_ctx.session
        flashes = session.pop("_flashes") if "_flashes" in session else []
        req_ctx.flashes = flashes
    if category_filter:
        wanted = category_filter
        flashes = [f for f in flashes if f[0] in wanted]
    if with_categories:
        return flashes
    return [f[1] for f in flashes]


def _prepare_send_file_kwargs(**kwargs: t.Any) -> dict[str, t.Any]:
    req_ctx = _require_request_ctx()
    app = req_ctx.app
    if kwargs.get("max_age") is None:
        kwargs["max_age"] = app.get_send_file_max_age
    kwargs["environ"] = req_ctx.request.environ
    kwargs["use_x_sendfile"] = app.config["USE_X_SENDFILE"]
    kwargs["response_class"] = app.response_class
    kwargs["_root_path"] = app.root_path
    return kwargs


# legacy: send_file's argument names before Flask 2.0 -> their new names.
_SEND_FILE_RENAMES = {
    "filename_or_fp": "path_or_file",
    "attachment_filename": "download_name",
    "add_etags": "etag",
    "cache_timeout": "max_age",
}


def _renamed_send_file_arguments(legacy: dict[str, t.Any]) -> dict[str, t.Any]:
    renamed = {}
    for old, value in legacy.items():
        new = _SEND_FILE_RENAMES.get(old)
        if new is None:
            raise TypeError(f"send_file() got an unexpected keyword argument {old!r}")
        _compat.warn_deprecated(
            f"send_file({old}=...)",
            f"'{new}'",
            "renamed in Flask 2.0 and removed in 2.2",
            4,
        )
        renamed[new] = value
    return renamed


def send_file(
    path_or_file: os.PathLike[t.AnyStr] | str | t.IO[bytes] | None = None,
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: None | (int | t.Callable[[str | None], int | None]) = None,
    **legacy: t.Any,
) -> Response:
    """Send a file (a path or a binary file object) to the client.

    A wrapper around :func:`werkzeug.utils.send_file` that fills in the
    request environ, the app's ``USE_X_SENDFILE``, ``response_class`` and root
    path, and :meth:`~erlen.Flask.get_send_file_max_age` when ``max_age`` is
    not given. Never pass a path that came from the client; use
    :func:`send_from_directory` for that.

    :param path_or_file: A path, relative to the working directory, or a file
        object opened in binary mode.
    :param mimetype: The MIME type; guessed from the name when omitted.
    :param as_attachment: Ask the browser to save the file.
    :param download_name: The file name the browser sees.
    :param conditional: Support conditional and range requests.
    :param etag: Compute an ETag, or use this string as the ETag.
    :param last_modified: The last modified time to send.
    :param max_age: Cache lifetime in seconds, or a function of the file name.
    :param legacy: The names Flask 2.0 renamed and 2.2 removed, still
        accepted with a deprecation warning: ``filename_or_fp``,
        ``attachment_filename``, ``add_etags``, ``cache_timeout``.
    """
    if legacy:
        renamed = _renamed_send_file_arguments(legacy)
        path_or_file = renamed.pop("path_or_file", path_or_file)
        download_name = renamed.pop("download_name", download_name)
        etag = renamed.pop("etag", etag)
        max_age = renamed.pop("max_age", max_age)
    if path_or_file is None:
        raise TypeError("send_file() missing required argument: 'path_or_file'")
    return werkzeug.utils.send_file(  # type: ignore[return-value]
        **_prepare_send_file_kwargs(
            path_or_file=path_or_file,
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            conditional=conditional,
            etag=etag,
            last_modified=last_modified,
            max_age=max_age,
        )
    )


def send_from_directory(
    directory: os.PathLike[str] | str,
    path: os.PathLike[str] | str | None = None,
    **kwargs: t.Any,
) -> Response:
    """Send ``path`` from inside ``directory`` with :func:`send_file`.

    ``path`` may come from the client: it is joined safely and a path that
    escapes ``directory`` or does not name a regular file raises
    :exc:`~werkzeug.exceptions.NotFound`. ``directory`` is relative to the
    app's root path and must not come from the client.

    ``filename=`` (renamed to ``path`` in Flask 2.0 and removed in 2.2) and
    :func:`send_file`'s old argument names are still accepted, with a
    deprecation warning.
    """
    if "filename" in kwargs:
        _compat.warn_deprecated(
            "send_from_directory(filename=...)",
            "'path'",
            "renamed in Flask 2.0 and removed in 2.2",
        )
        path = kwargs.pop("filename")
    legacy = {k: kwargs.pop(k) for k in list(kwargs) if k in _SEND_FILE_RENAMES}
    if legacy:
        kwargs.update(_renamed_send_file_arguments(legacy))
    if path is None:
        raise TypeError("send_from_directory() missing required argument: 'path'")
    return werkzeug.utils.send_from_directory(  # type: ignore[return-value]
        directory, path, **_prepare_send_file_kwargs(**kwargs)
    )


def _find_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """:func:`importlib.util.find_spec`, or ``None`` where it would raise."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def get_root_path(import_name: str) -> str:
    """The folder that holds the module or package ``import_name``.

    Falls back to the current working directory when the module cannot be
    located (for example ``__main__`` in an interactive session).

    :meta private:
    """
    mod_file: str | None = getattr(sys.modules.get(import_name), "__file__", None)
    if mod_file is not None:
        return os.path.dirname(os.path.abspath(mod_file))

    spec = _find_spec(import_name)
    loader = spec.loader if spec is not None else None
    if loader is None:
        return os.getcwd()

    get_filename = getattr(loader, "get_filename", None)
    filename: str | None
    if get_filename is not None:
        filename = get_filename(import_name)
    else:
        # A loader that cannot tell the file name: import the module and look.
        __import__(import_name)
        filename = getattr(sys.modules[import_name], "__file__", None)
        if filename is None:
            raise RuntimeError(
                f"No root path can be found for the module {import_name!r}."
                " It may come from an import hook that gives no file name, or"
                " be a namespace package. Pass the root path explicitly."
            )
    return os.path.dirname(os.path.abspath(filename))


@cache
def _split_blueprint_path(name: str) -> list[str]:
    """``"a.b.c"`` -> ``["a.b.c", "a.b", "a"]``: a nested blueprint's name
    followed by each of its parents' names.

    The result is cached and shared: callers must not modify it.
    """
    # PERF: called for every request with a blueprint; the cache makes it a
    # dict lookup.
    out = [name]
    while "." in name:
        name = name.rpartition(".")[0]
        out.append(name)
    return out


def safe_join(directory: str, *pathnames: str) -> str:
    """Join ``pathnames`` onto ``directory`` without letting them leave it.

    Removed from Flask in 2.1 (use :func:`werkzeug.utils.safe_join`, which
    returns ``None`` instead of raising); kept so older code runs.

    :raises ~werkzeug.exceptions.NotFound: if the result would be outside
        ``directory``, as Flask's did.
    """
    _compat.warn_deprecated(
        "safe_join", "'werkzeug.utils.safe_join'", "removed in Flask 2.1"
    )
    joined = werkzeug.security.safe_join(directory, *pathnames)
    if joined is None:
        raise NotFound()
    return joined


def total_seconds(td: timedelta) -> int:
    """The whole seconds in ``td`` (microseconds dropped).

    Removed from Flask in 2.1; kept so older code runs. Use
    :meth:`datetime.timedelta.total_seconds` instead.
    """
    _compat.warn_deprecated(
        "total_seconds", "'timedelta.total_seconds()'", "removed in Flask 2.1"
    )
    return td.days * 86400 + td.seconds


def is_ip(value: str) -> bool:
    """Whether ``value`` is an IPv4 or IPv6 address.

    Removed from Flask in 3.0; kept so older code runs. Use
    :func:`ipaddress.ip_address` instead.
    """
    _compat.warn_deprecated("is_ip", "'ipaddress.ip_address'", "removed in Flask 3.0")
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, value)
        except OSError:
            continue
        return True
    return False


# Removed from Flask in 3.0; Flask-Babel 2 imports it from here.
locked_cached_property = _compat.locked_cached_property
