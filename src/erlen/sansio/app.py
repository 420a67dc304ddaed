"""The application object's setup half: configuration, the URL map, the
blueprint registry and everything else that needs no request or IO."""

from __future__ import annotations

import logging
import os
import sys
import typing as t
from datetime import timedelta
from functools import cached_property

from werkzeug.exceptions import Aborter
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import BadRequestKeyError
from werkzeug.routing import BuildError
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.sansio.response import Response as SansioResponse
from werkzeug.utils import redirect as _wz_redirect
from werkzeug.wrappers import Response as BaseResponse

from ..compat import legacy_config_defaults
from ..compat import LegacyAppAttributes
from ..compat import warn_deprecated
from ..config import Config
from ..config import ConfigAttribute
from ..ctx import _AppCtxGlobals
from ..helpers import _split_blueprint_path
from ..helpers import get_debug_flag
from ..json import _JSONDecoder
from ..json import _JSONEncoder
from ..json.provider import DefaultJSONProvider
from ..json.provider import JSONProvider
from ..logging import create_logger
from ..templating import DispatchingJinjaLoader
from ..templating import Environment
from .scaffold import _adding_decorator
from .scaffold import _endpoint_from_view_func
from .scaffold import find_package
from .scaffold import Scaffold
from .scaffold import setupmethod

if t.TYPE_CHECKING:  # pragma: no cover
    from ..testing import FlaskClient
    from ..testing import FlaskCliRunner
    from .blueprints import Blueprint

T = t.TypeVar("T", bound=t.Callable[..., t.Any])

_AUTOESCAPE_EXTENSIONS = (".html", ".htm", ".xml", ".xhtml", ".svg")


def _legacy_json_class(attr: str, default: type) -> property:
    name, slot = f"app.{attr}", f"legacy_{attr[5:]}"

    def fget(app: App) -> t.Any:
        warn_deprecated(name, "a JSONProvider (app.json)", "removed in Flask 2.3")
        return getattr(app.json, slot, None) or default

    def fset(app: App, value: type | None) -> None:
        warn_deprecated(name, "a JSONProvider (app.json)", "removed in Flask 2.3")
        setattr(app.json, slot, value)

    return property(
        fget,
        fset,
        doc=f"The JSON {attr[5:]} class (removed in Flask 2.3; use :attr:`json`)."
        f" Unset, it is :class:`erlen.json.{default.__name__}`, as in Flask.",
    )


