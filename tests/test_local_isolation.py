"""Isolation of the core's values between threads, asyncio tasks and
greenlets, and that contexts which end leave nothing behind.

Isolation follows ``contextvars``: a new thread and a new greenlet start with
an empty context, an asyncio task starts with a copy of its creator's
context. Every test takes ``local_impl``, so it runs on both cores.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import typing as t
import weakref
from contextvars import ContextVar
from contextvars import copy_context

import pytest
from greenlet import greenlet

_cv_ns: ContextVar[dict[str, t.Any]] = ContextVar("erlen.tests.isolation.ns")
_cv_stack: ContextVar[list[t.Any]] = ContextVar("erlen.tests.isolation.stack")
_cv_val: ContextVar[t.Any] = ContextVar("erlen.tests.isolation.val")

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


@pytest.fixture
def core(local_impl):
    """One Local, one LocalStack (over the module's ContextVars) and proxies
    over them and over ``_cv_val``."""

    class Core:
        impl = local_impl
        local = local_impl.Local(_cv_ns)
        stack = local_impl.LocalStack(_cv_stack)
        local_proxy = local("value")
        stack_proxy = stack()
        var_proxy = local_impl.LocalProxy(_cv_val)

    return Core


def snapshot(core):
    """What the current context sees, without raising."""
    return (
        getattr(core.local, "value", _MISSING),
        core.stack.top,
        bool(core.local_proxy),
        repr(core.stack_proxy),
        _cv_val.get(_MISSING),
    )


EMPTY = (_MISSING, None, False, "<LocalProxy unbound>", _MISSING)


def set_all(core, value):
    core.local.value = value
    core.stack.push(value)
    _cv_val.set(value)


def sees_own(core, value):
    return (
        core.local.value == value
        and core.stack.top == value
        and core.local_proxy == value
        and core.stack_proxy == value
        and core.var_proxy == value
        and dict(core.local) == {"value": value}
    )


class Payload:
    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return isinstance(other, Payload) and other.name == self.name

    __hash__ = object.__hash__

    def __repr__(self):
        return f"Payload({self.name!r})"


def run_thread(func, *args):
    result = {}

    def target():
        try:
            result["value"] = func(*args)
        except BaseException as exc:  # reported in the main thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


# --- threads ------------------------------------------------------------------


def test_new_thread_sees_nothing(core):
    set_all(core, "main")
    assert run_thread(snapshot, core) == EMPTY
    assert sees_own(core, "main")


def test_thread_values_stay_in_thread(core):
    def work():
        set_all(core, "thread")
        assert sees_own(core, "thread")
        return snapshot(core)

    seen = run_thread(work)
    assert seen[0] == "thread"
    assert snapshot(core) == (_MISSING, None, False, "<LocalProxy unbound>", None)


def test_many_threads_interleaved(core):
    count = 8
    barrier = threading.Barrier(count)
    results = {}

    def work(n):
        set_all(core, n)
        barrier.wait()  # every thread has written before any reads
        ok = sees_own(core, n)
        core.stack.push(("again", n))
        barrier.wait()
        ok = ok and core.stack.top == ("again", n) and core.stack.pop() == ("again", n)
        ok = ok and core.stack.pop() == n and core.stack.top is None
        results[n] = ok

    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: True for n in range(count)}
    assert snapshot(core)[:2] == (_MISSING, None)


def test_threads_with_frequent_switches(core):
    # A tiny switch interval makes the threads interleave inside the core's
    # operations; each must still see only its own values.
    failures = []
    start = threading.Barrier(4)

    def work(n):
        start.wait()
        for i in range(3000):
            item = (n, i)
            core.stack.push(item)
            core.local.value = item
            _cv_val.set(item)
            if not (
                core.stack_proxy == item
                and core.local_proxy == item
                and core.var_proxy == item
                and core.stack.pop() == item
                and core.stack.top is None
            ):
                failures.append(item)
                return

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old)
    assert failures == []
    assert snapshot(core)[:2] == (_MISSING, None)


def test_release_in_thread_leaves_main_alone(core):
    set_all(core, "main")

    def work():
        set_all(core, "thread")
        core.impl.release_local(core.local)
        core.impl.release_local(core.stack)
        return snapshot(core)

    assert run_thread(work) == (_MISSING, None, False, "<LocalProxy unbound>", "thread")
    assert sees_own(core, "main")


def test_release_in_main_leaves_thread_alone(core):
    written = threading.Event()
    released = threading.Event()
    seen = []

    def work():
        set_all(core, "thread")
        written.set()
        released.wait()
        seen.append(sees_own(core, "thread"))

    thread = threading.Thread(target=work)
    set_all(core, "main")
    thread.start()
    written.wait()
    core.impl.release_local(core.local)
    core.impl.release_local(core.stack)
    released.set()
    thread.join()
    assert seen == [True]
    assert snapshot(core)[:2] == (_MISSING, None)


def test_manager_cleanup_in_thread_is_local(core):
    manager = core.impl.LocalManager([core.local, core.stack])
    set_all(core, "main")

    def work():
        set_all(core, "thread")
        manager.cleanup()
        return snapshot(core)[:2]

    assert run_thread(work) == (_MISSING, None)
    assert sees_own(core, "main")


# --- asyncio tasks ------------------------------------------------------------


def test_tasks_are_isolated(core):
    async def worker(n, barrier):
        set_all(core, n)
        await barrier.wait()
        ok = sees_own(core, n)
        assert core.stack.pop() == n
        await asyncio.sleep(0)
        return ok and core.stack.top is None

    async def main():
        barrier = Barrier(10)
        return await asyncio.gather(*(worker(n, barrier) for n in range(10)))

    assert asyncio.run(main()) == [True] * 10
    assert snapshot(core)[:2] == (_MISSING, None)


class Barrier:
    """asyncio.Barrier is 3.11+; this is enough for the tests."""

    def __init__(self, parties):
        self.parties = parties
        self.arrived = 0
        self.event = asyncio.Event()

    async def wait(self):
        self.arrived += 1
        if self.arrived == self.parties:
            self.event.set()
        await self.event.wait()


def test_child_task_does_not_see_later_parent_changes(core):
    async def main():
        set_all(core, "parent-1")
        started = asyncio.Event()
        go_on = asyncio.Event()

        async def child():
            started.set()
            await go_on.wait()
            seen = (core.stack.top, core.local.value, _cv_val.get())
            seen += (hasattr(core.local, "later"),)
            seen += (core.stack_proxy == "parent-1", core.local_proxy == "parent-1")
            core.stack.push("child")
            core.local.value = "child"
            core.local.child_only = True
            return seen

        task = asyncio.create_task(child())
        await started.wait()
        # The child is running now; these changes are the parent's alone.
        core.stack.push("parent-2")
        core.local.value = "parent-2"
        core.local.later = True
        _cv_val.set("parent-2")
        go_on.set()
        seen = await task
        assert seen == ("parent-1", "parent-1", "parent-1", False, True, True)
        # Nor does the parent see the child's pushes.
        assert core.stack.top == "parent-2"
        assert core.local.value == "parent-2"
        assert not hasattr(core.local, "child_only")
        assert core.stack.pop() == "parent-2"
        assert core.stack.pop() == "parent-1"
        assert core.stack.pop() is None
        return True

    assert asyncio.run(main()) is True


def test_child_task_pop_and_release_stay_in_child(core):
    async def main():
        set_all(core, "parent")
        core.stack.push("parent-top")

        async def child():
            assert core.stack.pop() == "parent-top"
            assert core.stack.pop() == "parent"
            core.impl.release_local(core.local)
            return snapshot(core)[:2]

        child_view = await asyncio.create_task(child())
        return child_view, core.stack.top, core.local.value

    assert asyncio.run(main()) == ((_MISSING, None), "parent-top", "parent")


def test_task_created_before_parent_push(core):
    async def main():
        core.stack.push("before")

        async def child():
            return core.stack.top, list(core.local)

        task = asyncio.create_task(child())
        # The context was copied when the task was created, not when it runs.
        core.stack.push("after")
        core.local.value = "after"
        return await task

    assert asyncio.run(main()) == ("before", [])


def test_asyncio_run_copies_callers_context(core):
    set_all(core, "outer")

    async def main():
        seen = sees_own(core, "outer")
        set_all(core, "inside")
        return seen

    assert asyncio.run(main()) is True
    assert sees_own(core, "outer")


# --- greenlets ----------------------------------------------------------------


def test_new_greenlet_sees_nothing(core):
    set_all(core, "main")
    assert greenlet(snapshot).switch(core) == EMPTY
    assert sees_own(core, "main")


def test_greenlets_interleaved(core):
    log = []

    def body(name):
        log.append(("start", name, snapshot(core)[:2]))
        set_all(core, name)
        greenlet.getcurrent().parent.switch()
        log.append(("resume", name, sees_own(core, name)))
        core.stack.push("second")
        greenlet.getcurrent().parent.switch()
        log.append(("end", name, core.stack.pop(), core.stack.pop(), core.stack.top))

    set_all(core, "main")
    g1, g2 = greenlet(body), greenlet(body)
    g1.switch("g1")
    g2.switch("g2")
    g1.switch()
    g2.switch()
    assert sees_own(core, "main")
    g2.switch()
    g1.switch()
    assert g1.dead and g2.dead
    assert log == [
        ("start", "g1", (_MISSING, None)),
        ("start", "g2", (_MISSING, None)),
        ("resume", "g1", True),
        ("resume", "g2", True),
        ("end", "g2", "second", "g2", None),
        ("end", "g1", "second", "g1", None),
    ]
    assert sees_own(core, "main")


def test_greenlet_with_copied_context(core):
    set_all(core, "main")

    def body():
        seen = sees_own(core, "main")
        set_all(core, "greenlet")
        return seen

    g = greenlet(body)
    g.gr_context = copy_context()
    core.stack.push("main-later")
    assert g.switch() is True
    assert core.stack.top == "main-later"
    assert core.local.value == "main"


def test_release_in_greenlet_leaves_main_alone(core):
    set_all(core, "main")

    def body():
        set_all(core, "greenlet")
        core.impl.release_local(core.local)
        core.impl.release_local(core.stack)
        return snapshot(core)[:2]

    assert greenlet(body).switch() == (_MISSING, None)
    assert sees_own(core, "main")


# --- contexts that end leave nothing behind -----------------------------------


def _store_payloads(core, name, refs):
    """Store fresh objects in every kind of storage and read them back through
    the proxies; keep only weak references."""
    for kind in ("local", "stack", "var", "attr"):
        obj = Payload(f"{name}-{kind}")
        refs.append(weakref.ref(obj))
        if kind == "local":
            core.local.value = obj
            assert core.local_proxy == obj
        elif kind == "stack":
            core.stack.push(obj)
            assert core.stack_proxy.name == obj.name
        elif kind == "var":
            _cv_val.set(obj)
            assert core.var_proxy == obj
        else:
            setattr(core.local, f"extra_{name}", obj)
    # Read through every proxy once more, so any cache would hold the objects.
    assert core.stack_proxy._get_current_object() is core.stack.top
    assert core.local_proxy._get_current_object() is core.local.value
    assert core.var_proxy.__class__ is Payload


def _assert_all_dead(refs):
    for _ in range(3):
        gc.collect()
    alive = [ref() for ref in refs if ref() is not None]
    assert alive == []


def test_threads_leave_no_objects_behind(core):
    refs = []
    for batch in range(10):
        threads = [
            threading.Thread(target=_store_payloads, args=(core, f"t{batch}.{n}", refs))
            for n in range(5)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        del threads
    assert len(refs) == 200
    # The main context's proxies never saw those objects.
    assert snapshot(core)[:2] == (_MISSING, None)
    assert not core.stack_proxy
    _assert_all_dead(refs)


def test_greenlets_leave_no_objects_behind(core):
    refs = []
    for n in range(300):
        g = greenlet(_store_payloads)
        if n % 2:
            # Half of them end while still suspended in the middle.
            def suspended(name):
                _store_payloads(core, name, refs)
                greenlet.getcurrent().parent.switch()

            g = greenlet(suspended)
            g.switch(f"g{n}")
        else:
            g.switch(core, f"g{n}", refs)
        del g
    assert len(refs) == 1200
    assert snapshot(core)[:2] == (_MISSING, None)
    _assert_all_dead(refs)


def test_tasks_leave_no_objects_behind(core):
    refs = []

    async def store(n):
        _store_payloads(core, f"task{n}", refs)
        await asyncio.sleep(0)

    async def main():
        for batch in range(5):
            await asyncio.gather(*(store(batch * 20 + n) for n in range(20)))

    asyncio.run(main())
    assert len(refs) == 400
    assert snapshot(core)[:2] == (_MISSING, None)
    _assert_all_dead(refs)


def test_released_values_are_freed(core):
    refs = []
    _store_payloads(core, "main", refs)
    core.impl.release_local(core.local)
    core.impl.release_local(core.stack)
    _cv_val.set(None)
    _assert_all_dead(refs)


def test_popped_values_are_freed(core):
    obj = Payload("popped")
    ref = weakref.ref(obj)
    core.stack.push(obj)
    assert core.stack_proxy == obj
    del obj
    assert core.stack.pop() is not None
    _assert_all_dead([ref])
    assert not core.stack_proxy
