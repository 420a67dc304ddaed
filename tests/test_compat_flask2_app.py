"""An application and its tests written for Flask 2.0 to 2.2 (in
``tests/flask2_app``), run unchanged on erlen through the ``flask`` alias.

The alias must be installed before anything imports ``flask``, so the suite
runs in a fresh interpreter. Its files are named ``check_*.py`` so that this
test run does not collect them against the real Flask 3.1, which no longer
has the APIs they use.
"""

import os
import re
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
APP_DIR = os.path.join(HERE, "flask2_app")

RUNNER = textwrap.dedent(
    """
    import sys

    import erlen

    erlen.install_as_flask()

    import flask
    import pytest

    code = pytest.main(
        [
            "-q",
            "-p", "no:cacheprovider",
            "--rootdir", sys.argv[1],
            "-c", "/dev/null",
            "-o", "python_files=check_*.py",
            sys.argv[1],
        ]
    )
    from flask2_app import create_app

    print("flask is", flask.__name__, type(create_app()).__module__)
    sys.exit(code)
    """
)


def test_flask_2_app_suite_runs_unchanged_on_erlen():
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, APP_DIR],
        cwd=HERE,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": HERE,
            "FLASK_ENV": "",
            "FLASK_DEBUG": "",
            "ERLEN_DEBUG": "",
        },
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = re.search(r"(\d+) passed", proc.stdout)
    assert summary is not None, proc.stdout
    assert int(summary.group(1)) == 7
    assert "failed" not in proc.stdout and "error" not in proc.stdout.lower()
    assert "flask is erlen erlen.app" in proc.stdout


def test_the_suite_uses_the_removed_apis():
    """The suite keeps exercising what it is here for."""
    source = ""
    for name in sorted(os.listdir(APP_DIR)):
        if name.endswith(".py"):
            with open(os.path.join(APP_DIR, name), encoding="utf-8") as f:
                source += f.read()
    for used in (
        "def create_app(",
        "@app.before_first_request",
        "@notes.before_app_first_request",
        "app.env",
        "from flask.helpers import locked_cached_property",
        "app.json_encoder = ",
        "from flask.json import JSONEncoder",
        "app.session_cookie_name = ",
        "JSON_SORT_KEYS=False",
        "JSON_AS_ASCII=False",
    ):
        assert used in source, used
    assert "import erlen" not in source and "from erlen" not in source
