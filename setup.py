"""Build logic for erlen's optional compiled core.

Everything else lives in pyproject.toml. This file only lists the Cython
extensions and makes their build optional: a machine without a C compiler
gets the pure-Python package with one warning, while CI and cibuildwheel
(``ERLEN_REQUIRE_EXTENSIONS=1`` or ``CIBUILDWHEEL=1``) fail loudly instead.
"""

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

NO_EXTENSIONS = os.environ.get("ERLEN_NO_EXTENSIONS", "") not in ("", "0")
REQUIRE_EXTENSIONS = (
    os.environ.get("ERLEN_REQUIRE_EXTENSIONS", "") not in ("", "0")
    or os.environ.get("CIBUILDWHEEL", "") == "1"
)
# Each _speedups/NAME_c.pyx builds the module erlen.NAME_c: the
# context-local core, and the class checks of the request fast paths.
SPEEDUPS = ["_local_c"]


class OptionalBuildExt(build_ext):
    """Build the extensions, but fall back to pure Python on failure."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure
            self._give_up(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001 - any compiler failure
            self._give_up(exc)

    warned = False

    def _give_up(self, exc):
        if REQUIRE_EXTENSIONS:
            raise
        if OptionalBuildExt.warned:  # one warning, however many modules fail
            return
        OptionalBuildExt.warned = True
        print(
            "WARNING: erlen's compiled core could not be built "
            f"({type(exc).__name__}: {exc}); installing the pure-Python "
            "implementation, which behaves the same but is slower.",
            file=sys.stderr,
        )


def extensions():
    if NO_EXTENSIONS:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE_EXTENSIONS:
            raise
        print(
            "WARNING: Cython is not available; installing erlen's "
            "pure-Python implementation.",
            file=sys.stderr,
        )
        return []
    from setuptools import Extension

    modules = [
        Extension(f"erlen.{name}", [f"_speedups/{name}.pyx"]) for name in SPEEDUPS
    ]
    return cythonize(
        modules,
        language_level=3,
        compiler_directives={
            "binding": False,
            "embedsignature": True,
        },
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
