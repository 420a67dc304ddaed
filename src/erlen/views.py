"""Class-based views: :class:`View` and the verb-dispatching
:class:`MethodView`."""

from __future__ import annotations

import typing as t

from . import compat as _compat
from .helpers import _current_app
from .helpers import _require_request_ctx

if t.TYPE_CHECKING:  # pragma: no cover
    from . import typing as ft

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

http_method_funcs = frozenset(
    ("get", "post", "head", "options", "delete", "put", "trace", "patch")
)


class View:
    """Base for class-based views. Override :meth:`dispatch_request` and
    register the function that :meth:`as_view` returns::

        class Hello(View):
            init_every_request = False

            def dispatch_request(self, name):
                return f"Hello, {name}!"

        app.add_url_rule("/hello/<name>", view_func=Hello.as_view("hello"))

    Class attributes configure the generated view function: :attr:`methods`,
    :attr:`provide_automatic_options`, :attr:`decorators` and
    :attr:`init_every_request`. Decorators applied to the class itself do not
    reach the view function; list them in :attr:`decorators` instead.
    """

    #: The HTTP methods the view is registered for. ``None`` means the
    #: ``route``/``add_url_rule`` default, ``GET``, ``HEAD`` and ``OPTIONS``.
    methods: t.ClassVar[t.Collection[str] | None] = None

    #: Whether ``OPTIONS`` is answered automatically. ``None`` means the
    #: ``route``/``add_url_rule`` default (``True``).
    provide_automatic_options: t.ClassVar[bool | None] = None

    #: Decorators applied, first to last, to the generated view function.
    #: The first one is the innermost, as with stacked ``@`` lines read
    #: bottom to top.
    decorators: t.ClassVar[list[t.Callable[..., t.Any]]] = []

    #: ``True`` creates a new instance for every request. ``False`` creates
    #: one when :meth:`as_view` is called and reuses it for all requests,
    #: which is faster but makes storing request data on ``self`` unsafe.
    init_every_request: t.ClassVar[bool] = True

    def dispatch_request(self) -> ft.ResponseReturnValue:
        """Handle the request and return a response value. URL variables are
        passed as keyword arguments. Subclasses must override it."""
        raise NotImplementedError()

    @classmethod
    def as_view(
        cls, name: str, *class_args: t.Any, **class_kwargs: t.Any
    ) -> ft.RouteCallable:
        """Make a view function for this class, named ``name`` (the default
        endpoint).

        ``class_args`` and ``class_kwargs`` are passed to the class's
        ``__init__``. The function's ``view_class`` attribute is the class
        it instantiates (replaceable, e.g. in tests); ``methods`` and
        ``provide_automatic_options`` are copied from the class. An async
        ``dispatch_request`` runs through the app's
        :meth:`~erlen.Flask.ensure_sync`.
        """
        if cls.init_every_request:

            def view(**kwargs: t.Any) -> ft.ResponseReturnValue:
                instance = view.view_class(*class_args, **class_kwargs)  # type: ignore[attr-defined]
                return _current_app().ensure_sync(instance.dispatch_request)(**kwargs)  # type: ignore[no-any-return]

        else:
            instance = cls(*class_args, **class_kwargs)

            def view(**kwargs: t.Any) -> ft.ResponseReturnValue:
                return _current_app().ensure_sync(instance.dispatch_request)(**kwargs)  # type: ignore[no-any-return]

        if cls.decorators:
            # Decorators that use functools.wraps should see the final name.
            view.__name__ = name
            view.__module__ = cls.__module__
            for decorator in cls.decorators:
                view = decorator(view)

        view.view_class = cls  # type: ignore[attr-defined]
        view.__name__ = name
        view.__doc__ = cls.__doc__
        view.__module__ = cls.__module__
        view.methods = cls.methods  # type: ignore[attr-defined]
        view.provide_automatic_options = cls.provide_automatic_options  # type: ignore[attr-defined]
        return view


class MethodView(View):
    """A view that calls the instance method named after the request's HTTP
    method (``get``, ``post``, ...). ``HEAD`` falls back to ``get`` when
    there is no ``head``.

    Unless a subclass sets :attr:`methods` itself, it is the set of verbs the
    class implements plus the methods of its bases::

        class CounterAPI(MethodView):
            def get(self):
                return str(session.get("counter", 0))

            def post(self):
                session["counter"] = session.get("counter", 0) + 1
                return redirect(url_for("counter"))
    """

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" in cls.__dict__:
            return
        collected: set[str] = set()
        for base in cls.__bases__:
            base_methods = getattr(base, "methods", None)
            if base_methods:
                collected.update(base_methods)
        for verb in http_method_funcs:
            if hasattr(cls, verb):
                collected.add(verb.upper())
        if collected:
            cls.methods = collected

    def dispatch_request(self, **kwargs: t.Any) -> ft.ResponseReturnValue:
        req_ctx = _require_request_ctx()
        method = req_ctx.request.method
        handler = getattr(self, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(self, "get", None)
        assert handler is not None, f"Unimplemented method {method!r}"
        return req_ctx.app.ensure_sync(handler)(**kwargs)  # type: ignore[no-any-return]


def __getattr__(name: str) -> t.Any:
    # Names Flask removed (MethodViewType): see erlen.compat.
    return _compat.legacy_attribute(
        __name__, name, _compat.LEGACY_MODULE_ATTRIBUTES["erlen.views"]
    )
