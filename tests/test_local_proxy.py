"""LocalProxy: a faithful stand-in for the object it points to.

werkzeug.local.LocalProxy is the reference. Every test takes the
``local_impl`` fixture, so it runs against the compiled core (``cython``) and
its pure-Python twin (``python``).
"""

from __future__ import annotations

import asyncio
import collections.abc
import copy
import functools
import math
import operator
import re
import typing as t
from contextvars import ContextVar

import pytest
import werkzeug.local

# Module-level ContextVars, as werkzeug's own tests use; the autouse fixture
# below puts them back after every test.
_cv_val: ContextVar[t.Any] = ContextVar("erlen.tests.proxy.val")
_cv_ns: ContextVar[dict[str, t.Any]] = ContextVar("erlen.tests.proxy.ns")
_cv_stack: ContextVar[list[t.Any]] = ContextVar("erlen.tests.proxy.stack")
# Never given a value: a proxy over it is unbound.
_cv_never: ContextVar[t.Any] = ContextVar("erlen.tests.proxy.never")

_MISSING = object()
MESSAGE = "no value bound here for this test"


@pytest.fixture(autouse=True)
def reset_context_vars():
    tokens = [
        (_cv_val, _cv_val.set(None)),
        (_cv_ns, _cv_ns.set({})),
        (_cv_stack, _cv_stack.set([])),
    ]
    yield
    for var, token in reversed(tokens):
        var.reset(token)
    assert _cv_never.get(_MISSING) is _MISSING, "a test bound _cv_never"


def bound(local_impl, value, **kwargs):
    """A proxy over ``_cv_val``, with ``value`` bound to it."""
    _cv_val.set(value)
    return local_impl.LocalProxy(_cv_val, **kwargs)


def unbound(local_impl):
    return local_impl.LocalProxy(_cv_never, unbound_message=MESSAGE)


# --- a target that records which of its special methods was called ------------

BINARY_NAMES = [
    "add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "divmod", "pow",
    "lshift", "rshift", "and", "xor", "or",
]  # fmt: skip
INPLACE_NAMES = [n for n in BINARY_NAMES if n != "divmod"]
COMPARE_NAMES = ["lt", "le", "eq", "ne", "gt", "ge"]
UNARY_NAMES = ["neg", "pos", "abs", "invert"]


def _returns_call(dunder):
    def method(self, *args):
        self.log.append((dunder, *args))
        return (dunder, *args)

    method.__name__ = dunder
    return method


def _inplace_call(dunder):
    def method(self, other):
        self.log.append((dunder, other))
        return self

    method.__name__ = dunder
    return method


