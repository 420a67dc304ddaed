"""Local, LocalStack, LocalManager and release_local, on both core
implementations (the ``local_impl`` fixture), with werkzeug.local 3.1 as the
reference."""

from __future__ import annotations

import typing as t
from contextvars import ContextVar
from contextvars import copy_context

import pytest
import werkzeug.local

_cv_ns: ContextVar[dict[str, t.Any]] = ContextVar("erlen.tests.local.ns")
_cv_stack: ContextVar[list[t.Any]] = ContextVar("erlen.tests.local.stack")
_cv_other: ContextVar[list[t.Any]] = ContextVar("erlen.tests.local.other")


@pytest.fixture(autouse=True)
def reset_context_vars():
    tokens = [
        (_cv_ns, _cv_ns.set({})),
        (_cv_stack, _cv_stack.set([])),
        (_cv_other, _cv_other.set([])),
    ]
    yield
    for var, token in reversed(tokens):
        var.reset(token)


# --- Local --------------------------------------------------------------------


def test_local_attributes(local_impl):
    local = local_impl.Local()
    assert not hasattr(local, "foo")
    local.foo = 42
    assert local.foo == 42
    local.foo = 23
    assert local.foo == 23
    local.bar = None
    assert local.bar is None
    del local.foo
    assert not hasattr(local, "foo")
    with pytest.raises(AttributeError):
        _ = local.foo
    with pytest.raises(AttributeError):
        del local.foo
    assert local.bar is None


def test_local_attribute_error_names_attribute(local_impl):
    local = local_impl.Local()
    with pytest.raises(AttributeError) as info:
        _ = local.missing_name
    assert "missing_name" in str(info.value)
    assert getattr(local, "missing_name", "fallback") == "fallback"


# As in werkzeug, a Local's normal attribute lookup comes first (the class's
# attributes, a subclass's methods and properties, an instance __dict__) and
# the stored values are the fallback. Each scenario runs on werkzeug's Local
# too, and must give the same.


def _subclass_of(module):
    class Session(module.Local):
        _kind = "class attribute"

        def greet(self):
            return f"hello {self.name}"

        @property
        def shout(self):
            return self.name.upper()

        @property
        def fallback(self):
            raise AttributeError("fallback")

    return Session


def _same_in_werkzeug(local_impl, scenario):
    result = scenario(local_impl)
    assert result == scenario(werkzeug.local)
    return result


def test_local_subclass_methods_and_properties(local_impl):
    def scenario(module):
        session = _subclass_of(module)()
        session.name = "ann"
        return session.greet(), session.shout, session.name

    assert _same_in_werkzeug(local_impl, scenario) == ("hello ann", "ANN", "ann")


def test_local_subclass_method_wins_over_stored_value(local_impl):
    def scenario(module):
        session = _subclass_of(module)()
        session.name = "bo"
        session.greet = "stored"
        session.shout = "stored"
        return session.greet(), session.shout, dict(session)

    assert _same_in_werkzeug(local_impl, scenario) == (
        "hello bo",
        "BO",
        {"name": "bo", "greet": "stored", "shout": "stored"},
    )


def test_local_subclass_underscore_attribute_wins_over_stored_value(local_impl):
    def scenario(module):
        session = _subclass_of(module)()
        session._kind = "stored"
        return session._kind, dict(session)["_kind"]

    assert _same_in_werkzeug(local_impl, scenario) == ("class attribute", "stored")


def test_local_subclass_falls_back_to_stored_values(local_impl):
    def scenario(module):
        session = _subclass_of(module)()
        session.fallback = "stored"  # its property raises AttributeError
        session.__dict__["in_dict"] = "instance dict"
        missing = getattr(session, "missing", "default")
        return session.fallback, session.in_dict, missing

    assert _same_in_werkzeug(local_impl, scenario) == (
        "stored",
        "instance dict",
        "default",
    )


