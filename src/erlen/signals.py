"""The framework's blinker signals.

Each signal is created in one :class:`blinker.Namespace`, with the same names
as Flask's, so receivers connect the same way::

    from erlen import request_started

    @request_started.connect_via(app)
    def on_start(sender, **extra):
        ...

PERF: sending a signal with no receivers still builds the keyword arguments
and walks blinker's machinery. Framework code therefore checks the signal's
``receivers`` mapping first and only sends when someone is listening::

    if request_started.receivers:
        request_started.send(app, _async_wrapper=app.ensure_sync)

``receivers`` is an empty dict until the first ``connect``, so the check is a
single attribute read and a truth test.

PERF: the six signals every request would send (request started, finished
and tearing down; app context pushed, tearing down and popped) share one
more flag, ``lifecycle.quiet``: true while none of them has a receiver.
Behind a server a request finds the caches cold, and reading one flag
touches less memory than six signals and their mappings, so the request
path checks it first::

    if not lifecycle.quiet and request_started.receivers:
        ...

Their ``receivers`` mappings keep the flag up to date on every change:
``connect``, ``disconnect``, a weakly referenced receiver's end, or a
direct write to the mapping.
"""

from __future__ import annotations

import threading
import typing as t

from blinker import Namespace
from blinker import NamedSignal


class _Lifecycle:
    """The flag: ``quiet`` is true while no lifecycle signal has a receiver."""

    __slots__ = ("quiet", "signals", "lock")

    def __init__(self) -> None:
        self.quiet = True
        self.signals: list[NamedSignal] = []
        # Reentrant: a receiver's weak reference may end, and disconnect it,
        # while this thread is changing a mapping.
        self.lock = threading.RLock()

    def update(self) -> None:
        self.quiet = not any(signal.receivers for signal in self.signals)


lifecycle = _Lifecycle()


class _Receivers(dict):  # type: ignore[type-arg]
    """A lifecycle signal's ``receivers``: a dict that keeps
    ``lifecycle.quiet`` true to the mappings. An addition clears the flag
    before it is made; a removal looks at all the mappings after it."""

    def __setitem__(self, key: t.Any, value: t.Any) -> None:
        with lifecycle.lock:
            lifecycle.quiet = False
            super().__setitem__(key, value)

    def setdefault(self, key: t.Any, default: t.Any = None) -> t.Any:
        with lifecycle.lock:
            lifecycle.quiet = False
            value = super().setdefault(key, default)
            lifecycle.update()
            return value

    def update(self, *args: t.Any, **kwargs: t.Any) -> None:
        with lifecycle.lock:
            lifecycle.quiet = False
            super().update(*args, **kwargs)
            lifecycle.update()

    def __ior__(self, other: t.Any) -> _Receivers:
        self.update(other)
        return self

    def __delitem__(self, key: t.Any) -> None:
        with lifecycle.lock:
            super().__delitem__(key)
            lifecycle.update()

    def pop(self, *args: t.Any) -> t.Any:
        with lifecycle.lock:
            try:
                return super().pop(*args)
            finally:
                lifecycle.update()

    def popitem(self) -> tuple[t.Any, t.Any]:
        with lifecycle.lock:
            try:
                return super().popitem()
            finally:
                lifecycle.update()

    def clear(self) -> None:
        with lifecycle.lock:
            super().clear()
            lifecycle.update()


class _LifecycleSignal(NamedSignal):
    """A :class:`blinker.NamedSignal` whose receivers keep
    ``lifecycle.quiet`` up to date."""

    def __init__(self, name: str, doc: str | None = None) -> None:
        super().__init__(name, doc)
        with lifecycle.lock:
            self.receivers = _Receivers(self.receivers)
            lifecycle.signals.append(self)
            lifecycle.update()


_signals = Namespace()


def _lifecycle_signal(name: str) -> NamedSignal:
    signal = _signals[name] = _LifecycleSignal(name)
    return signal


template_rendered = _signals.signal("template-rendered")
before_render_template = _signals.signal("before-render-template")
request_started = _lifecycle_signal("request-started")
request_finished = _lifecycle_signal("request-finished")
request_tearing_down = _lifecycle_signal("request-tearing-down")
got_request_exception = _signals.signal("got-request-exception")
appcontext_tearing_down = _lifecycle_signal("appcontext-tearing-down")
appcontext_pushed = _lifecycle_signal("appcontext-pushed")
appcontext_popped = _lifecycle_signal("appcontext-popped")
message_flashed = _signals.signal("message-flashed")