class Recorder:
    """Every operator returns (or, in place, logs) the name of the special
    method Python chose and its arguments."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self):
        self.log = []

    for _n in BINARY_NAMES:
        locals()[f"__{_n}__"] = _returns_call(f"__{_n}__")
        locals()[f"__r{_n}__"] = _returns_call(f"__r{_n}__")
    for _n in INPLACE_NAMES:
        locals()[f"__i{_n}__"] = _inplace_call(f"__i{_n}__")
    for _n in COMPARE_NAMES + UNARY_NAMES:
        locals()[f"__{_n}__"] = _returns_call(f"__{_n}__")
    del _n

    def __int__(self):
        return 11

    def __float__(self):
        return 12.5

    def __complex__(self):
        return complex(1, 3)

    def __index__(self):
        return 13

    def __round__(self, ndigits=None):
        return ("__round__", ndigits)

    def __trunc__(self):
        return "trunc"

    def __floor__(self):
        return "floor"

    def __ceil__(self):
        return "ceil"


def _op_for(name):
    if name in ("divmod", "pow"):
        return {"divmod": divmod, "pow": pow}[name]
    return getattr(operator, name + "_" if name in ("and", "or") else name)


# --- binary, reflected, in-place operators ------------------------------------


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_binary_operator_calls_target(local_impl, name):
    target = Recorder()
    p = bound(local_impl, target)
    op = _op_for(name)
    assert op(p, 5) == (f"__{name}__", 5)
    assert target.log == [(f"__{name}__", 5)]


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_reflected_operator_calls_target(local_impl, name):
    target = Recorder()
    p = bound(local_impl, target)
    op = _op_for(name)
    # 5's own method gives NotImplemented, so Python asks the proxy's __rX__.
    assert op(5, p) == (f"__r{name}__", 5)
    assert target.log == [(f"__r{name}__", 5)]


@pytest.mark.parametrize("name", INPLACE_NAMES)
def test_inplace_operator_returns_proxy(local_impl, name):
    target = Recorder()
    p = bound(local_impl, target)
    op = getattr(operator, f"i{name}")
    result = op(p, 5)
    assert result is p
    assert type(result) is local_impl.LocalProxy
    assert target.log == [(f"__i{name}__", 5)]


INT_OPS = [
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
    operator.mod, divmod, pow, operator.lshift, operator.rshift, operator.and_,
    operator.xor, operator.or_,
]  # fmt: skip


@pytest.mark.parametrize("op", INT_OPS, ids=lambda op: op.__name__)
def test_operators_on_int_target(local_impl, op):
    p = bound(local_impl, 7)
    assert op(p, 3) == op(7, 3)
    assert op(3, p) == op(3, 7)
    # Both operands proxies.
    q = local_impl.LocalProxy(lambda: 3)
    assert op(p, q) == op(7, 3)
    assert op(q, p) == op(3, 7)


INT_IOPS = [
    operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.ifloordiv,
    operator.imod, operator.ipow, operator.ilshift, operator.irshift, operator.iand,
    operator.ixor, operator.ior,
]  # fmt: skip


@pytest.mark.parametrize("op", INT_IOPS, ids=lambda op: op.__name__)
def test_inplace_on_immutable_target_keeps_proxy(local_impl, op):
    # As in werkzeug: the result of the operation on an immutable target is
    # dropped, the name stays bound to the proxy, and the value is unchanged.
    p = bound(local_impl, 7)
    assert op(p, 2) is p
    assert _cv_val.get() == 7
    assert p == 7


def test_inplace_statements_on_mutable_targets(local_impl):
    items = [1]
    p = bound(local_impl, items)
    original = p
    p += [2]
    assert p is original
    p *= 2
    assert p is original
    assert items == [1, 2, 1, 2]
    assert _cv_val.get() is items

    s = {1, 2, 3}
    p = bound(local_impl, s)
    original = p
    p |= {4}
    p -= {1}
    p &= {2, 3, 4, 9}
    p ^= {9}
    assert p is original
    assert s == {2, 3, 4, 9}


def test_inplace_operator_unsupported_raises_type_error(local_impl):
    p = bound(local_impl, 7)
    with pytest.raises(TypeError):
        p @= 2


def test_operators_on_strings_and_lists(local_impl):
    p = bound(local_impl, "foo")
    assert p + "bar" == "foobar"
    assert "bar" + p == "barfoo"
    assert p * 2 == "foofoo"
    assert 2 * p == "foofoo"
    _cv_val.set("a %s b")
    assert p % ("x",) == "a x b"
    _cv_val.set([1, 2])
    assert p + [3] == [1, 2, 3]
    assert [0] + p == [0, 1, 2]


def test_pow_with_modulo(local_impl):
    p = bound(local_impl, 3)
    assert pow(p, 4, 5) == pow(3, 4, 5)


# --- comparisons --------------------------------------------------------------

COMPARISONS = [
    (operator.lt, "lt", "gt"),
    (operator.le, "le", "ge"),
    (operator.eq, "eq", "eq"),
    (operator.ne, "ne", "ne"),
    (operator.gt, "gt", "lt"),
    (operator.ge, "ge", "le"),
]


@pytest.mark.parametrize(("op", "name", "reflected"), COMPARISONS, ids=COMPARE_NAMES)
def test_comparison_calls_target(local_impl, op, name, reflected):
    target = Recorder()
    p = bound(local_impl, target)
    assert op(p, 5) == (f"__{name}__", 5)
    assert op(5, p) == (f"__{reflected}__", 5)


@pytest.mark.parametrize(("op", "name", "reflected"), COMPARISONS, ids=COMPARE_NAMES)
@pytest.mark.parametrize("other", [1, 2, 3])
def test_comparison_values(local_impl, op, name, reflected, other):
    p = bound(local_impl, 2)
    assert op(p, other) is op(2, other)
    assert op(other, p) is op(other, 2)


def test_two_proxies_compare_by_target(local_impl):
    p = bound(local_impl, [1, 2])
    q = local_impl.LocalProxy(lambda: [1, 2])
    r = local_impl.LocalProxy(lambda: [1, 3])
    assert p == q
    assert p != r
    assert p < r
    assert not p == r


# --- unary operators and conversions ------------------------------------------


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_unary_operator_calls_target(local_impl, name):
    target = Recorder()
    p = bound(local_impl, target)
    op = abs if name == "abs" else getattr(operator, name)
    assert op(p) == (f"__{name}__",)


@pytest.mark.parametrize(
    ("func", "value", "expected"),
    [
        (operator.neg, 5, -5),
        (operator.pos, -5, -5),
        (abs, -5, 5),
        (operator.invert, 5, -6),
        (int, 3.75, 3),
        (int, "42", 42),
        (float, 2, 2.0),
        (complex, 2, 2 + 0j),
        (operator.index, 5, 5),
        (hex, 255, "0xff"),
        (round, 2.5, 2),
        (round, 3.5, 4),
        (math.floor, 2.5, 2),
        (math.ceil, 2.5, 3),
        (math.trunc, -2.5, -2),
    ],
    ids=lambda v: getattr(v, "__name__", repr(v)),
)
def test_unary_and_conversion_values(local_impl, func, value, expected):
    p = bound(local_impl, value)
    result = func(p)
    assert result == expected
    assert type(result) is type(expected)


def test_conversions_call_target(local_impl):
    target = Recorder()
    p = bound(local_impl, target)
    assert int(p) == 11
    assert float(p) == 12.5
    assert complex(p) == complex(1, 3)
    assert operator.index(p) == 13
    assert list(range(20))[p] == 13
    assert round(p) == ("__round__", None)
    assert round(p, 2) == ("__round__", 2)
    assert math.trunc(p) == "trunc"
    assert math.floor(p) == "floor"
    assert math.ceil(p) == "ceil"


def test_round_with_ndigits(local_impl):
    p = bound(local_impl, 2.5678)
    assert round(p, 2) == 2.57
    assert round(p, 0) == 3.0


def test_index_in_slices(local_impl):
    p = bound(local_impl, 2)
    assert "abcdef"[p] == "c"
    assert "abcdef"[p:] == "cdef"
    assert [0] * p == [0, 0]


# --- attributes, dir, class, doc ----------------------------------------------


class Namespace:
    """A namespace docstring."""

    def method(self, x):
        return ("method", self, x)


def test_attribute_get_set_delete(local_impl):
    ns = Namespace()
    ns.a = 1
    p = bound(local_impl, ns)
    assert p.a == 1
    p.b = 2
    assert ns.b == 2
    assert p.b == 2
    del p.a
    assert not hasattr(ns, "a")
    assert not hasattr(p, "a")
    with pytest.raises(AttributeError):
        _ = p.a
    with pytest.raises(AttributeError):
        del p.missing
    assert p.method(3) == ("method", ns, 3)


def test_attribute_lookups_follow_current_value(local_impl):
    p = local_impl.LocalProxy(_cv_val)
    first, second = Namespace(), Namespace()
    first.x, second.x = "first", "second"
    _cv_val.set(first)
    assert p.x == "first"
    _cv_val.set(second)
    assert p.x == "second"
    p.x = "changed"
    assert second.x == "changed"
    assert first.x == "first"


def test_setattr_private_names_go_to_target(local_impl):
    ns = Namespace()
    p = bound(local_impl, ns)
    p._private = 1
    p.__dunder_like__ = 2
    assert ns._private == 1
    assert ns.__dunder_like__ == 2


def test_methods_of_builtin_targets(local_impl):
    items = []
    p = bound(local_impl, items)
    p.append(42)
    p.append(23)
    p[1:] = [1, 2, 3]
    assert items == [42, 1, 2, 3]
    assert p.index(2) == 2


def test_dir(local_impl):
    ns = Namespace()
    ns.visible = 1
    p = bound(local_impl, ns)
    assert dir(p) == dir(ns)
    assert "visible" in dir(p)
    _cv_val.set([])
    assert dir(p) == dir([])


def test_class_isinstance_and_type(local_impl):
    LocalProxy = local_impl.LocalProxy
    p = bound(local_impl, 42)
    assert p.__class__ is int
    assert isinstance(p, int)
    assert not isinstance(p, str)
    assert type(p) is LocalProxy
    assert issubclass(type(p), LocalProxy)
    assert not issubclass(type(p), int)
    # Python checks the real type first, so a bound proxy is also an instance
    # of the proxy class.
    assert isinstance(p, LocalProxy)
    _cv_val.set(Namespace())
    assert p.__class__ is Namespace
    assert isinstance(p, Namespace)
    assert not isinstance(p, int)


def test_isinstance_with_abcs(local_impl):
    p = bound(local_impl, [1, 2])
    assert isinstance(p, collections.abc.Sequence)
    assert isinstance(p, collections.abc.MutableSequence)
    assert not isinstance(p, collections.abc.Mapping)
    _cv_val.set({"a": 1})
    assert isinstance(p, collections.abc.Mapping)


def test_proxy_to_a_class_in_isinstance_and_issubclass(local_impl):
    p = bound(local_impl, int)
    assert isinstance(3, p)
    assert not isinstance("3", p)
    assert issubclass(bool, p)
    assert not issubclass(str, p)
    # And the proxy itself as the subclass: Python reads its __bases__.
    _cv_val.set(bool)
    assert issubclass(p, int)
    assert not issubclass(p, str)
    assert isinstance(p, type)
    _cv_val.set(int)
    _cv_val.set((str, bytes))
    assert isinstance(b"x", p)
    assert isinstance("x", p)
    assert not isinstance(3, p)
    assert issubclass(str, p)
    assert not issubclass(int, p)
    _cv_val.set(collections.abc.Sized)
    assert isinstance([], p)
    assert not isinstance(3, p)
    assert issubclass(dict, p)
    # The proxy is called like the class too.
    _cv_val.set(int)
    assert p("12") == 12


def test_doc(local_impl):
    def documented():
        """The function's doc."""

    p = bound(local_impl, documented)
    assert p.__doc__ == "The function's doc."
    _cv_val.set(Namespace())
    assert p.__doc__ == "A namespace docstring."
    _cv_val.set(3)
    assert p.__doc__ == int.__doc__
    cls_doc = local_impl.LocalProxy.__doc__
    assert isinstance(cls_doc, str)
    assert cls_doc.strip()
    assert unbound(local_impl).__doc__ == cls_doc