def test_local_own_names_win_over_stored_values(local_impl):
    def scenario(module):
        local = module.Local()
        local.__iter__ = "stored"
        local.__release_local__ = "stored"
        local._private = "stored"
        local.__custom__ = "stored"
        own = [callable(local.__iter__), callable(local.__release_local__)]
        return own, local._private, local.__custom__, type(local._Local__storage)

    assert _same_in_werkzeug(local_impl, scenario) == (
        [True, True],
        "stored",
        "stored",
        ContextVar,
    )


def test_local_uses_given_context_var(local_impl):
    local = local_impl.Local(_cv_ns)
    local.a = 1
    local.b = 2
    assert _cv_ns.get() == {"a": 1, "b": 2}
    del local.a
    assert _cv_ns.get() == {"b": 2}
    # Values put into the ContextVar directly are seen by the Local.
    _cv_ns.set({"direct": "yes"})
    assert local.direct == "yes"
    assert not hasattr(local, "b")


def test_local_write_does_not_mutate_stored_dict(local_impl):
    local = local_impl.Local(_cv_ns)
    local.a = 1
    before = _cv_ns.get()
    local.b = 2
    del local.a
    assert before == {"a": 1}


def test_locals_are_independent(local_impl):
    one, two = local_impl.Local(), local_impl.Local()
    one.value = "one"
    assert not hasattr(two, "value")
    two.value = "two"
    assert one.value == "one"


def test_local_iter(local_impl):
    local = local_impl.Local()
    assert list(local) == []
    local.a = 1
    local.b = "x"
    assert sorted(local) == [("a", 1), ("b", "x")]
    assert dict(local) == {"a": 1, "b": "x"}
    del local.a
    assert list(local) == [("b", "x")]


def test_local_iterate_while_writing(local_impl):
    # Writes store a new dict, so an iteration in progress sees a snapshot.
    local = local_impl.Local()
    local.a = 1
    local.b = 2
    seen = []
    for name, value in local:
        seen.append((name, value))
        local.c = 3
        delattr(local, name)
    assert sorted(seen) == [("a", 1), ("b", 2)]
    assert list(local) == [("c", 3)]


def test_local_call_makes_proxy(local_impl):
    local = local_impl.Local()
    proxy = local("user")
    assert type(proxy) is local_impl.LocalProxy
    assert not proxy
    local.user = "alice"
    assert proxy == "alice"
    assert proxy.upper() == "ALICE"
    local.user = "bob"
    assert proxy == "bob"


def test_local_call_unbound_message(local_impl):
    local = local_impl.Local()
    proxy = local("user", unbound_message="no user here")
    with pytest.raises(RuntimeError, match="no user here"):
        proxy.upper()
    default = local("user")
    with pytest.raises(RuntimeError, match="object is not bound"):
        default.upper()


def test_local_call_requires_name(local_impl):
    local = local_impl.Local()
    with pytest.raises(TypeError):
        local()
    with pytest.raises(TypeError):
        local("name", "positional message")


def test_local_release(local_impl):
    local = local_impl.Local()
    local.foo = 42
    local.bar = 1
    local_impl.release_local(local)
    assert not hasattr(local, "foo")
    assert not hasattr(local, "bar")
    assert list(local) == []
    local.foo = 3
    assert local.foo == 3


def test_local_release_method(local_impl):
    local = local_impl.Local(_cv_ns)
    local.foo = 1
    local.__release_local__()
    assert _cv_ns.get() == {}
    assert not hasattr(local, "foo")


def test_local_values_per_context(local_impl):
    local = local_impl.Local()
    local.value = "outer"
    ctx = copy_context()
    local.value = "changed"
    local.added = True
    assert ctx.run(lambda: local.value) == "outer"
    assert ctx.run(lambda: hasattr(local, "added")) is False

    def inner():
        local.value = "inner"
        del local.value
        local.only_inner = 1

    ctx.run(inner)
    assert local.value == "changed"
    assert not hasattr(local, "only_inner")


# --- LocalStack ---------------------------------------------------------------


