"""A blueprint with the pre-2.3 hooks."""

from flask import Blueprint
from flask import jsonify
from flask import request

notes = Blueprint("notes", __name__)
setup_calls = []


@notes.before_app_first_request
def load_notes():
    setup_calls.append("notes")


@notes.route("/", methods=["POST"])
def add():
    data = request.get_json()
    return jsonify(saved=data["text"], length=len(data["text"]))
