"""Helpers that need no application: path and environment utilities, and the
fallbacks used when no app context is active."""

import importlib.abc
import importlib.util
import os
import sys
import types

import pytest
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as WerkzeugResponse

from erlen import helpers
from erlen.helpers import _split_blueprint_path
from erlen.helpers import abort
from erlen.helpers import get_debug_flag
from erlen.helpers import get_load_dotenv
from erlen.helpers import get_root_path
from erlen.helpers import redirect
from erlen.helpers import stream_with_context

ENV_NAMES = (
    "FLASK_DEBUG",
    "ERLEN_DEBUG",
    "FLASK_SKIP_DOTENV",
    "ERLEN_SKIP_DOTENV",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        # setenv first so that monkeypatch also removes a variable that the
        # test itself creates (delenv alone records nothing when unset).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a", ["a"]),
        ("a.b", ["a.b", "a"]),
        ("a.b.c", ["a.b.c", "a.b", "a"]),
        (
            "admin.users.v2.api",
            ["admin.users.v2.api", "admin.users.v2", "admin.users", "admin"],
        ),
    ],
)
def test_split_blueprint_path(name, expected):
    assert _split_blueprint_path(name) == expected


def test_split_blueprint_path_is_cached():
    first = _split_blueprint_path("x.y.z")
    assert _split_blueprint_path("x.y.z") is first


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("", False),
        ("0", False),
        ("false", False),
        ("False", False),
        ("NO", False),
        ("1", True),
        ("true", True),
        ("yes", True),
        ("on", True),
    ],
)
@pytest.mark.parametrize("var", ["FLASK_DEBUG", "ERLEN_DEBUG"])
def test_get_debug_flag(monkeypatch, var, value, expected):
    if value is not None:
        monkeypatch.setenv(var, value)
    assert get_debug_flag() is expected


def test_erlen_debug_wins_over_flask_debug(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("ERLEN_DEBUG", "0")
    assert get_debug_flag() is False
    monkeypatch.setenv("FLASK_DEBUG", "0")
    monkeypatch.setenv("ERLEN_DEBUG", "1")
    assert get_debug_flag() is True


@pytest.mark.parametrize("var", ["FLASK_SKIP_DOTENV", "ERLEN_SKIP_DOTENV"])
def test_get_load_dotenv(monkeypatch, var):
    assert get_load_dotenv() is True
    assert get_load_dotenv(False) is False
    monkeypatch.setenv(var, "1")
    assert get_load_dotenv() is False
    assert get_load_dotenv(False) is False
    monkeypatch.setenv(var, "no")
    assert get_load_dotenv(False) is True
    monkeypatch.setenv(var, "0")
    assert get_load_dotenv(False) is True


def test_get_root_path_of_imported_module():
    assert get_root_path("erlen.helpers") == os.path.dirname(
        os.path.abspath(helpers.__file__)
    )
    # A package's root is its own folder.
    import erlen

    assert get_root_path("erlen") == os.path.dirname(os.path.abspath(erlen.__file__))


def test_get_root_path_unknown_module_is_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert get_root_path("no_such_module_for_erlen_tests") == str(tmp_path)


def test_get_root_path_of_unimported_module(tmp_path, monkeypatch):
    pkg = tmp_path / "rootpath_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "rootpath_pkg.mod", raising=False)
    assert get_root_path("rootpath_pkg.mod") == str(pkg)
    # Found through the import system, without importing the module itself.
    assert "rootpath_pkg.mod" not in sys.modules


def test_get_root_path_module_without_file(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    mod = types.ModuleType("erlen_test_fileless")
    monkeypatch.setitem(sys.modules, "erlen_test_fileless", mod)
    # No __file__ and no spec: fall back to the working directory.
    assert get_root_path("erlen_test_fileless") == str(tmp_path)


def test_redirect_without_app_uses_werkzeug():
    rv = redirect("/target", 307)
    assert isinstance(rv, WerkzeugResponse)
    assert rv.status_code == 307
    assert rv.headers["Location"] == "/target"

    class MyResponse(WerkzeugResponse):
        pass

    assert isinstance(redirect("/x", Response=MyResponse), MyResponse)


def test_abort_without_app_uses_werkzeug():
    with pytest.raises(NotFound):
        abort(404)
    with pytest.raises(Forbidden) as exc_info:
        abort(403, "nope")
    assert exc_info.value.description == "nope"


def test_stream_with_context_needs_request_context():
    def gen():
        yield "a"

    with pytest.raises(RuntimeError, match="request context"):
        stream_with_context(gen())


def test_stream_with_context_decorator_keeps_metadata():
    def numbers(n):
        """Yield n numbers."""
        yield from range(n)

    wrapped = stream_with_context(numbers)
    assert wrapped.__name__ == "numbers"
    assert wrapped.__doc__ == "Yield n numbers."
    assert wrapped.__wrapped__ is numbers
    # Calling it outside a request fails like the direct form.
    with pytest.raises(RuntimeError, match="request context"):
        wrapped(2)


@pytest.mark.parametrize(
    "call",
    [
        lambda: helpers.flash("hi"),
        lambda: helpers.get_flashed_messages(),
        lambda: helpers.send_file(__file__),
    ],
    ids=["flash", "get_flashed_messages", "send_file"],
)
def test_request_helpers_outside_request(call):
    with pytest.raises(RuntimeError, match="outside of request context"):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: helpers.url_for("index"),
        lambda: helpers.make_response("x"),
        lambda: helpers.get_template_attribute("a.html", "m"),
    ],
    ids=["url_for", "make_response", "get_template_attribute"],
)
def test_app_helpers_outside_app(call):
    with pytest.raises(RuntimeError, match="outside of application context"):
        call()


def test_get_root_path_namespace_package(tmp_path, monkeypatch):
    (tmp_path / "erlen_ns_pkg").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path / "erlen_ns_pkg")
    # The spec of a namespace package has no loader: no single folder is its
    # root, so the working directory is used.
    assert get_root_path("erlen_ns_pkg") == str(tmp_path / "erlen_ns_pkg")
    assert "erlen_ns_pkg" not in sys.modules


class _FilelessLoader(importlib.abc.Loader):
    """An import hook whose modules have no ``__file__`` and that cannot
    tell a file name."""

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.VALUE = 1


class _FilelessFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "erlen_fileless_hook":
            return importlib.util.spec_from_loader(name, _FilelessLoader())
        return None


def test_get_root_path_import_hook_without_file(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [_FilelessFinder(), *sys.meta_path])
    try:
        with pytest.raises(RuntimeError, match="No root path can be found"):
            get_root_path("erlen_fileless_hook")
        # It had to import the module to look for a file.
        assert sys.modules["erlen_fileless_hook"].VALUE == 1
    finally:
        sys.modules.pop("erlen_fileless_hook", None)
