"""Count the Python-level function calls of one request, erlen next to Flask.

Usage::

    python bench/calls.py                 # the hello-world request
    python bench/calls.py realistic       # also: blueprint-heavy, errors, async
    python bench/calls.py hello --list    # every function called, with counts

Each app is warmed with a few requests first (as any server's first
requests warm its caches), then one request runs under cProfile. Only calls
of functions written in Python count; built-in functions and methods (C
code, like ``dict.get``) are left out, since they cost a fraction of a
Python call. The request is driven the way the benchmarks drive it
(``bench/apps.py``): a fresh environ, the body consumed and closed, so the
driver's own three functions (the loop, ``start_response`` and the view)
are counted for both frameworks alike.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import typing as t
from collections import Counter
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))  # apps.py; erlen itself is the installed one

import apps  # noqa: E402

SCENARIOS: dict[str, t.Callable[[t.Any], tuple[t.Any, t.Any]]] = {
    "hello": lambda fw: (apps.build_hello(fw), apps.hello_environ()),
    "realistic": lambda fw: (
        (app := apps.build_realistic(fw)),
        apps.realistic_environ(apps.session_cookie(app)),
    ),
    "blueprint-heavy": lambda fw: (
        apps.build_blueprint_heavy(fw),
        apps.path_environ(apps.HEAVY_PATH),
    ),
    "errors": lambda fw: (
        apps.build_errors(fw),
        [apps.path_environ(p) for p in apps.ERROR_PATHS],
    ),
    "async": lambda fw: (apps.build_async(fw), apps.hello_environ()),
}


def _where(filename: str) -> str:
    """The package a function lives in, for the summary."""
    if filename.startswith("<"):
        return filename
    path = Path(filename)
    for parent in path.parents:
        if parent.name in ("site-packages", "src", "bench"):
            rel = path.relative_to(parent)
            return rel.parts[0] if len(rel.parts) > 1 else rel.stem
    return "stdlib"


def count_calls(fw_name: str, scenario: str) -> Counter[tuple[str, int, str]]:
    fw = apps.load_framework(fw_name)
    app, environ = SCENARIOS[scenario](fw)
    # One request of a scenario; "errors" alternates two environs, so it is
    # counted over both and halved by the caller.
    requests = len(environ) if isinstance(environ, list) else 1
    run = apps.request_loop(app, environ, requests)
    for _ in range(5):
        run()
    profile = cProfile.Profile()
    profile.enable()
    run()
    profile.disable()
    stats = pstats.Stats(profile)
    calls: Counter[tuple[str, int, str]] = Counter()
    for (filename, line, name), (_, ncalls, *_rest) in stats.stats.items():  # type: ignore[attr-defined]
        if filename == "~":  # built-in function or method
            continue
        calls[(filename, line, name)] += ncalls
    return calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", default="hello", choices=list(SCENARIOS))
    parser.add_argument(
        "--list", action="store_true", help="list every function called"
    )
    args = parser.parse_args(argv)

    from erlen import local

    core = "cython" if local.COMPILED else "python"
    totals = {}
    print(
        f"Python function calls per {args.scenario!r} request"
        f" (erlen on the {core} core)\n"
    )
    print("| framework | calls per request | by package |")
    print("|---|---:|---|")
    listings = {}
    for fw_name in apps.FRAMEWORKS:
        calls = count_calls(fw_name, args.scenario)
        per = 2 if args.scenario == "errors" else 1
        total = sum(calls.values()) / per
        by_package: Counter[str] = Counter()
        for (filename, _, _), n in calls.items():
            by_package[_where(filename)] += n
        packages = ", ".join(
            f"{name} {n / per:g}" for name, n in by_package.most_common()
        )
        totals[fw_name] = total
        print(f"| {fw_name} | {total:g} | {packages} |")
        listings[fw_name] = calls
    ratio = totals["erlen"] / totals["flask"]
    print(f"\nerlen makes {ratio:.2f} of Flask's calls ({1 / ratio:.1f}x fewer).")

    if args.list:
        for fw_name, calls in listings.items():
            print(f"\n## {fw_name}\n")
            for (filename, line, name), n in sorted(calls.items()):
                short = filename.replace(
                    os.sep.join(sys.prefix.split(os.sep)), "$prefix"
                )
                print(f"{n:4d}  {short}:{line} {name}")
    return 0


if __name__ == "__main__":
    from installed import require_compiled_core

    require_compiled_core("bench/calls.py")
    sys.exit(main())
