import os

from erlen import Flask


def create_app():
    app = Flask("debug_factory")
    # What the factory saw while it ran.
    app.config["SEEN_FLASK_DEBUG"] = os.environ.get("FLASK_DEBUG")
    return app
