"""Fuzz the compiled core (``erlen._local_c``) against its pure-Python twin
(``erlen._local_py``) under concurrency.

Hypothesis generates a program: a list of operation sequences for several
threads, several asyncio tasks (a task may spawn a child task part-way
through) and several greenlets (taking turns in a thread of their own). The
operations work on one Local, one LocalStack, one ContextVar and five
LocalProxy objects over them: set, get and delete attributes, push, pop and
top, release_local, and on a proxy attribute access, operators (plain,
reflected and in-place), bool, repr, str, len, iteration, hashing, calls and
isinstance.

Every value a worker stores is tagged with that worker's number, and every
value is immutable, so isolation makes each worker's observations
independent of how the workers interleave. The program is run

- concurrently on the compiled core,
- concurrently on the pure-Python twin,
- and one worker at a time, each in its own fresh context (a child in a
  copy of its parent's context at the spawn point), on the pure-Python twin:
  the model of perfect isolation.

All three must give the same observations, in order, for every worker, and
no worker may ever see a value tagged by a worker other than itself or (for
a child task) its parent.

``ERLEN_FUZZ_EXAMPLES`` sets the number of examples (the valgrind script
lowers it).
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import operator
import os
import re
import threading
import time
import typing as t

import pytest
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

import erlen._local_py as local_py


def _compiled() -> t.Any:
    try:
        return importlib.import_module("erlen._local_c")
    except ImportError:
        if os.environ.get("CI"):
            raise
        return None


local_c = _compiled()
needs_compiled = pytest.mark.skipif(local_c is None, reason="compiled core not built")

EXAMPLES = int(os.environ.get("ERLEN_FUZZ_EXAMPLES", "200"))
THREAD_TIMEOUT = 60.0

# --- values ----------------------------------------------------------------------


def make_value(worker: int, n: int) -> t.Any:
    """An immutable value tagged with ``worker``: a str, an int or a tuple."""
    kind = n % 3
    if kind == 0:
        return f"w{worker}n{n}"
    if kind == 1:
        return (worker + 1) * 1000 + n
    return (worker, n)


def tag_of(value: t.Any) -> int | None:
    """The worker a value came from, or ``None`` for derived values."""
    if isinstance(value, str) and value.startswith("w") and "n" in value:
        head = value[1:].split("n", 1)[0]
        return int(head) if head.isdigit() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 1000:
        return value // 1000 - 1
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and all(type(x) is int for x in value)
    ):
        return value[0]
    return None


# --- operations ------------------------------------------------------------------

ATTRS = ("value", "other", "missing")

# Each proxy operation takes the proxy and returns something to record.
PROXY_OPS: dict[str, t.Callable[[t.Any], t.Any]] = {
    "bool": bool,
    "repr": repr,
    "str": str,
    "len": len,
    "iter": lambda p: tuple(iter(p)),
    "contains": lambda p: 1 in p,
    "add_self": lambda p: p + p,
    "add_one": lambda p: p + 1,
    "radd_one": lambda p: 1 + p,
    "mul": lambda p: p * 2,
    "rmul": lambda p: 2 * p,
    "neg": operator.neg,
    "index": operator.index,
    "getitem": lambda p: p[0],
    "eq_current": lambda p: p == p._get_current_object(),
    "ne": lambda p: p != 5,
    "lt_self": lambda p: p < p,  # noqa: PLR0124 - the proxy's own comparison
    "hash": hash,
    "class": lambda p: p.__class__.__name__,
    "isinstance_str": lambda p: isinstance(p, str),
    "isinstance_tuple": lambda p: isinstance(p, tuple),
    "attr_real": lambda p: p.real,
    "attr_count": lambda p: p.count(1),
    "call": lambda p: p(),
    "format": lambda p: f"{p}",
    "current": lambda p: p._get_current_object(),
    "setattr": lambda p: setattr(p, "x", 1),
    "iadd": lambda p: _iadd(p),
    "imul": lambda p: _imul(p),
}


def _iadd(p: t.Any) -> t.Any:
    q = p
    q += q._get_current_object()
    return ("same" if q is p else "new", q if q is not p else None)


def _imul(p: t.Any) -> t.Any:
    q = p
    q *= 2
    return ("same" if q is p else "new", q if q is not p else None)


PROXY_NAMES = ("local_value", "stack_top", "context_var", "stack_class", "callable")

Op = tuple[t.Any, ...]

ops = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(ATTRS[:2]), st.integers(0, 999)),
    st.tuples(st.just("get"), st.sampled_from(ATTRS)),
    st.tuples(st.just("del"), st.sampled_from(ATTRS)),
    st.tuples(st.just("iter_local")),
    st.tuples(st.just("push"), st.integers(0, 999)),
    st.tuples(st.just("pop")),
    st.tuples(st.just("top")),
    st.tuples(st.just("cv_set"), st.integers(0, 999)),
    st.tuples(st.just("release_local")),
    st.tuples(st.just("release_stack")),
    st.tuples(
        st.just("proxy"),
        st.sampled_from(PROXY_NAMES),
        st.sampled_from(sorted(PROXY_OPS)),
    ),
    st.tuples(st.just("yield")),
)
sequence = st.lists(ops, max_size=30)


@st.composite
def tasks(draw: t.Any) -> dict[str, t.Any]:
    body = draw(sequence)
    child = None
    if draw(st.booleans()):
        child = {"at": draw(st.integers(0, len(body))), "ops": draw(sequence)}
    return {"ops": body, "child": child}


programs = st.fixed_dictionaries(
    {
        "threads": st.lists(sequence, min_size=1, max_size=3),
        "tasks": st.lists(tasks(), min_size=1, max_size=3),
        "greenlets": st.lists(sequence, max_size=3),
    }
)


class World:
    """The objects a program works on, built from one implementation."""

    def __init__(self, impl: t.Any) -> None:
        self.impl = impl
        self.local = local = impl.Local()
        self.stack = impl.LocalStack()
        self.cv: contextvars.ContextVar[t.Any] = contextvars.ContextVar("fuzz.cv")
        if getattr(impl, "SHARED", False):  # the broken Local of a self-check
            by_name = impl.LocalProxy(lambda: local.value)
        else:
            by_name = impl.LocalProxy(local, "value")
        self.proxies = {
            "local_value": by_name,
            "stack_top": self.stack(),
            "context_var": impl.LocalProxy(self.cv),
            "stack_class": self.stack("__class__"),
            "callable": impl.LocalProxy(lambda: local.other),
        }


def _result(func: t.Callable[[], t.Any]) -> t.Any:
    try:
        value = func()
    except Exception as e:  # noqa: BLE001 - the exception is an observation too
        return ("raised", type(e).__name__, str(e))
    return ("ok", _snapshot(value))


def _snapshot(value: t.Any) -> t.Any:
    # Values are immutable; a class or a bound method is recorded by name.
    if isinstance(value, (str, int, float, tuple, bool, type(None))):
        return value
    if isinstance(value, type):
        return ("type", value.__name__)
    return ("repr", type(value).__name__)


def run_op(world: World, worker: int, index: int, op: Op) -> t.Any:
    """Run one operation; return the observation (``None`` for yields)."""
    kind = op[0]
    local, stack = world.local, world.stack
    if kind == "set":
        return _result(lambda: setattr(local, op[1], make_value(worker, op[2])))
    if kind == "get":
        return _result(lambda: getattr(local, op[1]))
    if kind == "del":
        return _result(lambda: delattr(local, op[1]))
    if kind == "iter_local":
        return _result(lambda: tuple(sorted(iter(local), key=repr)))
    if kind == "push":
        return _result(lambda: len(stack.push(make_value(worker, op[1]))))
    if kind == "pop":
        return _result(stack.pop)
    if kind == "top":
        return _result(lambda: stack.top)
    if kind == "cv_set":
        return _result(lambda: world.cv.set(make_value(worker, op[1])) and None)
    if kind == "release_local":
        return _result(lambda: world.impl.release_local(local))
    if kind == "release_stack":
        return _result(lambda: world.impl.release_local(stack))
    if kind == "proxy":
        proxy = world.proxies[op[1]]
        return _result(lambda: PROXY_OPS[op[2]](proxy))
    raise AssertionError(op)


def run_sequence(world: World, worker: int, sequence: list[Op], out: list) -> None:
    for i, op in enumerate(sequence):
        if op[0] == "yield":
            time.sleep(0)
            continue
        out.append((i, op, run_op(world, worker, i, op)))


async def run_sequence_async(
    world: World, worker: int, sequence: list[Op], out: list, spawn: t.Any = None
) -> None:
    child_task = None
    for i, op in enumerate(sequence + [("end",)]):
        if spawn is not None and i == spawn["at"]:
            # The child copies this task's context as it is now.
            child_task = asyncio.ensure_future(spawn["run"]())
        if op[0] == "end":
            break
        if op[0] == "yield":
            await asyncio.sleep(0)
            continue
        out.append((i, op, run_op(world, worker, i, op)))
        # Interleave with the other tasks after every operation.
        await asyncio.sleep(0)
    if child_task is not None:
        await child_task


def run_greenlets(world: World, sequences: list[list[Op]], results: dict) -> None:
    """Run one greenlet per sequence, each in its own empty context, round
    robin: every greenlet switches back to this one after each operation."""
    from greenlet import getcurrent
    from greenlet import greenlet

    hub = getcurrent()

    def body(worker: int, seq: list[Op], out: list) -> None:
        for i, op in enumerate(seq):
            if op[0] != "yield":
                out.append((i, op, run_op(world, worker, i, op)))
            hub.switch()

    lets = []
    for k, seq in enumerate(sequences):
        worker = 30 + k
        out = results[f"greenlet{worker}"] = []
        let = greenlet(lambda w=worker, s=seq, o=out: body(w, s, o))
        let.gr_context = contextvars.Context()
        lets.append(let)
    # Each round advances every live greenlet by one operation.
    for _ in range(max((len(seq) for seq in sequences), default=0) + 1):
        for let in lets:
            if not let.dead:
                let.switch()
    assert all(let.dead for let in lets), "a fuzz greenlet did not finish"


def run_concurrently(impl: t.Any, program: dict[str, t.Any]) -> dict[str, list]:
    """Run the program's threads, asyncio tasks and greenlets at the same
    time on ``impl`` (the greenlets take turns in a thread of their own).
    Returns the observations of each worker."""
    world = World(impl)
    results: dict[str, list] = {}
    errors: list[BaseException] = []
    n_threads = len(program["threads"]) + 1
    barrier = threading.Barrier(n_threads + 1)

    def thread_main(worker: int, seq: list[Op]) -> None:
        out = results[f"thread{worker}"] = []
        try:
            barrier.wait(timeout=THREAD_TIMEOUT)
            run_sequence(world, worker, seq, out)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    def greenlet_main() -> None:
        try:
            barrier.wait(timeout=THREAD_TIMEOUT)
            run_greenlets(world, program.get("greenlets", []), results)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    async def tasks_main() -> None:
        coros = []
        for k, spec in enumerate(program["tasks"]):
            worker = 10 + k
            child_worker = 20 + k
            out = results[f"task{worker}"] = []
            spawn = None
            if spec["child"] is not None:
                child_out = results[f"task{child_worker}"] = []
                child_ops = spec["child"]["ops"]

                def make_child(
                    cw: int = child_worker, co: list = child_ops, cout: list = child_out
                ) -> t.Any:
                    return run_sequence_async(world, cw, co, cout)

                spawn = {"at": spec["child"]["at"], "run": make_child}
            coros.append(run_sequence_async(world, worker, spec["ops"], out, spawn))
        await asyncio.gather(*coros)

    threads = [
        threading.Thread(target=thread_main, args=(k, seq), daemon=True)
        for k, seq in enumerate(program["threads"])
    ]
    threads.append(threading.Thread(target=greenlet_main, daemon=True))
    for th in threads:
        th.start()
    barrier.wait(timeout=THREAD_TIMEOUT)
    # The event loop runs in this thread, in a fresh empty context, while
    # the threads run.
    contextvars.Context().run(asyncio.run, tasks_main())
    for th in threads:
        th.join(THREAD_TIMEOUT)
        assert not th.is_alive(), "a fuzz thread did not finish"
    if errors:
        raise errors[0]
    return results


def run_isolated(impl: t.Any, program: dict[str, t.Any]) -> dict[str, list]:
    """The model: each worker alone, in its own fresh context; a child in a
    copy of its parent's context taken at the spawn point."""
    world = World(impl)
    results: dict[str, list] = {}
    for k, seq in enumerate(program["threads"]):
        out = results[f"thread{k}"] = []
        contextvars.Context().run(
            run_sequence, world, k, [o for o in seq if o[0] != "yield"], out
        )
    for k, seq in enumerate(program.get("greenlets", [])):
        out = results[f"greenlet{30 + k}"] = []
        contextvars.Context().run(
            run_sequence, world, 30 + k, [o for o in seq if o[0] != "yield"], out
        )
    for k, spec in enumerate(program["tasks"]):
        worker, child_worker = 10 + k, 20 + k
        out = results[f"task{worker}"] = []
        ctx = contextvars.Context()
        body = spec["ops"]
        child = spec["child"]
        split = child["at"] if child is not None else len(body)
        ctx.run(
            run_sequence,
            world,
            worker,
            [o for o in body[:split] if o[0] != "yield"],
            out,
        )
        if child is not None:
            child_out = results[f"task{child_worker}"] = []
            child_ctx = ctx.run(contextvars.copy_context)
            child_ctx.run(
                run_sequence,
                world,
                child_worker,
                [o for o in child["ops"] if o[0] != "yield"],
                child_out,
            )
        # The parent's own operations keep their original indexes.
        rest: list = []
        ctx.run(run_sequence, world, worker, body[split:], rest)
        out.extend((i + split, op, obs) for i, op, obs in rest)
    # Yields are not observations: drop their indexes from the comparison.
    return results


