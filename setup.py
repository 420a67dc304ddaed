"""Build logic for erlen's optional compiled core.

Everything else lives in pyproject.toml. This file only lists the Cython
extensions and makes their build optional: a machine without a C compiler
(or without Cython) gets the pure-Python package with one warning, while CI
and cibuildwheel (``ERLEN_REQUIRE_EXTENSIONS=1`` or ``CIBUILDWHEEL=1``) fail
loudly instead.
"""

import os
import sys

from setuptools import Extension
from setuptools import setup
from setuptools.command.build_ext import build_ext

NO_EXTENSIONS = os.environ.get("ERLEN_NO_EXTENSIONS", "") not in ("", "0")
REQUIRE_EXTENSIONS = (
    os.environ.get("ERLEN_REQUIRE_EXTENSIONS", "") not in ("", "0")
    or os.environ.get("CIBUILDWHEEL", "") == "1"
)
# Each _speedups/NAME_c.pyx builds the module erlen.NAME_c. Only the
# context-local core is compiled: it is the one a benchmark shows is worth it.
SPEEDUPS = ["_local_c"]


class OptionalBuildExt(build_ext):
    """Build the extensions, but fall back to pure Python on failure."""

    warned = False

    def run(self):
        try:
            from Cython.Build import cythonize

            # NOTE: Cython runs here, when an extension is built, and not
            # when setup.py is read: building the sdist or the metadata then
            # needs no Cython and leaves no generated C next to the sources.
            generated = cythonize(
                self.extensions,
                language_level=3,
                compiler_directives={"binding": False, "embedsignature": True},
            )
            # cythonize returns new Extension objects; keep the ones that
            # setuptools has already prepared and give them the C sources.
            sources = {ext.name: ext.sources for ext in generated}
            for ext in self.extensions:
                ext.sources = sources[ext.name]
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure
            self._give_up(exc, self.extensions)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001 - any compiler failure
            self._give_up(exc, [ext])

    def _give_up(self, exc, failed):
        if REQUIRE_EXTENSIONS:
            raise exc
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
    return [
        Extension(f"erlen.{name}", [f"_speedups/{name}.pyx"]) for name in SPEEDUPS
    ]


setup(
    ext_modules=extensions(),
    cmdclass={"build_ext": OptionalBuildExt},
)
