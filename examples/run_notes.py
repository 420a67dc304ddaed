"""Run the notes board example on http://127.0.0.1:5000 with werkzeug's server.

From the repository root, on a fresh machine::

    pip install . && python examples/run_notes.py

The database is created in the instance folder (``examples/instance`` unless
``--instance`` says otherwise) the first time; later runs keep its data.
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the erlen notes board.")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=5000, help="port (5000)")
    parser.add_argument(
        "--instance",
        default=None,
        help="instance folder holding the database (examples/instance)",
    )
    parser.add_argument(
        "--debug", action="store_true", help="debugger and reloader (never public)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # examples/ is not an installed package: import the app from beside us.
    if HERE not in sys.path:
        sys.path.insert(0, HERE)

    from notes import create_app
    from notes.db import database_exists
    from notes.db import init_db

    instance = os.path.abspath(args.instance) if args.instance else None
    app = create_app(instance_path=instance)
    if not database_exists(app):
        with app.app_context():
            init_db()
        print(f" * Created the database {app.config['DATABASE']}")
    else:
        print(f" * Using the database {app.config['DATABASE']}")
    app.run(host=args.host, port=args.port, debug=args.debug, load_dotenv=False)


if __name__ == "__main__":
    main()
