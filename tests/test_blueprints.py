"""Blueprints: prefixes, subdomains, defaults, nesting, multiple
registrations, per-blueprint hooks and handlers, static and templates."""

import os

import pytest

import erlen
from erlen import Blueprint
from erlen import Flask

HERE = os.path.dirname(__file__)


def test_url_prefix_and_endpoint_names(app, client):
    bp = Blueprint("shop", __name__, url_prefix="/shop")

    @bp.route("/")
    def index():
        return erlen.request.endpoint

    @bp.route("/item/<int:n>")
    def item(n):
        return erlen.url_for(".item", n=n + 1)

    app.register_blueprint(bp)
    assert client.get("/shop/").data == b"shop.index"
    assert client.get("/shop/item/1").data == b"/shop/item/2"
    assert app.blueprints == {"shop": bp}
    assert list(app.iter_blueprints()) == [bp]


def test_register_options_override(app, client):
    bp = Blueprint("bp", __name__, url_prefix="/own")
    bp.add_url_rule("/x", "x", lambda: erlen.request.blueprint)
    app.register_blueprint(bp, url_prefix="/other")
    assert client.get("/other/x").data == b"bp"
    assert client.get("/own/x").status_code == 404


def test_empty_rule_with_prefix(app, client):
    bp = Blueprint("bp", __name__, url_prefix="/p")
    bp.add_url_rule("", "root", lambda: "root")
    app.register_blueprint(bp)
    assert client.get("/p").data == b"root"


@pytest.mark.parametrize(
    ("prefix", "rule", "url"),
    [
        ("/a/", "/b", "/a/b"),
        ("/a", "b", "/a/b"),
        ("/a/", "b/", "/a/b/"),
        ("/", "/x", "/x"),
    ],
)
def test_prefix_joining(app, client, prefix, rule, url):
    bp = Blueprint("bp", __name__, url_prefix=prefix)
    bp.add_url_rule(rule, "v", lambda: "hit")
    app.register_blueprint(bp)
    assert client.get(url).data == b"hit"


def test_url_defaults(app, client):
    bp = Blueprint("bp", __name__, url_defaults={"page": 1})

    @bp.route("/list")
    def listing(page):
        return str(page)

    @bp.route("/page/<int:n>")
    def page(n, page):
        return f"{n} {page}"

    @bp.route("/override", defaults={"page": 9})
    def override(page):
        return str(page)

    app.register_blueprint(
        bp, url_defaults={"page": 5}, name="five", url_prefix="/five"
    )
    app.register_blueprint(bp, url_prefix="/one")
    assert client.get("/one/list").data == b"1"
    assert client.get("/five/list").data == b"5"
    assert client.get("/one/page/3").data == b"3 1"
    assert client.get("/five/override").data == b"9"


def test_same_blueprint_twice_needs_name(app, client):
    bp = Blueprint("bp", __name__)
    bp.add_url_rule("/", "i", lambda: erlen.request.blueprint)
    app.register_blueprint(bp, url_prefix="/a")
    with pytest.raises(ValueError, match="already registered for this blueprint"):
        app.register_blueprint(bp, url_prefix="/b")
    app.register_blueprint(bp, url_prefix="/b", name="alt")
    other = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="for a different blueprint"):
        app.register_blueprint(other)
    assert client.get("/a/").data == b"bp"
    assert client.get("/b/").data == b"alt"


def test_record_once_only_first_registration(app):
    bp = Blueprint("bp", __name__)
    calls = []
    bp.record(
        lambda state: calls.append(("every", state.name, state.first_registration))
    )
    bp.record_once(lambda state: calls.append(("once", state.name)))
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="again")
    assert calls == [("every", "bp", True), ("once", "bp"), ("every", "again", False)]


def test_setup_state(app):
    bp = Blueprint("bp", __name__, url_prefix="/p", subdomain="sub")
    states = []
    bp.record(states.append)
    app.register_blueprint(bp, url_defaults={"a": 1})
    state = states[0]
    assert isinstance(state, erlen.blueprints.BlueprintSetupState)
    assert state.app is app and state.blueprint is bp
    assert state.url_prefix == "/p"
    assert state.subdomain == "sub"
    assert state.url_defaults == {"a": 1}
    assert state.name_prefix == ""


