"""``erlen.signals.lifecycle.quiet``: the one flag the request path reads
before the six lifecycle signals. It must be true exactly while none of them
has a receiver, whatever adds or removes one, and a receiver must be called
however it was connected."""

from __future__ import annotations

import gc
import threading

import pytest

import erlen
from erlen import signals
from erlen.signals import lifecycle

LIFECYCLE = (
    signals.request_started,
    signals.request_finished,
    signals.request_tearing_down,
    signals.appcontext_pushed,
    signals.appcontext_tearing_down,
    signals.appcontext_popped,
)


def nobody_listens() -> bool:
    return not any(signal.receivers for signal in LIFECYCLE)


@pytest.fixture(autouse=True)
def start_quiet():
    # Other tests in the process may have left a receiver connected.
    if not nobody_listens():
        pytest.skip("a lifecycle signal has a receiver from elsewhere")
    assert lifecycle.quiet
    yield
    assert lifecycle.quiet is nobody_listens()


def receiver(sender, **extra):
    pass


def test_the_six_signals_and_no_others_are_watched():
    assert set(lifecycle.signals) == set(LIFECYCLE)
    signals.template_rendered.connect(receiver)
    try:
        assert lifecycle.quiet  # not a signal of every request
    finally:
        signals.template_rendered.disconnect(receiver)


@pytest.mark.parametrize("signal", LIFECYCLE, ids=lambda s: s.name)
def test_connect_and_disconnect(signal):
    signal.connect(receiver)
    assert not lifecycle.quiet
    signal.connect(receiver, sender=object())  # a second connection
    signal.disconnect(receiver)
    assert lifecycle.quiet


def test_one_remaining_receiver_keeps_it_off():
    def other(sender, **extra):
        pass

    signals.request_started.connect(receiver)
    signals.appcontext_popped.connect(other)
    signals.request_started.disconnect(receiver)
    assert not lifecycle.quiet
    signals.appcontext_popped.disconnect(other)
    assert lifecycle.quiet


def test_connected_to_and_muted():
    with signals.request_finished.connected_to(receiver):
        assert not lifecycle.quiet
        with signals.request_finished.muted():
            assert not lifecycle.quiet
    assert lifecycle.quiet


def test_a_weak_receiver_that_ends():
    def short_lived(sender, **extra):
        pass

    signals.appcontext_pushed.connect(short_lived)
    assert not lifecycle.quiet
    del short_lived
    gc.collect()
    assert not signals.appcontext_pushed.receivers
    assert lifecycle.quiet


def test_writes_to_the_mapping_itself():
    mapping = signals.request_tearing_down.receivers
    mapping["key"] = receiver
    assert not lifecycle.quiet
    del mapping["key"]
    assert lifecycle.quiet
    mapping.update(key=receiver)
    assert not lifecycle.quiet
    assert mapping.popitem() == ("key", receiver)
    assert lifecycle.quiet
    mapping.setdefault("key", receiver)
    assert not lifecycle.quiet
    mapping.clear()
    assert lifecycle.quiet
    mapping |= {"key": receiver}
    assert not lifecycle.quiet
    assert mapping.pop("key") is receiver
    assert mapping.pop("key", None) is None
    assert lifecycle.quiet


def test_receivers_are_called_on_a_plain_request():
    app = erlen.Flask(__name__)
    calls = []

    @app.route("/")
    def index():
        # Connected during the request: the checks are made when each
        # signal would be sent, not once at the start.
        signals.request_finished.connect(on_finished)
        return "hi"

    def on(name):
        def record(sender, **extra):
            calls.append(name)

        return record

    on_finished = on("finished")
    started, torn, popped = on("started"), on("torn"), on("popped")
    client = app.test_client()
    assert client.get("/").data == b"hi"
    assert calls == ["finished"]  # connected while quiet, called at once
    calls.clear()
    signals.request_started.connect(started)
    signals.request_tearing_down.connect(torn)
    signals.appcontext_popped.connect(popped)
    try:
        assert client.get("/").data == b"hi"
        assert calls == ["started", "finished", "torn", "popped"]
    finally:
        for signal, fn in (
            (signals.request_started, started),
            (signals.request_finished, on_finished),
            (signals.request_tearing_down, torn),
            (signals.appcontext_popped, popped),
        ):
            signal.disconnect(fn)
    calls.clear()
    assert client.get("/").data == b"hi"
    assert calls == ["finished"]  # the view connected it again
    signals.request_finished.disconnect(on_finished)


def test_connects_from_many_threads():
    def connect_and_disconnect(i):
        def fn(sender, **extra):
            pass

        for _ in range(200):
            signals.request_started.connect(fn)
            assert not lifecycle.quiet
            signals.request_started.disconnect(fn)

    threads = [threading.Thread(target=connect_and_disconnect, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert lifecycle.quiet
