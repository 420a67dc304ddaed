"""The build, as users get it.

* The sdist carries exactly the tracked files it needs (never what git
  ignores, like the example's instance folder), builds without a warning
  about its manifest, and its own tests run from it.
* ``pip wheel .`` compiles the core into a platform wheel with a stripped
  module and its stub; ``ERLEN_NO_EXTENSIONS=1`` and a missing compiler give
  a ``py3-none-any`` wheel with no stub for the module it lacks, and the
  failed compile is reported on the terminal even though pip hides the
  build's output.
* Both carry the LICENSE; ``erlen --version`` names the active core; the
  benchmark scripts refuse to measure a core they were not meant to.

Builds run on a copy of the tracked files (no stale build products) with
``--no-build-isolation``, so they need no network: Cython, setuptools and
build come from the test extra. Outside a git checkout (an unpacked sdist)
the module is skipped; a missing tool skips a test, except in CI, where it
fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = bool(os.environ.get("CI"))
BUILD_ENV = (
    "ERLEN_NO_EXTENSIONS",
    "ERLEN_REQUIRE_EXTENSIONS",
    "CIBUILDWHEEL",
    "CC",
    "CXX",
)
WARNING = "erlen's compiled core could not be built"
# Tracked files the sdist leaves out on purpose: CI and developer tools, git's
# own files, and the chart (the README names it in text, not as an image).
NOT_IN_SDIST = re.compile(r"^(\.ci/|tools/|.*\.gitignore$|bench/results\.png$)")
# Files the sdist build writes itself.
GENERATED = re.compile(r"^(PKG-INFO|setup\.cfg|src/erlen\.egg-info/.*)$")


def require(available: object, reason: str) -> None:
    """Skip when a tool is missing, except in CI, where it is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI must run this test)")
    pytest.skip(reason)


def _tracked() -> list[str] | None:
    if shutil.which("git") is None:
        return None
    proc = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False
    )
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=ROOT, capture_output=True,
        text=True, check=False,
    )
    if proc.returncode or top.returncode or Path(top.stdout.strip()) != ROOT:
        return None
    return [n for n in proc.stdout.decode().split("\0") if n and (ROOT / n).exists()]


TRACKED = _tracked()

pytestmark = pytest.mark.skipif(
    not (ROOT / ".git").exists(),
    reason="not a git checkout of erlen (an unpacked sdist): nothing to compare with",
)


@pytest.fixture(scope="module")
def tracked() -> list[str]:
    require(
        TRACKED is not None, "git is not installed or cannot list the tracked files"
    )
    assert TRACKED is not None
    return TRACKED


@pytest.fixture(scope="module")
def source_tree(tracked, tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("src")
    for name in tracked:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    return dest


def build_env(**env: str) -> dict[str, str]:
    full = {k: v for k, v in os.environ.items() if k not in BUILD_ENV}
    return {**full, **env}


def run(
    cmd: list[str], cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    # A new session has no controlling terminal: the build's warning to the
    # terminal must not land on the terminal running these tests.
    return subprocess.run(
        cmd, cwd=cwd, env=build_env(**env), capture_output=True, text=True,
        start_new_session=True, check=False,
    )


def pip_wheel(tree: Path, out: Path, *extra: str, **env: str):
    """``pip wheel`` a fresh copy of ``tree`` (setuptools reuses ./build and
    would skip the compile a test is about); the output and the wheels."""
    copy = out / "tree"
    shutil.copytree(tree, copy)
    proc = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         *extra, "-w", str(out / "dist"), str(copy)],
        **env,
    )
    return proc, sorted((out / "dist").glob("*.whl"))


def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def orphan_stubs(names: list[str]) -> list[str]:
    """The ``.pyi`` stubs in a wheel whose module is not in it."""
    return [
        n
        for n in names
        if n.endswith(".pyi")
        and not any(
            m == n[:-4] + ".py"
            or (m.startswith(n[:-4] + ".") and m.endswith((".so", ".pyd")))
            for m in names
        )
    ]


