"""``erlen serve``: the app on a production WSGI server.

The default server is granian's WSGI interface (``pip install 'erlen[serve]'``);
``--server gunicorn`` runs the same app on gunicorn. The app is found the way
``erlen run`` finds it (``--app``, ``ERLEN_APP``/``FLASK_APP``, ``wsgi.py`` or
``app.py``), and ``--as-flask`` applies in the workers too.

The command's options are translated to each server's settings by
:func:`granian_settings` and :func:`gunicorn_settings`. An option a server
has no equivalent for is refused with a one-line error rather than quietly
ignored. Each worker process loads the app itself through :func:`load_wsgi`,
from a small JSON description (:class:`AppSpec`) that survives both ``fork``
and ``spawn``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
import sys
import typing as t
from pathlib import Path

import click

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIApplication

SERVERS = ("granian", "gunicorn")

#: Both servers' access logs, as close to the Common Log Format as each
#: allows: host, identity, user, [time], "request line", status, size.
#: granian knows neither the response size nor the user, and writes its own
#: time format (``2026-12-02 15:50:00 +0000``); the path it logs has no query.
GUNICORN_ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s'
GRANIAN_ACCESS_FORMAT = (
    '%(addr)s - - [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d -'
)

INSTALL_HINT = "pip install 'erlen[serve]'"


class ServeError(click.ClickException):
    """A one-line error of ``erlen serve`` (exit status 1)."""


def default_workers() -> int:
    """One worker per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclasses.dataclass
class ServeOptions:
    """What ``erlen serve`` was asked for, before it is mapped to a server.

    ``None`` means "not given": the server's own default applies.
    """

    server: str = "granian"
    host: str = "127.0.0.1"
    port: int = 8000
    uds: str | None = None
    workers: int = dataclasses.field(default_factory=default_workers)
    threads: int = 1
    backlog: int = 1024
    keep_alive: float | None = None
    timeout: float | None = None
    header_timeout: float | None = None
    max_requests: int | None = None
    max_requests_jitter: int | None = None
    max_lifetime: float | None = None
    max_rss: int | None = None
    respawn: bool = True
    graceful_timeout: float = 30.0
    access_log: bool = True
    proxy_headers: int = 0


def _refuse(server: str, option: str, offers: str) -> t.NoReturn:
    raise ServeError(f"{server} has no equivalent of {option}: {offers}")


def granian_settings(opts: ServeOptions) -> dict[str, t.Any]:
    """The keyword arguments of granian's server for ``opts``.

    Refuses (with :class:`ServeError`) what granian cannot do: a keep-alive
    idle timeout, a request timeout, recycling after a number of requests,
    a backlog under 128.
    """
    if opts.timeout is not None:
        _refuse(
            "granian",
            "--timeout",
            "it never times out a running request (use --server gunicorn)",
        )
    if opts.keep_alive not in (None, 0):
        _refuse(
            "granian",
            "--keep-alive SECONDS",
            "it keeps idle connections open without a time limit;"
            " --keep-alive 0 turns keep-alive off",
        )
    if opts.max_requests is not None or opts.max_requests_jitter is not None:
        _refuse(
            "granian",
            "--max-requests",
            "it recycles workers by age (--max-lifetime) or memory (--max-rss)",
        )
    if opts.backlog < 128:
        _refuse("granian", "--backlog below 128", "its smallest backlog is 128")
    if opts.max_lifetime is not None and opts.max_lifetime < 60:
        raise ServeError("granian recycles workers after 60 seconds at the earliest")
    if opts.header_timeout is not None and not 0 < opts.header_timeout <= 60:
        raise ServeError("granian's --header-timeout must be in (0, 60] seconds")

    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    http1 = HTTP1Settings(keep_alive=opts.keep_alive != 0)
    if opts.header_timeout is not None:
        http1.header_read_timeout = max(1, round(opts.header_timeout * 1000))

    settings: dict[str, t.Any] = {
        "interface": Interfaces.WSGI,
        "workers": opts.workers,
        "blocking_threads": opts.threads,
        "backlog": opts.backlog,
        "http1_settings": http1,
        "respawn_failed_workers": opts.respawn,
        "workers_kill_timeout": max(1, round(opts.graceful_timeout)),
        "log_access": opts.access_log,
        "log_access_format": GRANIAN_ACCESS_FORMAT,
        "websockets": False,
    }
    if opts.uds:
        settings["uds"] = Path(opts.uds)
    else:
        settings["address"] = opts.host
        settings["port"] = opts.port
    if opts.max_lifetime is not None:
        settings["workers_lifetime"] = round(opts.max_lifetime)
    if opts.max_rss is not None:
        settings["workers_max_rss"] = opts.max_rss
    return settings


