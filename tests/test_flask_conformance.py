"""Flask 3.1.3's own test suite, run against erlen through the ``flask``
alias, must pass at or above the target with only the documented expected
failures (see conformance/expected_failures.txt).

The suites come from sdists downloaded once into a cache (see
``conformance/sdists.py``). Without network access and without the cache,
the conformance tests skip with one line that says why; in CI (``CI`` set)
they fail instead.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT / "conformance"
RUNNER = CONFORMANCE / "flask_suite.py"
IN_CI = bool(os.environ.get("CI"))

sys.path.insert(0, str(CONFORMANCE))
try:
    import sdists
finally:
    sys.path.remove(str(CONFORMANCE))


def runner_env(**changes):
    """The environment for a runner or a nested pytest: no PYTEST_ variables
    of this run; ``changes`` set (or, when ``None``, remove) variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def test_flask_suite_conformance_gate():
    proc = subprocess.run(
        [sys.executable, str(RUNNER)], capture_output=True, text=True, env=runner_env()
    )
    reason = sdists.unavailable_reason(proc.stdout)
    if reason is not None and not IN_CI:
        pytest.skip(reason)
    start = proc.stdout.rfind("Flask 3.1.3 test suite")
    summary = proc.stdout[start:] if start >= 0 else proc.stdout[-2000:]
    assert proc.returncode == 0, summary + proc.stderr[-2000:]
    assert "conformance gate: PASS" in proc.stdout


GATES = [
    pytest.param("tests/test_flask_conformance.py::test_flask_suite_conformance_gate",
                 "flask==3.1.3", id="flask"),
    pytest.param(
        "tests/test_extensions_conformance.py::test_extensions_conformance",
        "flask-login==0.6.3",
        id="extensions",
        marks=pytest.mark.skipif(
            sys.version_info < (3, 11),
            reason="the extensions' pinned test requirements need Python 3.11+",
        ),
    ),
]


@pytest.mark.parametrize("ci", [False, True], ids=["local", "ci"])
@pytest.mark.parametrize(("nodeid", "first_pin"), GATES)
def test_offline_gate_skips_with_its_reason_except_in_ci(
    tmp_path, nodeid, first_pin, ci
):
    """An empty cache and an index that refuses connections (a loopback port
    with nothing listening): the gate skips with one line, or fails in CI."""
    cache = tmp_path / "cache"
    env = runner_env(
        ERLEN_CONFORMANCE_CACHE=str(cache),
        PIP_INDEX_URL="http://127.0.0.1:9/",
        PIP_CONFIG_FILE=os.devnull,  # no extra index or find-links from pip.conf
        PIP_FIND_LINKS=None,
        PIP_EXTRA_INDEX_URL=None,
        PIP_RETRIES="0",
        CI="true" if ci else None,
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", nodeid, "-q", "-p", "no:cacheprovider", "-rs"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    lines = proc.stdout.splitlines()
    expected = (
        f"{sdists.UNAVAILABLE} {first_pin}'s sdist is not in {cache} and pip could"
        " not download it (no network?)"
    )
    if ci:
        assert proc.returncode == 1, proc.stdout[-3000:]
        assert "1 failed" in lines[-1]
        assert expected in proc.stdout
    else:
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert "1 skipped" in lines[-1]
        skips = [line for line in lines if line.startswith("SKIPPED")]
        assert len(skips) == 1, proc.stdout[-3000:]
        assert expected in skips[0]
    # Nothing was downloaded or installed on the way.
    assert not cache.exists() or not any(cache.iterdir())
    assert "installing:" not in proc.stdout