def _make_timedelta(value: timedelta | int | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


class App(LegacyAppAttributes, Scaffold):
    """The central object of an application, without the WSGI side.

    :param import_name: The name of the application package or module.
    :param static_url_path: URL prefix of the static route; defaults to the
        name of ``static_folder``.
    :param static_folder: Static files folder relative to ``root_path``;
        ``None`` disables the static route.
    :param static_host: The host of the static route, required with
        ``host_matching``.
    :param host_matching: Match rules on the host too
        (:attr:`url_map.host_matching`).
    :param subdomain_matching: Match subdomains relative to ``SERVER_NAME``.
    :param template_folder: Templates folder relative to ``root_path``.
    :param instance_path: An absolute instance folder; by default ``instance``
        next to the package, or ``$PREFIX/var/NAME-instance`` when installed.
    :param instance_relative_config: Load relative config files from the
        instance folder instead of the root path.
    :param root_path: The folder that relative paths start from.
    """

    #: The class of :attr:`aborter`.
    aborter_class = Aborter
    #: The class of :attr:`jinja_env`.
    jinja_environment = Environment
    #: The class of the ``g`` object of each app context.
    app_ctx_globals_class = _AppCtxGlobals
    #: The class of :attr:`config`.
    config_class = Config
    #: The ``TESTING`` config key.
    testing = ConfigAttribute[bool]("TESTING")
    #: The ``SECRET_KEY`` config key.
    secret_key = ConfigAttribute[str | bytes | None]("SECRET_KEY")
    #: The ``PERMANENT_SESSION_LIFETIME`` config key, as a timedelta.
    permanent_session_lifetime = ConfigAttribute[timedelta](
        "PERMANENT_SESSION_LIFETIME",
        get_converter=_make_timedelta,  # type: ignore[arg-type]
    )
    #: The class of :attr:`json`.
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    #: Options passed to the Jinja environment when it is created.
    jinja_options: dict[str, t.Any] = {}
    #: The class of the rules :meth:`add_url_rule` creates.
    url_rule_class = Rule
    #: The class of :attr:`url_map`.
    url_map_class = Map
    #: The class :meth:`test_client` creates; ``FlaskClient`` when ``None``.
    test_client_class: type[FlaskClient] | None = None
    #: The class :meth:`test_cli_runner` creates; ``FlaskCliRunner`` when
    #: ``None``.
    test_cli_runner_class: type[FlaskCliRunner] | None = None

    default_config: dict[str, t.Any]
    response_class: type[SansioResponse]

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
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )

        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError(
                "If an instance path is provided it must be absolute."
                " A relative path was given instead."
            )
        #: The instance folder: for files that are not under version control
        #: and are specific to a deployment.
        self.instance_path = instance_path
        #: The configuration dict.
        self.config = self.make_config(instance_relative_config)
        #: What :func:`~erlen.abort` raises through.
        self.aborter = self.make_aborter()
        #: The JSON provider of this app.
        self.json: JSONProvider = self.json_provider_class(self)
        #: Functions called when :meth:`url_for` raises a ``BuildError``.
        self.url_build_error_handlers: list[
            t.Callable[[Exception, str, dict[str, t.Any]], str]
        ] = []
        #: Functions called when the app context is popped.
        self.teardown_appcontext_funcs: list[t.Callable[..., t.Any]] = []
        #: Functions whose dicts make up the ``shell`` command's namespace.
        self.shell_context_processors: list[t.Callable[[], dict[str, t.Any]]] = []
        #: Registered blueprints by their dotted name.
        self.blueprints: dict[str, Blueprint] = {}
        #: A place for extensions to keep their per-app state.
        self.extensions: dict[str, t.Any] = {}
        #: The URL map of the app's rules.
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.subdomain_matching = subdomain_matching
        self._got_first_request = False

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called"
                " on the application. It has already handled its first"
                " request, any changes will not be applied"
                " consistently.\n"
                "Make sure all imports, decorators, functions, etc."
                " needed to set up the application are done before"
                " running it."
            )

    @cached_property
    def name(self) -> str:  # type: ignore[override]
        """The app's name: the import name, or the script's file name when
        that is ``__main__``."""
        if self.import_name == "__main__":
            fn: str | None = getattr(sys.modules["__main__"], "__file__", None)
            if fn is None:
                return "__main__"
            return os.path.splitext(os.path.basename(fn))[0]
        return self.import_name

    @cached_property
    def logger(self) -> logging.Logger:
        """The app's logger, named after :attr:`name`."""
        return create_logger(self)

    @cached_property
    def jinja_env(self) -> Environment:
        """The Jinja environment, created on first use."""
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> Environment:
        raise NotImplementedError

    def make_config(self, instance_relative: bool = False) -> Config:
        """Create :attr:`config` from :attr:`default_config`, with ``DEBUG``
        taken from the environment.

        The keys Flask 2.3 removed are there too, as Flask 2.2 had them:
        ``ENV`` (from :envvar:`FLASK_ENV`, else ``"production"``) and the
        JSON keys ``JSON_AS_ASCII``, ``JSON_SORT_KEYS``,
        ``JSONIFY_PRETTYPRINT_REGULAR`` and ``JSONIFY_MIMETYPE`` (``None``:
        the JSON provider's own setting applies unless one is set).
        """
        root_path = self.instance_path if instance_relative else self.root_path
        defaults = legacy_config_defaults()
        defaults.update(self.default_config)
        defaults["DEBUG"] = get_debug_flag()
        return self.config_class(root_path, defaults)

    def make_aborter(self) -> Aborter:
        """Create :attr:`aborter` from :attr:`aborter_class`."""
        return self.aborter_class()

    def auto_find_instance_path(self) -> str:
        """The default instance folder: ``instance`` next to the package,
        or ``$PREFIX/var/NAME-instance`` for an installed package."""
        prefix, package_path = find_package(self.import_name)
        if prefix is None:
            return os.path.join(package_path, "instance")
        return os.path.join(prefix, "var", f"{self.name}-instance")

    def create_global_jinja_loader(self) -> DispatchingJinjaLoader:
        """The loader of :attr:`jinja_env`: the app's templates, then each
        blueprint's."""
        return DispatchingJinjaLoader(self)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Whether a template is autoescaped: string templates and
        ``.html``, ``.htm``, ``.xml``, ``.xhtml``, ``.svg`` files are."""
        if filename is None:
            return True
        return filename.endswith(_AUTOESCAPE_EXTENSIONS)

    @property
    def debug(self) -> bool:
        """The ``DEBUG`` config key. Setting it also sets the Jinja
        environment's auto-reload unless ``TEMPLATES_AUTO_RELOAD`` is set."""
        return self.config["DEBUG"]  # type: ignore[no-any-return]

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if self.config["TEMPLATES_AUTO_RELOAD"] is None:
            self.jinja_env.auto_reload = value

    # legacy (Flask < 2.3): app.json_encoder / app.json_decoder set the
    # classes the default JSON provider serializes and parses with.
    json_encoder = _legacy_json_class("json_encoder", _JSONEncoder)
    json_decoder = _legacy_json_class("json_decoder", _JSONDecoder)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Register a blueprint: its rules, hooks and handlers become the
        app's. The options (``url_prefix``, ``subdomain``, ``url_defaults``,
        ``name``, ``cli_group``) override the blueprint's own."""
        blueprint.register(self, options)

    def iter_blueprints(self) -> t.ValuesView[Blueprint]:
        """The registered blueprints in registration order."""
        return self.blueprints.values()

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: t.Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register ``rule`` for ``endpoint`` (by default the view's name)
        and, if given, ``view_func`` as that endpoint's view.

        ``methods`` defaults to the view's ``methods`` attribute or
        ``["GET"]``; ``HEAD`` is always added by werkzeug and ``OPTIONS``
        unless automatic options are off. The other options go to the
        rule class.
        """
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)
        options["endpoint"] = endpoint
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for"
                ' example: @app.route(..., methods=["POST"])'
            )
        method_set = {m.upper() for m in methods}
        required = set(getattr(view_func, "required_methods", ()))

        if provide_automatic_options is None:
            provide_automatic_options = getattr(
                view_func, "provide_automatic_options", None
            )
        if provide_automatic_options is None:
            provide_automatic_options = "OPTIONS" not in method_set and bool(
                self.config["PROVIDE_AUTOMATIC_OPTIONS"]
            )
            if provide_automatic_options:
                required.add("OPTIONS")
        method_set |= required

        rule_obj = self.url_rule_class(rule, methods=method_set, **options)
        rule_obj.provide_automatic_options = provide_automatic_options  # type: ignore[attr-defined]
        self.url_map.add(rule_obj)
        # Forget the matches RequestContext.match_request() remembered.
        matches = getattr(self, "_url_matches", None)
        if matches is not None:
            matches.clear()
        if view_func is not None:
            existing = self.view_functions.get(endpoint)
            if existing is not None and existing != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing"
                    f" endpoint function: {endpoint}"
                )
            self.view_functions[endpoint] = view_func

    @setupmethod
    def template_filter(self, name: str | None = None) -> t.Callable[[T], T]:
        """Decorate a function to register it as a Jinja filter."""
        return _adding_decorator(self.add_template_filter, name)

    @setupmethod
    def add_template_filter(
        self, f: t.Callable[..., t.Any], name: str | None = None
    ) -> None:
        """Register a Jinja filter, named ``name`` or after the function."""
        self.jinja_env.filters[name or f.__name__] = f

    @setupmethod
    def template_test(self, name: str | None = None) -> t.Callable[[T], T]:
        """Decorate a function to register it as a Jinja test."""
        return _adding_decorator(self.add_template_test, name)

    @setupmethod
    def add_template_test(
        self, f: t.Callable[..., bool], name: str | None = None
    ) -> None:
        """Register a Jinja test, named ``name`` or after the function."""
        self.jinja_env.tests[name or f.__name__] = f

    @setupmethod
    def template_global(self, name: str | None = None) -> t.Callable[[T], T]:
        """Decorate a function to register it as a Jinja global."""
        return _adding_decorator(self.add_template_global, name)

    @setupmethod
    def add_template_global(
        self, f: t.Callable[..., t.Any], name: str | None = None
    ) -> None:
        """Register a Jinja global, named ``name`` or after the function."""
        self.jinja_env.globals[name or f.__name__] = f

    @setupmethod
    def teardown_appcontext(self, f: T) -> T:
        """Register a function called with the unhandled exception (or
        ``None``) when the app context is popped."""
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def shell_context_processor(self, f: T) -> T:
        """Register a function whose dict is added to the ``shell``
        command's namespace."""
        self.shell_context_processors.append(f)
        return f

    def _find_error_handler(
        self, e: Exception, blueprints: tuple[str, ...] | list[str]
    ) -> t.Callable[[Exception], t.Any] | None:
        """The handler for ``e``: by code before by class, the innermost
        blueprint before the app, the most specific class (by MRO) first."""
        exc_class, code = self._get_exc_class_and_code(type(e))
        spec = self.error_handler_spec
        scopes = (*blueprints, None)
        mro = exc_class.__mro__
        for c in (code, None) if code is not None else (None,):
            for scope in scopes:
                by_code = spec.get(scope)
                if not by_code:
                    continue
                handlers = by_code.get(c)
                if not handlers:
                    continue
                for cls in mro:
                    handler = handlers.get(cls)
                    if handler is not None:
                        return handler
        return None

    def trap_http_exception(self, e: Exception) -> bool:
        """Whether an HTTP exception should propagate instead of being
        handled: ``TRAP_HTTP_EXCEPTIONS``, or ``TRAP_BAD_REQUEST_ERRORS``
        for bad requests (a missing form key in debug mode by default)."""
        config = self.config
        if config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = config["TRAP_BAD_REQUEST_ERRORS"]
        if (
            trap_bad_request is None
            and self.debug
            and isinstance(e, BadRequestKeyError)
        ):
            return True
        if trap_bad_request:
            return isinstance(e, BadRequest)
        return False

    def should_ignore_error(self, error: BaseException | None) -> bool:
        """Whether teardown functions should be told ``None`` instead of
        ``error``. Never, by default."""
        return False

    def redirect(self, location: str, code: int = 302) -> BaseResponse:
        """A redirect response of :attr:`response_class`."""
        return _wz_redirect(location, code=code, Response=self.response_class)  # type: ignore[arg-type]

    def inject_url_defaults(self, endpoint: str, values: dict[str, t.Any]) -> None:
        """Call the URL default functions of the app and of each blueprint
        of ``endpoint``, outermost first."""
        funcs = self.url_default_functions
        if not funcs:
            return
        scopes: t.Iterable[str | None] = (None,)
        if "." in endpoint:
            scopes = (
                None,
                *reversed(_split_blueprint_path(endpoint.rpartition(".")[0])),
            )
        for scope in scopes:
            lst = funcs.get(scope)
            if lst:
                for func in lst:
                    func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, t.Any]
    ) -> str:
        """Give each of :attr:`url_build_error_handlers` a chance to return
        a URL; re-raise the (last) ``BuildError`` if none does."""
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as e:
                error = e
            else:
                if rv is not None:
                    return rv
        if error is sys.exc_info()[1]:
            raise
        raise error
