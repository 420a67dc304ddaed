"""Templates: rendering and streaming, autoescaping, the default context, the
signals, the dispatching loader, and template attributes."""

import os

import pytest
from jinja2 import DictLoader
from jinja2 import TemplateNotFound
from markupsafe import Markup

import erlen.debughelpers
from erlen import Blueprint
from erlen import Flask
from erlen.globals import _cv_app
from erlen.globals import _cv_request
from erlen.helpers import get_template_attribute
from erlen.signals import before_render_template
from erlen.signals import template_rendered
from erlen.templating import _default_template_ctx_processor
from erlen.templating import DispatchingJinjaLoader
from erlen.templating import Environment
from erlen.templating import render_template
from erlen.templating import render_template_string
from erlen.templating import stream_template
from erlen.templating import stream_template_string

HERE = os.path.dirname(__file__)


@pytest.fixture
def app():
    app = Flask("erlen_templating_test", root_path=HERE)
    app.config.update(TESTING=True, SECRET_KEY="templating", APP_LABEL="label")
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def blueprint_app(app):
    bp = Blueprint("pages", __name__, template_folder="templates/bp_only")

    @bp.route("/bp")
    def bp_view():
        return render_template("bp_page.html")

    app.register_blueprint(bp)
    return app


def test_render_file_template_autoescapes(app):
    with app.test_request_context():
        assert render_template("greeting.html", name="<b>you</b>") == (
            "<p>Hello &lt;b&gt;you&lt;/b&gt;!</p>"
        )
        # Markup is trusted and passes through.
        assert render_template("greeting.html", name=Markup("<b>you</b>")) == (
            "<p>Hello <b>you</b>!</p>"
        )


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("markup.html", True),
        ("feed.xml", True),
        ("icon.svg", True),
        ("plain.txt", False),
    ],
)
def test_autoescape_by_extension(app, name, escaped):
    value = "<&>"
    with app.app_context():
        rv = render_template(name, value=value)
    assert ("&lt;&amp;&gt;" in rv) is escaped
    assert (value in rv) is not escaped


def test_render_template_string_autoescapes(app):
    with app.app_context():
        assert render_template_string("{{ v }}", v="<i>") == "&lt;i&gt;"
        assert render_template_string("{{ v|safe }}", v="<i>") == "<i>"
        assert (
            render_template_string(
                "{% autoescape false %}{{ v }}{% endautoescape %}", v="<i>"
            )
            == "<i>"
        )


def test_render_first_existing_of_list(app):
    with app.app_context():
        assert (
            render_template(["nope.html", "greeting.html"], name="x")
            == "<p>Hello x!</p>"
        )
        with pytest.raises(TemplateNotFound):
            render_template("does-not-exist.html")


def test_standard_context_in_request(app, client):
    @app.route("/ctx")
    def ctx_view():
        from erlen import g
        from erlen import session

        g.user = "ann"
        session["who"] = "sam"
        return render_template("context.html")

    assert client.get("/ctx").text == "/ctx|ann|label|sam"


def test_rendering_without_request(app):
    with app.app_context() as ctx:
        ctx.g.user = "worker"
        rv = render_template_string("{{ g.user }} {{ config.APP_LABEL }}")
    assert rv == "worker label"


def test_context_processors_and_passed_values(app):
    @app.context_processor
    def extra():
        return {"who": "processor", "only_processor": "p"}

    with app.test_request_context():
        assert render_template_string("{{ who }} {{ only_processor }}") == "processor p"
        # Values given to render_template win over context processors.
        assert (
            render_template_string("{{ who }} {{ only_processor }}", who="caller")
            == "caller p"
        )


def test_default_context_processor():
    app = Flask("erlen_default_ctx", root_path=HERE)
    assert _default_template_ctx_processor() == {}
    with app.app_context() as app_ctx:
        assert _default_template_ctx_processor() == {"g": app_ctx.g}
        with app.test_request_context("/somewhere") as req_ctx:
            rv = _default_template_ctx_processor()
            assert rv["g"] is _cv_app.get().g
            assert rv["request"] is req_ctx.request
            # Reading the session here would mark it accessed on every render.
            assert "session" not in rv


