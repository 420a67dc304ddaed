"""Context-local objects in pure Python.

The twin of the compiled ``erlen._local_c``: the same classes with the same
behaviour and werkzeug.local 3.1's API. ``erlen.local`` chooses between the
two; type checkers always see this one. The two files have the same sections
in the same order, with the same names: a change to one is made to the other.

Every value lives in a :class:`contextvars.ContextVar`, so isolation between
threads, asyncio tasks and greenlets is exactly that of ``contextvars``. The
values stored in a ContextVar (a dict for :class:`Local`, a list for
:class:`LocalStack`) are never mutated in place: each write stores a new
object. That is what keeps a child task from seeing its parent's later pushes,
since a copied context shares the objects but not the variable bindings.
"""

from __future__ import annotations

import copy
import math
import operator
import typing as t
from contextvars import ContextVar
from functools import update_wrapper

__all__ = ["Local", "LocalStack", "LocalProxy", "LocalManager", "release_local"]

T = t.TypeVar("T")

# Shared read-only defaults. NOTE: they are never mutated: writes always build
# a new dict or list, which is also what keeps copied contexts apart.
_MISSING: t.Any = object()
_EMPTY_DICT: dict[str, t.Any] = {}
_EMPTY_LIST: list[t.Any] = []
_DEFAULT_UNBOUND = "object is not bound"


def _own_names(cls: type) -> frozenset[str]:
    """The names that normal attribute lookup finds on ``cls`` or its bases."""
    return frozenset(name for klass in cls.__mro__ for name in vars(klass))


def release_local(local: Local | LocalStack[t.Any]) -> None:
    """Clear the current context's values of a :class:`Local` or
    :class:`LocalStack`, leaving other contexts' values alone."""
    local.__release_local__()


# --- Local --------------------------------------------------------------------


class Local:
    """A namespace whose attributes belong to the current context.

    :param context_var: The ContextVar that holds the namespace dict. A new
        one is made when not given.
    """

    __slots__ = ("__storage",)  # mangled to _Local__storage, as in werkzeug

    def __init__(self, context_var: ContextVar[dict[str, t.Any]] | None = None) -> None:
        if context_var is None:
            # NOTE: a ContextVar is never garbage collected, so the name only
            # helps debugging; it does not make each Local leak more.
            context_var = ContextVar(f"erlen.Local<{id(self)}>.storage")
        object.__setattr__(self, "_Local__storage", context_var)

    def __iter__(self) -> t.Iterator[tuple[str, t.Any]]:
        return iter(_local_storage(self).get(_EMPTY_DICT).items())

    def __call__(
        self, name: str, *, unbound_message: str | None = None
    ) -> LocalProxy[t.Any]:
        """A :class:`LocalProxy` to the attribute ``name`` of this namespace."""
        return LocalProxy(self, name, unbound_message=unbound_message)

    def __release_local__(self) -> None:
        _local_storage(self).set({})

    def __getattribute__(self, name: str) -> t.Any:
        # As werkzeug: normal lookup comes first (the class's attributes, a
        # subclass's methods and properties, an instance __dict__), and the
        # stored values are the fallback.
        # PERF: on a plain Local a name that the class does not define can
        # only be a stored value, so it skips the normal lookup and the
        # AttributeError that lookup would raise. NOTE: this takes Local's own
        # names as fixed, as they are in the compiled core's immutable class:
        # subclass Local rather than patch it.
        if type(self) is not Local or name in _LOCAL_OWN:
            try:
                return object.__getattribute__(self, name)
            except AttributeError:
                pass
        value = _local_storage(self).get(_EMPTY_DICT).get(name, _MISSING)
        if value is _MISSING:
            raise AttributeError(name)
        return value

    def __setattr__(self, name: str, value: t.Any) -> None:
        values = _local_storage(self).get(_EMPTY_DICT).copy()
        values[name] = value
        _local_storage(self).set(values)

    def __delattr__(self, name: str) -> None:
        values = _local_storage(self).get(_EMPTY_DICT)
        if name not in values:
            raise AttributeError(name)
        values = values.copy()
        del values[name]
        _local_storage(self).set(values)