def _same_text(value: object) -> object:
    # What may differ between the cores and runs without being a difference:
    # CPython names the compiled class with its module in the messages it
    # makes itself, and a repr carries the object's address.
    if isinstance(value, str):
        value = value.replace("erlen._local_c.", "")
        return re.sub(r" at 0x[0-9a-f]+", " at 0x...", value)
    if isinstance(value, tuple):
        return tuple(_same_text(v) for v in value)
    return value


def _normalise(results: dict[str, list]) -> dict[str, list]:
    return {k: [(op, _same_text(obs)) for _, op, obs in v] for k, v in results.items()}


_VALUE_OPS = ("get", "top", "pop", "iter_local")


def _assert_isolated(results: dict[str, list]) -> None:
    for worker_name, observations in results.items():
        worker = int(re.search(r"\d+$", worker_name).group())
        allowed = {worker}
        if worker >= 20:  # a child task may see its parent's values
            allowed.add(worker - 10)
        for _, op, obs in observations:
            # Only results that are stored values carry a tag (a hash or a
            # sum of a value is not one).
            if obs[0] != "ok" or not (
                op[0] in _VALUE_OPS or (op[0] == "proxy" and op[2] == "current")
            ):
                continue
            values = (
                obs[1]
                if isinstance(obs[1], tuple) and op[0] == "iter_local"
                else (obs[1],)
            )
            for value in values:
                if (
                    isinstance(value, tuple)
                    and len(value) == 2
                    and isinstance(value[0], str)
                ):
                    value = value[1]  # an (attribute, value) pair
                tag = tag_of(value)
                assert tag is None or tag in allowed, (
                    f"{worker_name} saw {value!r} from worker {tag} after {op}"
                )