def test_stack_push_pop_top(local_impl):
    stack = local_impl.LocalStack()
    assert stack.top is None
    assert stack.push(42) == [42]
    assert stack.top == 42
    assert stack.push(23) == [42, 23]
    assert stack.top == 23
    assert stack.pop() == 23
    assert stack.top == 42
    assert stack.pop() == 42
    assert stack.top is None
    assert stack.pop() is None
    assert stack.pop() is None
    assert stack.top is None


def test_stack_class_subscript(local_impl):
    alias = local_impl.LocalStack[int]
    assert (t.get_origin(alias) or alias) is local_impl.LocalStack
    stack = alias()
    stack.push(1)
    assert stack.top == 1


def test_stack_push_returns_new_list(local_impl):
    stack = local_impl.LocalStack(_cv_stack)
    first = stack.push("a")
    second = stack.push("b")
    assert type(first) is list
    assert first == ["a"]
    assert second == ["a", "b"]
    assert first is not second
    assert _cv_stack.get() == ["a", "b"]
    stack.pop()
    assert second == ["a", "b"]
    assert _cv_stack.get() == ["a"]


def test_stack_push_returns_the_stored_list(local_impl):
    # As in werkzeug: the list push returns is the one now stored.
    stack = local_impl.LocalStack(_cv_stack)
    returned = stack.push(1)
    assert returned is _cv_stack.get()
    assert stack.push(2) is _cv_stack.get()


def test_stack_uses_given_context_var(local_impl):
    stack = local_impl.LocalStack(_cv_stack)
    stack.push(1)
    assert _cv_stack.get() == [1]
    _cv_stack.set([7, 8, 9])
    assert stack.top == 9
    assert stack.pop() == 9
    assert _cv_stack.get() == [7, 8]


def test_stack_falsy_items(local_impl):
    stack = local_impl.LocalStack()
    stack.push(0)
    assert stack.top == 0
    stack.push("")
    assert stack.top == ""
    stack.push(None)
    assert stack.top is None
    assert stack.pop() is None
    assert stack.pop() == ""
    assert stack.pop() == 0
    assert stack.pop() is None


def test_stacks_are_independent(local_impl):
    one, two = local_impl.LocalStack(), local_impl.LocalStack()
    one.push(1)
    assert two.top is None
    two.push(2)
    assert one.top == 1


def test_stack_call_makes_proxy(local_impl):
    stack = local_impl.LocalStack()
    proxy = stack()
    assert type(proxy) is local_impl.LocalProxy
    assert not proxy
    assert repr(proxy) == "<LocalProxy unbound>"
    stack.push([1, 2])
    assert proxy == [1, 2]
    stack.push((1, 2))
    assert proxy == (1, 2)
    stack.pop()
    stack.pop()
    assert repr(proxy) == "<LocalProxy unbound>"


def test_stack_call_with_name(local_impl):
    class Ctx:
        def __init__(self, g):
            self.g = g

    stack = local_impl.LocalStack()
    g = stack("g", unbound_message="no ctx")
    with pytest.raises(RuntimeError, match="no ctx"):
        _ = g.value
    stack.push(Ctx({"v": 1}))
    assert g == {"v": 1}
    assert g["v"] == 1
    stack.push(Ctx("second"))
    assert g == "second"
    stack.pop()
    assert g == {"v": 1}


def test_stack_call_unbound_message(local_impl):
    stack = local_impl.LocalStack()
    proxy = stack(unbound_message="stack is empty")
    with pytest.raises(RuntimeError, match="stack is empty"):
        proxy + 1
    with pytest.raises(RuntimeError, match="object is not bound"):
        stack() + 1
    with pytest.raises(TypeError):
        stack(None, "positional message")


def test_stack_release(local_impl):
    stack = local_impl.LocalStack()
    stack.push(42)
    stack.push(43)
    local_impl.release_local(stack)
    assert stack.top is None
    assert stack.pop() is None
    stack.push(1)
    assert stack.top == 1