# PERF: the storage slot read without going through Local.__getattribute__.
_local_storage = Local._Local__storage.__get__  # type: ignore[attr-defined]
_LOCAL_OWN = _own_names(Local)


# --- LocalStack ---------------------------------------------------------------


class LocalStack(t.Generic[T]):
    """A stack whose contents belong to the current context.

    :param context_var: The ContextVar that holds the stack as a list. A new
        one is made when not given.
    """

    __slots__ = ("_storage",)

    def __init__(self, context_var: ContextVar[list[T]] | None = None) -> None:
        if context_var is None:
            context_var = ContextVar(f"erlen.LocalStack<{id(self)}>.storage")
        self._storage = context_var

    def __release_local__(self) -> None:
        self._storage.set([])

    def push(self, obj: T) -> list[T]:
        """Push ``obj`` onto the stack and return the new stack."""
        # NOTE: a new list, never an append, so copied contexts stay apart.
        stack = [*self._storage.get(_EMPTY_LIST), obj]
        self._storage.set(stack)
        return stack

    def pop(self) -> T | None:
        """Remove the top item and return it, or None if the stack is empty."""
        stack = self._storage.get(_EMPTY_LIST)
        if not stack:
            return None
        self._storage.set(stack[:-1])
        return stack[-1]  # type: ignore[no-any-return]

    @property
    def top(self) -> T | None:
        """The top item, or None if the stack is empty."""
        stack = self._storage.get(_EMPTY_LIST)
        return stack[-1] if stack else None

    def __call__(
        self, name: str | None = None, *, unbound_message: str | None = None
    ) -> LocalProxy[t.Any]:
        """A :class:`LocalProxy` to the top item, or to its attribute ``name``."""
        return LocalProxy(self, name, unbound_message=unbound_message)


# --- LocalManager -------------------------------------------------------------


class LocalManager:
    """Releases the current context's values of several locals at once.

    :param locals: A :class:`Local` or :class:`LocalStack`, or an iterable of
        them.
    """

    __slots__ = ("locals",)

    def __init__(self, locals: t.Any = None) -> None:
        if locals is None:
            self.locals: list[t.Any] = []
        elif isinstance(locals, (Local, LocalStack)):
            self.locals = [locals]
        else:
            self.locals = list(locals)

    def cleanup(self) -> None:
        """Release every managed local for the current context."""
        for local in self.locals:
            release_local(local)

    def make_middleware(self, app: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Wrap a WSGI app so the locals are released once its response is done."""
        from werkzeug.wsgi import ClosingIterator

        def application(environ: t.Any, start_response: t.Any) -> t.Any:
            return ClosingIterator(app(environ, start_response), self.cleanup)

        return application

    def middleware(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Decorator form of :meth:`make_middleware`."""
        return update_wrapper(self.make_middleware(func), func)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} storages: {len(self.locals)}>"


# --- How a proxy reads its object ---------------------------------------------
# One getter per kind of local, chosen once when the proxy is made, so that a
# read is one call with no branching on the kind. A getter returns the object
# (or its attribute ``name``), or raises RuntimeError with the unbound message.
# Here a getter is a closure; the compiled core uses C functions of the same
# names.


