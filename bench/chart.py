"""Draw the in-process request benchmarks as a bar chart: bench/results.png.

Usage::

    python bench/chart.py                       # run the groups (both cores), draw
    python bench/chart.py --runs 3              # three runs each, each row's median
    python bench/chart.py run.json run.py.json  # draw saved reports (ratios.py --save)

One cluster of bars per request group: erlen (compiled core), erlen-py
(pure-Python core), Flask and the floor (a bare WSGI callable), in requests
per second on a logarithmic axis (the floor is two orders of magnitude
above any framework). Each framework bar is labelled with its speed-up over
Flask. Needs matplotlib.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import ratios  # noqa: E402

ROWS = [
    ("erlen", "erlen (compiled core)", "#1f6f8b"),
    ("erlen-py", "erlen (pure-Python core)", "#5fa8c4"),
    ("flask", "Flask 3.1.3", "#c0504d"),
    ("floor", "floor: bare WSGI callable", "#9a9a9a"),
]
GROUPS = [
    ("request-hello", "hello"),
    ("request-realistic", "realistic\n(session, JSON)"),
    ("request-blueprint-heavy", "50 blueprints"),
    ("request-errors", "errors\n(404, handled)"),
    ("request-async", "async view"),
]


def collect(args: argparse.Namespace) -> tuple[dict[str, dict[str, ratios.Row]], dict]:
    if args.reports:
        reports = [json.loads(Path(p).read_text()) for p in args.reports]
    else:
        reports = []
        target = [str(BENCH_DIR / "test_bench_requests.py")]
        for _ in range(args.runs):
            reports.append(ratios.run_pytest(target, []))
            reports.append(ratios.run_pytest(target, [], {"ERLEN_NO_EXTENSIONS": "1"}))
    groups = ratios.combine([ratios.load_rows(r, args.stat) for r in reports])
    return groups, reports[-1]


def draw(groups: dict[str, dict[str, ratios.Row]], report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    present = [(g, label) for g, label in GROUPS if g in groups]
    width = 0.2
    fig, ax = plt.subplots(figsize=(11, 6), dpi=110)
    for index, (row, label, color) in enumerate(ROWS):
        xs, ys = [], []
        for position, (group, _) in enumerate(present):
            found = groups[group].get(row)
            if found is not None:
                xs.append(position + (index - 1.5) * width)
                ys.append(1 / found.per_op)
        if not xs:
            continue
        bars = ax.bar(xs, ys, width, label=label, color=color)
        if row in ("erlen", "erlen-py"):
            for bar, (group, _) in zip(
                bars, [p for p in present if row in groups[p[0]]], strict=True
            ):
                flask = groups[group].get("flask")
                if flask is None:
                    continue
                speedup = flask.per_op / groups[group][row].per_op
                ax.annotate(
                    f"{speedup:.1f}x",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7.5,
                    xytext=(0, 2),
                    textcoords="offset points",
                )
    ax.set_yscale("log")
    ax.set_xticks(range(len(present)))
    ax.set_xticklabels([label for _, label in present])
    ax.set_ylabel("requests per second, in process (log scale)")
    machine = ratios.machine_lines(report)[0].removeprefix("Machine: ")
    ax.set_title(
        "erlen vs Flask: whole requests through app(environ, start_response)\n"
        f"labels: speed-up over Flask; {machine}",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4)
    ax.grid(axis="y", which="both", alpha=0.25)
    fig.tight_layout()
    fig.savefig(out)
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "reports", nargs="*", help="pytest-benchmark JSON reports to draw"
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--stat", default="median", choices=["mean", "median", "min"])
    parser.add_argument("--out", default=str(BENCH_DIR / "results.png"))
    args = parser.parse_args(argv)
    groups, report = collect(args)
    draw(groups, report, Path(args.out))
    print("\n".join(ratios.throughput_lines(groups)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
