"""The build: ``pip wheel .`` compiles the core, ``ERLEN_NO_EXTENSIONS=1`` and a
missing compiler give the pure-Python package, the sdist carries the sources.

Each build runs on a copy of the tracked files (no stale build products) with
``--no-build-isolation``, so it needs no network: Cython and setuptools come
from the test environment.
"""

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not (ROOT / ".git").exists() or shutil.which("git") is None,
    reason="needs a git checkout of erlen to copy the tracked files from",
)


@pytest.fixture(scope="module")
def source_tree(tmp_path_factory):
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode().split("\0")
    dest = tmp_path_factory.mktemp("src")
    for name in filter(None, files):
        if not (ROOT / name).exists():  # deleted in the work tree
            continue
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    return dest


def build_wheel(pristine, out, **env):
    # NOTE: a fresh copy per build: setuptools keeps objects in ./build and
    # would otherwise skip the compile a test is about.
    tree = Path(out) / "tree"
    shutil.copytree(pristine, tree)
    full_env = {**os.environ, **env}
    for key in ("ERLEN_NO_EXTENSIONS", "ERLEN_REQUIRE_EXTENSIONS", "CIBUILDWHEEL"):
        if key not in env:
            full_env.pop(key, None)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-v", "-w", str(Path(out) / "dist"), str(tree)],
        env=full_env, capture_output=True, text=True,
    )
    wheels = list((Path(out) / "dist").glob("*.whl"))
    return proc, wheels


def wheel_names(wheel):
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_wheel_contains_compiled_core_and_stub(source_tree, tmp_path):
    proc, wheels = build_wheel(source_tree, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = wheels
    assert "-none-any" not in wheel.name  # a platform wheel
    names = wheel_names(wheel)
    assert any(
        n.startswith("erlen/_local_c.") and n.endswith((".so", ".pyd")) for n in names
    )
    assert "erlen/_local_c.pyi" in names
    assert "erlen/py.typed" in names
    assert "erlen/_local_py.py" in names


def test_no_extensions_gives_pure_python_wheel(source_tree, tmp_path):
    proc, wheels = build_wheel(source_tree, tmp_path, ERLEN_NO_EXTENSIONS="1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = wheels
    assert wheel.name.endswith("-py3-none-any.whl")
    names = wheel_names(wheel)
    assert not any(n.endswith((".so", ".pyd")) for n in names)
    assert "erlen/_local_py.py" in names


def test_missing_compiler_warns_once_and_installs_pure_python(source_tree, tmp_path):
    proc, wheels = build_wheel(source_tree, tmp_path, CC="/bin/false", CXX="/bin/false")
    assert proc.returncode == 0, proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    assert output.count("erlen's compiled core could not be built") == 1
    (wheel,) = wheels
    assert not any(n.endswith((".so", ".pyd")) for n in wheel_names(wheel))


def test_missing_compiler_fails_loudly_when_extensions_are_required(source_tree, tmp_path):
    proc, wheels = build_wheel(
        source_tree, tmp_path, CC="/bin/false", CXX="/bin/false",
        ERLEN_REQUIRE_EXTENSIONS="1",
    )
    assert proc.returncode != 0
    assert wheels == []


def test_sdist_carries_sources_tests_and_benchmarks(source_tree, tmp_path):
    pytest.importorskip("build")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation",
         "--outdir", str(tmp_path), str(source_tree)],
        capture_output=True, text=True,
        env={**os.environ, "ERLEN_NO_EXTENSIONS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as tf:
        names = [n.split("/", 1)[1] for n in tf.getnames() if "/" in n]
    assert "_speedups/_local_c.pyx" in names
    assert "setup.py" in names
    assert "src/erlen/_local_c.pyi" in names
    assert any(n.startswith("tests/test_local") for n in names)
    assert any(n.startswith("bench/") and n.endswith(".py") for n in names)
    assert not any(n.endswith((".so", ".c")) for n in names)