# --- repr, str, bytes, format, hash, bool -------------------------------------


class Shown:
    def __repr__(self):
        return "<Shown repr>"

    def __str__(self):
        return "shown str"

    def __bytes__(self):
        return b"shown bytes"

    def __format__(self, spec):
        return f"format[{spec}]"


def test_repr_str_bytes_format(local_impl):
    p = bound(local_impl, Shown())
    assert repr(p) == "<Shown repr>"
    assert str(p) == "shown str"
    assert bytes(p) == b"shown bytes"
    assert format(p, "xyz") == "format[xyz]"
    assert f"{p:abc}" == "format[abc]"
    assert f"{p!r}" == "<Shown repr>"
    _cv_val.set([1, "a"])
    assert repr(p) == "[1, 'a']"
    assert str(p) == "[1, 'a']"
    _cv_val.set(b"raw")
    assert bytes(p) == b"raw"
    _cv_val.set(3.14159)
    assert format(p, ".2f") == "3.14"
    assert f"{p:>8.3f}" == "   3.142"
    assert "%s-%r" % (p, p) == "3.14159-3.14159"  # noqa: UP031 - the % operator itself


def test_hash(local_impl):
    p = bound(local_impl, "key")
    assert hash(p) == hash("key")
    mapping = {p: 1}
    assert mapping["key"] == 1
    assert {"key": 2}[p] == 2
    _cv_val.set([])
    with pytest.raises(TypeError):
        hash(p)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, False),
        (1, True),
        ([], False),
        ([0], True),
        ("", False),
        ("x", True),
        (None, False),
    ],
)
def test_bool(local_impl, value, expected):
    p = bound(local_impl, value)
    assert bool(p) is expected
    assert (not p) is (not expected)


def test_bool_uses_len_and_bool_of_target(local_impl):
    class Empty:
        def __len__(self):
            return 0

    class Failing:
        def __bool__(self):
            raise ValueError("no truth")

    p = bound(local_impl, Empty())
    assert not p
    _cv_val.set(Failing())
    with pytest.raises(ValueError, match="no truth"):
        bool(p)


# --- container protocol -------------------------------------------------------


