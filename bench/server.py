"""Throughput behind real servers, side by side in one run: erlen, Flask and
a bare WSGI callable, each on gunicorn's sync worker and on ``erlen serve``'s
server (granian's WSGI interface), with 1 and 2 worker processes, driven by
wrk on loopback.

Usage::

    python bench/server.py                        # hello and realistic, 9 rounds of 1 s
    python bench/server.py --duration 2 --rounds 5
    python bench/server.py --scenario hello --servers gunicorn --workers 1 --rounds 41
    python bench/server.py --quick                # one short round: keeps it working

For every scenario (``hello``, ``realistic``) it starts one server per row
(app x server x workers, each on its own port), waits for them, warms each
up, then measures the rows in turn for ``--duration`` seconds each,
``--rounds`` times with the order rotating, and stops the servers. Each row
reports the median of its rounds: requests per second, latency percentiles,
and its share of the bare callable's throughput on the same server with the
same workers, taken round by round (which cancels the machine's drift
between rounds) with the rounds' range.

The granian rows run granian with exactly the settings ``erlen serve``
gives it (``erlen.serving.granian_settings``: one thread per worker, access
log off); the gunicorn rows run ``gunicorn -k sync``. The report ends with
the targets, as ratios of rows of this run: erlen on granian against Flask
on gunicorn sync (10x hello, 5x realistic), erlen against Flask on the same
granian (4x hello, 2.5x realistic), erlen's share of the bare callable on
granian (75%, hello only), and erlen's p99 on granian against Flask's on
gunicorn sync at the same load (no worse). Gunicorn's sync worker alone
(erlen's hello at 90% of the bare callable there) is measured best with
``--servers gunicorn --workers 1 --rounds 41``.

On the shared 2-core machine this was written on, one round's share has a
standard deviation of about 12%, and a server with two workers competes with
wrk for the two cores, so compare rows of one run, not runs.

The load generator is wrk (``apt-get install wrk``) with one thread and four
connections (kept alive where the server allows); without wrk, or with
``--client python``, a bounded Python client (threads with ``http.client``)
is used, which is slower than granian and so cannot show its speed: use it
to check that the script works, not for figures. Everything is bounded:
each measurement by its duration, and each server and client by a timeout.

The realistic rows send the session cookie that the app's own test client
makes, so each request loads and saves the session as in the in-process
benchmark. gunicorn imports the apps through ``make()`` below; granian
through ``python bench/server.py --serve-granian ...``.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import apps  # noqa: E402

APPS = ("erlen", "flask", "floor")
ROWS = APPS  # the apps of every server and worker count
SERVERS = ("gunicorn", "granian")
WORKER_COUNTS = (1, 2)
SCENARIOS = ("hello", "realistic")

#: The targets, as ratios of rows of one run (see the module docstring).
TARGETS = {
    # erlen on granian over Flask on gunicorn sync, same worker count
    "vs_flask_gunicorn": {"hello": 10.0, "realistic": 5.0},
    # erlen over Flask, both on granian
    "vs_flask_granian": {"hello": 4.0, "realistic": 2.5},
    # erlen's share of the bare callable on granian (hello only: the
    # realistic floor is a bare callable without a session, so its share
    # is reported, not judged)
    "share_granian": {"hello": 0.75},
}


@dataclass(frozen=True)
class Row:
    app: str  # erlen, flask or floor
    server: str  # gunicorn or granian
    workers: int

    @property
    def label(self) -> str:
        return f"{self.app} | {self.server} | {self.workers}"


def make(row: str, scenario: str) -> apps.WSGIApp:
    """The WSGI callable a server serves: ``server:make('erlen', 'hello')``."""
    if row == "floor":
        return (
            apps.bare_wsgi_hello()
            if scenario == "hello"
            else apps.bare_wsgi_realistic()
        )
    fw = apps.load_framework(row)
    return apps.build_hello(fw) if scenario == "hello" else apps.build_realistic(fw)


def request_of(row: str, scenario: str) -> tuple[str, dict[str, str]]:
    """The path and headers every request of an app's row sends."""
    if scenario == "hello":
        return apps.HELLO_PATH, {}
    path = f"{apps.ITEM_PATH}?fields={apps.ITEM_QUERY['fields']}"
    if row == "floor":
        return path, {}
    cookie = apps.session_cookie(apps.build_realistic(apps.load_framework(row)))
    return path, {"Cookie": f"session={cookie}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"no server listened on port {port} within {timeout} s")


def _load_for_granian(target: str) -> apps.WSGIApp:
    """granian's loader in each worker: ``target`` is ``app:scenario``."""
    row, scenario = target.split(":")
    return make(row, scenario)


def serve_granian(row: str, scenario: str, port: int, workers: int) -> None:
    """Serve one app on granian with ``erlen serve``'s settings (run in the
    server's own process by ``--serve-granian``)."""
    from granian.server import Server as Granian

    from erlen.serving import granian_settings
    from erlen.serving import ServeOptions

    options = ServeOptions(port=port, workers=workers, access_log=False)
    server = Granian(f"{row}:{scenario}", **granian_settings(options))
    server.serve(target_loader=_load_for_granian)


class Server:
    """One row's server, for the duration of a ``with``."""

    def __init__(self, row: Row | str, scenario: str) -> None:
        # A bare app name means gunicorn with one worker.
        self.row = row if isinstance(row, Row) else Row(row, "gunicorn", 1)
        self.scenario = scenario
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        row = self.row
        if row.server == "granian":
            return [
                sys.executable,
                str(BENCH_DIR / "server.py"),
                "--serve-granian",
                row.app,
                self.scenario,
                str(self.port),
                str(row.workers),
            ]
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class",
            "sync",
            "--workers",
            str(row.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            "--backlog",
            "64",
            f"server:make({row.app!r}, {self.scenario!r})",
        ]

    def __enter__(self) -> Server:
        env = dict(os.environ)
        # bench/ for this module and apps.py; erlen is the installed one.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(BENCH_DIR), env.get("PYTHONPATH", "")) if p
        )
        self.proc = subprocess.Popen(
            self.command(),
            cwd=BENCH_DIR,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc, timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # a graceful stop on both servers
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


# -- load generators ----------------------------------------------------------

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"cannot read wrk's time {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(
    port: int, path: str, headers: dict[str, str], duration: float
) -> dict[str, float]:
    # wrk takes whole seconds only.
    cmd = [
        "wrk",
        "-t1",
        "-c4",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "5s",
    ]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=duration + 30, check=True
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    result = {"rps": float(rps.group(1))}
    for pct in ("50", "90", "99"):
        found = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        if found:
            result[f"p{pct}"] = _seconds(found.group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses:\n{out}")
    return result


def run_python_client(
    port: int, path: str, headers: dict[str, str], duration: float, connections: int = 4
) -> dict[str, float]:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker() -> None:
        mine: list[float] = []
        # One connection per thread, kept alive where the server allows (as
        # wrk does); http.client opens a new one when the server closed it
        # (gunicorn's sync worker does after every response).
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            while time.monotonic() < stop_at:
                start = time.perf_counter()
                try:
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    if response.status != 200:
                        failures.append(str(response.status))
                except OSError as exc:
                    failures.append(repr(exc))
                    conn.close()
                mine.append(time.perf_counter() - start)
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 30)
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, first: {failures[0]}")
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    return {
        "rps": len(latencies) / elapsed,
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
    }