def _make_getter(local: t.Any, name: str | None, unbound: str) -> t.Callable[[], t.Any]:
    # As werkzeug: ``name`` is read with attrgetter semantics, so "a.b" reads
    # obj.a.b.
    apply_name = None if name is None else operator.attrgetter(name)

    if isinstance(local, ContextVar):
        var_get = local.get  # PERF: the bound method, looked up once

        def get_from_var() -> t.Any:
            # NOTE: get() with no default honours the ContextVar's own
            # default, as werkzeug's ``var.get()`` does.
            try:
                obj = var_get()
            except LookupError:
                raise RuntimeError(unbound) from None
            return obj if apply_name is None else apply_name(obj)

        return get_from_var

    if isinstance(local, Local):
        if apply_name is None:
            raise TypeError("'name' is required when proxying a 'Local' object.")
        get_attr = apply_name

        def get_from_local() -> t.Any:
            try:
                return get_attr(local)
            except AttributeError:
                raise RuntimeError(unbound) from None

        return get_from_local

    if isinstance(local, LocalStack):
        if type(local) is not LocalStack:
            # A subclass may override ``top``.
            def get_from_stack_subclass() -> t.Any:
                obj = local.top
                if obj is None:
                    raise RuntimeError(unbound)
                return obj if apply_name is None else apply_name(obj)

            return get_from_stack_subclass

        def get_from_stack() -> t.Any:
            # NOTE: the stack's _storage is read each time, so reassigning it
            # redirects existing proxies, as with werkzeug's ``stack.top``.
            stack = local._storage.get(_EMPTY_LIST)
            if not stack or stack[-1] is None:
                raise RuntimeError(unbound)
            obj = stack[-1]
            return obj if apply_name is None else apply_name(obj)

        return get_from_stack

    if callable(local):

        def get_from_callable() -> t.Any:
            obj = local()
            return obj if apply_name is None else apply_name(obj)

        return get_from_callable

    raise TypeError(f"Don't know how to proxy '{type(local)}'.")


# --- What an unbound proxy does -----------------------------------------------
# werkzeug's special methods are descriptors that read the object when Python
# looks them up, so there an unbound proxy fails inside CPython's lookup of
# the special method, not inside the method. Most of CPython's slots pass that
# error on, but some take a failed lookup as "no such method", and werkzeug's
# proxy then behaves as an object without it. The methods below do the same
# on purpose, for any Exception from the getter (not only RuntimeError):
#   == != < <= > >=       NotImplemented: identity, or TypeError for ordering
#   hash()                TypeError: unhashable type
#   iter()                TypeError: object is not iterable
#   await, async for, anext(): AttributeError: object does not have the method
#   repr()                "<X unbound>", or for other errors object's default
# NOTE: unlike CPython, they let KeyboardInterrupt and SystemExit through.


def _not_implemented(proxy: t.Any, other: t.Any) -> t.Any:
    return NotImplemented


def _unhashable(proxy: t.Any) -> t.NoReturn:
    raise TypeError(f"unhashable type: '{type(proxy).__name__}'")


def _not_iterable(proxy: t.Any) -> t.NoReturn:
    raise TypeError(f"'{type(proxy).__name__}' object is not iterable")


def _no_async_method(proxy: t.Any, name: str) -> AttributeError:
    return AttributeError(f"object {type(proxy).__name__} does not have {name} method")


def _default_repr(proxy: t.Any) -> str:
    return f"<{type(proxy).__name__} object at {id(proxy):#x}>"


# Here the special methods are made by these factories; the compiled core
# writes each one out, as a Cython extension type needs them in its body.


def _forward(func: t.Callable[..., t.Any]) -> t.Any:
    """A special method that applies ``func`` to the object."""

    def method(self: t.Any, *args: t.Any) -> t.Any:
        return func(_getter_of(self)(), *args)

    return method


def _forward_or(
    func: t.Callable[..., t.Any],
    fallback: t.Callable[..., t.Any],
    errors: type[BaseException] = Exception,
) -> t.Any:
    """A special method that applies ``func`` to the object, or returns
    ``fallback(self, *args)`` when reading the object raises ``errors``."""

    def method(self: t.Any, *args: t.Any) -> t.Any:
        try:
            obj = _getter_of(self)()
        except errors:
            return fallback(self, *args)
        return func(obj, *args)

    return method


def _reflected(func: t.Callable[[t.Any, t.Any], t.Any]) -> t.Any:
    def method(self: t.Any, other: t.Any) -> t.Any:
        return func(other, _getter_of(self)())

    return method


def _inplace(func: t.Callable[[t.Any, t.Any], t.Any]) -> t.Any:
    # As in werkzeug: the operation is applied to the object, and the
    # statement ``proxy += x`` keeps the name bound to the proxy.
    def method(self: t.Any, other: t.Any) -> t.Any:
        func(_getter_of(self)(), other)
        return self

    return method