def test_container_protocol(local_impl):
    items = [1, 2, 3]
    p = bound(local_impl, items)
    assert len(p) == 3
    assert operator.length_hint(p) == 3
    assert p[0] == 1
    assert p[-1] == 3
    assert p[1:] == [2, 3]
    p[0] = 10
    assert items[0] == 10
    del p[1]
    assert items == [10, 3]
    assert 3 in p
    assert 2 not in p
    assert list(reversed(p)) == [3, 10]
    assert list(p) == [10, 3]
    assert [x * 2 for x in p] == [20, 6]
    with pytest.raises(IndexError):
        p[10]

    mapping = {"a": 1}
    _cv_val.set(mapping)
    p["b"] = 2
    assert mapping == {"a": 1, "b": 2}
    del p["a"]
    assert mapping == {"b": 2}
    assert "b" in p
    with pytest.raises(KeyError):
        p["missing"]


def test_length_hint_of_iterator_target(local_impl):
    # No len(): Python falls back to the target's __length_hint__.
    p = bound(local_impl, iter([1, 2, 3]))
    with pytest.raises(TypeError):
        len(p)
    assert operator.length_hint(p) == 3
    next(p)
    assert operator.length_hint(p) == 2


def test_length_hint_custom(local_impl):
    class Hinted:
        def __length_hint__(self):
            return 17

    p = bound(local_impl, Hinted())
    assert operator.length_hint(p) == 17
    assert operator.length_hint(p, 5) == 17


def test_reversed_custom(local_impl):
    class Backwards:
        def __reversed__(self):
            return iter("cba")

    p = bound(local_impl, Backwards())
    assert list(reversed(p)) == ["c", "b", "a"]


def test_iterator_protocol(local_impl):
    it = iter([1, 2, 3])
    p = bound(local_impl, it)
    assert next(p) == 1
    assert iter(p) is it
    assert list(p) == [2, 3]
    with pytest.raises(StopIteration):
        next(p)
    gen = (x for x in "ab")
    _cv_val.set(gen)
    assert next(p) == "a"
    assert next(p, "default") == "b"
    assert next(p, "default") == "default"


# --- calling, context managers ------------------------------------------------


def test_call(local_impl):
    p = bound(local_impl, lambda *args, **kwargs: (args, kwargs))
    assert p() == ((), {})
    assert p(1, 2, x=3) == ((1, 2), {"x": 3})
    _cv_val.set(42)
    with pytest.raises(TypeError):
        p()
    assert callable(local_impl.LocalProxy(_cv_val))


class Managed:
    def __init__(self, suppress=False):
        self.log = []
        self.suppress = suppress

    def __enter__(self):
        self.log.append("enter")
        return "entered value"

    def __exit__(self, exc_type, exc, tb):
        self.log.append(("exit", exc_type))
        return self.suppress


def test_sync_context_manager(local_impl):
    cm = Managed()
    p = bound(local_impl, cm)
    with p as value:
        assert value == "entered value"
        assert cm.log == ["enter"]
    assert cm.log == ["enter", ("exit", None)]

    with pytest.raises(KeyError):
        with p:
            raise KeyError("boom")
    assert cm.log[-1] == ("exit", KeyError)

    quiet = Managed(suppress=True)
    _cv_val.set(quiet)
    with p:
        raise ValueError("swallowed")
    assert quiet.log == ["enter", ("exit", ValueError)]


class AsyncManaged:
    def __init__(self):
        self.log = []

    async def __aenter__(self):
        self.log.append("aenter")
        return "async value"

    async def __aexit__(self, exc_type, exc, tb):
        self.log.append(("aexit", exc_type))
        return exc_type is LookupError


def test_async_context_manager(local_impl):
    cm = AsyncManaged()
    p = bound(local_impl, cm)

    async def main():
        async with p as value:
            assert value == "async value"
        async with p:
            raise LookupError("swallowed")
        with pytest.raises(ValueError):
            async with p:
                raise ValueError("kept")

    asyncio.run(main())
    assert cm.log == [
        "aenter", ("aexit", None),
        "aenter", ("aexit", LookupError),
        "aenter", ("aexit", ValueError),
    ]  # fmt: skip


class Ticker:
    def __init__(self, n):
        self.i = 0
        self.n = n

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.i >= self.n:
            raise StopAsyncIteration
        self.i += 1
        return self.i


def test_async_iterator(local_impl):
    p = bound(local_impl, Ticker(4))

    async def main():
        first = await anext(p)
        rest = [x async for x in p]
        return first, rest

    assert asyncio.run(main()) == (1, [2, 3, 4])


def test_async_generator_target(local_impl):
    async def agen():
        yield "a"
        yield "b"

    p = bound(local_impl, agen())

    async def main():
        return [x async for x in p]

    assert asyncio.run(main()) == ["a", "b"]


def test_await(local_impl):
    async def compute():
        await asyncio.sleep(0)
        return 99

    p = bound(local_impl, compute())

    async def main():
        return await p

    assert asyncio.run(main()) == 99


def test_await_future(local_impl):
    async def main():
        fut = asyncio.get_running_loop().create_future()
        p = bound(local_impl, fut)
        asyncio.get_running_loop().call_soon(fut.set_result, "done")
        return await p

    assert asyncio.run(main()) == "done"


# --- copy, deepcopy -----------------------------------------------------------


def test_copy_and_deepcopy(local_impl):
    target = [[1], [2]]
    p = bound(local_impl, target)
    shallow = copy.copy(p)
    assert type(shallow) is list
    assert shallow == target
    assert shallow is not target
    assert shallow[0] is target[0]
    deep = copy.deepcopy(p)
    assert type(deep) is list
    assert deep == target
    assert deep[0] is not target[0]


