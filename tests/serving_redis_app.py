"""Server-side sessions with Flask-Session on redis, for
tests/test_serving_scaleout.py.

Flask-Session imports ``flask``, so this module is always served with
``erlen --as-flask``. ``create_app("flask")`` builds the app from
``flask``'s names (an unmodified Flask app under the alias);
``create_app("erlen")`` from erlen's own. The redis server is at
``SERVING_REDIS_PORT`` on 127.0.0.1; ``SERVING_INSTANCE`` names the instance
in the ``X-Instance`` header.
"""

from __future__ import annotations

import os
import typing as t


def create_app(imports: str = "flask") -> t.Any:
    if imports == "flask":
        from flask import Flask
        from flask import jsonify
        from flask import session
    else:
        from erlen import Flask
        from erlen import jsonify
        from erlen import session
    import redis
    from flask_session import Session

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="redis-sessions",
        SESSION_TYPE="redis",
        SESSION_REDIS=redis.Redis(
            host="127.0.0.1", port=int(os.environ["SERVING_REDIS_PORT"])
        ),
        SESSION_KEY_PREFIX=f"erlen-{imports}:",
    )
    Session(app)
    instance = os.environ.get("SERVING_INSTANCE", "solo")

    @app.after_request
    def name_the_instance(response: t.Any) -> t.Any:
        response.headers["X-Instance"] = instance
        return response

    @app.route("/ping")
    def ping() -> t.Any:
        return "pong"

    @app.route("/put/<key>/<value>", methods=["POST"])
    def put(key: str, value: str) -> t.Any:
        session[key] = value
        return jsonify(stored=dict(session), instance=instance)

    @app.route("/get")
    def get() -> t.Any:
        return jsonify(
            session=dict(session),
            interface=type(app.session_interface).__name__,
            app_class=type(app).__module__,
            instance=instance,
        )

    return app