def test_stack_values_per_context(local_impl):
    stack = local_impl.LocalStack()
    stack.push("base")
    ctx = copy_context()
    stack.push("later")
    assert ctx.run(lambda: stack.top) == "base"

    def inner():
        assert stack.pop() == "base"
        assert stack.top is None
        stack.push("inner")
        return stack.top

    assert ctx.run(inner) == "inner"
    assert stack.top == "later"
    assert stack.pop() == "later"
    assert stack.top == "base"


# --- LocalManager -------------------------------------------------------------


def test_manager_constructor_forms(local_impl):
    local = local_impl.Local()
    stack = local_impl.LocalStack()
    assert local_impl.LocalManager().locals == []
    assert local_impl.LocalManager(None).locals == []
    assert local_impl.LocalManager(local).locals == [local]
    assert local_impl.LocalManager([local, stack]).locals == [local, stack]
    assert local_impl.LocalManager(x for x in (stack, local)).locals == [stack, local]


def test_manager_repr(local_impl):
    assert repr(local_impl.LocalManager()) == "<LocalManager storages: 0>"
    local = local_impl.Local()
    assert repr(local_impl.LocalManager(local)) == "<LocalManager storages: 1>"
    many = [local_impl.Local(), local_impl.LocalStack(), local_impl.Local()]
    assert repr(local_impl.LocalManager(many)) == "<LocalManager storages: 3>"


def test_manager_cleanup(local_impl):
    local = local_impl.Local()
    stack = local_impl.LocalStack(_cv_stack)
    other = local_impl.LocalStack(_cv_other)
    manager = local_impl.LocalManager([local, stack])
    local.value = 1
    stack.push(2)
    other.push(3)
    manager.cleanup()
    assert not hasattr(local, "value")
    assert stack.top is None
    # Locals the manager does not hold are untouched.
    assert other.top == 3


def _wsgi_app(local, stack, seen):
    def app(environ, start_response):
        local.request_id = environ["ID"]
        stack.push(environ["ID"])
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body():
            seen.append((local.request_id, stack.top))
            yield b"hello"

        return body()

    return app


def test_manager_make_middleware(local_impl):
    local = local_impl.Local()
    stack = local_impl.LocalStack()
    seen = []
    manager = local_impl.LocalManager([local, stack])
    app = manager.make_middleware(_wsgi_app(local, stack, seen))
    statuses = []
    response = app({"ID": "r1"}, lambda status, headers: statuses.append(status))
    assert statuses == ["200 OK"]
    assert b"".join(response) == b"hello"
    assert seen == [("r1", "r1")]
    # Data lives until the response is closed, and is released then.
    assert local.request_id == "r1"
    response.close()
    assert not hasattr(local, "request_id")
    assert stack.top is None


def test_manager_middleware_decorator(local_impl):
    local = local_impl.Local()
    stack = local_impl.LocalStack()
    seen = []
    manager = local_impl.LocalManager([local, stack])
    inner = _wsgi_app(local, stack, seen)

    def application(environ, start_response):
        """The app's doc."""
        return inner(environ, start_response)

    wrapped = manager.middleware(application)
    assert wrapped is not application
    assert wrapped.__name__ == "application"
    assert wrapped.__doc__ == "The app's doc."
    assert wrapped.__wrapped__ is application
    response = wrapped({"ID": "r2"}, lambda status, headers: None)
    assert list(response) == [b"hello"]
    response.close()
    assert seen == [("r2", "r2")]
    assert not hasattr(local, "request_id")
    assert stack.top is None


# --- release_local ------------------------------------------------------------


def test_release_local_calls_release_hook(local_impl):
    calls = []

    class Custom:
        def __release_local__(self):
            calls.append("released")

    local_impl.release_local(Custom())
    assert calls == ["released"]


def test_release_local_only_current_context(local_impl):
    local = local_impl.Local()
    stack = local_impl.LocalStack()
    local.value = "kept"
    stack.push("kept")
    ctx = copy_context()
    local_impl.release_local(local)
    local_impl.release_local(stack)
    assert not hasattr(local, "value")
    assert stack.top is None
    assert ctx.run(lambda: (local.value, stack.top)) == ("kept", "kept")
