# cython: language_level=3
"""Context-local objects, compiled.

The twin of ``erlen._local_py``: the same classes with the same behaviour and
werkzeug.local 3.1's API. ``erlen.local`` picks this module when it is built.

Values live in ContextVars and are never mutated in place (every write stores
a new dict or list), so isolation between threads, asyncio tasks and greenlets
is exactly that of ``contextvars``.
"""

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
from cpython.list cimport PyList_New, PyList_GetSlice
from cpython.dict cimport PyDict_GetItem

cdef extern from "Python.h":
    PyObject* _PyType_Lookup(PyTypeObject* type, object name)
    Py_ssize_t PyUnicode_GET_LENGTH(object u)
    Py_UCS4 PyUnicode_READ_CHAR(object u, Py_ssize_t index)
    bint PyUnicode_CheckExact(object o)
    void PyList_SET_ITEM(object lst, Py_ssize_t i, object o)
    PyObject* PyList_GET_ITEM(object lst, Py_ssize_t i)
    Py_ssize_t PyList_GET_SIZE(object lst)

__all__ = ["Local", "LocalStack", "LocalProxy", "LocalManager", "release_local"]

# Shared read-only defaults. NOTE: they are never mutated: writes always build
# a new dict or list, which is also what keeps copied contexts apart.
cdef object _MISSING = object()
cdef dict _EMPTY_DICT = {}
cdef list _EMPTY_LIST = []
cdef str _DEFAULT_UNBOUND = "object is not bound"


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
        # names as fixed (this class is immutable); subclass it rather than
        # patch the twin.
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


cdef class LocalStack:
    """A stack whose contents belong to the current context.

    :param context_var: The ContextVar that holds the stack as a list. A new
        one is made when not given.
    """

    cdef public object _storage

    def __init__(self, context_var=None):
        if context_var is None:
            context_var = ContextVar(f"erlen.LocalStack<{id(self)}>.storage")
        self._storage = context_var

    @classmethod
    def __class_getitem__(cls, item):
        return cls

    def __release_local__(self):
        PyContextVar_Set(self._storage, [])

    def push(self, obj):
        """Push ``obj`` onto the stack and return the new stack."""
        cdef Py_ssize_t i, n
        cdef PyObject* borrowed
        stack = _var_get(self._storage, _EMPTY_LIST)
        n = len(stack)
        # PERF: build the n+1 list in one allocation instead of copy+append.
        new = PyList_New(n + 1)
        if type(stack) is list:
            for i in range(n):
                borrowed = PyList_GET_ITEM(stack, i)
                Py_INCREF(<object>borrowed)
                PyList_SET_ITEM(new, i, <object>borrowed)
        else:
            for i in range(n):
                item = stack[i]
                Py_INCREF(item)
                PyList_SET_ITEM(new, i, item)
        Py_INCREF(obj)
        PyList_SET_ITEM(new, n, obj)
        PyContextVar_Set(self._storage, new)
        return new

    def pop(self):
        """Remove the top item and return it, or None if the stack is empty."""
        cdef Py_ssize_t n
        stack = _var_get(self._storage, _EMPTY_LIST)
        n = len(stack)
        if n == 0:
            return None
        rv = stack[n - 1]
        PyContextVar_Set(self._storage, PyList_GetSlice(stack, 0, n - 1))
        return rv

    @property
    def top(self):
        """The top item, or None if the stack is empty."""
        cdef Py_ssize_t n
        stack = _var_get(self._storage, _EMPTY_LIST)
        n = len(stack)
        if n == 0:
            return None
        return stack[n - 1]

    def __call__(self, name=None, *, unbound_message=None):
        """A :class:`LocalProxy` to the top item, or to its attribute ``name``."""
        return LocalProxy(self, name, unbound_message=unbound_message)


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


# What a proxy reads from.
cdef enum:
    KIND_NONE = 0   # not initialised: always unbound
    KIND_VAR = 1    # a ContextVar
    KIND_LOCAL = 2  # an attribute of a Local
    KIND_STACK = 3  # the top of a LocalStack
    KIND_CALL = 4   # the result of a callable
    KIND_STACK_SUBCLASS = 5  # ``top`` of a LocalStack subclass, which may override it


cdef inline object _apply_name(LocalProxy proxy, object obj):
    if proxy._name is None:
        return obj
    if proxy._path is None:
        return getattr(obj, proxy._name)
    for part in proxy._path:
        obj = getattr(obj, part)
    return obj


