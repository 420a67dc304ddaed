"""ruff over the whole tree, with the rules configured in pyproject.toml."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


if importlib.util.find_spec("ruff") is None and not os.environ.get("CI"):
    pytest.skip(
        "ruff is not installed (it is in the test extra)", allow_module_level=True
    )


def test_tree_is_lint_clean():
    command = [sys.executable, "-m", "ruff", "check", "--no-cache"]
    result = subprocess.run(
        [*command, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
