# cython: language_level=3, auto_pickle=False
# cython: freethreading_compatible = True
"""Context-local objects, compiled.

The twin of ``erlen._local_py``: the same classes with the same behaviour and
werkzeug.local 3.1's API. ``erlen.local`` picks this module when it is built.
The two files have the same sections in the same order, with the same names:
a change to one is made to the other.

Every value lives in a ContextVar, so isolation between threads, asyncio
tasks and greenlets is exactly that of ``contextvars``. The values stored in a
ContextVar (a dict for Local, a list for LocalStack) are never mutated in
place: each write stores a new object.
"""

# NOTE: free-threading. The module declares that it needs no GIL because it
# shares nothing mutable between threads:
# - module-level names are constants: frozensets, strings, and dicts and
#   lists that nothing ever writes to (the shared defaults below, _SPECIAL);
#   there are no caches;
# - the dicts and lists stored in ContextVars are never mutated once stored,
#   and they are read only through Cython's checked indexing and dict.get,
#   never through borrowed references (PyList_GET_ITEM, PyDict_GetItem);
# - an object's C fields are written only by __init__, before the object is
#   shared, except LocalStack._storage, which code may reassign: it is read
#   and written under the stack's critical section (a no-op with the GIL);
# - there is no read-modify-write of shared state: a write to a Local or a
#   LocalStack reads and sets a ContextVar in the calling thread's own
#   context, which no other thread can have entered at the same time.
# Calling __init__ again on an object that other threads are using is not
# supported. The module reads no interpreter internals: only public C API.

cimport cython

import copy as _copy
import math as _math
import operator as _operator
from contextvars import ContextVar

from cpython.object cimport (
    PyObject, PyObject_GenericGetAttr, PyObject_GetItem, PyObject_SetItem,
    PyObject_DelItem, PyTypeObject, Py_TYPE,
)
from cpython.ref cimport Py_INCREF, Py_XDECREF
from cpython.contextvars cimport PyContextVar_Get, PyContextVar_Set, PyContextVar_CheckExact
from cpython.list cimport PyList_New, PyList_GetSlice, PyList_SetItem

cdef extern from "Python.h":
    Py_ssize_t PyUnicode_GET_LENGTH(object u)
    Py_UCS4 PyUnicode_READ_CHAR(object u, Py_ssize_t index)
    bint PyUnicode_CheckExact(object o)

__all__ = ["Local", "LocalStack", "LocalProxy", "LocalManager", "release_local"]

# Shared read-only defaults. NOTE: they are never mutated: writes always build
# a new dict or list, which is also what keeps copied contexts apart.
cdef object _MISSING = object()
cdef dict _EMPTY_DICT = {}
cdef list _EMPTY_LIST = []
cdef str _DEFAULT_UNBOUND = "object is not bound"
# NOTE: Cython's own next() words its TypeError differently from CPython's.
from builtins import next as _next


cdef inline object _var_get(object var, object default):
    """``var.get(default)`` without the method call."""
    cdef PyObject* value = NULL
    PyContextVar_Get(var, <PyObject*>default, &value)
    result = <object>value
    Py_XDECREF(value)
    return result


def _own_names(cls):
    """The names that normal attribute lookup finds on ``cls`` or its bases."""
    return frozenset(name for klass in cls.__mro__ for name in vars(klass))


def release_local(local):
    """Clear the current context's values of a :class:`Local` or
    :class:`LocalStack`, leaving other contexts' values alone."""
    local.__release_local__()


# --- Local --------------------------------------------------------------------


