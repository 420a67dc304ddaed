"""The board: everyone's notes, newest first; post and delete your own."""

from __future__ import annotations

from typing import Any

from erlen import Blueprint
from erlen import abort
from erlen import current_app
from erlen import flash
from erlen import g
from erlen import redirect
from erlen import render_template
from erlen import request
from erlen import url_for

from .auth import login_required
from .db import get_db

bp = Blueprint("board", __name__)

TITLE_MAX = 100
BODY_MAX = 5000

NOTES_SQL = """
    SELECT note.id, title, body, created, author_id, username AS author
    FROM note JOIN user ON user.id = note.author_id
"""


def list_notes(author: str | None = None, limit: int | None = None) -> list[Any]:
    """Notes newest first, optionally only those of one author."""
    sql = NOTES_SQL
    args: list[Any] = []
    if author is not None:
        sql += " WHERE username = ?"
        args.append(author)
    sql += " ORDER BY created DESC, note.id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return get_db().execute(sql, args).fetchall()


def get_note(note_id: int) -> Any:
    """One note, or a 404."""
    note = get_db().execute(NOTES_SQL + " WHERE note.id = ?", (note_id,)).fetchone()
    if note is None:
        abort(404, f"Note {note_id} does not exist.")
    return note


@bp.route("/")
def index() -> str:
    notes = list_notes(limit=current_app.config["NOTES_PER_PAGE"])
    return render_template("board/index.html", notes=notes, title="", body="")


@bp.route("/notes", methods=("POST",))
@login_required
def create() -> Any:
    title = request.form.get("title", "").strip()
    body = request.form.get("body", "").strip()
    error = None
    if not title:
        error = "A title is required."
    elif len(title) > TITLE_MAX:
        error = f"The title must be at most {TITLE_MAX} characters."
    elif len(body) > BODY_MAX:
        error = f"The text must be at most {BODY_MAX} characters."
    if error is not None:
        flash(error, "error")
        notes = list_notes(limit=current_app.config["NOTES_PER_PAGE"])
        return (
            render_template("board/index.html", notes=notes, title=title, body=body),
            400,
        )
    db = get_db()
    db.execute(
        "INSERT INTO note (author_id, title, body) VALUES (?, ?, ?)",
        (g.user["id"], title, body),
    )
    db.commit()
    flash("Note posted.", "success")
    return redirect(url_for("board.index"))


@bp.route("/notes/<int:note_id>/delete", methods=("POST",))
@login_required
def delete(note_id: int) -> Any:
    note = get_note(note_id)
    if note["author_id"] != g.user["id"]:
        abort(403, "Only the author can delete a note.")
    db = get_db()
    db.execute("DELETE FROM note WHERE id = ?", (note_id,))
    db.commit()
    flash(f"Deleted {note['title']!r}.", "success")
    return redirect(url_for("board.index"))


@bp.app_errorhandler(403)
@bp.app_errorhandler(404)
def error_page(error: Any) -> Any:
    if request.blueprint == "api" or request.path.startswith("/api/"):
        # The API answers its own errors in JSON.
        return {"error": error.name, "message": error.description}, error.code
    return render_template("error.html", error=error), error.code
