"""The request and response classes, werkzeug's with the app's config and
routing information added.
"""

from __future__ import annotations

import typing as t
from functools import lru_cache

from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Request as RequestBase
from werkzeug.wrappers import Response as ResponseBase

from . import json
from .globals import _cv_app

if t.TYPE_CHECKING:  # pragma: no cover
    from werkzeug.routing import Rule


@lru_cache(maxsize=256)
def _blueprint_chain(name: str) -> tuple[str, ...]:
    # "a.b.c" -> ("a.b.c", "a.b", "a"): the nested blueprint and its parents.
    chain = [name]

    while "." in name:
        name = name.rpartition(".")[0]
        chain.append(name)

    return tuple(chain)


class Request(RequestBase):
    """The request object: a :class:`werkzeug.wrappers.Request` that also
    carries what routing found (:attr:`url_rule`, :attr:`view_args`,
    :attr:`routing_exception`) and takes its body limits from the current
    app's config.

    Set ``app.request_class`` to a subclass to customize it.
    """

    json_module: t.Any = json
    """The module :meth:`get_json` parses with: :mod:`erlen.json`, so the
    app's JSON provider is used."""

    url_rule: Rule | None = None
    """The URL rule that matched the request, or ``None`` before matching
    or when nothing matched. Its ``methods`` say which methods the URL
    accepts."""

    view_args: dict[str, t.Any] | None = None
    """The arguments taken from the URL for the view, or ``None`` when
    matching failed."""

    routing_exception: Exception | None = None
    """The error URL matching raised (usually a
    :class:`~werkzeug.exceptions.NotFound`), kept until dispatch raises it."""

    _max_content_length: int | None = None
    _max_form_memory_size: int | None = None
    _max_form_parts: int | None = None

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        """The largest body, in bytes, this request may have; a larger one
        raises :exc:`~werkzeug.exceptions.RequestEntityTooLarge` (413) when
        the body is read. An explicitly set value wins; otherwise it is the
        current app's ``MAX_CONTENT_LENGTH``, or werkzeug's default (no
        limit) outside an app context.

        When the server streams the body without a length
        (``wsgi.input_terminated``), only this limit protects the app from
        reading an endless body.
        """
        value = self._max_content_length

        if value is not None:
            return value

        ctx = _cv_app.get(None)

        if ctx is None:
            return super().max_content_length

        return ctx.app.config["MAX_CONTENT_LENGTH"]  # type: ignore[no-any-return]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:  # type: ignore[override]
        """The largest size, in bytes, of a non-file form field in a
        ``multipart/form-data`` body, and of a whole urlencoded form; larger
        ones raise a 413. An explicitly set value wins; otherwise it is the
        current app's ``MAX_FORM_MEMORY_SIZE``, or werkzeug's default
        (500 kB) outside an app context.
        """
        value = self._max_form_memory_size

        if value is not None:
            return value

        ctx = _cv_app.get(None)

        if ctx is None:
            return super().max_form_memory_size

        return ctx.app.config["MAX_FORM_MEMORY_SIZE"]  # type: ignore[no-any-return]

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value

    @property
    def max_form_parts(self) -> int | None:  # type: ignore[override]
        """The largest number of fields a ``multipart/form-data`` body may
        have; more raise a 413. An explicitly set value wins; otherwise it
        is the current app's ``MAX_FORM_PARTS``, or werkzeug's default
        (1000) outside an app context.
        """
        value = self._max_form_parts

        if value is not None:
            return value

        ctx = _cv_app.get(None)

        if ctx is None:
            return super().max_form_parts

        return ctx.app.config["MAX_FORM_PARTS"]  # type: ignore[no-any-return]

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self._max_form_parts = value

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the matched rule, or ``None`` if nothing matched
        yet. With :attr:`view_args` it identifies the view being run."""
        rule = self.url_rule

        if rule is None:
            return None

        return rule.endpoint  # type: ignore[no-any-return]

    @property
    def blueprint(self) -> str | None:
        """The registered name of the blueprint the endpoint belongs to
        (dotted for nested blueprints, ``"parent.child"``), or ``None`` for
        an app endpoint or when nothing matched. A name given at
        registration replaces the blueprint's own name."""
        endpoint = self.endpoint

        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]

        return None

    @property
    def blueprints(self) -> list[str]:
        """The current blueprint followed by its parents, innermost first:
        ``["a.b", "a"]`` for an endpoint in the blueprint ``a.b``. Empty when
        there is no current blueprint."""
        name = self.blueprint

        if name is None:
            return []

        return list(_blueprint_chain(name))

    def _load_form_data(self) -> None:
        super()._load_form_data()

        # Only in debug mode: explain a file that arrived as a form field.
        ctx = _cv_app.get(None)

        if (
            ctx is not None
            and ctx.app.debug
            and self.mimetype != "multipart/form-data"
            and not self.files
        ):
            from .debughelpers import attach_enctype_error_multidict

            attach_enctype_error_multidict(self)

    def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
        """Called when :meth:`get_json` cannot parse the body (or the
        content type is not JSON, with ``e`` ``None``). Raises a 400
        :exc:`~werkzeug.exceptions.BadRequest`; in debug mode its
        description says what went wrong.
        """
        try:
            return super().on_json_loading_failed(e)
        except BadRequest as error:
            ctx = _cv_app.get(None)

            if ctx is not None and ctx.app.debug:
                raise

            # Outside debug mode the parser's message is not shown to clients.
            raise BadRequest() from error


class Response(ResponseBase):
    """The response object: a :class:`werkzeug.wrappers.Response` that
    defaults to an HTML mimetype. Views rarely build it themselves;
    ``app.make_response`` converts their return values.

    Set ``app.response_class`` to a subclass to customize it.
    """

    default_mimetype: str | None = "text/html"

    json_module = json
    """The module :attr:`json` and :meth:`get_json` parse with."""

    autocorrect_location_header = False

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """The size above which setting a cookie warns: the current app's
        ``MAX_COOKIE_SIZE``, or werkzeug's default outside an app context."""
        ctx = _cv_app.get(None)

        if ctx is None:
            return super().max_cookie_size

        return ctx.app.config["MAX_COOKIE_SIZE"]  # type: ignore[no-any-return]
