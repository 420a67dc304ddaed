"""``erlen._overrides``: ``type_version`` and the ``Unchanged`` class check
that wsgi_app's and Response's fast paths use, on the compiled module and
its pure-Python twin."""

from __future__ import annotations

import importlib
import os

import pytest

MODULES = {"cython": "erlen._classes_c", "python": "erlen._classes_py"}


@pytest.fixture(params=list(MODULES), ids=list(MODULES))
def classes(request):
    try:
        return importlib.import_module(MODULES[request.param])
    except ImportError as exc:
        if request.param == "python" or os.environ.get("CI"):
            raise
        pytest.skip(f"compiled module not built: {exc}")


def test_non_classes_are_rejected(classes):
    with pytest.raises(TypeError, match="expected a class"):
        classes.type_version(object())
    with pytest.raises(TypeError, match="expected a class"):
        classes.Unchanged(object, "__init__")(object())


def test_type_version_changes_when_the_class_or_a_base_changes(classes):
    class Base:
        x = 1

    class Child(Base):
        pass

    Child.x  # a lookup assigns a version
    first = classes.type_version(Child)
    if classes.__name__ == "erlen._classes_py":
        assert first == 0  # the twin cannot read versions: always "none"
        return
    assert first != 0
    assert classes.type_version(Child) == first  # stable while unchanged
    Base.x = 2  # changing a base changes the subclass's version
    Child.x
    second = classes.type_version(Child)
    assert second not in (0, first)
    Child.y = 3
    Child.y
    assert classes.type_version(Child) not in (0, second)


def test_unchanged_sees_overrides_and_later_patches(classes):
    class Base:
        def a(self):
            return 1

        def b(self):
            return 2

    check = classes.Unchanged(Base, "a", "b")

    class Plain(Base):
        pass

    class Overrides(Base):
        def b(self):
            return 3

    assert check(Base) and check(Plain)
    assert check(Plain)  # asked again (remembered by the compiled module)
    if classes.__name__ == "erlen._classes_c":
        assert Plain in check.known
    assert not check(Overrides)
    # Patching the class, or its base, after a remembered answer is seen.
    Plain.a = lambda self: 4
    assert not check(Plain)
    del Plain.a
    assert check(Plain)
    original = Base.b
    Base.b = lambda self: 5
    assert not check(Plain) and not check(Base)
    Base.b = original
    assert check(Plain)


def test_unchanged_stays_bounded(classes):
    class Base:
        def a(self):
            return 1

    check = classes.Unchanged(Base, "a")
    for _ in range(200):
        assert check(type("Sub", (Base,), {}))
    if classes.__name__ == "erlen._classes_c":  # the twin remembers nothing
        assert 0 < len(check.known) <= 64


def test_check_is_the_same_answer_as_a_call(classes):
    class Base:
        def a(self):
            return 1

    class Overrides(Base):
        def a(self):
            return 2

    unchanged = classes.Unchanged(Base, "a")
    for cls in (Base, Overrides, Base, Overrides):
        assert unchanged.check(cls) is unchanged(cls) is (cls is Base)
    with pytest.raises(TypeError, match="expected a class"):
        unchanged.check(Base())


def test_per_class_builds_again_only_after_a_change(classes):
    built = []

    def build(cls):
        built.append(cls)
        return ("plan", cls.x)

    class Base:
        x = 1

    class Child(Base):
        pass

    plans = classes.PerClass(build)
    assert plans.get(Child) == ("plan", 1)
    assert plans.get(Child) == ("plan", 1)
    assert plans.get(Base) == ("plan", 1)
    compiled = classes.__name__ == "erlen._classes_c"
    # The compiled module remembers the plan; the twin builds it each time.
    assert built == ([Child, Base] if compiled else [Child, Child, Base])
    Base.x = 2  # a change to a base reaches the subclass's plan
    assert plans.get(Child) == ("plan", 2)
    Child.x = 3
    assert plans.get(Child) == ("plan", 3)
    assert plans.get(Base) == ("plan", 2)
    with pytest.raises(TypeError, match="expected a class"):
        plans.get(Child())
    for _ in range(200):  # bounded
        plans.get(type("Sub", (Base,), {}))
    assert len(plans.known) <= 64


def test_check_object_sees_names_set_on_the_instance(classes):
    class Base:
        def a(self):
            return 1

        def b(self):
            return 2

    class Many:  # more attributes than CPython keeps inline: a real dict
        def __init__(self):
            for i in range(40):
                setattr(self, f"attr{i}", i)

    class Plain(Base, Many):
        pass

    class Overriding(Base, Many):
        def a(self):
            return 3

    check = classes.Unchanged(Base, "a", "b")
    first, second = Plain(), Plain()
    assert check.check_object(first)
    assert check.check_object(first)  # the remembered answer
    first.a = lambda: 4  # an override on the instance
    assert not check.check_object(first)
    assert not check.check_object(first)
    assert check.check_object(second)  # another object: its own dict
    del first.a
    assert check.check_object(first)
    first.other = 5  # changes the dict, not the answer
    assert check.check_object(first)
    vars(first)["b"] = None  # written into the dict directly
    assert not check.check_object(first)
    assert not check.check_object(Overriding())  # the class check first
    assert check.check_object(Base())  # few attributes: kept inline
    inline = Base()
    inline.b = 1
    assert not check.check_object(inline)
    assert check.check_object(object()) is False  # no a or b at all


def test_the_last_answer_is_forgotten_when_its_class_changes(classes):
    # The compiled module keeps its last true answer in the object itself;
    # a patch to that class, or to a base, must still be seen.
    class Base:
        def a(self):
            return 1

    class One(Base):
        pass

    class Two(Base):
        pass

    check = classes.Unchanged(Base, "a")
    plans = classes.PerClass(lambda cls: cls.a)
    for cls in (One, Two, One, One, Two):
        assert check.check(cls)
        assert plans.get(cls) is Base.a
    One.a = lambda self: 2  # the class asked last
    assert not check.check(One)
    assert plans.get(One) is One.a
    assert check.check(Two)
    assert plans.get(Two) is Base.a
    patched = Base.a = lambda self: 3  # a base of the class asked last
    assert not check.check(Two)
    assert plans.get(Two) is patched
    del One.a
    assert not check.check(One)  # Base.a itself is not the original
    assert plans.get(One) is patched
