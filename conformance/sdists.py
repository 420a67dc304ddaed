"""The sdists whose test suites the conformance checks run, and their cache.

``flask_suite.py`` and ``extensions.py`` run the test directories of pinned
sdists from PyPI. Each sdist is downloaded once, checked against its SHA-256
and extracted into the cache: ``ERLEN_CONFORMANCE_CACHE`` when set, otherwise
``.cache/conformance`` at the repository's root. Later runs need no network.

When an sdist is neither cached nor downloadable (no network), the runners
print one line that starts with :data:`UNAVAILABLE` and exit with status
:data:`UNAVAILABLE_EXIT`; the tests turn that into a skip, except in CI.

``python conformance/sdists.py`` downloads every suite into the cache, to
prepare a machine that will run the tests offline.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = Path(os.environ.get("ERLEN_CONFORMANCE_CACHE", ROOT / ".cache" / "conformance"))
UNAVAILABLE = "conformance suite unavailable:"
UNAVAILABLE_EXIT = 75  # EX_TEMPFAIL: try again with network access


class SuiteUnavailable(Exception):
    """An sdist is not in the cache and could not be downloaded."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(dist: str, version: str, sdist: str, digest: str, tree: str,
          tests: str = "tests") -> Path:
    """The extracted source tree of ``dist==version``, downloading it once.

    ``sdist`` is the file's name on PyPI, ``digest`` its SHA-256 and ``tree``
    the top directory inside it, which must hold ``tests``.
    """
    root = CACHE / tree
    if (root / tests).is_dir():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / sdist
    if not archive.exists() or sha256(archive) != digest:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", f"{dist}=={version}", "-d", str(CACHE)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        if proc.returncode != 0:
            raise SuiteUnavailable(
                f"{dist}=={version}'s sdist is not in {CACHE} and pip could not"
                " download it (no network?); run once with network access, or"
                f" point ERLEN_CONFORMANCE_CACHE at a folder holding {sdist}"
                f"\n{proc.stdout[-2000:]}"
            )
    if not archive.exists():
        raise SystemExit(f"{dist}: pip did not download {sdist}")
    found = sha256(archive)
    if found != digest:
        archive.unlink()
        raise SystemExit(f"{sdist}: SHA-256 {found} is not the pinned {digest}")
    with tarfile.open(archive) as tf:
        tf.extractall(CACHE, filter="data")
    if not (root / tests).is_dir():
        raise SystemExit(f"{sdist} has no {tree}/{tests} directory")
    return root


def report_unavailable(exc: SuiteUnavailable) -> int:
    """Print why the suite cannot run, pip's output last; return the exit status."""
    first, _, details = str(exc).partition("\n")
    if details:
        print(details, file=sys.stderr)
    print(f"{UNAVAILABLE} {first}", flush=True)
    return UNAVAILABLE_EXIT


def unavailable_reason(output: str) -> str | None:
    """The runner's one line saying why its suite could not run, if it said so."""
    for line in reversed(output.splitlines()):
        if line.startswith(UNAVAILABLE):
            return line
    return None


def main() -> int:
    import extensions
    import flask_suite

    try:
        flask_suite.fetch_suite()
        for ext in extensions.EXTENSIONS:
            extensions.fetch_suite(ext)
    except SuiteUnavailable as exc:
        return report_unavailable(exc)
    print(f"every conformance suite is in {CACHE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