def test_copy_uses_target_hooks(local_impl):
    class Foo:
        attr = 42

        def __copy__(self):
            return self

        def __deepcopy__(self, memo):
            return self

    f = Foo()
    p = bound(local_impl, f)
    assert p.attr == 42
    assert copy.copy(p) is f
    assert copy.deepcopy(p) is f


def test_copy_of_none_target(local_impl):
    # NOTE: werkzeug 3.1 gets this wrong (copy.copy raises TypeError and
    # copy.deepcopy returns {}): it binds copy.copy to the target with a
    # function's __get__, which does not bind to None.
    p = bound(local_impl, None)
    assert copy.copy(p) is None
    assert copy.deepcopy(p) is None


def test_deepcopy_memo_passes_through(local_impl):
    target = {"k": [1]}
    p = bound(local_impl, target)
    a, b = copy.deepcopy([p, p])
    assert a is b
    assert a == target
    assert a is not target


# --- _get_current_object, __wrapped__ -----------------------------------------


def test_get_current_object(local_impl):
    first, second = object(), object()
    p = bound(local_impl, first)
    assert p._get_current_object() is first
    _cv_val.set(second)
    assert p._get_current_object() is second


def test_wrapped(local_impl):
    def inner():
        pass

    @functools.wraps(inner)
    def outer():
        pass

    p = bound(local_impl, outer)
    assert p.__wrapped__ is inner
    # Unbound: the local the proxy reads from.
    u = unbound(local_impl)
    assert u.__wrapped__ is _cv_never
    local = local_impl.Local()
    assert local("name").__wrapped__ is local
    stack = local_impl.LocalStack()
    assert stack().__wrapped__ is stack
    # Bound to an object that has no __wrapped__.
    _cv_val.set(Namespace())
    with pytest.raises(AttributeError):
        _ = p.__wrapped__


# --- unbound proxies ----------------------------------------------------------
# werkzeug's proxy is the reference. Its special methods are descriptors that
# read the object when CPython looks them up, so an unbound proxy fails in
# that lookup; most slots pass the error on (RuntimeError with the unbound
# message), but some take it as "no such method": == and != fall back to
# identity, ordering and hash() and iter() raise TypeError, await and async
# for raise AttributeError. These tests run the same operation on werkzeug's
# proxy and on erlen's, built the same way, and compare what happens.


async def _async_with(p):
    async with p:
        pass


async def _async_for(p):
    async for _ in p:
        pass


async def _await(p):
    await p


async def _anext(p):
    await anext(p)


def _with(p):
    with p:
        pass


class _EqualsAnything:
    __hash__ = object.__hash__

    def __eq__(self, other):
        return True


UNBOUND_OPERATIONS = {
    "getattr": lambda p: p.attr,
    "getattr_default": lambda p: getattr(p, "attr", "default"),
    "hasattr": lambda p: hasattr(p, "attr"),
    "setattr": lambda p: setattr(p, "attr", 1),
    "delattr": lambda p: delattr(p, "attr"),
    "get_current_object": lambda p: p._get_current_object(),
    "bool": bool,
    "not": lambda p: not p,
    "repr": repr,
    "dir": dir,
    "str": str,
    "bytes": bytes,
    "format": lambda p: format(p, ""),
    "fstring": lambda p: f"{p}",
    "percent": lambda p: "%s" % p,  # noqa: UP031
    "hash": hash,
    "set_member": lambda p: {p},
    "lt": lambda p: p < 1,
    "le": lambda p: p <= 1,
    "eq": lambda p: p == 1,
    "ne": lambda p: p != 1,
    "gt": lambda p: p > 1,
    "ge": lambda p: p >= 1,
    "eq_none": lambda p: p == None,  # noqa: E711 - the proxy's own __eq__
    "ne_none": lambda p: p != None,  # noqa: E711 - the proxy's own __ne__
    "eq_reflected": lambda p: None == p,  # noqa: E711 - the proxy's reflected __eq__
    "lt_reflected": lambda p: 1 < p,
    "eq_itself": lambda p: p == p,  # noqa: PLR0124
    "ne_itself": lambda p: p != p,  # noqa: PLR0124
    "eq_anything": lambda p: p == _EqualsAnything(),
    "in_list": lambda p: p in [1, None],
    "sorted": lambda p: sorted([p, p]),
    "instancecheck": lambda p: isinstance(1, p),
    "subclasscheck": lambda p: issubclass(int, p),
    "call": lambda p: p(),
    "len": len,
    "length_hint": operator.length_hint,
    "getitem": lambda p: p[0],
    "setitem": lambda p: operator.setitem(p, 0, 1),
    "delitem": lambda p: operator.delitem(p, 0),
    "iter": iter,
    "list": list,
    "next": next,
    "reversed": reversed,
    "contains": lambda p: 1 in p,
    "neg": operator.neg,
    "pos": operator.pos,
    "abs": abs,
    "invert": operator.invert,
    "int": int,
    "float": float,
    "complex": complex,
    "index": operator.index,
    "round": round,
    "round_ndigits": lambda p: round(p, 2),
    "trunc": math.trunc,
    "floor": math.floor,
    "ceil": math.ceil,
    "with": _with,
    "async_with": lambda p: asyncio.run(_async_with(p)),
    "async_for": lambda p: asyncio.run(_async_for(p)),
    "await": lambda p: asyncio.run(_await(p)),
    "anext": lambda p: asyncio.run(_anext(p)),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "pow_modulo": lambda p: pow(p, 2, 3),
    "class": lambda p: p.__class__,
    "doc": lambda p: p.__doc__,
    "wrapped": lambda p: p.__wrapped__,
}


def _left(op, p):
    return op(p, 1)


def _right(op, p):
    return op(1, p)


