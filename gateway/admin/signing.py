"""Signed image URLs of a workspace: require them or not, and rotate the secrets that sign them.

A secret is shown once, in the ``CreatedSecret`` that ``rotate_secret`` returns; the workspace keeps it
sealed with the gateway's key (``SecretBox``), and every later view names it by its ``key_id`` only. Each
scheme has at most two active secrets: rotating while two exist retires the older one, so the usual
rotation is "rotate, move the signers to the new secret, remove the old one" and URLs signed with either
verify meanwhile. An imgix customer moving over imports their existing ``secureURLToken`` instead of a new
secret being generated, so URLs already signed by imgix keep verifying.

``signing = "required"`` needs a secret; removing the last one while required is refused, so a workspace can
never require signatures nothing can make. Every change is audited; no secret reaches a row or a message.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import string
import time
from dataclasses import dataclass
from typing import Any

from gateway.accounts.signing import KEYS_PER_SCHEME, SCHEMES, SIGNING_MODES, SigningKey
from gateway.admin.audit import audited
from gateway.admin.context import AdminContext
from gateway.admin.errors import Invalid, NotFound
from gateway.admin.roles import require
from gateway.admin.workspaces import load, save

# What an imported secret may be: imgix's tokens are short alphanumerics; allow any printable ASCII.
_IMPORTED = re.compile(r"[!-~]{16,256}")
_IMGIX_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class SigningKeyView:
    key_id: str
    scheme: str
    created_at: float


@dataclass(frozen=True, slots=True)
class SigningView:
    mode: str
    keys: tuple[SigningKeyView, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "keys": [dataclasses.asdict(key) for key in self.keys]}


@dataclass(frozen=True, slots=True)
class CreatedSecret:
    """The one answer that holds a secret in clear."""

    secret: str = dataclasses.field(repr=False)
    key: SigningKeyView
    retired: str | None  # the key id rotated out, if the scheme had two already


def _view(mode: str, keys: tuple[SigningKey, ...]) -> SigningView:
    return SigningView(mode, tuple(SigningKeyView(key.key_id, key.scheme, key.created_at) for key in keys))


async def show_signing(ctx: AdminContext, namespace: str) -> SigningView:
    workspace = await load(ctx, namespace)
    return _view(workspace.signing, workspace.signing_keys)


@audited("signing.mode")
async def set_signing(ctx: AdminContext, namespace: str, mode: str) -> SigningView:
    require(ctx, namespace, "edit")
    if mode not in SIGNING_MODES:
        raise Invalid(f"signing: must be one of {', '.join(SIGNING_MODES)}", "mode")
    workspace = await load(ctx, namespace)
    if mode == "required" and not workspace.signing_keys:
        raise Invalid("signing: create a signing secret before requiring signed URLs", "mode")
    saved = await save(ctx, dataclasses.replace(workspace, signing=mode))
    return _view(saved.signing, saved.signing_keys)


@audited("signing.rotate")
async def rotate_secret(ctx: AdminContext, namespace: str, scheme: str, imported: str | None = None) -> CreatedSecret:
    """A new active secret for ``scheme`` (generated, or ``imported``); the scheme's oldest is retired when it
    has two already."""
    require(ctx, namespace, "edit")
    if scheme not in SCHEMES:
        raise Invalid(f"scheme: must be one of {', '.join(SCHEMES)}", "scheme")
    if imported is not None and not _IMPORTED.fullmatch(imported):
        raise Invalid("secret: 16-256 printable ASCII characters without spaces", "secret")
    secret = imported if imported is not None else _generate(scheme)
    workspace = await load(ctx, namespace)
    taken = {key.key_id for key in workspace.signing_keys}
    key_id = secrets.token_hex(4)
    while key_id in taken:
        key_id = secrets.token_hex(4)
    key = SigningKey(key_id, scheme, ctx.secrets.seal(secret), time.time())
    same = [old for old in workspace.signing_keys if old.scheme == scheme]
    retired = min(same, key=lambda old: old.created_at).key_id if len(same) >= KEYS_PER_SCHEME else None
    kept = tuple(old for old in workspace.signing_keys if old.key_id != retired)
    await save(ctx, dataclasses.replace(workspace, signing_keys=(*kept, key)))
    return CreatedSecret(secret, SigningKeyView(key.key_id, key.scheme, key.created_at), retired)


@audited("signing.remove")
async def remove_secret(ctx: AdminContext, namespace: str, key_id: str) -> SigningView:
    require(ctx, namespace, "edit")
    workspace = await load(ctx, namespace)
    kept = tuple(key for key in workspace.signing_keys if key.key_id != key_id)
    if len(kept) == len(workspace.signing_keys):
        raise NotFound("no signing secret with that id")
    if workspace.signing == "required" and not kept:
        raise Invalid("signing: the last secret of a workspace that requires signed URLs cannot be removed")
    saved = await save(ctx, dataclasses.replace(workspace, signing_keys=kept))
    return _view(saved.signing, saved.signing_keys)


def _generate(scheme: str) -> str:
    if scheme == "imgix":
        # imgix's tokens are 16 alphanumerics; 32 keeps the look with twice the entropy (190 bits).
        return "".join(secrets.choice(_IMGIX_ALPHABET) for _ in range(32))
    return secrets.token_urlsafe(32)
