"""The SQLite database: one connection per app context, closed at teardown.

The tables are created on first use, so a fresh instance folder works with
``erlen --app examples/notes run`` alone; ``init-db`` can also create them
ahead of time, or reset them.
"""

from __future__ import annotations

import os
import sqlite3

import click

from erlen import current_app
from erlen import Flask
from erlen import g
from erlen.cli import with_appcontext

DROP_SQL = """
    DROP TABLE IF EXISTS draft; DROP TABLE IF EXISTS note; DROP TABLE IF EXISTS user;
"""
TABLES = ("user", "note", "draft")
# app.extensions key: the database path whose tables this app has made sure of.
SCHEMA_READY = "notes.schema_ready"


def get_db() -> sqlite3.Connection:
    """The current app context's connection, opened on first use."""
    if "db" not in g:
        db = sqlite3.connect(current_app.config["DATABASE"])
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        if current_app.extensions.get(SCHEMA_READY) != current_app.config["DATABASE"]:
            _create_tables(db)
        g.db = db
    return g.db


def _create_tables(db: sqlite3.Connection) -> None:
    # schema.sql creates only what is missing, so running it again is harmless.
    with current_app.open_resource("schema.sql") as f:
        db.executescript(f.read().decode("utf-8"))
    db.commit()
    current_app.extensions[SCHEMA_READY] = current_app.config["DATABASE"]


def close_db(exc: BaseException | None = None) -> None:
    """Close the connection, if this app context opened one."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db(reset: bool = False) -> None:
    """Create the tables that do not exist yet; with ``reset``, drop them
    first, which deletes every user and note."""
    db = get_db()
    if reset:
        db.executescript(DROP_SQL)
    _create_tables(db)


def database_exists(app: Flask) -> bool:
    """Whether the database file is there and has all its tables (looked at
    without :func:`get_db`, which would create them)."""
    path = app.config["DATABASE"]
    if not os.path.exists(path):
        return False
    db = sqlite3.connect(path)
    try:
        names = {
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
    finally:
        db.close()
    return names >= set(TABLES)


@click.command("init-db")
@click.option("--reset", is_flag=True, help="Drop the tables first, deleting all data.")
@with_appcontext
def init_db_command(reset: bool) -> None:
    """Create the database tables (existing data is kept)."""
    init_db(reset=reset)
    if reset:
        click.echo("Reset the database.")
    else:
        click.echo("Initialized the database.")
    click.echo(current_app.config["DATABASE"])


def init_app(app: Flask) -> None:
    """Register the teardown and the CLI command on ``app``."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