# Reading a special method as an attribute.
for _name in [
    "__eq__", "__ne__", "__lt__", "__hash__", "__len__", "__iter__", "__str__",
    "__repr__", "__bool__", "__dir__", "__format__", "__call__", "__setattr__",
    "__getitem__", "__contains__", "__add__", "__radd__", "__iadd__", "__neg__",
    "__int__", "__index__", "__enter__", "__exit__", "__await__", "__aiter__",
    "__anext__", "__aenter__", "__copy__", "__deepcopy__", "__instancecheck__",
    "__init__",
]:  # fmt: skip
    UNBOUND_OPERATIONS[f"read{_name}"] = operator.attrgetter(_name)
for _n in BINARY_NAMES:
    UNBOUND_OPERATIONS[_n] = functools.partial(_left, _op_for(_n))
    UNBOUND_OPERATIONS[f"r{_n}"] = functools.partial(_right, _op_for(_n))
for _n in INPLACE_NAMES:
    UNBOUND_OPERATIONS[f"i{_n}"] = functools.partial(_left, getattr(operator, f"i{_n}"))
del _n, _name


def _raise_lookup_error():
    raise LookupError("not here")


def _raise_runtime_error():
    raise RuntimeError("from the callable")


UNBOUND_KINDS = [
    "contextvar", "local", "stack", "stack_of_none", "callable_runtime_error",
    "callable_other_error", "subclass",
]  # fmt: skip


def _unbound_of(module, kind):
    """An unbound proxy of ``module`` (erlen's core or werkzeug.local), and
    the local it reads."""
    LocalProxy = module.LocalProxy
    if kind == "contextvar":
        return LocalProxy(_cv_never, unbound_message=MESSAGE), _cv_never
    if kind == "local":
        local = module.Local()
        return LocalProxy(local, "attr", unbound_message=MESSAGE), local
    if kind in ("stack", "stack_of_none"):
        stack = module.LocalStack()
        if kind == "stack_of_none":
            stack.push(None)
        return stack(unbound_message=MESSAGE), stack
    if kind == "callable_runtime_error":
        return LocalProxy(_raise_runtime_error), _raise_runtime_error
    if kind == "callable_other_error":
        return LocalProxy(_raise_lookup_error), _raise_lookup_error
    if kind == "subclass":

        class LocalProxy(LocalProxy):  # the same name, as messages show it
            pass

        return LocalProxy(_cv_never, unbound_message=MESSAGE), _cv_never
    raise AssertionError(kind)


# An object's address; and the module that CPython puts before the name of a
# compiled (static) class in some of its messages, where a Python class has
# none: "'<' not supported between instances of 'erlen._local_c.LocalProxy'
# and 'int'".
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
_STATIC_TYPE_MODULE = re.compile(r"\berlen\._local_c\.")


def _observe(operation, proxy, local):
    """What ``operation`` does to ``proxy``, in terms that do not depend on
    which module made it."""
    try:
        value = operation(proxy)
    except Exception as exc:  # noqa: BLE001 - what it raises is the result
        message = _STATIC_TYPE_MODULE.sub("", _ADDRESS.sub("", str(exc)))
        return "raises", type(exc), message
    if value is type(proxy):
        return "the proxy's class"
    if value is local:
        return "the proxied local"
    if isinstance(value, str) and value == type(proxy).__doc__:
        return "the proxy's doc"
    if callable(value) and not isinstance(value, type):
        return "a callable"
    if isinstance(value, str):
        return "returns", _ADDRESS.sub("", value)
    return "returns", value


@pytest.mark.parametrize("kind", UNBOUND_KINDS)
@pytest.mark.parametrize(
    "operation", UNBOUND_OPERATIONS.values(), ids=UNBOUND_OPERATIONS.keys()
)
def test_unbound_matches_werkzeug(local_impl, kind, operation):
    expected = _observe(operation, *_unbound_of(werkzeug.local, kind))
    assert _observe(operation, *_unbound_of(local_impl, kind)) == expected


# Where werkzeug raises the unbound message, which must be the proxy's own.
UNBOUND_MESSAGE_OPERATIONS = [
    "getattr", "getattr_default", "hasattr", "setattr", "delattr",
    "get_current_object", "str", "bytes", "format", "fstring", "percent",
    "instancecheck", "subclasscheck", "call", "len", "length_hint", "getitem",
    "setitem", "delitem", "next", "reversed", "contains", "neg", "int", "index",
    "round", "floor", "with", "async_with", "copy", "deepcopy", "add", "radd",
    "iadd", "read__eq__", "read__hash__", "read__len__", "read__iter__",
    "read__enter__",
]  # fmt: skip


@pytest.mark.parametrize("name", UNBOUND_MESSAGE_OPERATIONS)
def test_unbound_message_is_raised(local_impl, name):
    p = unbound(local_impl)
    with pytest.raises(RuntimeError) as info:
        UNBOUND_OPERATIONS[name](p)
    assert str(info.value) == MESSAGE


def test_unbound_acts_as_an_object_without_the_method(local_impl):
    p = unbound(local_impl)
    assert (p == None) is False  # noqa: E711 - the proxy's own comparison
    assert (None == p) is False  # noqa: E711 - the proxy's reflected comparison
    assert (p != None) is True  # noqa: E711 - the proxy's own comparison
    assert (p == p) is True  # noqa: PLR0124
    assert p not in [1, None]
    with pytest.raises(TypeError, match="^'<' not supported between instances"):
        _ = p < 1
    with pytest.raises(TypeError, match="^unhashable type: 'LocalProxy'$"):
        hash(p)
    with pytest.raises(TypeError, match="^'LocalProxy' object is not iterable$"):
        list(p)
    with pytest.raises(
        AttributeError, match="^object LocalProxy does not have __await__"
    ):
        asyncio.run(_await(p))
    with pytest.raises(
        AttributeError, match="^object LocalProxy does not have __aiter__"
    ):
        asyncio.run(_async_for(p))


