"""The application's configuration: a dict that loads itself from files,
objects, mappings and environment variables, and the :class:`ConfigAttribute`
descriptor that exposes single keys as attributes of the application.
"""

from __future__ import annotations

import errno
import json
import os
import types
import typing as t

from werkzeug.utils import import_string

from . import compat as _compat

if t.TYPE_CHECKING:  # pragma: no cover
    import typing_extensions as te

    from .sansio.app import App

T = t.TypeVar("T")

# The error numbers that ``silent=True`` treats as "there is no such file".
_MISSING_FILE_ERRNOS = frozenset((errno.ENOENT, errno.EISDIR, errno.ENOTDIR))


class ConfigAttribute(t.Generic[T]):
    """A descriptor that reads and writes ``app.config[name]``.

    :param name: The config key to forward to.
    :param get_converter: Called on the value when it is read, for example
        to turn a number of seconds into a :class:`~datetime.timedelta`.
    """

    def __init__(
        self, name: str, get_converter: t.Callable[[t.Any], T] | None = None
    ) -> None:
        self.__name__ = name
        self.get_converter = get_converter

    @t.overload
    def __get__(self, obj: None, owner: None) -> te.Self: ...

    @t.overload
    def __get__(self, obj: App, owner: type[App]) -> T: ...

    def __get__(self, obj: App | None, owner: type[App] | None = None) -> T | te.Self:
        if obj is None:
            return self

        value = obj.config[self.__name__]
        converter = self.get_converter

        if converter is not None:
            value = converter(value)

        return value  # type: ignore[no-any-return]

    def __set__(self, obj: App, value: t.Any) -> None:
        obj.config[self.__name__] = value


class Config(dict):  # type: ignore[type-arg]
    """A dict of configuration values with helpers to fill it.

    Only keys written in upper case are taken from modules, objects, files
    and mappings, so helper names and lower-case variables in a config file
    never leak into the configuration.

    :param root_path: Relative file names given to the ``from_*`` loaders
        are resolved against this directory; for an application it is the
        application's root path.
    :param defaults: Initial values.
    """

    def __init__(
        self,
        root_path: str | os.PathLike[str],
        defaults: dict[str, t.Any] | None = None,
    ) -> None:
        super().__init__(defaults or {})
        self.root_path = root_path

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the Python file named by the environment variable
        ``variable_name``, as :meth:`from_pyfile` does.

        :param variable_name: The environment variable that holds the path.
        :param silent: Return ``False`` instead of raising when the variable
            is unset or the file is missing.
        :return: ``True`` if a file was loaded.
        """
        path = os.environ.get(variable_name)

        if not path:
            if silent:
                return False

            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set"
                " and as such configuration could not be loaded. Set"
                " this variable and make it point to a configuration"
                " file"
            )

        return self.from_pyfile(path, silent=silent)

    def from_prefixed_env(
        self, prefix: str = "FLASK", *, loads: t.Callable[[str], t.Any] = json.loads
    ) -> bool:
        """Load every environment variable that starts with ``prefix`` and an
        underscore, with the prefix removed from the key.

        Each value is passed to ``loads``; if that fails, the raw string is
        kept. A key containing ``__`` sets a nested item: ``FLASK_DB__HOST``
        sets ``config["DB"]["HOST"]``, creating dicts that do not exist yet.
        Variables are applied in sorted order.

        :param prefix: The prefix, without its trailing underscore.
        :param loads: Parses each value.
        :return: Always ``True``.
        """
        start = f"{prefix}_"
        cut = len(start)

        for name in sorted(os.environ):
            if not name.startswith(start):
                continue

            value: t.Any = os.environ[name]

            try:
                value = loads(value)
            except Exception:
                # Anything that does not parse stays a string on purpose.
                pass

            # A key without ``__`` has no parents and lands on ``self``.
            *parents, last = name[cut:].split("__")
            target: t.Any = self

            for part in parents:
                if part not in target:
                    target[part] = {}

                target = target[part]

            target[last] = value

        return True

    def from_pyfile(
        self, filename: str | os.PathLike[str], silent: bool = False
    ) -> bool:
        """Execute a Python file and load its upper-case names, as
        :meth:`from_object` does with a module.

        :param filename: Absolute, or relative to :attr:`root_path`.
        :param silent: Return ``False`` instead of raising when the file is
            missing.
        :return: ``True`` if the file was loaded.
        """
        path = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = path

        try:
            # Read bytes so that a PEP 263 coding line in the file is honoured.
            with open(path, mode="rb") as fp:
                code = compile(fp.read(), path, "exec")
        except OSError as e:
            if silent and e.errno in _MISSING_FILE_ERRNOS:
                return False

            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise

        exec(code, module.__dict__)
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Copy the upper-case attributes of a module, class or object.

        :param obj: The object, or an import string such as
            ``"myapp.settings.Production"`` that names it.

        Attributes inherited by a class count too, so a settings class can
        extend a base class. Properties need an instance, not the class.
        """
        if isinstance(obj, str):
            obj = import_string(obj)

        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: t.Callable[[t.IO[t.Any]], t.Mapping[str, t.Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a file with ``load`` and pass the mapping it returns to
        :meth:`from_mapping`::

            import json
            app.config.from_file("config.json", load=json.load)

            import tomllib
            app.config.from_file("config.toml", load=tomllib.load, text=False)

        :param filename: Absolute, or relative to :attr:`root_path`.
        :param load: Takes the open file and returns a mapping.
        :param silent: Return ``False`` instead of raising when the file is
            missing.
        :param text: Open the file in text mode; ``False`` opens it binary.
        :return: ``True`` if the file was loaded.
        """
        path = os.path.join(self.root_path, filename)

        try:
            with open(path, "r" if text else "rb") as fp:
                data = load(fp)
        except OSError as e:
            if silent and e.errno in _MISSING_FILE_ERRNOS:
                return False

            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise

        return self.from_mapping(data)

    def from_json(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        """Load a JSON file, as :meth:`from_file` with :func:`json.load`.

        Removed from Flask in 2.1; kept so older code runs. Use
        ``from_file(filename, load=json.load)`` instead.
        """
        _compat.warn_deprecated(
            "Config.from_json",
            "'from_file(filename, load=json.load)'",
            "removed in Flask 2.1",
        )
        return self.from_file(filename, json.load, silent=silent)

    def from_mapping(
        self, mapping: t.Mapping[str, t.Any] | None = None, **kwargs: t.Any
    ) -> bool:
        """Set the upper-case keys from a mapping (or iterable of pairs) and
        from keyword arguments; other keys are ignored.

        :return: Always ``True``.
        """
        items: dict[str, t.Any] = {}

        if mapping is not None:
            items.update(mapping)

        items.update(kwargs)

        for key, value in items.items():
            if key.isupper():
                self[key] = value

        return True

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, t.Any]:
        """Return the items whose keys start with ``namespace``, for example
        to pass them as keyword arguments::

            app.config["IMAGE_STORE_PATH"] = "/var/app/images"
            app.config.get_namespace("IMAGE_STORE_")
            # {"path": "/var/app/images"}

        :param namespace: The key prefix.
        :param lowercase: Lower-case the returned keys.
        :param trim_namespace: Remove the prefix from the returned keys.
        """
        result: dict[str, t.Any] = {}
        cut = len(namespace)

        for key, value in self.items():
            if not key.startswith(namespace):
                continue

            out = key[cut:] if trim_namespace else key

            if lowercase:
                out = out.lower()

            result[out] = value

        return result

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"
