"""The SQLite database: one connection per app context, closed at teardown."""

from __future__ import annotations

import os
import sqlite3

import click

from erlen import Flask
from erlen import current_app
from erlen import g
from erlen.cli import with_appcontext

DROP_SQL = "DROP TABLE IF EXISTS note; DROP TABLE IF EXISTS user;"


def get_db() -> sqlite3.Connection:
    """The current app context's connection, opened on first use."""
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
        g.db.execute("PRAGMA foreign_keys = ON")
    return g.db


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
    with current_app.open_resource("schema.sql") as f:
        db.executescript(f.read().decode("utf-8"))
    db.commit()


def database_exists(app: Flask) -> bool:
    """Whether the database file is there and has its tables."""
    path = app.config["DATABASE"]
    if not os.path.exists(path):
        return False
    with app.app_context():
        row = (
            get_db()
            .execute(
                "SELECT COUNT(*) FROM sqlite_master"
                " WHERE type = 'table' AND name IN ('user', 'note')"
            )
            .fetchone()
        )
    return row[0] == 2


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
