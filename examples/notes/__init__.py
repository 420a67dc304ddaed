"""Notes board: a small multi-user example application for erlen.

Run it with ``python examples/run_notes.py`` from the repository root, or with
erlen's CLI (either way the database is created on first use)::

    erlen --app examples/notes run
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from erlen import current_app
from erlen import Flask
from erlen import send_from_directory


def create_app(
    test_config: dict[str, Any] | None = None, instance_path: str | None = None
) -> Flask:
    """Build the notes application.

    ``test_config`` replaces the instance ``config.py`` when given.
    ``instance_path`` moves the instance folder (the database and the secret
    key live there); without it the ``NOTES_INSTANCE_PATH`` environment
    variable is used, and by default it is ``examples/instance``.
    """
    instance_path = instance_path or os.environ.get("NOTES_INSTANCE_PATH") or None
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_mapping(
        DATABASE=os.path.join(app.instance_path, "notes.sqlite"),
        NOTES_PER_PAGE=50,
        # werkzeug.security's method string; tests pick a cheaper one.
        PASSWORD_HASH_METHOD="scrypt",
        # The browser sends the session cookie with links from other sites,
        # but not with their forms or scripts (the CSRF token checks those).
        SESSION_COOKIE_SAMESITE="Lax",
        # The largest form is a note (5,000 characters); refuse far bigger
        # bodies with a 413 before reading them.
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("NOTES")
    else:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)

    from . import api
    from . import auth
    from . import board
    from . import csrf
    from . import db
    from . import errors

    db.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(api.bp)
    csrf.init_app(app)
    errors.init_app(app)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    return app


def favicon() -> Any:
    """The icon that browsers and feed readers ask for at /favicon.ico; pages
    also link the SVG one."""
    return send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon"
    )


def _instance_secret_key(instance_path: str) -> str:
    """Read the instance's secret key, creating it on first use.

    A key kept in the instance folder survives restarts, so users stay signed
    in, and it is never the same on two machines.
    """
    path = os.path.join(instance_path, "secret_key")
    try:
        with open(path, encoding="ascii") as f:
            key = f.read().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key
