"""Popular Flask extensions' own test suites, run unmodified on erlen.

For each extension below (authentication and login sessions, forms with
CSRF protection, ORM integration, CORS, caching) this check:

1. checks that the extension and what its tests need are installed at the
   pinned versions (``pip install ".[test]"`` installs them; ``--install``
   installs whatever is missing, with ``--no-deps`` so that no other Flask is
   pulled in);
2. fetches the extension's pinned sdist from PyPI into the cache (see
   ``sdists.py``), checks its SHA-256 and extracts it;
3. runs the sdist's test directory with pytest in a subprocess, with the
   ``extensions_plugin`` plugin installing the ``flask`` alias
   (:func:`erlen.install_as_flask`) before anything imports Flask;
4. unless ``--no-baseline`` is given (or Flask itself is not installed), runs
   the same suite once more on the real Flask, for comparison;
5. compares erlen's outcome with ``extensions_expected.txt``: a failure that
   is not listed there fails the check, a listed test that now passes fails
   it too (take it off the list), and so does a suite that passes fewer tests
   than its ``min_passed``.

Usage::

    python conformance/extensions.py [--only flask-cors,flask-wtf]
        [--no-baseline] [--install] [-- extra pytest args]

The extensions' suites need ``pytest<9``. ``ERLEN_NO_EXTENSIONS=1`` in the
environment runs them on erlen's pure-Python core instead of the compiled one.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from sdists import fetch
from sdists import report_unavailable
from sdists import SuiteUnavailable

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "extensions_expected.txt"
FLASK_VERSION = "3.1.3"
SUITE_TIMEOUT = 600  # seconds, for one run of one suite
# NOTE: the suites turn every warning into an error. CPython 3.12 deprecates
# datetime.utcnow(), which Flask-Login and Flask-SQLAlchemy's tests call, and
# 3.13 warns when an unclosed sqlite3 connection is collected, which then
# fails whichever test is running. Both happen on the real Flask as on erlen;
# these two warnings, and only they, are let through on every run.
WARNING_FILTERS = (
    "-W", "ignore:datetime.datetime.utcnow() is deprecated:DeprecationWarning",
    "-W", "ignore:unclosed database:ResourceWarning",
)


@dataclasses.dataclass(frozen=True)
class Extension:
    """One extension under test: its pinned sdist and what its tests need."""

    name: str  # the distribution's name on PyPI, as ``pip`` spells it
    version: str
    sdist: str  # the sdist's file name on PyPI
    sha256: str
    tree: str  # the top directory inside the sdist
    kind: str  # which kind of extension it stands for
    min_passed: int  # erlen's run must pass at least this many tests
    # ``name==version``; a bare name (for a library that erlen's own test
    # environment may already hold at another version) is only required to
    # be there. The ``test`` extra in pyproject.toml lists the same pins.
    requires: tuple[str, ...] = ()
    tests: str = "tests"
    pytest_args: tuple[str, ...] = ()


_NEWEST: tuple[Extension, ...] = (
    Extension(
        name="flask-login",
        version="0.6.3",
        sdist="Flask-Login-0.6.3.tar.gz",
        sha256="5e23d14a607ef12806c699590b89d0f0e0d67baeec599d75947bf9c147330333",
        tree="Flask-Login-0.6.3",
        kind="authentication and login sessions",
        min_passed=114,
        requires=("semantic-version==2.10.0",),
    ),
    Extension(
        name="flask-jwt-extended",
        version="4.7.4",
        sdist="flask_jwt_extended-4.7.4.tar.gz",
        sha256="78fd0f460317facf3a0084a6457ffaf2f1dda9eefbd576f94cea35b0eadd5531",
        tree="flask_jwt_extended-4.7.4",
        kind="authentication (JSON Web Tokens)",
        min_passed=180,
        # cryptography for the asymmetric-key tests, as its tox.ini has it.
        requires=(
            "pyjwt==2.15.1",
            "cryptography==50.0.2",
            "cffi==2.1.1",
            "pycparser==3.12",
            "python-dateutil==2.9.0.post0",
            "six==1.17.0",
        ),
    ),
    Extension(
        name="flask-httpauth",
        version="4.8.1",
        sdist="flask_httpauth-4.8.1.tar.gz",
        sha256="88499b22f1353893743c3cd68f2ca561c4ad9ef75cd6bcc7f621161cd0e80744",
        tree="flask_httpauth-4.8.1",
        kind="authentication (HTTP Basic, Digest and token)",
        min_passed=121,
        requires=("asgiref",),  # its async views
    ),
    Extension(
        name="flask-wtf",
        version="1.3.0",
        sdist="flask_wtf-1.3.0.tar.gz",
        sha256="61d5dabc50c3df885c297dcbd80810443a5d632106c8a69cab8ce740f0cdd7cc",
        tree="flask_wtf-1.3.0",
        kind="forms with CSRF protection",
        min_passed=85,
        # Flask-Babel and Flask-Reuploaded are optional: with them the i18n
        # and upload-set tests run instead of being skipped.
        requires=(
            "wtforms==3.3.2",
            "flask-babel==4.0.0",
            "babel==2.18.0",
            "pytz==2026.6",
            "flask-reuploaded==1.6.0",
        ),
    ),
    Extension(
        name="flask-sqlalchemy",
        version="3.1.1",
        sdist="flask_sqlalchemy-3.1.1.tar.gz",
        sha256="e4b68bb881802dda1a7d878b2fc84c06d1ee57fb40b874d3dc97dabfa36b8312",
        tree="flask_sqlalchemy-3.1.1",
        kind="ORM integration",
        min_passed=450,
        requires=("sqlalchemy==2.0.58", "typing-extensions"),
    ),
    Extension(
        name="flask-cors",
        version="6.0.5",
        sdist="flask_cors-6.0.5.tar.gz",
        sha256="30c5031552cd59f620ac0c8211dac45b345d3b2df310e7721879e4f46ef9c601",
        tree="flask_cors-6.0.5",
        kind="CORS",
        min_passed=85,
        # NOTE: one module failing to import must not stop the others.
        pytest_args=("--continue-on-collection-errors",),
    ),
    Extension(
        name="flask-caching",
        version="2.5.1",
        sdist="flask_caching-2.5.1.tar.gz",
        sha256="f75b451fde3faac0e278da72263818134deca8c4ba6bb07b9b3b238991368dae",
        tree="flask_caching-2.5.1",
        kind="caching",
        min_passed=211,
        # The redis and memcache clients make the backend-construction tests
        # run; the tests that need a live redis or memcached server skip
        # themselves when none is there (see ``suite_env``).
        requires=(
            "cachelib==0.17.0",
            "pytest-xprocess==1.0.2",
            "psutil==7.2.2",
            "redis==7.1.0",
            "python-memcached==1.62",
        ),
    ),
)

# CPython 3.10: where a pin above needs 3.11 or later, the last release that
# still supports 3.10. "pins" swaps the versions of what the tests need; the
# other keys replace the extension's own fields.
_ON_PYTHON_310: dict[str, dict[str, t.Any]] = {
    "flask-jwt-extended": {"pins": {"pycparser": "3.11"}},
    "flask-wtf": {"pins": {"wtforms": "3.2.2"}},
    "flask-caching": {
        # redis-py 5.3 deprecated a call that 2.4.1 makes.
        "pins": {"cachelib": "0.14.0", "redis": "5.2.1"},
        "version": "2.4.1",
        "sdist": "flask_caching-2.4.1.tar.gz",
        "sha256": "ecef4ca80b9cb1fa01d461373a0fce441527cd57eecee1aa71c1f6d750d7ff77",
        "tree": "flask_caching-2.4.1",
        # Its tests share one live redis-server (started when installed) and
        # these fail or pass by what earlier tests left there, on the real
        # Flask as on erlen; 2.5 isolates them.
        "pytest_args": tuple(
            arg
            for test in (
                "tests/test_backend_cache.py::TestRedisCache::test_generic_inc_dec",
                "tests/test_basic_app.py::test_app_redis_cache_backend_url_custom_db",
                "tests/test_basic_app.py::test_app_redis_cache_backend_url_default_db",
                "tests/test_basic_app.py::test_app_redis_cache_backend_url_explicit_db_arg",
            )
            for arg in ("--deselect", test)
        ),
        "min_passed": 178,
    },
}


def extensions_for(python: tuple[int, int]) -> tuple[Extension, ...]:
    """The extensions, pinned for CPython ``python`` (major, minor)."""
    if python >= (3, 11):
        return _NEWEST
    exts = []
    for ext in _NEWEST:
        changes = dict(_ON_PYTHON_310.get(ext.name, {}))
        swap = changes.pop("pins", {})
        requires = tuple(
            f"{name}=={swap[name]}" if name in swap else pin
            for pin in ext.requires
            for name in [pin.partition("==")[0]]
        )
        exts.append(dataclasses.replace(ext, requires=requires, **changes))
    return tuple(exts)


EXTENSIONS = extensions_for(sys.version_info[:2])


def installed_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def pins(exts: list[Extension] | tuple[Extension, ...] = EXTENSIONS) -> list[str]:
    """Every ``name==version`` (or bare name) that ``exts`` need, once each."""
    found = []
    for ext in exts:
        found.append(f"{ext.name}=={ext.version}")
        found.extend(ext.requires)
    return list(dict.fromkeys(found))


def missing_pins(exts: list[Extension]) -> list[str]:
    """The pins that are not installed, or installed at another version."""
    missing = []
    for pin in pins(exts):
        dist, _, version = pin.partition("==")
        have = installed_version(dist)
        if have is None or (version and have != version):
            missing.append(pin)
    return missing


def install(missing: list[str]) -> None:
    """pip-install ``missing`` with ``--no-deps``: each extension declares a
    dependency on ``flask``, and erlen stands in for it."""
    print("installing:", " ".join(missing), flush=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *missing],
        check=True,
    )
    importlib.invalidate_caches()


def fetch_suite(ext: Extension) -> Path:
    """The extracted sdist of ``ext``, downloading it once."""
    return fetch(ext.name, ext.version, ext.sdist, ext.sha256, ext.tree, ext.tests)


def read_manifest() -> dict[str, dict[str, str]]:
    """``{extension name: {test id: reason}}`` from ``extensions_expected.txt``.

    The file is made of ``[extension-name]`` sections, each listing
    ``test id | reason`` lines.
    """
    known = {ext.name for ext in EXTENSIONS}
    expected: dict[str, dict[str, str]] = {name: {} for name in known}
    section: str | None = None
    for n, raw in enumerate(MANIFEST.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            if section not in known:
                raise SystemExit(f"{MANIFEST.name}:{n}: unknown extension {section!r}")
            continue
        nodeid, sep, reason = line.partition("|")
        if section is None:
            raise SystemExit(f"{MANIFEST.name}:{n}: entry before any [name] header")
        if not sep or not reason.strip():
            raise SystemExit(f"{MANIFEST.name}:{n}: an entry needs a reason: {line!r}")
        expected[section][nodeid.strip()] = reason.strip()
    return expected


def suite_env(out: Path, real_flask: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "ERLEN_CONFORMANCE_OUT": str(out),
        "ERLEN_CONFORMANCE_REAL_FLASK": "1" if real_flask else "0",
        "PYTHONPATH": os.pathsep.join(
            [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    # NOTE: Flask-Caching's conftest turns "no redis/memcached server" into a
    # failure when CI=true; this check starts no servers, on CI or off it, so
    # its suites must see the same environment in both places.
    env.pop("CI", None)
    return env


def run_suite(
    ext: Extension, tree: Path, real_flask: bool, extra: list[str], verbose: bool
) -> tuple[dict[str, str], float]:
    """Run the suite once; return each test's outcome and the time it took."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "outcomes.json"
        # NOTE: the plugin must load before the suite's conftest imports flask.
        # The cache provider stays on (pytest-xprocess needs it), pointed away
        # from the extracted tree.
        cmd = [sys.executable, "-m", "pytest", ext.tests, "-p", "extensions_plugin",
               "-o", f"cache_dir={Path(tmp) / 'pytest_cache'}",
               "-q", "--no-header", "-rN", *WARNING_FILTERS, *ext.pytest_args,
               *extra]
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, cwd=tree, env=suite_env(out, real_flask), timeout=SUITE_TIMEOUT,
            stdout=None if verbose else subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )
        elapsed = time.perf_counter() - start
        if not out.exists():
            if proc.stdout:
                print(proc.stdout[-5000:])
            where = "Flask" if real_flask else "erlen"
            raise SystemExit(f"{ext.name}: the suite did not run on {where}"
                             f" (pytest exit {proc.returncode})")
        return json.loads(out.read_text()), elapsed


