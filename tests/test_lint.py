"""ruff over the whole tree, with the rules configured in pyproject.toml."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Files under rework that are not lint-clean yet; each leaves this list once
# `ruff check` passes on it.
NOT_YET_CLEAN = [
    "bench/server.py",
    "src/erlen/_local_py.py",
    "src/erlen/cli.py",
    "src/erlen/local.py",
    "tests/test_local.py",
    "tests/test_local_isolation.py",
    "tests/test_local_property.py",
    "tests/test_local_proxy.py",
]

if importlib.util.find_spec("ruff") is None and not os.environ.get("CI"):
    pytest.skip(
        "ruff is not installed (it is in the test extra)", allow_module_level=True
    )


def test_tree_is_lint_clean():
    exclude = ",".join(NOT_YET_CLEAN)
    command = [sys.executable, "-m", "ruff", "check", "--no-cache"]
    result = subprocess.run(
        [*command, "--extend-exclude", exclude, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
