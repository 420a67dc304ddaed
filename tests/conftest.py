import importlib
import os

import pytest

IMPLEMENTATIONS = {"cython": "erlen._local_c", "python": "erlen._local_py"}


@pytest.fixture(params=list(IMPLEMENTATIONS), ids=list(IMPLEMENTATIONS))
def local_impl(request):
    """The context-local core module: compiled (``cython``) and pure Python
    (``python``). Every core test takes this fixture, so it runs on both.

    The compiled one is skipped only outside CI when it was not built (for
    example under ``ERLEN_NO_EXTENSIONS=1``); in CI a missing build fails.
    """
    name = IMPLEMENTATIONS[request.param]
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if request.param == "python" or os.environ.get("CI"):
            raise
        pytest.skip(f"compiled core not built: {exc}")


def _pop_leaked(cv):
    """Pop what the test left in ``cv`` so later tests start clean; return
    what was there."""
    leaked = []
    for _ in range(100):
        ctx = cv.get(None)
        if ctx is None:
            break
        leaked.append(ctx)
        try:
            ctx.pop()
        except Exception:
            tokens = getattr(ctx, "_cv_tokens", None)
            if not tokens:
                break
            token = tokens.pop()
            cv.reset(token[0] if isinstance(token, tuple) else token)
    return leaked


@pytest.fixture(autouse=True)
def _no_context_left_pushed():
    """Fail any test that leaves an app or request context pushed: a leaked
    context would make later tests see its ``request``, ``session`` or
    ``g``. The leaked contexts are popped, so only the leaking test fails."""
    from erlen.globals import _cv_app
    from erlen.globals import _cv_request

    yield
    leaked_requests = _pop_leaked(_cv_request)
    leaked_apps = _pop_leaked(_cv_app)
    if leaked_requests or leaked_apps:
        pytest.fail(
            "the test left a context pushed:"
            f" request contexts={leaked_requests!r} app contexts={leaked_apps!r}"
        )


@pytest.fixture
def app():
    """A testing app with a secret key, rooted in the tests folder."""
    from erlen import Flask

    application = Flask("erlen_test", root_path=os.path.dirname(__file__))
    application.config.update(TESTING=True, SECRET_KEY="test key")
    return application


@pytest.fixture
def app_ctx(app):
    """An app context of ``app``, pushed for the test."""
    with app.app_context() as ctx:
        yield ctx


@pytest.fixture
def req_ctx(app):
    """A test request context of ``app``, pushed for the test."""
    with app.test_request_context() as ctx:
        yield ctx


@pytest.fixture
def client(app):
    """A test client of ``app``."""
    return app.test_client()