def _method(name: str) -> t.Any:
    """A special method that calls the object's own method ``name``."""

    def method(self: t.Any, *args: t.Any) -> t.Any:
        return getattr(_getter_of(self)(), name)(*args)

    return method


def _async_method(name: str) -> t.Any:
    """Like :func:`_method`, failing as an object without the method does."""

    def method(self: t.Any) -> t.Any:
        try:
            bound = getattr(_getter_of(self)(), name)
        except Exception:  # noqa: BLE001 - as CPython's slot, see above
            raise _no_async_method(self, name) from None
        return bound()

    return method


# --- LocalProxy ---------------------------------------------------------------


class LocalProxy(t.Generic[T]):
    """A stand-in for an object that is looked up anew on every use.

    :param local: A :class:`~contextvars.ContextVar`, a :class:`Local`, a
        :class:`LocalStack` (its top item), or any callable returning the
        object.
    :param name: The attribute of that object to proxy instead, required for a
        :class:`Local`.
    :param unbound_message: The message of the :exc:`RuntimeError` raised when
        the object is not bound.

    Every operation on the proxy is forwarded to the current object, except
    ``type(proxy)``. Unbound, the proxy behaves as werkzeug's does: ``bool()``
    is False, ``repr()`` is ``<LocalProxy unbound>``, ``dir()`` is empty,
    ``==`` compares identity, ``hash()`` and ``iter()`` raise TypeError, and
    everything else raises RuntimeError with the unbound message.
    """

    __slots__ = ("__wrapped", "_get_current_object")  # as in werkzeug

    _get_current_object: t.Callable[[], T]

    def __init__(
        self,
        local: t.Any,
        name: str | None = None,
        *,
        unbound_message: str | None = None,
    ) -> None:
        getter = _make_getter(
            local,
            name,
            _DEFAULT_UNBOUND if unbound_message is None else unbound_message,
        )
        object.__setattr__(self, "_LocalProxy__wrapped", local)
        object.__setattr__(self, "_get_current_object", getter)

    def __class_getitem__(cls, item: t.Any) -> t.Any:
        return cls

    # PERF: the hot path. A plain name on an exact LocalProxy goes straight to
    # the object, with no failed lookup on the proxy first (which costs an
    # AttributeError each time); everything else is _own_attribute's.
    def __getattribute__(self, name: str) -> t.Any:
        if name[:1] != "_" and type(self) is LocalProxy:
            return getattr(_getter_of(self)(), name)
        return _own_attribute(self, name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        setattr(_getter_of(self)(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(_getter_of(self)(), name)

    def __repr__(self) -> str:
        try:
            obj = _getter_of(self)()
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"
        except Exception:  # noqa: BLE001 - as CPython's slot, see above
            return _default_repr(self)
        return repr(obj)

    __bool__ = _forward_or(bool, lambda self: False, RuntimeError)
    __dir__ = _forward_or(dir, lambda self: [], RuntimeError)
    __str__ = _forward(str)
    __bytes__ = _forward(bytes)
    __format__ = _forward(format)
    __hash__ = _forward_or(hash, _unhashable)
    __lt__ = _forward_or(operator.lt, _not_implemented)
    __le__ = _forward_or(operator.le, _not_implemented)
    __eq__ = _forward_or(operator.eq, _not_implemented)
    __ne__ = _forward_or(operator.ne, _not_implemented)
    __gt__ = _forward_or(operator.gt, _not_implemented)
    __ge__ = _forward_or(operator.ge, _not_implemented)

    def __instancecheck__(self, other: t.Any) -> bool:
        return isinstance(other, _getter_of(self)())

    def __subclasscheck__(self, other: t.Any) -> bool:
        return issubclass(other, _getter_of(self)())

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return _getter_of(self)()(*args, **kwargs)

    __len__ = _forward(len)
    __length_hint__ = _forward(operator.length_hint)
    __getitem__ = _forward(operator.getitem)
    __setitem__ = _forward(operator.setitem)
    __delitem__ = _forward(operator.delitem)
    __iter__ = _forward_or(iter, _not_iterable)
    __next__ = _forward(next)
    __reversed__ = _forward(reversed)
    __contains__ = _forward(operator.contains)

    __add__ = _forward(operator.add)
    __sub__ = _forward(operator.sub)
    __mul__ = _forward(operator.mul)
    __matmul__ = _forward(operator.matmul)
    __truediv__ = _forward(operator.truediv)
    __floordiv__ = _forward(operator.floordiv)
    __mod__ = _forward(operator.mod)
    __divmod__ = _forward(divmod)
    __pow__ = _forward(pow)
    __lshift__ = _forward(operator.lshift)
    __rshift__ = _forward(operator.rshift)
    __and__ = _forward(operator.and_)
    __xor__ = _forward(operator.xor)
    __or__ = _forward(operator.or_)

    __radd__ = _reflected(operator.add)
    __rsub__ = _reflected(operator.sub)
    __rmul__ = _reflected(operator.mul)
    __rmatmul__ = _reflected(operator.matmul)
    __rtruediv__ = _reflected(operator.truediv)
    __rfloordiv__ = _reflected(operator.floordiv)
    __rmod__ = _reflected(operator.mod)
    __rdivmod__ = _reflected(divmod)
    __rpow__ = _reflected(pow)
    __rlshift__ = _reflected(operator.lshift)
    __rrshift__ = _reflected(operator.rshift)
    __rand__ = _reflected(operator.and_)
    __rxor__ = _reflected(operator.xor)
    __ror__ = _reflected(operator.or_)

    __iadd__ = _inplace(operator.iadd)
    __isub__ = _inplace(operator.isub)
    __imul__ = _inplace(operator.imul)
    __imatmul__ = _inplace(operator.imatmul)
    __itruediv__ = _inplace(operator.itruediv)
    __ifloordiv__ = _inplace(operator.ifloordiv)
    __imod__ = _inplace(operator.imod)
    __ipow__ = _inplace(operator.ipow)
    __ilshift__ = _inplace(operator.ilshift)
    __irshift__ = _inplace(operator.irshift)
    __iand__ = _inplace(operator.iand)
    __ixor__ = _inplace(operator.ixor)
    __ior__ = _inplace(operator.ior)

    __neg__ = _forward(operator.neg)
    __pos__ = _forward(operator.pos)
    __abs__ = _forward(abs)
    __invert__ = _forward(operator.invert)
    __complex__ = _forward(complex)
    __int__ = _forward(int)
    __float__ = _forward(float)
    __index__ = _forward(operator.index)
    __round__ = _forward(round)
    __trunc__ = _forward(math.trunc)
    __floor__ = _forward(math.floor)
    __ceil__ = _forward(math.ceil)

    # Implicit use (``with``, ``await``...) finds these on the type; read as
    # attributes they are the object's own (see _own_attribute).
    __enter__ = _method("__enter__")
    __exit__ = _method("__exit__")
    __await__ = _async_method("__await__")
    __aiter__ = _async_method("__aiter__")
    __anext__ = _async_method("__anext__")
    __aenter__ = _method("__aenter__")
    __aexit__ = _method("__aexit__")

    __copy__ = _forward(copy.copy)
    __deepcopy__ = _forward(copy.deepcopy)

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> t.NoReturn:
        # As werkzeug's, a proxy cannot be pickled (it holds a ContextVar or
        # a function); this says so the same way on both cores.
        raise TypeError(f"cannot pickle '{type(self).__name__}' object")


# PERF: the proxy's own slots, read without going through its Python-level
# __getattribute__ (the special methods above use these too).
_getter_of = LocalProxy._get_current_object.__get__  # type: ignore[misc]
_wrapped_of = LocalProxy._LocalProxy__wrapped.__get__  # type: ignore[attr-defined]
_PROXY_OWN = _own_names(LocalProxy)


# --- Attribute lookup off the hot path ----------------------------------------
# How the proxy answers a name that is its own rather than the object's.
_OWN_METHOD = 0  # the proxy's own attribute
_OWN_LOCAL = 1  # the proxied local itself
_CLASS_ATTR = 2  # an attribute of the proxy's class
_OR_FALLBACK = 3  # the object's; unbound: the proxy's class, its doc, its local
_OBJECT_ONLY = 4  # the object's own attribute, which it may lack
_NEEDS_OBJECT = 5  # the proxy's special method, once the object can be read
_MAY_BE_UNBOUND = 6  # the proxy's special method, which works unbound too

_SPECIAL: dict[str, int] = {
    "_get_current_object": _OWN_METHOD,
    "_LocalProxy__wrapped": _OWN_LOCAL,
    "__module__": _CLASS_ATTR,
    "__annotations__": _CLASS_ATTR,
    "__class__": _OR_FALLBACK,
    "__doc__": _OR_FALLBACK,
    "__wrapped__": _OR_FALLBACK,
    # As werkzeug: read as attributes these are the object's own, so a proxy
    # has them exactly when its object does.
    "__format__": _OBJECT_ONLY,
    "__enter__": _OBJECT_ONLY,
    "__exit__": _OBJECT_ONLY,
    "__await__": _OBJECT_ONLY,
    "__aiter__": _OBJECT_ONLY,
    "__anext__": _OBJECT_ONLY,
    "__aenter__": _OBJECT_ONLY,
    "__aexit__": _OBJECT_ONLY,
    # As werkzeug: reading any other special method of the proxy reads the
    # object first, so on an unbound proxy it raises; only these three have
    # a fallback.
    "__repr__": _MAY_BE_UNBOUND,
    "__bool__": _MAY_BE_UNBOUND,
    "__dir__": _MAY_BE_UNBOUND,
}
# The special methods of the class body that are not forwarded to the object.
_NOT_FORWARDED = (
    "__new__",
    "__init__",
    "__class_getitem__",
    "__getattribute__",
    "__reduce_ex__",
)
for _name, _value in vars(LocalProxy).items():
    if _name[:2] == "__" and _name not in _NOT_FORWARDED and callable(_value):
        _SPECIAL.setdefault(_name, _NEEDS_OBJECT)
del _name, _value


def _defined_by_subclass(proxy: LocalProxy[t.Any], name: str) -> bool:
    """Whether a subclass of LocalProxy, or the instance's __dict__, has
    ``name``: normal lookup finds it before anything of LocalProxy's."""
    for klass in type(proxy).__mro__:
        if klass is LocalProxy:
            break
        if name in vars(klass):
            return True
    try:
        return name in object.__getattribute__(proxy, "__dict__")
    except AttributeError:
        return False


def _own_attribute(proxy: LocalProxy[t.Any], name: str) -> t.Any:
    """Attribute lookup for everything but the hot path: the proxy's own
    attributes, a subclass's attributes, and underscore names."""
    if type(proxy) is not LocalProxy and _defined_by_subclass(proxy, name):
        return object.__getattribute__(proxy, name)
    how = _SPECIAL.get(name)
    if how is None:
        if name in _PROXY_OWN:
            return object.__getattribute__(proxy, name)
        return getattr(_getter_of(proxy)(), name)
    if how == _OWN_METHOD:
        return object.__getattribute__(proxy, name)
    if how == _OWN_LOCAL:
        return _wrapped_of(proxy)
    if how == _CLASS_ATTR:
        return getattr(type(proxy), name)
    if how == _OBJECT_ONLY:
        return getattr(_getter_of(proxy)(), name)
    if how == _NEEDS_OBJECT:
        _getter_of(proxy)()
        return object.__getattribute__(proxy, name)
    try:
        obj = _getter_of(proxy)()
    except RuntimeError:
        if how == _MAY_BE_UNBOUND:
            return object.__getattribute__(proxy, name)
        if name == "__class__":
            return type(proxy)
        if name == "__doc__":
            return type(proxy).__doc__
        return _wrapped_of(proxy)
    if how == _MAY_BE_UNBOUND:
        return object.__getattribute__(proxy, name)
    return getattr(obj, name)
