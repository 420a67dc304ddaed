"""Helpers inside an application: URL building, redirects and aborts through
the app, responses, flashing, sending files and streaming."""

import io
import os

import pytest
import werkzeug.exceptions
from werkzeug.exceptions import NotFound

from erlen import Flask
from erlen.globals import _cv_request
from erlen.helpers import abort
from erlen.helpers import flash
from erlen.helpers import get_flashed_messages
from erlen.helpers import make_response
from erlen.helpers import redirect
from erlen.helpers import send_file
from erlen.helpers import send_from_directory
from erlen.helpers import stream_with_context
from erlen.helpers import url_for
from erlen.signals import message_flashed

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = os.path.join(HERE, "static")


@pytest.fixture
def app():
    app = Flask("erlen_helpers_test", root_path=HERE)
    app.config.update(TESTING=True, SECRET_KEY="helpers")
    return app


@pytest.fixture
def client(app):
    return app.test_client()


class TestUrlFor:
    def test_forwards_all_arguments_to_app(self):
        calls = []

        class RecordingApp(Flask):
            def url_for(self, endpoint, **kwargs):
                calls.append((endpoint, kwargs))
                return "recorded"

        app = RecordingApp("erlen_recording")
        with app.app_context():
            assert (
                url_for(
                    "ep",
                    _anchor="a",
                    _method="POST",
                    _scheme="https",
                    _external=True,
                    x=1,
                )
                == "recorded"
            )
        assert calls == [
            (
                "ep",
                {
                    "_anchor": "a",
                    "_method": "POST",
                    "_scheme": "https",
                    "_external": True,
                    "x": 1,
                },
            )
        ]

    def test_builds_urls(self, app):
        @app.route("/item/<int:item_id>")
        def item(item_id):
            return ""

        with app.test_request_context():
            assert url_for("item", item_id=3) == "/item/3"
            assert url_for("item", item_id=3, q="x") == "/item/3?q=x"
            assert url_for("item", item_id=3, _anchor="top") == "/item/3#top"
            assert (
                url_for("item", item_id=3, _external=True) == "http://localhost/item/3"
            )
            assert (
                url_for("item", item_id=3, _external=True, _scheme="https")
                == "https://localhost/item/3"
            )

    def test_url_for_with_method(self, app):
        app.add_url_rule("/list", "things", methods=["GET"])
        app.add_url_rule("/list/<int:n>", "things", methods=["POST"])
        with app.test_request_context():
            assert url_for("things") == "/list"
            assert url_for("things", _method="POST", n=2) == "/list/2"


class TestRedirectAbort:
    def test_redirect_uses_app(self):
        class MyResponse(Flask.response_class):
            pass

        class RedirectApp(Flask):
            response_class = MyResponse

            def redirect(self, location, code=302):
                rv = super().redirect(location, code)
                rv.headers["X-Via-App"] = "yes"
                return rv

        app = RedirectApp("erlen_redirect")
        with app.app_context():
            rv = redirect("/there", 301)
        assert isinstance(rv, MyResponse)
        assert rv.status_code == 301
        assert rv.headers["Location"] == "/there"
        assert rv.headers["X-Via-App"] == "yes"

    def test_abort_uses_app_aborter(self, app):
        class Unusual(werkzeug.exceptions.HTTPException):
            code = 599
            description = "not a standard code"

        class MyAborter(werkzeug.exceptions.Aborter):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.mapping[599] = Unusual

        class AborterApp(Flask):
            aborter_class = MyAborter

        app = AborterApp("erlen_aborter")
        with app.app_context():
            with pytest.raises(Unusual):
                abort(599)
            with pytest.raises(NotFound):
                abort(404)
        # Without the app, werkzeug's aborter does not know the code.
        with pytest.raises(LookupError):
            abort(599)

    def test_abort_with_response(self, app):
        response = app.response_class("custom", status=409)
        with app.app_context():
            with pytest.raises(werkzeug.exceptions.HTTPException) as exc_info:
                abort(response)
        assert exc_info.value.get_response() is response

    def test_abort_in_view(self, app, client):
        @app.route("/")
        def index():
            abort(403)

        assert client.get("/").status_code == 403


class TestMakeResponse:
    def test_variants(self, app):
        with app.test_request_context():
            rv = make_response()
            assert isinstance(rv, app.response_class)
            assert rv.status_code == 200
            assert rv.data == b""
            assert rv.mimetype == "text/html"

            rv = make_response("Hello")
            assert rv.data == b"Hello"
            assert rv.status_code == 200

            rv = make_response("Gone", 410)
            assert rv.status_code == 410
            assert rv.data == b"Gone"

            rv = make_response("x", 201, {"X-A": "b"})
            assert rv.status_code == 201
            assert rv.headers["X-A"] == "b"

            rv = make_response({"k": 1})
            assert rv.mimetype == "application/json"
            assert rv.json == {"k": 1}

            existing = app.response_class("as is")
            assert make_response(existing) is existing

    def test_add_headers_in_view(self, app, client):
        @app.route("/")
        def index():
            rv = make_response("body", 202)
            rv.headers["X-Extra"] = "1"
            return rv

        rv = client.get("/")
        assert rv.status_code == 202
        assert rv.headers["X-Extra"] == "1"


