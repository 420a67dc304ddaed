"""The framework's blinker signals.

Each signal is created in one :class:`blinker.Namespace`, with the same names
as Flask's, so receivers connect the same way::

    from erlen import request_started

    @request_started.connect_via(app)
    def on_start(sender, **extra):
        ...

PERF: sending a signal with no receivers still builds the keyword arguments
and walks blinker's machinery. The request path therefore checks the
signal's ``receivers`` mapping first and only sends when someone listens::

    if request_started.receivers:
        request_started.send(app, _async_wrapper=app.ensure_sync)
"""

from __future__ import annotations

import typing as t

from blinker import Namespace

from . import compat as _compat

_signals = Namespace()

template_rendered = _signals.signal("template-rendered")
before_render_template = _signals.signal("before-render-template")
request_started = _signals.signal("request-started")
request_finished = _signals.signal("request-finished")
request_tearing_down = _signals.signal("request-tearing-down")
got_request_exception = _signals.signal("got-request-exception")
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
appcontext_pushed = _signals.signal("appcontext-pushed")
appcontext_popped = _signals.signal("appcontext-popped")
message_flashed = _signals.signal("message-flashed")


def __getattr__(name: str) -> t.Any:
    # Names Flask removed (signals_available): see erlen.compat.
    return _compat.legacy_attribute(
        __name__, name, _compat.LEGACY_MODULE_ATTRIBUTES["erlen.signals"]
    )
