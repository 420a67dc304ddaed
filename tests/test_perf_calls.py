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


def test_skipped_hooks_still_run_when_overridden_or_registered():
    import erlen

    calls = []

    class App(erlen.Flask):
        def preprocess_request(self):
            calls.append("preprocess")
            return super().preprocess_request()

        def do_teardown_request(self, exc=None):
            calls.append(("teardown_request", exc))
            return super().do_teardown_request(exc)

        def do_teardown_appcontext(self, exc=None):
            calls.append(("teardown_appcontext", exc))
            return super().do_teardown_appcontext(exc)

    app = App(__name__)
    app.add_url_rule("/", "index", lambda: "ok")
    assert app.test_client().get("/").data == b"ok"
    assert calls == [
        "preprocess",
        ("teardown_request", None),
        ("teardown_appcontext", None),
    ]

    plain = erlen.Flask(__name__)
    plain.add_url_rule("/", "index", lambda: "ok")
    seen = []
    plain.teardown_appcontext(lambda exc: seen.append("app"))
    assert plain.test_client().get("/").data == b"ok"
    assert seen == ["app"]

    def on_teardown(sender, **kw):
        seen.append("signal")

    erlen.request_tearing_down.connect(on_teardown, plain)
    try:
        plain.test_client().get("/")
    finally:
        erlen.request_tearing_down.disconnect(on_teardown, plain)
    assert seen == ["app", "signal", "app"]