def test_bound_proxy_without_async_methods_matches_werkzeug(local_impl):
    # The same slots as above, when the object lacks the method.
    _cv_val.set(3)
    for name in ("async_for", "await", "anext"):
        operation = UNBOUND_OPERATIONS[name]
        mine = _observe(operation, local_impl.LocalProxy(_cv_val), _cv_val)
        assert mine == _observe(operation, werkzeug.local.LocalProxy(_cv_val), _cv_val)
        assert mine[:2] == ("raises", AttributeError)


@pytest.mark.parametrize("name", ["request", "session", "g", "current_app"])
@pytest.mark.parametrize(
    "operation", ["eq_none", "ne_none", "hash", "list", "bool", "repr", "getattr"]
)
def test_unbound_like_flask_globals(local_impl, name, operation):
    # Flask's globals are werkzeug proxies over ContextVars, with an
    # attribute name and Flask's messages; the same proxy over a ContextVar of
    # our own, outside any context, behaves the same.
    import flask

    theirs = getattr(flask, name)
    with pytest.raises(RuntimeError) as info:
        theirs._get_current_object()
    ours = local_impl.LocalProxy(_cv_never, name, unbound_message=str(info.value))
    op = UNBOUND_OPERATIONS[operation]
    assert _observe(op, ours, _cv_never) == _observe(op, theirs, _cv_never)


def test_unbound_safe_operations(local_impl):
    LocalProxy = local_impl.LocalProxy
    p = unbound(local_impl)
    assert bool(p) is False
    assert not p
    assert repr(p) == "<LocalProxy unbound>"
    assert p.__class__ is LocalProxy
    assert type(p) is LocalProxy
    assert isinstance(p, LocalProxy)
    assert not isinstance(p, int)
    assert dir(p) == []
    assert p.__doc__ == LocalProxy.__doc__
    assert p.__wrapped__ is _cv_never


def test_default_unbound_message(local_impl):
    p = local_impl.LocalProxy(_cv_never)
    with pytest.raises(RuntimeError) as info:
        _ = p.anything
    assert str(info.value) == "object is not bound"


def test_unbound_becomes_bound(local_impl):
    var: ContextVar[t.Any] = ContextVar("erlen.tests.proxy.later")
    p = local_impl.LocalProxy(var)
    assert not p
    token = var.set(5)
    try:
        assert p == 5
        assert p + 1 == 6
    finally:
        var.reset(token)
    assert repr(p) == "<LocalProxy unbound>"


# --- what a proxy can read from -----------------------------------------------


def _make_kind(local_impl, kind, name=None):
    """Return (proxy, bind) where bind(value) makes ``value`` the object the
    proxy reads (or the object whose attribute ``name`` it reads)."""
    LocalProxy = local_impl.LocalProxy
    if kind == "contextvar":
        return LocalProxy(_cv_val, name), _cv_val.set
    if kind == "local":
        local = local_impl.Local(_cv_ns)
        if name is None:
            return LocalProxy(local, "value"), lambda v: setattr(local, "value", v)
        proxy = LocalProxy(local, f"holder.{name}")
        return proxy, lambda v: setattr(local, "holder", v)
    if kind == "stack":
        stack = local_impl.LocalStack(_cv_stack)
        return LocalProxy(stack, name), stack.push
    if kind == "callable":
        box = [None]
        return LocalProxy(lambda: box[0], name), lambda v: box.__setitem__(0, v)
    raise AssertionError(kind)


KINDS = ["contextvar", "local", "stack", "callable"]


@pytest.mark.parametrize("kind", KINDS)
def test_proxy_kinds(local_impl, kind):
    p, bind = _make_kind(local_impl, kind)
    bind(41)
    assert p + 1 == 42
    assert p.__class__ is int
    assert p._get_current_object() == 41
    target = [1]
    bind(target)
    assert p._get_current_object() is target
    p.append(2)
    assert target == [1, 2]
    assert type(p) is local_impl.LocalProxy


@pytest.mark.parametrize("kind", KINDS)
def test_proxy_kinds_with_name(local_impl, kind):
    if kind == "local":
        local = local_impl.Local(_cv_ns)
        p = local_impl.LocalProxy(local, "attr")
        local.attr = "direct"
        assert p == "direct"
        return
    p, bind = _make_kind(local_impl, kind, "attr")
    ns = Namespace()
    ns.attr = "value"
    bind(ns)
    assert p == "value"
    assert p.upper() == "VALUE"
    ns.attr = "changed"
    assert p == "changed"
    del ns.attr
    # A missing attribute of a bound object is an AttributeError, not unbound.
    with pytest.raises(AttributeError):
        p._get_current_object()


@pytest.mark.parametrize("kind", KINDS)
def test_proxy_kinds_with_dotted_name(local_impl, kind):
    # werkzeug reads ``name`` with operator.attrgetter, so a dotted name
    # follows a chain of attributes.
    if kind == "local":
        local = local_impl.Local(_cv_ns)
        p = local_impl.LocalProxy(local, "outer.inner")
        outer = Namespace()
        outer.inner = "deep"
        local.outer = outer
        assert p == "deep"
        return
    p, bind = _make_kind(local_impl, kind, "outer.inner")
    outer, ns = Namespace(), Namespace()
    outer.inner = "deep"
    ns.outer = outer
    bind(ns)
    assert p == "deep"


