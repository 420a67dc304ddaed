"""Async views, hooks and error handlers, run on one event loop per worker
thread: loop-bound objects survive from one request to the next, threads
stay apart, context variables go in and come back, and the edge cases give
clear errors."""

from __future__ import annotations

import asyncio
import builtins
import contextvars
import gc
import sys
import threading

import pytest

import erlen
from erlen import app as app_module
from erlen.views import MethodView

pytest.importorskip("asgiref")

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker")


class AppError(Exception):
    pass


class BlueprintError(Exception):
    pass


@pytest.fixture
def app():
    app = erlen.Flask(__name__)
    app.testing = True
    return app


def test_async_view_hooks_and_error_handlers(app):
    events = []

    @app.before_request
    async def before():
        await asyncio.sleep(0)
        erlen.g.seen = erlen.request.path
        events.append("before")

    @app.after_request
    async def after(response):
        await asyncio.sleep(0)
        response.headers["X-Seen"] = erlen.g.seen
        events.append("after")
        return response

    @app.teardown_request
    async def teardown(exc):
        events.append("teardown")

    @app.route("/")
    async def index():
        await asyncio.sleep(0)
        return f"{erlen.request.method} {erlen.g.seen}"

    @app.errorhandler(AppError)
    async def handle(e):
        await asyncio.sleep(0)
        # The exception being handled is the current one, as with asgiref.
        assert sys.exc_info()[1] is e
        return "handled", 412

    @app.route("/error")
    async def error():
        raise AppError()

    bp = erlen.Blueprint("bp", __name__)

    @bp.route("/")
    async def bp_index():
        return "bp"

    @bp.errorhandler(BlueprintError)
    async def bp_handle(e):
        return "bp handled", 413

    @bp.route("/error")
    async def bp_error():
        raise BlueprintError()

    class Items(MethodView):
        async def get(self):
            await asyncio.sleep(0)
            return "GET items"

        async def post(self):
            return "POST items"

    app.add_url_rule("/items", view_func=Items.as_view("items"))
    app.register_blueprint(bp, url_prefix="/bp")

    client = app.test_client()
    rv = client.get("/")
    assert rv.data == b"GET /" and rv.headers["X-Seen"] == "/"
    assert events == ["before", "after", "teardown"]
    rv = client.get("/error")
    assert rv.status_code == 412 and rv.data == b"handled"
    assert client.get("/bp/").data == b"bp"
    assert client.get("/bp/error").status_code == 413
    assert client.get("/items").data == b"GET items"
    assert client.post("/items").data == b"POST items"


def test_loop_bound_object_survives_across_requests(app):
    state = {}

    @app.route("/put/<int:n>")
    async def put(n):
        queue = state.get("queue")
        if queue is None:
            # Bound to the running loop on first use: with a new loop per
            # request (Flask), the next request would fail with "is bound to
            # a different event loop".
            queue = state["queue"] = asyncio.Queue()
            state["lock"] = asyncio.Lock()
        async with state["lock"]:
            await queue.put(n)
        return str(queue.qsize())

    @app.route("/get")
    async def get():
        async with state["lock"]:
            return str(await state["queue"].get())

    client = app.test_client()
    assert client.get("/put/1").data == b"1"
    assert client.get("/put/2").data == b"2"
    assert client.get("/get").data == b"1"
    assert client.get("/get").data == b"2"


def test_pooled_client_style_object_keeps_working(app):
    """An object that, like an async HTTP client's connection pool, holds a
    future and a background task on the loop it was made on."""

    class Pool:
        def __init__(self):
            self.loop = asyncio.get_running_loop()
            self.requests: asyncio.Queue = asyncio.Queue()
            self.worker = self.loop.create_task(self._serve())

        async def _serve(self):
            while True:
                n, fut = await self.requests.get()
                fut.set_result(n * 2)

        async def call(self, n):
            assert asyncio.get_running_loop() is self.loop
            fut = self.loop.create_future()
            await self.requests.put((n, fut))
            return await fut

    pools = {}

    @app.route("/double/<int:n>")
    async def double(n):
        if "pool" not in pools:
            pools["pool"] = Pool()
        return str(await pools["pool"].call(n))

    client = app.test_client()
    for n in range(5):
        assert client.get(f"/double/{n}").data == str(n * 2).encode()