cdef class Local:
    """A namespace whose attributes belong to the current context.

    :param context_var: The ContextVar that holds the namespace dict. A new
        one is made when not given.
    """

    cdef object _storage

    def __init__(self, context_var=None):
        if context_var is None:
            # NOTE: a ContextVar is never garbage collected, so the name only
            # helps debugging; it does not make each Local leak more.
            context_var = ContextVar(f"erlen.Local<{id(self)}>.storage")
        self._storage = context_var

    @property
    def _Local__storage(self):
        """The ContextVar, under the name of the twin's slot."""
        return self._storage

    def __iter__(self):
        return iter((<dict?>_var_get(self._storage, _EMPTY_DICT)).items())

    def __call__(self, name, *, unbound_message=None):
        """A :class:`LocalProxy` to the attribute ``name`` of this namespace."""
        return LocalProxy(self, name, unbound_message=unbound_message)

    def __release_local__(self):
        PyContextVar_Set(self._storage, {})

    def __getattribute__(self, name):
        # As werkzeug: normal lookup comes first (the class's attributes, a
        # subclass's methods and properties, an instance __dict__), and the
        # stored values are the fallback.
        # PERF: on a plain Local a name that the class does not define can
        # only be a stored value, so it skips the normal lookup and the
        # AttributeError that lookup would raise. NOTE: this takes Local's own
        # names as fixed, as they are in the compiled core's immutable class:
        # subclass Local rather than patch it.
        if Py_TYPE(self) is not <PyTypeObject*>Local or name in _LOCAL_OWN:
            try:
                return PyObject_GenericGetAttr(self, name)
            except AttributeError:
                pass
        value = (<dict?>_var_get(self._storage, _EMPTY_DICT)).get(name, _MISSING)
        if value is _MISSING:
            raise AttributeError(name)
        return value

    def __setattr__(self, name, value):
        values = (<dict?>_var_get(self._storage, _EMPTY_DICT)).copy()
        values[name] = value
        PyContextVar_Set(self._storage, values)

    def __delattr__(self, name):
        values = <dict?>_var_get(self._storage, _EMPTY_DICT)
        if name not in values:
            raise AttributeError(name)
        values = values.copy()
        del values[name]
        PyContextVar_Set(self._storage, values)


cdef frozenset _LOCAL_OWN = _own_names(Local)


# --- LocalStack ---------------------------------------------------------------


cdef class LocalStack:
    """A stack whose contents belong to the current context.

    :param context_var: The ContextVar that holds the stack as a list. A new
        one is made when not given.
    """

    cdef object _var

    def __init__(self, context_var=None):
        if context_var is None:
            context_var = ContextVar(f"erlen.LocalStack<{id(self)}>.storage")
        self._storage = context_var

    # NOTE: werkzeug's (and the twin's) ``_storage`` can be reassigned, so
    # here it is read and written under the stack's critical section, which
    # keeps a free-threaded reader from taking a ContextVar that a writer is
    # releasing. With the GIL the section compiles to nothing.
    @property
    def _storage(self):
        return _stack_var(self)

    @_storage.setter
    def _storage(self, value):
        with cython.critical_section(self):
            self._var = value

    @classmethod
    def __class_getitem__(cls, item):
        return cls

    def __release_local__(self):
        PyContextVar_Set(_stack_var(self), [])

    def push(self, obj):
        """Push ``obj`` onto the stack and return the new stack."""
        cdef Py_ssize_t i, n
        var = _stack_var(self)
        stack = _var_get(var, _EMPTY_LIST)
        n = len(stack)
        # NOTE: a new list, never an append, so copied contexts stay apart.
        # PERF: built at its final size in one allocation.
        new = PyList_New(n + 1)
        for i in range(n):
            item = stack[i]
            Py_INCREF(item)
            PyList_SetItem(new, i, item)
        Py_INCREF(obj)
        PyList_SetItem(new, n, obj)
        PyContextVar_Set(var, new)
        return new

    def pop(self):
        """Remove the top item and return it, or None if the stack is empty."""
        cdef Py_ssize_t n
        var = _stack_var(self)
        stack = _var_get(var, _EMPTY_LIST)
        n = len(stack)
        if n == 0:
            return None
        PyContextVar_Set(var, PyList_GetSlice(stack, 0, n - 1))
        return stack[n - 1]

    @property
    def top(self):
        """The top item, or None if the stack is empty."""
        cdef Py_ssize_t n
        stack = _var_get(_stack_var(self), _EMPTY_LIST)
        # PERF: len() and a positive index, a little faster here than the
        # twin's ``stack[-1] if stack``.
        n = len(stack)
        if n == 0:
            return None
        return stack[n - 1]

    def __call__(self, name=None, *, unbound_message=None):
        """A :class:`LocalProxy` to the top item, or to its attribute ``name``."""
        return LocalProxy(self, name, unbound_message=unbound_message)


cdef inline object _stack_var(LocalStack stack):
    with cython.critical_section(stack):
        return stack._var