def have_compiler() -> bool:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) is not None


# What the notes example does on its first run, in its default instance folder.
RUN_EXAMPLE = """
import sys
sys.path.insert(0, "examples")
from notes import create_app
from notes.db import init_db
with create_app().app_context():
    init_db()
"""


@pytest.fixture(scope="module")
def dirty_tree(source_tree, tmp_path_factory) -> Path:
    """The checkout after use: the notes example has run (its instance folder
    holds a secret key and a database), and build products and caches lie
    around, all of them ignored by git."""
    tree = tmp_path_factory.mktemp("dirty") / "erlen"
    shutil.copytree(source_tree, tree)
    proc = run([sys.executable, "-c", RUN_EXAMPLE], cwd=tree)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tree / "examples/instance/secret_key").is_file()
    assert (tree / "examples/instance/notes.sqlite").is_file()
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    for junk in (
        "_speedups/_local_c.c",
        f"src/erlen/_local_c{suffix}",
        "build/lib/erlen/__init__.py",
        "tests/__pycache__/conftest.cpython-311.pyc",
        "examples/notes/__pycache__/db.cpython-311.pyc",
        ".cache/conformance/Flask-Login-0.6.3.tar.gz",
        ".benchmarks/Linux-CPython-3.11-64bit/0001_run.json",
    ):
        (tree / junk).parent.mkdir(parents=True, exist_ok=True)
        (tree / junk).write_bytes(b"untracked\n")
    return tree


@pytest.fixture(scope="module")
def sdist(dirty_tree, tmp_path_factory) -> tuple[Path, str]:
    """The sdist built from the used checkout, and the build's log."""
    try:
        import build  # noqa: F401
    except ImportError:
        require(False, "the 'build' package is not installed (test extra)")
    out = tmp_path_factory.mktemp("sdist")
    proc = run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir",
         str(out), str(dirty_tree)],
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (path,) = out.glob("*.tar.gz")
    return path, proc.stdout + proc.stderr


def sdist_files(path: Path) -> set[str]:
    with tarfile.open(path) as tf:
        return {m.name.split("/", 1)[1] for m in tf.getmembers() if m.isfile()}


