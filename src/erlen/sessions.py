"""Sessions: the session objects and the interface that loads and saves them.

The default, :class:`SecureCookieSessionInterface`, keeps the whole session in
a cookie signed with the app's secret key. Its wire format is Flask's, so a
cookie written by a Flask app with the same secret key loads here and back.
"""

from __future__ import annotations

import collections.abc as c
import hashlib
import typing as t
from datetime import datetime
from datetime import timezone

from itsdangerous import SignatureExpired
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict

from ._werkzeug import cookie_value
from ._werkzeug import vary_on_cookie
from .json.tag import TaggedJSONSerializer

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .wrappers import Request
    from .wrappers import Response


class SessionMixin(c.MutableMapping[str, t.Any]):
    """Adds the session attributes to a mapping. A custom session class can
    be as simple as ``class Session(dict, SessionMixin): pass``."""

    @property
    def permanent(self) -> bool:
        """Whether the session outlives the browser session; stored as the
        ``"_permanent"`` key. A permanent session's cookie expires after
        ``PERMANENT_SESSION_LIFETIME``."""
        return self.get("_permanent", False)  # type: ignore[no-any-return]

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    new = False
    """Whether the session was just created. Not every backend can tell, so
    the default is always ``False``; do not rely on it."""

    modified = True
    """Whether the session changed and must be saved. Backends that cannot
    track changes leave it ``True`` so that the session is always saved."""

    accessed = False
    """Whether the session was used during the request: set when the
    request context's ``session`` (and so the :data:`~erlen.session` proxy)
    is read. When it is, the response gets ``Vary: Cookie``."""


class SecureCookieSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    """The session of :class:`SecureCookieSessionInterface`: a dict that
    notices its own changes.

    A change through the dict's own methods sets :attr:`modified`, once the
    change succeeded. Changes made inside a mutable value, such as appending
    to a list stored in the session, are not seen: set
    ``session.modified = True`` yourself after those.

    :attr:`new` is always ``False``: an empty cookie cannot be told apart
    from a new session.
    """

    modified = False
    """Set when the session data changes; the cookie is only written back
    when it is ``True`` (or the session is permanent and refreshed on each
    request)."""

    def __init__(
        self,
        initial: c.Mapping[str, t.Any] | c.Iterable[tuple[str, t.Any]] | None = None,
    ) -> None:
        # PERF: CallbackDict's constructor only stores the callback, which
        # is the same for every session: see on_update.
        dict.__init__(self, initial or ())

    @staticmethod
    def on_update(session: SecureCookieSession) -> None:
        """What CallbackDict calls after each change: marks it modified."""
        session.modified = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


