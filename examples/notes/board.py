"""The board: everyone's notes, newest first; post and delete your own."""

from __future__ import annotations

from typing import Any

from erlen import abort
from erlen import Blueprint
from erlen import current_app
from erlen import flash
from erlen import g
from erlen import redirect
from erlen import render_template
from erlen import request
from erlen import url_for

from . import drafts
from .auth import login_required
from .auth import login_url
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
    draft = drafts.current() if g.user is not None else None
    return render_template(
        "board/index.html",
        notes=notes,
        title=draft["title"] if draft else "",
        body=draft["body"] if draft else "",
        draft=draft is not None,
    )


@bp.route("/notes", methods=("POST",))
def create() -> Any:
    title = request.form.get("title", "").strip()
    body = request.form.get("body", "").strip()
    if g.user is None:
        # The session ended while the form was open (a logout in another tab,
        # say): keep the text for after the next login rather than lose it.
        drafts.keep(title, body)
        flash("Please log in again: your note is kept until you post it.", "error")
        return redirect(login_url())
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
    drafts.discard()
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
