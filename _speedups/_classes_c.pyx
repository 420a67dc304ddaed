# cython: language_level=3
"""Facts about classes, remembered until the class changes: compiled.

The twin of ``erlen._classes_py``, with the same behaviour; ``erlen._overrides``
picks this module when it is built. The interpreter gives every class a
version tag, which it changes whenever an attribute of the class or of one
of its bases is set or deleted; this module reads it.
"""

cimport cython
from cpython.object cimport PyObject
from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.long cimport PyLong_AsUnsignedLong
from cpython.type cimport PyType_Check

cdef extern from *:
    """
    static unsigned int erlen_type_version(PyObject *cls) {
        PyTypeObject *tp = (PyTypeObject *)cls;
    #ifdef Py_TPFLAGS_VALID_VERSION_TAG
        if (!(tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG)) {
            return 0;
        }
    #endif
        return tp->tp_version_tag;
    }
    """
    unsigned int erlen_type_version(PyObject* cls)

cdef extern from *:
    """
    /* The version tag of obj's instance dict: CPython up to 3.11 gives
       every dict a process-wide unique tag, renewed at each change, so an
       equal tag means the same dict, unchanged. 0 when unknown (no dict,
       or an interpreter without the tag). Like reading obj.__dict__, this
       makes the dict of an object that keeps its attributes inline. */
    static unsigned long long erlen_dict_tag(PyObject *obj) {
    #if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION)
        PyObject **dictptr = _PyObject_GetDictPtr(obj);
        if (dictptr == NULL || *dictptr == NULL) {
            return 0;
        }
        return ((PyDictObject *)*dictptr)->ma_version_tag;
    #else
        return 0;
    #endif
    }
    """
    unsigned long long erlen_dict_tag(PyObject* obj)

__all__ = ["PerClass", "Unchanged", "type_version"]


def type_version(cls):
    """The interpreter's version tag of the class ``cls``, or 0 when it has
    none now (the next attribute lookup on it assigns one)."""
    if not isinstance(cls, type):
        raise TypeError(f"expected a class, got {type(cls).__name__}")
    return erlen_type_version(<PyObject*>cls)


cdef inline unsigned int _version_of(cls) except? 0:
    if not PyType_Check(cls):
        raise TypeError(f"expected a class, got {type(cls).__name__}")
    return erlen_type_version(<PyObject*>cls)


cdef inline object _recall(dict known, cls, unsigned int version):
    """What ``known`` holds for ``cls`` at ``version``, or NULL-like None."""
    cdef PyObject* entry
    if version == 0:
        return None
    entry = PyDict_GetItem(known, cls)
    if entry is NULL:
        return None
    pair = <tuple>entry
    if PyLong_AsUnsignedLong(pair[0]) != version:
        return None
    return pair


cdef inline void _remember(dict known, cls, value):
    # Looking names up on the class has given it a version if it had none.
    cdef unsigned int version = erlen_type_version(<PyObject*>cls)
    if version != 0:
        if len(known) >= 64:  # classes made on the fly: stay bounded
            known.clear()
        PyDict_SetItem(known, cls, (version, value))


cdef class Unchanged:
    """``Unchanged(Base, "a", "b").check(cls)`` (or ``(cls)``) is true when
    ``cls.a`` and ``cls.b`` are still ``Base``'s own: no subclass overrides
    them and nothing has patched them.

    A true answer is remembered with the class's version tag, so asking
    again about an unchanged class costs one dict lookup instead of an
    attribute lookup per name. ``check`` is the cheaper call: a method
    taking one argument.
    """

    cdef readonly dict expected
    cdef readonly dict known
    cdef unsigned long long plain_dict_tag
    # PERF: the last class found unchanged and its version tag, kept in the
    # object itself. Behind a server a request finds the caches cold, and
    # this answer reads two memory lines (this object and the class) where
    # a lookup in ``known`` reads the dict, its table, a tuple and an int.
    cdef object last_cls
    cdef unsigned int last_version

    def __init__(self, base, *names):
        self.expected = {name: getattr(base, name) for name in names}
        self.known = {}
        self.plain_dict_tag = 0
        self.last_cls = None
        self.last_version = 0

    def __call__(self, cls):
        return self._check(cls)

    @cython.always_allow_keywords(False)  # METH_O: the cheapest call
    def check(self, cls):
        return self._check(cls)

    cdef bint _check(self, cls) except -1:
        cdef unsigned int version = _version_of(cls)
        if version != 0 and version == self.last_version and cls is self.last_cls:
            return True
        if _recall(self.known, cls, version) is None:
            for name, value in self.expected.items():
                if getattr(cls, name, None) is not value:
                    return False
            _remember(self.known, cls, True)
            # Looking the names up may have given the class its tag.
            version = erlen_type_version(<PyObject*>cls)
        self.last_cls = cls
        self.last_version = version
        return True

    @cython.always_allow_keywords(False)
    def check_object(self, obj):
        """``check(type(obj))``, and none of the names set on ``obj``
        itself. The last instance dict found without them is remembered by
        its version tag, so asking again about the same unchanged object
        costs no lookup of the names."""
        cdef unsigned long long tag
        if not self._check(type(obj)):
            return False
        tag = erlen_dict_tag(<PyObject*>obj)
        if tag != 0 and tag == self.plain_dict_tag:
            return True
        own = getattr(obj, "__dict__", None)
        if own is not None and not own.keys().isdisjoint(self.expected):
            return False
        # Asking for the dict above may have made it: read the tag again.
        self.plain_dict_tag = erlen_dict_tag(<PyObject*>obj)
        return True


cdef class PerClass:
    """``PerClass(build).get(cls)`` is ``build(cls)``, remembered with the
    class's version tag: ``build`` runs again only once the class or one of
    its bases has changed. ``build`` must depend on nothing but the class.
    """

    cdef readonly object build
    cdef readonly dict known
    # PERF: the last answer, as in Unchanged.
    cdef object last_cls
    cdef unsigned int last_version
    cdef object last_value

    def __init__(self, build):
        self.build = build
        self.known = {}
        self.last_cls = None
        self.last_version = 0
        self.last_value = None

    @cython.always_allow_keywords(False)
    def get(self, cls):
        cdef unsigned int version = _version_of(cls)
        if version != 0 and version == self.last_version and cls is self.last_cls:
            return self.last_value
        pair = _recall(self.known, cls, version)
        if pair is not None:
            value = (<tuple>pair)[1]
        else:
            value = self.build(cls)
            _remember(self.known, cls, value)
            version = erlen_type_version(<PyObject*>cls)
        self.last_cls = cls
        self.last_version = version
        self.last_value = value
        return value