def test_render_does_not_touch_session(app, client):
    @app.route("/")
    def index():
        return render_template("greeting.html", name="x")

    rv = client.get("/")
    assert rv.text == "<p>Hello x!</p>"
    assert "Cookie" not in rv.headers.get("Vary", "")


def test_flashed_messages_in_template(app, client):
    from erlen.helpers import flash

    @app.route("/set")
    def set_():
        flash("saved", "info")
        flash("oops", "error")
        return ""

    @app.route("/show")
    def show():
        return render_template("flashes.html")

    client.get("/set")
    assert client.get("/show").text == "[info:saved][error:oops]"
    assert client.get("/show").text == ""


def test_imported_template_sees_globals(app):
    @app.route("/")
    def index():
        return ""

    with app.test_request_context():
        assert render_template("imports.html") == "HEY! /"


def test_get_template_attribute(app):
    with app.app_context():
        shout = get_template_attribute("macros.html", "shout")
        assert shout("hi") == "HI!"
        assert get_template_attribute("macros.html", "answer") == 42
        with pytest.raises(AttributeError):
            get_template_attribute("macros.html", "missing")


def test_signals_sent_in_order(app):
    events = []

    def before(sender, template, context):
        events.append(("before", sender, template.name, dict(context)))
        context["injected"] = "by-signal"

    def after(sender, template, context):
        events.append(("after", sender, template.name, context["name"]))

    before_render_template.connect(before, app)
    template_rendered.connect(after, app)
    try:
        with app.test_request_context():
            rv = render_template_string("{{ name }} {{ injected }}", name="n")
    finally:
        before_render_template.disconnect(before, app)
        template_rendered.disconnect(after, app)

    assert rv == "n by-signal"
    assert [e[0] for e in events] == ["before", "after"]
    assert events[0][1] is app
    assert events[0][3]["name"] == "n"
    # The context already holds the processors' values when the signal fires.
    assert "request" in events[0][3] and "g" in events[0][3]
    assert events[1][3] == "n"


def test_signals_for_named_template(app):
    seen = []

    def record(sender, template, context):
        seen.append(template.name)

    with template_rendered.connected_to(record, app):
        with app.app_context():
            render_template("greeting.html", name="a")
    assert seen == ["greeting.html"]


