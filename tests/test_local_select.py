"""erlen.local's choice of core by interpreter: the compiled one on CPython,
the pure-Python twin on any other (PyPy, GraalPy), whatever the environment.

Each case runs in a fresh interpreter whose ``sys.implementation.name`` is
set before ``erlen.local`` is first imported, since the choice is made at
import time. This tests the selector rather than a core, so it does not take
the ``local_impl`` fixture; tests/test_compiled_active.py covers
``ERLEN_NO_EXTENSIONS``.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

import erlen

_CHILD = """
import sys, types
sys.implementation = types.SimpleNamespace(
    **{**vars(sys.implementation), "name": sys.argv[1]}
)
import erlen.local as l
print(l.COMPILED, l.Local.__module__, l.LocalStack.__module__,
      l.LocalProxy.__module__, l.LocalManager.__module__)
"""


def _select_as(implementation: str) -> list[str]:
    env = dict(os.environ)
    env.pop("ERLEN_NO_EXTENSIONS", None)
    # The child imports the same erlen as this process.
    src = os.path.dirname(os.path.dirname(erlen.__file__))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, implementation],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


@pytest.mark.parametrize("implementation", ["pypy", "graalpy", "ironpython"])
def test_other_interpreters_get_the_twin(implementation):
    assert _select_as(implementation) == ["False", *["erlen._local_py"] * 4]


def test_cpython_gets_the_compiled_core():
    try:
        importlib.import_module("erlen._local_c")
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("compiled core not built")
    assert _select_as("cpython") == ["True", *["erlen._local_c"] * 4]