cdef object _resolve(LocalProxy proxy):
    """The proxied object; RuntimeError(unbound_message) when unbound."""
    cdef PyObject* value = NULL
    cdef int kind = proxy._kind
    if kind == KIND_VAR:
        # NOTE: a NULL default honours the ContextVar's own default, as
        # ``var.get()`` does.
        PyContextVar_Get(proxy._storage, NULL, &value)
        if value is NULL:
            raise RuntimeError(proxy._unbound)
        obj = <object>value
        Py_XDECREF(value)
        return _apply_name(proxy, obj)
    if kind == KIND_STACK:
        # NOTE: the stack's _storage is read each time, so reassigning it
        # redirects existing proxies, as with werkzeug's ``stack.top``.
        stack = _var_get((<LocalStack>proxy._wrapped)._storage, _EMPTY_LIST)
        if not stack:
            raise RuntimeError(proxy._unbound)
        obj = stack[-1]
        if obj is None:
            raise RuntimeError(proxy._unbound)
        return _apply_name(proxy, obj)
    if kind == KIND_STACK_SUBCLASS:
        obj = proxy._wrapped.top
        if obj is None:
            raise RuntimeError(proxy._unbound)
        return _apply_name(proxy, obj)
    if kind == KIND_LOCAL:
        try:
            return _apply_name(proxy, proxy._wrapped)
        except AttributeError:
            raise RuntimeError(proxy._unbound) from None
    if kind == KIND_CALL:
        return _apply_name(proxy, proxy._wrapped())
    raise RuntimeError(proxy._unbound)


# How the proxy answers names that are its own rather than the target's.
cdef enum:
    OWN_METHOD = 0    # an attribute of the proxy itself
    OWN_CLASS = 1     # the target's __class__, or the proxy's class when unbound
    OWN_DOC = 2       # the target's __doc__, or the proxy class's doc when unbound
    OWN_WRAPPED = 3   # the target's __wrapped__, or the proxied local when unbound
    OWN_LOCAL = 4     # the proxied local itself
    TARGET_ONLY = 5   # only the target's attribute: RuntimeError when unbound
    OWN_MODULE = 6
    OWN_ANNOTATIONS = 7

