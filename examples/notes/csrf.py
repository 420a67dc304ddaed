"""Protection against cross-site request forgery, for every form.

Another site can make a visitor's browser send a form to this one, cookies
included, but it cannot read this site's pages. So each browser session gets
a random token, every form carries it in a hidden ``csrf_token`` field, and a
request that may change something (any method but GET, HEAD, OPTIONS and
TRACE) is refused with a 400 unless it sends the session's token back.
"""

from __future__ import annotations

import hmac
import secrets

from werkzeug.exceptions import BadRequest

from erlen import Flask
from erlen import request
from erlen import session

FIELD = "csrf_token"
SESSION_KEY = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CSRFError(BadRequest):
    description = (
        "This form has expired or was not sent from this site. Go back, copy"
        " what you typed, reload the page and send the form again."
    )


def csrf_token() -> str:
    """The session's token, made on first use; templates call it in forms."""
    token = session.get(SESSION_KEY)
    if not token:
        token = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def check_csrf_token() -> None:
    """Refuse an unsafe request whose form lacks the session's token."""
    # A URL that matched no route (404, 405) answers as such, token or not.
    if request.method in SAFE_METHODS or request.routing_exception is not None:
        return
    expected = session.get(SESSION_KEY)
    sent = request.form.get(FIELD, "")
    # compare_digest takes as long for a near miss as for a wild guess.
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CSRFError()


def init_app(app: Flask) -> None:
    """Check every request (after the user is loaded, so that the error page
    still shows who is signed in) and give templates ``csrf_token()``."""
    app.before_request(check_csrf_token)
    app.jinja_env.globals["csrf_token"] = csrf_token
