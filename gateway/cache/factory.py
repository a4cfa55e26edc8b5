"""The one place a ``ResultStore`` is chosen: by the ``result_store`` setting (disk, s3 or none).

Backends are imported only when chosen, so a node without a result store never loads the S3 client.
"""

from __future__ import annotations

from gateway.cache.results import NullResultStore, ResultStore
from gateway.settings import Settings, SettingsError

_MIB = 1024 * 1024


def build_result_store(settings: Settings) -> ResultStore:
    """A new store; the caller closes it with ``aclose``. Never ``None``: no store is ``NullResultStore``."""
    match settings.result_store:
        case "none":
            return NullResultStore()
        case "disk":
            from gateway.cache.disk import DiskResultStore

            return DiskResultStore(settings.result_store_path, settings.result_store_max_mb * _MIB)
        case "s3":
            from gateway.cache.s3 import S3ResultStore

            return S3ResultStore.from_settings(settings)
    # Settings refuse any other value at start-up; this keeps a half-added backend from passing unnoticed.
    raise SettingsError(f"setting 'result_store': no store named {settings.result_store!r}")
