"""Sessions: the session objects and the interface that loads and saves them.

The default, :class:`SecureCookieSessionInterface`, keeps the whole session in
a cookie signed with the app's secret key. Its wire format is Flask's, so a
cookie written by a Flask app with the same secret key loads here and back.
"""

from __future__ import annotations

import collections.abc as c
import base64
import hashlib
import inspect
import zlib
import typing as t
from datetime import datetime
from datetime import timezone

from itsdangerous import SignatureExpired
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes
from werkzeug.datastructures import Headers
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.wrappers import Request as _BaseRequest
from werkzeug.wrappers import Response as _BaseResponse

from .json.tag import TaggedJSONSerializer

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .wrappers import Request
    from .wrappers import Response

_missing = object()


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
    """Whether the session was read or written during the request. When it
    is, the response gets ``Vary: Cookie``."""


class SecureCookieSession(dict, SessionMixin):  # type: ignore[type-arg]
    """The session of :class:`SecureCookieSessionInterface`: a dict that
    records its own use.

    Any change through the dict's own methods sets :attr:`modified`; reading
    a key (``session[key]``, :meth:`get`, :meth:`setdefault`) or changing the
    session sets :attr:`accessed`. Changes made inside a mutable value, such
    as appending to a list stored in the session, are not seen: set
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
        if initial is None:
            super().__init__()
        else:
            super().__init__(initial)

    @property
    def permanent(self) -> bool:
        """Whether the session outlives the browser session; stored as the
        ``"_permanent"`` key.

        Reading it does not mark the session accessed: the session interface
        reads it while saving, and that must not add ``Vary: Cookie`` to
        responses whose view never touched the session.
        """
        return dict.get(self, "_permanent", False)  # type: ignore[no-any-return]

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    def __getitem__(self, key: str) -> t.Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True

        if key not in self:
            self.modified = True

        return super().setdefault(key, default)

    def __setitem__(self, key: str, value: t.Any) -> None:
        self.accessed = self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.accessed = self.modified = True
        super().__delitem__(key)

    def clear(self) -> None:
        self.accessed = self.modified = True
        super().clear()

    def pop(self, key: str, default: t.Any = _missing) -> t.Any:
        self.accessed = True

        if key in self:
            self.modified = True
        elif default is not _missing:
            return default

        return super().pop(key)

    def popitem(self) -> tuple[str, t.Any]:
        self.accessed = self.modified = True
        return super().popitem()

    def update(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.accessed = self.modified = True
        super().update(*args, **kwargs)

    def __ior__(self, other: t.Any) -> SecureCookieSession:  # type: ignore[override]
        self.update(other)
        return self

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

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail  # type: ignore[assignment]
    __ior__ = _fail  # type: ignore[assignment]
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


class _KeyCachingSigner(TimestampSigner):
    """A :class:`~itsdangerous.TimestampSigner` that derives the signing key
    from each secret key once, instead of on every sign and verify."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        if secret_key is None:
            secret_key = self.secret_keys[-1]
        elif isinstance(secret_key, str):
            secret_key = secret_key.encode()

        try:
            return self._derived[secret_key]
        except KeyError:
            key = self._derived[secret_key] = super().derive_key(secret_key)
            return key


_base_cookies = inspect.getattr_static(_BaseRequest, "cookies")
# Request class -> whether its ``cookies`` is werkzeug's own.
_plain_cookies: dict[type, bool] = {}
# The types of session values that cannot change in place, so a verified
# session made only of them can be handed out again as a shallow copy.
_IMMUTABLE = frozenset((str, int, float, bool, type(None), bytes))
_CACHE_SIZE = 256


def _remember(cache: dict[t.Any, t.Any], key: t.Any, value: t.Any) -> None:
    # A bounded cache, oldest entry out first; hits move an entry to the end
    # (see _SessionSerializer.loads_session), which makes it least recently
    # used. Races between threads may lose an entry, never corrupt one.
    if len(cache) >= _CACHE_SIZE:
        try:
            del cache[next(iter(cache))]
        except (KeyError, RuntimeError, StopIteration):
            pass
    cache[key] = value


_base_vary = inspect.getattr_static(_BaseResponse, "vary")
# Response class -> whether its ``vary`` is werkzeug's own.
_plain_vary: dict[type, bool] = {}


def _vary_on_cookie(response: t.Any) -> None:
    """``response.vary.add("Cookie")``.

    PERF: werkzeug's ``vary`` parses the header into a HeaderSet and writes
    it back, some dozen calls, twice per saved session. With werkzeug's own
    ``vary`` and plain Headers, the two cases a session meets are done
    directly: no Vary header yet (add one, as the HeaderSet would) and a
    Vary header that is already ``Cookie`` (nothing to change).
    """
    cls = type(response)
    plain = _plain_vary.get(cls)
    if plain is None:
        plain = inspect.getattr_static(cls, "vary", None) is _base_vary
        _remember(_plain_vary, cls, plain)
    headers = response.headers
    if plain and type(headers) is Headers:
        items = headers._list
        for key, value in items:
            if key.lower() == "vary":
                # The first Vary header is the one the HeaderSet reads.
                if value.lower() == "cookie":
                    return
                break
        else:
            items.append(("Vary", "Cookie"))
            return
    response.vary.add("Cookie")


