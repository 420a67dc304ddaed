"""Flask 3.1.3's own test suite as erlen's conformance gate.

Fetches the pinned ``flask==3.1.3`` sdist from PyPI (checked against its
SHA-256 and cached, see ``sdists.py``), runs its ``tests/`` directory
against erlen through :func:`erlen.install_as_flask`, and compares the
outcome with ``expected_failures.txt``:

- any failure not listed there fails the gate;
- any listed test that now passes fails the gate too (take it off the list);
- fewer than ``TARGET_PASSED`` passing tests fails the gate.

Usage: ``python conformance/flask_suite.py [-- extra pytest args]``.
Flask's tests need ``pytest<9``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sdists import fetch
from sdists import report_unavailable
from sdists import SuiteUnavailable

HERE = Path(__file__).resolve().parent
FLASK_VERSION = "3.1.3"
SDIST_NAME = f"flask-{FLASK_VERSION}.tar.gz"
SDIST_SHA256 = "0ef0e52b8a9cd932855379197dd8f94047b359ca0a78695144304cb45f87c9eb"
SUITE_SIZE = 490
TARGET_PASSED = 480  # 98% of the suite
MANIFEST = HERE / "expected_failures.txt"


def fetch_suite() -> Path:
    """The extracted Flask source tree, downloading it once."""
    return fetch("flask", FLASK_VERSION, SDIST_NAME, SDIST_SHA256,
                 f"flask-{FLASK_VERSION}")


def read_manifest() -> dict[str, str]:
    expected: dict[str, str] = {}
    for line in MANIFEST.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        nodeid, sep, reason = line.partition("|")
        if not sep or not reason.strip():
            raise SystemExit(f"{MANIFEST.name}: every entry needs a reason: {line!r}")
        expected[nodeid.strip()] = reason.strip()
    return expected


def run_suite(tree: Path, extra: list[str]) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "outcomes.json"
        env = {
            **os.environ,
            "ERLEN_CONFORMANCE_OUT": str(out),
            "PYTHONPATH": os.pathsep.join(
                [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
        # NOTE: the plugin must load before Flask's conftest imports flask.
        cmd = [sys.executable, "-m", "pytest", "tests", "-p", "extensions_plugin",
               "-p", "no:cacheprovider", "-q", "--no-header", "-rN", *extra]
        proc = subprocess.run(cmd, cwd=tree, env=env)
        if not out.exists():
            raise SystemExit(
                f"the Flask suite did not run (pytest exit {proc.returncode})"
            )
        return json.loads(out.read_text())


def main(argv: list[str]) -> int:
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    try:
        tree = fetch_suite()
    except SuiteUnavailable as exc:
        return report_unavailable(exc)
    expected = read_manifest()
    outcomes = run_suite(tree, extra)

    passed = sorted(k for k, v in outcomes.items() if v == "passed")
    failed = sorted(k for k, v in outcomes.items() if v == "failed")
    skipped = sorted(k for k, v in outcomes.items() if v == "skipped")
    unexpected = [k for k in failed if k not in expected]
    now_passing = [k for k in expected if outcomes.get(k) == "passed"]
    missing = [k for k in expected if k not in outcomes]

    print(f"\nFlask {FLASK_VERSION} test suite on erlen: {len(outcomes)} tests")
    print(f"{len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped"
          f" ({100 * len(passed) / max(len(outcomes), 1):.1f}% passed)")
    for k in failed:
        mark = "expected" if k in expected else "UNEXPECTED"
        print(f"  {mark}: {k}" + (f"  [{expected[k]}]" if k in expected else ""))
    ok = True
    if unexpected:
        ok = False
        print(f"FAIL: {len(unexpected)} failure(s) not in {MANIFEST.name}")
    if now_passing:
        ok = False
        print(f"FAIL: these now pass; remove them from {MANIFEST.name}:")
        for k in now_passing:
            print(f"  {k}")
    if missing and not extra:
        ok = False
        print(f"FAIL: listed in {MANIFEST.name} but not run: {missing}")
    if not extra and len(outcomes) != SUITE_SIZE:
        ok = False
        print(f"FAIL: expected {SUITE_SIZE} tests, ran {len(outcomes)}")
    if not extra and len(passed) < TARGET_PASSED:
        ok = False
        print(f"FAIL: {len(passed)} passed, the target is {TARGET_PASSED}")
    print("conformance gate:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
