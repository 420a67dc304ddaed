"""pytest plugin for the conformance runs (``flask_suite.py`` and
``extensions.py``).

Unless ``ERLEN_CONFORMANCE_REAL_FLASK=1`` is set, it installs the ``flask``
alias before the extension's conftest or tests import anything, so the suite
runs on erlen; with it set the suite runs on the real Flask, as a baseline.
Either way it records every test's outcome (and every collection error) in
the JSON file named by ``ERLEN_CONFORMANCE_OUT``.
"""

from __future__ import annotations

import json
import os
import sys

REAL_FLASK = os.environ.get("ERLEN_CONFORMANCE_REAL_FLASK") == "1"

if not REAL_FLASK:
    import erlen

    erlen.install_as_flask()

_outcomes: dict[str, str] = {}


def pytest_collectreport(report):
    # A module that fails to import never produces test reports; count it as
    # one failed entry under the module's node id so it cannot go unnoticed.
    if report.failed:
        _outcomes[report.nodeid or "<collection>"] = "failed"


def pytest_runtest_logreport(report):
    # A test failed if any phase (setup, call, teardown) failed; it passed if
    # its call passed; a skip (or an xfail) in setup or call makes it skipped.
    current = _outcomes.get(report.nodeid)
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.skipped and current != "failed":
        _outcomes[report.nodeid] = "skipped"
    elif report.when == "call" and report.passed and current is None:
        _outcomes[report.nodeid] = "passed"


def pytest_sessionfinish(session):
    flask = sys.modules.get("flask")
    if flask is not None:
        name = getattr(flask, "__name__", "")
        # NOTE: guards against a run that silently tested the wrong framework.
        if REAL_FLASK and name != "flask":
            raise RuntimeError(f"baseline run imported {name!r} as flask")
        if not REAL_FLASK and name != "erlen":
            raise RuntimeError(f"erlen run imported {name!r} as flask")
    path = os.environ.get("ERLEN_CONFORMANCE_OUT")
    if path:
        with open(path, "w") as f:
            json.dump(_outcomes, f, indent=1, sort_keys=True)
