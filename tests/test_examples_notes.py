"""Tests of the notes board example (examples/notes) with the test client."""

from __future__ import annotations

import importlib
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from erlen import g
from erlen import session

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples")


def _import_notes():
    """Import examples/notes, which is not installed, without leaving
    examples/ on sys.path for the rest of the test session."""
    sys.path.insert(0, EXAMPLES)
    try:
        return importlib.import_module("notes"), importlib.import_module("notes.db")
    finally:
        sys.path.remove(EXAMPLES)


notes, notes_db = _import_notes()
create_app = notes.create_app


FAST_HASH = "pbkdf2:sha256:1000"


@pytest.fixture
def notes_app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "notes test key",
            "DATABASE": str(tmp_path / "notes.sqlite"),
            # Real scrypt costs a quarter second per password.
            "PASSWORD_HASH_METHOD": FAST_HASH,
        },
        instance_path=str(tmp_path / "instance"),
    )
    with app.app_context():
        notes_db.init_db()
    return app


@pytest.fixture
def nclient(notes_app):
    return notes_app.test_client()


def register(client, username, password="correct horse", confirm=None):
    return client.post(
        "/auth/register",
        data={
            "username": username,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def login(client, username, password="correct horse", **kwargs):
    return client.post(
        "/auth/login", data={"username": username, "password": password}, **kwargs
    )


def post_note(client, title, body=""):
    return client.post("/notes", data={"title": title, "body": body})


def rows(app, sql, args=()):
    with app.app_context():
        return [tuple(r) for r in notes_db.get_db().execute(sql, args).fetchall()]


def flashes(html):
    return re.findall(r'<li class="flash flash-(\w+)">(.*?)</li>', html)


# -- registration ---------------------------------------------------------


def test_register_page_renders(nclient):
    rv = nclient.get("/auth/register")
    assert rv.status_code == 200
    html = rv.get_data(as_text=True)
    assert 'id="register-form"' in html
    assert "<title>Register · Notes board</title>" in html


def test_register_stores_a_hashed_password(notes_app, nclient):
    rv = register(nclient, "ada")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/auth/login"
    [(username, password_hash)] = rows(
        notes_app, "SELECT username, password_hash FROM user"
    )
    assert username == "ada"
    assert password_hash.startswith(FAST_HASH + "$")
    assert "correct horse" not in password_hash
    from werkzeug.security import check_password_hash

    assert check_password_hash(password_hash, "correct horse")
    assert not check_password_hash(password_hash, "wrong horse")


def test_register_flash_shown_on_next_page(nclient):
    rv = register(nclient, "ada")
    page = nclient.get(rv.headers["Location"]).get_data(as_text=True)
    assert flashes(page) == [("success", "Account created. You can log in now.")]
    # Shown once: the next page no longer carries it.
    assert flashes(nclient.get("/auth/login").get_data(as_text=True)) == []


@pytest.mark.parametrize(
    ("username", "password", "confirm", "message"),
    [
        ("", "correct horse", None, "Username is required."),
        ("   ", "correct horse", None, "Username is required."),
        ("a" * 33, "correct horse", None, "Username must be at most 32 characters."),
        ("two words", "correct horse", None, "Username must not contain spaces."),
        ("ada", "", None, "Password is required."),
        ("ada", "short", None, "Password must be at least 8 characters."),
        ("ada", "correct horse", "correct hose", "The passwords do not match."),
    ],
)
def test_register_rejects_bad_input(
    notes_app, nclient, username, password, confirm, message
):
    rv = register(nclient, username, password, confirm)
    assert rv.status_code == 400
    html = rv.get_data(as_text=True)
    assert flashes(html) == [("error", message)]
    assert rows(notes_app, "SELECT * FROM user") == []


def test_register_duplicate_username(notes_app, nclient):
    assert register(nclient, "ada").status_code == 302
    rv = register(nclient, "ada", "another password")
    assert rv.status_code == 400
    html = rv.get_data(as_text=True)
    # The success flash of the first registration was never displayed.
    assert flashes(html) == [
        ("success", "Account created. You can log in now."),
        ("error", "The username &#39;ada&#39; is already taken."),
    ]
    # The form keeps what was typed.
    assert 'value="ada"' in html
    assert rows(notes_app, "SELECT COUNT(*) FROM user") == [(1,)]


def test_register_while_logged_in_goes_to_board(nclient):
    register(nclient, "ada")
    login(nclient, "ada")
    rv = nclient.get("/auth/register")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/"


# -- login, g.user, logout ------------------------------------------------


def test_login_sets_session_and_g_user(nclient):
    register(nclient, "ada")
    with nclient:
        rv = login(nclient, "ada")
        assert rv.status_code == 302
        assert rv.headers["Location"] == "/"
        assert session["user_id"] == 1
        # g.user was loaded before the view ran; it shows from the next request.
        assert g.user is None
    with nclient:
        nclient.get("/")
        assert g.user["id"] == 1
        assert g.user["username"] == "ada"


def test_g_user_is_none_when_anonymous(nclient):
    with nclient:
        nclient.get("/")
        assert g.user is None
        assert "user_id" not in session


def test_g_user_for_a_deleted_account_clears_session(notes_app, nclient):
    register(nclient, "ada")
    login(nclient, "ada")
    with notes_app.app_context():
        conn = notes_db.get_db()
        conn.execute("DELETE FROM user")
        conn.commit()
    with nclient:
        rv = nclient.get("/")
        assert rv.status_code == 200
        assert g.user is None
        assert "user_id" not in session
    with nclient.session_transaction() as sess:
        assert "user_id" not in sess


@pytest.mark.parametrize(
    ("username", "password"),
    [("ada", "wrong password"), ("nobody", "correct horse"), ("", "")],
)
def test_login_rejects_bad_credentials(nclient, username, password):
    register(nclient, "ada")
    nclient.get("/")  # display the registration flash
    with nclient:
        rv = login(nclient, username, password)
        assert rv.status_code == 401
        assert flashes(rv.get_data(as_text=True)) == [
            ("error", "Incorrect username or password.")
        ]
        assert "user_id" not in session
        assert g.user is None


def test_login_page_shows_welcome_flash_after_redirect(nclient):
    register(nclient, "ada")
    rv = login(nclient, "ada", follow_redirects=True)
    html = rv.get_data(as_text=True)
    assert ("success", "Welcome, ada!") in flashes(html)
    assert '<strong id="current-user">ada</strong>' in html
    assert 'id="note-form"' in html


def test_login_next_goes_back_but_never_offsite(nclient):
    register(nclient, "ada")
    rv = nclient.post(
        "/auth/login?next=/api/me",
        data={"username": "ada", "password": "correct horse"},
    )
    assert rv.headers["Location"] == "/api/me"
    nclient.post("/auth/logout")
    rv = nclient.post(
        "/auth/login?next=//evil.example/",
        data={"username": "ada", "password": "correct horse"},
    )
    assert rv.headers["Location"] == "/"


def test_logout_clears_session(nclient):
    register(nclient, "ada")
    login(nclient, "ada")
    with nclient.session_transaction() as sess:
        assert sess["user_id"] == 1
        sess["other"] = "value"
    rv = nclient.post("/auth/logout", follow_redirects=True)
    html = rv.get_data(as_text=True)
    assert ("success", "You have been logged out.") in flashes(html)
    assert 'id="login-link"' in html
    assert 'id="note-form"' not in html
    with nclient.session_transaction() as sess:
        assert "user_id" not in sess
        assert "other" not in sess
    assert nclient.get("/api/me").get_json() == {"user": None}


def test_logout_is_post_only(nclient):
    assert nclient.get("/auth/logout").status_code == 405


# -- notes ----------------------------------------------------------------


def test_anonymous_board_invites_login(nclient):
    html = nclient.get("/").get_data(as_text=True)
    assert "No notes yet." in html
    assert 'id="note-form"' not in html
    assert 'href="/auth/login"' in html


def test_create_requires_login(notes_app, nclient):
    rv = post_note(nclient, "sneaky")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/auth/login?next=/notes"
    assert rows(notes_app, "SELECT * FROM note") == []
    page = nclient.get(rv.headers["Location"]).get_data(as_text=True)
    assert flashes(page) == [("error", "Please log in first.")]


def test_create_and_list_notes(notes_app, nclient):
    register(nclient, "ada")
    login(nclient, "ada")
    rv = post_note(nclient, "First", "hello\nworld")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/"
    post_note(nclient, "  Second  ", "")
    html = nclient.get("/").get_data(as_text=True)
    assert ("success", "Note posted.") in flashes(html)
    titles = re.findall(r'<h2 class="note-title">(.*?)</h2>', html)
    assert titles == ["Second", "First"]  # newest first, stripped
    assert "hello\nworld" in html
    assert html.count('<span class="author">ada</span>') == 2
    assert rows(notes_app, "SELECT author_id, title, body FROM note ORDER BY id") == [
        (1, "First", "hello\nworld"),
        (1, "Second", ""),
    ]


def test_note_text_is_escaped(nclient):
    register(nclient, "ada")
    login(nclient, "ada")
    post_note(nclient, "<script>alert(1)</script>", "<b>bold</b>")
    html = nclient.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [
        ("", "text", "A title is required."),
        ("   ", "text", "A title is required."),
        ("t" * 101, "", "The title must be at most 100 characters."),
        ("ok", "b" * 5001, "The text must be at most 5000 characters."),
    ],
)
def test_create_rejects_bad_input(notes_app, nclient, title, body, message):
    register(nclient, "ada")
    login(nclient, "ada")
    nclient.get("/")  # consume the welcome flash
    rv = post_note(nclient, title, body)
    assert rv.status_code == 400
    html = rv.get_data(as_text=True)
    assert flashes(html) == [("error", message)]
    assert rows(notes_app, "SELECT * FROM note") == []


def test_delete_own_note(notes_app, nclient):
    register(nclient, "ada")
    login(nclient, "ada")
    post_note(nclient, "Doomed")
    html = nclient.get("/").get_data(as_text=True)
    assert 'action="/notes/1/delete"' in html
    rv = nclient.post("/notes/1/delete", follow_redirects=True)
    assert rv.status_code == 200
    html = rv.get_data(as_text=True)
    assert ("success", "Deleted &#39;Doomed&#39;.") in flashes(html)
    assert "No notes yet." in html
    assert rows(notes_app, "SELECT * FROM note") == []


def test_cannot_delete_someone_elses_note(notes_app, notes_app_clients):
    ada, bob = notes_app_clients
    post_note(ada, "Ada's note")
    html = bob.get("/").get_data(as_text=True)
    assert "Ada&#39;s note" in html
    assert 'action="/notes/1/delete"' not in html  # no button for bob
    rv = bob.post("/notes/1/delete")
    assert rv.status_code == 403
    body = rv.get_data(as_text=True)
    assert "Only the author can delete a note." in body
    assert "<title>403 Forbidden · Notes board</title>" in body
    assert rows(notes_app, "SELECT title FROM note") == [("Ada's note",)]


def test_delete_missing_note_is_404(nclient):
    register(nclient, "ada")
    login(nclient, "ada")
    rv = nclient.post("/notes/99/delete")
    assert rv.status_code == 404
    assert "Note 99 does not exist." in rv.get_data(as_text=True)


def test_delete_requires_login(notes_app, notes_app_clients):
    ada, _ = notes_app_clients
    post_note(ada, "Stays")
    anon = notes_app.test_client()
    rv = anon.post("/notes/1/delete")
    assert rv.status_code == 302
    assert rv.headers["Location"].startswith("/auth/login")
    assert rows(notes_app, "SELECT title FROM note") == [("Stays",)]


@pytest.fixture
def notes_app_clients(notes_app):
    """Two logged-in clients: ada and bob."""
    clients = []
    for name in ("ada", "bob"):
        c = notes_app.test_client()
        assert register(c, name).status_code == 302
        assert login(c, name).status_code == 302
        clients.append(c)
    return clients


# -- JSON API -------------------------------------------------------------


def test_api_lists_notes(notes_app_clients):
    ada, bob = notes_app_clients
    post_note(ada, "one", "from ada")
    post_note(bob, "two", "from bob")
    rv = bob.get("/api/notes")
    assert rv.status_code == 200
    assert rv.mimetype == "application/json"
    data = rv.get_json()
    assert data["count"] == 2
    assert [(n["id"], n["title"], n["author"], n["body"]) for n in data["notes"]] == [
        (2, "two", "bob", "from bob"),
        (1, "one", "ada", "from ada"),
    ]
    first = data["notes"][1]
    assert first["url"] == "http://localhost/api/notes/1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["created"])


def test_api_is_public_and_filters_by_author(notes_app, notes_app_clients):
    ada, bob = notes_app_clients
    post_note(ada, "one")
    post_note(bob, "two")
    post_note(ada, "three")
    anon = notes_app.test_client()
    data = anon.get("/api/notes?author=ada").get_json()
    assert [n["title"] for n in data["notes"]] == ["three", "one"]
    assert anon.get("/api/notes?author=nobody").get_json() == {
        "notes": [],
        "count": 0,
    }


def test_api_single_note_and_json_404(notes_app_clients):
    ada, _ = notes_app_clients
    post_note(ada, "one", "body")
    data = ada.get("/api/notes/1").get_json()
    assert (data["id"], data["title"], data["body"], data["author"]) == (
        1,
        "one",
        "body",
        "ada",
    )
    rv = ada.get("/api/notes/2")
    assert rv.status_code == 404
    assert rv.get_json() == {"error": "Not Found", "message": "Note 2 does not exist."}
    rv = ada.get("/api/no-such-endpoint")
    assert rv.status_code == 404
    assert rv.get_json()["error"] == "Not Found"


def test_api_me(notes_app, notes_app_clients):
    ada, _ = notes_app_clients
    assert ada.get("/api/me").get_json() == {"user": {"id": 1, "username": "ada"}}
    assert notes_app.test_client().get("/api/me").get_json() == {"user": None}


def test_html_404_outside_the_api(nclient):
    rv = nclient.get("/no-such-page")
    assert rv.status_code == 404
    assert rv.mimetype == "text/html"
    assert "<title>404 Not Found · Notes board</title>" in rv.get_data(as_text=True)


# -- static files ---------------------------------------------------------


def test_static_css_is_served_and_linked(nclient):
    html = nclient.get("/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    rv = nclient.get("/static/style.css")
    assert rv.status_code == 200
    assert rv.mimetype == "text/css"
    assert b"background-color: rgb(245, 247, 250);" in rv.data
    rv.close()


# -- database lifecycle and CLI -------------------------------------------


def test_db_connection_is_per_context_and_closed_at_teardown(notes_app):
    with notes_app.app_context():
        conn = notes_db.get_db()
        assert notes_db.get_db() is conn
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        conn.execute("SELECT 1")


def test_db_connection_of_a_request_is_closed(notes_app, nclient, monkeypatch):
    opened = []
    real_connect = sqlite3.connect

    def recording_connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        opened.append(conn)
        return conn

    monkeypatch.setattr(notes_db.sqlite3, "connect", recording_connect)
    assert nclient.get("/api/notes").status_code == 200
    assert len(opened) == 1
    with pytest.raises(sqlite3.ProgrammingError):
        opened[0].execute("SELECT 1")
    # A request that never touches the database opens no connection.
    nclient.get("/static/style.css").close()
    assert len(opened) == 1


def test_init_db_command_creates_tables(tmp_path):
    db_path = tmp_path / "fresh.sqlite"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "k", "DATABASE": str(db_path)},
        instance_path=str(tmp_path / "instance"),
    )
    assert not db_path.exists()
    assert not notes_db.database_exists(app)
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Initialized the database." in result.output
    assert str(db_path) in result.output
    assert notes_db.database_exists(app)
    tables = {
        name
        for (name,) in rows(app, "SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"user", "note"} <= tables


def test_init_db_keeps_data_unless_reset(notes_app, nclient):
    register(nclient, "ada")
    runner = notes_app.test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert rows(notes_app, "SELECT username FROM user") == [("ada",)]
    result = runner.invoke(args=["init-db", "--reset"])
    assert result.exit_code == 0, result.output
    assert "Reset the database." in result.output
    assert rows(notes_app, "SELECT * FROM user") == []


def test_init_db_is_registered_with_help(notes_app):
    result = notes_app.test_cli_runner().invoke(args=["init-db", "--help"])
    assert result.exit_code == 0
    assert "--reset" in result.output
    assert "Create the database tables" in result.output


def test_secret_key_is_made_once_per_instance(tmp_path):
    instance = tmp_path / "instance"
    cfg = {"TESTING": True, "DATABASE": str(tmp_path / "x.sqlite")}
    first = create_app(dict(cfg), instance_path=str(instance))
    key = first.config["SECRET_KEY"]
    assert len(key) == 64
    assert (instance / "secret_key").read_text().strip() == key
    assert os.stat(instance / "secret_key").st_mode & 0o077 == 0
    second = create_app(dict(cfg), instance_path=str(instance))
    assert second.config["SECRET_KEY"] == key
    other = create_app(dict(cfg), instance_path=str(tmp_path / "other"))
    assert other.config["SECRET_KEY"] != key


def test_instance_path_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTES_INSTANCE_PATH", str(tmp_path / "from-env"))
    app = create_app({"TESTING": True, "SECRET_KEY": "k"})
    assert app.instance_path == str(tmp_path / "from-env")
    assert app.config["DATABASE"] == str(tmp_path / "from-env" / "notes.sqlite")
    explicit = create_app({"TESTING": True, "SECRET_KEY": "k"}, str(tmp_path / "x"))
    assert explicit.instance_path == str(tmp_path / "x")


def test_default_database_is_in_the_instance_folder(tmp_path):
    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "inst"))
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    assert app.config["DATABASE"] == str(tmp_path / "inst" / "notes.sqlite")
    assert os.path.isdir(tmp_path / "inst")


