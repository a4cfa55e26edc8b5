"""``DashboardRuntime``: what the dashboard works with inside a gateway process, built on its first request.

Like the management API's runtime, the admin context is made from the services the process already runs, so
a change made in the dashboard is written where the request path reads it. Tests replace the runtime on the
app's state to give it a clock they move (``DashboardRuntime.install``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gateway.admin import AdminContext
from gateway.admin.signin import Clock, SignInSetup
from gateway.dashboard.sessions import CsrfTokens
from gateway.mail import Mailer, build_mailer
from gateway.services import Services
from gateway.web.clientaddr import TrustedProxies
from gateway.web.hosts import HostRouting

_STATE = "dashboard_runtime"


@dataclass(frozen=True, slots=True)
class DashboardRuntime:
    ctx: AdminContext
    # The mailer, key and clock of the admin layer's sign-in operations.
    signin: SignInSetup
    csrf: CsrfTokens
    proxies: TrustedProxies
    # The gateway's own hosts: the dashboard answers on no other (custom domains serve images only).
    hosts: HostRouting

    @classmethod
    def build(cls, services: Services, *, mailer: Mailer | None = None, clock: Clock = time.time) -> DashboardRuntime:
        ctx = AdminContext.build(services.settings, services.store, services.results, services.secrets, services.tokens)
        return cls.over(ctx, mailer or build_mailer(services.settings), clock)

    @classmethod
    def over(cls, ctx: AdminContext, mailer: Mailer, clock: Clock = time.time) -> DashboardRuntime:
        """A runtime over an admin context (its store's ``signins`` keep codes and sessions)."""
        proxies = TrustedProxies(ctx.settings.trusted_proxies)
        return cls(
            ctx,
            SignInSetup.over(ctx, mailer, clock),
            CsrfTokens(ctx.tokens),
            proxies,
            HostRouting(ctx.settings.public_hosts, proxies),
        )

    @classmethod
    def install(cls, app: Any, runtime: DashboardRuntime) -> None:
        setattr(app.state, _STATE, runtime)

    @classmethod
    def of(cls, app: Any) -> DashboardRuntime:
        runtime: DashboardRuntime | None = getattr(app.state, _STATE, None)
        if runtime is None:
            runtime = cls.build(app.state.services)
            setattr(app.state, _STATE, runtime)
        return runtime
