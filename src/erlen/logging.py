"""The application logger and its default handler."""

from __future__ import annotations

import logging
import sys
import typing as t

from .globals import _cv_request
from .local import LocalProxy

if t.TYPE_CHECKING:  # pragma: no cover
    from .sansio.app import App


def _current_errors_stream() -> t.TextIO:
    ctx = _cv_request.get(None)

    if ctx is not None:
        return ctx.request.environ["wsgi.errors"]  # type: ignore[no-any-return]

    return sys.stderr


wsgi_errors_stream: t.TextIO = LocalProxy(_current_errors_stream)  # type: ignore[assignment]
"""A proxy to the best stream for errors: the current request's
``wsgi.errors`` during a request, ``sys.stderr`` otherwise. Use it as the
stream of your own :class:`logging.StreamHandler`; in file or dict logging
config, refer to it as ``ext://erlen.logging.wsgi_errors_stream``."""


def has_level_handler(logger: logging.Logger) -> bool:
    """Whether some handler in ``logger``'s chain (the logger and, while
    they propagate, its ancestors) would handle a record at the logger's
    effective level."""
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger

    while current is not None:
        for handler in current.handlers:
            if handler.level <= level:
                return True

        if not current.propagate:
            return False

        current = current.parent

    return False


default_handler = logging.StreamHandler(wsgi_errors_stream)
"""Writes to :data:`wsgi_errors_stream` with the format
``[%(asctime)s] %(levelname)s in %(module)s: %(message)s``. It is added to
an app's logger when nothing else would handle its records; remove it with
``app.logger.removeHandler(default_handler)``."""
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def create_logger(app: App) -> logging.Logger:
    """Return the logger named after ``app.name``, configured for the app.

    In debug mode a logger with no level of its own is set to ``DEBUG``. If
    no handler in the chain handles the logger's effective level,
    :data:`default_handler` is added.
    """
    logger = logging.getLogger(app.name)

    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)

    if not has_level_handler(logger):
        logger.addHandler(default_handler)

    return logger
