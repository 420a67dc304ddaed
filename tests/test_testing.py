"""The test client, the environ builder and the CLI runner."""

import click
import pytest
import werkzeug.test
from werkzeug.wrappers import Request as WerkzeugRequest

import erlen
from erlen.globals import _cv_app
from erlen.globals import _cv_request
from erlen.testing import EnvironBuilder
from erlen.testing import FlaskClient


def test_client_class(app, client):
    assert isinstance(client, FlaskClient)

    class MyClient(FlaskClient):
        pass

    app.test_client_class = MyClient
    assert isinstance(app.test_client(), MyClient)


def test_environ_defaults(app, client):
    @app.route("/")
    def index():
        req = erlen.request
        return f"{req.url}|{req.remote_addr}|{req.user_agent.string}"

    rv = client.get("/")
    url, addr, agent = rv.data.decode().split("|")
    assert url == "http://localhost/"
    assert addr == "127.0.0.1"
    assert agent.startswith("Werkzeug/")


def test_environ_base_override(app, client):
    app.add_url_rule("/", "i", lambda: erlen.request.remote_addr)
    client.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    assert client.get("/").data == b"10.0.0.1"
    assert client.get("/", environ_base={"REMOTE_ADDR": "10.0.0.2"}).data == b"10.0.0.2"


def test_server_name_scheme_and_root(app):
    app.config.update(
        SERVER_NAME="example.com:8080",
        APPLICATION_ROOT="/app",
        PREFERRED_URL_SCHEME="https",
    )
    app.add_url_rule("/x", "x", lambda: erlen.request.url)
    rv = app.test_client().get("/x")
    assert rv.data == b"https://example.com:8080/app/x"


def test_url_scheme_and_subdomain(app, client):
    app.config["SERVER_NAME"] = "example.com"
    app.add_url_rule("/", "i", lambda: erlen.request.url)
    assert client.get("/", url_scheme="https").data == b"https://example.com/"
    assert client.get("/", subdomain="api").data == b"http://api.example.com/"


def test_full_url_as_path(app, client):
    app.add_url_rule("/p", "p", lambda: erlen.request.url)
    assert client.get("https://other.test/p?x=1").data == b"https://other.test/p?x=1"


def test_base_url_excludes_subdomain(app):
    with pytest.raises(AssertionError, match="Cannot pass"):
        EnvironBuilder(app, base_url="http://x/", subdomain="a")


def test_environ_builder_json_uses_app_provider(app):
    app.json.sort_keys = True
    builder = EnvironBuilder(app, "/", json={"b": 1, "a": 2})
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["wsgi.input"].read() == b'{"a": 2, "b": 1}'


def test_json_request_and_response(app, client):
    @app.post("/echo")
    def echo():
        return {"got": erlen.request.get_json()}

    rv = client.post("/echo", json={"n": 1})
    assert rv.json == {"got": {"n": 1}}


def test_open_with_builder_dict_and_request(app, client):
    app.add_url_rule(
        "/",
        "i",
        lambda: f"{erlen.request.method} {erlen.request.remote_addr}",
        methods=["GET", "POST"],
    )
    builder = werkzeug.test.EnvironBuilder("/", method="POST")
    assert client.open(builder).data == b"POST 127.0.0.1"
    environ = werkzeug.test.EnvironBuilder("/").get_environ()
    assert client.open(environ).data == b"GET 127.0.0.1"
    request = WerkzeugRequest(werkzeug.test.EnvironBuilder("/").get_environ())
    assert client.open(request).data == b"GET 127.0.0.1"


def test_follow_redirects(app, client):
    app.add_url_rule("/a", "a", lambda: erlen.redirect("/b"))
    app.add_url_rule("/b", "b", lambda: "landed")
    rv = client.get("/a", follow_redirects=True)
    assert rv.data == b"landed"
    assert [r.status_code for r in rv.history] == [302]
    assert rv.request.path == "/b"


def test_buffered_response(app, client):
    def gen():
        yield "a"
        yield "b"

    app.add_url_rule("/", "i", lambda: gen())
    assert client.get("/", buffered=True).data == b"ab"


