"""Shared pieces for erlen's benchmarks.

Every group has the same shape: one row per implementation (erlen's compiled
core, its pure-Python twin, the peer) plus a ``floor`` row that does the least
work the operation could possibly cost. Rows are told apart by the test's
parameter id, and each benchmark records how many operations one call runs in
``extra_info`` so that ``bench/ratios.py`` can report time per operation.
"""

from __future__ import annotations

import importlib
import os
import typing as t

import pytest

# Row id -> module that provides Local, LocalStack and LocalProxy. The floor
# row has no module: it is written out by hand in each benchmark.
CORE_ROWS = {
    "cython": "erlen._local_c",
    "python": "erlen._local_py",
    "werkzeug": "werkzeug.local",
    "floor": None,
}

# A benchmarked call runs the operation UNROLL times per loop iteration and
# REPEAT iterations, so one call is OPS operations. PERF: a ~30 ns operation
# is too short for pytest-benchmark to time on its own, and unrolling keeps
# the cost of the ``for`` loop itself (~10 ns per iteration) from dominating
# the floor row and hiding real ratios.
UNROLL = 10
REPEAT = 100
OPS = UNROLL * REPEAT


def _required() -> bool:
    return any(
        os.environ.get(name, "") not in ("", "0")
        for name in ("CI", "ERLEN_REQUIRE_EXTENSIONS")
    )


@pytest.fixture(params=list(CORE_ROWS), ids=list(CORE_ROWS))
def core(request: pytest.FixtureRequest) -> tuple[str, t.Any]:
    """The row being measured: ``(row id, module or None for the floor)``.

    The compiled row is skipped when ``erlen._local_c`` is not built, except
    in CI (or with ``ERLEN_REQUIRE_EXTENSIONS=1``) where that is an error.
    """
    row = request.param
    name = CORE_ROWS[row]
    if name is None:
        return row, None
    try:
        return row, importlib.import_module(name)
    except ImportError as exc:
        if row != "cython" or _required():
            raise
        pytest.skip(f"compiled core erlen._local_c is not built: {exc}")


def compile_loop(
    stmt: str, names: t.Sequence[str], unroll: int = UNROLL, repeat: int = REPEAT
) -> t.Callable[..., None]:
    """Build ``def _loop(*names)`` that runs ``stmt`` ``unroll * repeat`` times.

    Every name the statement uses is a parameter, so it is a fast local load
    in every row alike; only the operation itself differs between rows.
    """
    params = ", ".join(names)
    body = "\n".join(f"        {stmt}" for _ in range(unroll))
    source = f"def _loop({params}):\n    for _ in range({repeat}):\n{body}\n"
    namespace: dict[str, t.Any] = {}
    exec(compile(source, f"<bench loop: {stmt}>", "exec"), namespace)
    return namespace["_loop"]


@pytest.fixture
def run_ops(benchmark: t.Any, core: tuple[str, t.Any]) -> t.Callable[..., None]:
    """Benchmark ``stmt`` over the given locals, ``OPS`` times per call.

    Usage: ``run_ops("proxy.path", proxy=p)``. The test must check the
    statement's result itself before calling this.
    """
    row = core[0]

    def run(stmt: str, /, **names: t.Any) -> None:
        loop = compile_loop(stmt, list(names))
        benchmark.extra_info["row"] = row
        benchmark.extra_info["ops"] = OPS
        benchmark.extra_info["stmt"] = stmt
        benchmark(loop, *names.values())

    return run
