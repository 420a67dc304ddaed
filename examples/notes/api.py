"""A read-only JSON API over the board."""

from __future__ import annotations

from typing import Any

from erlen import Blueprint
from erlen import g
from erlen import request
from erlen import url_for

from .board import get_note
from .board import list_notes

bp = Blueprint("api", __name__, url_prefix="/api")


def note_json(note: Any) -> dict[str, Any]:
    return {
        "id": note["id"],
        "title": note["title"],
        "body": note["body"],
        "author": note["author"],
        # SQLite's CURRENT_TIMESTAMP is UTC, "YYYY-MM-DD HH:MM:SS".
        "created": note["created"].replace(" ", "T") + "Z",
        "url": url_for("api.note", note_id=note["id"], _external=True),
    }


@bp.get("/notes")
def notes() -> dict[str, Any]:
    """``{"notes": [...], "count": n}``, newest first; ``?author=name``
    keeps one author's notes."""
    author = request.args.get("author") or None
    items = [note_json(row) for row in list_notes(author=author)]
    return {"notes": items, "count": len(items)}


@bp.get("/notes/<int:note_id>")
def note(note_id: int) -> dict[str, Any]:
    return note_json(get_note(note_id))


@bp.get("/me")
def me() -> dict[str, Any]:
    """Who the session belongs to: ``{"user": null}`` when logged out."""
    if g.user is None:
        return {"user": None}
    return {"user": {"id": g.user["id"], "username": g.user["username"]}}
