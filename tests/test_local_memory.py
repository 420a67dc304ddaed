"""A million proxy lookups and a million push/pop pairs leave memory flat.

Two measures, taken after a warm-up so that caches and free lists are full:

* tracemalloc: the Python-level allocations still alive after the loop grow
  by less than TRACED_BOUND (64 KiB);
* the resident set size (``/proc/self/statm``, or the peak RSS from
  ``resource`` where there is no /proc) grows by less than RSS_BOUND (2 MiB).

The objects looked up or pushed are fresh ones, so a reference leaked on any
path would keep a million of them alive (tens of MiB), far above both bounds;
reference counts of the long-lived targets are checked too.

These tests are slow (seconds, not milliseconds): deselect them with
``-m "not slow"``. They still run by default.
"""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc
import typing as t
from contextvars import ContextVar

import pytest

pytestmark = pytest.mark.slow

TRACED_BOUND = 64 * 1024
RSS_BOUND = 2 * 1024 * 1024
N = 1_000_000

_cv_ns: ContextVar[dict[str, t.Any]] = ContextVar("erlen.tests.memory.ns")
_cv_stack: ContextVar[list[t.Any]] = ContextVar("erlen.tests.memory.stack")
_cv_val: ContextVar[t.Any] = ContextVar("erlen.tests.memory.val")
_cv_never: ContextVar[t.Any] = ContextVar("erlen.tests.memory.never")
_MISSING = object()


@pytest.fixture(autouse=True)
def reset_context_vars():
    tokens = [
        (_cv_ns, _cv_ns.set({})),
        (_cv_stack, _cv_stack.set([])),
        (_cv_val, _cv_val.set(None)),
    ]
    yield
    for var, token in reversed(tokens):
        var.reset(token)
    assert _cv_never.get(_MISSING) is _MISSING


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # no /proc: the peak RSS still shows steady growth
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


class Measure:
    """Run ``body(count)`` once to warm up, then ``N`` times' worth, and
    return (traced growth, RSS growth) in bytes."""

    def __init__(self, body: t.Callable[[int], None]):
        self.body = body

    def run(self) -> tuple[int, int]:
        self.body(N // 100)
        gc.collect()
        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start(1)
        try:
            self.body(N // 100)
            gc.collect()
            traced_before = tracemalloc.get_traced_memory()[0]
            rss_before = rss_bytes()
            self.body(N)
            gc.collect()
            traced_after = tracemalloc.get_traced_memory()[0]
            rss_after = rss_bytes()
        finally:
            if started:
                tracemalloc.stop()
        return traced_after - traced_before, rss_after - rss_before


def assert_flat(growth: tuple[int, int]) -> None:
    traced, rss = growth
    assert traced < TRACED_BOUND, f"tracemalloc grew by {traced} bytes"
    assert rss < RSS_BOUND, f"RSS grew by {rss} bytes"


class Target:
    """Every attribute read makes a new object."""

    __slots__ = ()

    @property
    def fresh(self):
        return [0]


def test_proxy_lookups_leave_memory_flat(local_impl):
    LocalProxy = local_impl.LocalProxy
    target = Target()
    items = [1, 2, 3]
    local = local_impl.Local(_cv_ns)
    stack = local_impl.LocalStack(_cv_stack)
    local.target = target
    stack.push(target)
    _cv_val.set(target)
    proxies = [
        LocalProxy(_cv_val),
        local("target"),
        stack(),
        LocalProxy(lambda: target),
    ]
    p_var, p_local, p_stack, p_callable = proxies
    p_items = LocalProxy(lambda: items)
    p_named = LocalProxy(_cv_val, "fresh")
    unbound = LocalProxy(_cv_never, unbound_message="unbound")
    refs_before = (sys.getrefcount(target), sys.getrefcount(items))

    def body(count: int) -> None:
        # Ten lookups per round: N rounds' worth of work is a million lookups
        # through every kind of proxy and the common operations.
        for _ in range(count // 10):
            _ = p_var.fresh
            _ = p_local.fresh
            _ = p_stack.fresh
            _ = p_callable.fresh
            _ = p_named.append
            p_items[0:2]
            p_items + [4]
            bool(p_var)
            p_var._get_current_object()
            try:
                _ = unbound.fresh
            except RuntimeError:
                pass

    assert_flat(Measure(body).run())
    assert (sys.getrefcount(target), sys.getrefcount(items)) == refs_before


def test_push_pop_pairs_leave_memory_flat(local_impl):
    stack = local_impl.LocalStack(_cv_stack)
    base = stack.push("base")
    assert base == ["base"]

    def body(count: int) -> None:
        for _ in range(count):
            stack.push([0])
            stack.pop()

    assert_flat(Measure(body).run())
    assert stack.top == "base"
    assert stack.pop() == "base"
    assert stack.pop() is None


def test_local_set_del_leave_memory_flat(local_impl):
    local = local_impl.Local(_cv_ns)
    proxy = local("value")

    def body(count: int) -> None:
        # A fifth of N: every write copies the namespace dict.
        for _ in range(count // 5):
            local.value = [0]
            _ = proxy.append
            del local.value

    assert_flat(Measure(body).run())
    assert not hasattr(local, "value")


def test_error_paths_leave_memory_flat(local_impl):
    # About a quarter of N failing operations (six per round): a leaked
    # exception, traceback or message on any of these paths would pile up
    # far above the bounds.
    local = local_impl.Local(_cv_ns)
    empty = local_impl.LocalStack(_cv_stack)
    missing = local("missing", unbound_message="missing")
    on_empty = empty()
    on_var = local_impl.LocalProxy(_cv_never)

    def body(count: int) -> None:
        for _ in range(count // 25):
            getattr(local, "missing", None)
            empty.pop()
            for proxy in (missing, on_empty, on_var):
                try:
                    _ = proxy.attr
                except RuntimeError:
                    pass
            try:
                del local.missing
            except AttributeError:
                pass

    assert_flat(Measure(body).run())
    assert empty.top is None
    assert list(local) == []
