"""An unmodified Flask app (it imports ``flask``) for ``erlen serve
--as-flask``: it reports which framework's classes it was built from."""

import flask
from flask import Flask
from flask import jsonify

app = Flask(__name__)


@app.route("/ping")
def ping():
    return "pong"


@app.route("/which")
def which():
    return jsonify(flask_module=flask.__name__, app_class=type(app).__module__)