def counts(outcomes: dict[str, str]) -> tuple[int, int, int]:
    values = list(outcomes.values())
    return values.count("passed"), values.count("failed"), values.count("skipped")


def describe(outcomes: dict[str, str] | None) -> str:
    if outcomes is None:
        return "not run"
    p, f, s = counts(outcomes)
    return (f"{p} passed, {f} failed, {s} skipped"
            f" ({100 * p / max(p + f + s, 1):.1f}% of all passed,"
            f" {100 * p / max(p + f, 1):.1f}% of those not skipped)")


def check(
    ext: Extension,
    outcomes: dict[str, str],
    baseline: dict[str, str] | None,
    expected: dict[str, str],
    extra: list[str],
) -> bool:
    """Print the comparison for one extension; return whether it is as expected."""
    failed = sorted(k for k, v in outcomes.items() if v == "failed")
    unexpected = [k for k in failed if k not in expected]
    now_passing = [k for k in expected if outcomes.get(k) == "passed"]
    missing = [k for k in expected if k not in outcomes]
    ok = True
    for k in failed:
        mark = "expected" if k in expected else "UNEXPECTED"
        print(f"    {mark}: {k}" + (f"  [{expected[k]}]" if k in expected else ""))
    if unexpected:
        ok = False
        print(f"    FAIL: {len(unexpected)} failure(s) not in {MANIFEST.name}")
    if now_passing:
        ok = False
        print(f"    FAIL: these now pass; remove them from {MANIFEST.name}:")
        for k in now_passing:
            print(f"      {k}")
    if missing and not extra:
        ok = False
        print(f"    FAIL: listed in {MANIFEST.name} but not run: {missing}")
    passed = counts(outcomes)[0]
    if not extra and passed < ext.min_passed:
        ok = False
        print(f"    FAIL: {passed} passed, at least {ext.min_passed} must")
    if baseline is not None:
        # Informational: what fails on Flask too is an environment or version
        # matter, not erlen's; say so in the manifest's reason.
        for k in sorted(k for k, v in baseline.items() if v == "failed"):
            if k not in expected:
                print(f"    note: fails on Flask {FLASK_VERSION} too, not listed: {k}")
        for k, reason in expected.items():
            pre_existing = reason.startswith("fails on Flask")
            if pre_existing and baseline.get(k) == "passed":
                print(f"    note: listed as failing on Flask too, passes there: {k}")
            if not pre_existing and baseline.get(k) == "failed":
                print(f"    note: listed as erlen's, but fails on Flask too: {k}")
    return ok