def gunicorn_settings(opts: ServeOptions) -> dict[str, t.Any]:
    """gunicorn's settings (its ``Config`` names) for ``opts``.

    One thread gives the sync worker, more give gthread. Refuses what
    gunicorn cannot do: recycling by age or memory, a header read timeout,
    turning respawning off (its arbiter always replaces a dead worker).
    """
    if opts.max_lifetime is not None or opts.max_rss is not None:
        _refuse(
            "gunicorn",
            "--max-lifetime/--max-rss",
            "it recycles workers after --max-requests requests",
        )
    if opts.header_timeout is not None:
        _refuse(
            "gunicorn",
            "--header-timeout",
            "its --timeout bounds how long a worker may stay silent",
        )
    if not opts.respawn:
        _refuse("gunicorn", "--no-respawn", "its arbiter always replaces dead workers")

    bind = f"unix:{opts.uds}" if opts.uds else _host_port(opts.host, opts.port)
    settings: dict[str, t.Any] = {
        "bind": [bind],
        "workers": opts.workers,
        "threads": opts.threads,
        "worker_class": "gthread" if opts.threads > 1 else "sync",
        "backlog": opts.backlog,
        # gunicorn counts its timeouts in whole seconds.
        "graceful_timeout": math.ceil(opts.graceful_timeout),
        "accesslog": "-" if opts.access_log else None,
        "access_log_format": GUNICORN_ACCESS_FORMAT,
        "errorlog": "-",
        # Forwarded headers are --proxy-headers' business alone, as on
        # granian: gunicorn would otherwise trust them from 127.0.0.1.
        "forwarded_allow_ips": "",
    }
    if opts.keep_alive is not None:
        settings["keepalive"] = math.ceil(opts.keep_alive)
    if opts.timeout is not None:
        settings["timeout"] = math.ceil(opts.timeout)
    if opts.max_requests is not None:
        settings["max_requests"] = opts.max_requests
    if opts.max_requests_jitter is not None:
        settings["max_requests_jitter"] = opts.max_requests_jitter
    return settings


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# -- loading the app in a worker ----------------------------------------------


