"""The management API's request and response bodies, as pydantic v2 models.

The handlers validate with these models and the OpenAPI document is generated from them, so the document
cannot describe a body the handlers do not take. Request bodies refuse unknown fields and are strict (a string
where a number belongs is an error, never coerced); what the values mean is checked by the admin layer, the
same checks the ``imgate`` command gets. Integers that reach the account store are bounded here, because a
number beyond 64 bits is no value any setting can have.

Query strings are text by nature, so query models coerce (``?limit=50``) but still refuse unknown names.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel

from gateway.cache.freshness import YEAR

_REVISION = Field(
    default=None,
    ge=0,
    le=2**62,
    description="The workspace revision this change is based on (from the last read); a stale one is 409 CONFLICT.",
)


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class QueryString(BaseModel):
    model_config = ConfigDict(extra="forbid")


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _written_as_a_day(value: Any) -> Any:
    # Lax pydantic reads "0" or "1.5" as a Unix time; a day in a query string is written YYYY-MM-DD only.
    if isinstance(value, str) and not _DAY.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


# A UTC calendar day in a query string.
QueryDay = Annotated[date, BeforeValidator(_written_as_a_day)]


class ResponseBody(BaseModel):
    # A field the admin layer's view gains is left out until a model here shows it: never shown by accident.
    model_config = ConfigDict(extra="ignore")


# Errors ---------------------------------------------------------------------------------------------------


class ErrorDetail(ResponseBody):
    code: str = Field(description="Stable: branch on it.")
    message: str = Field(description="For people; names the field or parameter at fault. Never holds a secret.")


class ErrorBody(ResponseBody):
    error: ErrorDetail


# Workspace ------------------------------------------------------------------------------------------------


class LimitsOut(ResponseBody):
    """What the workspace may do: its plan's limits with the operator's overrides applied."""

    requests_per_second: int
    burst: int
    renders_per_month: int
    captures_per_month: int
    bytes_out_per_month: int
    custom_domains: int
    capture_retention_options: list[int] = Field(description="The values `capture_retention` may take.")
    ip_allowlisting: bool
    signed_webhooks: bool
    dedicated_browsers: int = Field(default=0, description="Browsers of its own capture pool; 0: the shared pool.")


class BillingOut(ResponseBody):
    status: str = Field(description='The subscription\'s status as Stripe reports it; "" = never subscribed.')
    plan: str
    current_period_end: float = Field(description="End of the period paid for; 0 without a subscription.")


class CaptureDomainOut(ResponseBody):
    pattern: str = Field(description="A host pattern `?capture=` pages are matched against (`*.example.com`).")
    enabled: bool = Field(description="Disabled: no new capture is taken; captures already rendered are served.")


class CaptureDomainIn(RequestBody):
    pattern: str = Field(description="Host, `*.domain`, optionally a scheme, port or path prefix.")
    enabled: bool = Field(default=True, description="false: new captures refused (403 CAPTURE_DOMAIN_DISABLED).")


class WorkspaceOut(ResponseBody):
    namespace: str
    active: bool
    plan: str
    origin: dict[str, str] = Field(description='The origin\'s "kind" and its settings, never a secret.')
    origin_secret_set: bool = Field(description="Whether the origin's secret access key is set (it is write-only).")
    allowed_origins: list[str]
    allowed_sources: list[str]
    allowed_capture_domains: list[str] = Field(description="Every capture domain's pattern, enabled or not.")
    capture_domains: list[CaptureDomainOut] = Field(description="The capture domains, each with its switch.")
    capture_retention: int = Field(description="Seconds a capture's output is kept; 0 = deliver and keep nothing.")
    capture_retention_in_force: int = Field(
        description="`capture_retention` capped by the longest option of the current plan: what the gateway uses."
    )
    ip_allowlist: list[str] = Field(description="CIDR networks the management API accepts calls from; empty = any.")
    limits: LimitsOut
    billing: BillingOut
    created_at: float
    revision: int = Field(description="Pass it back with a change to have a stale change refused (409).")
    imgix_compat: Literal["strict", "lenient"] = Field(
        description="imgix parameters imgate does not implement: refused (strict), or left out and named in "
        "X-Imgate-Ignored (lenient)."
    )
    signing: Literal["off", "required"] = Field(
        default="off", description="required: only signed image URLs are answered (see `/signing`)."
    )
    keep_copyright: bool = Field(
        default=False, description="Outputs keep the source's copyright and artist (EXIF, IPTC, XMP), nothing else."
    )
    fallback_image: str = Field(
        default="", description="A key on the origin answered (with the error's status) instead of a JSON error."
    )
    capture_jobs_allow_http: bool = Field(
        default=False,
        description="Capture jobs may take http:// pages and webhooks, if the gateway allows it too; turned off, "
        "queued http:// jobs fail with HTTP_NOT_ALLOWED and http:// webhooks not sent yet are dropped.",
    )


class WorkspacePatch(RequestBody):
    """Settings to change; a field left out (or null) keeps its value."""

    revision: int | None = _REVISION
    allowed_origins: list[str] | None = Field(default=None, description="CORS origins: `*`, exact, `https://*.x`.")
    allowed_sources: list[str] | None = Field(default=None, description="Hosts and prefixes `?src=` may fetch.")
    allowed_capture_domains: list[str] | None = Field(
        default=None, description="Hosts `?capture=` may shoot; patterns kept keep their switch, new ones are enabled."
    )
    capture_domains: list[CaptureDomainIn] | None = Field(
        default=None,
        description="Every capture domain with its switch (replaces the list; not with `allowed_capture_domains`).",
    )
    capture_retention: int | None = Field(default=None, ge=0, le=10 * YEAR)
    ip_allowlist: list[str] | None = Field(
        default=None, description="CIDR networks; plans with IP allowlisting only. Empty list = any address."
    )
    imgix_compat: Literal["strict", "lenient"] | None = Field(
        default=None, description="imgix migration mode: `lenient` renders URLs carrying imgix parameters imgate lacks."
    )
    keep_copyright: bool | None = Field(
        default=None, description="true: outputs keep the source's copyright and artist; all other metadata stripped."
    )
    fallback_image: str | None = Field(
        default=None,
        max_length=1024,
        description="A key on the workspace's origin answered instead of a JSON error on image routes "
        "(not for 400, 403 or 429); empty string = off.",
    )
    capture_jobs_allow_http: bool | None = Field(
        default=None,
        description="true: capture jobs may take http:// pages and webhooks (only where the gateway allows it); "
        "false also stops queued http:// jobs (HTTP_NOT_ALLOWED) and http:// webhooks not sent yet.",
    )


class OriginPatch(RequestBody):
    """The workspace's origin. A new ``kind`` replaces the origin's settings; the same kind merges them, and an
    empty string clears an optional field. Local folders are set by the operator only."""

    revision: int | None = _REVISION
    kind: Literal["none", "http", "s3", "r2"] | None = None
    base_url: str | None = Field(default=None, description="http: the URL prefix keys are appended to.")
    bucket: str | None = None
    prefix: str | None = Field(default=None, description="s3, r2: a folder in the bucket, such as `products/`.")
    region: str | None = None
    endpoint: str | None = Field(default=None, description="s3-compatible stores and r2: `https://host[:port]`.")
    addressing_style: Literal["auto", "path", "virtual"] | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = Field(
        default=None,
        description="Write-only: sealed when stored, never shown again.",
        json_schema_extra={"writeOnly": True},
    )


# Marks ----------------------------------------------------------------------------------------------------


class _MarkFields(RequestBody):
    image_key: str | None = Field(default=None, description="A key in the workspace's origin.")
    image_base64: str | None = Field(
        default=None, description="An uploaded image (PNG, JPEG, WebP …), base64; at most 2 MiB decoded."
    )
    text: str | None = Field(default=None, description="A text mark: one line, at most 200 characters.")
    font: str | None = None
    font_size: int | None = Field(default=None, ge=1, le=400)
    color: str | None = Field(default=None, description="Hex RGB, ARGB, RRGGBB or AARRGGBB.")
    background: str | None = Field(default=None, description="Behind a text mark; empty string = none.")
    align: str | None = Field(default=None, description="`top|middle|bottom` and/or `left|center|right`.")
    alpha: int | None = Field(default=None, ge=0, le=100, description="Opacity in percent.")
    scale: float | None = Field(default=None, gt=0, le=100, description="Percent of the output width.")
    pad: int | None = Field(default=None, ge=0, le=4096)
    w: int | None = Field(default=None, ge=1, le=8192)
    h: int | None = Field(default=None, ge=1, le=8192)
    tile: bool | None = None


class MarkCreate(_MarkFields):
    """A new preset: exactly one of ``image_key``, ``image_base64`` and ``text``."""

    name: str = Field(description="1-63 characters of a-z, 0-9, `-` and `_`; `none` is reserved.")


class MarkPatch(_MarkFields):
    """Fields to change; giving one of ``image_key``, ``image_base64`` or ``text`` replaces the content."""


class MarkOut(ResponseBody):
    name: str
    kind: Literal["image", "text"]
    image_key: str
    uploaded_bytes: int = Field(description="Size of an uploaded image; 0 for a key in the origin or a text.")
    text: str
    font: str
    font_size: int
    color: str
    background: str
    align: str
    alpha: int
    scale: float | None = Field(description="Percent of the output width.")
    pad: int
    w: int | None
    h: int | None
    tile: bool
    updated_at: float


class MarkList(ResponseBody):
    marks: list[MarkOut]


# Rules ----------------------------------------------------------------------------------------------------


class RuleCreate(RequestBody):
    """Stamp ``preset`` on every output whose source matches a key glob or an external host pattern."""

    preset: str
    key_patterns: list[str] = Field(default_factory=list, description="Globs over origin keys (`premium/**`).")
    src_host_patterns: list[str] = Field(default_factory=list, description="Hosts of `?src=` URLs (`*.x.com`).")
    position: int | None = Field(default=None, ge=1, le=1_000_000, description="1 is tried first; default last.")


class RuleMove(RequestBody):
    position: int = Field(ge=1, le=1_000_000)


class RuleOut(ResponseBody):
    rule_id: int
    position: int
    preset: str
    key_patterns: list[str]
    src_host_patterns: list[str]


class RuleList(ResponseBody):
    rules: list[RuleOut]


# Purge ----------------------------------------------------------------------------------------------------


class PurgeRequest(RequestBody):
    prefix: str = Field(
        default="",
        max_length=2048,
        description="Source-key prefix: an origin key, or a `?src=`/`?capture=` URL as normalised. Empty = all.",
    )


class PurgeOut(ResponseBody):
    prefix: str
    removed: int = Field(description="Stored outputs deleted from the result store.")
    at: float = Field(description="Memory-tier outputs rendered before this time are stale on every node.")


# API keys -------------------------------------------------------------------------------------------------


class KeyCreate(RequestBody):
    name: str = Field(description='A label such as "Production": 1-64 printable characters.')
    scope: Literal["read", "write"] = Field(default="read", description="`write` implies `read`.")


class KeyOut(ResponseBody):
    prefix: str = Field(description="The first 12 characters of the secret: the key's label, not a credential.")
    name: str
    scope: Literal["read", "write"]
    created_at: float
    last_used_at: float | None = Field(description="Updated at most once a minute.")
    revoked_at: float | None


class KeyList(ResponseBody):
    keys: list[KeyOut]


class CreatedKeyOut(ResponseBody):
    secret: str = Field(description="The whole key. Shown in this response only: store it now.")
    key: KeyOut


class CurrentKeyOut(ResponseBody):
    namespace: str = Field(description="The workspace the key belongs to.")
    key: KeyOut


# Members --------------------------------------------------------------------------------------------------


class MemberAdd(RequestBody):
    email: str
    role: Literal["owner", "member"] = "member"


class RoleChange(RequestBody):
    role: Literal["owner", "member"]


class MemberOut(ResponseBody):
    email: str = Field(description="In normal form (lower case, punycode domain).")
    role: Literal["owner", "member"]
    created_at: float = Field(description="When the user first appeared, in any workspace.")
    last_sign_in_at: float | None


class MemberList(ResponseBody):
    members: list[MemberOut]


# Usage and audit ------------------------------------------------------------------------------------------


class UsageQuery(QueryString):
    first: QueryDay | None = Field(default=None, description="First UTC day (YYYY-MM-DD); default 29 days before last.")
    last: QueryDay | None = Field(default=None, description="Last UTC day, included; default today.")


class KeyUsageOut(ResponseBody):
    day: date = Field(description="UTC day.")
    prefix: str = Field(description="The key's prefix.")
    name: str = Field(description="The key's name.")
    requests: int = Field(description="Management API requests the key authenticated that day.")


class UsageOut(ResponseBody):
    usage: list[KeyUsageOut] = Field(description="By day, then key; days on which a key made no call left out.")


class AuditQuery(QueryString):
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=64, description="The `next_cursor` of the previous page.")
    # Checked by the admin layer, so the API refuses a filter with the CLI's own message.
    actor: str | None = Field(
        default=None,
        description="Only rows whose actor contains this text (case-sensitive, at most 254 printable characters), "
        "e.g. `key:imk_live_Ab` or `@example.com`; empty: no filter. Pass the same filters with `cursor`.",
    )
    operation: str | None = Field(
        default=None,
        description="Only rows whose operation contains this text (case-sensitive, at most 254 printable "
        "characters), e.g. `/marks` or `workspace.`; empty: no filter.",
    )


class AuditEntryOut(ResponseBody):
    at: float
    actor: str = Field(description="A user's email, `key:<prefix>`, or `cli`.")
    operation: str = Field(description="A route template or an admin operation name; never a URL.")
    status: int
    latency_ms: float


class AuditPageOut(ResponseBody):
    entries: list[AuditEntryOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next (older) page; null on the last.")


# Export, delete, billing ----------------------------------------------------------------------------------


class ExportOut(RootModel[dict[str, Any]]):
    """Everything stored about the workspace, without secrets: settings, URL shaping and signing (key ids
    only), marks (uploads as base64), rules, members, key metadata and daily use, custom domains, usage
    counters of every stored day, capture jobs (request and outcome, never their auth) and the audit log."""


class ReceiptOut(ResponseBody):
    """Signed proof of the deletion. Keep it as it is: every field is signed, and `imgate receipt verify`
    checks it against the gateway's key."""

    kind: Literal["imgate.deletion-receipt"]
    version: int
    algorithm: Literal["HMAC-SHA256"]
    namespace: str
    deleted_at: float
    removed: dict[str, int] = Field(description="Records removed, by kind (marks, rules, api_keys, stored_outputs …).")
    signature: str = Field(description="HMAC-SHA256 over the other fields' canonical JSON, hex.")


class WebhookOut(ResponseBody):
    result: Literal["applied", "replayed", "ignored"]
