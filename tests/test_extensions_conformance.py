"""Popular Flask extensions' own test suites pass on erlen through the alias.

Runs ``conformance/extensions.py`` (Flask-Login, Flask-JWT-Extended,
Flask-HTTPAuth, Flask-WTF, Flask-SQLAlchemy, Flask-CORS, Flask-Caching) in a
subprocess. The script pip-installs the pinned extensions and downloads their
sdists from PyPI the first time, then takes a minute or two; deselect it with
``-k "not extensions_conformance"``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "conformance" / "extensions.py"


def test_extensions_conformance():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-20000:]
    assert "extensions conformance: PASS" in proc.stdout, proc.stdout[-20000:]
