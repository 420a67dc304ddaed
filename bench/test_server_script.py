"""bench/server.py kept working: one short round of the real-server check.

CI runs this once with the bounded Python client (wrk need not be
installed); it checks that the script starts gunicorn for every row, drives
it, stops it and reports, not how fast anything is. The report's statistics
are checked on their own below.
"""

from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import server


def test_one_round_reports_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("gunicorn")
    rc = server.main(
        [
            "--scenario",
            "hello",
            "--rounds",
            "1",
            "--duration",
            "1",
            "--client",
            "python",
        ]
    )
    out = capsys.readouterr().out
    assert rc in (0, 1)  # 1: the target missed, which one short round may do
    for row in server.ROWS:
        line = re.search(rf"^\| {row} \| ([\d,]+) \|", out, re.MULTILINE)
        assert line is not None, out
        assert int(line.group(1).replace(",", "")) > 0
    assert re.search(r"^\| floor \|.*\| 100% \(100%-100%\) \|$", out, re.MULTILINE), out
    target = re.search(r"Target: .*: (\d+)% (PASS|FAIL)", out)
    assert target is not None, out
    assert (target.group(2) == "PASS") == (rc == 0)


def test_rejects_out_of_range_options() -> None:
    with pytest.raises(SystemExit):
        server.main(["--rounds", "0"])
    with pytest.raises(SystemExit):
        server.main(["--rounds", "100"])
    with pytest.raises(SystemExit):
        server.main(["--duration", "0"])


def test_median_interval() -> None:
    assert server.median_interval([0.9] * 9) == (0.9, 0.9)
    shares = [0.72, 0.8, 0.85, 0.9, 0.93, 0.95, 0.99, 1.04, 1.1, 1.2, 0.88]
    low, high = server.median_interval(shares)
    assert min(shares) <= low <= statistics.median(shares) <= high <= max(shares)
    assert low < high
    # Seeded: the same rounds give the same interval.
    assert server.median_interval(shares) == (low, high)
    # More rounds with the same spread give a narrower interval.
    low4, high4 = server.median_interval(shares * 4)
    assert high4 - low4 < high - low


def test_share_text() -> None:
    assert server.share_text([0.8, 1.0, 0.9]) == "90% (80%-100%)"
