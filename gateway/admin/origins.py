"""A workspace's origin: changes validated when saved, and the view of it an operator may see.

Origin kinds as the operator names them: ``none``, ``local`` (a folder), ``http`` (a URL prefix), ``s3`` (AWS S3
or any S3-compatible store, MinIO included) and ``r2`` (Cloudflare R2: stored as an ``s3`` origin with
``provider = r2`` and region ``auto``). Changing the kind replaces the origin's settings; changing fields of the
same kind merges them into the stored ones, and an empty string clears an optional field.

URLs (an HTTP prefix, a bucket endpoint) go through the one strict URL parser the request path uses for
``?src=`` (``gateway.policy.parse_source_url``): no credentials, backslashes, fragments, odd hosts or encoded
separators, and no query, since keys are appended to the path. What is stored is the parser's normal form.

The bucket's secret access key arrives separately (never on a command line), is sealed with the gateway's key
before it is stored, and never leaves here: the view says only whether one is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.admin.errors import Invalid
from gateway.policy import InvalidSourceURL, SourceURL, parse_source_url

ORIGIN_CHOICES = ("none", "local", "http", "s3", "r2")
ADDRESSING_STYLES = ("auto", "path", "virtual")
R2_PROVIDER = "r2"

# Operator's name -> stored name, for the bucket kinds.
_BUCKET_FIELDS = (
    ("bucket", "bucket"),
    ("prefix", "prefix"),
    ("region", "region"),
    ("endpoint", "endpoint_url"),
    ("addressing_style", "addressing_style"),
    ("access_key_id", "access_key_id"),
)
_FIELDS_OF_KIND = {
    "none": frozenset[str](),
    "local": frozenset({"root"}),
    "http": frozenset({"base_url"}),
    "s3": frozenset(name for name, _ in _BUCKET_FIELDS) | {"secret_access_key"},
}
_FIELDS_OF_KIND["r2"] = _FIELDS_OF_KIND["s3"]


@dataclass(frozen=True, slots=True)
class OriginChanges:
    """What to change in a workspace's origin; ``None`` leaves a field as it is.

    ``kind=None`` keeps the current kind. A new ``access_key_id`` needs its ``secret_access_key``; a secret alone
    replaces the stored one of the stored key id.
    """

    kind: str | None = None
    root: str | None = None
    base_url: str | None = None
    bucket: str | None = None
    prefix: str | None = None
    region: str | None = None
    endpoint: str | None = None
    addressing_style: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)

    def given(self) -> dict[str, str]:
        return {
            f.name: value for f in fields(self) if f.name != "kind" and (value := getattr(self, f.name)) is not None
        }


@dataclass(frozen=True, slots=True)
class ResolvedOrigin:
    kind: str
    origin: Mapping[str, str]
    secret_sealed: str = field(repr=False)


def origin_choice(workspace: Workspace) -> str:
    """The kind as the operator named it (``r2`` for an R2 bucket)."""
    if workspace.origin_kind == "s3" and workspace.origin.get("provider") == R2_PROVIDER:
        return R2_PROVIDER
    return workspace.origin_kind


def resolve_origin(current: Workspace, changes: OriginChanges, secrets: SecretBox) -> ResolvedOrigin:
    """The origin settings ``current`` has after ``changes``, validated, or ``Invalid`` naming the field."""
    now = origin_choice(current)
    kind = changes.kind or now
    if kind not in ORIGIN_CHOICES:
        raise Invalid(f"origin: must be one of {', '.join(ORIGIN_CHOICES)}", "origin")
    given = changes.given()
    stray = sorted(set(given) - _FIELDS_OF_KIND[kind])
    if stray:
        raise Invalid(f"{stray[0]}: does not apply to origins of kind {kind}", stray[0])
    same = kind == now
    if kind == "none":
        return ResolvedOrigin("none", {}, "")
    if kind == "local":
        root = given.get("root") or (current.origin.get("root", "") if same else "")
        return ResolvedOrigin("local", {"root": _root(root)}, "")
    if kind == "http":
        base = given.get("base_url") or (current.origin.get("base_url", "") if same else "")
        return ResolvedOrigin("http", {"base_url": _base_url(base)}, "")
    return _bucket(current, kind, same, given, secrets)


def _root(root: str) -> str:
    if not root:
        raise Invalid("root: required for a local origin", "root")
    folder = Path(root).resolve()
    if not folder.is_dir():
        raise Invalid(f"root: {folder} is not a folder", "root")
    return str(folder)


def strict_url(raw: str, name: str) -> SourceURL:
    """``raw`` parsed by the strict parser, refusing a query too (keys are appended to the path)."""
    try:
        url = parse_source_url(raw)
    except InvalidSourceURL as exc:
        raise Invalid(f"{name}: {exc}", name) from None
    if url.query or "?" in raw:
        raise Invalid(f"{name}: must not have a query", name)
    return url


def _base_url(raw: str) -> str:
    if not raw:
        raise Invalid("base_url: required for an http origin", "base_url")
    from gateway.sources.http import normalise_prefix  # imported when needed: it brings the HTTP client

    url = strict_url(raw, "base_url").url
    try:
        # The source's own check as well, so that what is saved is exactly what the source will accept.
        return normalise_prefix(url)
    except ValueError as exc:
        raise Invalid(f"base_url: {exc}", "base_url") from None


def _bucket(current: Workspace, kind: str, same: bool, given: Mapping[str, str], secrets: SecretBox) -> ResolvedOrigin:
    origin = dict(current.origin) if same else {}
    for name, stored in _BUCKET_FIELDS:
        value = given.get(name)
        if value is None:
            continue
        if value:
            origin[stored] = value
        else:
            origin.pop(stored, None)
    if "endpoint_url" in origin:
        endpoint = strict_url(origin["endpoint_url"], "endpoint")
        if endpoint.path != "/":
            raise Invalid("endpoint: must be scheme://host[:port], without a path", "endpoint")
        origin["endpoint_url"] = endpoint.url.removesuffix("/")
    if kind == R2_PROVIDER:
        origin["provider"] = R2_PROVIDER
        origin.setdefault("region", "auto")
        if "endpoint_url" not in origin:
            raise Invalid(
                "endpoint: required for an r2 origin: https://<account-id>.r2.cloudflarestorage.com", "endpoint"
            )
    else:
        origin.pop("provider", None)
    if origin.get("addressing_style", "auto") not in ADDRESSING_STYLES:
        raise Invalid(f"addressing_style: must be one of {', '.join(ADDRESSING_STYLES)}", "addressing_style")
    sealed = _sealed_secret(current, same, origin, given, secrets)
    from gateway.sources.s3 import S3OriginSettings  # imported when needed: it brings the S3 client

    try:
        # Shape check only: the real secret is sealed already and never passes through here.
        bucket = S3OriginSettings.from_origin(origin, "placeholder" if origin.get("access_key_id") else None)
    except ValueError as exc:
        stored_name = str(exc).split(":", 1)[0]
        raise Invalid(str(exc), {stored: name for name, stored in _BUCKET_FIELDS}.get(stored_name)) from None
    if bucket.prefix:
        origin["prefix"] = bucket.prefix  # stored as the source reads it: a folder, "products/"
    else:
        origin.pop("prefix", None)
    return ResolvedOrigin("s3", origin, sealed)


def _sealed_secret(
    current: Workspace, same: bool, origin: Mapping[str, str], given: Mapping[str, str], secrets: SecretBox
) -> str:
    secret = given.get("secret_access_key")
    if not origin.get("access_key_id"):
        if secret:
            raise Invalid("secret_access_key: needs an access_key_id", "secret_access_key")
        return ""
    if given.get("access_key_id") and not secret:
        raise Invalid("secret_access_key: required with a new access_key_id", "secret_access_key")
    if secret:
        return secrets.seal(secret)
    if same and current.origin_secret_sealed:
        return current.origin_secret_sealed
    raise Invalid("secret_access_key: required with an access_key_id", "secret_access_key")


def origin_view(workspace: Workspace) -> dict[str, str]:
    """The origin as an operator sees it: never a secret, and no URL the strict parser would refuse.

    Records saved before URLs were checked this strictly may hold one with credentials in it: such a URL is
    shown as a note asking to save it again, never as it is.
    """
    view = {"kind": origin_choice(workspace)}
    for name, value in workspace.origin.items():
        if name == "provider":
            continue
        if name in ("base_url", "endpoint_url"):
            try:
                strict_url(value, name)
            except Invalid:
                value = "(not shown: not a valid URL; set it again)"
        view[name] = value
    return view
