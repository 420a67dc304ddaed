"""Config loading and the ConfigAttribute descriptor, without an app."""

import json
import os
import sys
from datetime import timedelta

import pytest

from erlen.config import Config
from erlen.config import ConfigAttribute

# Upper-case module attributes are what from_object("tests.test_config") loads.
SECRET_KEY = "from-module"
TEST_KEY = "foo"
lower_key = "never loaded"


@pytest.fixture
def config(tmp_path):
    return Config(tmp_path)


def test_defaults_and_root_path(tmp_path):
    c = Config(tmp_path, {"A": 1})
    assert c == {"A": 1}
    assert c.root_path == tmp_path
    assert Config(tmp_path) == {}


def test_from_object_module_and_import_string(config):
    config.from_object(sys.modules[__name__])
    assert config["SECRET_KEY"] == "from-module"
    assert config["TEST_KEY"] == "foo"
    assert "lower_key" not in config

    other = Config("/")
    other.from_object(__name__)
    assert other["SECRET_KEY"] == "from-module"


def test_from_object_class_inheritance_and_instance(config):
    class Base:
        BASE = 1
        SHARED = "base"

    class Child(Base):
        SHARED = "child"
        _PRIVATE = "x"
        mixed_Case = "y"

        @property
        def COMPUTED(self):
            return self.BASE + 1

    config.from_object(Child)
    assert config["BASE"] == 1
    assert config["SHARED"] == "child"
    # "_PRIVATE".isupper() is true: underscores do not stop it being upper case.
    assert config["_PRIVATE"] == "x"
    assert "mixed_Case" not in config
    assert isinstance(config["COMPUTED"], property)

    inst = Config("/")
    inst.from_object(Child())
    assert inst["COMPUTED"] == 2


def test_from_object_bad_import_string(config):
    with pytest.raises(ImportError):
        config.from_object("erlen_no_such_module_for_tests.settings")


def test_from_pyfile(tmp_path, config):
    (tmp_path / "settings.py").write_text("A = 1\nB = A + 1\nlower = 3\nimport os\n")
    assert config.from_pyfile("settings.py") is True
    assert config == {"A": 1, "B": 2}


def test_from_pyfile_sees_its_own_file(tmp_path, config):
    path = tmp_path / "settings.py"
    path.write_text("WHERE = __file__\n")
    config.from_pyfile(os.fspath(path))
    assert config["WHERE"] == os.fspath(path)


@pytest.mark.parametrize("encoding", ["utf-8", "iso-8859-15", "latin-1"])
def test_from_pyfile_encoding_cookie(tmp_path, config, encoding):
    path = tmp_path / "enc.py"
    path.write_text(f'# -*- coding: {encoding} -*-\nVALUE = "föö"\n', encoding)
    config.from_pyfile(path)
    assert config["VALUE"] == "föö"


def test_from_pyfile_missing(config):
    with pytest.raises(OSError) as e:
        config.from_pyfile("missing.cfg")

    msg = str(e.value)
    assert msg.startswith(
        "[Errno 2] Unable to load configuration file (No such file or directory):"
    )
    assert msg.endswith("missing.cfg'")
    assert config.from_pyfile("missing.cfg", silent=True) is False


def test_from_pyfile_directory_silent(tmp_path, config):
    (tmp_path / "adir").mkdir()
    assert config.from_pyfile("adir", silent=True) is False


def test_from_pyfile_syntax_error_not_silenced(tmp_path, config):
    (tmp_path / "bad.py").write_text("A = (\n")
    with pytest.raises(SyntaxError):
        config.from_pyfile("bad.py", silent=True)


def test_from_envvar(monkeypatch, tmp_path, config):
    monkeypatch.delenv("ERLEN_TEST_SETTINGS", raising=False)

    with pytest.raises(RuntimeError) as e:
        config.from_envvar("ERLEN_TEST_SETTINGS")

    assert "'ERLEN_TEST_SETTINGS' is not set" in str(e.value)
    assert config.from_envvar("ERLEN_TEST_SETTINGS", silent=True) is False

    (tmp_path / "env.py").write_text("FROM_ENV = 'yes'\n")
    monkeypatch.setenv("ERLEN_TEST_SETTINGS", os.fspath(tmp_path / "env.py"))
    assert config.from_envvar("ERLEN_TEST_SETTINGS") is True
    assert config["FROM_ENV"] == "yes"


def test_from_envvar_missing_file(monkeypatch, config):
    monkeypatch.setenv("ERLEN_TEST_SETTINGS", "missing.cfg")

    with pytest.raises(OSError) as e:
        config.from_envvar("ERLEN_TEST_SETTINGS")

    assert str(e.value).startswith("[Errno 2] Unable to load configuration file")
    assert str(e.value).endswith("missing.cfg'")
    assert config.from_envvar("ERLEN_TEST_SETTINGS", silent=True) is False


def test_from_file_json(tmp_path, config):
    (tmp_path / "c.json").write_text(json.dumps({"SECRET_KEY": "k", "lower": 1}))
    assert config.from_file("c.json", load=json.load) is True
    assert config == {"SECRET_KEY": "k"}


