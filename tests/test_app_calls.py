"""The work one request costs, counted in Python calls (not timed): the
per-app caches and lazy objects must keep the framework's own share small.
"""

import os
import sys
from collections import Counter

import pytest
from werkzeug.test import EnvironBuilder

import erlen

ERLEN_DIR = os.path.dirname(erlen.__file__)


def _calls_of_one_request(app, path="/", **builder_kwargs):
    environ = EnvironBuilder(path, **builder_kwargs).get_environ()
    calls = Counter()

    def profile(frame, event, arg):
        if event == "call":
            code = frame.f_code
            calls[(code.co_filename, code.co_name)] += 1

    def start_response(status, headers, exc_info=None):
        pass

    sys.setprofile(profile)
    try:
        body = b"".join(app(dict(environ), start_response))
    finally:
        sys.setprofile(None)
    return body, calls


def _own(calls):
    return Counter(
        {
            (os.path.relpath(f, ERLEN_DIR), n): c
            for (f, n), c in calls.items()
            if f.startswith(ERLEN_DIR)
        }
    )


@pytest.fixture
def hello():
    app = erlen.Flask("hello")
    app.add_url_rule("/", "index", lambda: "Hello, World!")
    # Warm the per-app caches, as any server does with its first requests.
    for _ in range(2):
        _calls_of_one_request(app)
    return app


def test_hello_world_framework_calls_are_few(hello):
    body, calls = _calls_of_one_request(hello)
    assert body == b"Hello, World!"
    own = _own(calls)
    assert sum(own.values()) <= 24, sorted(own.items())


def test_no_session_work_when_session_unused(hello):
    hello.secret_key = "key"
    _, calls = _calls_of_one_request(hello)
    assert not any(f.endswith("sessions.py") for f, _ in calls)
    assert not any("itsdangerous" in f for f, _ in calls)


def test_no_binding_or_matching_for_a_known_static_url(hello):
    _, calls = _calls_of_one_request(hello)
    names = {n for _, n in calls}
    assert "bind_to_environ" not in names
    assert not any(f.endswith(os.path.join("routing", "matcher.py")) for f, _ in calls)
    # The app's route memo has the request's binding and match: nothing is
    # bound (the app context does not bind either), and no adapter is built.
    own = _own(calls)
    assert ("app.py", "_bind_request") not in own
    assert ("ctx.py", "match_request") not in own
    assert ("app.py", "create_url_adapter") not in own
    assert ("ctx.py", "_adapter_for") not in own


def test_dynamic_url_still_matched_each_time(hello):
    hello._got_first_request = False
    hello.add_url_rule("/u/<int:n>", "u", lambda n: str(n))
    body, calls = _calls_of_one_request(hello, "/u/1")
    assert body == b"1"
    assert any(f.endswith(os.path.join("routing", "matcher.py")) for f, _ in calls)
    body, _ = _calls_of_one_request(hello, "/u/2")
    assert body == b"2"


def test_no_signal_machinery_without_receivers(hello):
    _, calls = _calls_of_one_request(hello)
    assert not any("blinker" in f for f, _ in calls)


def test_no_coroutine_check_per_request(hello):
    _, calls = _calls_of_one_request(hello)
    assert not any(f.endswith("inspect.py") for f, _ in calls)