def main(argv: list[str]) -> int:
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated extension names")
    parser.add_argument("--no-baseline", action="store_true",
                        help="do not run the suites on the real Flask")
    parser.add_argument("--install", action="store_true",
                        help="pip-install the pinned packages that are missing")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show pytest's own output")
    args = parser.parse_args(own)

    exts = list(EXTENSIONS)
    if args.only:
        wanted = {n.strip() for n in args.only.split(",") if n.strip()}
        unknown = wanted - {e.name for e in exts}
        if unknown:
            parser.error(f"unknown extension(s): {sorted(unknown)}")
        exts = [e for e in exts if e.name in wanted]
    missing = missing_pins(exts)
    if missing and args.install:
        install(missing)
    elif missing:
        print("not installed at the pinned versions:", " ".join(missing))
        print('`pip install ".[test]"` installs them (or run this with --install)')
        return 2
    baseline_on = not args.no_baseline and importlib.util.find_spec("flask") is not None
    if not args.no_baseline and not baseline_on:
        print("the real Flask is not installed: no baseline run")
    expected = read_manifest()

    ok = True
    rows = []
    try:
        trees = [fetch_suite(ext) for ext in exts]
    except SuiteUnavailable as exc:
        return report_unavailable(exc)
    for ext, tree in zip(exts, trees, strict=True):
        print(f"\n== {ext.name} {ext.version} ({ext.kind})", flush=True)
        outcomes, t_erlen = run_suite(ext, tree, False, extra, args.verbose)
        baseline = None
        if baseline_on:
            baseline, _ = run_suite(ext, tree, True, extra, args.verbose)
        print(f"  erlen:       {describe(outcomes)}  [{t_erlen:.1f}s]")
        print(f"  Flask {FLASK_VERSION}: {describe(baseline)}")
        ext_ok = check(ext, outcomes, baseline, expected[ext.name], extra)
        ok = ok and ext_ok
        rows.append((ext, outcomes, baseline, ext_ok))

    print(f"\n{'extension':<25} {'erlen pass/fail/skip':<23}"
          f" {'Flask pass/fail/skip':<22} result")
    for ext, outcomes, baseline, ext_ok in rows:
        e = "{}/{}/{}".format(*counts(outcomes))
        b = "{}/{}/{}".format(*counts(baseline)) if baseline is not None else "-"
        result = "ok" if ext_ok else "FAIL"
        print(f"{ext.name + ' ' + ext.version:<25} {e:<23} {b:<22} {result}")
    print("extensions conformance:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
