"""bench/server.py kept working: one short round of the real-server check.

CI runs it once in its quick mode (one round, the bounded Python client, so
wrk need not be installed); it checks that the script starts gunicorn and
granian for every row, drives them, stops them and reports, not how fast
anything is. The report's statistics and targets are checked on their own
below.
"""

from __future__ import annotations

import importlib.util
import re
import statistics
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import server


def test_quick_run_reports_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("gunicorn")
    rc = server.main(["--quick"])
    out = capsys.readouterr().out
    assert rc in (0, 1)  # 1: a target missed, which one short round may do
    servers = ["gunicorn"] + (
        ["granian"] if importlib.util.find_spec("granian") else []
    )
    for name in servers:
        for app in server.APPS:
            line = re.search(
                rf"^\| {app} \| {name} \| 1 \| ([\d,]+) \|", out, re.MULTILINE
            )
            assert line is not None, out
            assert int(line.group(1).replace(",", "")) > 0
        assert re.search(
            rf"^\| floor \| {name} \| 1 \|.*\| 100% \(100%-100%\) \|$",
            out,
            re.MULTILINE,
        ), out
    targets = re.findall(r"^Target: .*: (PASS|FAIL)$", out, re.MULTILINE)
    # With granian: two ratios, the share and the p99; gunicorn alone: none.
    assert len(targets) == (4 if "granian" in servers else 0), out
    assert ("FAIL" not in targets) == (rc == 0)


def _results(
    rps: dict[tuple[str, str], float], p99: dict[tuple[str, str], float]
) -> dict:
    return {
        server.Row(app, name, 1): {
            "rps": value,
            "p99": p99[(app, name)],
            "shares": [value / rps[("floor", name)]],
        }
        for (app, name), value in rps.items()
    }


def test_target_lines() -> None:
    rps = {
        ("erlen", "granian"): 40_000.0,
        ("flask", "granian"): 9_000.0,
        ("floor", "granian"): 50_000.0,
        ("erlen", "gunicorn"): 6_000.0,
        ("flask", "gunicorn"): 3_900.0,
        ("floor", "gunicorn"): 7_000.0,
    }
    p99 = {key: 0.002 for key in rps}
    lines = dict(server.target_lines("hello", _results(rps, p99), [1]))
    assert len(lines) == 4
    passed = {text.split(":")[0]: ok for text, ok in lines.items()}
    assert passed == {
        "erlen on erlen serve / Flask on gunicorn sync, 1 worker(s)": True,  # 10.3x
        "erlen / Flask, both on granian, 1 worker(s)": True,  # 4.4x
        "erlen's share of the bare callable on granian, 1 worker(s)": True,  # 80%
        (
            "p99 of erlen on erlen serve 2.00 ms vs Flask on gunicorn sync 2.00 ms,"
            " 1 worker(s), same load (no worse)"
        ): True,
    }
    # Realistic has lower goals: 5x and 2.5x.
    rps[("erlen", "granian")] = 20_000.0
    p99[("erlen", "granian")] = 0.003
    lines = server.target_lines("realistic", _results(rps, p99), [1])
    # 5.1x over gunicorn passes; 2.2x over Flask on granian and a worse
    # p99 do not. The share of the bare callable is judged for hello only.
    assert [ok for _, ok in lines] == [True, False, False]
    assert not any("share" in text for text, _ in lines)
    assert "5.1x (target 5x)" in lines[0][0]
    assert "2.2x (target 2.5x)" in lines[1][0]


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