@pytest.fixture(scope="module")
def sdist_tree(sdist, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(sdist[0]) as tf:
        if hasattr(tarfile, "data_filter"):  # Python 3.10.12+, 3.11.4+
            tf.extractall(out, filter="data")
        else:
            tf.extractall(out)
    (tree,) = out.iterdir()
    return tree


@pytest.fixture(scope="module")
def compiled_wheel(sdist_tree, tmp_path_factory) -> Path:
    """The wheel built from the sdist, as ``python -m build`` makes it."""
    require(have_compiler(), "no C compiler")
    proc, wheels = pip_wheel(sdist_tree, tmp_path_factory.mktemp("compiled"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = wheels
    return wheel


@pytest.fixture(scope="module")
def pure_wheel(source_tree, tmp_path_factory) -> Path:
    proc, wheels = pip_wheel(
        source_tree, tmp_path_factory.mktemp("pure"), ERLEN_NO_EXTENSIONS="1"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = wheels
    return wheel


def unpacked(wheel: Path) -> Path:
    """The wheel unpacked beside it: importable with it first on the path."""
    dest = wheel.parent / (wheel.name + ".d")
    if not dest.exists():
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(dest)
    return dest


# -- the sdist ----------------------------------------------------------------


def test_sdist_holds_no_untracked_file(sdist, tracked):
    extra = sorted(sdist_files(sdist[0]) - set(tracked))
    assert [n for n in extra if not GENERATED.match(n)] == []


def test_sdist_holds_every_tracked_file_it_needs(sdist, tracked):
    files = sdist_files(sdist[0])
    needed = {n for n in tracked if not NOT_IN_SDIST.match(n)}
    assert sorted(needed - files) == []
    for name in ("LICENSE", "setup.py", "_speedups/_local_c.pyx",
                 "conformance/flask_suite.py", "conformance/extensions.py",
                 "src/erlen/_local_c.pyi", "examples/notes/schema.sql"):
        assert name in files, name


def test_sdist_build_warns_about_nothing_in_its_manifest(sdist):
    log = sdist[1]
    manifest_warnings = re.findall(
        r".*(?:no files found matching|no previously-included|"
        r"no directories found matching|standard file .* not found).*",
        log,
    )
    assert manifest_warnings == []


def test_readme_links_work_on_the_package_index(sdist_tree):
    # The package index shows the README without the source tree around it:
    # every link and image must be an absolute URL or an anchor.
    readme = (sdist_tree / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)", readme):
        assert target.startswith(("https://", "http://", "#")), target


def test_sdist_runs_its_own_tests(sdist_tree, compiled_wheel):
    """The wheel built from the sdist, with the sdist's own tests: the core
    (both implementations), the example app and the templates."""
    site = unpacked(compiled_wheel)
    env = {"PYTHONPATH": str(site)}
    where = run([sys.executable, "-c", "import erlen; print(erlen.__file__)"],
                cwd=sdist_tree, **env)
    assert where.stdout.strip() == str(site / "erlen" / "__init__.py")
    proc = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_local.py", "tests/test_examples_notes.py",
         "tests/test_templating.py"],
        cwd=sdist_tree, **env,
    )
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert re.search(r"\d+ passed", proc.stdout)
    assert "skipped" not in proc.stdout.splitlines()[-1]


# -- the wheels -----------------------------------------------------------------


def test_wheel_and_sdist_carry_the_license(sdist, compiled_wheel, pure_wheel):
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "BSD 3-Clause License" in text
    assert "The erlen developers" in text
    with tarfile.open(sdist[0]) as tf:
        (member,) = [m for m in tf.getmembers() if m.name.endswith("/LICENSE")]
        assert tf.extractfile(member).read().decode() == text
    for wheel in (compiled_wheel, pure_wheel):
        with zipfile.ZipFile(wheel) as zf:
            (name,) = [
                n for n in zf.namelist() if n.endswith(".dist-info/licenses/LICENSE")
            ]
            assert zf.read(name).decode() == text


def test_compiled_wheel_holds_the_module_and_its_stub(compiled_wheel):
    assert not compiled_wheel.name.endswith("-none-any.whl")  # a platform wheel
    names = wheel_names(compiled_wheel)
    assert any(
        n.startswith("erlen/_local_c.") and n.endswith((".so", ".pyd")) for n in names
    )
    assert "erlen/_local_c.pyi" in names
    assert "erlen/py.typed" in names
    assert "erlen/_local_py.py" in names
    assert orphan_stubs(names) == []


def test_compiled_module_has_no_debug_symbols(compiled_wheel):
    if not sys.platform.startswith("linux"):
        pytest.skip("the module is stripped at link time on Linux only")
    require(shutil.which("readelf"), "readelf is not installed (binutils)")
    (module,) = (unpacked(compiled_wheel) / "erlen").glob("_local_c.*.so")
    sections = subprocess.run(
        ["readelf", "-S", "-W", str(module)], capture_output=True, text=True, check=True
    ).stdout
    assert ".text" in sections  # readelf did read the section table
    assert ".symtab" not in sections
    assert ".debug_" not in sections


def test_no_extensions_gives_a_pure_wheel_without_stubs(pure_wheel):
    assert pure_wheel.name.endswith("-py3-none-any.whl")
    names = wheel_names(pure_wheel)
    assert not any(n.endswith((".so", ".pyd")) for n in names)
    assert "erlen/_local_py.py" in names
    assert "erlen/py.typed" in names
    assert "erlen/_local_c.pyi" not in names
    assert orphan_stubs(names) == []
    with zipfile.ZipFile(pure_wheel) as zf:
        (wheel_file,) = [n for n in zf.namelist() if n.endswith(".dist-info/WHEEL")]
        assert "Root-Is-Purelib: true" in zf.read(wheel_file).decode()


def test_failed_compile_gives_a_pure_wheel_and_one_warning(source_tree, tmp_path):
    proc, wheels = pip_wheel(
        source_tree, tmp_path, "-v", CC="/bin/false", CXX="/bin/false"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (proc.stdout + proc.stderr).count(WARNING) == 1
    (wheel,) = wheels
    assert wheel.name.endswith("-py3-none-any.whl")
    names = wheel_names(wheel)
    assert not any(n.endswith((".so", ".pyd")) for n in names)
    assert orphan_stubs(names) == []


def test_failed_compile_warns_on_the_terminal_without_verbose(source_tree, tmp_path):
    """pip hides the build's output unless given -v; the warning reaches the
    terminal anyway (pip run under a pseudo-terminal, as a user runs it)."""
    pty = pytest.importorskip("pty", reason="no pseudo-terminals on this platform")
    copy = tmp_path / "tree"
    shutil.copytree(source_tree, copy)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
           "-w", str(tmp_path / "dist"), str(copy)]
    env = build_env(CC="/bin/false", CXX="/bin/false")
    pid, fd = pty.fork()
    if pid == 0:  # the child, whose controlling terminal is the pty
        try:
            os.execve(sys.executable, cmd, env)
        finally:
            os._exit(127)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child has exited and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    output = b"".join(chunks).decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, output[-3000:]
    assert output.count(WARNING) == 1, output[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")


def test_failed_compile_fails_when_extensions_are_required(source_tree, tmp_path):
    proc, wheels = pip_wheel(
        source_tree, tmp_path, CC="/bin/false", CXX="/bin/false",
        ERLEN_REQUIRE_EXTENSIONS="1",
    )
    assert proc.returncode != 0
    assert wheels == []


# -- what the installed package says ---------------------------------------------


@pytest.mark.parametrize(
    ("which", "env", "core"),
    [
        ("compiled", {}, "Core: compiled (erlen._local_c)"),
        (
            "compiled",
            {"ERLEN_NO_EXTENSIONS": "1"},
            "Core: pure Python (ERLEN_NO_EXTENSIONS is set)",
        ),
        (
            "pure",
            {},
            "Core: pure Python (erlen._local_c is not built or cannot be imported)",
        ),
    ],
    ids=["compiled", "compiled-env-pure", "pure-wheel"],
)
def test_version_names_the_active_core(request, which, env, core, tmp_path):
    wheel = request.getfixturevalue(f"{which}_wheel")
    proc = run([sys.executable, "-m", "erlen", "--version"], cwd=tmp_path,
               PYTHONPATH=str(unpacked(wheel)), **env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == core


@pytest.mark.parametrize(
    ("script", "args", "env"),
    [
        ("bench/calls.py", [], {}),
        ("bench/server.py", ["--rounds", "1"], {}),
        ("bench/ratios.py", [], {}),
        ("bench/ratios.py", ["--both-cores"], {"ERLEN_NO_EXTENSIONS": "1"}),
    ],
    ids=["calls", "server", "ratios", "ratios-both-cores"],
)
def test_benchmarks_refuse_a_missing_compiled_core(
    pure_wheel, script, args, env, tmp_path
):
    """The scripts measure the installed erlen; here the pure wheel, where
    the compiled core they report on is missing (nothing is measured)."""
    proc = run([sys.executable, str(ROOT / script), *args], cwd=tmp_path,
               PYTHONPATH=str(unpacked(pure_wheel)), **env)
    assert proc.returncode != 0
    assert "compiled core" in proc.stderr, proc.stderr[-3000:]
    assert f"{script}:" in proc.stderr