def measure_scenario(
    scenario: str, duration: float, rounds: int, client: str, rows: list[Row]
) -> dict[Row, dict[str, t.Any]]:
    """Serve every row's app at once (idle servers cost little), then drive
    them in turn, ``rounds`` times with the order rotating, so that a burst
    of load from elsewhere on the machine hits all rows alike. Each row
    gets the median of its rounds, and its ``shares``: in each round, its
    requests per second over the bare callable's on the same server with
    the same workers in the same round."""
    drive = run_wrk if client == "wrk" else run_python_client
    requests = {app: request_of(app, scenario) for app in {row.app for row in rows}}
    samples: dict[Row, list[dict[str, float]]] = {row: [] for row in rows}
    servers = [Server(row, scenario) for row in rows]
    try:
        for server in servers:
            server.__enter__()
        ports = {server.row: server.port for server in servers}
        for row in rows:  # warm-up
            drive(ports[row], *requests[row.app], min(1.0, duration))
        for round_ in range(rounds):
            shift = round_ % len(rows)
            for row in rows[shift:] + rows[:shift]:
                samples[row].append(drive(ports[row], *requests[row.app], duration))
    finally:
        for server in servers:
            server.__exit__()
    results: dict[Row, dict[str, t.Any]] = {}
    for row, runs in samples.items():
        results[row] = {
            key: statistics.median(s[key] for s in runs if key in s) for key in runs[0]
        }
        floor = samples[Row("floor", row.server, row.workers)]
        # The machine's speed drifts between rounds more than between the
        # rows of one round: a row's share is taken round by round.
        results[row]["shares"] = [
            mine["rps"] / base["rps"] for mine, base in zip(runs, floor, strict=True)
        ]
    return results


