"""APIs Flask removed, restored for older code: each works as it did and
warns at most once, naming the modern spelling."""

import io
import json
import subprocess
import sys
import textwrap
import warnings

import markupsafe
import pytest
from werkzeug.exceptions import NotFound

import erlen
from erlen import compat
from erlen import Flask


@pytest.fixture(autouse=True)
def fresh_warnings():
    """Each test sees the first use of every name again."""
    saved = set(compat._warned)
    compat._warned.clear()
    yield
    compat._warned.clear()
    compat._warned.update(saved)


def deprecations(record):
    return [
        str(w.message) for w in record if issubclass(w.category, DeprecationWarning)
    ]


def test_markup_and_escape_are_markupsafes_and_warn_once():
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert erlen.Markup is markupsafe.Markup
        assert erlen.Markup is markupsafe.Markup
        assert erlen.escape("<a>") == "&lt;a&gt;"
        assert erlen.escape is markupsafe.escape
    messages = deprecations(record)
    assert len(messages) == 2
    assert "'markupsafe.Markup'" in messages[0] and "Flask 3.0" in messages[0]
    assert "'markupsafe.escape'" in messages[1]


def test_version_is_the_flask_api_version():
    with pytest.warns(DeprecationWarning, match="__version__"):
        assert erlen.__version__ == compat.FLASK_API_VERSION == "3.1.3"


def test_unknown_attribute_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_thing'"):
        erlen.not_a_thing  # noqa: B018


def test_json_encoder_decoder_classes():
    import datetime
    import uuid

    with pytest.warns(DeprecationWarning, match="JSONEncoder"):
        Encoder = erlen.json.JSONEncoder
    assert issubclass(Encoder, json.JSONEncoder)
    assert Encoder.__name__ == "JSONEncoder"
    u = uuid.UUID(int=5)
    out = json.dumps(
        {"d": datetime.date(2020, 1, 2), "u": u}, cls=Encoder, sort_keys=True
    )
    assert out == f'{{"d": "Thu, 02 Jan 2020 00:00:00 GMT", "u": "{u}"}}'
    with pytest.warns(DeprecationWarning, match="JSONDecoder"):
        assert issubclass(erlen.json.JSONDecoder, json.JSONDecoder)


class SetEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, set):
            return sorted(o)
        return super().default(o)


class TaggingDecoder(json.JSONDecoder):
    def __init__(self, **kwargs):
        super().__init__(object_hook=lambda d: {"decoded": d}, **kwargs)


def test_app_json_encoder_and_decoder():
    app = Flask(__name__)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        # Unset, they are the classes Flask's were: subclassable.
        assert app.json_encoder is erlen.json._JSONEncoder
        assert app.json_decoder is erlen.json._JSONDecoder
        app.json_encoder = SetEncoder
        app.json_decoder = TaggingDecoder
        app.json_encoder = SetEncoder
    assert len(deprecations(record)) == 2
    assert app.json_encoder is SetEncoder

    @app.post("/")
    def echo():
        return erlen.jsonify(got=erlen.request.get_json(), s={3, 1, 2})

    rv = app.test_client().post("/", json={"x": 1})
    # The request body went through the decoder, the set through the encoder.
    assert json.loads(rv.data) == {"got": {"decoded": {"x": 1}}, "s": [1, 2, 3]}


def test_app_subclass_may_set_encoder_on_the_class():
    class OldApp(Flask):
        json_encoder = SetEncoder

    app = OldApp(__name__)
    with app.app_context():
        assert erlen.json.dumps({"a": {2, 1}}) == '{"a": [1, 2]}'


def test_app_json_encoder_without_own_default_keeps_the_providers():
    import datetime

    class PlainEncoder(json.JSONEncoder):
        pass

    app = Flask(__name__)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app.json_encoder = PlainEncoder
    with app.app_context():
        out = erlen.json.dumps({"d": datetime.date(2020, 1, 2)})
    assert out == '{"d": "Thu, 02 Jan 2020 00:00:00 GMT"}'


def test_send_file_legacy_argument_names(tmp_path):
    app = Flask(__name__)
    with app.test_request_context():
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            rv = erlen.send_file(
                io.BytesIO(b"data"),
                mimetype="text/plain",
                as_attachment=True,
                attachment_filename="report.txt",
                cache_timeout=60,
                add_etags=False,
            )
        rv.direct_passthrough = False
        assert rv.get_data() == b"data"
        assert rv.headers["Content-Disposition"] == "attachment; filename=report.txt"
        assert rv.cache_control.max_age == 60
        assert "ETag" not in rv.headers
        messages = deprecations(record)
        assert len(messages) == 3
        assert any("'download_name'" in m for m in messages)
        assert any("'max_age'" in m for m in messages)
        with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
            erlen.send_file(io.BytesIO(b""), mimetype="text/plain", nope=1)
        with pytest.raises(TypeError, match="missing required argument"):
            erlen.send_file(mimetype="text/plain")


def test_safe_join(tmp_path):
    from erlen.helpers import safe_join

    with pytest.warns(DeprecationWarning, match="werkzeug.utils.safe_join"):
        assert safe_join(str(tmp_path), "a", "b.txt") == str(tmp_path / "a" / "b.txt")
    with pytest.raises(NotFound):
        safe_join(str(tmp_path), "../etc/passwd")
    with pytest.raises(NotFound):
        safe_join(str(tmp_path), "/etc/passwd")
    assert erlen.safe_join is safe_join


def test_json_available_is_true():
    with pytest.warns(DeprecationWarning):
        assert erlen.json_available is True


def test_cli_as_flask_runs_an_unmodified_flask_app(tmp_path):
    (tmp_path / "plainflask.py").write_text(
        textwrap.dedent(
            """
            import flask
            from flask import Flask

            app = Flask(__name__)

            @app.route("/")
            def index():
                return "hi"

            @app.cli.command("which")
            def which():
                print("flask is", flask.__name__, type(app).__module__)
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "erlen", "--app", "plainflask", "--as-flask", "which"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "flask is erlen erlen.app"
