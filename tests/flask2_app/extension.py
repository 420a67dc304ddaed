"""An extension in the style Flask-Babel 2 used: its per-app state behind
a ``locked_cached_property`` from ``flask.helpers``."""

from flask import current_app
from flask.helpers import locked_cached_property


class Greeter:
    def __init__(self, app=None):
        self.computed = 0
        if app is not None:
            self.init_app(app)

    def init_app(self, app):
        app.extensions["greeter"] = self

    @locked_cached_property
    def greeting(self):
        self.computed += 1
        return f"{current_app.config['GREETING']}!"