def test_with_client_preserves_last_context(app, client):
    @app.route("/<name>")
    def index(name):
        erlen.g.name = name
        return name

    with client:
        client.get("/first")
        assert erlen.request.path == "/first"
        assert erlen.g.name == "first"
        client.get("/second")
        assert erlen.request.path == "/second"
        assert erlen.g.name == "second"
    assert _cv_request.get(None) is None
    assert _cv_app.get(None) is None


def test_with_client_teardown_runs_when_block_ends(app, client):
    calls = []
    app.teardown_request(lambda e: calls.append("req"))
    app.teardown_appcontext(lambda e: calls.append("app"))
    app.add_url_rule("/", "i", lambda: "x")
    with client:
        client.get("/")
        # The client keeps the request's contexts alive: their teardown
        # functions wait for the end of the block, and run once.
        assert calls == []
        assert erlen.has_request_context()
        client.get("/")
        # The next request ends the kept contexts of the previous one.
        assert calls == ["req", "app"]
    assert calls == ["req", "app", "req", "app"]


def test_with_client_session_visible_after_request(app, client):
    @app.route("/")
    def index():
        erlen.session["n"] = 1
        return ""

    with client:
        client.get("/")
        assert erlen.session["n"] == 1


def test_no_preserved_context_without_with(app, client):
    app.add_url_rule("/", "i", lambda: "x")
    client.get("/")
    assert not erlen.has_request_context()


def test_nested_with_client_is_an_error(client):
    with client:
        with pytest.raises(RuntimeError, match="Cannot nest"):
            with client:
                pass


def test_session_transaction(app, client):
    @app.route("/")
    def index():
        return str(erlen.session.get("user"))

    with client.session_transaction() as sess:
        sess["user"] = "amy"
    assert client.get("/").data == b"amy"

    with client.session_transaction() as sess:
        assert sess["user"] == "amy"
        sess["user"] = "bob"
    assert client.get("/").data == b"bob"


def test_session_transaction_with_cookies_disabled(app):
    client = app.test_client(use_cookies=False)
    with pytest.raises(TypeError, match="Cookies are disabled"):
        with client.session_transaction():
            pass


def test_session_transaction_without_secret_key(app, client):
    app.secret_key = None
    with pytest.raises(RuntimeError, match="did not open a session"):
        with client.session_transaction():
            pass


def test_session_transaction_backend_returns_none(app, client):
    from erlen.sessions import SessionInterface

    class Nothing(SessionInterface):
        def open_session(self, app_, request):
            return None

        def save_session(self, *args):
            pass

    app.session_interface = Nothing()
    with pytest.raises(RuntimeError, match="did not open a session"):
        with client.session_transaction():
            pass


def test_test_request_context_arguments(app):
    with app.test_request_context(
        "/p?q=1", method="POST", data={"f": "v"}, headers={"X-H": "h"}
    ):
        req = erlen.request
        assert req.path == "/p"
        assert req.args["q"] == "1"
        assert req.method == "POST"
        assert req.form["f"] == "v"
        assert req.headers["X-H"] == "h"


def test_test_request_context_uses_server_name(app):
    app.config["SERVER_NAME"] = "srv.test"
    with app.test_request_context(subdomain="api", url_scheme="https"):
        assert erlen.request.url == "https://api.srv.test/"


def test_client_response_json_module(app, client):
    app.add_url_rule("/", "i", lambda: {"a": 1})
    assert client.get("/").json_module is app.json


def test_cli_runner(app):
    @app.cli.command("hello")
    @click.option("--name", default="World")
    def hello(name):
        click.echo(f"Hello, {name}! {erlen.current_app.name}")

    runner = app.test_cli_runner()
    result = runner.invoke(args=["hello", "--name", "erlen"])
    assert result.exit_code == 0
    assert result.output == "Hello, erlen! erlen_test\n"


def test_cli_runner_custom_command_and_obj(app):
    @click.command()
    @click.pass_obj
    def show(obj):
        click.echo(type(obj).__name__)

    runner = app.test_cli_runner()
    assert runner.invoke(show).output == "ScriptInfo\n"
    assert runner.invoke(show, obj={"x": 1}).output == "dict\n"


def test_propagation_in_testing(app, client):
    app.add_url_rule("/", "i", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        client.get("/")
    app.testing = False
    assert client.get("/").status_code == 500
