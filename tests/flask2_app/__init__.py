"""A small application written for Flask 2.0 to 2.2, left as it was.

tests/test_compat_flask2_app.py runs its tests (check_app.py) on erlen
through the ``flask`` alias; nothing here knows about erlen.
"""

import datetime
import decimal

from flask import Flask
from flask import jsonify
from flask import session
from flask.json import JSONEncoder

from .extension import Greeter
from .notes import notes


class AppJSONEncoder(JSONEncoder):
    """The pre-2.3 way to serialize custom types."""

    def default(self, o):
        if isinstance(o, decimal.Decimal):
            return {"decimal": str(o)}
        if isinstance(o, set):
            return sorted(o)
        return super().default(o)


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY="dev",
        JSON_SORT_KEYS=False,
        JSON_AS_ASCII=False,
        GREETING="Hello",
    )
    if test_config is not None:
        app.config.from_mapping(test_config)

    app.session_cookie_name = "legacy_session"
    app.json_encoder = AppJSONEncoder
    app.extensions["first_request_runs"] = 0

    if app.env == "development":
        app.config["GREETING"] = "Hello, developer"

    @app.before_first_request
    def warm_up():
        app.extensions["first_request_runs"] += 1

    greeter = Greeter(app)
    app.register_blueprint(notes, url_prefix="/notes")

    @app.route("/")
    def index():
        return jsonify(
            zebra=1,
            apple="pomme \u00e0 la cr\u00e8me",
            price=decimal.Decimal("9.99"),
            tags={"b", "a"},
            day=datetime.date(2022, 8, 1),
        )

    @app.route("/login/<name>")
    def login(name):
        session["user"] = name
        return "ok"

    @app.route("/whoami")
    def whoami():
        return session.get("user", "nobody")

    @app.route("/greet")
    def greet():
        return greeter.greeting

    @app.route("/env")
    def env():
        return jsonify(env=app.env, debug=app.debug)

    return app
