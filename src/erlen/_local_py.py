"""Context-local objects in pure Python.

This is the twin of the compiled ``erlen._local_c`` module: the same classes,
the same behaviour, and the API of ``werkzeug.local`` 3.1. ``erlen.local``
chooses between the two; type checkers always see this one.

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

_MISSING: t.Any = object()
_EMPTY_DICT: dict[str, t.Any] = {}
# Never mutated: writes always store a new list.
_EMPTY_STACK: list[t.Any] = []


def _own_names(cls: type) -> frozenset[str]:
    """The names that normal attribute lookup finds on ``cls`` or its bases."""
    return frozenset(name for klass in cls.__mro__ for name in vars(klass))


def release_local(local: Local | LocalStack[t.Any]) -> None:
    """Clear the current context's values of a :class:`Local` or
    :class:`LocalStack`, leaving other contexts' values alone."""
    local.__release_local__()


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
        # names as fixed (the compiled class is immutable); subclass it rather
        # than patch it.
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
        stack = self._storage.get(_EMPTY_STACK)
        # NOTE: a new list, never an append, so copied contexts stay apart.
        stack = [*stack, obj]
        self._storage.set(stack)
        return stack

    def pop(self) -> T | None:
        """Remove the top item and return it, or None if the stack is empty."""
        stack = self._storage.get(_EMPTY_STACK)
        if not stack:
            return None
        self._storage.set(stack[:-1])
        return stack[-1]

    @property
    def top(self) -> T | None:
        """The top item, or None if the stack is empty."""
        stack = self._storage.get(_EMPTY_STACK)
        return stack[-1] if stack else None

    def __call__(
        self, name: str | None = None, *, unbound_message: str | None = None
    ) -> LocalProxy[t.Any]:
        """A :class:`LocalProxy` to the top item, or to its attribute ``name``."""
        return LocalProxy(self, name, unbound_message=unbound_message)


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


_DEFAULT_UNBOUND = "object is not bound"

# The getter closures below are specialised per kind of local, so that a
# lookup is one call with no branching on the kind.


def _make_getter(local: t.Any, name: str | None, unbound: str) -> t.Callable[[], t.Any]:
    # As werkzeug: ``name`` is read with attrgetter, so "a.b" reads obj.a.b.
    get_name = None if name is None else operator.attrgetter(name)

    if isinstance(local, ContextVar):
        var_get = local.get

        def get_object() -> t.Any:
            # NOTE: var_get() honours the ContextVar's own default.
            try:
                obj = var_get()
            except LookupError:
                raise RuntimeError(unbound) from None
            return obj if get_name is None else get_name(obj)

        return get_object

    if isinstance(local, Local):
        if get_name is None:
            raise TypeError("'name' is required when proxying a 'Local' object.")
        get_local = get_name

        def get_object() -> t.Any:
            try:
                return get_local(local)
            except AttributeError:
                raise RuntimeError(unbound) from None

        return get_object

    if isinstance(local, LocalStack):
        if type(local) is LocalStack:
            # NOTE: _storage is read each time, so reassigning it redirects
            # existing proxies, as with werkzeug's ``stack.top``.
            def get_object() -> t.Any:
                stack = local._storage.get(_EMPTY_STACK)
                if not stack or stack[-1] is None:
                    raise RuntimeError(unbound)
                obj = stack[-1]
                return obj if get_name is None else get_name(obj)

        else:
            # A subclass may override ``top``.
            def get_object() -> t.Any:
                obj = local.top
                if obj is None:
                    raise RuntimeError(unbound)
                return obj if get_name is None else get_name(obj)

        return get_object

    if callable(local):
        if get_name is None:

            def get_object() -> t.Any:
                return local()

        else:

            def get_object() -> t.Any:
                return get_name(local())

        return get_object

    raise TypeError(f"Don't know how to proxy '{type(local)}'.")


def _forward(func: t.Callable[..., t.Any], fallback: t.Callable[..., t.Any] | None = None) -> t.Any:
    """A special method that applies ``func`` to the proxied object."""
    if fallback is None:

        def method(self: t.Any, *args: t.Any) -> t.Any:
            return func(_getter_of(self)(), *args)

    else:

        def method(self: t.Any, *args: t.Any) -> t.Any:
            try:
                obj = _getter_of(self)()
            except RuntimeError:
                return fallback(self)
            return func(obj, *args)

    return method


def _method(attr: str) -> t.Any:
    """A special method that calls the target's own method of that name."""

    def method(self: t.Any, *args: t.Any) -> t.Any:
        return getattr(_getter_of(self)(), attr)(*args)

    return method


def _reflected(func: t.Callable[[t.Any, t.Any], t.Any]) -> t.Any:
    def method(self: t.Any, other: t.Any) -> t.Any:
        return func(other, _getter_of(self)())

    return method


