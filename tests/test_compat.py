"""install_as_flask(): ``import flask`` gives erlen, in a fresh interpreter
each time so the alias never leaks into other tests."""

import subprocess
import sys
import textwrap

import pytest

from erlen.compat import FLASK_MODULES


def run_python(code, *, block_real_flask=False):
    prelude = ""
    if block_real_flask:
        # Simulate a machine where Flask is not installed: refuse to find it.
        prelude = textwrap.dedent(
            """
            import sys, importlib.abc
            class _NoFlask(importlib.abc.MetaPathFinder):
                def find_spec(self, name, path=None, target=None):
                    if name == "flask" or name.startswith("flask."):
                        raise ModuleNotFoundError(name)
            sys.meta_path.insert(0, _NoFlask())
            """
        )
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
    )
    return proc


@pytest.mark.parametrize(
    "block_real_flask", [False, True], ids=["flask-installed", "no-flask"]
)
def test_every_flask_module_resolves_to_erlen(block_real_flask):
    proc = run_python(
        f"""
        import importlib, sys
        import erlen
        erlen.install_as_flask()
        import flask
        assert flask is erlen
        for name in {list(FLASK_MODULES)!r}:
            mod = importlib.import_module("flask." + name)
            assert mod is importlib.import_module("erlen." + name), name
        from flask import Flask, request, Blueprint
        from flask.json.tag import TaggedJSONSerializer
        assert Flask.__module__ == "erlen.app"
        assert TaggedJSONSerializer.__module__ == "erlen.json.tag"
        print("ok")
        """,
        block_real_flask=block_real_flask,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_install_is_idempotent():
    proc = run_python(
        """
        import sys, erlen
        erlen.install_as_flask()
        finders = len(sys.meta_path)
        erlen.install_as_flask()
        assert len(sys.meta_path) == finders
        import flask
        assert flask is erlen
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_real_flask_already_imported_is_a_clear_error():
    pytest.importorskip("flask")
    proc = run_python(
        """
        import flask
        import erlen
        try:
            erlen.install_as_flask()
        except RuntimeError as e:
            print(e)
        else:
            print("no error")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "must be called before 'flask' is imported" in proc.stdout


def test_unknown_flask_submodule_is_not_found():
    proc = run_python(
        """
        import erlen
        erlen.install_as_flask()
        try:
            import flask.no_such_module
        except ModuleNotFoundError as e:
            print("missing", e.name)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "missing flask.no_such_module"


def test_unmodified_flask_app_runs_on_erlen():
    proc = run_python(
        """
        import erlen
        erlen.install_as_flask()
        from flask import Flask, jsonify, session, g, request

        app = Flask(__name__)
        app.secret_key = "dev"

        @app.before_request
        def load():
            g.who = request.args.get("who", "nobody")

        @app.route("/hi")
        def hi():
            session["n"] = session.get("n", 0) + 1
            return jsonify(who=g.who, n=session["n"], app=type(app).__module__)

        client = app.test_client()
        client.get("/hi?who=ada")
        print(client.get("/hi?who=ada").get_json())
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "{'app': 'erlen.app', 'n': 2, 'who': 'ada'}"


def test_uninstall_removes_the_alias():
    proc = run_python(
        """
        import sys, erlen
        from erlen.compat import uninstall_flask_alias
        erlen.install_as_flask()
        uninstall_flask_alias()
        assert "flask" not in sys.modules
        assert not any(k.startswith("flask.") for k in sys.modules)
        print("ok")
        """,
        block_real_flask=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
