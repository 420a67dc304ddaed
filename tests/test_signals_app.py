"""Signals sent by the request lifecycle: order, sender, arguments, and no
send at all when nobody listens."""

import pytest

import erlen
from erlen import signals


def _recorder(events, name):
    def receiver(sender, **extra):
        events.append((name, sender, sorted(extra)))

    return receiver


LIFECYCLE = [
    ("appcontext_pushed", signals.appcontext_pushed),
    ("request_started", signals.request_started),
    ("request_finished", signals.request_finished),
    ("request_tearing_down", signals.request_tearing_down),
    ("appcontext_tearing_down", signals.appcontext_tearing_down),
    ("appcontext_popped", signals.appcontext_popped),
]


def test_lifecycle_signal_order(app, client):
    events = []
    app.add_url_rule("/", "i", lambda: "x")
    receivers = [(sig, _recorder(events, name)) for name, sig in LIFECYCLE]
    for sig, rec in receivers:
        sig.connect(rec, app)
    try:
        client.get("/")
    finally:
        for sig, rec in receivers:
            sig.disconnect(rec, app)
    assert [(name, sender) for name, sender, _ in events] == [
        (name, app) for name, _ in LIFECYCLE
    ]
    extras = {name: extra for name, _, extra in events}
    assert extras["request_finished"] == ["response"]
    assert extras["request_tearing_down"] == ["exc"]
    assert extras["appcontext_tearing_down"] == ["exc"]
    assert extras["request_started"] == []


def test_signals_only_for_their_app(app, client):
    other = erlen.Flask("other")
    events = []
    rec = _recorder(events, "started")
    with signals.request_started.connected_to(rec, other):
        app.add_url_rule("/", "i", lambda: "x")
        client.get("/")
    assert events == []


def test_request_finished_gets_response(app, client):
    seen = []

    def rec(sender, response, **extra):
        seen.append(response.status_code)

    app.add_url_rule("/", "i", lambda: ("x", 201))
    with signals.request_finished.connected_to(rec, app):
        client.get("/")
    assert seen == [201]


def test_got_request_exception(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen = []

    def rec(sender, exception, **extra):
        seen.append(type(exception))

    app.add_url_rule("/", "i", lambda: {}["missing"])
    with signals.got_request_exception.connected_to(rec, app):
        assert client.get("/").status_code == 500
    assert seen == [KeyError]


def test_teardown_signals_get_exception(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen = []

    def rec(sender, exc, **extra):
        seen.append(type(exc))

    app.add_url_rule("/", "i", lambda: 1 / 0)
    with signals.request_tearing_down.connected_to(rec, app):
        with signals.appcontext_tearing_down.connected_to(rec, app):
            client.get("/")
    assert seen == [ZeroDivisionError, ZeroDivisionError]


def test_template_signals(app):
    rendered = []

    def before(sender, template, context, **extra):
        rendered.append(("before", context["x"]))

    def after(sender, template, context, **extra):
        rendered.append(("after", context["x"]))

    with signals.before_render_template.connected_to(before, app):
        with signals.template_rendered.connected_to(after, app):
            with app.test_request_context():
                erlen.render_template_string("{{ x }}", x=1)
    assert rendered == [("before", 1), ("after", 1)]


def test_message_flashed(app):
    seen = []

    def rec(sender, message, category, **extra):
        seen.append((message, category))

    with signals.message_flashed.connected_to(rec, app):
        with app.test_request_context():
            erlen.flash("hi", "info")
    assert seen == [("hi", "info")]


def test_no_send_without_receivers(app, client, monkeypatch):
    """The lifecycle never calls ``send`` on a signal nobody listens to."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    for name, sig in LIFECYCLE + [
        ("got_request_exception", signals.got_request_exception)
    ]:
        assert not sig.receivers, name

        def fail(*args, _name=name, **kwargs):
            pytest.fail(f"{_name} was sent without receivers")

        monkeypatch.setattr(sig, "send", fail)
    app.add_url_rule("/", "i", lambda: "x")
    app.add_url_rule("/e", "e", lambda: 1 / 0)
    assert client.get("/").data == b"x"
    assert client.get("/e").status_code == 500


def test_async_receiver_via_async_wrapper(app, client):
    pytest.importorskip("asgiref")
    seen = []

    async def rec(sender, **extra):
        seen.append(sender)

    app.add_url_rule("/", "i", lambda: "x")
    with signals.request_started.connected_to(rec, app):
        client.get("/")
    assert seen == [app]
