"""``MonitoringHooks``: the request hook that feeds the Prometheus metrics and the access log from each ``Outcome``.

It runs on the event loop for every answer: a few memory writes for the metrics (``gateway.metrics``) and, when
the access log is on, one JSON line. A namespace is named (in the access log, and in the metrics' workspace
label when that is on) only when it resolved to a workspace: ``known`` is ``Tenancy.known``, which never loads.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway import metrics
from gateway.delivery.hooks import Outcome, RecordOnly
from gateway.metrics.access_log import AccessLog


class MonitoringHooks(RecordOnly):
    def __init__(
        self,
        known: Callable[[str], bool],
        access_log: AccessLog | None,
        workspace_label: bool = False,
    ) -> None:
        self._known = known
        self._access_log = access_log
        self._workspace_label = workspace_label

    def record(self, outcome: Outcome) -> None:
        workspace = outcome.namespace if self._known(outcome.namespace) else None
        label = (workspace or "") if self._workspace_label else ""
        metrics.count_request(outcome.status, outcome.tier, outcome.seconds, label)
        if self._access_log is not None:
            self._access_log.write(
                workspace,
                outcome.status,
                outcome.code,
                outcome.seconds,
                outcome.bytes_out,
                outcome.tier,
                outcome.content_type,
            )
