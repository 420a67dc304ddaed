"""Registration, login and logout, and the current user in ``g.user``."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any

from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from erlen import Blueprint
from erlen import current_app
from erlen import flash
from erlen import g
from erlen import redirect
from erlen import render_template
from erlen import request
from erlen import session
from erlen import url_for

from . import csrf
from . import drafts
from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")

USERNAME_MAX = 32
PASSWORD_MIN = 8


@bp.before_app_request
def load_logged_in_user() -> None:
    """Put the signed-in user's row (or ``None``) in ``g.user`` for every
    request of the app."""
    user_id = session.get("user_id")
    g.user = None
    if user_id is not None:
        g.user = (
            get_db()
            .execute("SELECT id, username FROM user WHERE id = ?", (user_id,))
            .fetchone()
        )
        if g.user is None:
            # The account is gone: forget it rather than fail on every page.
            session.clear()


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to the login page, then back here.

    Back here means this page for a GET. A POST's URL cannot be fetched
    after login (it would answer 405), and repeating the POST could do what
    the user no longer wants, so after a POST they land on the board.
    """

    @functools.wraps(view)
    def wrapped(**kwargs: Any) -> Any:
        if g.user is None:
            flash("Please log in first.", "error")
            return redirect(login_url())
        return view(**kwargs)

    return wrapped


def login_url() -> str:
    """The login page, with where to go afterwards: this page if it can be
    fetched again, the board otherwise."""
    target = request.path if request.method == "GET" else url_for("board.index")
    return url_for("auth.login", next=target)


def _validate_registration(username: str, password: str, confirm: str) -> str | None:
    if not username:
        return "Username is required."
    if len(username) > USERNAME_MAX:
        return f"Username must be at most {USERNAME_MAX} characters."
    if any(c.isspace() for c in username):
        return "Username must not contain spaces."
    if not password:
        return "Password is required."
    if len(password) < PASSWORD_MIN:
        return f"Password must be at least {PASSWORD_MIN} characters."
    if password != confirm:
        return "The passwords do not match."
    return None


@bp.route("/register", methods=("GET", "POST"))
def register() -> Any:
    if g.user is not None:
        return redirect(url_for("board.index"))
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        confirm = request.form.get("confirm", "")
        error = _validate_registration(username, password, confirm)
        if error is None:
            db = get_db()
            try:
                db.execute(
                    "INSERT INTO user (username, password_hash) VALUES (?, ?)",
                    (
                        username,
                        generate_password_hash(
                            password, current_app.config["PASSWORD_HASH_METHOD"]
                        ),
                    ),
                )
                db.commit()
            except sqlite3.IntegrityError:
                error = f"The username {username!r} is already taken."
            else:
                flash("Account created. You can log in now.", "success")
                return redirect(url_for("auth.login"))
        flash(error, "error")
        return render_template("auth/register.html", username=username), 400
    return render_template("auth/register.html", username="")


def _safe_next(target: str | None) -> str:
    # Only local paths: never bounce a user to another site after login.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("board.index")


@bp.route("/login", methods=("GET", "POST"))
def login() -> Any:
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = (
            get_db()
            .execute(
                "SELECT id, username, password_hash FROM user WHERE username = ?",
                (username,),
            )
            .fetchone()
        )
        # One message for both cases, so the form does not reveal who exists.
        if user is None or not check_password_hash(user["password_hash"], password):
            flash("Incorrect username or password.", "error")
            return render_template("auth/login.html", username=username), 401
        # A fresh session, and so a fresh CSRF token, for the signed-in user;
        # only a note typed before logging in again is carried over.
        draft_id = session.get(drafts.SESSION_KEY)
        session.clear()
        session["user_id"] = user["id"]
        if draft_id is not None:
            session[drafts.SESSION_KEY] = draft_id
        flash(f"Welcome, {user['username']}!", "success")
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", username="")


@bp.route("/logout", methods=("POST",))
def logout() -> Any:
    # The CSRF token outlives the login: a form still open in another tab
    # can be sent, and its text kept, after logging out here.
    token = session.get(csrf.SESSION_KEY)
    session.clear()
    if token is not None:
        session[csrf.SESSION_KEY] = token
    flash("You have been logged out.", "success")
    return redirect(url_for("board.index"))
