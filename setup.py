"""Build logic for erlen's optional compiled core.

Everything else lives in pyproject.toml. This file only lists the Cython
extensions and makes their build optional: a machine without a C compiler
(or without Cython) gets the pure-Python package with one warning, while CI
and cibuildwheel (``ERLEN_REQUIRE_EXTENSIONS=1`` or ``CIBUILDWHEEL=1``) fail
loudly instead. A wheel is tagged for the platform only when an extension
was really built, and carries a ``.pyi`` stub only next to its module.
"""

import importlib.machinery
import os
import sys
from pathlib import Path

from setuptools import Extension
from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_ext import build_ext

NO_EXTENSIONS = os.environ.get("ERLEN_NO_EXTENSIONS", "") not in ("", "0")
REQUIRE_EXTENSIONS = (
    os.environ.get("ERLEN_REQUIRE_EXTENSIONS", "") not in ("", "0")
    or os.environ.get("CIBUILDWHEEL", "") == "1"
)
# Each _speedups/NAME_c.pyx builds the module erlen.NAME_c. Only the
# context-local core is compiled: it is the one a benchmark shows is worth it.
SPEEDUPS = ["_local_c"]
# NOTE: debug symbols are most of a module's size (1.7 MB with them, 0.25 MB
# without); GNU ld and lld both take --strip-all.
LINK_ARGS = ["-Wl,--strip-all"] if sys.platform.startswith("linux") else []


def warn(message):
    """Print a build warning where the person installing erlen sees it.

    pip shows a build's output only when the build fails or with ``-v``, so
    the warning also goes straight to the terminal when there is one.
    """
    text = f"WARNING: {message}"
    print(text, file=sys.stderr)
    if sys.stderr.isatty():  # already on the terminal
        return
    try:
        with open("/dev/tty", "w", encoding="utf-8") as tty:
            tty.write(f"\n{text}\n")
    except OSError:  # no terminal: CI logs, or not a POSIX system
        pass


class OptionalBuildExt(build_ext):
    """Build the extensions, but fall back to pure Python on failure.

    An extension that fails to build is dropped from the distribution, so
    the wheel's tag and stubs follow what was really built.
    """

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
        names = {ext.name for ext in failed}
        self.distribution.ext_modules = [
            ext for ext in self.distribution.ext_modules if ext.name not in names
        ]
        for name in names:  # a module left by an earlier build is stale now
            Path(self.get_ext_fullpath(name)).unlink(missing_ok=True)
        if OptionalBuildExt.warned:  # one warning, however many modules fail
            return
        OptionalBuildExt.warned = True
        warn(
            "erlen's compiled core could not be built "
            f"({type(exc).__name__}: {exc}); installing the pure-Python "
            "implementation, which behaves the same but is slower. "
            "`erlen --version` shows which core is active."
        )


class BdistWheel(bdist_wheel):
    """A wheel that says what it holds: tagged ``py3-none-any`` when no
    extension was built, and with no stub for a module it does not contain."""

    def run(self):
        if not self.skip_build:
            self.run_command("build")
        self.root_is_pure = not self.distribution.has_ext_modules()
        build_lib = Path(self.get_finalized_command("build_py").build_lib)
        for stub in build_lib.glob("erlen/**/*.pyi"):
            if not _has_module(stub):
                stub.unlink()
        super().run()  # the build above has run, so it is not repeated


def _has_module(stub):
    """Whether the module a ``.pyi`` stub describes is next to it."""
    stem = stub.with_suffix("")
    suffixes = [".py", *importlib.machinery.EXTENSION_SUFFIXES]
    return any(Path(f"{stem}{suffix}").exists() for suffix in suffixes)


def extensions():
    if NO_EXTENSIONS:
        return []
    return [
        Extension(
            f"erlen.{name}", [f"_speedups/{name}.pyx"], extra_link_args=LINK_ARGS
        )
        for name in SPEEDUPS
    ]


setup(
    ext_modules=extensions(),
    cmdclass={"build_ext": OptionalBuildExt, "bdist_wheel": BdistWheel},
)