@dataclasses.dataclass
class AppSpec:
    """How a worker process finds the app: what ``--app`` said (or nothing,
    for ``wsgi.py``/``app.py``), the working directory to find it from,
    whether ``--as-flask`` was given, and the ``--proxy-headers`` hops."""

    app_import_path: str | None
    cwd: str
    as_flask: bool = False
    proxy_hops: int = 0

    def dumps(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def loads(cls, text: str) -> AppSpec:
        return cls(**json.loads(text))


def wrap_proxy_fix(app: WSGIApplication, hops: int) -> WSGIApplication:
    """``app`` behind werkzeug's ProxyFix trusting ``hops`` proxies for each
    X-Forwarded-* header, or ``app`` itself when ``hops`` is 0."""
    if hops <= 0:
        return app
    from werkzeug.middleware.proxy_fix import ProxyFix

    return ProxyFix(
        app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
    )


def load_wsgi(spec_text: str) -> WSGIApplication:
    """Called in each worker: the WSGI callable that ``spec_text`` (an
    :meth:`AppSpec.dumps`) describes."""
    spec = AppSpec.loads(spec_text)
    if spec.as_flask:
        from .compat import install_as_flask

        install_as_flask()
    if os.getcwd() != spec.cwd:
        os.chdir(spec.cwd)
    from .cli import ScriptInfo

    app = ScriptInfo(app_import_path=spec.app_import_path).load_app()
    return wrap_proxy_fix(app, spec.proxy_hops)


def require_server(server: str) -> None:
    """Raise a one-line :class:`ServeError` naming the install command when
    ``server`` is not installed."""
    if importlib.util.find_spec(server) is None:
        if server == "granian":
            raise ServeError(f"granian is not installed: {INSTALL_HINT}")
        raise ServeError(
            f"{server} is not installed: pip install {server}"
            f" (or {INSTALL_HINT}, which brings both servers)"
        )


def run_granian(spec: AppSpec, opts: ServeOptions) -> None:
    from granian.server import Server

    # granian gives the target string to the loader in each worker; it is
    # the app's description, not an import path.
    server = Server(spec.dumps(), **granian_settings(opts))
    server.serve(target_loader=load_wsgi)


def run_gunicorn(spec: AppSpec, opts: ServeOptions) -> None:
    from gunicorn.app.base import BaseApplication

    settings = gunicorn_settings(opts)
    spec_text = spec.dumps()

    class ErlenApplication(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in settings.items():
                self.cfg.set(key, value)
            # gunicorn 25.1+ opens a control socket at one path per user,
            # which a second instance on the same machine would take over.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)

        def load(self) -> WSGIApplication:
            return load_wsgi(spec_text)

    ErlenApplication(usage="erlen serve --server gunicorn").run()


def serve(
    app_import_path: str | None, opts: ServeOptions, *, preload: t.Callable[[], t.Any]
) -> None:
    """Check ``opts`` against the chosen server, load the app once here (so
    that a broken app fails before any worker starts, and first-run setup
    such as creating an instance folder happens once), then serve."""
    if opts.server not in SERVERS:
        raise ServeError(f"unknown server {opts.server!r}: use one of {SERVERS}")
    if opts.proxy_headers < 0:
        raise ServeError("--proxy-headers counts proxies: 0 or more")
    require_server(opts.server)
    # Map before loading: a refused option is reported at once.
    if opts.server == "granian":
        granian_settings(opts)
    else:
        gunicorn_settings(opts)

    import erlen

    spec = AppSpec(
        app_import_path=app_import_path,
        cwd=os.getcwd(),
        # --as-flask (or ERLEN_AS_FLASK) already installed the alias here.
        as_flask=sys.modules.get("flask") is erlen,
        proxy_hops=opts.proxy_headers,
    )
    preload()
    sys.stdout.flush()
    if opts.server == "granian":
        run_granian(spec, opts)
    else:
        run_gunicorn(spec, opts)


# -- the command ----------------------------------------------------------------


def _not_negative(ctx: click.Context, param: click.Parameter, value: t.Any) -> t.Any:
    if value is not None and value < 0:
        raise click.BadParameter("must not be negative", ctx, param)
    return value


@click.command("serve", short_help="Serve the app on a production WSGI server.")
@click.option(
    "--server",
    type=click.Choice(SERVERS),
    default="granian",
    envvar="ERLEN_SERVE_SERVER",
    show_default=True,
    help="The WSGI server: granian (the 'serve' extra) or gunicorn.",
)
@click.option("--host", "-h", default="127.0.0.1", show_default=True,
              help="The interface to bind to.")
@click.option("--port", "-p", type=int, default=8000, show_default=True,
              help="The port to bind to.")
@click.option("--uds", type=click.Path(dir_okay=False),
              help="Listen on this Unix socket instead of --host/--port.")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: one per CPU).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Threads per worker that run requests.")
@click.option("--backlog", type=click.IntRange(min=1), default=1024, show_default=True,
              help="Connections waiting to be accepted.")
@click.option("--keep-alive", type=float, default=None, callback=_not_negative,
              help="Seconds an idle kept-alive connection stays open; 0 turns"
              " keep-alive off (gunicorn's timeout; granian offers only 0).")
@click.option("--timeout", type=float, default=None, callback=_not_negative,
              help="gunicorn only: seconds a silent worker may take before it"
              " is killed and replaced.")
@click.option("--header-timeout", type=float, default=None, callback=_not_negative,
              help="granian only: seconds to receive a request's headers.")
@click.option("--max-requests", type=click.IntRange(min=1), default=None,
              help="gunicorn only: recycle a worker after this many requests.")
@click.option("--max-requests-jitter", type=click.IntRange(min=0), default=None,
              help="gunicorn only: a random 0..N added to --max-requests.")
@click.option("--max-lifetime", type=float, default=None, callback=_not_negative,
              help="granian only: recycle a worker after this many seconds (60+).")
@click.option("--max-rss", type=click.IntRange(min=1), default=None,
              help="granian only: recycle a worker whose memory exceeds this"
              " many MiB.")
@click.option("--respawn/--no-respawn", default=True, show_default=True,
              help="Replace workers that die.")
@click.option("--graceful-timeout", type=float, default=30.0, show_default=True,
              callback=_not_negative,
              help="On SIGTERM, seconds in-flight requests get to finish.")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log every request to standard output.")
@click.option("--proxy-headers", type=click.IntRange(min=0), default=0,
              show_default=True, metavar="N",
              help="Trust X-Forwarded-* from N proxies in front (werkzeug's"
              " ProxyFix).")
@click.pass_context
def serve_command(
    ctx: click.Context, /, workers: int | None, **options: t.Any
) -> None:
    """Serve the app with worker processes, graceful shutdown on SIGTERM
    and an access log. granian by default ('pip install erlen[serve]'),
    gunicorn with '--server gunicorn'.

    Options a server has no equivalent for are refused, never ignored.
    """
    from .cli import ScriptInfo

    info = ctx.ensure_object(ScriptInfo)
    if info.create_app is not None and not info.app_import_path:
        # Workers are separate processes: they find the app from its import
        # path, and a function given to the group cannot reach them.
        raise ServeError(
            "erlen serve finds the app in each worker by its import path:"
            " give --app (or ERLEN_APP)"
        )
    opts = ServeOptions(
        workers=workers if workers is not None else default_workers(), **options
    )
    serve(info.app_import_path, opts, preload=info.load_app)