class NullSession(SecureCookieSession):
    """The session used when sessions are unavailable, because no secret key
    is set. It reads as an empty session, and any attempt to change it
    raises a :exc:`RuntimeError` that says how to fix the setup."""

    def _fail(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise RuntimeError(
            "The session is unavailable because no secret key was set."
            " Set the secret_key on the application to something unique"
            " and secret."
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail
    __ior__ = _fail
    del _fail


class SessionInterface:
    """The interface between the app and a session backend. Subclasses
    implement :meth:`open_session` and :meth:`save_session`; everything else
    has defaults driven by the app's config.

    Install one by assigning it to ``app.session_interface``. The session
    object it returns must be a mapping with :class:`SessionMixin`'s
    attributes; ``class Session(dict, SessionMixin)`` is enough.

    If :meth:`open_session` returns ``None``, the app uses
    :meth:`make_null_session` instead. Requests for the same session can run
    at the same time, and sessions are opened and saved in the order requests
    start and finish, so a backend that shares storage must synchronize its
    own reads and writes.
    """

    null_session_class: type[NullSession] = NullSession
    """The class :meth:`make_null_session` instantiates and
    :meth:`is_null_session` checks for."""

    pickle_based = False
    """Whether the backend stores pickled data; extensions can read it."""

    def make_null_session(self, app: Flask) -> NullSession:
        """Return the session to use when the real one could not be loaded,
        an instance of :attr:`null_session_class`."""
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Whether ``obj`` is a null session; null sessions are never
        saved."""
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Flask) -> str:
        """The session cookie's name, ``SESSION_COOKIE_NAME``."""
        return app.config["SESSION_COOKIE_NAME"]  # type: ignore[no-any-return]

    def get_cookie_domain(self, app: Flask) -> str | None:
        """The cookie's ``Domain``, ``SESSION_COOKIE_DOMAIN``. When unset the
        browser only sends the cookie back to the exact host that set it."""
        return app.config["SESSION_COOKIE_DOMAIN"]  # type: ignore[no-any-return]

    def get_cookie_path(self, app: Flask) -> str:
        """The cookie's ``Path``: ``SESSION_COOKIE_PATH``, or else
        ``APPLICATION_ROOT``."""
        config = app.config
        return config["SESSION_COOKIE_PATH"] or config["APPLICATION_ROOT"]  # type: ignore[no-any-return]

    def get_cookie_httponly(self, app: Flask) -> bool:
        """Whether the cookie is ``HttpOnly``, ``SESSION_COOKIE_HTTPONLY``."""
        return app.config["SESSION_COOKIE_HTTPONLY"]  # type: ignore[no-any-return]

    def get_cookie_secure(self, app: Flask) -> bool:
        """Whether the cookie is ``Secure``, ``SESSION_COOKIE_SECURE``."""
        return app.config["SESSION_COOKIE_SECURE"]  # type: ignore[no-any-return]

    def get_cookie_samesite(self, app: Flask) -> str | None:
        """The cookie's ``SameSite`` (``"Strict"``, ``"Lax"`` or ``None``),
        ``SESSION_COOKIE_SAMESITE``."""
        return app.config["SESSION_COOKIE_SAMESITE"]  # type: ignore[no-any-return]

    def get_cookie_partitioned(self, app: Flask) -> bool:
        """Whether the cookie is ``Partitioned`` (CHIPS),
        ``SESSION_COOKIE_PARTITIONED``."""
        return app.config["SESSION_COOKIE_PARTITIONED"]  # type: ignore[no-any-return]

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        """When the cookie expires: now plus the app's
        ``permanent_session_lifetime`` for a permanent session, ``None``
        (end of the browser session) otherwise."""
        if session.permanent:
            return datetime.now(timezone.utc) + app.permanent_session_lifetime

        return None

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """Whether the response must carry the cookie: when the session was
        modified, or when it is permanent and ``SESSION_REFRESH_EACH_REQUEST``
        is on (which pushes the expiry date forward on every request)."""
        if session.modified:
            return True

        return bool(session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"])

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """Load the session for ``request``. Called when the request context
        is pushed, before the URL is matched.

        Return ``None`` when the session cannot be loaded for a reason that
        is not an error (for example, no secret key); the app then uses
        :meth:`make_null_session`.
        """
        raise NotImplementedError()

    def save_session(
        self, app: Flask, session: SessionMixin, response: Response
    ) -> None:
        """Store the session, usually by setting a cookie on ``response``.
        Called after the response is made and the ``after_request``
        functions ran; skipped for null sessions."""
        raise NotImplementedError()


session_json_serializer = TaggedJSONSerializer()
"""The tagged JSON serializer that session cookies use."""


def _lazy_sha1(string: bytes = b"") -> t.Any:
    # Looked up at call time: a FIPS build of Python may lack SHA-1, and that
    # must not break importing this module when the app uses another digest.
    return hashlib.sha1(string)


class _KeyKeepingSigner(TimestampSigner):
    """A :class:`~itsdangerous.TimestampSigner` that derives the signing key
    from each secret key once, where itsdangerous derives it on every sign
    and verify (an HMAC of its own)."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[t.Any, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self._derived.get(secret_key)
        if key is None:
            key = self._derived[secret_key] = super().derive_key(secret_key)
        return key


# Session values that cannot change in place: a session made only of these
# can be handed out again as a shallow copy.
_IMMUTABLE = frozenset((str, int, float, bool, type(None), bytes))
_KEPT_COOKIES = 256


class _SessionSerializer(URLSafeTimedSerializer):
    """The serializer of the cookie session: itsdangerous' own, which keeps
    its signer, and remembers the cookies it verified and signed.

    PERF: verifying or signing a cookie (base64, zlib, HMAC, tagged JSON)
    costs more than the rest of a request that uses the session, and a
    client sends the same cookie again and again. Verification is a pure
    function of the cookie and the keys (this serializer belongs to one key
    set), so a verified cookie is kept with its signing time, and its age is
    checked on every use, as itsdangerous does. Signing the same data within
    the same second gives the same cookie, so that is kept too. Only
    sessions made of immutable values are kept, and each use gets its own
    copy of the data.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._signer: TimestampSigner | None = None
        # cookie -> (signing time, data); JSON text -> (second, cookie)
        self._verified: dict[str, tuple[int, dict[str, t.Any]]] = {}
        self._signed: dict[t.Any, tuple[int, str]] = {}

    def make_signer(self, salt: str | bytes | None = None) -> TimestampSigner:
        if salt is not None:
            return super().make_signer(salt)  # type: ignore[return-value]
        if self._signer is None:
            self._signer = super().make_signer()  # type: ignore[assignment]
        return self._signer  # type: ignore[return-value]

    def _keep(self, cookie: str, signed_at: int, data: t.Any) -> None:
        if type(data) is dict and all(type(v) in _IMMUTABLE for v in data.values()):
            if len(self._verified) >= _KEPT_COOKIES:
                self._verified.clear()
            self._verified[cookie] = (signed_at, dict(data))

    def loads_session(self, cookie: str, max_age: int) -> t.Any:
        """``loads(cookie, max_age=max_age)``, remembered."""
        kept = self._verified.get(cookie)
        if kept is None:
            data, signed = self.loads(cookie, max_age=max_age, return_timestamp=True)
            self._keep(cookie, int(signed.timestamp()), data)
            return data
        age = self.make_signer().get_timestamp() - kept[0]
        if age > max_age or age < 0:
            raise SignatureExpired(f"Signature age {age} outside 0..{max_age}")
        return dict(kept[1])

    def dumps_session(self, data: dict[str, t.Any]) -> str:
        """``dumps(data)``, remembered for the second it was signed in; the
        cookie made is kept as verified too, for the client to send back."""
        text = self.serializer.dumps(data)
        now = self.make_signer().get_timestamp()
        kept = self._signed.get(text)
        if kept is not None and kept[0] == now:
            return kept[1]
        cookie: str = self.dumps(data)
        if self.make_signer().get_timestamp() == now:  # signed within it
            if len(self._signed) >= _KEPT_COOKIES:
                self._signed.clear()
            self._signed[text] = (now, cookie)
            self._keep(cookie, now, data)
        return cookie


# Cookie header and name -> the cookie's value (see cookie_value): a pure
# function of its key, so one store serves every interface and app.
_cookie_values: dict[t.Any, str | None] = {}


class SecureCookieSessionInterface(SessionInterface):
    """Stores the session in a cookie signed (not encrypted) by
    :mod:`itsdangerous` with the app's secret key. The client can read the
    data but cannot change it. Keys in ``SECRET_KEY_FALLBACKS`` are accepted
    when verifying; new cookies are always signed with ``secret_key``.
    """

    salt = "cookie-session"
    """Mixed into the secret key, so that signatures made for sessions are
    not valid for anything else."""

    digest_method = staticmethod(_lazy_sha1)
    """The hash function of the HMAC signature (SHA-1)."""

    key_derivation = "hmac"
    """How itsdangerous derives the signing key from the secret key."""

    serializer = session_json_serializer
    """Turns the session dict into the cookie payload and back."""

    session_class = SecureCookieSession
    """The class of the sessions this interface opens."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Return the serializer that signs and verifies the cookie for
        ``app``, or ``None`` when the app has no secret key.

        PERF: making the serializer costs more than using it, so the one
        made is kept until ``secret_key``, ``SECRET_KEY_FALLBACKS`` or this
        interface's ``salt``, ``serializer``, ``key_derivation`` or
        ``digest_method`` change.
        """
        secret_key = app.secret_key
        if not secret_key:
            return None
        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        keys: list[str | bytes] = [*fallbacks] if fallbacks else []
        keys.append(secret_key)  # itsdangerous signs with the last one
        inputs = (
            keys,
            self.salt,
            self.serializer,
            self.key_derivation,
            self.digest_method,
        )
        kept = self.__dict__.get("_kept_serializer")
        if kept is not None and kept[0] == inputs:
            return kept[1]  # type: ignore[no-any-return]
        digest_method = self.digest_method
        if digest_method is _lazy_sha1:
            # PERF: hmac takes its C path only for hashlib's own
            # constructors; the lazy wrapper sends it down the pure-Python
            # one. Resolved here, at first use, the wrapper still keeps
            # importing this module safe where SHA-1 is missing.
            digest_method = hashlib.sha1
        serializer = _SessionSerializer(
            keys,
            salt=self.salt,
            serializer=self.serializer,
            signer=_KeyKeepingSigner,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": digest_method,
            },
        )
        self._kept_serializer = (inputs, serializer)
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Load the session from the request's cookie. A missing, tampered,
        expired or unreadable cookie gives an empty session. Returns ``None``
        when the app has no secret key."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = cookie_value(_cookie_values, request, self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            if isinstance(serializer, _SessionSerializer):
                data = serializer.loads_session(value, max_age)
            else:  # from an overridden get_signing_serializer()
                data = serializer.loads(value, max_age=max_age)
        except Exception:
            # Bad signatures and expired cookies (BadSignature), but also a
            # cookie that verifies yet does not decode (an old format, a
            # changed serializer): all mean "no session", never a 500.
            return self.session_class()
        if not isinstance(data, dict):
            return self.session_class()
        return self.session_class(data)

    def save_session(
        self, app: Flask, session: SessionMixin, response: Response
    ) -> None:
        """Write the session to the response's cookie.

        ``Vary: Cookie`` is added when the session was accessed or the cookie
        is set or deleted. A session that was emptied deletes the cookie; an
        empty, unmodified one sets nothing; otherwise the cookie is set when
        :meth:`should_set_cookie` says so.
        """
        name = self.get_cookie_name(app)
        attributes = {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "partitioned": self.get_cookie_partitioned(app),
            "samesite": self.get_cookie_samesite(app),
            "httponly": self.get_cookie_httponly(app),
        }

        if session.accessed:
            vary_on_cookie(response)

        if not session:
            if session.modified:
                response.delete_cookie(name, **attributes)
                vary_on_cookie(response)
            return

        if not self.should_set_cookie(app, session):
            return

        serializer = self.get_signing_serializer(app)
        assert serializer is not None, "saving a session needs a secret key"
        if isinstance(serializer, _SessionSerializer):
            value = serializer.dumps_session(dict(session))
        else:  # from an overridden get_signing_serializer()
            value = serializer.dumps(dict(session))
        response.set_cookie(
            name, value, expires=self.get_expiration_time(app, session), **attributes
        )
        vary_on_cookie(response)
