"""The process's ``SecretBox``: the configured Fernet key, or one generated into the data folder."""

from __future__ import annotations

import logging

from gateway.accounts.secrets import SecretBox, load_or_create_key
from gateway.settings import Settings

log = logging.getLogger("imgate.secrets")


def secret_box(settings: Settings) -> SecretBox:
    key, created = load_or_create_key(settings.data_path / "secret.key", settings.secret_key or None)
    if created:
        log.warning(
            "generated a development secret key in the data folder; set secret_key (IMGATE_SECRET_KEY) "
            "in production so storage credentials stay readable when the folder is replaced"
        )
    return SecretBox(key)