def test_from_file_binary_toml(tmp_path, config):
    tomllib = pytest.importorskip("tomllib")
    (tmp_path / "c.toml").write_text('TEST_KEY = "foo"\n[DB]\nhost = "h"\n')
    config.from_file("c.toml", load=tomllib.load, text=False)
    assert config == {"TEST_KEY": "foo", "DB": {"host": "h"}}


def test_from_file_text_mode_gives_str(tmp_path, config):
    (tmp_path / "c.txt").write_text("X")
    seen = []

    def load(fp):
        seen.append(fp.read())
        return {}

    config.from_file("c.txt", load)
    config.from_file("c.txt", load, text=False)
    assert seen == ["X", b"X"]


def test_from_file_missing(config):
    with pytest.raises(OSError) as e:
        config.from_file("missing.json", load=json.load)

    msg = str(e.value)
    assert msg.startswith(
        "[Errno 2] Unable to load configuration file (No such file or directory):"
    )
    assert msg.endswith("missing.json'")
    assert config.from_file("missing.json", load=json.load, silent=True) is False


def test_from_mapping_forms(config):
    assert config.from_mapping({"A": 1, "b": 2}) is True
    config.from_mapping([("C", 3), ("d", 4)])
    config.from_mapping(E=5, f=6)
    config.from_mapping({"G": 7}, G=8, H=9)
    assert config == {"A": 1, "C": 3, "E": 5, "G": 8, "H": 9}

    with pytest.raises(TypeError):
        config.from_mapping({}, {})


def test_from_prefixed_env(monkeypatch, config):
    values = {
        "FLASK_STRING": "value",
        "FLASK_BOOL": "true",
        "FLASK_INT": "1",
        "FLASK_FLOAT": "1.2",
        "FLASK_LIST": "[1, 2]",
        "FLASK_DICT": '{"k": "v"}',
        "FLASK_NOT_JSON": "{broken",
        "NOT_FLASK_OTHER": "other",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)

    assert config.from_prefixed_env() is True
    assert config["STRING"] == "value"
    assert config["BOOL"] is True
    assert config["INT"] == 1
    assert config["FLOAT"] == 1.2
    assert config["LIST"] == [1, 2]
    assert config["DICT"] == {"k": "v"}
    assert config["NOT_JSON"] == "{broken"
    assert "OTHER" not in config


def test_from_prefixed_env_custom_prefix_and_loads(monkeypatch, config):
    monkeypatch.setenv("FLASK_A", "a")
    monkeypatch.setenv("MYAPP_A", "b")
    monkeypatch.setenv("MYAPP_N", "5")
    config.from_prefixed_env("MYAPP", loads=lambda v: v * 2)
    assert config == {"A": "bb", "N": "55"}


@pytest.mark.skipif(os.name == "nt", reason="environment keys are upper case")
def test_from_prefixed_env_nested(monkeypatch, config):
    monkeypatch.setenv("FLASK_EXIST__ok", "other")
    monkeypatch.setenv("FLASK_EXIST__inner__ik", "2")
    monkeypatch.setenv("FLASK_EXIST__new__more", '{"k": false}')
    monkeypatch.setenv("FLASK_NEW__K", "v")
    config["EXIST"] = {"ok": "value", "flag": True, "inner": {"ik": 1}}
    config.from_prefixed_env()
    assert config["EXIST"] == {
        "ok": "other",
        "flag": True,
        "inner": {"ik": 2},
        "new": {"more": {"k": False}},
    }
    assert config["NEW"] == {"K": "v"}


def test_get_namespace(config):
    config.update(
        FOO_OPTION_1="1", FOO_OPTION_2="2", BAR_STUFF_1="b1", FOOBAR="no", XFOO_A="no"
    )
    assert config.get_namespace("FOO_") == {"option_1": "1", "option_2": "2"}
    assert config.get_namespace("BAR_", lowercase=False) == {"STUFF_1": "b1"}
    assert config.get_namespace("FOO_", trim_namespace=False) == {
        "foo_option_1": "1",
        "foo_option_2": "2",
    }
    assert config.get_namespace("BAR_", lowercase=False, trim_namespace=False) == {
        "BAR_STUFF_1": "b1"
    }
    assert config.get_namespace("NONE_") == {}


def test_repr(config):
    config["A"] = 1
    assert repr(config) == "<Config {'A': 1}>"

    class Sub(Config):
        pass

    assert repr(Sub("/", {"B": 2})) == "<Sub {'B': 2}>"


class _Holder:
    secret_key = ConfigAttribute("SECRET_KEY")
    lifetime = ConfigAttribute("LIFETIME", get_converter=lambda v: timedelta(seconds=v))

    def __init__(self):
        self.config = Config("/", {"SECRET_KEY": None, "LIFETIME": 42})


def test_config_attribute_forwards():
    h = _Holder()
    assert h.secret_key is None
    h.secret_key = "s"
    assert h.config["SECRET_KEY"] == "s"
    h.config["SECRET_KEY"] = "t"
    assert h.secret_key == "t"


def test_config_attribute_converter_on_read_only():
    h = _Holder()
    assert h.lifetime == timedelta(seconds=42)
    h.lifetime = 7
    assert h.config["LIFETIME"] == 7
    assert h.lifetime.seconds == 7


def test_config_attribute_on_class():
    attr = _Holder.secret_key
    assert isinstance(attr, ConfigAttribute)
    assert attr.__name__ == "SECRET_KEY"
