"""The test client inside the user's own app context, as Flask 3.1.3 has it.

A test often pushes an app context of its own (to set up a database, say)
and makes requests in it with a test client. Those requests, the client's
``session_transaction()`` and ``test_request_context()`` all reuse that app
context: they see its ``g``, and its ``teardown_appcontext`` functions do
not run until the user's context ends. Each scenario is run on erlen and on
the real Flask, and the two must agree.
"""

import pytest

import erlen


@pytest.fixture
def real_flask():
    flask = pytest.importorskip("flask")
    if flask.Flask.__module__.startswith("erlen"):
        pytest.skip("'flask' is aliased to erlen in this process")
    return flask


def make_app(fw):
    app = fw.Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="test key")
    return app


def record_teardowns(app):
    calls = []
    app.teardown_request(lambda exc: calls.append("teardown_request"))
    app.teardown_appcontext(lambda exc: calls.append("teardown_appcontext"))
    return calls


def session_transaction_teardowns(fw):
    """The teardown functions one ``session_transaction()`` runs, after a
    request in ``with client:``, inside the user's app context."""
    app = make_app(fw)
    app.get("/")(lambda: "ok")
    calls = record_teardowns(app)
    with app.app_context():
        fw.g.x = "outer"
        with app.test_client() as client:
            client.get("/")
            calls.clear()
            with client.session_transaction() as sess:
                sess["user"] = "ada"
            during = calls[:]
            assert client.get("/").status_code == 200
    return during


def test_session_transaction_runs_no_teardown_appcontext(real_flask):
    ours = session_transaction_teardowns(erlen)
    assert "teardown_appcontext" not in ours
    assert ours == session_transaction_teardowns(real_flask)


def g_in_test_request_context(fw):
    """What ``g.x`` is inside ``test_request_context()`` (and in a view)
    after a request in ``with client:``, inside the user's app context,
    and what teardown functions that ran."""
    app = make_app(fw)
    app.get("/")(lambda: f"x={fw.g.get('x')}")
    calls = record_teardowns(app)
    seen = []
    with app.app_context():
        fw.g.x = "outer"
        with app.test_client() as client:
            client.get("/")
            calls.clear()
            with app.test_request_context():
                seen.append(fw.g.get("x"))
            seen.append(list(calls))
            seen.append(client.get("/").get_data(as_text=True))
        with app.test_request_context():
            seen.append(fw.g.get("x"))
    return seen


def test_g_inside_test_request_context_is_the_users(real_flask):
    ours = g_in_test_request_context(erlen)
    assert ours == ["outer", ["teardown_request"], "x=outer", "outer"]
    assert ours == g_in_test_request_context(real_flask)


class ScopedSession:
    """An ORM-style scoped session, as Flask-SQLAlchemy keeps one: a
    registry of sessions by app context, and the current one removed in
    ``teardown_appcontext``."""

    def __init__(self, fw, app):
        self.app_ctx = fw.globals.app_ctx
        self.sessions = {}
        self.removed = []
        app.teardown_appcontext(self.remove)

    def _scope(self):
        return id(self.app_ctx._get_current_object())

    def __call__(self):
        return self.sessions.setdefault(self._scope(), [])

    def remove(self, exc=None):
        self.removed.append(self.sessions.pop(self._scope(), None))


def orm_app(fw):
    app = make_app(fw)
    db = ScopedSession(fw, app)

    @app.get("/add/<item>")
    def add(item):
        db().append(item)
        return ",".join(db())

    return app, db


def scoped_session_scenario(fw, nested):
    """Requests and session transactions of two test clients, the second
    one's ``with`` block inside the first one's or after it, in the user's
    app context where a scoped session holds ``"outer"``."""
    app, db = orm_app(fw)

    def use(client, item, seen):
        seen.append(client.get(f"/add/{item}").get_data(as_text=True))
        with client.session_transaction() as sess:
            sess["item"] = item

    with app.app_context():
        session = db()
        session.append("outer")
        first, second = app.test_client(), app.test_client()
        seen = []
        with first:
            use(first, "one", seen)
            if nested:
                with second:
                    use(second, "two", seen)
        if not nested:
            with second:
                use(second, "two", seen)
        use(first, "three", seen)
        with first.session_transaction() as sess:
            seen.append(sess["item"])
        survived = db() is session
        removed_inside = list(db.removed)
    return seen, survived, removed_inside, db.removed


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "one-after-another"])
def test_scoped_session_survives_test_clients(real_flask, nested):
    ours = scoped_session_scenario(erlen, nested)
    seen, survived, removed_inside, removed = ours
    assert seen == ["outer,one", "outer,one,two", "outer,one,two,three", "three"]
    assert survived is True
    # Its teardown_appcontext ran once, when the user's context ended.
    assert removed_inside == []
    assert removed == [["outer", "one", "two", "three"]]
    assert ours == scoped_session_scenario(real_flask, nested)