class TestFlashing:
    def test_flash_and_consume(self, app, client):
        @app.route("/add")
        def add():
            flash("plain")
            flash("careful", "warning")
            flash("broken", "error")
            return ""

        @app.route("/all")
        def all_():
            first = get_flashed_messages()
            # A second call in the same request returns the same messages.
            second = get_flashed_messages()
            assert first == second
            return "|".join(first)

        @app.route("/cats")
        def cats():
            return repr(get_flashed_messages(with_categories=True))

        @app.route("/filtered")
        def filtered():
            msgs = get_flashed_messages(category_filter=["error", "warning"])
            with_cats = get_flashed_messages(True, category_filter=("error",))
            return repr((msgs, with_cats))

        client.get("/add")
        assert client.get("/all").text == "plain|careful|broken"
        # Consumed by the previous request.
        assert client.get("/all").text == ""

        client.get("/add")
        assert client.get("/cats").text == repr(
            [("message", "plain"), ("warning", "careful"), ("error", "broken")]
        )

        client.get("/add")
        assert client.get("/filtered").text == repr(
            (["careful", "broken"], [("error", "broken")])
        )

    def test_cached_for_rest_of_request(self, app, client):
        @app.route("/")
        def index():
            flash("one")
            before = get_flashed_messages()
            flash("two")
            after = get_flashed_messages()
            return repr((before, after))

        @app.route("/next")
        def next_():
            return repr(get_flashed_messages())

        # Messages flashed after the first read wait for the next request.
        assert client.get("/").text == repr((["one"], ["one"]))
        assert client.get("/next").text == repr(["two"])

    def test_flash_reassigns_session_key(self, app):
        with app.test_request_context():
            session = _cv_request.get().session
            flash("a")
            first = session["_flashes"]
            flash("b", "info")
            assert session["_flashes"] == [("message", "a"), ("info", "b")]
            assert first is session["_flashes"]
            assert session.modified

    def test_message_flashed_signal(self, app, client):
        recorded = []

        def record(sender, message, category, **extra):
            recorded.append((sender, message, category))

        @app.route("/")
        def index():
            flash("hello", "info")
            return ""

        with message_flashed.connected_to(record, app):
            client.get("/")
        assert recorded == [(app, "hello", "info")]

    def test_no_send_without_receivers(self, app, monkeypatch):
        # Start from a known empty state: receivers disconnected from one
        # sender stay listed until they are garbage collected.
        monkeypatch.setattr(message_flashed, "receivers", {})

        def fail(*args, **kwargs):
            raise AssertionError("send() called without receivers")

        monkeypatch.setattr(message_flashed, "send", fail)
        with app.test_request_context():
            flash("quiet")
            assert get_flashed_messages() == ["quiet"]