# --- LocalManager -------------------------------------------------------------


class LocalManager:
    """Releases the current context's values of several locals at once.

    :param locals: A :class:`Local` or :class:`LocalStack`, or an iterable of
        them.
    """

    __slots__ = ("locals",)

    def __init__(self, locals=None):
        if locals is None:
            self.locals = []
        elif isinstance(locals, (Local, LocalStack)):
            self.locals = [locals]
        else:
            self.locals = list(locals)

    def cleanup(self):
        """Release every managed local for the current context."""
        for local in self.locals:
            release_local(local)

    def make_middleware(self, app):
        """Wrap a WSGI app so the locals are released once its response is done."""
        from werkzeug.wsgi import ClosingIterator

        # NOTE: a bound (Python-style) function, so update_wrapper can set
        # its __name__ in middleware().
        @cython.binding(True)
        def application(environ, start_response):
            return ClosingIterator(app(environ, start_response), self.cleanup)

        return application

    def middleware(self, func):
        """Decorator form of :meth:`make_middleware`."""
        from functools import update_wrapper

        return update_wrapper(self.make_middleware(func), func)

    def __repr__(self):
        return f"<{type(self).__name__} storages: {len(self.locals)}>"


# --- How a proxy reads its object ---------------------------------------------
# One getter per kind of local, chosen once when the proxy is made, so that a
# read is one call with no branching on the kind. A getter returns the object
# (or its attribute ``name``), or raises RuntimeError with the unbound message.
# Here a getter is a C function that reads the proxy's fields; the twin uses
# closures of the same names.

ctypedef object (*getter)(LocalProxy)


cdef inline object _apply_name(LocalProxy proxy, object obj):
    # As werkzeug: ``name`` is read with attrgetter semantics, so "a.b" reads
    # obj.a.b.
    if proxy._name is None:
        return obj
    if proxy._path is None:
        return getattr(obj, proxy._name)
    for part in proxy._path:
        obj = getattr(obj, part)
    return obj


cdef object get_from_var(LocalProxy proxy):
    cdef PyObject* value = NULL
    # NOTE: a NULL default honours the ContextVar's own default, as
    # werkzeug's ``var.get()`` does.
    PyContextVar_Get(proxy._wrapped, NULL, &value)
    if value is NULL:
        raise RuntimeError(proxy._unbound)
    obj = <object>value
    Py_XDECREF(value)
    return _apply_name(proxy, obj)


cdef object get_from_local(LocalProxy proxy):
    try:
        return _apply_name(proxy, proxy._wrapped)
    except AttributeError:
        raise RuntimeError(proxy._unbound) from None


cdef object get_from_stack_subclass(LocalProxy proxy):
    # A subclass may override ``top``.
    obj = proxy._wrapped.top
    if obj is None:
        raise RuntimeError(proxy._unbound)
    return _apply_name(proxy, obj)


cdef object get_from_stack(LocalProxy proxy):
    # NOTE: the stack's _storage is read each time, so reassigning it
    # redirects existing proxies, as with werkzeug's ``stack.top``.
    stack = _var_get(_stack_var(<LocalStack>proxy._wrapped), _EMPTY_LIST)
    if not stack or stack[-1] is None:
        raise RuntimeError(proxy._unbound)
    return _apply_name(proxy, stack[-1])


cdef object get_from_callable(LocalProxy proxy):
    return _apply_name(proxy, proxy._wrapped())


cdef getter _make_getter(object local, object name) except NULL:
    if PyContextVar_CheckExact(local):
        return get_from_var
    if isinstance(local, Local):
        if name is None:
            raise TypeError("'name' is required when proxying a 'Local' object.")
        return get_from_local
    if isinstance(local, LocalStack):
        if type(local) is not LocalStack:
            return get_from_stack_subclass
        return get_from_stack
    if callable(local):
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


cdef object _unhashable(object proxy):
    raise TypeError(f"unhashable type: '{type(proxy).__name__}'")


cdef object _not_iterable(object proxy):
    raise TypeError(f"'{type(proxy).__name__}' object is not iterable")


cdef object _no_async_method(object proxy, str name):
    return AttributeError(f"object {type(proxy).__name__} does not have {name} method")