def test_no_signal_send_without_receivers(app, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("send() called without receivers")

    # Receivers connected to a specific sender stay in ``receivers`` until
    # they are garbage collected, so start from a known empty state.
    monkeypatch.setattr(before_render_template, "receivers", {})
    monkeypatch.setattr(template_rendered, "receivers", {})
    monkeypatch.setattr(before_render_template, "send", fail)
    monkeypatch.setattr(template_rendered, "send", fail)
    with app.app_context():
        assert render_template_string("{{ 1 + 1 }}") == "2"
        assert "".join(stream_template_string("{{ 2 + 2 }}")) == "4"


def test_stream_template_outside_request(app):
    with app.app_context():
        stream = stream_template("chunks.html", items=[1, 2, 3])
        assert not isinstance(stream, str)
        assert "".join(stream) == "[1][2][3]"
        assert "".join(stream_template_string("{{ a }}-{{ b }}", a=1, b=2)) == "1-2"


def test_stream_template_keeps_request_context(app, client):
    rendered = []

    def record(sender, template, context):
        rendered.append(_cv_request.get(None) is not None)

    @app.route("/stream")
    def stream():
        # The request is read lazily, while the response body is produced.
        return app.response_class(
            stream_template_string(
                "{% for i in range(3) %}{{ request.args['p'] }}{{ i }}{% endfor %}"
            )
        )

    with template_rendered.connected_to(record, app):
        # The body is produced as it is read, so read it inside the block.
        assert client.get("/stream?p=x").text == "x0x1x2"
    # template_rendered fires once generation finishes, still inside the
    # request context kept alive for the stream.
    assert rendered == [True]


def test_dispatching_loader_order_and_blueprints(blueprint_app):
    app = blueprint_app
    client = app.test_client()
    assert client.get("/bp").text == "blueprint page pages"
    with app.app_context():
        # The app's folder is searched before any blueprint's.
        assert render_template("shared.html") == "app version of shared"
        names = app.jinja_env.list_templates()
    assert "bp_page.html" in names
    assert "greeting.html" in names
    assert "bp_only/bp_page.html" in names
    assert len(names) == len(set(names))


def test_dispatching_loader_without_app_folder():
    app = Flask("erlen_no_templates", root_path=HERE, template_folder=None)
    bp = Blueprint("bp", __name__, template_folder="templates/bp_only")
    app.register_blueprint(bp)
    with app.app_context():
        assert render_template("shared.html") == "blueprint version of shared"
        with pytest.raises(TemplateNotFound):
            render_template("greeting.html")
        assert sorted(app.jinja_env.list_templates()) == ["bp_page.html", "shared.html"]


def test_explain_template_loading(blueprint_app, monkeypatch):
    app = blueprint_app
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    calls = []

    def explain(app_arg, template, attempts):
        calls.append((app_arg, template, attempts))

    monkeypatch.setattr(
        erlen.debughelpers, "explain_template_loading_attempts", explain
    )
    with app.app_context():
        assert render_template("shared.html") == "app version of shared"
        with pytest.raises(TemplateNotFound):
            render_template("missing-everywhere.html")

    (a, name, attempts), (_, missing_name, missing_attempts) = calls
    assert a is app
    assert name == "shared.html"
    # Every loader is tried, even after a match.
    assert [owner for _, owner, _ in attempts] == [app, app.blueprints["pages"]]
    assert all(result is not None for _, _, result in attempts)
    assert attempts[0][2][1].endswith(os.path.join("templates", "shared.html"))
    assert missing_name == "missing-everywhere.html"
    assert [result for _, _, result in missing_attempts] == [None, None]


def test_explain_template_loading_logs(blueprint_app, caplog):
    app = blueprint_app
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    with caplog.at_level("INFO"), app.test_request_context("/bp"):
        assert render_template("bp_page.html") == "blueprint page pages"
    assert "Locating template 'bp_page.html'" in caplog.text
    assert "bp_only" in caplog.text


def test_environment_binds_app_and_loader():
    app = Flask("erlen_env_test", root_path=HERE)
    env = Environment(app)
    assert env.app is app
    assert isinstance(env.loader, DispatchingJinjaLoader)
    assert env.loader.app is app
    custom = DictLoader({"x.html": "custom"})
    env = Environment(app, loader=custom, autoescape=True)
    assert env.loader is custom
    assert env.get_template("x.html").render() == "custom"


def test_app_jinja_env_is_erlen_environment(app):
    assert isinstance(app.jinja_env, Environment)
    assert app.jinja_env.app is app


def test_custom_jinja_options_loader(app):
    class LoaderApp(Flask):
        jinja_options = {"loader": DictLoader({"only.html": "{{ x }}!"})}

    app = LoaderApp("erlen_loader_app", root_path=HERE)
    with app.app_context():
        assert render_template("only.html", x=1) == "1!"
        with pytest.raises(TemplateNotFound):
            render_template("greeting.html")


def test_templates_auto_reload(app, tmp_path):
    folder = tmp_path / "tpl"
    folder.mkdir()
    page = folder / "page.html"
    page.write_text("one")
    app = Flask("erlen_reload", root_path=str(tmp_path), template_folder="tpl")
    app.config["TEMPLATES_AUTO_RELOAD"] = True
    with app.app_context():
        assert render_template("page.html") == "one"
        page.write_text("two, longer")
        # Move the mtime forward so the change is seen on coarse clocks.
        stat = page.stat()
        os.utime(page, (stat.st_atime + 5, stat.st_mtime + 5))
        assert render_template("page.html") == "two, longer"
