"""Fixtures and settings of the reliability tests.

``ERLEN_RELIABILITY_SCALE`` sets how much load they apply:

* unset or ``ci``: the quick CI run, 2 000 requests per server variant and
  20 000 requests (after a warm-up) in each memory run;
* ``full``: the documented full run, 20 000 requests per server variant and a
  million requests in each memory run;
* a number: that multiple of the CI figures (``0.1`` for a smoke run).

Run the full set with::

    ERLEN_RELIABILITY_SCALE=full pytest tests/reliability -p no:cacheprovider
"""

from __future__ import annotations

import os
import sys
import typing as t
import weakref

import pytest

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps.py")

_CI = {"server_requests": 2_000, "memory_requests": 20_000}
_FULL = {"server_requests": 20_000, "memory_requests": 1_000_000}

_report: list[str] = []


def scale() -> dict[str, int]:
    """The request counts for this run (see the module docstring)."""
    value = os.environ.get("ERLEN_RELIABILITY_SCALE", "ci").strip().lower()
    if value in ("", "ci"):
        return dict(_CI)
    if value == "full":
        return dict(_FULL)
    try:
        factor = float(value)
    except ValueError:
        raise pytest.UsageError(
            f"ERLEN_RELIABILITY_SCALE={value!r}: use 'ci', 'full' or a number"
        ) from None
    if factor <= 0:
        raise pytest.UsageError("ERLEN_RELIABILITY_SCALE must be positive")
    return {key: max(1, int(n * factor)) for key, n in _CI.items()}


def is_full_scale() -> bool:
    return os.environ.get("ERLEN_RELIABILITY_SCALE", "").strip().lower() == "full"


@pytest.fixture
def reliability_report() -> t.Callable[[str], None]:
    """Call it with a line of figures; the lines are printed in the terminal
    summary, so the counts of every run are on record."""
    return _report.append


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    if _report:
        terminalreporter.section("erlen reliability figures")
        for line in _report:
            terminalreporter.write_line(line)


def subprocess_env(pure_python: bool) -> dict[str, str]:
    """The environment for a subprocess: erlen's core chosen explicitly, and
    the reliability folder importable (for gunicorn's ``apps:...``)."""
    env = dict(os.environ)
    env.pop("ERLEN_NO_EXTENSIONS", None)
    if pure_python:
        env["ERLEN_NO_EXTENSIONS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def compiled_available() -> bool:
    try:
        import erlen._local_c  # noqa: F401
    except ImportError:
        return False
    return True


def skip_unless_compiled() -> None:
    """Skip when the compiled core is not built, except in CI, where a
    missing build must fail (as in the top-level conftest)."""
    if not compiled_available():
        if os.environ.get("CI"):
            pytest.fail("compiled core not built")
        pytest.skip("compiled core not built")


PYTHON = sys.executable


@pytest.fixture(autouse=True)
def _disconnect_test_receivers():
    """Signals are module globals: take off the receivers a test connected,
    so that other tests see each signal as they left it."""
    from erlen import signals

    named = [getattr(signals, name) for name in dir(signals)]
    sigs = [s for s in named if hasattr(s, "receivers") and hasattr(s, "disconnect")]
    before = {id(s): set(s.receivers) for s in sigs}
    yield
    for sig in sigs:
        for key in set(sig.receivers) - before[id(sig)]:
            ref = sig.receivers.get(key)
            receiver = ref() if isinstance(ref, weakref.ref) else ref
            if receiver is not None:
                sig.disconnect(receiver)