cdef str _default_repr(object proxy):
    return f"<{type(proxy).__name__} object at {id(proxy):#x}>"


# --- LocalProxy ---------------------------------------------------------------


cdef class LocalProxy:
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

    cdef getter _get
    cdef object _wrapped
    cdef object _name
    cdef tuple _path
    cdef object _unbound

    def __init__(self, local, name=None, *, unbound_message=None):
        self._get = _make_getter(local, name)
        self._unbound = _DEFAULT_UNBOUND if unbound_message is None else unbound_message
        self._wrapped = local
        self._name = name
        # PERF: a dotted name is split once, here.
        self._path = tuple(name.split(".")) if name is not None and "." in name else None

    @classmethod
    def __class_getitem__(cls, item):
        return cls

    def _get_current_object(self):
        """The object this proxy points to right now.

        :raises RuntimeError: with the unbound message, when unbound.
        """
        return self._get(self)

    # PERF: the hot path. A plain name on an exact LocalProxy goes straight to
    # the object, with no failed lookup on the proxy first (which costs an
    # AttributeError each time); everything else is _own_attribute's. The
    # common ContextVar proxies (``request``, ``g``) are read inline.
    def __getattribute__(self, name):
        cdef PyObject* value = NULL
        if (
            Py_TYPE(self) is <PyTypeObject*>LocalProxy
            and PyUnicode_CheckExact(name)
            and PyUnicode_GET_LENGTH(name) > 0
            and PyUnicode_READ_CHAR(name, 0) != u"_"
        ):
            if self._get == get_from_var and self._path is None:
                PyContextVar_Get(self._wrapped, NULL, &value)
                if value is not NULL:
                    obj = <object>value
                    Py_XDECREF(value)
                    if self._name is not None:
                        obj = getattr(obj, self._name)
                    return getattr(obj, name)
            return getattr(self._get(self), name)
        return _own_attribute(self, name)

    def __setattr__(self, name, value):
        setattr(self._get(self), name, value)

    def __delattr__(self, name):
        delattr(self._get(self), name)

    def __repr__(self):
        try:
            obj = self._get(self)
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"
        except Exception:
            return _default_repr(self)
        return repr(obj)

    def __bool__(self):
        try:
            obj = self._get(self)
        except RuntimeError:
            return False
        return bool(obj)

    def __dir__(self):
        try:
            obj = self._get(self)
        except RuntimeError:
            return []
        return dir(obj)

    def __str__(self):
        return str(self._get(self))

    def __bytes__(self):
        return bytes(self._get(self))

    def __format__(self, format_spec):
        return format(self._get(self), format_spec)

    def __hash__(self):
        try:
            obj = self._get(self)
        except Exception:
            return _unhashable(self)
        return hash(obj)

    def __lt__(self, other):
        try:
            obj = self._get(self)
        except Exception:
            return NotImplemented
        return obj < other

    def __le__(self, other):
        try:
            obj = self._get(self)
        except Exception:
            return NotImplemented
        return obj <= other

    def __eq__(self, other):
        try:
            obj = self._get(self)
        except Exception:
            return NotImplemented
        return obj == other

    def __ne__(self, other):
        try:
            obj = self._get(self)
        except Exception:
            return NotImplemented
        return obj != other

    def __gt__(self, other):
        try:
            obj = self._get(self)
        except Exception:
            return NotImplemented
        return obj > other

    def __ge__(self, other):
        try:
            obj = self._get(self)
        except Exception:
            return NotImplemented
        return obj >= other

    def __instancecheck__(self, other):
        return isinstance(other, self._get(self))

    def __subclasscheck__(self, other):
        return issubclass(other, self._get(self))

    def __call__(self, *args, **kwargs):
        return self._get(self)(*args, **kwargs)

    def __len__(self):
        return len(self._get(self))

    def __length_hint__(self):
        return _operator.length_hint(self._get(self))

    # NOTE: CPython's own item functions, so that errors read exactly as
    # without a proxy (Cython's inline subscript words some differently).
    def __getitem__(self, key):
        return PyObject_GetItem(self._get(self), key)

    def __setitem__(self, key, value):
        PyObject_SetItem(self._get(self), key, value)

    def __delitem__(self, key):
        PyObject_DelItem(self._get(self), key)

    def __iter__(self):
        try:
            obj = self._get(self)
        except Exception:
            return _not_iterable(self)
        return iter(obj)

    def __next__(self):
        return _next(self._get(self))

    def __reversed__(self):
        return reversed(self._get(self))

    def __contains__(self, item):
        return item in self._get(self)

    def __add__(self, other):
        return self._get(self) + other

    def __sub__(self, other):
        return self._get(self) - other

    def __mul__(self, other):
        return self._get(self) * other

    def __matmul__(self, other):
        return self._get(self) @ other

    def __truediv__(self, other):
        return self._get(self) / other

    def __floordiv__(self, other):
        return self._get(self) // other

    def __mod__(self, other):
        return self._get(self) % other

    def __divmod__(self, other):
        return divmod(self._get(self), other)

    def __pow__(self, other, mod):
        if mod is None:
            return pow(self._get(self), other)
        return pow(self._get(self), other, mod)

    def __lshift__(self, other):
        return self._get(self) << other

    def __rshift__(self, other):
        return self._get(self) >> other

    def __and__(self, other):
        return self._get(self) & other

    def __xor__(self, other):
        return self._get(self) ^ other

    def __or__(self, other):
        return self._get(self) | other

    def __radd__(self, other):
        return other + self._get(self)

    def __rsub__(self, other):
        return other - self._get(self)

    def __rmul__(self, other):
        return other * self._get(self)

    def __rmatmul__(self, other):
        return other @ self._get(self)

    def __rtruediv__(self, other):
        return other / self._get(self)

    def __rfloordiv__(self, other):
        return other // self._get(self)

    def __rmod__(self, other):
        return other % self._get(self)

    def __rdivmod__(self, other):
        return divmod(other, self._get(self))

    def __rpow__(self, other, mod):
        if mod is not None:
            # As werkzeug: a reflected three-argument pow is not supported.
            raise TypeError("unsupported operand type(s) for pow() with a modulus and a proxy")
        return pow(other, self._get(self))

    def __rlshift__(self, other):
        return other << self._get(self)

    def __rrshift__(self, other):
        return other >> self._get(self)

    def __rand__(self, other):
        return other & self._get(self)

    def __rxor__(self, other):
        return other ^ self._get(self)

    def __ror__(self, other):
        return other | self._get(self)

    # As in werkzeug: the operation is applied to the object, and the
    # statement ``proxy += x`` keeps the name bound to the proxy.
    def __iadd__(self, other):
        _operator.iadd(self._get(self), other)
        return self

    def __isub__(self, other):
        _operator.isub(self._get(self), other)
        return self

    def __imul__(self, other):
        _operator.imul(self._get(self), other)
        return self

    def __imatmul__(self, other):
        _operator.imatmul(self._get(self), other)
        return self

    def __itruediv__(self, other):
        _operator.itruediv(self._get(self), other)
        return self

    def __ifloordiv__(self, other):
        _operator.ifloordiv(self._get(self), other)
        return self

    def __imod__(self, other):
        _operator.imod(self._get(self), other)
        return self

    def __ipow__(self, other):
        _operator.ipow(self._get(self), other)
        return self

    def __ilshift__(self, other):
        _operator.ilshift(self._get(self), other)
        return self

    def __irshift__(self, other):
        _operator.irshift(self._get(self), other)
        return self

    def __iand__(self, other):
        _operator.iand(self._get(self), other)
        return self

    def __ixor__(self, other):
        _operator.ixor(self._get(self), other)
        return self

    def __ior__(self, other):
        _operator.ior(self._get(self), other)
        return self

    def __neg__(self):
        return -self._get(self)

    def __pos__(self):
        return +self._get(self)

    def __abs__(self):
        return abs(self._get(self))

    def __invert__(self):
        return ~self._get(self)

    def __complex__(self):
        return complex(self._get(self))

    def __int__(self):
        return int(self._get(self))

    def __float__(self):
        return float(self._get(self))

    def __index__(self):
        return _operator.index(self._get(self))

    def __round__(self, *args):
        return round(self._get(self), *args)

    def __trunc__(self):
        return _math.trunc(self._get(self))

    def __floor__(self):
        return _math.floor(self._get(self))

    def __ceil__(self):
        return _math.ceil(self._get(self))

    # Implicit use (``with``, ``await``...) finds these on the type; read as
    # attributes they are the object's own (see _own_attribute).
    def __enter__(self):
        return self._get(self).__enter__()

    def __exit__(self, *args):
        return self._get(self).__exit__(*args)

    def __await__(self):
        try:
            method = self._get(self).__await__
        except Exception:
            raise _no_async_method(self, "__await__") from None
        return method()

    def __aiter__(self):
        try:
            method = self._get(self).__aiter__
        except Exception:
            raise _no_async_method(self, "__aiter__") from None
        return method()

    def __anext__(self):
        try:
            method = self._get(self).__anext__
        except Exception:
            raise _no_async_method(self, "__anext__") from None
        return method()

    def __aenter__(self):
        return self._get(self).__aenter__()

    def __aexit__(self, *args):
        return self._get(self).__aexit__(*args)

    def __copy__(self):
        return _copy.copy(self._get(self))

    def __deepcopy__(self, memo):
        return _copy.deepcopy(self._get(self), memo)

    def __reduce_ex__(self, protocol):
        # As werkzeug's, a proxy cannot be pickled (it holds a ContextVar or
        # a function); this says so the same way on both cores.
        raise TypeError(f"cannot pickle '{type(self).__name__}' object")


