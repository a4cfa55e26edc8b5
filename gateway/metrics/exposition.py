"""``/_/metrics``: who may read it, and the text a scrape answers, summed across the worker processes.

Access: a caller whose address is in ``metrics_networks`` (loopback by default), or one that sends
``Authorization: Bearer <metrics_token>`` when the token is set. The address is the connection's peer, or the
client ``trusted_proxies`` in front say it is (``gateway.web.clientaddr``). A request that carries a forwarding
header from a peer that is no trusted proxy came through a proxy the gateway does not know: its peer address
(often loopback, for a proxy on the same host) would let every client of that proxy in, so only the token does.
"""

from __future__ import annotations

import hmac
import os

from starlette.types import Scope

from gateway.addresses import Networks, peer_address
from gateway.metrics import MULTIPROC_VARIABLE, fold
from gateway.settings import Settings
from gateway.web.clientaddr import TrustedProxies, carries_forwarding


class MetricsAccess:
    def __init__(self, settings: Settings) -> None:
        self._networks = Networks(settings.metrics_networks)
        self._token = settings.metrics_token.encode()
        self._proxies = TrustedProxies(settings.trusted_proxies)

    def allows(self, scope: Scope) -> bool:
        headers = dict(scope.get("headers") or [])
        authorization = headers.get(b"authorization")
        if self._token and authorization is not None:
            scheme, _, given = authorization.partition(b" ")
            if scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self._token):
                return True
        peer = peer_address(scope)
        address = self._proxies.client_address(scope)
        if address is None:
            return False
        if address == peer and carries_forwarding(scope) and not self._proxies.trusts(peer):
            # It came through a proxy this gateway does not know (Caddy on the same host, say): the peer is the
            # proxy's address, loopback most likely, and says nothing about who is asking. Only the token admits it.
            return False
        return address in self._networks


def render() -> tuple[bytes, str]:
    """Every metric in the Prometheus text format (and its content type): of every worker in multiprocess mode,
    else of this one. Call ``gateway.metrics.fold`` on the event loop first (the tally is the loop's alone).
    The client is imported here, not at the top, for the reason in ``gateway.metrics``."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

    if os.environ.get(MULTIPROC_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def worker_exiting() -> None:
    """This worker's live gauges leave the sums (its counters stay: they were counted)."""
    fold()
    if os.environ.get(MULTIPROC_VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
