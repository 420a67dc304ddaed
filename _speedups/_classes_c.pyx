# cython: language_level=3
"""Facts about classes, remembered until the class changes: compiled.

The twin of ``erlen._classes_py``, with the same behaviour; ``erlen._overrides``
picks this module when it is built. The interpreter gives every class a
version tag, which it changes whenever an attribute of the class or of one
of its bases is set or deleted; this module reads it.
"""

from cpython.object cimport PyObject
from cpython.dict cimport PyDict_GetItem

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

__all__ = ["Unchanged", "type_version"]


def type_version(cls):
    """The interpreter's version tag of the class ``cls``, or 0 when it has
    none now (the next attribute lookup on it assigns one)."""
    if not isinstance(cls, type):
        raise TypeError(f"expected a class, got {type(cls).__name__}")
    return erlen_type_version(<PyObject*>cls)


cdef class Unchanged:
    """``Unchanged(Base, "a", "b")(cls)`` is true when ``cls.a`` and
    ``cls.b`` are still ``Base``'s own: no subclass overrides them and
    nothing has patched them.

    A true answer is remembered with the class's version tag, so asking
    again about an unchanged class costs one dict lookup instead of an
    attribute lookup per name.
    """

    cdef readonly dict expected
    cdef readonly dict known

    def __init__(self, base, *names):
        self.expected = {name: getattr(base, name) for name in names}
        self.known = {}

    def __call__(self, cls):
        cdef unsigned int version
        cdef PyObject* seen
        if not isinstance(cls, type):
            raise TypeError(f"expected a class, got {type(cls).__name__}")
        version = erlen_type_version(<PyObject*>cls)
        if version != 0:
            seen = PyDict_GetItem(self.known, cls)
            if seen is not NULL and <object>seen == version:
                return True
        for name, value in self.expected.items():
            if getattr(cls, name, None) is not value:
                return False
        # Looking the names up has given the class a version if it had none.
        version = erlen_type_version(<PyObject*>cls)
        if version != 0:
            if len(self.known) >= 64:  # classes made on the fly: stay bounded
                self.known.clear()
            self.known[cls] = version
        return True
