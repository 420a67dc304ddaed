"""Benchmarks of the context-local core: Local, LocalStack, LocalProxy.

Each group has four rows: ``cython`` (erlen._local_c), ``python``
(erlen._local_py), ``werkzeug`` (werkzeug.local) and ``floor``, the raw
ContextVar access that the operation cannot beat. One benchmarked call runs
the operation ``conftest.OPS`` times; ``bench/ratios.py`` turns the timings
into time per operation and ratios.

Every benchmark runs inside a copy of the current context, so the values it
sets never leak into other tests.
"""

from __future__ import annotations

import typing as t
from contextvars import ContextVar
from contextvars import copy_context

import pytest


class Request:
    """A stand-in for a request object: something with a ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path


class Context:
    """A stand-in for a request context: something with a ``request``."""

    def __init__(self, request: Request) -> None:
        self.request = request


def check(stmt: str, names: dict[str, t.Any], expected: t.Any) -> None:
    """Evaluate ``stmt`` once and make sure it gives the expected result, so
    a broken implementation cannot produce a fast number."""
    assert eval(stmt, {}, dict(names)) == expected


def isolated(func: t.Callable[[], None]) -> None:
    copy_context().run(func)


@pytest.mark.benchmark(group="proxy-attr")
def test_proxy_attr(core, run_ops):
    """``proxy.path``, the proxy being ``LocalProxy(cv)``."""
    row, mod = core
    cv: ContextVar[Request] = ContextVar("bench.proxy_attr")

    def body() -> None:
        cv.set(Request("/item/1"))
        if mod is None:
            stmt, names = "cv.get().path", {"cv": cv}
        else:
            stmt, names = "proxy.path", {"proxy": mod.LocalProxy(cv)}
        check(stmt, names, "/item/1")
        run_ops(stmt, **names)

    isolated(body)


@pytest.mark.benchmark(group="proxy-named")
def test_proxy_named(core, run_ops):
    """``proxy.path``, the proxy being ``LocalProxy(cv, "request")``."""
    row, mod = core
    cv: ContextVar[Context] = ContextVar("bench.proxy_named")

    def body() -> None:
        cv.set(Context(Request("/item/2")))
        if mod is None:
            stmt, names = "cv.get().request.path", {"cv": cv}
        else:
            stmt, names = "proxy.path", {"proxy": mod.LocalProxy(cv, "request")}
        check(stmt, names, "/item/2")
        run_ops(stmt, **names)

    isolated(body)


@pytest.mark.benchmark(group="proxy-op")
def test_proxy_op(core, run_ops):
    """``proxy + 1``, the ContextVar holding an int."""
    row, mod = core
    cv: ContextVar[int] = ContextVar("bench.proxy_op")

    def body() -> None:
        cv.set(41)
        if mod is None:
            stmt, names = "cv.get() + 1", {"cv": cv}
        else:
            stmt, names = "proxy + 1", {"proxy": mod.LocalProxy(cv)}
        check(stmt, names, 42)
        run_ops(stmt, **names)

    isolated(body)


@pytest.mark.benchmark(group="stack-top")
def test_stack_top(core, run_ops):
    """``stack.top`` with one item on the stack."""
    row, mod = core
    cv: ContextVar[list[t.Any]] = ContextVar("bench.stack_top")
    item = Request("/top")

    def body() -> None:
        if mod is None:
            cv.set([item])
            stmt, names = "cv.get()[-1]", {"cv": cv}
        else:
            stack = mod.LocalStack(cv)
            stack.push(item)
            stmt, names = "stack.top", {"stack": stack}
        check(stmt, names, item)
        run_ops(stmt, **names)

    isolated(body)


@pytest.mark.benchmark(group="stack-push-pop")
def test_stack_push_pop(core, run_ops):
    """``stack.push(x); stack.pop()`` on an empty stack; the floor is the two
    raw ``ContextVar.set`` calls that any implementation has to make."""
    row, mod = core
    cv: ContextVar[list[t.Any]] = ContextVar("bench.stack_push_pop")
    item = Request("/pushed")

    def body() -> None:
        if mod is None:
            pushed: list[t.Any] = [item]
            empty: list[t.Any] = []
            stmt = "cv.set(pushed); cv.set(empty)"
            names: dict[str, t.Any] = {"cv": cv, "pushed": pushed, "empty": empty}
            exec(stmt, {}, dict(names))
            assert cv.get() == []
        else:
            stack = mod.LocalStack(cv)
            stmt, names = "stack.push(x); stack.pop()", {"stack": stack, "x": item}
            assert stack.push(item) == [item]
            assert stack.top is item
            assert stack.pop() is item
            assert stack.top is None
        run_ops(stmt, **names)
        if mod is not None:
            assert stack.top is None

    isolated(body)


@pytest.mark.benchmark(group="local-attr")
def test_local_attr(core, run_ops):
    """``local.name`` on a ``Local`` that has ``name`` set."""
    row, mod = core
    cv: ContextVar[dict[str, t.Any]] = ContextVar("bench.local_attr")
    value = Request("/local")

    def body() -> None:
        if mod is None:
            cv.set({"name": value})
            stmt, names = 'cv.get()["name"]', {"cv": cv}
        else:
            local = mod.Local(cv)
            local.name = value
            stmt, names = "local.name", {"local": local}
        check(stmt, names, value)
        run_ops(stmt, **names)

    isolated(body)