def _url_safe_payload(text: bytes) -> bytes:
    # itsdangerous' URL-safe payload: zlib-compressed (marked by a leading
    # ".") when that saves more than a byte, then unpadded URL-safe base64.
    packed = zlib.compress(text)
    if len(packed) < len(text) - 1:
        return b"." + base64.urlsafe_b64encode(packed).rstrip(b"=")
    return base64.urlsafe_b64encode(text).rstrip(b"=")


class _SessionSerializer(URLSafeTimedSerializer):
    """A :class:`~itsdangerous.URLSafeTimedSerializer` that reuses its
    signer for the default salt instead of building one per call, and
    remembers the cookies it verified. The output is byte for byte what a
    plain ``URLSafeTimedSerializer`` makes."""

    def loads_session(self, value: str, max_age: int) -> t.Any:
        """``loads(value, max_age=max_age)``, remembering the result.

        PERF: verifying a cookie (base64, zlib, HMAC, tagged JSON) costs a
        tenth of a realistic request, and a client sends the same cookie
        again and again until the session changes. Verification is a pure
        function of the cookie and the keys (this serializer belongs to one
        key set), so a verified cookie is remembered, with its signing time:
        ``max_age`` is checked again on every use, as itsdangerous does, with
        the signer's own clock. Only sessions whose values are all immutable
        are remembered; each use gets its own copy of the dict. A cookie is
        only ever found here if it is byte for byte one that verified.
        """
        cache: dict[str, tuple[int, dict[str, t.Any]]] = self.__dict__.setdefault(
            "_erlen_loaded", {}
        )
        hit = cache.get(value)
        if hit is not None:
            signed_at, data = hit
            age = self.make_signer().get_timestamp() - signed_at
            if age > max_age or age < 0:
                cache.pop(value, None)
                raise SignatureExpired(f"Signature age {age} outside 0..{max_age}")
            # Move it to the end: the least recently used goes first.
            cache.pop(value, None)
            cache[value] = hit
            return dict(data)
        data, signed = self.loads(value, max_age=max_age, return_timestamp=True)
        if type(data) is dict and all(type(v) in _IMMUTABLE for v in data.values()):
            _remember(cache, value, (int(signed.timestamp()), dict(data)))
        return data

    def dumps(self, obj: t.Any, salt: str | bytes | None = None) -> t.Any:
        """Sign ``obj``: the same output as itsdangerous' ``dumps``.

        PERF: a session saved again within the same second with the same
        data signs to the same cookie (the signature covers the data and the
        signing second only), and compressing, encoding and signing cost
        twice the JSON itself. The signed cookie is remembered per JSON text
        and reused while the signer's clock shows the same second.
        """
        if salt is not None or self.__dict__.get("_erlen_unsure"):
            return super().dumps(obj, salt)
        text = want_bytes(self.serializer.dumps(obj, **self.serializer_kwargs))
        signer = self.make_signer()
        now = signer.get_timestamp()
        cache: dict[bytes, tuple[int, t.Any]] = self.__dict__.setdefault(
            "_erlen_signed", {}
        )
        hit = cache.get(text)
        if hit is not None and hit[0] == now:
            return hit[1]
        payload = _url_safe_payload(text)
        if "_erlen_checked" not in self.__dict__:
            # The payload encoding is written out here to avoid making the
            # JSON twice; check it once against itsdangerous' own.
            if payload != super().dump_payload(obj):  # pragma: no cover
                self._erlen_unsure = True
                return super().dumps(obj)
            self._erlen_checked = True
        rv = signer.sign(payload)
        if self.is_text_serializer:
            rv = rv.decode("utf-8")
        if signer.get_timestamp() == now:  # signed within that second
            _remember(cache, text, (now, rv))
        return rv

    def make_signer(self, salt: str | bytes | None = None) -> TimestampSigner:
        if salt is not None:
            return super().make_signer(salt)  # type: ignore[return-value]

        try:
            return self._erlen_signer  # type: ignore[no-any-return]
        except AttributeError:
            signer = self._erlen_signer = super().make_signer()
            return signer  # type: ignore[return-value]


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

        The serializer is cached per key set, so it is built again only when
        ``secret_key``, ``SECRET_KEY_FALLBACKS`` or this interface's
        ``salt``, ``serializer``, ``key_derivation`` or ``digest_method``
        change.
        """
        secret_key = app.secret_key

        if not secret_key:
            return None

        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        # PERF: building the serializer (and itsdangerous' key derivation per
        # signer) costs more than signing itself; reuse it while the inputs
        # stay the same. The digest and serializer objects themselves are in
        # the key (not their id()): a digest_method defined as a plain method
        # is a new bound method on each access, and those compare equal.
        cache_key = (
            secret_key,
            tuple(fallbacks) if fallbacks else (),
            self.salt,
            self.key_derivation,
            self.digest_method,
            self.serializer,
        )

        try:
            cache = self._erlen_signers
        except AttributeError:
            cache = self._erlen_signers = {}

        try:
            return cache[cache_key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        except TypeError:
            # Unhashable key material: build it every time.
            return self._make_signing_serializer(secret_key, fallbacks)

        signer = self._make_signing_serializer(secret_key, fallbacks)

        if len(cache) >= 16:
            # Keys rotate rarely; a bound keeps tests that change the key on
            # every request from growing the cache forever.
            cache.clear()

        cache[cache_key] = signer
        return signer

    def _make_signing_serializer(
        self, secret_key: str | bytes, fallbacks: t.Iterable[str | bytes] | None
    ) -> URLSafeTimedSerializer:
        # itsdangerous signs with the last key and verifies with all of them.
        keys: list[str | bytes] = list(fallbacks) if fallbacks else []
        keys.append(secret_key)
        digest_method = self.digest_method

        if digest_method is _lazy_sha1:
            # PERF: hmac takes its C fast path only for OpenSSL constructors;
            # a Python function (the lazy wrapper) makes it fall back to
            # pure-Python HMAC. Resolve it now, at first use, which keeps the
            # import-time safety the wrapper exists for.
            digest_method = hashlib.sha1

        return _SessionSerializer(
            keys,  # type: ignore[arg-type]
            salt=self.salt,
            serializer=self.serializer,
            signer=_KeyCachingSigner,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": digest_method,
            },
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Load the session from the request's cookie. A missing, tampered,
        expired or unreadable cookie gives an empty session. Returns ``None``
        when the app has no secret key."""
        signer = self.get_signing_serializer(app)

        if signer is None:
            return None

        # PERF: with no Cookie header at all there is nothing to parse or
        # verify, and the request's cookie mapping need not be built.
        if not request.environ.get("HTTP_COOKIE"):
            return self.session_class()

        value = self._session_cookie(request, self.get_cookie_name(app))

        if not value:
            return self.session_class()

        max_age = int(app.permanent_session_lifetime.total_seconds())

        try:
            if type(signer) is _SessionSerializer:
                data = signer.loads_session(value, max_age)
            else:
                data = signer.loads(value, max_age=max_age)
        except Exception:
            # Bad signatures and expired cookies (BadSignature), but also a
            # cookie that verifies yet does not decode (an old format, a
            # changed serializer): all mean "no session", never a 500.
            return self.session_class()

        if not isinstance(data, dict):
            return self.session_class()

        return self.session_class(data)

    def _session_cookie(self, request: Request, name: str) -> str | None:
        """``request.cookies.get(name)``, remembered per Cookie header.

        PERF: parsing the Cookie header into ``request.cookies`` costs more
        than the rest of opening a remembered session, and a client sends
        the same header again and again. With werkzeug's own ``cookies``
        (which parses the header alone into an ``ImmutableMultiDict``), the
        value is a pure function of the header, so it is remembered; the
        request parses its cookies only if something else asks for them.
        """
        cls = type(request)
        plain = _plain_cookies.get(cls)
        if plain is None:
            # Looked up without running the descriptor (which is a call).
            plain = (
                inspect.getattr_static(cls, "cookies", None) is _base_cookies
                and cls.dict_storage_class is ImmutableMultiDict
            )
            _remember(_plain_cookies, cls, plain)
        if not plain or "cookies" in request.__dict__:
            return request.cookies.get(name)
        header = request.environ.get("HTTP_COOKIE")
        cache: dict[tuple[str, str], str | None] = self.__dict__.setdefault(
            "_erlen_cookie_values", {}
        )
        key = (header, name)
        try:
            return cache[key]
        except KeyError:
            pass
        except TypeError:  # not a string: leave it to werkzeug
            return request.cookies.get(name)
        value = request.cookies.get(name)
        _remember(cache, key, value)
        return value

    def save_session(
        self, app: Flask, session: SessionMixin, response: Response
    ) -> None:
        """Write the session to the response's cookie.

        ``Vary: Cookie`` is added when the session was accessed or the cookie
        is set or deleted. A session that was emptied deletes the cookie; an
        empty, unmodified one sets nothing; otherwise the cookie is set when
        :meth:`should_set_cookie` says so.
        """
        if session.accessed:
            _vary_on_cookie(response)

        if not session:
            if session.modified:
                response.delete_cookie(
                    self.get_cookie_name(app),
                    domain=self.get_cookie_domain(app),
                    path=self.get_cookie_path(app),
                    secure=self.get_cookie_secure(app),
                    partitioned=self.get_cookie_partitioned(app),
                    samesite=self.get_cookie_samesite(app),
                    httponly=self.get_cookie_httponly(app),
                )
                _vary_on_cookie(response)

            return

        if not self.should_set_cookie(app, session):
            return

        signer = self.get_signing_serializer(app)
        assert signer is not None, "save_session needs a secret key"
        response.set_cookie(
            self.get_cookie_name(app),
            signer.dumps(dict(session)),  # type: ignore[arg-type]
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            partitioned=self.get_cookie_partitioned(app),
            samesite=self.get_cookie_samesite(app),
        )
        _vary_on_cookie(response)