def target_lines(
    scenario: str, results: dict[Row, dict[str, t.Any]], workers: t.Iterable[int]
) -> list[tuple[str, bool]]:
    """Each target that this run's rows allow checking, with whether it is
    met: a line of text and a pass flag."""
    lines: list[tuple[str, bool]] = []

    def rps(app: str, server: str, n: int) -> float | None:
        row = results.get(Row(app, server, n))
        return None if row is None else row["rps"]

    comparisons = (
        (
            "gunicorn",
            "vs_flask_gunicorn",
            "erlen on erlen serve / Flask on gunicorn sync",
        ),
        ("granian", "vs_flask_granian", "erlen / Flask, both on granian"),
    )
    for n in workers:
        erlen_g = rps("erlen", "granian", n)
        for flask_server, key, text in comparisons:
            flask_rps = rps("flask", flask_server, n)
            if erlen_g and flask_rps:
                goal = TARGETS[key][scenario]
                ratio = erlen_g / flask_rps
                lines.append(
                    (
                        f"{text}, {n} worker(s): {ratio:.1f}x (target {goal:g}x)",
                        ratio >= goal,
                    )
                )
        share_goal = TARGETS["share_granian"].get(scenario)
        if erlen_g and share_goal is not None:
            shares = results[Row("erlen", "granian", n)]["shares"]
            share = statistics.median(shares)
            low, high = median_interval(shares)
            lines.append(
                (
                    f"erlen's share of the bare callable on granian, {n} worker(s):"
                    f" {share:.0%} (95% interval {low:.0%}-{high:.0%};"
                    f" target {share_goal:.0%})",
                    share >= share_goal,
                )
            )
        erlen_row = results.get(Row("erlen", "granian", n))
        flask_row = results.get(Row("flask", "gunicorn", n))
        if erlen_row and flask_row and "p99" in erlen_row and "p99" in flask_row:
            lines.append(
                (
                    f"p99 of erlen on erlen serve {fmt_ms(erlen_row['p99'])}"
                    f" vs Flask on gunicorn sync {fmt_ms(flask_row['p99'])},"
                    f" {n} worker(s), same load (no worse)",
                    erlen_row["p99"] <= flask_row["p99"],
                )
            )
    return lines


def share_text(shares: list[float]) -> str:
    """The median of the per-round shares, with their range."""
    low, high = min(shares), max(shares)
    return f"{statistics.median(shares):.0%} ({low:.0%}-{high:.0%})"


def median_interval(
    values: list[float], level: float = 0.95, resamples: int = 2000
) -> tuple[float, float]:
    """A percentile-bootstrap interval for the median of ``values``: how far
    the round-to-round noise within this run could move the median. The
    machine's state also shifts between runs, by more than this on a busy
    host, so it does not bound another run. The resampling is seeded, so a
    report is reproducible from its rounds."""
    rng = random.Random(7)
    n = len(values)
    medians = sorted(
        statistics.median(rng.choices(values, k=n)) for _ in range(resamples)
    )
    tail = (1 - level) / 2
    return medians[int(tail * (resamples - 1))], medians[
        int((1 - tail) * (resamples - 1))
    ]


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=SCENARIOS, action="append")
    parser.add_argument("--servers", choices=SERVERS, action="append")
    parser.add_argument("--workers", type=int, choices=(1, 2), action="append")
    parser.add_argument(
        "--duration", type=float, default=1.0, help="seconds per measurement"
    )
    parser.add_argument(
        "--rounds", type=int, default=9, help="measurements per row (median)"
    )
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one round of 0.5 s, hello only, 1 worker, the Python client:"
        " checks that the script works, measures nothing",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.client = 1, 0.5, "python"
        args.scenario = args.scenario or ["hello"]
        args.workers = args.workers or [1]
    if args.duration <= 0 or args.duration > 60 or not 1 <= args.rounds <= 99:
        parser.error("--duration must be in (0, 60] and --rounds in [1, 99]")
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    elif client == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk)")
    scenarios = args.scenario or list(SCENARIOS)
    servers = args.servers or list(SERVERS)
    if "granian" in servers and importlib.util.find_spec("granian") is None:
        if args.servers:
            parser.error("granian is not installed (pip install 'erlen[serve]')")
        servers.remove("granian")
        print("granian is not installed: the gunicorn rows only.\n")
    workers = sorted(set(args.workers or WORKER_COUNTS))
    rows = [Row(app, server, n) for server in servers for n in workers for app in APPS]

    from erlen import local

    core = "cython" if local.COMPILED else "python"
    print(
        f"{', '.join(servers)} on loopback with {', '.join(map(str, workers))}"
        f" worker(s), driven by {client}"
        f" ({'1 thread, 4 connections' if client == 'wrk' else '4 threads'}),"
        f" {args.duration:g} s per measurement, median of {args.rounds}"
        f" round(s); erlen on the {core} core.\n"
    )
    ok = True
    for scenario in scenarios:
        results = measure_scenario(scenario, args.duration, args.rounds, client, rows)
        print(f"### {scenario}\n")
        print(
            "| app | server | workers | req/s | p50 | p90 | p99 |"
            " share of floor (rounds' range) |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            r = results[row]
            print(
                f"| {row.label} | {r['rps']:,.0f} | {fmt_ms(r.get('p50'))}"
                f" | {fmt_ms(r.get('p90'))} | {fmt_ms(r.get('p99'))}"
                f" | {share_text(r['shares'])} |"
            )
        print()
        for text, passed in target_lines(scenario, results, workers):
            ok = ok and passed
            print(f"Target: {text}: {'PASS' if passed else 'FAIL'}")
        print()
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--serve-granian":
        _, _, app_name, scenario_name, port_text, workers_text = sys.argv
        serve_granian(app_name, scenario_name, int(port_text), int(workers_text))
        sys.exit(0)

    from installed import require_compiled_core

    require_compiled_core("bench/server.py")
    sys.exit(main())
