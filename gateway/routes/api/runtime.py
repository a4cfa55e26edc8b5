"""``ApiRuntime``: what the management API works with inside a gateway process, built on its first call.

The admin context is made from the services the process already runs (its account store and result store),
so an API change is written where the request path reads it and a purge deletes from the same result store.
Built lazily and kept on the app's state: the process's lifespan stays as it is, and a worker that never
serves an API call never builds one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gateway.admin import AdminContext
from gateway.services import Services
from gateway.settings import Settings
from gateway.web.clientaddr import TrustedProxies

_STATE = "api_runtime"


@dataclass(frozen=True, slots=True)
class ApiRuntime:
    ctx: AdminContext
    proxies: TrustedProxies

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @classmethod
    def build(cls, services: Services) -> ApiRuntime:
        ctx = dataclasses.replace(
            AdminContext.build(services.settings, services.store, services.results, services.secrets, services.tokens),
            capture=services.capture,
        )
        return cls(ctx, TrustedProxies(services.settings.trusted_proxies))

    @classmethod
    def of(cls, app: Any) -> ApiRuntime:
        runtime: ApiRuntime | None = getattr(app.state, _STATE, None)
        if runtime is None:
            # Two first calls racing may each build one; both are equivalent and one is kept.
            runtime = cls.build(app.state.services)
            setattr(app.state, _STATE, runtime)
        return runtime