@needs_compiled
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(program=programs)
def test_compiled_matches_python_under_concurrency(program):
    compiled = run_concurrently(local_c, program)
    python = run_concurrently(local_py, program)
    model = run_isolated(local_py, program)
    _assert_isolated(compiled)
    _assert_isolated(python)
    assert _normalise(python) == _normalise(model)
    assert _normalise(compiled) == _normalise(model)


@settings(
    max_examples=max(10, EXAMPLES // 4),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(program=programs)
def test_python_twin_is_isolated(program):
    """Runs even without the compiled core: the twin against the model."""
    python = run_concurrently(local_py, program)
    _assert_isolated(python)
    assert _normalise(python) == _normalise(run_isolated(local_py, program))


# --- fixed checks of the fuzz machinery itself ------------------------------------


@pytest.mark.parametrize("impl_name", ["cython", "python"])
def test_child_task_never_sees_parent_later_pushes(impl_name):
    impl = local_py if impl_name == "python" else local_c
    if impl is None:
        pytest.skip("compiled core not built")
    program = {
        "threads": [[("push", 1), ("top",)]],
        "tasks": [
            {
                "ops": [
                    ("push", 3),
                    ("set", "value", 6),
                    ("push", 9),
                    ("set", "value", 12),
                    ("yield",),
                    ("top",),
                    ("get", "value"),
                ],
                "child": {
                    "at": 2,
                    "ops": [
                        ("yield",),
                        ("yield",),
                        ("top",),
                        ("get", "value"),
                        ("pop",),
                        ("pop",),
                        ("top",),
                    ],
                },
            }
        ],
    }
    results = run_concurrently(impl, program)
    child = [obs for _, _, obs in results["task20"]]
    assert child == [
        ("ok", "w10n3"),
        ("ok", "w10n6"),
        ("ok", "w10n3"),
        ("ok", None),
        ("ok", None),
    ]
    parent = [obs for _, _, obs in results["task10"]]
    assert parent[-2:] == [("ok", "w10n9"), ("ok", "w10n12")]
    # make_value(0, 1) is the int 1001; push returns the stack's new length.
    assert [obs for _, _, obs in results["thread0"]] == [("ok", 1), ("ok", 1001)]


class _SharedLocal:
    """A deliberately broken Local: one dict for every thread and task."""

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {})

    def __getattr__(self, name: str) -> t.Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: t.Any) -> None:
        self._values[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __iter__(self) -> t.Iterator[tuple[str, t.Any]]:
        return iter(list(self._values.items()))

    def __release_local__(self) -> None:
        self._values.clear()


def test_fuzz_checks_catch_a_leaking_local():
    """The model and the isolation check do notice a Local whose values
    leak between workers."""
    import types

    broken = types.SimpleNamespace(
        Local=_SharedLocal,
        LocalStack=local_py.LocalStack,
        LocalProxy=local_py.LocalProxy,
        release_local=local_py.release_local,
        SHARED=True,
    )
    program = {
        "threads": [[("set", "value", 4)]],
        "tasks": [
            {
                "ops": [("get", "value"), ("proxy", "local_value", "current")],
                "child": None,
            }
        ],
    }
    results = run_isolated(broken, program)
    with pytest.raises(AssertionError, match="from worker 0"):
        _assert_isolated(results)
    assert _normalise(results) != _normalise(run_isolated(local_py, program))


def test_tags():
    assert tag_of(make_value(3, 0)) == 3
    assert tag_of(make_value(3, 1)) == 3
    assert tag_of(make_value(21, 2)) == 21
    assert tag_of(make_value(0, 1)) == 0
    assert tag_of("plain") is None and tag_of(True) is None and tag_of(7) is None


@pytest.mark.parametrize("impl_name", ["cython", "python"])
def test_greenlets_take_turns_in_isolation(impl_name):
    impl = local_py if impl_name == "python" else local_c
    if impl is None:
        pytest.skip("compiled core not built")
    program = {
        "threads": [[]],
        "tasks": [{"ops": [], "child": None}],
        "greenlets": [
            [("set", "value", 0), ("push", 3), ("yield",), ("get", "value"), ("top",)],
            [("set", "value", 6), ("get", "value"), ("pop",), ("top",)],
        ],
    }
    results = run_concurrently(impl, program)
    assert [obs for _, _, obs in results["greenlet30"]] == [
        ("ok", None),
        ("ok", 1),
        ("ok", "w30n0"),
        ("ok", "w30n3"),
    ]
    assert [obs for _, _, obs in results["greenlet31"]] == [
        ("ok", None),
        ("ok", "w31n6"),
        ("ok", None),
        ("ok", None),
    ]


@needs_compiled
def test_subscripting_a_proxied_class_error_message():
    messages = []
    for impl in (local_c, local_py):
        proxy = impl.LocalProxy(lambda: str)
        with pytest.raises(TypeError) as info:
            proxy[0]
        messages.append(str(info.value))
    assert messages[0] == messages[1] == "type 'str' is not subscriptable"


@pytest.mark.parametrize("impl_name", ["cython", "python"])
def test_subscripting_a_proxied_generic_class(impl_name):
    impl = local_py if impl_name == "python" else local_c
    if impl is None:
        pytest.skip("compiled core not built")
    assert impl.LocalProxy(lambda: list)[int] == list[int]
