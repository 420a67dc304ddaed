"""Blueprints: sets of routes, hooks and handlers recorded once and replayed
on each app (or parent blueprint) they are registered on."""

from __future__ import annotations

import os
import typing as t
from collections import defaultdict
from functools import update_wrapper

from ..compat import LegacyBlueprintAttributes
from .scaffold import _adding_decorator
from .scaffold import _endpoint_from_view_func
from .scaffold import _sentinel
from .scaffold import Scaffold
from .scaffold import setupmethod

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import App

DeferredSetupFunction = t.Callable[["BlueprintSetupState"], None]
T = t.TypeVar("T", bound=t.Callable[..., t.Any])

# The hook registries a blueprint hands to the app, prefixed by its name.
_HOOK_REGISTRIES = (
    "before_request_funcs",
    "after_request_funcs",
    "teardown_request_funcs",
    "url_default_functions",
    "url_value_preprocessors",
    "template_context_processors",
)


class BlueprintSetupState:
    """What a deferred setup function of a blueprint is given during one
    registration: the app, the options and the resolved URL prefix,
    subdomain, name and URL defaults."""

    def __init__(
        self,
        blueprint: Blueprint,
        app: App,
        options: t.Any,
        first_registration: bool,
    ) -> None:
        #: The app the blueprint is registered on.
        self.app = app
        #: The blueprint being registered.
        self.blueprint = blueprint
        #: The options given to ``register_blueprint``.
        self.options = options
        #: Whether this is the blueprint's first registration on the app.
        self.first_registration = first_registration

        subdomain = options.get("subdomain")
        #: The subdomain its rules match, if any.
        self.subdomain = blueprint.subdomain if subdomain is None else subdomain
        url_prefix = options.get("url_prefix")
        #: The prefix of its rules, if any.
        self.url_prefix = blueprint.url_prefix if url_prefix is None else url_prefix
        #: The name it is registered under (``name=`` or its own).
        self.name = options.get("name", blueprint.name)
        #: The dotted name of the parent blueprints, if nested.
        self.name_prefix = options.get("name_prefix", "")
        #: Defaults added to each of its rules.
        self.url_defaults = dict(blueprint.url_values_defaults)
        self.url_defaults.update(options.get("url_defaults", ()))

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: t.Callable[..., t.Any] | None = None,
        **options: t.Any,
    ) -> None:
        """Add a rule to the app with this registration's prefix, subdomain,
        defaults, and the blueprint's dotted name before the endpoint."""
        prefix = self.url_prefix
        if prefix is not None:
            rule = "/".join((prefix.rstrip("/"), rule.lstrip("/"))) if rule else prefix
        options.setdefault("subdomain", self.subdomain)
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)
        defaults = self.url_defaults
        if "defaults" in options:
            defaults = {**defaults, **options.pop("defaults")}
        full_endpoint = f"{self.name_prefix}.{self.name}.{endpoint}".lstrip(".")
        self.app.add_url_rule(
            rule, full_endpoint, view_func, defaults=defaults, **options
        )


