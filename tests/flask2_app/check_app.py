"""Tests of the application, in the style of Flask 2.0 to 2.2 projects."""

import json

import pytest

from . import create_app
from .extension import Greeter
from .notes import setup_calls


@pytest.fixture
def app():
    app = create_app({"TESTING": True})
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


def test_config(app):
    assert not create_app().testing
    assert app.testing
    assert app.env == "production"
    assert app.config["ENV"] == "production"


def test_before_first_request_runs_once(app, client):
    assert app.extensions["first_request_runs"] == 0
    client.get("/")
    client.get("/whoami")
    assert app.extensions["first_request_runs"] == 1
    assert "notes" in setup_calls


def test_json_encoder_and_json_config(client):
    rv = client.get("/")
    assert rv.mimetype == "application/json"
    text = rv.get_data(as_text=True)
    # JSON_SORT_KEYS=False keeps the view's order; JSON_AS_ASCII=False keeps
    # the accents as they are.
    assert list(json.loads(text)) == ["zebra", "apple", "price", "tags", "day"]
    assert "pomme à la crème" in text
    data = json.loads(text)
    assert data["price"] == {"decimal": "9.99"}
    assert data["tags"] == ["a", "b"]
    assert data["day"] == "Mon, 01 Aug 2022 00:00:00 GMT"


def test_session_cookie_name(app, client):
    assert app.session_cookie_name == "legacy_session"
    rv = client.get("/login/ada")
    assert rv.headers["Set-Cookie"].startswith("legacy_session=")
    assert client.get("/whoami").data == b"ada"
    with client.session_transaction() as sess:
        assert sess["user"] == "ada"
        sess["user"] = "grace"
    assert client.get("/whoami").data == b"grace"


def test_extension_locked_cached_property(app, client):
    greeter = app.extensions["greeter"]
    assert isinstance(greeter, Greeter)
    assert greeter.computed == 0
    assert client.get("/greet").data == b"Hello!"
    assert client.get("/greet").data == b"Hello!"
    assert greeter.computed == 1


def test_blueprint_json(client):
    rv = client.post("/notes/", json={"text": "héllo"})
    assert rv.get_json() == {"saved": "héllo", "length": 5}


def test_env_from_flask_env(monkeypatch):
    monkeypatch.setenv("FLASK_ENV", "development")
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = create_app({"TESTING": True})
    assert app.env == "development"
    assert app.debug
    assert app.config["GREETING"] == "Hello, developer"
    assert app.test_client().get("/env").get_json() == {
        "env": "development",
        "debug": True,
    }
