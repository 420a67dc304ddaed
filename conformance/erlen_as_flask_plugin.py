"""pytest plugin for the conformance run: installs the ``flask`` alias before
Flask's own conftest imports anything, and records every test's outcome."""

import json
import os

import erlen

erlen.install_as_flask()

_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report):
    # A test failed if any phase (setup, call, teardown) failed; it passed if
    # its call passed; a skip in setup or call makes it skipped.
    current = _outcomes.get(report.nodeid)
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.skipped and current != "failed":
        _outcomes[report.nodeid] = "skipped"
    elif report.when == "call" and report.passed and current is None:
        _outcomes[report.nodeid] = "passed"


def pytest_sessionfinish(session):
    path = os.environ.get("ERLEN_CONFORMANCE_OUT")
    if path:
        with open(path, "w") as f:
            json.dump(_outcomes, f, indent=1, sort_keys=True)
