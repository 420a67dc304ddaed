# Type stub for the compiled core: it has exactly the pure-Python twin's API.
from ._local_py import Local as Local
from ._local_py import LocalManager as LocalManager
from ._local_py import LocalProxy as LocalProxy
from ._local_py import LocalStack as LocalStack
from ._local_py import release_local as release_local

__all__ = ["Local", "LocalStack", "LocalProxy", "LocalManager", "release_local"]
