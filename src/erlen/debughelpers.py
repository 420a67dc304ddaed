"""Errors and log messages that explain common mistakes in debug mode."""

from __future__ import annotations

import typing as t

from . import globals as _globals

# Bound by assignment for speed: see the PERF note in erlen.ctx.
_cv_request = _globals._cv_request


if t.TYPE_CHECKING:  # pragma: no cover
    from jinja2.loaders import BaseLoader

    from .sansio.app import App
    from .sansio.scaffold import Scaffold
    from .wrappers import Request


class UnexpectedUnicodeError(AssertionError, UnicodeError):
    """Raised in places where text was expected but bytes (or the other way
    round) were given, to make the mistake obvious."""


class DebugFilesKeyError(KeyError, AssertionError):
    """Raised in debug mode instead of a plain :exc:`KeyError` when a view
    reads ``request.files[key]`` but the form was not sent as
    ``multipart/form-data``, so only the file name arrived, in
    ``request.form``.
    """

    def __init__(self, request: Request, key: str) -> None:
        parts = [
            f"You tried to access the file {key!r} in the request.files"
            " dictionary but it does not exist. The mimetype for the"
            f" request is {request.mimetype!r} instead of"
            " 'multipart/form-data' which means that no file contents"
            " were transmitted. To fix this error you should provide"
            ' enctype="multipart/form-data" in your form.'
        ]
        submitted = request.form.getlist(key)

        if submitted:
            names = ", ".join(repr(name) for name in submitted)
            parts.append(
                "\n\nThe browser instead transmitted some file names."
                f" This was submitted: {names}"
            )

        self.msg = "".join(parts)

    def __str__(self) -> str:
        return self.msg


class FormDataRoutingRedirect(AssertionError):
    """Raised in debug mode when routing would redirect a request whose
    body the browser would drop: the method is not ``GET``, ``HEAD`` or
    ``OPTIONS`` and the redirect code is not 307 or 308. Most often the URL
    was registered with a trailing slash and requested without it.
    """

    def __init__(self, request: Request) -> None:
        exc = request.routing_exception
        new_url: str = exc.new_url  # type: ignore[union-attr]
        parts = [
            f"A request was sent to '{request.url}', but routing issued a"
            f" redirect to the canonical URL '{new_url}'."
        ]

        if new_url.partition("?")[0] == f"{request.base_url}/":
            parts.append(
                " The URL was defined with a trailing slash. erlen will"
                " redirect to the URL with a trailing slash if it was"
                " accessed without one."
            )

        parts.append(
            " Send requests to the canonical URL, or use 307 or 308 for"
            " routing redirects. Otherwise, browsers will drop form"
            " data.\n\nThis exception is only raised in debug mode."
        )
        super().__init__("".join(parts))


def attach_enctype_error_multidict(request: Request) -> None:
    """Make a missing key in ``request.files`` raise
    :class:`DebugFilesKeyError` when the key was sent as a form field, which
    is what happens when a form lacks ``enctype="multipart/form-data"``.

    Only this request's ``files`` object is changed, by swapping its class
    for a subclass that keeps the original name.
    """
    files = request.files
    base = type(files)

    def __getitem__(self: t.Any, key: str) -> t.Any:
        try:
            return base.__getitem__(self, key)
        except KeyError as e:
            if key not in request.form:
                raise

            raise DebugFilesKeyError(request, key).with_traceback(
                e.__traceback__
            ) from None

    patched = type(base.__name__, (base,), {"__getitem__": __getitem__})
    patched.__module__ = base.__module__
    files.__class__ = patched


def _describe_loader(loader: BaseLoader) -> t.Iterator[str]:
    cls = type(loader)
    yield f"class: {cls.__module__}.{cls.__name__}"

    for name, value in sorted(vars(loader).items()):
        if name.startswith("_"):
            continue

        if isinstance(value, (list, tuple)):
            # Only lists of strings (like search paths) say something useful.
            if all(isinstance(item, str) for item in value):
                yield f"{name}:"

                for item in value:
                    yield f"  - {item}"

            continue

        if isinstance(value, (str, int, float, bool)):
            yield f"{name}: {value!r}"


def explain_template_loading_attempts(
    app: App,
    template: str,
    attempts: list[
        tuple[
            BaseLoader,
            Scaffold,
            tuple[str, str | None, t.Callable[[], bool] | None] | None,
        ]
    ],
) -> None:
    """Log, at ``INFO`` level on ``app.logger``, which loaders were tried
    for ``template`` and what each found. Used when
    ``EXPLAIN_TEMPLATE_LOADING`` is on.

    :param app: The application.
    :param template: The template name that was looked up.
    :param attempts: ``(loader, app or blueprint, loader result)`` for each
        loader tried; the result is ``None`` when nothing was found.
    """
    from .sansio.app import App
    from .sansio.blueprints import Blueprint

    lines = [f"Locating template {template!r}:"]
    found = 0
    req_ctx = _cv_request.get(None)
    blueprint = req_ctx.request.blueprint if req_ctx is not None else None

    for number, (loader, source, result) in enumerate(attempts, 1):
        if isinstance(source, App):
            where = f"application {source.import_name!r}"
        elif isinstance(source, Blueprint):
            where = f"blueprint {source.name!r} ({source.import_name})"
        else:
            where = repr(source)

        lines.append(f"{number:5}: trying loader of {where}")
        lines.extend(f"       {line}" for line in _describe_loader(loader))

        if result is None:
            lines.append("       -> no match")
        else:
            found += 1
            lines.append(f"       -> found ({result[1] or '<string>'!r})")

    suspicious = found != 1

    if found == 0:
        lines.append("Error: the template could not be found.")
    elif found > 1:
        lines.append("Warning: multiple loaders returned a match for the template.")

    if suspicious and blueprint is not None:
        lines.append(
            "  The template was looked up from an endpoint that belongs"
            f" to the blueprint {blueprint!r}."
        )
        lines.append("  Maybe you did not place a template in the right folder?")
        lines.append("  See https://flask.palletsprojects.com/blueprints/#templates")

    app.logger.info("\n".join(lines))
