"""The usage store the settings choose: the account store's own (``usage_store = "account"``), or Redis.

Redis stores are kept per process and URL, so the request path's flusher and the admin reads (the API, the
dashboard, ``imgate usage``) share one connection pool.
"""

from __future__ import annotations

import threading

from gateway.accounts.store import AccountStore
from gateway.accounts.usage import UsageStore
from gateway.settings import Settings

_redis_stores: dict[str, UsageStore] = {}
_lock = threading.Lock()


def usage_store(settings: Settings, store: AccountStore) -> UsageStore:
    if settings.usage_store != "redis":
        return store.usage
    with _lock:
        found = _redis_stores.get(settings.redis_url)
        if found is None:
            # Imported only when chosen, like every backend.
            from gateway.accounts.redis_usage import RedisUsageStore

            found = _redis_stores[settings.redis_url] = RedisUsageStore(settings.redis_url)
        return found