def test_one_loop_per_thread(app):
    loops = []

    @app.route("/")
    async def index():
        loops.append((threading.current_thread(), asyncio.get_running_loop()))
        return "ok"

    alive = threading.Barrier(3, timeout=10)

    def worker():
        client = app.test_client()
        for _ in range(3):
            assert client.get("/").data == b"ok"
        if threading.current_thread() is not threading.main_thread():
            alive.wait()  # all three alive at once: no thread ident reused

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    worker()  # the main thread as well

    by_thread = {}
    for thread, loop in loops:
        by_thread.setdefault(thread, []).append(loop)
    assert len(by_thread) == 4
    firsts = []
    for seen in by_thread.values():
        assert all(loop is seen[0] for loop in seen)
        firsts.append(seen[0])
    # ``loops`` holds them all, so distinct objects have distinct ids.
    assert len(set(map(id, firsts))) == 4


def test_threads_run_their_coroutines_at_the_same_time(app):
    barrier = threading.Barrier(2, timeout=10)

    @app.route("/")
    async def index():
        await asyncio.sleep(0)
        # Both threads are inside their own loop at once.
        await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
        return "ok"

    results = []

    def worker():
        results.append(app.test_client().get("/").data)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [b"ok", b"ok"]


def test_loop_is_closed_when_its_thread_ends(app):
    seen = []

    async def coro():
        seen.append(asyncio.get_running_loop())

    def worker():
        app.ensure_sync(coro)()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    gc.collect()
    assert len(seen) == 1
    assert seen[0].is_closed()


def test_context_variables_go_in_and_come_back(app):
    async def coro(value):
        assert marker.get() == "outer"
        marker.set(value)
        return value

    token = marker.set("outer")
    try:
        assert app.ensure_sync(coro)("inner") == "inner"
        assert marker.get() == "inner"
    finally:
        marker.reset(token)


def test_request_context_is_visible_in_the_coroutine(app):
    async def coro():
        return erlen.request.path, erlen.current_app.name

    with app.test_request_context("/somewhere"):
        assert app.ensure_sync(coro)() == ("/somewhere", app.name)


def test_exception_in_coroutine_propagates(app):
    async def coro():
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        app.ensure_sync(coro)()
    # The loop is still usable after an error.
    async def fine():
        return 1

    assert app.ensure_sync(fine)() == 1


def test_nested_call_inside_a_running_loop_is_a_clear_error(app):
    async def inner():
        return 1

    async def outer():
        # Sync code called from a coroutine that wants to run async code.
        return app.ensure_sync(inner)()

    with pytest.raises(RuntimeError, match="Await it directly"):
        app.ensure_sync(outer)()


def test_under_asgiref_sync_to_async_the_outer_loop_is_used(app):
    from asgiref.sync import sync_to_async

    async def coro():
        return asyncio.get_running_loop()

    async def main():
        outer = asyncio.get_running_loop()
        inner = await sync_to_async(app.ensure_sync(coro))()
        return outer, inner

    outer, inner = asyncio.run(main())
    assert inner is outer


def test_wrapper_keeps_the_function_metadata(app):
    async def my_view():
        """Doc."""

    wrapped = app.ensure_sync(my_view)
    assert wrapped.__name__ == "my_view" and wrapped.__doc__ == "Doc."
    assert wrapped.__wrapped__ is my_view


def test_forked_child_gets_a_new_loop(app, monkeypatch):
    async def coro():
        return asyncio.get_running_loop()

    first = app.ensure_sync(coro)()
    real_pid = app_module.os.getpid()
    monkeypatch.setattr(app_module.os, "getpid", lambda: real_pid + 1)
    second = app.ensure_sync(coro)()
    assert second is not first
    monkeypatch.undo()


def test_clear_error_without_asgiref(app, monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "asgiref" or name.startswith("asgiref."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)

    async def index():
        return "x"

    with pytest.raises(RuntimeError, match=r"erlen\[async\]"):
        app.ensure_sync(index)

    app.add_url_rule("/", "index", index)
    with pytest.raises(RuntimeError, match=r"erlen\[async\]"):
        app.test_client().get("/")