# -- the two ways to run it -------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _subprocess_env():
    env = dict(os.environ)
    for name in ("FLASK_APP", "ERLEN_APP", "FLASK_RUN_FROM_CLI", "WERKZEUG_RUN_MAIN"):
        env.pop(name, None)
    return env


def test_erlen_cli_finds_the_app_by_path(tmp_path):
    root = os.path.dirname(EXAMPLES)
    db_path = tmp_path / "instance" / "notes.sqlite"
    instance = tmp_path / "instance"
    env = _subprocess_env()
    env["NOTES_INSTANCE_PATH"] = str(instance)
    proc = subprocess.run(
        [sys.executable, "-m", "erlen", "--app", "examples/notes", "init-db"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Initialized the database." in proc.stdout
    conn = sqlite3.connect(db_path)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert {"user", "note"} <= names
    proc = subprocess.run(
        [sys.executable, "-m", "erlen", "--app", "examples/notes:create_app", "routes"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "api.notes" in proc.stdout
    assert "board.delete" in proc.stdout
    # Everything went to the instance folder that was asked for.
    assert sorted(os.listdir(instance)) == ["notes.sqlite", "secret_key"]


def test_runner_creates_database_and_serves(tmp_path):
    port = _free_port()
    instance = tmp_path / "instance"
    proc = subprocess.Popen(
        [
            sys.executable,
            os.path.join(EXAMPLES, "run_notes.py"),
            "--port",
            str(port),
            "--instance",
            str(instance),
        ],
        env=_subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/notes", timeout=2
                ) as resp:
                    body = resp.read()
                break
            except OSError:
                time.sleep(0.2)
        assert body is not None, "the runner did not answer within 30 seconds"
        assert b'"count":0' in body.replace(b" ", b"")
        assert (instance / "notes.sqlite").is_file()
        assert (instance / "secret_key").is_file()
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "Created the database" in out
    assert f"http://127.0.0.1:{port}" in out