class Blueprint(LegacyBlueprintAttributes, Scaffold):
    """A group of views, hooks, error handlers, templates and static files
    that is registered on an app (or another blueprint) with
    :meth:`~erlen.Flask.register_blueprint`.

    :param name: The blueprint's name, put before its endpoints (no dots).
    :param import_name: The import name of its package, usually
        ``__name__``; sets :attr:`root_path`.
    :param static_folder: Its static files folder (served only with a
        ``url_prefix`` or ``static_url_path`` that differs from the app's).
    :param static_url_path: URL of its static files.
    :param template_folder: Its templates folder, searched after the app's.
    :param url_prefix: Prefix of all its URLs.
    :param subdomain: Subdomain its routes match by default.
    :param url_defaults: Default view arguments of its routes.
    :param root_path: Overrides the folder found from ``import_name``.
    :param cli_group: Name of its CLI group; ``None`` adds its commands to
        the app's group directly.
    """

    _got_registered_once = False

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, t.Any] | None = None,
        root_path: str | None = None,
        cli_group: str | None = _sentinel,  # type: ignore[assignment]
    ):
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if not name:
            raise ValueError("'name' may not be empty.")
        if "." in name:
            raise ValueError("'name' may not contain a dot '.' character.")
        self.name = name
        self.url_prefix = url_prefix
        self.subdomain = subdomain
        #: Functions replayed with a :class:`BlueprintSetupState` on each
        #: registration.
        self.deferred_functions: list[DeferredSetupFunction] = []
        self.url_values_defaults = url_defaults if url_defaults is not None else {}
        self.cli_group = cli_group
        self._blueprints: list[tuple[Blueprint, dict[str, t.Any]]] = []

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_registered_once:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the blueprint"
                f" '{self.name}'. It has already been registered at least once, any"
                " changes will not be applied consistently.\n"
                "Make sure all imports, decorators, functions, etc. needed to set up"
                " the blueprint are done before registering it."
            )

    @setupmethod
    def record(self, func: DeferredSetupFunction) -> None:
        """Register a function called with the setup state each time the
        blueprint is registered."""
        self.deferred_functions.append(func)

    @setupmethod
    def record_once(self, func: DeferredSetupFunction) -> None:
        """Like :meth:`record`, but only on the blueprint's first
        registration on an app."""

        def only_first(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(update_wrapper(only_first, func))

    def make_setup_state(
        self, app: App, options: dict[str, t.Any], first_registration: bool = False
    ) -> BlueprintSetupState:
        """Create the setup state of one registration."""
        return BlueprintSetupState(self, app, options, first_registration)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Nest ``blueprint`` in this one: it is registered, with its name
        after this one's, whenever this one is."""
        if blueprint is self:
            raise ValueError("Cannot register a blueprint on itself")
        self._blueprints.append((blueprint, options))

    def register(self, app: App, options: dict[str, t.Any]) -> None:
        """Register this blueprint (and the nested ones) on ``app``. Called
        by :meth:`~erlen.Flask.register_blueprint`."""
        name_prefix = options.get("name_prefix", "")
        own_name = options.get("name", self.name)
        name = f"{name_prefix}.{own_name}".lstrip(".")

        registered = app.blueprints.get(name)
        if registered is not None:
            which = "this" if registered is self else "a different"
            raise ValueError(
                f"The name '{name}' is already registered for {which} blueprint."
                " Use 'name=' to provide a unique name."
            )

        first_bp_registration = not any(bp is self for bp in app.blueprints.values())
        app.blueprints[name] = self
        self._got_registered_once = True
        state = self.make_setup_state(app, options, first_bp_registration)

        if self.has_static_folder:
            state.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                view_func=self.send_static_file,  # type: ignore[attr-defined]
                endpoint="static",
            )

        # The name was free (checked above), so the hooks are always merged
        # under it, whether or not the blueprint was registered before.
        self._merge_blueprint_funcs(app, name)

        for deferred in self.deferred_functions:
            deferred(state)

        commands = getattr(self, "cli", None)
        if commands is not None and commands.commands:
            group = options.get("cli_group", self.cli_group)
            if group is None:
                app.cli.commands.update(commands.commands)
            else:
                commands.name = name if group is _sentinel else group
                app.cli.add_command(commands)

        for child, child_options in self._blueprints:
            child_options = dict(child_options)

            sub = child_options.get("subdomain")
            if sub is None:
                sub = child.subdomain
            if sub is not None and state.subdomain is not None:
                child_options["subdomain"] = f"{sub}.{state.subdomain}"
            elif sub is not None:
                child_options["subdomain"] = sub
            elif state.subdomain is not None:
                child_options["subdomain"] = state.subdomain

            prefix = child_options.get("url_prefix")
            if prefix is None:
                prefix = child.url_prefix
            if prefix is not None and state.url_prefix is not None:
                child_options["url_prefix"] = (
                    state.url_prefix.rstrip("/") + "/" + prefix.lstrip("/")
                )
            elif prefix is not None:
                child_options["url_prefix"] = prefix
            elif state.url_prefix is not None:
                child_options["url_prefix"] = state.url_prefix

            child_options["name_prefix"] = name
            child.register(app, child_options)

    def _merge_blueprint_funcs(self, app: App, name: str) -> None:
        def scoped(key: str | None) -> str:
            return name if key is None else f"{name}.{key}"

        for key, by_code in self.error_handler_spec.items():
            app.error_handler_spec[scoped(key)] = defaultdict(
                dict, {code: dict(handlers) for code, handlers in by_code.items()}
            )

        for endpoint, func in self.view_functions.items():
            app.view_functions[endpoint] = func

        for attr in _HOOK_REGISTRIES:
            target = getattr(app, attr)
            for key, funcs in getattr(self, attr).items():
                target[scoped(key)].extend(funcs)

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: t.Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Record a rule to add (prefixed and with the blueprint's name
        before the endpoint) on each registration."""
        if endpoint and "." in endpoint:
            raise ValueError("'endpoint' may not contain a dot '.' character.")
        if view_func and hasattr(view_func, "__name__") and "." in view_func.__name__:
            raise ValueError("'view_func' name may not contain a dot '.' character.")

        def add(state: BlueprintSetupState) -> None:
            state.add_url_rule(
                rule,
                endpoint,
                view_func,
                provide_automatic_options=provide_automatic_options,
                **options,
            )

        self.record(add)

    @setupmethod
    def app_template_filter(self, name: str | None = None) -> t.Callable[[T], T]:
        """Decorate a function to register it as a Jinja filter of the app."""
        return _adding_decorator(self.add_app_template_filter, name)

    @setupmethod
    def add_app_template_filter(
        self, f: t.Callable[..., t.Any], name: str | None = None
    ) -> None:
        """Register a Jinja filter of the app."""
        self._on_app_jinja("filters", f, name)

    @setupmethod
    def app_template_test(self, name: str | None = None) -> t.Callable[[T], T]:
        """Decorate a function to register it as a Jinja test of the app."""
        return _adding_decorator(self.add_app_template_test, name)

    @setupmethod
    def add_app_template_test(
        self, f: t.Callable[..., bool], name: str | None = None
    ) -> None:
        """Register a Jinja test of the app."""
        self._on_app_jinja("tests", f, name)

    @setupmethod
    def app_template_global(self, name: str | None = None) -> t.Callable[[T], T]:
        """Decorate a function to register it as a Jinja global of the app."""
        return _adding_decorator(self.add_app_template_global, name)

    @setupmethod
    def add_app_template_global(
        self, f: t.Callable[..., t.Any], name: str | None = None
    ) -> None:
        """Register a Jinja global of the app."""
        self._on_app_jinja("globals", f, name)

    def _on_app_jinja(self, registry: str, f: t.Any, name: str | None) -> None:
        def register(state: BlueprintSetupState) -> None:
            getattr(state.app.jinja_env, registry)[name or f.__name__] = f

        self.record_once(register)

    def _on_app(self, attr: str, f: t.Any) -> None:
        def register(state: BlueprintSetupState) -> None:
            getattr(state.app, attr)[None].append(f)

        self.record_once(register)

    @setupmethod
    def before_app_request(self, f: T) -> T:
        """Like :meth:`before_request`, for every request of the app."""
        self._on_app("before_request_funcs", f)
        return f

    @setupmethod
    def after_app_request(self, f: T) -> T:
        """Like :meth:`after_request`, for every request of the app."""
        self._on_app("after_request_funcs", f)
        return f

    @setupmethod
    def teardown_app_request(self, f: T) -> T:
        """Like :meth:`teardown_request`, for every request of the app."""
        self._on_app("teardown_request_funcs", f)
        return f

    @setupmethod
    def app_context_processor(self, f: T) -> T:
        """Like :meth:`context_processor`, for every template of the app."""
        self._on_app("template_context_processors", f)
        return f

    @setupmethod
    def app_errorhandler(self, code: type[Exception] | int) -> t.Callable[[T], T]:
        """Like :meth:`errorhandler`, for errors anywhere in the app."""

        def decorator(f: T) -> T:
            def register(state: BlueprintSetupState) -> None:
                state.app.errorhandler(code)(f)

            self.record_once(register)
            return f

        return decorator

    @setupmethod
    def app_url_value_preprocessor(self, f: T) -> T:
        """Like :meth:`url_value_preprocessor`, for every request of the app."""
        self._on_app("url_value_preprocessors", f)
        return f

    @setupmethod
    def app_url_defaults(self, f: T) -> T:
        """Like :meth:`url_defaults`, for every URL built by the app."""
        self._on_app("url_default_functions", f)
        return f