def test_blueprint_name_validation():
    with pytest.raises(ValueError, match="may not be empty"):
        Blueprint("", __name__)
    with pytest.raises(ValueError, match="may not contain a dot"):
        Blueprint("a.b", __name__)
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="'endpoint' may not contain a dot"):
        bp.add_url_rule("/", "a.b", lambda: "")

    def f():
        return ""

    f.__name__ = "a.b"
    with pytest.raises(ValueError, match="'view_func' name may not contain a dot"):
        bp.add_url_rule("/", view_func=f)
    with pytest.raises(ValueError, match="on itself"):
        bp.register_blueprint(bp)


def test_blueprint_setup_locked_after_registration(app):
    bp = Blueprint("bp", __name__)
    app.register_blueprint(bp)
    with pytest.raises(AssertionError, match="already been registered"):
        bp.route("/")(lambda: "")


def test_nested_blueprints(app, client):
    parent = Blueprint("parent", __name__, url_prefix="/parent")
    child = Blueprint("child", __name__, url_prefix="/child")
    grandchild = Blueprint("grandchild", __name__, url_prefix="/gc")

    @grandchild.route("/")
    def index():
        req = erlen.request
        return (
            f"{req.endpoint}|{req.blueprint}|{req.blueprints}|{erlen.url_for('.index')}"
        )

    child.register_blueprint(grandchild)
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    rv = client.get("/parent/child/gc/")
    assert rv.data.decode() == (
        "parent.child.grandchild.index|parent.child.grandchild|"
        "['parent.child.grandchild', 'parent.child', 'parent']|/parent/child/gc/"
    )
    assert set(app.blueprints) == {"parent", "parent.child", "parent.child.grandchild"}


