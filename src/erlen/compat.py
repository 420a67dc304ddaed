"""Running code written for Flask on erlen.

:func:`install_as_flask` makes ``import flask`` (and every ``flask.*``
submodule) give erlen's modules, so that unmodified Flask applications and
Flask extensions run on erlen.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
import types
import typing as t
import warnings

from werkzeug.datastructures import Headers

__all__ = [
    "FLASK_API_VERSION",
    "FLASK_MODULES",
    "LegacyAppAttributes",
    "LegacyBlueprintAttributes",
    "ResponseHeaders",
    "install_as_flask",
    "locked_cached_property",
    "uninstall_flask_alias",
    "warn_deprecated",
]

#: The Flask release whose API erlen implements. ``erlen.__version__`` (and so
#: ``flask.__version__`` under the alias) answers with it, because extensions
#: compare that value against Flask versions.
FLASK_API_VERSION = "3.1.3"

_warned: set[str] = set()


def warn_deprecated(
    name: str, modern: str, flask_status: str, stacklevel: int = 3
) -> None:
    """Warn, once per ``name`` in a process, that an API Flask removed is in
    use, naming its modern spelling.

    :param name: The old name, as the user spells it.
    :param modern: What to use instead, or ``"nothing: <why>"`` when
        nothing replaces it.
    :param flask_status: What Flask did with it, e.g. ``"removed in Flask 3.0"``.
    """
    if name in _warned:
        return
    _warned.add(name)
    if modern.startswith("nothing:"):
        advice = f"Nothing replaces it: {modern[len('nothing:'):].strip()}."
    else:
        advice = f"Use {modern} instead."
    warnings.warn(
        f"'{name}' was {flask_status}; erlen keeps it so older code runs. {advice}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def _legacy_markup() -> t.Any:
    from markupsafe import Markup

    return Markup


def _helpers() -> t.Any:
    from . import helpers

    return helpers


def _legacy_escape() -> t.Any:
    from markupsafe import escape

    return escape


# Module attributes of ``erlen`` (``flask``) that Flask removed:
# name -> (modern spelling, what Flask did with it, value factory).
LEGACY_PACKAGE_ATTRIBUTES: dict[str, tuple[str, str, t.Callable[[], t.Any]]] = {
    "Markup": ("'markupsafe.Markup'", "removed in Flask 3.0", _legacy_markup),
    "escape": ("'markupsafe.escape'", "removed in Flask 3.0", _legacy_escape),
    "safe_join": (
        "'werkzeug.utils.safe_join'",
        "removed in Flask 2.1",
        lambda: _helpers().safe_join,
    ),
    "json_available": (
        "nothing: JSON is always available",
        "removed in Flask 2.3",
        lambda: True,
    ),
    "signals_available": (
        "nothing: signals are always available",
        "removed in Flask 3.0",
        lambda: True,
    ),
    "__version__": (
        "feature detection, or importlib.metadata.version('erlen') for erlen's"
        " own version",
        "deprecated in Flask 3.1 (it gives the Flask API version erlen implements)",
        lambda: FLASK_API_VERSION,
    ),
}


class JSONMixin:
    """What Flask's wrappers mixed in for ``json`` and ``get_json`` until
    Flask 2.0; erlen's Request and Response have both, so mixing this in
    changes nothing."""


@functools.cache
def _legacy_typing() -> dict[str, t.Any]:
    """The ``flask.typing`` aliases Flask 2.1 and 2.2 removed, defined as the
    last Flask that had them defined them."""
    from . import typing as ft

    view = t.Callable[..., ft.ResponseReturnValue]
    return {
        "HeaderName": str,
        "GenericException": t.TypeVar(
            "GenericException", bound=Exception, contravariant=True
        ),
        "ErrorHandlerDecorator": t.TypeVar(
            "ErrorHandlerDecorator", bound=ft.ErrorHandlerCallable
        ),
        "ViewCallable": view,
        "RouteDecorator": t.TypeVar("RouteDecorator", bound=view),
    }


def _typing_row(modern: str, removed: str, name: str) -> tuple[str, str, t.Any]:
    return (modern, f"removed in Flask {removed}", lambda: _legacy_typing()[name])


# Module attributes of erlen's submodules that Flask removed: module name ->
# the same table as above.
_Table = dict[str, tuple[str, str, t.Callable[[], t.Any]]]
LEGACY_MODULE_ATTRIBUTES: dict[str, _Table] = {
    "erlen.signals": {
        "signals_available": LEGACY_PACKAGE_ATTRIBUTES["signals_available"],
    },
    "erlen.views": {
        "MethodViewType": (
            "'type' (MethodView needs no metaclass)",
            "removed in Flask 2.3",
            lambda: type,
        ),
    },
    "erlen.typing": {
        "HeaderName": _typing_row("'str'", "2.1", "HeaderName"),
        "GenericException": _typing_row(
            "'Exception' (or a TypeVar of your own)", "2.1", "GenericException"
        ),
        "ErrorHandlerDecorator": _typing_row(
            "a TypeVar bound to 'erlen.typing.ErrorHandlerCallable'",
            "2.2",
            "ErrorHandlerDecorator",
        ),
        "ViewCallable": _typing_row(
            "'erlen.typing.RouteCallable'", "2.2", "ViewCallable"
        ),
        "RouteDecorator": _typing_row(
            "a TypeVar bound to 'erlen.typing.RouteCallable'", "2.2", "RouteDecorator"
        ),
    },
    "erlen.wrappers": {
        "JSONMixin": (
            "nothing: Request and Response have json and get_json",
            "removed in Flask 2.0",
            lambda: JSONMixin,
        ),
    },
}


def legacy_attribute(
    module: str, name: str, table: dict[str, tuple[str, str, t.Callable[[], t.Any]]]
) -> t.Any:
    """Answer a module ``__getattr__`` for a removed name in ``table``."""
    try:
        modern, flask_status, factory = table[name]
    except KeyError:
        raise AttributeError(f"module {module!r} has no attribute {name!r}") from None
    warn_deprecated(name, modern, flask_status, stacklevel=4)
    return factory()


class locked_cached_property:
    """A property computed once per instance, under a lock, and then kept
    in the instance's ``__dict__``; setting or deleting it takes the lock
    too.

    Removed from Flask in 3.0 (deprecated in 2.3), where it sat in
    ``flask.helpers``; extensions such as Flask-Babel 2 still import it from
    there. Use :func:`functools.cached_property`, with a lock inside the
    function if the computation must run only once.
    """

    def __init__(
        self,
        fget: t.Callable[[t.Any], t.Any],
        name: str | None = None,
        doc: str | None = None,
    ) -> None:
        warn_deprecated(
            "locked_cached_property",
            "'functools.cached_property' (with a lock inside the function if needed)",
            "removed in Flask 3.0",
        )
        self.fget = fget
        self.__name__ = name or fget.__name__
        self.__doc__ = doc or fget.__doc__
        self.__module__ = fget.__module__
        self.lock = threading.RLock()

    def __get__(self, obj: t.Any, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        # PERF: once computed, a read is a dict lookup without the lock;
        # the lock only makes the first computation happen once.
        values = obj.__dict__
        name = self.__name__
        try:
            return values[name]
        except KeyError:
            pass
        with self.lock:
            if name not in values:
                values[name] = self.fget(obj)
            return values[name]

    def __set__(self, obj: t.Any, value: t.Any) -> None:
        with self.lock:
            obj.__dict__[self.__name__] = value

    def __delete__(self, obj: t.Any) -> None:
        with self.lock:
            obj.__dict__.pop(self.__name__, None)


def flask_env() -> str:
    """The value of :envvar:`FLASK_ENV`, ``"production"`` when unset: what
    Flask before 2.3 put in the ``ENV`` config key."""
    return os.environ.get("FLASK_ENV") or "production"


def legacy_config_defaults() -> dict[str, t.Any]:
    """The config keys Flask 2.2 and 2.3 removed, with the defaults Flask
    gave them. ``None`` for a JSON key means "use the JSON provider's setting";
    any other value overrides it, with a deprecation warning."""
    if os.environ.get("FLASK_ENV"):
        warn_deprecated(
            "FLASK_ENV", "FLASK_DEBUG (or ERLEN_DEBUG)", "removed in Flask 2.3", 6
        )
    return {
        "ENV": flask_env(),
        "JSON_AS_ASCII": None,
        "JSON_SORT_KEYS": None,
        "JSONIFY_PRETTYPRINT_REGULAR": None,
        "JSONIFY_MIMETYPE": None,
        "PRESERVE_CONTEXT_ON_EXCEPTION": None,
    }


# Each JSON config key Flask 2.3 removed -> the provider attribute to set.
LEGACY_JSON_KEYS = {
    "JSON_AS_ASCII": "app.json.ensure_ascii",
    "JSON_SORT_KEYS": "app.json.sort_keys",
    "JSONIFY_PRETTYPRINT_REGULAR": "app.json.compact",
    "JSONIFY_MIMETYPE": "app.json.mimetype",
}


def legacy_json_setting(config: t.Any, key: str) -> t.Any:
    """The value of a removed JSON config key, or ``None`` when it is not
    set (then the provider's attribute applies)."""
    value = config.get(key)
    if value is not None:
        warn_deprecated(key, f"'{LEGACY_JSON_KEYS[key]}'", "removed in Flask 2.3", 4)
    return value


def _config_key_property(
    attr: str,
    key: str,
    convert: t.Callable[[t.Any, t.Any], t.Any] | None = None,
    settable: bool = True,
    modern: str | None = None,
    removed: str = "2.3",
) -> property:
    """An app attribute that reads (and writes) ``app.config[key]``, as the
    ones Flask 2.2 deprecated and 2.3 removed did."""
    if modern is None:
        modern = f"app.config[{key!r}]"

    def fget(app: t.Any) -> t.Any:
        warn_deprecated(f"app.{attr}", modern, f"removed in Flask {removed}")
        value = app.config[key]
        return value if convert is None else convert(app, value)

    def fset(app: t.Any, value: t.Any) -> None:
        warn_deprecated(f"app.{attr}", modern, f"removed in Flask {removed}")
        app.config[key] = value

    doc = f"The ``{key}`` config key (removed from Flask in {removed}; use {modern})."
    return property(fget, fset if settable else None, doc=doc)


def _seconds_as_timedelta(app: t.Any, value: t.Any) -> t.Any:
    from datetime import timedelta

    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


def _propagate(app: t.Any, value: t.Any) -> bool:
    return bool(value) if value is not None else bool(app.testing or app.debug)


def _follows_debug(app: t.Any, value: t.Any) -> bool:
    return bool(value) if value is not None else bool(app.debug)


# What replaces PRESERVE_CONTEXT_ON_EXCEPTION since Flask 2.2.
_PRESERVE_MODERN = (
    "nothing: 'with client:' and the debugger keep the request's context"
)


def preserve_on_error(app: t.Any, ctx: t.Any, error: BaseException) -> bool:
    """Whether ``PRESERVE_CONTEXT_ON_EXCEPTION`` keeps the request context
    ``ctx`` pushed after the unhandled ``error``, as Flask before 2.2 did
    when it was true: its teardown functions then run, with ``error``, when
    the next request context is pushed here or when it is popped."""
    if not app.config.get("PRESERVE_CONTEXT_ON_EXCEPTION"):
        return False
    from .globals import _cv_app

    warn_deprecated(
        "PRESERVE_CONTEXT_ON_EXCEPTION", _PRESERVE_MODERN, "removed in Flask 2.2", 4
    )
    ctx.preserved, ctx._preserved_exc = True, error
    _cv_app.get()._preserved_request = ctx
    return True


def pop_preserved(app_ctx: t.Any) -> t.Any:
    """Pop the request context ``preserve_on_error`` kept over ``app_ctx``,
    before another one is pushed, as Flask before 2.2 did; return the app
    context current then."""
    from .globals import _cv_app
    from .globals import _cv_request

    kept, app_ctx._preserved_request = app_ctx._preserved_request, None
    current = _cv_request.get(None)
    if current is not None and current is kept:  # not popped by hand meanwhile
        current.preserved = False
        current.pop(current._preserved_exc)
    return _cv_app.get(None)


_TRY_TRIGGER = (
    "app.try_trigger_before_first_request_functions",
    "nothing: erlen runs the before_first_request functions before the first"
    " request",
    "removed in Flask 2.2",
)


class LegacyAppAttributes:
    """The application attributes and methods Flask removed, each working
    as it did and warning once, naming the modern spelling."""

    config: t.Any
    session_interface: t.Any
    _got_first_request: bool

    env = _config_key_property("env", "ENV", modern="'app.debug'")
    session_cookie_name = _config_key_property(
        "session_cookie_name", "SESSION_COOKIE_NAME"
    )
    send_file_max_age_default = _config_key_property(
        "send_file_max_age_default", "SEND_FILE_MAX_AGE_DEFAULT", _seconds_as_timedelta
    )
    use_x_sendfile = _config_key_property("use_x_sendfile", "USE_X_SENDFILE")
    propagate_exceptions = _config_key_property(
        "propagate_exceptions", "PROPAGATE_EXCEPTIONS", _propagate, settable=False
    )
    templates_auto_reload = _config_key_property(
        "templates_auto_reload", "TEMPLATES_AUTO_RELOAD", _follows_debug
    )
    preserve_context_on_exception = _config_key_property(
        "preserve_context_on_exception",
        "PRESERVE_CONTEXT_ON_EXCEPTION",
        _follows_debug,
        settable=False,
        modern=_PRESERVE_MODERN,
        removed="2.2",
    )

    @property
    def got_first_request(self) -> bool:
        """Whether the app has started handling its first request (removed
        in Flask 3.0)."""
        warn_deprecated(
            "app.got_first_request",
            "nothing: finish setting up the app before it serves",
            "removed in Flask 3.0",
        )
        return self._got_first_request

    def try_trigger_before_first_request_functions(self) -> None:
        """Run the ``before_first_request`` functions unless the app has
        handled a request already (removed from Flask in 2.2)."""
        warn_deprecated(*_TRY_TRIGGER)
        from .app import Flask

        Flask._try_trigger_before_first_request_functions(self)  # type: ignore[arg-type]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        # A subclass overriding the old name, as Flask 2.1 code may, gets
        # its override called where erlen runs the first-request step: it is
        # bound to the private name that step calls, so requests pay nothing.
        super().__init_subclass__(**kwargs)
        override = cls.__dict__.get("try_trigger_before_first_request_functions")
        if override is not None:
            warn_deprecated(*_TRY_TRIGGER, stacklevel=3)
            cls._try_trigger_before_first_request_functions = override  # type: ignore[attr-defined]

    # Removed in Flask 2.0: the session interface's methods, on the app.

    def open_session(self, request: t.Any) -> t.Any:
        """Open the session for ``request`` through the session interface."""
        warn_deprecated(
            "app.open_session", "app.session_interface.open_session(app, request)",
            "removed in Flask 2.0",
        )
        return self.session_interface.open_session(self, request)

    def save_session(self, session: t.Any, response: t.Any) -> None:
        """Save ``session`` on ``response`` through the session interface."""
        warn_deprecated(
            "app.save_session",
            "app.session_interface.save_session(app, session, response)",
            "removed in Flask 2.0",
        )
        self.session_interface.save_session(self, session, response)

    def make_null_session(self) -> t.Any:
        """A null session from the session interface."""
        warn_deprecated(
            "app.make_null_session",
            "app.session_interface.make_null_session(app)",
            "removed in Flask 2.0",
        )
        return self.session_interface.make_null_session(self)


# Set once any blueprint gets a ``json_encoder`` or ``json_decoder``: until
# then the JSON provider does not look for the current request's blueprint.
blueprint_json_classes_in_use = False


def _blueprint_json_property(attr: str) -> property:
    slot = f"_{attr}"

    def fget(bp: t.Any) -> t.Any:
        warn_deprecated(
            f"bp.{attr}", "a JSONProvider (app.json)", "removed in Flask 2.3"
        )
        return bp.__dict__.get(slot)

    def fset(bp: t.Any, value: t.Any) -> None:
        global blueprint_json_classes_in_use
        warn_deprecated(
            f"bp.{attr}", "a JSONProvider (app.json)", "removed in Flask 2.3"
        )
        bp.__dict__[slot] = value
        if value is not None:
            blueprint_json_classes_in_use = True

    return property(
        fget,
        fset,
        doc=f"The JSON {attr[5:]} class for requests to this blueprint's views"
        " (removed from Flask in 2.3; customize app.json instead).",
    )


class LegacyBlueprintAttributes:
    """The blueprint attributes and methods Flask removed, each working as
    it did and warning once, naming the modern spelling."""

    json_encoder = _blueprint_json_property("json_encoder")
    json_decoder = _blueprint_json_property("json_decoder")

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        global blueprint_json_classes_in_use
        super().__init_subclass__(**kwargs)
        for attr in ("json_encoder", "json_decoder"):
            if isinstance(cls.__dict__.get(attr), type):
                warn_deprecated(
                    f"bp.{attr}", "a JSONProvider (app.json)", "removed in Flask 2.3", 4
                )
                blueprint_json_classes_in_use = True

    if t.TYPE_CHECKING:  # pragma: no cover

        def record_once(self, func: t.Callable[[t.Any], None]) -> None: ...

        def _check_setup_finished(self, f_name: str) -> None: ...

    def before_app_first_request(
        self, f: t.Callable[[], t.Any]
    ) -> t.Callable[[], t.Any]:
        """Register a function run once, before the app's first request
        (removed from Flask in 2.3; use :meth:`record_once` to run setup
        code when the blueprint is registered)."""
        self._check_setup_finished("before_app_first_request")
        warn_deprecated(
            "before_app_first_request",
            "'record_once' to run setup code when the blueprint is registered",
            "removed in Flask 2.3",
        )
        self.record_once(lambda state: state.app.before_first_request_funcs.append(f))
        return f


def blueprint_json_class(app: t.Any, attr: str) -> t.Any:
    """The ``json_encoder`` or ``json_decoder`` class set on the current
    request's blueprint, as Flask before 2.3 used it, or ``None``."""
    from .globals import _cv_request

    ctx = _cv_request.get(None)
    if ctx is None:
        return None
    name = ctx.request.blueprint
    bp = app.blueprints.get(name) if name is not None else None
    if bp is None:
        return None
    # Read without the property, which would warn on every request.
    value = bp.__dict__.get(f"_{attr}")
    if value is None:
        value = getattr(type(bp), attr, None)  # set on a subclass, as in Flask 2.0
    return value if isinstance(value, type) else None


def legacy_json_call(
    func: str, app: t.Any, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
) -> t.Any:
    """Run ``erlen.json.<func>`` with the ``app=`` argument (removed in
    Flask 2.3) or the ``encoding=`` argument (removed in Flask 2.1)."""
    import io

    from . import json as erlen_json

    if app is not None:
        warn_deprecated(
            f"json.{func}(app=...)", f"'app.json.{func}'", "removed in Flask 2.3", 4
        )
    encoding = kwargs.pop("encoding", None)
    if encoding is not None:
        warn_deprecated(
            f"json.{func}(encoding=...)",
            "text, or UTF-8 bytes",
            "removed in Flask 2.1",
            4,
        )

    def call(*call_args: t.Any) -> t.Any:
        if app is not None:
            return getattr(app.json, func)(*call_args, **kwargs)
        return getattr(erlen_json, func)(*call_args, **kwargs)

    if func == "dumps":
        rv = call(*args)
        return rv.encode(encoding) if encoding is not None else rv
    if func == "loads":
        (s,) = args
        if encoding is not None and isinstance(s, (bytes, bytearray)):
            s = bytes(s).decode(encoding)
        return call(s)
    if func == "dump":
        obj, fp = args
        if encoding is not None:
            # Flask 2.0 wrote to a binary file through a text wrapper.
            wrapper = io.TextIOWrapper(fp, encoding)
            try:
                call(obj, wrapper)
            finally:
                wrapper.detach()
            return None
        return call(obj, fp)
    (fp,) = args  # load
    if encoding is not None and isinstance(fp.read(0), bytes):
        # Decoded here rather than through a wrapper, which would close the
        # caller's file when collected.
        return call(io.StringIO(fp.read().decode(encoding)))
    return call(fp)


# Werkzeug 2.3 deprecated and 3.0 removed these attributes of requests and
# responses; erlen keeps them readable and settable. Text is always UTF-8.
WERKZEUG_CHARSET_ATTRIBUTES = {
    "charset": "utf-8",
    "url_charset": "utf-8",
    "encoding_errors": "replace",
}


def charset_property(owner: str, attr: str) -> property:
    """The removed werkzeug attribute ``attr`` of ``owner`` (``Request`` or
    ``Response``) as a property: readable and settable, with a warning."""
    default = WERKZEUG_CHARSET_ATTRIBUTES[attr]
    slot = f"_legacy_{attr}"

    def warn() -> None:
        warn_deprecated(
            f"{owner}.{attr}",
            "nothing: text in requests and responses is always UTF-8",
            "removed in Werkzeug 3.0",
            4,
        )

    def fget(obj: t.Any) -> str:
        warn()
        return obj.__dict__.get(slot, default)  # type: ignore[no-any-return]

    def fset(obj: t.Any, value: str) -> None:
        warn()
        obj.__dict__[slot] = value

    return property(
        fget,
        fset,
        doc=f"Always {default!r} (removed in Werkzeug 3.0; kept so older code runs).",
    )


def warn_charset_class_attributes(
    cls: type, owner: str, names: t.Iterable[str]
) -> None:
    """Warn when a subclass sets one of the removed werkzeug attributes as
    a class attribute (``charset = "utf-8"``), as werkzeug 2.3 did."""
    for name in names:
        value = cls.__dict__.get(name)
        if value is not None and not isinstance(value, property):
            warn_deprecated(
                f"{owner}.{name}",
                "nothing: text in requests and responses is always UTF-8",
                "removed in Werkzeug 3.0",
                4,
            )


def text_cookie_argument(name: str, value: t.Any) -> t.Any:
    """Decode a ``bytes`` cookie key or value as UTF-8, as werkzeug 2.3 did
    (werkzeug 3.0 fails on bytes)."""
    if isinstance(value, (bytes, bytearray)):
        warn_deprecated(
            f"set_cookie/delete_cookie with a bytes {name}",
            "a str",
            "removed in Werkzeug 3.0",
            4,
        )
        return bytes(value).decode()
    return value


class ResponseHeaders(Headers):
    """The headers of erlen's responses: werkzeug's, also taking a ``bytes``
    name or value as werkzeug 2 did, decoded as latin-1 with a deprecation
    warning (werkzeug 3 stores ``b'...'`` as text). Every way of setting a
    header by name goes through :meth:`add` or :meth:`set`."""

    def __setitem__(self, key: t.Any, value: t.Any) -> None:
        if isinstance(key, (str, bytes)):
            self.set(key, value)  # type: ignore[arg-type]
        else:
            Headers.__setitem__(self, key, value)

    def add(self, key: str, value: t.Any, /, **kwargs: t.Any) -> None:
        if isinstance(value, bytes) or isinstance(key, bytes):
            key, value = _latin1(key), _latin1(value)
        Headers.add(self, key, value, **kwargs)

    def set(self, key: str, value: t.Any, /, **kwargs: t.Any) -> None:
        if isinstance(value, bytes) or isinstance(key, bytes):
            key, value = _latin1(key), _latin1(value)
        Headers.set(self, key, value, **kwargs)


def _latin1(value: t.Any) -> t.Any:
    if isinstance(value, bytes):
        warn_deprecated(
            "a bytes header name or value", "a str", "removed in Werkzeug 3.0", 5
        )
        return value.decode("latin-1")
    return value


# Every module of Flask 3.1 that applications and extensions import, by its
# name under ``flask.``; erlen mirrors each one under the same name.
FLASK_MODULES: tuple[str, ...] = (
    "app",
    "blueprints",
    "cli",
    "config",
    "ctx",
    "debughelpers",
    "globals",
    "helpers",
    "json",
    "json.provider",
    "json.tag",
    "logging",
    "sansio",
    "sansio.app",
    "sansio.blueprints",
    "sansio.scaffold",
    "sessions",
    "signals",
    "templating",
    "testing",
    "typing",
    "views",
    "wrappers",
)


class _FlaskAliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves ``flask`` and ``flask.X`` to ``erlen`` and ``erlen.X``.

    The eager aliases in :func:`install_as_flask` cover Flask's modules; this
    finder answers for any other ``flask.*`` name (``flask.__main__``, say) so
    that it fails or succeeds exactly as the erlen module of that name does.
    """

    def find_spec(
        self, fullname: str, path: t.Any = None, target: t.Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "flask" and not fullname.startswith("flask."):
            return None
        target_name = "erlen" + fullname[len("flask") :]
        try:
            if importlib.util.find_spec(target_name) is None:
                return None
        except ModuleNotFoundError:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return importlib.import_module("erlen" + spec.name[len("flask") :])

    def exec_module(self, module: types.ModuleType) -> None:
        # The erlen module is already executed; importing it again as
        # ``flask.X`` must not run its body a second time.
        pass


_finder: _FlaskAliasFinder | None = None


def install_as_flask() -> None:
    """Make ``import flask`` and ``import flask.X`` import erlen's modules.

    Call it once, before anything imports Flask. It is idempotent, and works
    whether or not the real Flask is installed.

    :raises RuntimeError: if the real ``flask`` was already imported in this
        process, since objects made from its classes would not work with
        erlen's.
    """
    global _finder
    import erlen

    existing = sys.modules.get("flask")
    if existing is not None and existing is not erlen:
        raise RuntimeError(
            "erlen.install_as_flask() must be called before 'flask' is"
            f" imported, but the real Flask is already loaded from"
            f" {getattr(existing, '__file__', existing)!r}. Call it first"
            " thing at startup (for example at the top of your WSGI entry"
            " point or conftest.py)."
        )
    if _finder is not None and sys.modules.get("flask") is erlen:
        return

    sys.modules["flask"] = erlen
    for name in FLASK_MODULES:
        sys.modules[f"flask.{name}"] = importlib.import_module(f"erlen.{name}")
    if _finder is None:
        _finder = _FlaskAliasFinder()
        sys.meta_path.insert(0, _finder)


def uninstall_flask_alias() -> None:
    """Undo :func:`install_as_flask` (for tests): ``flask`` names are removed
    from ``sys.modules`` and the import hook is taken out."""
    global _finder
    import erlen

    for key in [k for k in sys.modules if k == "flask" or k.startswith("flask.")]:
        if sys.modules[key] is erlen or getattr(
            sys.modules[key], "__name__", ""
        ).startswith("erlen"):
            del sys.modules[key]
    if _finder is not None:
        try:
            sys.meta_path.remove(_finder)
        except ValueError:
            pass
        _finder = None
