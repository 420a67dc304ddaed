"""mypy over erlen's package (strict, as configured in pyproject.toml) and
over ``tests/typing/``, which checks the types that the public API gives to
application code."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if importlib.util.find_spec("mypy") is None and not os.environ.get("CI"):
    pytest.skip(
        "mypy is not installed (it is in the test extra)", allow_module_level=True
    )


def run_mypy(*paths: str) -> None:
    # The configuration in pyproject.toml applies: run from the project root.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_is_clean_under_strict():
    run_mypy("src/erlen")


def test_public_api_types():
    run_mypy("tests/typing/check_public_api.py")
