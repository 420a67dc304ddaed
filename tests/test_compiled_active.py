"""The compiled core is really the one in use where it must be.

* With ``CI`` set and ``ERLEN_NO_EXTENSIONS`` not set to 1, ``erlen.local``
  must export the compiled classes and ``COMPILED`` must be True: a build that
  failed fails CI instead of quietly testing the fallback.
* With ``ERLEN_NO_EXTENSIONS=1``, ``COMPILED`` is False and the pure-Python
  classes are exported.

CI runs this file twice, once each way. The subprocess tests check both
selections whatever the current environment is.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

import erlen._local_py
import erlen.local

NAMES = ["Local", "LocalStack", "LocalProxy", "LocalManager", "release_local"]


def _no_extensions() -> bool:
    return os.environ.get("ERLEN_NO_EXTENSIONS") == "1"


def _compiled():
    try:
        return importlib.import_module("erlen._local_c")
    except ImportError:
        return None


def _assert_exports(module) -> None:
    for name in NAMES:
        assert getattr(erlen.local, name) is getattr(module, name), name
    assert sorted(erlen.local.__all__) == sorted(["COMPILED", *NAMES])


def test_no_extensions_selects_python():
    if not _no_extensions():
        pytest.skip("ERLEN_NO_EXTENSIONS is not 1")
    assert erlen.local.COMPILED is False
    _assert_exports(erlen._local_py)
    assert erlen.local.LocalProxy.__module__ == "erlen._local_py"


def test_ci_requires_compiled_core():
    if not os.environ.get("CI") or _no_extensions():
        pytest.skip("only with CI set and ERLEN_NO_EXTENSIONS not 1")
    compiled = _compiled()
    assert compiled is not None, "erlen._local_c did not build or cannot be imported"
    assert erlen.local.COMPILED is True
    _assert_exports(compiled)
    assert erlen.local.LocalProxy is not erlen._local_py.LocalProxy
    assert erlen.local.LocalProxy.__module__ == "erlen._local_c"


def test_compiled_flag_matches_exports():
    # Whatever the environment: the flag tells the truth about the classes.
    compiled = _compiled()
    if erlen.local.COMPILED:
        assert compiled is not None
        _assert_exports(compiled)
    else:
        _assert_exports(erlen._local_py)
    if not _no_extensions() and compiled is not None:
        assert erlen.local.COMPILED is True


def test_framework_proxies_use_selected_core():
    import erlen.globals

    for name in ("current_app", "g", "request", "session", "app_ctx", "request_ctx"):
        proxy = getattr(erlen.globals, name)
        assert type(proxy) is erlen.local.LocalProxy, name


def _select_in_subprocess(**env_changes: str | None) -> tuple[str, str]:
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    # The child imports the same erlen as this process.
    src = os.path.dirname(os.path.dirname(erlen.__file__))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    code = (
        "import erlen.local as l\n"
        "print(l.COMPILED, l.LocalProxy.__module__, l.LocalStack.__module__,"
        " l.Local.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0], " ".join(out[1:])


def test_subprocess_no_extensions_is_python():
    flag, modules = _select_in_subprocess(ERLEN_NO_EXTENSIONS="1")
    assert flag == "False"
    assert modules == " ".join(["erlen._local_py"] * 3)


@pytest.mark.parametrize("value", [None, "0", ""])
def test_subprocess_default_is_compiled(value):
    if _compiled() is None:
        if os.environ.get("CI"):
            pytest.fail("erlen._local_c is not importable in CI")
        pytest.skip("compiled core not built")
    flag, modules = _select_in_subprocess(ERLEN_NO_EXTENSIONS=value)
    assert flag == "True"
    assert modules == " ".join(["erlen._local_c"] * 3)
