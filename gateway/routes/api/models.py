"""The management API's request and response bodies, as pydantic v2 models.

The handlers validate with these models and the OpenAPI document is generated from them, so the document
cannot describe a body the handlers do not take. Request bodies refuse unknown fields and are strict (a string
where a number belongs is an error, never coerced); what the values mean is checked by the admin layer, the
same checks the ``imgate`` command gets. Integers that reach the account store are bounded here, because a
number beyond 64 bits is no value any setting can have.

Query strings are text by nature, so query models coerce (``?limit=50``) but still refuse unknown names.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

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


class BillingOut(ResponseBody):
    status: str = Field(description='The subscription\'s status as Stripe reports it; "" = never subscribed.')
    plan: str
    current_period_end: float = Field(description="End of the period paid for; 0 without a subscription.")


class WorkspaceOut(ResponseBody):
    namespace: str
    active: bool
    plan: str
    origin: dict[str, str] = Field(description='The origin\'s "kind" and its settings, never a secret.')
    origin_secret_set: bool = Field(description="Whether the origin's secret access key is set (it is write-only).")
    allowed_origins: list[str]
    allowed_sources: list[str]
    allowed_capture_domains: list[str]
    capture_retention: int = Field(description="Seconds a capture's output is kept; 0 = deliver and keep nothing.")
    ip_allowlist: list[str] = Field(description="CIDR networks the management API accepts calls from; empty = any.")
    limits: LimitsOut
    billing: BillingOut
    created_at: float
    revision: int = Field(description="Pass it back with a change to have a stale change refused (409).")


class WorkspacePatch(RequestBody):
    """Settings to change; a field left out (or null) keeps its value."""

    revision: int | None = _REVISION
    allowed_origins: list[str] | None = Field(default=None, description="CORS origins: `*`, exact, `https://*.x`.")
    allowed_sources: list[str] | None = Field(default=None, description="Hosts and prefixes `?src=` may fetch.")
    allowed_capture_domains: list[str] | None = Field(default=None, description="Hosts `?capture=` may shoot.")
    capture_retention: int | None = Field(default=None, ge=0, le=10 * YEAR)
    ip_allowlist: list[str] | None = Field(
        default=None, description="CIDR networks; plans with IP allowlisting only. Empty list = any address."
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
    first: date | None = Field(default=None, description="First UTC day (YYYY-MM-DD); default 29 days before last.")
    last: date | None = Field(default=None, description="Last UTC day, included; default today.")


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
    """Everything stored about the workspace, without secrets: settings, marks (uploads as base64), rules,
    members, key metadata, usage and audit."""


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