cdef dict _SPECIAL_ATTRS = {
    "_get_current_object": OWN_METHOD,
    "__class__": OWN_CLASS,
    "__doc__": OWN_DOC,
    "__wrapped__": OWN_WRAPPED,
    "_LocalProxy__wrapped": OWN_LOCAL,
    "__module__": OWN_MODULE,
    "__annotations__": OWN_ANNOTATIONS,
    # As in werkzeug, the protocol methods that Python looks up on the type
    # are, when read as attributes, the target's own: a proxy "has" them
    # exactly when its target does.
    "__enter__": TARGET_ONLY,
    "__exit__": TARGET_ONLY,
    "__await__": TARGET_ONLY,
    "__aiter__": TARGET_ONLY,
    "__anext__": TARGET_ONLY,
    "__aenter__": TARGET_ONLY,
    "__aexit__": TARGET_ONLY,
}
# The same class annotations as the pure-Python twin's.
cdef dict _CLASS_ANNOTATIONS = {"_get_current_object": "t.Callable[[], T]"}


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
    ``type(proxy)``; ``bool()`` and ``repr()`` of an unbound proxy give False
    and ``<LocalProxy unbound>``.
    """

    cdef object _wrapped
    cdef object _storage
    cdef object _name
    cdef tuple _path
    cdef object _unbound
    cdef int _kind

    def __init__(self, local, name=None, *, unbound_message=None):
        self._unbound = _DEFAULT_UNBOUND if unbound_message is None else unbound_message
        if PyContextVar_CheckExact(local):
            self._kind = KIND_VAR
            self._storage = local
        elif isinstance(local, Local):
            if name is None:
                raise TypeError("'name' is required when proxying a 'Local' object.")
            self._kind = KIND_LOCAL
        elif isinstance(local, LocalStack):
            self._kind = KIND_STACK if type(local) is LocalStack else KIND_STACK_SUBCLASS
        elif callable(local):
            self._kind = KIND_CALL
        else:
            raise TypeError(f"Don't know how to proxy '{type(local)}'.")
        self._wrapped = local
        self._name = name
        # attrgetter semantics: "a.b" reads obj.a.b
        self._path = tuple(name.split(".")) if name is not None and "." in name else None

    @classmethod
    def __class_getitem__(cls, item):
        return cls

    def _get_current_object(self):
        """The object this proxy points to right now.

        :raises RuntimeError: with the unbound message, when unbound.
        """
        return _resolve(self)

    def __getattribute__(self, name):
        cdef PyObject* value = NULL
        # PERF: the hot path. A plain name on an exact LocalProxy goes straight
        # to the target: no failed lookup on the proxy first, no exception,
        # and for the common ContextVar proxies (``request``, ``g``) no call
        # out to _resolve either.
        if (
            Py_TYPE(self) is <PyTypeObject*>LocalProxy
            and PyUnicode_CheckExact(name)
            and PyUnicode_GET_LENGTH(name) > 0
            and PyUnicode_READ_CHAR(name, 0) != u"_"
        ):
            if self._kind == KIND_VAR and self._path is None:
                PyContextVar_Get(self._storage, NULL, &value)
                if value is not NULL:
                    obj = <object>value
                    Py_XDECREF(value)
                    if self._name is not None:
                        obj = getattr(obj, self._name)
                    return getattr(obj, name)
            return getattr(_resolve(self), name)
        return _special_getattr(self, name)

    def __setattr__(self, name, value):
        setattr(_resolve(self), name, value)

    def __delattr__(self, name):
        delattr(_resolve(self), name)

    def __dir__(self):
        try:
            obj = _resolve(self)
        except RuntimeError:
            return []
        return dir(obj)

    def __repr__(self):
        try:
            obj = _resolve(self)
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"
        return repr(obj)

    def __str__(self):
        return str(_resolve(self))

    def __bytes__(self):
        return bytes(_resolve(self))

    def __format__(self, format_spec):
        return format(_resolve(self), format_spec)

    def __hash__(self):
        return hash(_resolve(self))

    def __bool__(self):
        try:
            obj = _resolve(self)
        except RuntimeError:
            return False
        return bool(obj)

    def __lt__(self, other):
        return _resolve(self) < other

    def __le__(self, other):
        return _resolve(self) <= other

    def __eq__(self, other):
        return _resolve(self) == other

    def __ne__(self, other):
        return _resolve(self) != other

    def __gt__(self, other):
        return _resolve(self) > other

    def __ge__(self, other):
        return _resolve(self) >= other

    def __instancecheck__(self, other):
        return isinstance(other, _resolve(self))

    def __subclasscheck__(self, other):
        return issubclass(other, _resolve(self))

    def __call__(self, *args, **kwargs):
        return _resolve(self)(*args, **kwargs)

    def __len__(self):
        return len(_resolve(self))

    def __length_hint__(self):
        return _operator.length_hint(_resolve(self))

    # NOTE: CPython's own item functions, so that errors read exactly as
    # without a proxy (Cython's inline subscript words some differently).
    def __getitem__(self, key):
        return PyObject_GetItem(_resolve(self), key)

    def __setitem__(self, key, value):
        PyObject_SetItem(_resolve(self), key, value)

    def __delitem__(self, key):
        PyObject_DelItem(_resolve(self), key)

    def __iter__(self):
        return iter(_resolve(self))

    def __next__(self):
        return next(_resolve(self))

    def __reversed__(self):
        return reversed(_resolve(self))

    def __contains__(self, item):
        return item in _resolve(self)

    def __add__(self, other):
        return _resolve(self) + other

    def __sub__(self, other):
        return _resolve(self) - other

    def __mul__(self, other):
        return _resolve(self) * other

    def __matmul__(self, other):
        return _resolve(self) @ other

    def __truediv__(self, other):
        return _resolve(self) / other

    def __floordiv__(self, other):
        return _resolve(self) // other

    def __mod__(self, other):
        return _resolve(self) % other

    def __divmod__(self, other):
        return divmod(_resolve(self), other)

    def __pow__(self, other, mod):
        if mod is None:
            return pow(_resolve(self), other)
        return pow(_resolve(self), other, mod)

    def __lshift__(self, other):
        return _resolve(self) << other

    def __rshift__(self, other):
        return _resolve(self) >> other

    def __and__(self, other):
        return _resolve(self) & other

    def __xor__(self, other):
        return _resolve(self) ^ other

    def __or__(self, other):
        return _resolve(self) | other

    def __radd__(self, other):
        return other + _resolve(self)

    def __rsub__(self, other):
        return other - _resolve(self)

    def __rmul__(self, other):
        return other * _resolve(self)

    def __rmatmul__(self, other):
        return other @ _resolve(self)

    def __rtruediv__(self, other):
        return other / _resolve(self)

    def __rfloordiv__(self, other):
        return other // _resolve(self)

    def __rmod__(self, other):
        return other % _resolve(self)

    def __rdivmod__(self, other):
        return divmod(other, _resolve(self))

    def __rpow__(self, other, mod):
        if mod is not None:
            # As werkzeug: a reflected three-argument pow is not supported.
            raise TypeError("unsupported operand type(s) for pow() with a modulus and a proxy")
        return pow(other, _resolve(self))

    def __rlshift__(self, other):
        return other << _resolve(self)

    def __rrshift__(self, other):
        return other >> _resolve(self)

    def __rand__(self, other):
        return other & _resolve(self)

    def __rxor__(self, other):
        return other ^ _resolve(self)

    def __ror__(self, other):
        return other | _resolve(self)

    # As in werkzeug: the in-place operation is applied to the target, and
    # ``proxy += x`` leaves the name bound to the proxy.
    def __iadd__(self, other):
        _operator.iadd(_resolve(self), other)
        return self

    def __isub__(self, other):
        _operator.isub(_resolve(self), other)
        return self

    def __imul__(self, other):
        _operator.imul(_resolve(self), other)
        return self

    def __imatmul__(self, other):
        _operator.imatmul(_resolve(self), other)
        return self

    def __itruediv__(self, other):
        _operator.itruediv(_resolve(self), other)
        return self

    def __ifloordiv__(self, other):
        _operator.ifloordiv(_resolve(self), other)
        return self

    def __imod__(self, other):
        _operator.imod(_resolve(self), other)
        return self

    def __ipow__(self, other):
        _operator.ipow(_resolve(self), other)
        return self

    def __ilshift__(self, other):
        _operator.ilshift(_resolve(self), other)
        return self

    def __irshift__(self, other):
        _operator.irshift(_resolve(self), other)
        return self

    def __iand__(self, other):
        _operator.iand(_resolve(self), other)
        return self

    def __ixor__(self, other):
        _operator.ixor(_resolve(self), other)
        return self

    def __ior__(self, other):
        _operator.ior(_resolve(self), other)
        return self

    def __neg__(self):
        return -_resolve(self)

    def __pos__(self):
        return +_resolve(self)

    def __abs__(self):
        return abs(_resolve(self))

    def __invert__(self):
        return ~_resolve(self)

    def __complex__(self):
        return complex(_resolve(self))

    def __int__(self):
        return int(_resolve(self))

    def __float__(self):
        return float(_resolve(self))

    def __index__(self):
        return _operator.index(_resolve(self))

    def __round__(self, *args):
        return round(_resolve(self), *args)

    def __trunc__(self):
        return _math.trunc(_resolve(self))

    def __floor__(self):
        return _math.floor(_resolve(self))

    def __ceil__(self):
        return _math.ceil(_resolve(self))

    def __enter__(self):
        return _resolve(self).__enter__()

    def __exit__(self, *args):
        return _resolve(self).__exit__(*args)

    def __await__(self):
        return _resolve(self).__await__()

    def __aiter__(self):
        return _resolve(self).__aiter__()

    def __anext__(self):
        return _resolve(self).__anext__()

    def __aenter__(self):
        return _resolve(self).__aenter__()

    def __aexit__(self, *args):
        return _resolve(self).__aexit__(*args)

    def __copy__(self):
        return _copy.copy(_resolve(self))

    def __deepcopy__(self, memo):
        return _copy.deepcopy(_resolve(self), memo)


cdef object _special_getattr(LocalProxy self, object name):
    """Attribute lookup for everything but the hot path: the proxy's own
    attributes, subclasses' attributes, and underscore names."""
    cdef PyObject* code = PyDict_GetItem(_SPECIAL_ATTRS, name)
    if code is not NULL:
        which = <int><object>code
        if which == OWN_METHOD:
            return PyObject_GenericGetAttr(self, name)
        if which == OWN_LOCAL:
            return self._wrapped
        if which == OWN_MODULE:
            return type(self).__module__
        if which == OWN_ANNOTATIONS:
            return _CLASS_ANNOTATIONS
        if which == TARGET_ONLY:
            return getattr(_resolve(self), name)
        try:
            obj = _resolve(self)
        except RuntimeError:
            if which == OWN_CLASS:
                return type(self)
            if which == OWN_DOC:
                return type(self).__doc__
            return self._wrapped
        return getattr(obj, name)
    # Anything the proxy's class (or a subclass, or a subclass instance's
    # __dict__) defines is the proxy's own, as with normal attribute lookup.
    if _PyType_Lookup(Py_TYPE(self), name) is not NULL:
        return PyObject_GenericGetAttr(self, name)
    if Py_TYPE(self) is not <PyTypeObject*>LocalProxy:
        try:
            return PyObject_GenericGetAttr(self, name)
        except AttributeError:
            pass
    return getattr(_resolve(self), name)
