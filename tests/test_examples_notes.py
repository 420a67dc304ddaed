"""Tests of the notes board example (examples/notes) with the test client."""

from __future__ import annotations

import importlib
import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
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


def csrf(client):
    """The client's CSRF token: the session's, made here if it has none yet
    (as the first page with a form would make it)."""
    with client.session_transaction() as sess:
        return sess.setdefault("csrf_token", secrets.token_urlsafe(32))


def form_post(client, url, data=None, **kwargs):
    """POST a form the way the pages' forms send it: with the CSRF token."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf(client)}, **kwargs)


def register(client, username, password="correct horse", confirm=None):
    return form_post(
        client,
        "/auth/register",
        {
            "username": username,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def login(client, username, password="correct horse", **kwargs):
    return form_post(
        client, "/auth/login", {"username": username, "password": password}, **kwargs
    )


def post_note(client, title, body=""):
    return form_post(client, "/notes", {"title": title, "body": body})


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
    rv = form_post(
        nclient,
        "/auth/login?next=/api/me",
        {"username": "ada", "password": "correct horse"},
    )
    assert rv.headers["Location"] == "/api/me"
    form_post(nclient, "/auth/logout")
    rv = form_post(
        nclient,
        "/auth/login?next=//evil.example/",
        {"username": "ada", "password": "correct horse"},
    )
    assert rv.headers["Location"] == "/"


def test_logout_clears_session(nclient):
    register(nclient, "ada")
    login(nclient, "ada")
    with nclient.session_transaction() as sess:
        assert sess["user_id"] == 1
        sess["other"] = "value"
    rv = form_post(nclient, "/auth/logout", follow_redirects=True)
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
    # After login, back to the board: GET /notes would be a 405.
    assert rv.headers["Location"] == "/auth/login?next=/"
    assert rows(notes_app, "SELECT * FROM note") == []
    page = nclient.get(rv.headers["Location"]).get_data(as_text=True)
    assert flashes(page) == [
        ("error", "Please log in again: your note is kept until you post it.")
    ]


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
    rv = form_post(nclient, "/notes/1/delete", follow_redirects=True)
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
    rv = form_post(bob, "/notes/1/delete")
    assert rv.status_code == 403
    body = rv.get_data(as_text=True)
    assert "Only the author can delete a note." in body
    assert "<title>403 Forbidden · Notes board</title>" in body
    assert rows(notes_app, "SELECT title FROM note") == [("Ada's note",)]


def test_delete_missing_note_is_404(nclient):
    register(nclient, "ada")
    login(nclient, "ada")
    rv = form_post(nclient, "/notes/99/delete")
    assert rv.status_code == 404
    assert "Note 99 does not exist." in rv.get_data(as_text=True)


def test_delete_requires_login(notes_app, notes_app_clients):
    ada, _ = notes_app_clients
    post_note(ada, "Stays")
    anon = notes_app.test_client()
    rv = form_post(anon, "/notes/1/delete")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/auth/login?next=/"
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


# -- CSRF protection and the session cookie --------------------------------


def forms(html):
    """Every form of a page: (its opening tag, its whole text)."""
    return re.findall(r"(<form\b[^>]*>)(.*?)</form>", html, re.S)


def test_every_form_carries_the_session_csrf_token(notes_app, nclient):
    pages = []  # (response, the session's token when it was rendered)

    def page(rv):
        pages.append((rv, csrf(nclient)))

    page(nclient.get("/auth/register"))
    page(nclient.get("/auth/login"))
    register(nclient, "ada")
    login(nclient, "ada")
    post_note(nclient, "mine")
    page(nclient.get("/"))
    page(form_post(nclient, "/notes/99/delete"))  # an error page, signed in
    seen = []
    for rv, token in pages:
        for tag, body in forms(rv.get_data(as_text=True)):
            assert 'method="post"' in tag, tag
            assert f'name="csrf_token" value="{token}"' in body, tag
            seen.append(re.search(r'(?:id|action)="([^"]+)"', tag).group(1))
    assert sorted(seen) == sorted(
        ["register-form", "login-form", "/auth/logout", "/notes",
         "/notes/1/delete", "/auth/logout"]
    )


def _ada_with_a_note(notes_app):
    client = notes_app.test_client()
    register(client, "ada")
    login(client, "ada")
    post_note(client, "kept")
    client.get("/")  # show the flashes
    return client


@pytest.mark.parametrize("token", [None, "", "forged", "é"])
@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/notes", {"title": "forged", "body": "text"}),
        ("/notes/1/delete", {}),
        ("/auth/logout", {}),
        ("/auth/login", {"username": "ada", "password": "correct horse"}),
        ("/auth/register", dict(username="eve", password="p" * 8, confirm="p" * 8)),
    ],
)
def test_a_form_without_the_session_token_is_refused(notes_app, url, data, token):
    client = _ada_with_a_note(notes_app)
    if token is not None:
        data = {**data, "csrf_token": token}
    rv = client.post(url, data=data)
    assert rv.status_code == 400
    html = rv.get_data(as_text=True)
    assert "<title>400 Bad Request · Notes board</title>" in html
    assert "This form has expired or was not sent from this site." in html
    # Nothing happened: same notes, same users, no draft, still signed in.
    assert rows(notes_app, "SELECT title FROM note") == [("kept",)]
    assert rows(notes_app, "SELECT username FROM user") == [("ada",)]
    assert rows(notes_app, "SELECT * FROM draft") == []
    assert client.get("/api/me").get_json()["user"]["username"] == "ada"


def test_another_sessions_token_is_refused(notes_app):
    ada = _ada_with_a_note(notes_app)
    other = notes_app.test_client()
    rv = other.post("/notes/1/delete", data={"csrf_token": csrf(other)})
    assert rv.status_code == 302  # its own token works (and asks it to log in)
    rv = ada.post("/notes/1/delete", data={"csrf_token": csrf(other)})
    assert rv.status_code == 400
    assert rows(notes_app, "SELECT title FROM note") == [("kept",)]


def test_csrf_token_changes_at_login_and_outlives_logout(nclient):
    register(nclient, "ada")
    before_login = csrf(nclient)
    login(nclient, "ada")
    signed_in = csrf(nclient)
    assert signed_in != before_login
    form_post(nclient, "/auth/logout")
    # A form still open in another tab can be sent after the logout.
    assert csrf(nclient) == signed_in


def test_unknown_urls_answer_404_and_405_before_the_token_check(nclient):
    assert nclient.post("/no-such-page").status_code == 404
    assert nclient.post("/").status_code == 405


def test_session_cookie_is_samesite_lax_and_httponly(notes_app, nclient):
    assert notes_app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    register(nclient, "ada")
    rv = login(nclient, "ada")
    [cookie] = rv.headers.getlist("Set-Cookie")
    assert cookie.startswith("session=")
    attributes = [a.strip() for a in cookie.split(";")[1:]]
    assert "SameSite=Lax" in attributes
    assert "HttpOnly" in attributes


# -- a note posted after the session ended --------------------------------


def test_note_posted_after_the_session_ended_waits_for_the_next_login(
    notes_app, nclient
):
    register(nclient, "ada")
    login(nclient, "ada")
    nclient.get("/")
    form_post(nclient, "/auth/logout")  # say, in another tab
    nclient.get("/")
    body = "Line one\nline two & <three>"
    rv = post_note(nclient, "Written while away", body)
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/auth/login?next=/"
    assert rows(notes_app, "SELECT * FROM note") == []
    page = nclient.get(rv.headers["Location"])
    assert page.status_code == 200
    rv = form_post(
        nclient, "/auth/login?next=/", {"username": "ada", "password": "correct horse"}
    )
    assert rv.headers["Location"] == "/"
    html = nclient.get("/").get_data(as_text=True)
    assert 'id="draft-hint"' in html
    assert 'value="Written while away"' in html
    assert ">Line one\nline two &amp; &lt;three&gt;</textarea>" in html
    # Still there on the next visit, until it is posted.
    assert 'value="Written while away"' in nclient.get("/").get_data(as_text=True)
    rv = post_note(nclient, "Written while away", body)
    assert rv.headers["Location"] == "/"
    assert rows(notes_app, "SELECT title, body FROM note") == [
        ("Written while away", body)
    ]
    assert rows(notes_app, "SELECT * FROM draft") == []
    html = nclient.get("/").get_data(as_text=True)
    assert 'id="draft-hint"' not in html
    assert 'id="title" value=""' in html


def test_a_kept_note_of_full_length_fits_no_cookie_limit(notes_app, nclient):
    register(nclient, "ada")
    body = "".join(secrets.choice("abcdefghij klmnop\n") for _ in range(5000))
    rv = post_note(nclient, "t" * 100, body)
    assert rv.headers["Location"] == "/auth/login?next=/"
    for cookie in rv.headers.getlist("Set-Cookie"):
        assert len(cookie) < 1000, cookie
    login(nclient, "ada")
    html = nclient.get("/").get_data(as_text=True)
    assert 'value="' + "t" * 100 + '"' in html
    assert body.strip() in html


def test_a_kept_note_belongs_to_its_browser_only(notes_app, nclient):
    register(nclient, "ada")
    register(nclient, "bob")
    post_note(nclient, "ada's draft", "private")
    other = notes_app.test_client()
    login(other, "bob")
    html = other.get("/").get_data(as_text=True)
    assert "ada&#39;s draft" not in html
    assert 'id="draft-hint"' not in html
    # The anonymous board shows no form, and keeps the draft for later.
    anon_html = nclient.get("/").get_data(as_text=True)
    assert "ada&#39;s draft" not in anon_html
    assert rows(notes_app, "SELECT title FROM draft") == [("ada's draft",)]


def test_delete_after_the_session_ended_goes_to_the_board_after_login(notes_app):
    ada = _ada_with_a_note(notes_app)
    form_post(ada, "/auth/logout")
    rv = form_post(ada, "/notes/1/delete")
    assert rv.headers["Location"] == "/auth/login?next=/"
    assert rows(notes_app, "SELECT title FROM note") == [("kept",)]


# -- error pages ------------------------------------------------------------


def _add_failing_routes(app):
    """Routes that fail on purpose, under /api/ and on the site."""
    from werkzeug.exceptions import BadRequest
    from werkzeug.exceptions import Unauthorized

    def bad():
        raise BadRequest("The request was malformed.")

    def unauthorized():
        raise Unauthorized("Sign in first.")

    def boom():
        raise RuntimeError("secret detail of a crash")

    for prefix in ("/api", ""):
        app.add_url_rule(f"{prefix}/test-400", f"bad{prefix}", bad)
        app.add_url_rule(f"{prefix}/test-401", f"unauthorized{prefix}", unauthorized)
        app.add_url_rule(f"{prefix}/test-500", f"boom{prefix}", boom)
    # A crash answers 500 here, as it would in production.
    app.config["PROPAGATE_EXCEPTIONS"] = False


@pytest.mark.parametrize(
    ("method", "url", "status", "error", "message"),
    [
        ("POST", "/api/notes", 405, "Method Not Allowed", None),
        ("DELETE", "/api/notes/1", 405, "Method Not Allowed", None),
        ("GET", "/api/nothing-here", 404, "Not Found", None),
        ("GET", "/api/notes/7", 404, "Not Found", "Note 7 does not exist."),
        ("GET", "/api/test-400", 400, "Bad Request", "The request was malformed."),
        ("GET", "/api/test-401", 401, "Unauthorized", "Sign in first."),
        ("GET", "/api/test-500", 500, "Internal Server Error", None),
    ],
)
def test_api_errors_are_json(notes_app, nclient, method, url, status, error, message):
    _add_failing_routes(notes_app)
    rv = nclient.open(url, method=method)
    assert rv.status_code == status
    assert rv.mimetype == "application/json"
    data = rv.get_json()
    assert set(data) == {"error", "message"}
    assert data["error"] == error
    if message is not None:
        assert data["message"] == message
    assert "secret detail" not in rv.get_data(as_text=True)
    if status == 405:
        assert set(rv.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize(
    ("method", "url", "status", "title"),
    [
        ("GET", "/no-such-page", 404, "404 Not Found"),
        ("GET", "/notes", 405, "405 Method Not Allowed"),
        ("GET", "/test-400", 400, "400 Bad Request"),
        ("GET", "/test-500", 500, "500 Internal Server Error"),
    ],
)
def test_site_errors_are_styled_pages(notes_app, nclient, method, url, status, title):
    _add_failing_routes(notes_app)
    rv = nclient.open(url, method=method)
    assert rv.status_code == status
    assert rv.mimetype == "text/html"
    html = rv.get_data(as_text=True)
    assert f"<title>{title} · Notes board</title>" in html
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    assert '<div class="card error-page" id="error">' in html
    assert f'<p class="error-code">{status}</p>' in html
    assert 'href="/">Back to the board</a>' in html
    assert "secret detail" not in html
    if status == 405:
        assert set(rv.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


def test_an_oversized_form_is_refused_with_413(nclient):
    register(nclient, "ada")
    login(nclient, "ada")
    rv = post_note(nclient, "big", "x" * 70_000)
    assert rv.status_code == 413
    assert "<title>413 Request Entity Too Large · Notes board</title>" in rv.get_data(
        as_text=True
    )


# -- favicon ----------------------------------------------------------------


def test_favicon_is_served_and_linked(nclient):
    html = nclient.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in html
    assert (
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    )
    rv = nclient.get("/favicon.ico")
    assert rv.status_code == 200
    assert rv.mimetype == "image/vnd.microsoft.icon"
    # An ICO header (reserved 0, type 1 = icon, one image) around a PNG.
    assert rv.data[:6] == b"\0\0\1\0\1\0"
    assert rv.data[22:30] == b"\x89PNG\r\n\x1a\n"
    rv.close()
    rv = nclient.get("/static/favicon.svg")
    assert rv.status_code == 200
    assert rv.mimetype == "image/svg+xml"
    assert rv.data.startswith(b"<svg")
    rv.close()


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


def _get(url):
    """(status, body) of a GET; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _serve_and_get(cmd, env, port, paths):
    """Start ``cmd``, wait until it answers on ``port``, GET each of
    ``paths``; return their (status, body) pairs and everything it printed."""
    proc = subprocess.Popen(
        cmd,
        cwd=os.path.dirname(EXAMPLES),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        answered = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                _get(base + "/static/style.css")
                answered = True
                break
            except OSError:
                time.sleep(0.2)
        assert answered, "the server did not answer within 30 seconds"
        results = [_get(base + path) for path in paths]
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    return results, out


@pytest.mark.parametrize("how", ["run_notes.py", "erlen run"])
def test_a_fresh_instance_serves_without_init_db(tmp_path, how):
    """Both ways to start the app work on an empty instance folder: the
    database is made on first use, never a 500 for a missing table."""
    port = _free_port()
    instance = tmp_path / "instance"
    env = _subprocess_env()
    if how == "run_notes.py":
        cmd = [sys.executable, os.path.join(EXAMPLES, "run_notes.py"),
               "--port", str(port), "--instance", str(instance)]
    else:
        env["NOTES_INSTANCE_PATH"] = str(instance)
        cmd = [sys.executable, "-m", "erlen", "--app", "examples/notes", "run",
               "--port", str(port)]
    (api, board), out = _serve_and_get(cmd, env, port, ["/api/notes", "/"])
    assert api[0] == 200, api
    assert b'"count":0' in api[1].replace(b" ", b"")
    assert board[0] == 200, board
    assert b"No notes yet." in board[1]
    assert (instance / "notes.sqlite").is_file()
    assert (instance / "secret_key").is_file()
    assert f"http://127.0.0.1:{port}" in out
    if how == "run_notes.py":
        assert "Created the database" in out


def test_a_fresh_database_is_made_on_first_use(tmp_path):
    db_path = tmp_path / "fresh.sqlite"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "k", "DATABASE": str(db_path),
         "PASSWORD_HASH_METHOD": FAST_HASH},
        instance_path=str(tmp_path / "instance"),
    )
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert notes_db.database_exists(app)
    assert register(client, "ada").status_code == 302
    assert login(client, "ada").status_code == 302
    assert post_note(client, "first").status_code == 302
    assert rows(app, "SELECT title FROM note") == [("first",)]


def test_an_older_database_gains_the_draft_table(tmp_path):
    """A database made before drafts existed has only two tables; the app
    adds the missing one and keeps the data."""
    db_path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db_path)
    conn.executescript(
        "CREATE TABLE user (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " username TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL,"
        " joined TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);"
        "CREATE TABLE note (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " author_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,"
        " created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,"
        " title TEXT NOT NULL, body TEXT NOT NULL DEFAULT '');"
        "INSERT INTO user (username, password_hash) VALUES ('old', 'x');"
        "INSERT INTO note (author_id, title) VALUES (1, 'from before');"
    )
    conn.commit()
    conn.close()
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "k", "DATABASE": str(db_path)},
        instance_path=str(tmp_path / "instance"),
    )
    assert not notes_db.database_exists(app)
    assert "from before" in app.test_client().get("/").get_data(as_text=True)
    assert notes_db.database_exists(app)
    assert rows(app, "SELECT COUNT(*) FROM draft") == [(0,)]
