from ._classes_py import PerClass as PerClass
from ._classes_py import Unchanged as Unchanged
from ._classes_py import type_version as type_version

__all__ = ["PerClass", "Unchanged", "type_version"]
