"""Turn a pytest-benchmark run into per-operation times, ratios and targets.

Usage::

    python bench/ratios.py                      # run bench/test_bench_local.py
    python bench/ratios.py bench                # run every benchmark
    python bench/ratios.py bench/test_bench_requests.py -- --benchmark-min-time=0.01
    python bench/ratios.py results.json         # read an existing --benchmark-json file
    python bench/ratios.py --runs 3 bench       # three runs, each row's median

Arguments ending in ``.json`` are read; anything else is passed to pytest as
a path to run (with ``--benchmark-only --benchmark-json``). Arguments after
``--`` go to pytest unchanged.

The report is generic. Each benchmark puts in ``extra_info``:

* ``row``: the row's name inside its group (default: the test's parameter id);
* ``role``: ``floor``, ``peer``, ``subject`` or ``reference`` (default: from
  the row name, see ``DEFAULT_ROLES``);
* ``ops``: how many operations one benchmarked call runs (default 1).

For every group it prints one Markdown table: time per operation, the ratio
to the group's ``floor`` row, and the speed-up over its ``peer`` row (how many
times faster than the peer the row is). Then it checks the targets in
``TARGETS`` and prints PASS or FAIL for each. The exit status is 1 if any
target fails, so CI can use it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEFAULT_TARGETS = [str(BENCH_DIR / "test_bench_local.py")]

DEFAULT_ROLES = {
    "floor": "floor",
    "werkzeug": "peer",
    "flask": "peer",
    "cython": "subject",
    "python": "subject",
    "erlen": "subject",
    "erlen-py": "subject",
}

# Preferred order of rows in a table; unknown rows come after, by name.
ROW_ORDER = ["cython", "python", "erlen", "erlen-py", "flask", "werkzeug", "floor"]


@dataclasses.dataclass(frozen=True)
class Row:
    group: str
    name: str
    role: str
    ops: int
    seconds: float  # the chosen statistic for one benchmarked call
    core: str | None = None  # for erlen rows: which core was active

    @property
    def per_op(self) -> float:
        return self.seconds / self.ops


@dataclasses.dataclass(frozen=True)
class Target:
    """A bound on a ratio between two rows of one group.

    ``ratio = time(row) / time(other)``. ``max_ratio`` bounds it from above
    (e.g. at most 1.5x the floor); ``min_speedup`` bounds ``1 / ratio`` from
    below (e.g. at least 20x faster than werkzeug).
    """

    group: str  # a group name, or "*" for every group that has both rows
    row: str
    other: str
    max_ratio: float | None = None
    min_speedup: float | None = None
    label: str = ""


TARGETS = [
    Target("proxy-attr", "cython", "floor", max_ratio=1.5,
           label="compiled proxy attribute at most 1.5x the floor"),
    Target("proxy-attr", "cython", "werkzeug", min_speedup=20.0,
           label="compiled proxy attribute at least 20x faster than werkzeug"),
    Target("stack-push-pop", "cython", "floor", max_ratio=1.5,
           label="compiled push+pop at most 1.5x two raw ContextVar.set"),
    Target("stack-push-pop", "cython", "werkzeug", min_speedup=2.0,
           label="compiled push+pop at least 2x faster than werkzeug"),
    Target("stack-top", "cython", "werkzeug", min_speedup=2.0,
           label="compiled top at least 2x faster than werkzeug"),
    Target("*", "python", "werkzeug", max_ratio=1.0,
           label="pure-Python twin no slower than werkzeug"),
    # Whole requests, in process: the floor the single request path keeps.
    Target("request-hello", "erlen", "flask", min_speedup=10.0,
           label="hello: compiled erlen at least 10x Flask's requests per second"),
    Target("request-hello", "erlen-py", "flask", min_speedup=5.0,
           label="hello: pure-Python erlen at least 5x Flask's requests per second"),
    Target("request-realistic", "erlen", "flask", min_speedup=4.0,
           label="realistic: compiled erlen at least 4x Flask's requests per second"),
    Target("request-async", "erlen", "flask", min_speedup=3.0,
           label="async view: erlen at least 3x Flask's requests per second"),
]


def run_pytest(
    paths: list[str], extra: list[str], env_extra: dict[str, str] | None = None
) -> dict[str, t.Any]:
    """Run the benchmarks and return pytest-benchmark's JSON report."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        env = dict(os.environ)
        env.update(env_extra or {})
        cmd = [
            sys.executable, "-m", "pytest", *paths,
            "--benchmark-only", f"--benchmark-json={out}", "-q", *extra,
        ]
        prefix = " ".join(f"{k}={v}" for k, v in (env_extra or {}).items())
        print("$", prefix, " ".join(cmd), file=sys.stderr)
        # pytest's own table goes to stderr so that stdout is only Markdown.
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=sys.stderr)
        if not out.exists():
            sys.exit(
                f"pytest wrote no benchmark report (exit status {proc.returncode})"
            )
        if proc.returncode not in (0, 5):
            print(f"warning: pytest exited with {proc.returncode}", file=sys.stderr)
        return json.loads(out.read_text())


