"""Running code written for Flask on erlen.

:func:`install_as_flask` makes ``import flask`` (and every ``flask.*``
submodule) give erlen's modules, so that unmodified Flask applications and
Flask extensions run on erlen.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import typing as t
import warnings

__all__ = [
    "FLASK_API_VERSION",
    "FLASK_MODULES",
    "install_as_flask",
    "uninstall_flask_alias",
    "warn_deprecated",
]

#: The Flask release whose API erlen implements. ``erlen.__version__`` (and so
#: ``flask.__version__`` under the alias) answers with it, because extensions
#: compare that value against Flask versions.
FLASK_API_VERSION = "3.1.3"

_warned: set[str] = set()


def warn_deprecated(name: str, modern: str, flask_status: str, stacklevel: int = 3) -> None:
    """Warn, once per ``name`` in a process, that an API Flask removed is in
    use, naming its modern spelling.

    :param name: The old name, as the user spells it.
    :param modern: What to use instead.
    :param flask_status: What Flask did with it, e.g. ``"removed in Flask 3.0"``.
    """
    if name in _warned:
        return
    _warned.add(name)
    warnings.warn(
        f"'{name}' was {flask_status}; erlen keeps it so older code runs."
        f" Use {modern} instead.",
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
    "safe_join": ("'werkzeug.utils.safe_join'", "removed in Flask 2.1", lambda: _helpers().safe_join),
    "json_available": ("nothing: JSON is always available", "removed in Flask 2.3", lambda: True),
    "__version__": (
        "feature detection, or importlib.metadata.version('erlen') for erlen's"
        " own version",
        "deprecated in Flask 3.1 (it gives the Flask API version erlen implements)",
        lambda: FLASK_API_VERSION,
    ),
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
