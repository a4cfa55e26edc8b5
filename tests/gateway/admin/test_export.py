"""Export of everything stored about a workspace, and deletion with a signed receipt."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
from datetime import date
from typing import Any

import pytest
from cryptography.fernet import Fernet

from gateway import admin
from gateway.accounts.capture_jobs import CaptureJob, JobResult
from gateway.accounts.domains import Domain
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.plans import PlanOverrides
from gateway.accounts.secrets import SecretBox
from gateway.accounts.tokens import TokenSigner
from gateway.accounts.usage import UsageCounts
from gateway.admin import AdminContext, MarkChanges, NotFound, OriginChanges, WorkspaceChanges
from gateway.admin.presets import put_preset
from gateway.admin.receipts import receipt_is_genuine, sign_receipt
from gateway.admin.signing import rotate_secret
from gateway.cache.keys import cache_key
from gateway.cache.results import CachedResult
from tests.gateway.admin.conftest import png

pytestmark = pytest.mark.anyio

SECRET = "planted-s3-secret-0123456789"
COOKIE = "planted-capture-cookie-0123456789"
WEBHOOK_SECRET = "planted-webhook-secret-0123456789"
# Two days a year and more apart: one ranged usage read (366 days at most) could not hold both.
OLD_DAY, NEW_DAY = date(2025, 1, 5), date(2026, 3, 14)


def job(namespace: str, n: int, created_at: float, spec: str = "{}", **fields: Any) -> CaptureJob:
    return CaptureJob(
        f"cap_{n:024x}", namespace, f"https://{namespace}.example.com/page-{n}", spec, created_at, **fields
    )


@pytest.fixture
async def filled(ctx: AdminContext) -> dict[str, Any]:
    """A workspace with something of every kind, and what was put in."""
    await admin.create_workspace(
        ctx,
        "acme",
        WorkspaceChanges(
            plan="business",
            origin=OriginChanges(kind="s3", bucket="photos", access_key_id="AKIAEXAMPLE", secret_access_key=SECRET),
            ip_allowlist=("192.0.2.0/24",),
        ),
    )
    await admin.create_workspace(ctx, "other")
    upload = png(30, 10)
    await admin.create_mark(ctx, "acme", "upload", MarkChanges(image_data=upload, alpha="60"))
    await admin.create_mark(ctx, "acme", "credit", MarkChanges(text="© Acme"))
    await admin.add_rule(ctx, "acme", "credit", ("premium/**",))
    await admin.add_member(ctx, "acme", "owner@example.com", "owner")
    key = await admin.create_key(ctx, "acme", "Production", "write")
    await admin.authenticate_key(ctx, key.secret)
    await admin.set_limit_overrides(ctx, "acme", PlanOverrides(custom_domains=3))
    await admin.bind_stripe_customer(ctx, "acme", "cus_Acme123")
    await admin.purge(ctx, "acme", "products/")
    await admin.create_key(ctx, "other", "Theirs")
    await put_preset(ctx, "acme", "thumb", "w=200&h=200&fit=crop")
    signing = await rotate_secret(ctx, "acme", "imgate")
    store = ctx.store
    store.domains.add(Domain("img.acme.example", "acme", token="acme-token"), 3)
    store.usage.add("acme", OLD_DAY, UsageCounts(requests=7, renders=2, bytes_out=900, errors={"NOT_FOUND": 1}))
    store.usage.add("acme", NEW_DAY, UsageCounts(requests=3, hits_memory=3))
    store.usage.add("other", NEW_DAY, UsageCounts(requests=987_654_321))
    now = time.time()
    queue = {"max_queued_workspace": 1000, "max_queued_total": 1000}
    sealed = ctx.secrets.seal(json.dumps({"cookies": [{"name": "session", "value": COOKIE}]}))
    spec = json.dumps({"format": "png", "full_page": True})
    store.capture_jobs.add(job("acme", 1, now - 10, spec=spec, auth_sealed=sealed), **queue)
    result = JobResult("acme/_jobs/cap_1", "png", "image/png", 1234, 800, 600, now + 3600)
    finished = job("acme", 2, now - 20, status="completed", attempts=1, worker="w1", result=result, finished_at=now)
    store.capture_jobs.add(finished, **queue)
    for n in range(3, 3 + 501):  # more than one page of the job store's listing
        store.capture_jobs.add(job("acme", n, now - 100 - n), **queue)
    store.capture_jobs.add(job("other", 9999, now), **queue)
    store.capture_jobs.set_webhook_secret("acme", ctx.secrets.seal(WEBHOOK_SECRET), now)
    for namespace in ("acme", "other"):
        entry = CachedResult(data=b"img", content_type="image/png", created_at=now, expires_at=now + 600)
        await ctx.results.put(cache_key(namespace, "o", "a.jpg", "id:a", "w=10"), entry)
    return {
        "upload": upload,
        "secret": key.secret,
        "prefix": key.key.prefix,
        "sealed": sealed,
        "signing_secret": signing.secret,
        "signing_key_id": signing.key.key_id,
    }


async def test_the_export_holds_everything_stored(ctx: AdminContext, filled: dict[str, Any]) -> None:
    document = await admin.export_workspace(ctx, "acme")
    text = json.dumps(document)  # JSON-ready
    assert document["kind"] == "imgate.workspace-export" and document["version"] == 1
    workspace = document["workspace"]
    assert workspace["namespace"] == "acme" and workspace["plan"] == "business"
    assert workspace["origin"] == {"kind": "s3", "bucket": "photos", "access_key_id": "AKIAEXAMPLE"}
    assert workspace["origin_secret_set"] is True and workspace["ip_allowlist"] == ["192.0.2.0/24"]
    assert workspace["limit_overrides"] == {"custom_domains": 3}
    assert document["billing"]["stripe_customer_id"] == "cus_Acme123"
    assert [marker["prefix"] for marker in document["purges"]] == ["products/"]
    marks = {mark["name"]: mark for mark in document["marks"]}
    assert base64.b64decode(marks["upload"]["image_data_base64"]) == filled["upload"]
    assert marks["upload"]["alpha"] == 60 and marks["credit"]["text"] == "© Acme"
    assert marks["credit"]["image_data_base64"] == ""
    assert [(rule["preset"], rule["key_patterns"]) for rule in document["rules"]] == [("credit", ["premium/**"])]
    assert [(m["email"], m["role"]) for m in document["members"]] == [("owner@example.com", "owner")]
    assert [(k["prefix"], k["name"], k["scope"]) for k in document["keys"]] == [
        (filled["prefix"], "Production", "write")
    ]
    assert [(use["prefix"], use["requests"]) for use in document["key_usage"]] == [(filled["prefix"], 1)]
    operations = [row["operation"] for row in document["audit"]]
    assert "key.create" in operations and "workspace.create" in operations and "workspace.purge" in operations
    assert [(d["hostname"], d["token"]) for d in document["domains"]] == [("img.acme.example", "acme-token")]
    assert document["usage"] == [
        {
            "day": "2025-01-05",
            "requests": 7,
            "hits_memory": 0,
            "hits_store": 0,
            "renders": 2,
            "captures": 0,
            "bytes_out": 900,
            "not_modified": 0,
            "errors": {"NOT_FOUND": 1},
        },
        {
            "day": "2026-03-14",
            "requests": 3,
            "hits_memory": 3,
            "hits_store": 0,
            "renders": 0,
            "captures": 0,
            "bytes_out": 0,
            "not_modified": 0,
            "errors": {},
        },
    ]
    jobs = {job["job_id"]: job for job in document["capture_jobs"]}
    assert len(jobs) == 503 and all(job_id.startswith("cap_") for job_id in jobs)
    queued, completed = jobs[f"cap_{1:024x}"], jobs[f"cap_{2:024x}"]
    assert (queued["url"], queued["status"], queued["spec"]) == (
        "https://acme.example.com/page-1",
        "queued",
        {"format": "png", "full_page": True},
    )
    assert completed["status"] == "completed" and completed["result"] == {
        "format": "png",
        "content_type": "image/png",
        "bytes": 1234,
        "width": 800,
        "height": 600,
        "expires_at": completed["result"]["expires_at"],
    }
    assert {"auth_sealed", "worker", "lease_until"}.isdisjoint(completed) and "key" not in completed["result"]
    assert document["capture_webhook_secret_set"] is True
    assert [p["name"] for p in document["url_shaping"]["presets"]] == ["thumb"]
    assert document["signing"]["keys"][0]["key_id"] == filled["signing_key_id"]
    assert document["custom_domain_hsts"] is False
    # Never a secret: not the bucket's, not the key's or its digest, not the sealed form; nothing of another workspace.
    assert SECRET not in text and filled["secret"] not in text and "sha256" not in text
    for secret in (COOKIE, WEBHOOK_SECRET, filled["sealed"], filled["signing_secret"], "secret_sealed"):
        assert secret not in text
    assert "Theirs" not in text and "987654321" not in text and "other.example.com" not in text


async def test_exporting_is_audited(ctx: AdminContext, store: MemoryAccountStore, filled: dict[str, Any]) -> None:
    await admin.export_workspace(ctx.acting_as("user:owner@example.com"), "acme")
    row = store.list_audit("acme").entries[0]
    assert (row.actor, row.operation, row.status) == ("user:owner@example.com", "workspace.export", 200)
    with pytest.raises(NotFound):
        await admin.export_workspace(ctx, "ghost")


async def test_deletion_removes_everything_and_signs_a_receipt(
    ctx: AdminContext, store: MemoryAccountStore, filled: dict[str, Any]
) -> None:
    audit_rows = len((await admin.export_workspace(ctx, "acme"))["audit"]) + 1  # the export's own row
    receipt = await admin.delete_workspace_with_receipt(ctx, "acme")
    assert receipt.namespace == "acme" and abs(receipt.deleted_at - time.time()) < 5
    assert dict(receipt.removed) == {
        "marks": 2,
        "rules": 1,
        "members": 1,
        "api_keys": 1,
        "key_usage_days": 1,
        "audit_rows": audit_rows,
        "domains": 1,
        "usage_days": 2,
        "capture_jobs": 503,
        "stored_outputs": 1,
    }
    assert store.usage.all_days("acme") == [] and store.domains.in_workspace("acme") == []
    assert store.capture_jobs.list_jobs("acme", limit=10) == [] and store.capture_jobs.webhook_secret("acme") is None
    assert [u.requests for u in store.usage.all_days("other")] == [987_654_321]
    assert store.get_workspace("acme") is None and store.list_marks("acme") == []
    assert store.list_api_keys("acme") == [] and store.list_members("acme") == []
    assert store.list_audit("acme").entries == ()
    assert await admin.authenticate_key(ctx, filled["secret"]) is None
    assert await ctx.results.get(cache_key("acme", "o", "a.jpg", "id:a", "w=10")) is None
    assert await ctx.results.get(cache_key("other", "o", "a.jpg", "id:a", "w=10")) is not None
    assert [k.name for k in store.list_api_keys("other")] == ["Theirs"]
    assert [row.operation for row in store.list_audit("").entries] == ["workspace.delete"]
    shown = receipt.as_dict()
    json.dumps(shown)
    assert await admin.verify_receipt(ctx, shown)
    assert await admin.verify_receipt(ctx, json.loads(json.dumps(shown)))  # as read back from a file
    with pytest.raises(NotFound):
        await admin.delete_workspace_with_receipt(ctx, "acme")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r.update(namespace="other"),
        lambda r: r.update(deleted_at=r["deleted_at"] + 1),
        lambda r: r["removed"].update(stored_outputs=0),
        lambda r: r["removed"].update(extra=1),
        lambda r: r.update(note="added"),
        lambda r: r.pop("version"),
        lambda r: r.update(kind="something-else"),
        lambda r: r.update(signature=r["signature"][:-1] + ("0" if r["signature"][-1] != "0" else "1")),
        lambda r: r.update(signature=""),
        lambda r: r.pop("signature"),
        lambda r: r.update(signature=None),
        lambda r: r.update(removed={1, 2}),
        lambda r: r.update(deleted_at=float("nan")),
    ],
)
async def test_a_tampered_receipt_is_refused(ctx: AdminContext, filled: dict[str, Any], tamper: Any) -> None:
    receipt = (await admin.delete_workspace_with_receipt(ctx, "acme")).as_dict()
    changed = copy.deepcopy(receipt)
    tamper(changed)
    assert not await admin.verify_receipt(ctx, changed)
    assert await admin.verify_receipt(ctx, receipt)


async def test_only_the_same_gateway_key_verifies(ctx: AdminContext, filled: dict[str, Any]) -> None:
    receipt = (await admin.delete_workspace_with_receipt(ctx, "acme")).as_dict()
    box = SecretBox(Fernet.generate_key())
    elsewhere = AdminContext(ctx.store, ctx.settings, box, TokenSigner(box), ctx.results, ctx.sources, ctx.guard)
    assert not await admin.verify_receipt(elsewhere, receipt)
    for junk in ({}, {"kind": "imgate.deletion-receipt"}, "receipt", None, [receipt]):
        assert not await admin.verify_receipt(ctx, junk)  # type: ignore[arg-type]


async def test_the_receipt_key_is_derived_not_the_fernet_key(ctx: AdminContext, filled: dict[str, Any]) -> None:
    """The signature is made with a key of its own: nothing signed can stand in for a sealed credential."""
    key = ctx.secrets.derive_key("imgate deletion receipts v1")
    assert key != ctx.secrets.derive_key("another purpose") and len(key) == 32
    receipt = await admin.delete_workspace_with_receipt(ctx, "acme")
    canonical = json.dumps(receipt.payload(), sort_keys=True, separators=(",", ":")).encode()
    assert receipt.signature == hmac.new(key, canonical, hashlib.sha256).hexdigest()
    fernet_key = ctx.secrets._key  # the raw key material, read here only to show it is not what signs
    assert receipt.signature != hmac.new(fernet_key, canonical, hashlib.sha256).hexdigest()


# A receipt as the gateway signed it before ``TokenSigner`` (key, fields and signature computed then), as its
# holder keeps it in a file: it must keep verifying, and signing the same fields must give the same signature.
PINNED_KEY = base64.urlsafe_b64encode(b"imgate-tokens-test-key-32-bytes!")
PINNED_RECEIPT = {
    "kind": "imgate.deletion-receipt",
    "version": 1,
    "algorithm": "HMAC-SHA256",
    "namespace": "acme",
    "deleted_at": 1700000000.5,
    "removed": {"marks": 2, "api_keys": 1, "stored_outputs": 0},
    "signature": "5fef452030ee5b4761110f96254bef00d8b780d20dc5c90aed6cb2cdfdc7eab8",
}


def test_a_receipt_signed_before_still_verifies_and_signs_the_same() -> None:
    tokens = TokenSigner(SecretBox(PINNED_KEY))
    assert receipt_is_genuine(tokens, PINNED_RECEIPT)
    assert receipt_is_genuine(tokens, json.loads(json.dumps(PINNED_RECEIPT)))
    again = sign_receipt(tokens, "acme", 1700000000.5, {"marks": 2, "api_keys": 1, "stored_outputs": 0})
    assert again.as_dict() == PINNED_RECEIPT
    assert not receipt_is_genuine(tokens, {**PINNED_RECEIPT, "deleted_at": 1700000000.25})
    assert not receipt_is_genuine(TokenSigner(SecretBox(Fernet.generate_key())), PINNED_RECEIPT)
    assert not receipt_is_genuine(tokens, {**PINNED_RECEIPT, "signature": "é" * 64})