def test_contextvar_default_binds_proxy(local_impl):
    # werkzeug calls ContextVar.get(), which returns the variable's default.
    var: ContextVar[int] = ContextVar("erlen.tests.proxy.with_default", default=5)
    p = local_impl.LocalProxy(var)
    assert bool(p) is True
    assert p + 1 == 6
    assert p._get_current_object() == 5
    ns = Namespace()
    ns.attr = "from default"
    named_var: ContextVar[Namespace] = ContextVar(
        "erlen.tests.proxy.ns_default", default=ns
    )
    assert local_impl.LocalProxy(named_var, "attr") == "from default"


def test_local_requires_name(local_impl):
    local = local_impl.Local()
    with pytest.raises(TypeError):
        local_impl.LocalProxy(local)
    with pytest.raises(TypeError):
        local_impl.LocalProxy(local, None)


@pytest.mark.parametrize("obj", [42, "text", None, 3.5, b"bytes", [1], {"a": 1}])
def test_unknown_object_is_type_error(local_impl, obj):
    with pytest.raises(TypeError):
        local_impl.LocalProxy(obj)


def test_unbound_message_is_keyword_only(local_impl):
    with pytest.raises(TypeError):
        local_impl.LocalProxy(_cv_val, None, "positional message")


def test_local_proxy_unbound_when_attribute_missing(local_impl):
    local = local_impl.Local(_cv_ns)
    p = local_impl.LocalProxy(local, "user", unbound_message="no user")
    assert not p
    with pytest.raises(RuntimeError, match="no user"):
        _ = p.name
    local.user = "alice"
    assert p == "alice"
    del local.user
    with pytest.raises(RuntimeError, match="no user"):
        str(p)


def test_stack_proxy_unbound_when_empty_or_none_on_top(local_impl):
    stack = local_impl.LocalStack(_cv_stack)
    p = local_impl.LocalProxy(stack, unbound_message="empty stack")
    named = local_impl.LocalProxy(stack, "real", unbound_message="empty stack")
    assert not p
    with pytest.raises(RuntimeError, match="empty stack"):
        p + 1
    with pytest.raises(RuntimeError, match="empty stack"):
        named + 1
    stack.push(None)
    # None on top counts as unbound, as werkzeug's ``top is None`` check.
    with pytest.raises(RuntimeError, match="empty stack"):
        p._get_current_object()
    stack.push(0)
    assert p == 0
    assert p._get_current_object() == 0
    assert not p
    stack.push(2.5)
    assert named == 2.5
    stack.pop()
    stack.pop()
    assert repr(p) == "<LocalProxy unbound>"
    stack.pop()
    assert repr(p) == "<LocalProxy unbound>"


def test_stack_subclass_top_is_used(local_impl):
    # werkzeug's proxy reads ``stack.top``, so a subclass that overrides it
    # decides what the proxy sees.
    class DefaultStack(local_impl.LocalStack):
        @property
        def top(self):
            top = super().top
            return "default" if top is None else top

    stack = DefaultStack()
    p = stack()
    assert p == "default"
    assert p.upper() == "DEFAULT"
    stack.push("pushed")
    assert p == "pushed"
    assert local_impl.LocalProxy(stack) == "pushed"


LOOKED_UP_BY_NAME = [
    "__enter__", "__exit__", "__await__", "__aiter__", "__anext__",
    "__aenter__", "__aexit__",
]  # fmt: skip


@pytest.mark.parametrize("name", LOOKED_UP_BY_NAME)
def test_protocol_methods_are_the_targets(local_impl, name):
    # As in werkzeug: these are looked up on the target by name, so a proxy
    # has them exactly when its target does.
    p = bound(local_impl, 3)
    assert not hasattr(p, name)
    with pytest.raises(AttributeError):
        getattr(p, name)

    class Everything:
        pass

    for method in LOOKED_UP_BY_NAME:
        setattr(Everything, method, lambda self, *args, _m=method: (_m, args))
    target = Everything()
    _cv_val.set(target)
    assert hasattr(p, name)
    assert getattr(p, name)() == (name, ())
    with pytest.raises(RuntimeError, match=MESSAGE):
        getattr(unbound(local_impl), name)


def test_callable_proxy_is_called_every_time(local_impl):
    calls = []

    def get():
        calls.append(1)
        return len(calls)

    p = local_impl.LocalProxy(get)
    assert p == 1
    assert p == 2
    assert p._get_current_object() == 3


def test_callable_raising_runtime_error_is_unbound(local_impl):
    def get():
        raise RuntimeError("from the callable")

    p = local_impl.LocalProxy(get)
    assert not p
    assert repr(p) == "<LocalProxy unbound>"
    with pytest.raises(RuntimeError, match="from the callable"):
        p + 1


@pytest.mark.parametrize("value", [_MISSING, 3], ids=["unbound", "bound"])
def test_class_attributes_of_the_proxy(local_impl, value):
    # As with werkzeug's proxy, normal lookup finds these on the proxy's class.
    if value is not _MISSING:
        _cv_val.set(value)
    p = local_impl.LocalProxy(_cv_never if value is _MISSING else _cv_val)
    reference = werkzeug.local.LocalProxy(_cv_never)
    assert p.__annotations__ == reference.__annotations__
    assert p.__module__ == local_impl.__name__
    assert callable(p.__init_subclass__)


def test_class_subscript(local_impl):
    LocalProxy = local_impl.LocalProxy
    alias = LocalProxy[int]
    assert (t.get_origin(alias) or alias) is LocalProxy
    p = alias(_cv_val)
    _cv_val.set(3)
    assert p + 1 == 4
    assert type(p) is LocalProxy


def test_subclass(local_impl):
    class MyProxy(local_impl.LocalProxy):
        pass

    p = MyProxy(_cv_never)
    assert repr(p) == "<MyProxy unbound>"
    assert p.__class__ is MyProxy
    assert type(p) is MyProxy
    assert not p
    q = MyProxy(_cv_val)
    _cv_val.set([1])
    assert q == [1]
    assert q.__class__ is list