def row_name(bench: dict[str, t.Any]) -> str:
    extra = bench.get("extra_info") or {}
    if extra.get("row"):
        return str(extra["row"])
    if bench.get("param"):
        return str(bench["param"])
    name = bench["name"]
    return name[name.find("[") + 1 : -1] if name.endswith("]") else name


def load_rows(report: dict[str, t.Any], stat: str) -> dict[str, dict[str, Row]]:
    groups: dict[str, dict[str, Row]] = {}
    for bench in report.get("benchmarks", []):
        extra = bench.get("extra_info") or {}
        name = row_name(bench)
        group = bench.get("group") or bench["name"].split("[")[0]
        row = Row(
            group=group,
            name=name,
            role=str(extra.get("role") or DEFAULT_ROLES.get(name, "reference")),
            ops=int(extra.get("ops") or 1),
            seconds=float(bench["stats"][stat]),
            core=extra.get("core"),
        )
        groups.setdefault(group, {})[name] = row
    return groups


def combine(runs: list[dict[str, dict[str, Row]]]) -> dict[str, dict[str, Row]]:
    """Merge several reports: a row found in more than one gets the median of
    its times, so alternating runs damp a burst of load during one row.
    Reports with different groups (a core run and a request run) just add up."""
    samples: dict[tuple[str, str], list[Row]] = {}
    for groups in runs:
        for group, rows in groups.items():
            for name, row in rows.items():
                samples.setdefault((group, name), []).append(row)
    merged: dict[str, dict[str, Row]] = {}
    for (group, name), rows in samples.items():
        seconds = statistics.median(r.seconds for r in rows)
        merged.setdefault(group, {})[name] = dataclasses.replace(
            rows[-1], seconds=seconds
        )
    return merged


def role_row(rows: dict[str, Row], role: str) -> Row | None:
    found = [r for r in rows.values() if r.role == role]
    return found[0] if len(found) == 1 else None


def fmt_time(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.1f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e3:.2f} ms"


def fmt_rate(per_second: float) -> str:
    if per_second >= 1e6:
        return f"{per_second / 1e6:.2f} M/s"
    if per_second >= 1e3:
        return f"{per_second / 1e3:.1f} k/s"
    return f"{per_second:.0f} /s"


def sort_key(name: str) -> tuple[int, str]:
    return (ROW_ORDER.index(name) if name in ROW_ORDER else len(ROW_ORDER), name)


