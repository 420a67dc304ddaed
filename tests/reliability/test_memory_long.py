"""A long run through the realistic app keeps the resident set flat, for both
implementations of the core.

Each implementation runs in its own subprocess (``python apps.py memory``), the
compiled core as built and the pure-Python twin under
``ERLEN_NO_EXTENSIONS=1``, so neither sees the other's allocations or the
test runner's. The subprocess builds the realistic app (before_request loads
the user from the session into ``g``; a route with an int URL parameter reads
a query argument, writes the session and returns a dict; after_request adds a
header) and calls ``app(environ, start_response)`` directly with a fresh
environ copy and ``wsgi.input`` per request, each with a valid session cookie,
consuming and closing every response.

After a warm-up (a quarter of the run, at least 5 000 requests) it measures
the RSS from /proc/self/statm, runs the requests, collects garbage and
measures again: the RSS after must be within 5% of the RSS before.

The CI run sends 20 000 requests per implementation; the full run
(``ERLEN_RELIABILITY_SCALE=full``) sends a million.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import APPS
from .conftest import scale
from .conftest import skip_unless_compiled
from .conftest import subprocess_env

pytestmark = pytest.mark.slow

if not sys.platform.startswith("linux"):
    pytest.skip("the RSS is read from /proc/self/statm", allow_module_level=True)

#: The RSS after the run may exceed the RSS before by at most this fraction.
TOLERANCE = 0.05


@pytest.mark.parametrize("implementation", ["compiled", "python"])
def test_rss_flat_over_long_run(implementation, reliability_report):
    if implementation == "compiled":
        skip_unless_compiled()
    requests = scale()["memory_requests"]
    warmup = max(5_000, requests // 4)
    # Generous: a sound run does a few thousand requests a second even on a
    # loaded machine; the limit only keeps a hung run from hanging the suite.
    limit = 120 + (requests + warmup) / 500
    proc = subprocess.run(
        [sys.executable, APPS, "memory", str(requests), str(warmup)],
        env=subprocess_env(pure_python=implementation == "python"),
        capture_output=True,
        text=True,
        timeout=limit,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])

    before, after = result["rss_before"], result["rss_after"]
    reliability_report(
        f"memory[{implementation}]: {result['requests']} requests after"
        f" {result['warmup']} warm-up; RSS before {before / 2**20:.1f} MiB,"
        f" after {after / 2**20:.1f} MiB, peak {result['rss_max'] / 2**20:.1f} MiB"
        f" ({(after - before) / before:+.2%})"
    )
    assert result["compiled"] is (implementation == "compiled")
    assert result["requests"] == requests
    assert result["statuses"] == {"200 OK": requests + warmup}
    assert result["bad"] == []
    assert result["left_pushed"] is None
    assert after <= before * (1 + TOLERANCE), (
        f"RSS grew from {before} to {after} bytes over {requests} requests"
    )
