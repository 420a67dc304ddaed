"""Issue 7, counted rather than timed: a hello-world request makes at most a
quarter of the Python function calls Flask's does, and a realistic one
(cookie session, JSON) at most a third."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def calls_module():
    pytest.importorskip("flask")
    saved = list(sys.path)
    sys.path.insert(0, str(BENCH))
    try:
        import calls
    finally:
        sys.path[:] = saved  # calls.py puts bench/ and src/ on it too
    import flask

    if flask.__name__ != "flask" or sys.modules.get("flask") is sys.modules.get("erlen"):
        pytest.skip("flask is aliased to erlen")
    return calls


@pytest.mark.parametrize(("scenario", "share"), [("hello", 0.25), ("realistic", 1 / 3)])
def test_fewer_python_calls_than_flask(calls_module, scenario, share):
    erlen_calls = sum(calls_module.count_calls("erlen", scenario).values())
    flask_calls = sum(calls_module.count_calls("flask", scenario).values())
    assert erlen_calls <= share * flask_calls, (erlen_calls, flask_calls)


def test_calls_script_runs(calls_module, capsys):
    assert calls_module.main(["hello"]) == 0
    out = capsys.readouterr().out
    assert "| erlen |" in out and "| flask |" in out
