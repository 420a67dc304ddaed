"""A note typed by someone whose session ended before they posted it.

The text waits in the database, under a random id that only this browser's
session knows, until its author logs in again and posts it. The session
cookie itself could not hold it: a note may be longer than a cookie may be.
"""

from __future__ import annotations

import secrets
from typing import Any

from erlen import session

from .db import get_db

SESSION_KEY = "draft_id"


def keep(title: str, body: str) -> None:
    """Store this session's draft, replacing its earlier one; drafts left for
    a day are deleted on the way."""
    db = get_db()
    db.execute(
        "DELETE FROM draft WHERE id = ? OR created < datetime('now', '-1 day')",
        (session.get(SESSION_KEY),),
    )
    draft_id = secrets.token_urlsafe(16)
    db.execute(
        "INSERT INTO draft (id, title, body) VALUES (?, ?, ?)", (draft_id, title, body)
    )
    db.commit()
    session[SESSION_KEY] = draft_id


def current() -> Any:
    """This session's draft (its ``title`` and ``body``), or ``None``."""
    draft_id = session.get(SESSION_KEY)
    if draft_id is None:
        return None
    row = (
        get_db()
        .execute("SELECT title, body FROM draft WHERE id = ?", (draft_id,))
        .fetchone()
    )
    if row is None:
        session.pop(SESSION_KEY)
    return row


def discard() -> None:
    """Forget this session's draft, once it has been posted."""
    draft_id = session.pop(SESSION_KEY, None)
    if draft_id is not None:
        db = get_db()
        db.execute("DELETE FROM draft WHERE id = ?", (draft_id,))
        db.commit()