cdef frozenset _PROXY_OWN = _own_names(LocalProxy)


# --- Attribute lookup off the hot path ----------------------------------------
# How the proxy answers a name that is its own rather than the object's.
cdef enum:
    _OWN_METHOD = 0  # the proxy's own attribute
    _OWN_LOCAL = 1  # the proxied local itself
    _CLASS_ATTR = 2  # an attribute of the proxy's class
    _OR_FALLBACK = 3  # the object's; unbound: the proxy's class, its doc, its local
    _OBJECT_ONLY = 4  # the object's own attribute, which it may lack
    _NEEDS_OBJECT = 5  # the proxy's special method, once the object can be read
    _MAY_BE_UNBOUND = 6  # the proxy's special method, which works unbound too

cdef dict _SPECIAL = {
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
# The twin's class annotations, which normal lookup finds on its class; this
# compiled class has none of its own.
cdef dict _CLASS_ANNOTATIONS = {"_get_current_object": "t.Callable[[], T]"}
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


cdef bint _defined_by_subclass(LocalProxy proxy, object name) except -1:
    """Whether a subclass of LocalProxy, or the instance's __dict__, has
    ``name``: normal lookup finds it before anything of LocalProxy's."""
    for klass in type(proxy).__mro__:
        if klass is LocalProxy:
            break
        if name in vars(klass):
            return True
    try:
        return name in PyObject_GenericGetAttr(proxy, "__dict__")
    except AttributeError:
        return False


cdef object _own_attribute(LocalProxy proxy, object name):
    """Attribute lookup for everything but the hot path: the proxy's own
    attributes, a subclass's attributes, and underscore names."""
    if Py_TYPE(proxy) is not <PyTypeObject*>LocalProxy and _defined_by_subclass(proxy, name):
        return PyObject_GenericGetAttr(proxy, name)
    how = _SPECIAL.get(name)
    if how is None:
        if name in _PROXY_OWN:
            return PyObject_GenericGetAttr(proxy, name)
        return getattr(proxy._get(proxy), name)
    if how == _OWN_METHOD:
        return PyObject_GenericGetAttr(proxy, name)
    if how == _OWN_LOCAL:
        return proxy._wrapped
    if how == _CLASS_ATTR:
        if name == "__annotations__":
            return _CLASS_ANNOTATIONS
        return getattr(type(proxy), name)
    if how == _OBJECT_ONLY:
        return getattr(proxy._get(proxy), name)
    if how == _NEEDS_OBJECT:
        proxy._get(proxy)
        return PyObject_GenericGetAttr(proxy, name)
    try:
        obj = proxy._get(proxy)
    except RuntimeError:
        if how == _MAY_BE_UNBOUND:
            return PyObject_GenericGetAttr(proxy, name)
        if name == "__class__":
            return type(proxy)
        if name == "__doc__":
            return type(proxy).__doc__
        return proxy._wrapped
    if how == _MAY_BE_UNBOUND:
        return PyObject_GenericGetAttr(proxy, name)
    return getattr(obj, name)
