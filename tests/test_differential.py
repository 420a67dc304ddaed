"""erlen against real Flask 3.1.3: the same apps, the same generated
requests, the same outcomes (status, every header, body, signals, hook log,
exceptions), except where a named allowance in conformance/differential.py
explains the difference. See that module for how it works.

Quick mode (the default) is derandomised and bounded, for CI. For a long
run set ``ERLEN_DIFF_EXAMPLES`` to the number of requests per app (the run
is then random, a new seed each time)::

    ERLEN_DIFF_EXAMPLES=3000 pytest tests/test_differential.py -rA
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "erlen_differential", ROOT / "conformance" / "differential.py"
)
D = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = D
_spec.loader.exec_module(D)

# Generated single requests per app in quick mode (a tenth as many request
# sequences of two to five requests come on top): 720 in all, and some
# 240 more in the sequences.
QUICK = {
    "core": 200,
    "core_debug": 60,
    "sessions": 120,
    "blueprints": 80,
    "production": 80,
    "hosts": 60,
    "custom_session": 60,
    "subclasses": 60,
}
LONG = int(os.environ.get("ERLEN_DIFF_EXAMPLES", "0"))
COMPARED: dict[str, int] = {}


def test_quick_mode_covers_every_app():
    assert set(QUICK) == set(D.APPS)


@pytest.mark.parametrize("name", list(D.APPS))
def test_erlen_answers_as_flask_does(name):
    examples = LONG or QUICK[name]
    pair = D.compare_app(name, examples, derandomize=not LONG)
    COMPARED[name] = pair.compared
    print(
        f"{name}: {pair.compared} requests compared; allowances applied: {pair.applied}"
    )
    assert pair.compared >= examples
    for recorder in pair.recorders.values():  # the receivers are gone again
        assert not recorder._receivers
    for signal in D.SIGNALS:
        for fw in D.FRAMEWORKS.values():
            for app in pair.apps.values():
                assert not list(getattr(fw, signal).receivers_for(app))


def test_number_of_requests_compared():
    if set(COMPARED) != set(D.APPS):
        pytest.skip("needs every app's comparison to have run first")
    total = sum(COMPARED.values())
    print(f"{total} requests compared with Flask 3.1.3: {COMPARED}")
    assert total >= sum(LONG or n for n in QUICK.values())


# One hand-written request per allowance, in the app where it applies: the
# difference must still be there (when it is gone, remove the allowance,
# and for an undocumented one the xfail mark of its parity test), and the
# allowance must explain exactly it.


def _corrupt_cookie(pair):
    serializer = pair.serializers["erlen"]
    # A valid signature over a payload that is not JSON.
    return serializer.make_signer(serializer.salt).sign(b"bm90IGpzb24").decode()


CASES = {
    "teardown_error_after_every_teardown": (
        "production",
        lambda pair: D.Req(path="/", query=(("fail-teardown", "1"),)),
    ),
    "corrupt_signed_session": (
        "sessions",
        lambda pair: D.Req(
            path="/s/get", cookies=((pair.session_name, _corrupt_cookie(pair)),)
        ),
    ),
    "non_utf8_query": ("core", lambda pair: D.Req(path="/", raw_query=b"q=\xff")),
    "deeply_nested_json": (
        "core",
        lambda pair: D.Req(
            method="POST",
            path="/json",
            data=b"[" * 3000 + b"]" * 3000,
            content_type="application/json",
        ),
    ),
    "chunked_over_limit": (
        "core",
        lambda pair: D.Req(
            method="POST",
            path="/data",
            data=b"a" * (D.MAX_BODY + 1),
            content_type="text/plain",
            chunked=True,
        ),
    ),
    "stream_with_context_teardown_once": ("core", lambda pair: D.Req(path="/stream")),
    "stream_with_context_teardown_once HEAD": (
        "core",
        lambda pair: D.Req(method="HEAD", path="/stream"),
    ),
}
RULES = [*D.ALLOWANCES, *D.KNOWN]


def test_every_allowance_has_a_case():
    assert {case.split()[0] for case in CASES} == {rule.name for rule in RULES}


@pytest.mark.parametrize("case", sorted(CASES))
def test_allowance_still_needed_and_exact(case):
    (rule,) = [rule for rule in RULES if rule.name == case.split()[0]]
    app_name, make_request = CASES[case]
    with D.Pair(D.APPS[app_name]) as pair:
        req = make_request(pair)
        assert rule.trigger(pair, req)
        if rule.name == "deeply_nested_json" and not _parser_overflows(req.data):
            pytest.skip("this Python's JSON parser takes that depth (3.13 does)")
        ours, theirs = pair.run(req)
        fixed = f"erlen now answers as Flask does: remove the allowance {rule.name}"
        if rule.xfail_test:
            fixed += f" and the xfail mark of {rule.xfail_test}"
        assert ours != theirs, fixed
        pair.check(req)
        assert pair.applied == {rule.name: 1}


def _parser_overflows(data):
    try:
        json.loads(data)
    except RecursionError:
        return True
    return False


def _words(text):
    return " ".join(text.replace("`", "").split())


@pytest.mark.parametrize("rule", D.ALLOWANCES, ids=lambda rule: rule.name)
def test_allowance_quotes_a_readme_difference(rule):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Deliberate differences") :]
    section = _words(section[: section.index("\n## ")])
    assert rule.readme and rule.xfail_test is None
    for fragment in rule.readme.split(" ... "):
        assert _words(fragment) in section, fragment


@pytest.mark.parametrize("rule", D.KNOWN, ids=lambda rule: rule.name)
def test_known_difference_has_a_strict_xfail_test(rule):
    assert rule.readme is None and rule.xfail_test
    filename, _, test_id = rule.xfail_test.partition("::")
    assert (filename, test_id.split("[")[0]) == (
        "test_flask_parity.py",
        "test_erlen_matches_flask",
    )
    spec = importlib.util.spec_from_file_location(
        "erlen_flask_parity", ROOT / "tests" / filename
    )
    parity = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(parity)
    (finding,) = [f for f in parity.FINDINGS if f"[{f.name}]" in test_id]
    assert finding.xfail  # run as xfail(strict=True)


def test_a_difference_fails_the_comparison():
    with D.Pair(D.build_sessions) as pair:
        pair.apps["erlen"].config["SESSION_COOKIE_SAMESITE"] = "Strict"
        with pytest.raises(AssertionError, match="SameSite"):
            pair.check(D.Req(path="/s/set", query=(("a", "1"),)))


def test_sequence_carries_each_frameworks_cookies():
    with D.Pair(D.build_sessions) as pair:
        outcomes = pair.check_sequence(
            [
                D.Req(path="/s/set", query=(("a", "1"),)),
                D.Req(path="/s/flash", query=(("msg", "hi"),)),
                D.Req(path="/s/flashes"),
                D.Req(path="/s/get"),
            ]
        )
        assert pair.compared == 4
        assert [o.body for o in outcomes[2:]] == [
            b'[["message","hi"]]\n',
            b'{"data":{"a":"1"},"new":false,"permanent":false}\n',
        ]


def test_session_cookie_compared_by_its_data():
    with D.Pair(D.build_sessions) as pair:
        req = D.Req(path="/s/set", query=(("a", "1"),))
        ours, theirs = pair.run(req)
        assert ours == theirs
        (cookie,) = [v for k, v in ours.headers if k == "Set-Cookie"]
        assert cookie == (
            "session",
            ("session data", {"a": "1"}),
            ("HttpOnly", "Path=/", "SameSite=Lax"),
        )


def test_only_a_future_expires_date_is_masked():
    def decode(value):
        raise AssertionError("only the session cookie is decoded")

    deleted = "x=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"
    assert D.normalise_set_cookie(deleted, "session", decode) == (
        "x",
        "",
        ("Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Max-Age=0", "Path=/"),
    )
    later = "x=1; Expires=Sat, 05 Dec 2026 10:00:00 GMT; Path=/"
    assert D.normalise_set_cookie(later, "session", decode) == (
        "x",
        "1",
        ("Expires=<a date>", "Path=/"),
    )
    with pytest.raises(AssertionError):
        D.normalise_set_cookie("x=1; Expires=garbage", "session", decode)
