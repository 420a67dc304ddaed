"""Jinja integration: the app-bound environment, the loader that searches the
app and its blueprints, and the render/stream functions."""

from __future__ import annotations

import typing as t

from jinja2 import BaseLoader
from jinja2 import Environment as BaseEnvironment
from jinja2 import Template
from jinja2 import TemplateNotFound

from . import globals as _globals
from .helpers import _current_app
from .helpers import stream_with_context
from .signals import before_render_template
from .signals import template_rendered

# Bound by assignment for speed: see the PERF note in erlen.ctx.
_cv_app = _globals._cv_app
_cv_request = _globals._cv_request

if t.TYPE_CHECKING:  # pragma: no cover
    from blinker import NamedSignal

    from .app import Flask
    from .sansio.app import App
    from .sansio.scaffold import Scaffold

_Source = tuple[str, str | None, t.Callable[[], bool] | None]


def _default_template_ctx_processor() -> dict[str, t.Any]:
    """The context processor every app has: puts the concrete ``g`` and
    ``request`` objects (not the proxies) in the template context.

    ``session`` is left to the environment's global proxy: reading
    ``RequestContext.session`` marks the session accessed (which adds
    ``Vary: Cookie``), and that must only happen when a template uses it.
    """
    rv: dict[str, t.Any] = {}
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        rv["g"] = app_ctx.g
    req_ctx = _cv_request.get(None)
    if req_ctx is not None:
        rv["request"] = req_ctx.request
    return rv


class Environment(BaseEnvironment):
    """A Jinja environment that belongs to an app.

    Unless ``loader`` is given, it loads templates through
    :meth:`~erlen.Flask.create_global_jinja_loader`, which searches the app's
    template folder and then each blueprint's.
    """

    def __init__(self, app: App, **options: t.Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        super().__init__(**options)
        self.app = app


class DispatchingJinjaLoader(BaseLoader):
    """Find templates in the app's loader first, then in each registered
    blueprint's loader in registration order.

    With the ``EXPLAIN_TEMPLATE_LOADING`` config set, every loader is tried
    and the attempts are logged through
    :func:`erlen.debughelpers.explain_template_loading_attempts`.
    """

    def __init__(self, app: App) -> None:
        self.app = app

    def get_source(self, environment: BaseEnvironment, template: str) -> _Source:
        if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
            return self._get_source_explained(environment, template)
        return self._get_source_fast(environment, template)

    def _get_source_fast(self, environment: BaseEnvironment, template: str) -> _Source:
        for _owner, loader in self._iter_loaders(template):
            try:
                return loader.get_source(environment, template)
            except TemplateNotFound:
                pass
        raise TemplateNotFound(template)

    def _get_source_explained(
        self, environment: BaseEnvironment, template: str
    ) -> _Source:
        attempts: list[tuple[BaseLoader, Scaffold, _Source | None]] = []
        found: _Source | None = None
        for owner, loader in self._iter_loaders(template):
            try:
                result: _Source | None = loader.get_source(environment, template)
            except TemplateNotFound:
                result = None
            else:
                if found is None:
                    found = result
            attempts.append((loader, owner, result))

        from .debughelpers import explain_template_loading_attempts

        explain_template_loading_attempts(self.app, template, attempts)
        if found is None:
            raise TemplateNotFound(template)
        return found

    def _iter_loaders(
        self, template: str | None = None
    ) -> t.Iterator[tuple[Scaffold, BaseLoader]]:
        # ``template`` is unused: loaders written for Flask pass one.
        app = self.app
        loader = app.jinja_loader
        if loader is not None:
            yield app, loader
        for blueprint in app.iter_blueprints():
            loader = blueprint.jinja_loader
            if loader is not None:
                yield blueprint, loader

    def list_templates(self) -> list[str]:
        names: set[str] = set()
        for _owner, loader in self._iter_loaders():
            names.update(loader.list_templates())
        return list(names)


def _send(
    signal: NamedSignal, app: Flask, template: Template, context: dict[str, t.Any]
) -> None:
    # PERF: blinker's send() does work even with no receivers; skip it.
    if signal.receivers:
        signal.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )


def _render(app: Flask, template: Template, context: dict[str, t.Any]) -> str:
    app.update_template_context(context)
    _send(before_render_template, app, template, context)
    rv = template.render(context)
    _send(template_rendered, app, template, context)
    return rv


def render_template(
    template_name_or_list: str | Template | list[str | Template],
    **context: t.Any,
) -> str:
    """Render the template with this name (or the first that exists of a
    list of names) with ``context`` and the app's context processors.

    Sends :data:`~erlen.signals.before_render_template` and
    :data:`~erlen.signals.template_rendered`.
    """
    app = _current_app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def render_template_string(source: str, **context: t.Any) -> str:
    """Render a template given as a source string with ``context``.

    String templates are autoescaped by default.
    """
    app = _current_app()
    template = app.jinja_env.from_string(source)
    return _render(app, template, context)


def _stream(
    app: Flask, template: Template, context: dict[str, t.Any]
) -> t.Iterator[str]:
    app.update_template_context(context)
    _send(before_render_template, app, template, context)

    def generate() -> t.Iterator[str]:
        yield from template.generate(context)
        _send(template_rendered, app, template, context)

    rv = generate()
    # Inside a request the generator runs after the view returns, so it needs
    # the request context kept alive.
    if _cv_request.get(None) is not None:
        rv = stream_with_context(rv)
    return rv


def stream_template(
    template_name_or_list: str | Template | list[str | Template],
    **context: t.Any,
) -> t.Iterator[str]:
    """Like :func:`render_template`, but return an iterator of string chunks,
    for a streaming response. Inside a request the request context stays
    active while the chunks are produced.
    """
    app = _current_app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _stream(app, template, context)


def stream_template_string(source: str, **context: t.Any) -> t.Iterator[str]:
    """Like :func:`render_template_string`, but return an iterator of string
    chunks, for a streaming response.
    """
    app = _current_app()
    template = app.jinja_env.from_string(source)
    return _stream(app, template, context)
