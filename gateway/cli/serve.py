"""``imgate serve``: Granian worker processes on the configured address, after checking the port is free.

Granian listens with ``SO_REUSEPORT``, so a second server started on a port already in use would start without
a word and share the incoming connections with the first: requests would be answered by either, each with
its own settings and data folder. ``serve`` therefore first binds the port itself, without ``SO_REUSEPORT``,
and refuses to start when that fails; ``--reuse-port`` skips the check for an operator who runs several
servers on one port on purpose.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Mapping

from gateway.accounts.factory import build_account_store
from gateway.cli.args import CommandError
from gateway.cli.metrics_folder import MULTIPROC_VARIABLE, fresh_multiprocess_directory
from gateway.mail.console import console_mailer_refusal
from gateway.settings import Settings


def check_port_free(host: str, port: int) -> None:
    """``CommandError`` naming the port and its setting when nothing could listen on ``host:port`` now."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror:
        raise CommandError(f"cannot listen on {host!r}: not an address of this machine (setting 'host')") from None
    with socket.socket(family, kind, proto) as probe:
        # SO_REUSEADDR lets the probe ignore connections still closing (TIME_WAIT) but not a listening socket.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"port {port} on {host} is already in use (setting 'port', IMGATE_PORT or --port): "
                    "choose another port, or pass --reuse-port to share it with the server listening there"
                ) from None
            raise CommandError(
                f"cannot listen on {host} port {port}: {exc.strerror} (settings 'host', 'port')"
            ) from None


def serve(settings: Settings, overrides: Mapping[str, object], *, reuse_port: bool = False) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    refusal = console_mailer_refusal(settings)
    if refusal is not None:
        raise CommandError(refusal)
    if not reuse_port:
        check_port_free(settings.host, settings.port)
    settings.data_path.mkdir(parents=True, exist_ok=True)
    build_account_store(settings).close()  # create and migrate once, before the workers race to do it
    # Every worker writes its metrics there and a scrape sums them (gateway.metrics); set before any worker starts.
    os.environ[MULTIPROC_VARIABLE] = str(fresh_multiprocess_directory(settings.data_path, settings.port))
    # Worker processes read their settings from the environment again: pass the command line's through it.
    for name, value in overrides.items():
        os.environ["IMGATE_" + name.upper()] = str(value)
    Granian(
        "gateway.app:app_from_environment",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.worker_count,
        factory=True,
        respawn_failed_workers=True,
        log_access=False,
    ).serve()