class TestSendFile:
    def test_send_path(self, app):
        with app.test_request_context():
            rv = send_file(os.path.join(STATIC, "hello.txt"))
            rv.direct_passthrough = False
            assert isinstance(rv, app.response_class)
            assert rv.data == b"static hello\n"
            assert rv.mimetype == "text/plain"
            assert rv.headers["Content-Length"] == "13"
            assert rv.headers.get("ETag")
            # No max age configured: clients revalidate.
            assert rv.cache_control.no_cache
            rv.close()

    def test_relative_path_is_from_root_path(self, app, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        with app.test_request_context():
            rv = send_file("static/hello.txt")
            rv.direct_passthrough = False
            assert rv.data == b"static hello\n"
            rv.close()

    def test_send_file_object(self, app):
        with app.test_request_context():
            rv = send_file(io.BytesIO(b"raw bytes"), mimetype="application/x-test")
            rv.direct_passthrough = False
            assert rv.data == b"raw bytes"
            assert rv.mimetype == "application/x-test"
            rv.close()
            # No name to guess the type from.
            with pytest.raises(TypeError):
                send_file(io.BytesIO(b"no name"))

    def test_attachment(self, app):
        with app.test_request_context():
            rv = send_file(
                io.BytesIO(b"csv"), as_attachment=True, download_name="report.csv"
            )
            assert (
                rv.headers["Content-Disposition"] == "attachment; filename=report.csv"
            )
            assert rv.mimetype == "text/csv"
            rv.close()

    def test_max_age_from_app(self, app):
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
        with app.test_request_context():
            rv = send_file(os.path.join(STATIC, "hello.txt"))
            assert rv.cache_control.max_age == 3600
            assert rv.cache_control.public
            rv.close()
            rv = send_file(os.path.join(STATIC, "hello.txt"), max_age=10)
            assert rv.cache_control.max_age == 10
            rv.close()

    def test_max_age_from_app_override(self):
        class PerFileApp(Flask):
            def get_send_file_max_age(self, filename):
                return 7 if filename and filename.endswith(".txt") else 99

        app = PerFileApp("erlen_perfile", root_path=HERE)
        with app.test_request_context():
            rv = send_file(os.path.join(STATIC, "hello.txt"))
            assert rv.cache_control.max_age == 7
            rv.close()

    def test_x_sendfile(self, app):
        app.config["USE_X_SENDFILE"] = True
        path = os.path.join(STATIC, "hello.txt")
        with app.test_request_context():
            rv = send_file(path)
            assert rv.headers["X-Sendfile"] == path
            assert rv.data == b""
            rv.close()

    def test_conditional(self, app, client):
        @app.route("/file")
        def file():
            return send_file(os.path.join(STATIC, "hello.txt"))

        first = client.get("/file")
        etag = first.headers["ETag"]
        first.close()
        again = client.get("/file", headers={"If-None-Match": etag})
        assert again.status_code == 304
        partial = client.get("/file", headers={"Range": "bytes=0-5"})
        assert partial.status_code == 206
        assert partial.data == b"static"
        partial.close()


class TestSendFromDirectory:
    def test_serves_file(self, app):
        with app.test_request_context():
            rv = send_from_directory("static", "sub/data.json")
            rv.direct_passthrough = False
            assert rv.data == b'{"k": 1}\n'
            assert rv.mimetype == "application/json"
            rv.close()

    def test_absolute_directory(self, app):
        with app.test_request_context():
            rv = send_from_directory(STATIC, "hello.txt", as_attachment=True)
            assert "attachment" in rv.headers["Content-Disposition"]
            rv.close()

    @pytest.mark.parametrize(
        "path",
        [
            "../test_helpers.py",
            "sub/../../test_helpers.py",
            "/etc/passwd",
            "missing.txt",
            "sub",
        ],
    )
    def test_not_found(self, app, path):
        with app.test_request_context():
            with pytest.raises(NotFound):
                send_from_directory("static", path)

    def test_through_view(self, app, client):
        @app.route("/files/<path:name>")
        def files(name):
            return send_from_directory("static", name)

        rv = client.get("/files/hello.txt")
        assert rv.data == b"static hello\n"
        rv.close()
        assert client.get("/files/..%2Ftest_helpers.py").status_code == 404


class TestStreaming:
    def test_wrapped_generator(self, app, client):
        @app.route("/")
        def index():
            from erlen import request

            def generate():
                yield "Hello "
                yield request.args["name"]
                yield "!"

            return app.response_class(stream_with_context(generate()))

        assert client.get("/?name=World").data == b"Hello World!"

    def test_decorator(self, app, client):
        @app.route("/")
        def index():
            from erlen import request

            @stream_with_context
            def generate(greeting):
                yield greeting
                yield request.args["name"]

            return app.response_class(generate("Hi "))

        assert client.get("/?name=Ann").data == b"Hi Ann"

    def test_closes_wrapped_iterator(self, app, client):
        closed = []

        class Closing:
            def __init__(self, items):
                self._it = iter(items)

            def __iter__(self):
                return self

            def __next__(self):
                return next(self._it)

            def close(self):
                closed.append(True)

        @app.route("/")
        def index():
            return app.response_class(stream_with_context(Closing(["a", "b"])))

        assert client.get("/").data == b"ab"
        assert closed == [True]

    def test_keeps_session_and_g(self, app, client):
        @app.route("/")
        def index():
            from erlen import g
            from erlen import session

            session["k"] = "from-session"
            g.value = "from-g"

            @stream_with_context
            def gen():
                yield session["k"]
                yield " "
                yield g.value

            return app.response_class(gen())

        assert client.get("/").text == "from-session from-g"

    def test_contexts_popped_after_stream(self, app, client):
        @app.route("/")
        def index():
            def gen():
                yield "x"

            return app.response_class(stream_with_context(gen()))

        rv = client.get("/")
        assert rv.text == "x"
        assert _cv_request.get(None) is None

    def test_async_view(self, app, client):
        pytest.importorskip("asgiref")

        @app.route("/")
        async def index():
            from erlen import session

            session["k"] = "async"

            @stream_with_context
            def gen():
                yield session["k"]

            return app.response_class(gen())

        client.get("/").close()
        assert client.get("/").text == "async"
        with client:
            assert client.get("/").text == "async"