def test_nested_subdomains():
    app = Flask("x", subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com"
    parent = Blueprint("parent", __name__, subdomain="api")
    child = Blueprint("child", __name__, subdomain="v1")
    child.add_url_rule("/", "i", lambda: "v1 api")
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert app.test_client().get("/", "http://v1.api.example.com/").data == b"v1 api"


def test_nested_hooks_order(app, client):
    calls = []
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")

    def log(name):
        def before():
            calls.append(f"before-{name}")

        def after(response):
            calls.append(f"after-{name}")
            return response

        def teardown(exc):
            calls.append(f"teardown-{name}")

        def preprocess(endpoint, values):
            calls.append(f"pre-{name}")

        return before, after, teardown, preprocess

    for name, target in (("app", app), ("parent", parent), ("child", child)):
        before, after, teardown, preprocess = log(name)
        target.before_request(before)
        target.after_request(after)
        target.teardown_request(teardown)
        target.url_value_preprocessor(preprocess)

    child.add_url_rule("/", "i", lambda: calls.append("view") or "x")
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    client.get("/p/c/")
    assert calls == [
        "pre-app", "pre-parent", "pre-child",
        "before-app", "before-parent", "before-child",
        "view",
        "after-child", "after-parent", "after-app",
        "teardown-child", "teardown-parent", "teardown-app",
    ]  # fmt: skip


def test_blueprint_hooks_only_for_its_requests(app, client):
    calls = []
    bp = Blueprint("bp", __name__)
    bp.before_request(lambda: calls.append("bp-before"))
    bp.add_url_rule("/bp", "i", lambda: "bp")
    app.add_url_rule("/app", "i", lambda: "app")
    app.register_blueprint(bp)
    client.get("/app")
    assert calls == []
    client.get("/bp")
    assert calls == ["bp-before"]


def test_app_wide_hooks_from_blueprint(app, client):
    calls = []
    bp = Blueprint("bp", __name__)
    bp.before_app_request(lambda: calls.append("before"))

    @bp.after_app_request
    def after(response):
        calls.append("after")
        return response

    bp.teardown_app_request(lambda e: calls.append("teardown"))
    bp.app_url_value_preprocessor(lambda e, v: calls.append("pre"))
    bp.app_context_processor(lambda: {"from_bp": "yes"})

    @bp.app_url_defaults
    def defaults(endpoint, values):
        values.setdefault("lang", "en")

    @bp.app_errorhandler(404)
    def nf(e):
        return "bp says 404", 404

    app.add_url_rule("/<lang>/x", "x", lambda lang: erlen.url_for("x"))
    app.register_blueprint(bp)
    assert client.get("/de/x").data == b"/en/x"
    assert calls == ["pre", "before", "after", "teardown"]
    assert client.get("/nope").data == b"bp says 404"
    with app.test_request_context():
        assert erlen.render_template_string("{{ from_bp }}") == "yes"


def test_blueprint_error_handler_before_app(app, client):
    bp = Blueprint("bp", __name__)

    @bp.errorhandler(KeyError)
    def bp_key(e):
        return "bp handled"

    @app.errorhandler(KeyError)
    def app_key(e):
        return "app handled"

    def boom():
        raise KeyError()

    bp.add_url_rule("/bp", "boom", boom)
    app.add_url_rule("/app", "boom", boom)
    app.register_blueprint(bp)
    assert client.get("/bp").data == b"bp handled"
    assert client.get("/app").data == b"app handled"


def test_blueprint_404_handler_only_for_its_routes(app, client):
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.register_error_handler(404, lambda e: ("bp 404", 404))

    @bp.route("/")
    def index():
        erlen.abort(404)

    app.register_blueprint(bp)
    assert client.get("/bp/").data == b"bp 404"
    # An unmatched URL has no blueprint, so the app's handling applies.
    assert b"bp 404" not in client.get("/bp/nothing").data


def test_nested_error_handler_inherits_from_parent(app, client):
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    parent.register_error_handler(ValueError, lambda e: "parent handled")

    @child.route("/c")
    def c():
        raise ValueError()

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/c").data == b"parent handled"


def test_template_registration_from_blueprint(app):
    bp = Blueprint("bp", __name__)
    bp.add_app_template_filter(lambda s: s * 2, "twice")
    bp.app_template_test("empty")(lambda s: not s)
    bp.add_app_template_global(lambda: "g", "gfunc")
    app.register_blueprint(bp)
    with app.app_context():
        out = erlen.render_template_string(
            "{{ 'a'|twice }} {{ '' is empty }} {{ gfunc() }}"
        )
    assert out == "aa True g"


def test_blueprint_static_folder(app, client):
    bp = Blueprint(
        "bp", __name__, static_folder="static", url_prefix="/bp", root_path=HERE
    )
    app.register_blueprint(bp)
    assert bp.has_static_folder
    rv = client.get("/bp/static/hello.txt")
    assert rv.data.strip() == b"static hello"
    rv.close()
    with app.test_request_context():
        assert (
            erlen.url_for("bp.static", filename="hello.txt") == "/bp/static/hello.txt"
        )


def test_blueprint_send_file_max_age(app):
    bp = Blueprint("bp", __name__, static_folder="static", root_path=HERE)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 30
    with app.test_request_context():
        assert bp.get_send_file_max_age("x") == 30
        rv = bp.send_static_file("hello.txt")
        assert rv.cache_control.max_age == 30
        rv.close()


def test_blueprint_template_folder(app):
    bp = Blueprint("bp", __name__, template_folder="templates", root_path=HERE)
    assert bp.jinja_loader is not None
    assert bp.jinja_loader.searchpath == [os.path.join(HERE, "templates")]
    assert Blueprint("nt", __name__).jinja_loader is None


def test_blueprint_open_resource():
    bp = Blueprint("bp", __name__, root_path=HERE)
    with bp.open_resource("static/hello.txt") as f:
        assert f.read().strip() == b"static hello"
    with pytest.raises(ValueError):
        bp.open_resource("static/hello.txt", "w")


def test_blueprint_endpoint_decorator_is_unprefixed(app, client):
    from werkzeug.routing import Rule

    app.url_map.add(Rule("/foo", endpoint="bar"))
    bp = Blueprint("bp", __name__)

    @bp.endpoint("bar")
    def foobar():
        return erlen.request.endpoint

    app.register_blueprint(bp, url_prefix="/bp")
    assert client.get("/foo").data == b"bar"


def test_blueprint_cli_group(app):
    bp = Blueprint("tools", __name__)

    @bp.cli.command("hello")
    def hello():
        print("hi from bp")

    app.register_blueprint(bp)
    result = app.test_cli_runner().invoke(args=["tools", "hello"])
    assert "hi from bp" in result.output

    flat = Blueprint("flat", __name__, cli_group=None)
    flat.cli.command("top")(lambda: print("top level"))
    app2 = Flask("x")
    app2.register_blueprint(flat)
    assert "top level" in app2.test_cli_runner().invoke(args=["top"]).output


def test_view_function_without_blueprint_dot_in_request_blueprint(app, client):
    app.add_url_rule("/", "plain", lambda: repr(erlen.request.blueprints))
    assert client.get("/").data == b"[]"


def test_blueprint_repr():
    assert repr(Blueprint("bp", __name__)) == "<Blueprint 'bp'>"


def test_blueprint_url_defaults_and_preprocessors_are_scoped(app, client):
    bp = Blueprint("lang", __name__, url_prefix="/<lang_code>")

    @bp.url_defaults
    def add_language_code(endpoint, values):
        values.setdefault("lang_code", erlen.g.lang_code)

    @bp.url_value_preprocessor
    def pull_lang_code(endpoint, values):
        erlen.g.lang_code = values.pop("lang_code")

    @bp.route("/about")
    def about():
        return erlen.url_for(".about")

    @app.route("/plain")
    def plain():
        # The blueprint's preprocessor does not run for app endpoints.
        return str(erlen.g.get("lang_code"))

    app.register_blueprint(bp)
    assert client.get("/fr/about").data == b"/fr/about"
    assert client.get("/plain").data == b"None"


def test_relative_endpoint_outside_blueprint(app):
    app.add_url_rule("/x", "x", lambda: "")
    with app.test_request_context("/x"):
        assert erlen.url_for(".x") == "/x"


def test_nested_blueprint_error_handler_by_code(app, client):
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")

    @parent.errorhandler(403)
    def parent_403(e):
        return "parent 403", 403

    @child.route("/")
    def index():
        erlen.abort(403)

    @app.errorhandler(403)
    def app_403(e):
        return "app 403", 403

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/p/c/").data == b"parent 403"


def test_blueprint_static_defaults_and_errors(app):
    bp = Blueprint("bp", __name__, static_folder="static", root_path=HERE)
    with app.test_request_context():
        # SEND_FILE_MAX_AGE_DEFAULT is None by default: no max-age is sent.
        assert bp.get_send_file_max_age("hello.txt") is None
        rv = bp.send_static_file("hello.txt")
        assert rv.cache_control.max_age is None
        rv.close()
        bare = Blueprint("bare", __name__, root_path=HERE)
        assert bare.static_url_path is None
        with pytest.raises(RuntimeError, match="static_folder"):
            bare.send_static_file("hello.txt")


def test_blueprint_open_resource_text_mode():
    bp = Blueprint("bp", __name__, root_path=HERE)
    with bp.open_resource("static/hello.txt", "r") as f:
        assert f.read().strip() == "static hello"


@pytest.mark.parametrize(
    ("child_options", "parent_options", "rule"),
    [
        ({"url_prefix": "/child"}, {}, "/child/"),
        ({}, {"url_prefix": "/parent"}, "/parent/"),
        ({"subdomain": "api"}, {}, "/"),
    ],
)
def test_nested_blueprint_options_from_one_side(
    app, child_options, parent_options, rule
):
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__, **child_options)

    @child.route("/")
    def index():
        return "index"

    parent.register_blueprint(child)
    app.register_blueprint(parent, **parent_options)
    (found,) = app.url_map.iter_rules("parent.child.index")
    assert found.rule == rule
    assert found.subdomain == child_options.get("subdomain", "")