def group_table(group: str, rows: dict[str, Row], stat: str) -> list[str]:
    floor = role_row(rows, "floor")
    peer = role_row(rows, "peer")
    peer_head = f"speed-up vs {peer.name}" if peer else "speed-up vs peer"
    lines = [
        f"### {group}",
        "",
        f"| row | {stat} / op | ops/s | x floor | {peer_head} |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in sorted(rows, key=sort_key):
        row = rows[name]
        vs_floor = f"{row.per_op / floor.per_op:.2f}x" if floor else "-"
        vs_peer = f"{peer.per_op / row.per_op:.2f}x" if peer else "-"
        lines.append(
            f"| {name} | {fmt_time(row.per_op)} | {fmt_rate(1 / row.per_op)}"
            f" | {vs_floor} | {vs_peer} |"
        )
    lines.append("")
    for name in sorted(rows, key=sort_key):
        if rows[name].core:
            lines += [f"`{name}` ran on the `{rows[name].core}` core.", ""]
    return lines


def check_targets(groups: dict[str, dict[str, Row]]) -> tuple[list[str], bool]:
    lines = [
        "### Targets",
        "",
        "| target | group | measured | result |",
        "|---|---|---:|---|",
    ]
    ok = True
    for target in TARGETS:
        names = sorted(groups) if target.group == "*" else [target.group]
        for group in names:
            if group not in groups:
                continue  # that benchmark was not run
            rows = groups[group]
            row, other = rows.get(target.row), rows.get(target.other)
            if target.group == "*" and (row is None or other is None):
                continue  # wildcard targets only apply where both rows exist
            if row is None or other is None:
                missing = target.row if row is None else target.other
                lines.append(
                    f"| {target.label} | {group} | - | SKIP (no `{missing}` row) |"
                )
                continue
            ratio = row.per_op / other.per_op
            if target.max_ratio is not None:
                passed = ratio <= target.max_ratio
                measured = f"{ratio:.2f}x (limit {target.max_ratio:g}x)"
            else:
                assert target.min_speedup is not None
                passed = 1 / ratio >= target.min_speedup
                measured = f"{1 / ratio:.1f}x faster (need {target.min_speedup:g}x)"
            ok = ok and passed
            verdict = "PASS" if passed else "FAIL"
            lines.append(f"| {target.label} | {group} | {measured} | {verdict} |")
    if len(lines) == 4:
        lines.append("| (no target applies to the groups that ran) | | | |")
    lines.append("")
    return lines, ok


def throughput_lines(groups: dict[str, dict[str, Row]]) -> list[str]:
    """erlen/flask throughput for the whole-request groups."""
    pairs = [
        (group, rows["erlen"], rows.get("erlen-py"), rows["flask"])
        for group, rows in sorted(groups.items())
        if "erlen" in rows and "flask" in rows
    ]
    if not pairs:
        return []
    lines = [
        "### Whole requests: erlen / flask",
        "",
        "| group | erlen req/s | flask req/s | erlen/flask throughput"
        " | erlen-py req/s | erlen-py/flask throughput |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for group, erlen, erlen_py, flask in pairs:
        py_cells = (
            f"{fmt_rate(1 / erlen_py.per_op)} | {flask.per_op / erlen_py.per_op:.2f}x"
            if erlen_py is not None
            else "- | -"
        )
        lines.append(
            f"| {group} | {fmt_rate(1 / erlen.per_op)} | {fmt_rate(1 / flask.per_op)}"
            f" | {flask.per_op / erlen.per_op:.2f}x | {py_cells} |"
        )
    lines.append("")
    return lines


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_lines(report: dict[str, t.Any]) -> list[str]:
    info = report.get("machine_info") or {}
    python = info.get("python_version") or platform.python_version()
    impl = info.get("python_implementation") or platform.python_implementation()
    cores = (info.get("cpu") or {}).get("count") or os.cpu_count()
    when = report.get("datetime", "")
    return [
        f"Machine: {cpu_model()} ({cores} cores), {impl} {python}"
        + (f", run at {when}" if when else ""),
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "inputs", nargs="*", help="JSON reports to read, or pytest paths to run"
    )
    parser.add_argument(
        "--stat", default="mean", choices=["mean", "median", "min"],
        help="statistic to report and compare (default: mean)",
    )
    parser.add_argument(
        "--runs", type=int, default=1,
        help="run pytest this many times and take each row's median (default: 1)",
    )
    parser.add_argument(
        "--save", metavar="PATH", help="also write the pytest-benchmark JSON here"
    )
    parser.add_argument(
        "--both-cores", action="store_true",
        help="each run also runs once with ERLEN_NO_EXTENSIONS=1, which adds"
        " the erlen-py rows (erlen on its pure-Python core)",
    )
    args = parser.parse_args(argv)

    jsons = [p for p in args.inputs if p.endswith(".json")]
    paths = [p for p in args.inputs if not p.endswith(".json")]
    if jsons and paths:
        parser.error("give either JSON reports or paths to run, not both")
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    if not jsons:
        from installed import require_compiled_core

        # --both-cores labels its first run as the compiled core.
        require_compiled_core("bench/ratios.py", pure_allowed=not args.both_cores)

    reports: list[dict[str, t.Any]] = []
    if jsons:
        reports = [json.loads(Path(path).read_text()) for path in jsons]
    else:
        envs: list[dict[str, str]] = [{}]
        if args.both_cores:
            envs.append({"ERLEN_NO_EXTENSIONS": "1"})
        for run in range(args.runs):
            for index, env_extra in enumerate(envs):
                report = run_pytest(paths or DEFAULT_TARGETS, extra, env_extra)
                reports.append(report)
                if args.save:
                    target = Path(args.save)
                    suffix = f".{run + 1}" if args.runs > 1 else ""
                    suffix += ".py" if index else ""
                    target = target.with_suffix(f"{suffix}{target.suffix}")
                    target.write_text(json.dumps(report, indent=1))
    groups = combine([load_rows(report, args.stat) for report in reports])
    report = reports[-1]
    if len(reports) > 1:
        print(
            f"Each row is the median over {len(reports)} reports of the"
            f" {args.stat} per call.\n"
        )

    out = machine_lines(report)
    for group in sorted(groups):
        out += group_table(group, groups[group], args.stat)
    out += throughput_lines(groups)
    target_lines, ok = check_targets(groups)
    out += target_lines
    print("\n".join(out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
