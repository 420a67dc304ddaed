"""Scale-out with the real components on loopback: two ``erlen serve``
instances behind nginx (round robin), and redis-server for Flask-Session.

nginx runs with the site block from the README's "Deploying" section, read
from the README itself (only its ports are changed), inside a config and
prefix of its own in a temporary folder. Every process is started by the
test that needs it and stopped when it ends.

Without nginx or redis-server the tests are skipped, except when ``CI`` is
set, where they fail (``.ci/run`` installs both).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import typing as t
from contextlib import ExitStack
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from serving_support import erlen_command
from serving_support import free_port
from serving_support import get
from serving_support import HERE
from serving_support import REPO
from serving_support import ServerProcess
from serving_support import wait_for

README = REPO / "README.md"
SITE_MARKER = (
    "<!-- nginx-site: tests/test_serving_scaleout.py reads the block below -->"
)
README_PORTS = {
    "upstream": ("127.0.0.1:8001", "127.0.0.1:8002"),
    "listen": "127.0.0.1:8080",
}


def require(program: str) -> str:
    path = shutil.which(program) or next(
        (
            p
            for p in (f"/usr/sbin/{program}", f"/usr/bin/{program}")
            if os.access(p, os.X_OK)
        ),
        None,
    )
    if path is None:
        message = f"{program} is not installed (apt-get install {program})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def readme_site() -> str:
    """The nginx site block of the README's Deploying section."""
    text = README.read_text()
    assert SITE_MARKER in text, "the README lost its nginx site block"
    after = text.split(SITE_MARKER, 1)[1]
    match = re.match(r"\s*```nginx\n(.*?)```", after, re.S)
    assert match, "the nginx block must follow the marker"
    return match.group(1)


def test_readme_site_block_has_the_ports_the_test_replaces() -> None:
    site = readme_site()
    for address in README_PORTS["upstream"]:
        assert site.count(f"server {address};") == 1
    assert site.count(f"listen {README_PORTS['listen']};") == 1
    assert "proxy_pass http://erlen_app;" in site


