"""What apps and blueprints share: the registries of views, hooks and error
handlers, the decorators that fill them, and the static and template folders.

Nothing here does IO or reads a context.
"""

from __future__ import annotations

import os
import pathlib
import sys
import typing as t
from collections import defaultdict
from functools import cached_property
from functools import update_wrapper

from jinja2 import FileSystemLoader
from werkzeug.exceptions import default_exceptions
from werkzeug.exceptions import HTTPException

from ..helpers import _find_spec
from ..helpers import get_root_path
from ..templating import _default_template_ctx_processor

if t.TYPE_CHECKING:  # pragma: no cover
    from click import Group

_sentinel = object()

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def setupmethod(f: F) -> F:
    """Mark a method that changes the app's or blueprint's setup: it fails
    once the app has handled a request (or the blueprint was registered)."""
    f_name = f.__name__

    def wrapper_func(self: Scaffold, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self._check_setup_finished(f_name)
        return f(self, *args, **kwargs)

    return t.cast(F, update_wrapper(wrapper_func, f))


def _adding_decorator(
    add: t.Callable[..., None], name: str | None
) -> t.Callable[[F], F]:
    """A decorator that passes the function and ``name`` to ``add`` and
    returns the function unchanged."""

    def decorator(f: F) -> F:
        add(f, name=name)
        return f

    return decorator


def _endpoint_from_view_func(view_func: t.Callable[..., t.Any] | None) -> str:
    """The default endpoint name of a view: the function's name."""
    assert view_func is not None, "expected view func if endpoint is not provided."
    return view_func.__name__


class Scaffold:
    """The common base of :class:`~erlen.Flask` and
    :class:`~erlen.Blueprint`.

    :param import_name: The import name of the module or package that
        defines the object; its folder is the default :attr:`root_path`.
    :param static_folder: Folder of static files, relative to
        :attr:`root_path`.
    :param static_url_path: URL prefix of the static route; defaults to the
        static folder's name.
    :param template_folder: Folder of templates, relative to
        :attr:`root_path`.
    :param root_path: The folder that relative paths are resolved against.
    """

    cli: Group
    name: str
    _static_folder: str | None = None
    _static_url_path: str | None = None

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ):
        #: The import name of the module or package that defines this object.
        self.import_name = import_name
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        #: Template folder relative to :attr:`root_path`.
        self.template_folder = template_folder
        if root_path is None:
            root_path = get_root_path(self.import_name)
        #: Absolute path of the folder that relative paths start from.
        self.root_path = root_path

        #: endpoint -> view function.
        self.view_functions: dict[str, t.Callable[..., t.Any]] = {}
        #: scope (blueprint name or ``None``) -> status code or ``None`` ->
        #: exception class -> handler.
        self.error_handler_spec: dict[
            str | None, dict[int | None, dict[type[Exception], t.Callable[..., t.Any]]]
        ] = defaultdict(lambda: defaultdict(dict))
        #: scope -> functions run before each request.
        self.before_request_funcs: dict[str | None, list[t.Any]] = defaultdict(list)
        #: scope -> functions run after each request, given the response.
        self.after_request_funcs: dict[str | None, list[t.Any]] = defaultdict(list)
        #: scope -> functions run when the request context is popped.
        self.teardown_request_funcs: dict[str | None, list[t.Any]] = defaultdict(list)
        #: scope -> functions whose dicts are added to the template context.
        self.template_context_processors: dict[str | None, list[t.Any]] = defaultdict(
            list, {None: [_default_template_ctx_processor]}
        )
        #: scope -> functions that see the matched endpoint and view args.
        self.url_value_preprocessors: dict[str | None, list[t.Any]] = defaultdict(list)
        #: scope -> functions that fill in values when building URLs.
        self.url_default_functions: dict[str | None, list[t.Any]] = defaultdict(list)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def _check_setup_finished(self, f_name: str) -> None:
        raise NotImplementedError

    @property
    def static_folder(self) -> str | None:
        """The absolute path of the static folder, or ``None``."""
        if self._static_folder is not None:
            return os.path.join(self.root_path, self._static_folder)
        return None

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        if value is not None:
            value = os.fspath(value).rstrip(r"\/")
        self._static_folder = value

    @property
    def has_static_folder(self) -> bool:
        """Whether a static folder is set."""
        return self.static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """The URL prefix of the static route: the value given, or the
        static folder's base name."""
        if self._static_url_path is not None:
            return self._static_url_path
        if self.static_folder is not None:
            basename = os.path.basename(self.static_folder)
            return f"/{basename}".rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        if value is not None:
            value = value.rstrip("/")
        self._static_url_path = value

    @cached_property
    def jinja_loader(self) -> FileSystemLoader | None:
        """A file system loader over :attr:`template_folder`, if set."""
        if self.template_folder is not None:
            return FileSystemLoader(os.path.join(self.root_path, self.template_folder))
        return None

    # routing

    def _method_route(
        self, method: str, rule: str, options: dict[str, t.Any]
    ) -> t.Callable[[F], F]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    @setupmethod
    def get(self, rule: str, **options: t.Any) -> t.Callable[[F], F]:
        """``route(rule, methods=["GET"])``."""
        return self._method_route("GET", rule, options)

    @setupmethod
    def post(self, rule: str, **options: t.Any) -> t.Callable[[F], F]:
        """``route(rule, methods=["POST"])``."""
        return self._method_route("POST", rule, options)

    @setupmethod
    def put(self, rule: str, **options: t.Any) -> t.Callable[[F], F]:
        """``route(rule, methods=["PUT"])``."""
        return self._method_route("PUT", rule, options)

    @setupmethod
    def delete(self, rule: str, **options: t.Any) -> t.Callable[[F], F]:
        """``route(rule, methods=["DELETE"])``."""
        return self._method_route("DELETE", rule, options)

    @setupmethod
    def patch(self, rule: str, **options: t.Any) -> t.Callable[[F], F]:
        """``route(rule, methods=["PATCH"])``."""
        return self._method_route("PATCH", rule, options)

    @setupmethod
    def route(self, rule: str, **options: t.Any) -> t.Callable[[F], F]:
        """Decorate a view function to register it for ``rule``; the options
        are those of :meth:`add_url_rule`."""

        def decorator(f: F) -> F:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: t.Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register a URL rule and, if given, its view function."""
        raise NotImplementedError

    @setupmethod
    def endpoint(self, endpoint: str) -> t.Callable[[F], F]:
        """Decorate a view function to register it under ``endpoint``,
        without a rule (one added with :meth:`add_url_rule` can point at it).
        """

        def decorator(f: F) -> F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    # hooks

    @setupmethod
    def before_request(self, f: F) -> F:
        """Register a function run before each request. If it returns a
        value other than ``None``, that value is the response and the view is
        not called."""
        self.before_request_funcs[None].append(f)
        return f

    @setupmethod
    def after_request(self, f: F) -> F:
        """Register a function run after each request; it takes the
        response and returns a response."""
        self.after_request_funcs[None].append(f)
        return f

    @setupmethod
    def teardown_request(self, f: F) -> F:
        """Register a function run when the request context is popped, with
        the unhandled exception or ``None``. Its return value is ignored."""
        self.teardown_request_funcs[None].append(f)
        return f

    @setupmethod
    def context_processor(self, f: F) -> F:
        """Register a function whose returned dict is added to the context
        of every rendered template."""
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def url_value_preprocessor(self, f: F) -> F:
        """Register a function called with the endpoint and the view args
        (which it may change) before the ``before_request`` functions."""
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: F) -> F:
        """Register a function called with the endpoint and the values when
        a URL is built; it may fill values in place."""
        self.url_default_functions[None].append(f)
        return f

    @setupmethod
    def errorhandler(
        self, code_or_exception: type[Exception] | int
    ) -> t.Callable[[F], F]:
        """Decorate a function to handle an HTTP status code or an exception
        class (and its subclasses)."""

        def decorator(f: F) -> F:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: t.Callable[..., t.Any]
    ) -> None:
        """The non-decorator form of :meth:`errorhandler`."""
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    @staticmethod
    def _get_exc_class_and_code(
        exc_class_or_code: type[Exception] | int,
    ) -> tuple[type[Exception], int | None]:
        """The exception class and the HTTP code (``None`` when it is not an
        HTTP exception) that a handler is registered under."""
        if isinstance(exc_class_or_code, int):
            try:
                exc_class: t.Any = default_exceptions[exc_class_or_code]
            except KeyError:
                raise ValueError(
                    f"'{exc_class_or_code}' is not a recognized HTTP error code."
                    " Use a subclass of HTTPException with that code instead."
                ) from None
        else:
            exc_class = exc_class_or_code

        if isinstance(exc_class, Exception):
            raise TypeError(
                f"{exc_class!r} is an instance, not a class. Handlers can only"
                " be registered for Exception classes or HTTP error codes."
            )
        if not isinstance(exc_class, type) or not issubclass(exc_class, Exception):
            name = getattr(exc_class, "__name__", repr(exc_class))
            raise ValueError(
                f"'{name}' is not a subclass of Exception. Handlers can only"
                " be registered for Exception classes or HTTP error codes."
            )
        if issubclass(exc_class, HTTPException):
            return exc_class, exc_class.code
        return exc_class, None


def _locate_import_dir(import_name: str) -> str:
    """The ``sys.path`` entry that ``import_name`` is imported from, or the
    working directory when it cannot be found."""
    top = import_name.partition(".")[0]
    spec = _find_spec(top)
    if spec is None:
        return os.getcwd()

    locations = spec.submodule_search_locations
    if not locations:
        return os.path.dirname(spec.origin)  # type: ignore[type-var,return-value]
    if spec.origin not in (None, "namespace"):
        return os.path.dirname(os.path.dirname(spec.origin))

    # A namespace package spans several folders: take the one holding the
    # requested submodule.
    chosen = locations[0]
    sub = _find_spec(import_name)
    if sub is not None and sub.submodule_search_locations:
        sub_dir = pathlib.Path(os.path.commonpath(list(sub.submodule_search_locations)))
        for location in locations:
            if sub_dir.is_relative_to(location):
                chosen = location
                break
    return os.path.dirname(chosen)


def find_package(import_name: str) -> tuple[str | None, str]:
    """The install prefix of a package (``None`` when it is not installed in
    the interpreter's prefix or in a ``site-packages`` folder) and the folder
    it is imported from."""
    path = _locate_import_dir(import_name)
    prefix = os.path.abspath(sys.prefix)
    if pathlib.PurePath(path).is_relative_to(prefix):
        return prefix, path

    above, folder = os.path.split(path)
    if folder.lower() != "site-packages":
        return None, path
    grand, middle = os.path.split(above)
    if middle.lower() == "lib":  # prefix/lib/site-packages
        return grand, path
    if os.path.basename(grand).lower() == "lib":  # prefix/lib/pythonX.Y/site-packages
        return os.path.dirname(grand), path
    return above, path
