"""Popular Flask extensions' own test suites pass on erlen through the alias.

Runs ``conformance/extensions.py`` (Flask-Login, Flask-JWT-Extended,
Flask-HTTPAuth, Flask-WTF, Flask-SQLAlchemy, Flask-CORS, Flask-Caching) in a
subprocess. ``pip install ".[test]"`` installs the pinned extensions and what
their tests need; the script downloads their sdists once into the cache (see
``conformance/sdists.py``), then takes a minute or two; deselect it with
``-k "not extensions_conformance"``. Without network access and without the
cache it skips, saying why, except in CI.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

CONFORMANCE = Path(__file__).resolve().parent.parent / "conformance"
SCRIPT = CONFORMANCE / "extensions.py"

sys.path.insert(0, str(CONFORMANCE))
try:
    import extensions
    import sdists
finally:
    sys.path.remove(str(CONFORMANCE))

def test_extensions_conformance():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )
    reason = sdists.unavailable_reason(proc.stdout)
    if reason is not None and not os.environ.get("CI"):
        pytest.skip(reason)
    assert proc.returncode == 0, proc.stdout[-20000:]
    assert "extensions conformance: PASS" in proc.stdout, proc.stdout[-20000:]


@pytest.mark.parametrize("python", [(3, 10), (3, 11), (3, 13)])
def test_test_extra_pins_what_the_script_needs(python):
    """``pip install ".[test]"`` installs exactly the script's pins on each
    Python, so the script never has to install anything while the tests
    run."""
    extra = {}
    env = {"extra": "test", "python_version": "{}.{}".format(*python)}
    for line in importlib.metadata.requires("erlen") or []:
        req = Requirement(line)
        if req.marker is not None and req.marker.evaluate(env):
            extra[req.name.lower()] = str(req.specifier)
    for pin in extensions.pins(extensions.extensions_for(python)):
        name, _, version = pin.partition("==")
        assert name in extra, f"{name} is not in the test extra"
        if version:
            assert extra[name] == f"=={version}", name
        else:
            assert not extra[name].startswith("=="), name


def test_script_installs_nothing_by_default(tmp_path):
    """A pin installed at another version is reported, with the command that
    installs it; nothing is installed."""
    # A distribution's metadata earlier on sys.path shadows the real one.
    dist_info = tmp_path / "flask_cors-0.0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: flask-cors\nVersion: 0.0.1\n"
    )
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--only", "flask-cors", "--no-baseline"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout.splitlines() == [
        "not installed at the pinned versions: flask-cors==6.0.5",
        '`pip install ".[test]"` installs them (or run this with --install)',
    ]
