"""The signal objects: names, identity, and the receivers check."""

import blinker
import pytest

from erlen import signals

NAMES = {
    "template_rendered": "template-rendered",
    "before_render_template": "before-render-template",
    "request_started": "request-started",
    "request_finished": "request-finished",
    "request_tearing_down": "request-tearing-down",
    "got_request_exception": "got-request-exception",
    "appcontext_tearing_down": "appcontext-tearing-down",
    "appcontext_pushed": "appcontext-pushed",
    "appcontext_popped": "appcontext-popped",
    "message_flashed": "message-flashed",
}


@pytest.mark.parametrize("attr, name", NAMES.items())
def test_signal_names(attr, name):
    sig = getattr(signals, attr)
    assert isinstance(sig, blinker.NamedSignal)
    assert sig.name == name
    assert signals._signals[name] is sig


def test_signals_are_distinct():
    objs = [getattr(signals, attr) for attr in NAMES]
    assert len({id(s) for s in objs}) == len(objs)


def test_namespace_is_not_the_default_one():
    # Signals in blinker's global namespace would be shared with any library
    # that uses the same names.
    assert signals.request_started is not blinker.signal("request-started")


@pytest.mark.parametrize("attr", NAMES)
def test_receivers_is_falsy_until_connected(attr):
    sig = getattr(signals, attr)
    calls = []

    def receiver(sender, **extra):
        calls.append((sender, extra))

    assert not sig.receivers
    sig.connect(receiver)
    try:
        assert sig.receivers
        sig.send("app", x=1)
    finally:
        sig.disconnect(receiver)

    assert calls == [("app", {"x": 1})]
    assert not sig.receivers


def test_connect_via_sender_filters():
    seen = []
    app_a, app_b = object(), object()

    def receiver(sender, **extra):
        seen.append(sender)

    signals.appcontext_pushed.connect(receiver, app_a)
    try:
        signals.appcontext_pushed.send(app_b)
        signals.appcontext_pushed.send(app_a)
    finally:
        signals.appcontext_pushed.disconnect(receiver, app_a)

    assert seen == [app_a]


def test_connected_to_context_manager():
    seen = []

    def receiver(sender, **extra):
        seen.append(extra["message"])

    with signals.message_flashed.connected_to(receiver):
        signals.message_flashed.send("app", message="hi", category="info")

    signals.message_flashed.send("app", message="ignored", category="info")
    assert seen == ["hi"]
    assert not signals.message_flashed.receivers


def test_docstring_documents_the_receivers_check():
    assert "if request_started.receivers:" in signals.__doc__


# With a real erlen app


def test_app_sends_request_signals_in_order():
    erlen = pytest.importorskip("erlen")
    app = erlen.Flask(__name__)
    events = []

    @app.route("/")
    def index():
        events.append("view")
        return "ok"

    def record(name):
        def receiver(sender, **extra):
            assert sender is app
            events.append((name, sorted(extra)))

        return receiver

    receivers = {
        signals.appcontext_pushed: record("appcontext_pushed"),
        signals.request_started: record("request_started"),
        signals.request_finished: record("request_finished"),
        signals.request_tearing_down: record("request_tearing_down"),
        signals.appcontext_tearing_down: record("appcontext_tearing_down"),
        signals.appcontext_popped: record("appcontext_popped"),
    }
    for sig, receiver in receivers.items():
        sig.connect(receiver, app)
    try:
        assert app.test_client().get("/").text == "ok"
    finally:
        for sig, receiver in receivers.items():
            sig.disconnect(receiver, app)

    names = [e if isinstance(e, str) else e[0] for e in events]
    assert names == [
        "appcontext_pushed",
        "request_started",
        "view",
        "request_finished",
        "request_tearing_down",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]
    assert ("request_finished", ["response"]) in events


def test_app_got_request_exception():
    erlen = pytest.importorskip("erlen")
    app = erlen.Flask(__name__)
    seen = []

    @app.route("/")
    def index():
        raise ZeroDivisionError

    def receiver(sender, exception, **extra):
        seen.append(type(exception))

    with signals.got_request_exception.connected_to(receiver, app):
        assert app.test_client().get("/").status_code == 500

    assert seen == [ZeroDivisionError]


def test_app_message_flashed():
    erlen = pytest.importorskip("erlen")
    app = erlen.Flask(__name__)
    app.secret_key = "k"
    seen = []

    def receiver(sender, message, category, **extra):
        seen.append((message, category))

    with signals.message_flashed.connected_to(receiver, app):
        with app.test_request_context():
            erlen.flash("hello", "info")

    assert seen == [("hello", "info")]