def _inplace(func: t.Callable[[t.Any, t.Any], t.Any]) -> t.Any:
    # As in werkzeug: the operation is applied to the target, and the
    # statement ``proxy += x`` keeps the name bound to the proxy.
    def method(self: t.Any, other: t.Any) -> t.Any:
        func(_getter_of(self)(), other)
        return self

    return method


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
    ``type(proxy)``; ``bool()`` and ``repr()`` of an unbound proxy give False
    and ``<LocalProxy unbound>``.
    """

    __slots__ = ("_LocalProxy__wrapped", "_get_current_object")

    _get_current_object: t.Callable[[], T]

    def __init__(
        self,
        local: t.Any,
        name: str | None = None,
        *,
        unbound_message: str | None = None,
    ) -> None:
        getter = _make_getter(
            local, name, _DEFAULT_UNBOUND if unbound_message is None else unbound_message
        )
        object.__setattr__(self, "_LocalProxy__wrapped", local)
        object.__setattr__(self, "_get_current_object", getter)

    def __class_getitem__(cls, item: t.Any) -> t.Any:
        return cls


    def __repr__(self) -> str:
        try:
            obj = _getter_of(self)()
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"
        return repr(obj)

    def __bool__(self) -> bool:
        try:
            obj = _getter_of(self)()
        except RuntimeError:
            return False
        return bool(obj)

    # PERF: a plain name on an exact LocalProxy goes straight to the target,
    # without first failing a normal lookup on the proxy (which costs an
    # AttributeError each time); everything else is _own_attribute's.
    def __getattribute__(self, name: str) -> t.Any:
        if name[:1] != "_" and type(self) is LocalProxy:
            return getattr(_getter_of(self)(), name)
        return _own_attribute(self, name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        setattr(_getter_of(self)(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(_getter_of(self)(), name)

    __dir__ = _forward(dir, lambda self: [])
    __str__ = _forward(str)
    __bytes__ = _forward(bytes)
    __format__ = _forward(format)
    __hash__ = _forward(hash)  # type: ignore[assignment]
    __lt__ = _forward(operator.lt)
    __le__ = _forward(operator.le)
    __eq__ = _forward(operator.eq)  # type: ignore[assignment]
    __ne__ = _forward(operator.ne)  # type: ignore[assignment]
    __gt__ = _forward(operator.gt)
    __ge__ = _forward(operator.ge)

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
    __iter__ = _forward(iter)
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
    # attributes they are the target's own (see _own_attribute).
    __enter__ = _method("__enter__")
    __exit__ = _method("__exit__")
    __await__ = _method("__await__")
    __aiter__ = _method("__aiter__")
    __anext__ = _method("__anext__")
    __aenter__ = _method("__aenter__")
    __aexit__ = _method("__aexit__")

    __copy__ = _forward(copy.copy)
    __deepcopy__ = _forward(copy.deepcopy)


# PERF: the proxy's own slots, read without going through its Python-level
# __getattribute__ (the special methods above use these too).
_getter_of = LocalProxy._get_current_object.__get__  # type: ignore[attr-defined]
_wrapped_of = LocalProxy._LocalProxy__wrapped.__get__  # type: ignore[attr-defined]
_CLASS_DOC = LocalProxy.__doc__

# Names a proxy answers itself, by how; shared with the compiled core.
_TARGET_ONLY = frozenset(
    ("__enter__", "__exit__", "__await__", "__aiter__", "__anext__", "__aenter__", "__aexit__")
)


def _own_attribute(proxy: LocalProxy[t.Any], name: str) -> t.Any:
    """Attribute lookup off the hot path: the proxy's own attributes,
    subclasses' attributes, and underscore names."""
    if name == "_get_current_object":
        return _getter_of(proxy)
    if name == "_LocalProxy__wrapped":
        return _wrapped_of(proxy)
    if name in _TARGET_ONLY:
        # As in werkzeug: read as attributes these are the target's, so a
        # proxy has them exactly when its target does.
        return getattr(_getter_of(proxy)(), name)
    if name in ("__class__", "__doc__", "__wrapped__"):
        try:
            obj = _getter_of(proxy)()
        except RuntimeError:
            if name == "__class__":
                return type(proxy)
            if name == "__doc__":
                return type(proxy).__doc__
            return _wrapped_of(proxy)
        return getattr(obj, name)
    cls = type(proxy)
    if cls is not LocalProxy or any(name in klass.__dict__ for klass in cls.__mro__):
        # The proxy class's (or a subclass's) own attribute, as with normal
        # lookup; a subclass instance may also have it in its __dict__.
        try:
            return object.__getattribute__(proxy, name)
        except AttributeError:
            pass
    return getattr(_getter_of(proxy)(), name)