def nginx_config(site: str, tmp: Path, upstream: tuple[int, int], listen: int) -> str:
    """A whole nginx.conf around the README's site block: its process
    settings (pid, logs, temporary folders) all in ``tmp``."""
    for address, port in zip(README_PORTS["upstream"], upstream, strict=True):
        site = site.replace(f"server {address};", f"server 127.0.0.1:{port};")
    site = site.replace(
        f"listen {README_PORTS['listen']};", f"listen 127.0.0.1:{listen};"
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    temps = "\n".join(
        f"    {kind}_temp_path {tmp / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {tmp / 'nginx.pid'};\n"
        f"error_log {tmp / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {tmp / 'access.log'};\n{temps}\n"
        f"{site}"
        "}\n"
    )


def start_nginx(stack: ExitStack, tmp: Path, upstream: tuple[int, int]) -> int:
    nginx = require("nginx")
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(nginx_config(readme_site(), tmp, upstream, port))
    stack.enter_context(
        ServerProcess(
            [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
            port,
            tmp / "nginx.out",
            stop_limit=10,
        )
    )
    return port


def start_instance(
    stack: ExitStack,
    tmp: Path,
    name: str,
    env_extra: dict[str, str],
    app: str | Path = HERE / "serving_app.py",
    as_flask: bool = False,
) -> ServerProcess:
    port = free_port()
    args = erlen_command(
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--proxy-headers",
        "1",
        "--no-access-log",
        app=app,
    )
    if as_flask:
        args.insert(3, "--as-flask")
    env = dict(os.environ, SERVING_INSTANCE=name, **env_extra)
    return stack.enter_context(ServerProcess(args, port, tmp / f"{name}.log", env=env))


class Client:
    """A browser-like client of one site: one cookie jar, new connections."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str) -> tuple[dict[str, t.Any], str]:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        status, response_headers, body = get(
            self.port, path, method=method, headers=headers
        )
        assert status == 200, body
        jar = SimpleCookie()
        for value in response_headers.get_all("Set-Cookie") or ():
            jar.load(value)
        for key, morsel in jar.items():
            if morsel["expires"] and "1970" in morsel["expires"] or morsel.value == "":
                self.cookies.pop(key, None)
            else:
                self.cookies[key] = morsel.value
        return json.loads(body), response_headers["X-Instance"]


@pytest.fixture
def gunicorn_free_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ERLEN_DEBUG", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def test_sessions_and_flashes_follow_the_client_across_instances(
    tmp_path: Path, gunicorn_free_env: None
) -> None:
    require("nginx")
    with ExitStack() as stack:
        env = {"SERVING_SECRET_KEY": "shared-key", "SERVING_RECORD_DIR": str(tmp_path)}
        a = start_instance(stack, tmp_path, "a", env)
        b = start_instance(stack, tmp_path, "b", env)
        port = start_nginx(stack, tmp_path, (t.cast(int, a.port), t.cast(int, b.port)))

        # The proxy headers reach the app through --proxy-headers 1.
        status, headers, body = get(
            port, "/env", headers={"X-Forwarded-For": "198.51.100.7"}
        )
        data = json.loads(body)
        assert data["remote_addr"] == "127.0.0.1"  # nginx appends the real peer
        assert data["host"] == f"127.0.0.1:{port}"
        assert data["scheme"] == "http"

        client = Client(port)
        instances = []
        for n in range(1, 9):
            data, instance = client.request("GET", "/session/alice")
            instances.append(instance)
            assert data["n"] == n
            assert data["seen"] == (None if n == 1 else "alice")
        # Round robin: consecutive requests alternate between the instances.
        assert set(instances) == {"a", "b"}
        assert all(x != y for x, y in zip(instances, instances[1:], strict=False))

        _, flashed_on = client.request("POST", "/flash/hello-from-one")
        data, read_on = client.request("GET", "/flashes")
        assert flashed_on != read_on
        assert data["messages"] == ["hello-from-one"]
        data, _ = client.request("GET", "/flashes")
        assert data["messages"] == []


def start_pair(
    stack: ExitStack, tmp: Path, keys_a: tuple[str, str], keys_b: tuple[str, str]
) -> int:
    """Instances ``a`` and ``b`` behind nginx, each with its (SECRET_KEY,
    SECRET_KEY_FALLBACKS); the port of nginx."""
    tmp.mkdir()
    ports = []
    for name, (key, fallbacks) in (("a", keys_a), ("b", keys_b)):
        env = {
            "SERVING_SECRET_KEY": key,
            "SERVING_SECRET_KEY_FALLBACKS": fallbacks,
            "SERVING_RECORD_DIR": str(tmp),
        }
        ports.append(t.cast(int, start_instance(stack, tmp, name, env).port))
    return start_nginx(stack, tmp, (ports[0], ports[1]))


def continues(client: Client, ident: str, first_n: int, requests: int) -> set[str]:
    """Send ``requests`` requests; each must see the session so far. The
    instances that answered."""
    seen = set()
    for n in range(first_n, first_n + requests):
        data, instance = client.request("GET", f"/session/{ident}")
        seen.add(instance)
        assert (data["seen"], data["n"]) == (ident, n), (instance, data)
    return seen


def test_key_rotation_across_instances(tmp_path: Path, gunicorn_free_env: None) -> None:
    """The README's two-step rotation, instance by instance: at every stage,
    including the mixed ones, the client's session survives whichever
    instance answers."""
    require("nginx")
    from erlen import Flask

    old, new = ("old-key", ""), ("new-key", "old-key")
    step_one = ("old-key", "new-key")  # accepts the new key, still signs with the old
    with ExitStack() as stack:
        client = Client(start_pair(stack, tmp_path / "before", old, old))
        for n in (1, 2):
            data, _ = client.request("GET", "/session/bob")
            assert data["n"] == n
        old_cookie = client.cookies["session"]
    stages = [
        ("step-one-half", step_one, old),
        ("step-one-done", step_one, step_one),
        ("step-two-half", new, step_one),
        ("step-two-done", new, new),
    ]
    n = 3
    for stage, keys_a, keys_b in stages:
        with ExitStack() as stack:
            client.port = start_pair(stack, tmp_path / stage, keys_a, keys_b)
            assert continues(client, "bob", n, 4) == {"a", "b"}, stage
            n += 4
            if stage == "step-two-done":
                # A client still holding a cookie from before is accepted.
                stale = Client(client.port)
                stale.cookies["session"] = old_cookie
                data, _ = stale.request("GET", "/session/bob")
                assert (data["seen"], data["n"]) == ("bob", 3)

    def loads(key: str, cookie: str) -> t.Any:
        app = Flask("rotation-check")
        app.secret_key = key
        serializer = app.session_interface.get_signing_serializer(app)
        try:
            return serializer.loads(cookie)
        except Exception:
            return None

    # Cookies written after the rotation are signed with the new key only.
    assert loads("new-key", client.cookies["session"]) == {"ident": "bob", "n": n - 1}
    assert loads("old-key", client.cookies["session"]) is None
    assert loads("old-key", old_cookie) == {"ident": "bob", "n": 2}


def test_switching_keys_in_one_step_loses_sessions_midway(
    tmp_path: Path, gunicorn_free_env: None
) -> None:
    """The control: one instance on the new key while the other knows only
    the old one, and a client alternating between them loses its session."""
    require("nginx")
    with ExitStack() as stack:
        client = Client(
            start_pair(stack, tmp_path / "mixed", ("new-key", ""), ("old-key", ""))
        )
        answers = [client.request("GET", "/session/carol")[0] for _ in range(4)]
    assert all(data["seen"] is None and data["n"] == 1 for data in answers), answers


def start_redis(stack: ExitStack, tmp: Path) -> int:
    redis_server = require("redis-server")
    redis = pytest.importorskip("redis")
    port = free_port()
    data = tmp / "redis"
    data.mkdir()
    process = stack.enter_context(
        ServerProcess(
            [
                redis_server,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(data),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
            ],
            None,
            tmp / "redis.log",
            ready_path=None,
            stop_limit=10,
        )
    )
    conn = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)

    def ping() -> bool:
        try:
            return bool(conn.ping())
        except redis.exceptions.ConnectionError:
            return process.proc is not None and process.proc.poll() is not None

    assert wait_for(ping, 30) and conn.ping(), process.log()
    return port


def user_keys(session: dict[str, t.Any]) -> dict[str, t.Any]:
    return {k: v for k, v in session.items() if not k.startswith("_")}


@pytest.mark.parametrize("imports", ["flask", "erlen"])
def test_flask_session_on_redis_across_instances(
    imports: str, tmp_path: Path, gunicorn_free_env: None
) -> None:
    require("nginx")
    require("redis-server")
    pytest.importorskip("flask_session")
    import redis

    with ExitStack() as stack:
        redis_port = start_redis(stack, tmp_path)
        app = f"{HERE / 'serving_redis_app.py'}:create_app({imports!r})"
        env = {"SERVING_REDIS_PORT": str(redis_port)}
        a = start_instance(stack, tmp_path, "a", env, app=app, as_flask=True)
        b = start_instance(stack, tmp_path, "b", env, app=app, as_flask=True)
        port = start_nginx(stack, tmp_path, (t.cast(int, a.port), t.cast(int, b.port)))

        client = Client(port)
        data, first = client.request("POST", "/put/colour/teal")
        data, second = client.request("POST", "/put/shape/round")
        assert first != second
        data, _ = client.request("GET", "/get")
        # Flask-Session adds its own "_permanent" key.
        assert user_keys(data["session"]) == {"colour": "teal", "shape": "round"}
        assert data["interface"] == "RedisSessionInterface"
        assert data["app_class"] == "erlen.app"

        # The data lives in redis; the cookie holds only the session's id.
        keys = redis.Redis(host="127.0.0.1", port=redis_port).keys(f"erlen-{imports}:*")
        assert len(keys) == 1
        assert "teal" not in client.cookies["session"]
        data, _ = client.request("GET", "/get")
        assert user_keys(data["session"]) == {"colour": "teal", "shape": "round"}


@pytest.mark.parametrize("ci", ["", "true"])
def test_a_missing_program_skips_or_fails_in_ci(
    ci: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    if ci:
        monkeypatch.setenv("CI", ci)
        with pytest.raises(pytest.fail.Exception, match="apt-get install nginx"):
            require("nginx")
    else:
        monkeypatch.delenv("CI", raising=False)
        with pytest.raises(pytest.skip.Exception, match="nginx is not installed"):
            require("nginx")
