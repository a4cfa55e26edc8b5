"""The management API over real HTTP against a Granian-served gateway: every route, every refusal.

Keys come from ``imgate key create`` on the gateway's own data folder, as an operator makes the first one.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips
from openapi_spec_validator import validate

from gateway.accounts.models import Workspace
from gateway.routes.api import ENDPOINTS
from tests.integration.api_client import API, Api, create_key, error_code
from tests.integration.servers import GatewayProcess, imgate

pytestmark = pytest.mark.integration


def png(width: int = 48, height: int = 24) -> bytes:
    return bytes(pyvips.Image.black(width, height).new_from_image([255, 0, 0]).pngsave_buffer())


class Gateway:
    def __init__(self, process: GatewayProcess, write: str, read: str, rival: str) -> None:
        self.process = process
        self.write_key = write
        self.read_key = read
        self.rival_key = rival
        self.api = Api(process, write)
        self.reader = Api(process, read, header="x-api-key")
        self.rival = Api(process, rival)

    @property
    def data_dir(self) -> Path:
        return self.process.data_dir


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, images_dir: Path) -> Iterator[Gateway]:
    process = GatewayProcess(tmp_path_factory.mktemp("api"))
    process.data_dir.mkdir(parents=True, exist_ok=True)
    for namespace in ("acme", "rival", "bucket", "doomed"):
        process.add_workspace(Workspace(namespace=namespace, origin_kind="local", origin={"root": str(images_dir)}))
    write = create_key(process.data_dir, "acme", "Production", "write")
    read = create_key(process.data_dir, "acme", "Dashboard", "read")
    rival = create_key(process.data_dir, "rival", "Rival", "write")
    with process:
        yield Gateway(process, write, read, rival)


# The document ----------------------------------------------------------------------------------------------


def test_openapi_document_is_served_without_a_key_and_is_valid(gw: Gateway) -> None:
    response = httpx.get(f"{gw.process.url}{API}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    spec = response.json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    served = {(endpoint.method.lower(), endpoint.path) for endpoint in ENDPOINTS}
    documented = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert served <= documented


# The key itself --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_both_header_conventions_authenticate(gw: Gateway, header: str) -> None:
    response = Api(gw.process, gw.write_key, header=header).get("/key")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["namespace"] == "acme"
    assert body["key"]["name"] == "Production" and body["key"]["scope"] == "write"
    assert body["key"]["prefix"] == gw.write_key[:12]
    assert gw.write_key not in response.text


# Workspace -------------------------------------------------------------------------------------------------


def test_workspace_read_and_compare_and_set_update(gw: Gateway) -> None:
    shown = gw.reader.get("/workspaces/acme")
    assert shown.status_code == 200
    workspace = shown.json()
    assert workspace["namespace"] == "acme" and workspace["plan"] == "free"
    assert workspace["limits"]["ip_allowlisting"] is False
    revision = workspace["revision"]

    changed = gw.api.patch(
        "/workspaces/acme",
        {"revision": revision, "allowed_origins": ["https://shop.example.com"], "capture_retention": 3600},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["allowed_origins"] == ["https://shop.example.com"]
    assert changed.json()["capture_retention"] == 3600
    assert changed.json()["revision"] > revision

    stale = gw.api.patch("/workspaces/acme", {"revision": revision, "allowed_origins": ["*"]})
    assert stale.status_code == 409
    assert error_code(stale) == "CONFLICT"
    assert gw.api.get("/workspaces/acme").json()["allowed_origins"] == ["https://shop.example.com"]
    # Back to permissive for the image requests of the other tests.
    assert gw.api.patch("/workspaces/acme", {"allowed_origins": ["*"]}).status_code == 200


def test_a_pattern_the_gateway_could_not_use_is_refused_naming_it(gw: Gateway) -> None:
    response = gw.api.patch("/workspaces/acme", {"allowed_origins": ["https://*"]})
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert "https://*" in response.json()["error"]["message"] or "origin" in response.json()["error"]["message"]


def test_ip_allowlist_needs_a_plan_that_has_it(gw: Gateway) -> None:
    response = gw.api.patch("/workspaces/acme", {"ip_allowlist": ["10.0.0.0/8"]})
    assert response.status_code == 400
    assert "ip_allowlist" in response.json()["error"]["message"]


def test_origin_credentials_are_write_only(gw: Gateway) -> None:
    api = Api(gw.process, create_key(gw.data_dir, "bucket", "Ops", "write"))
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    response = api.patch(
        "/workspaces/bucket/origin",
        {
            "kind": "s3",
            "bucket": "originals",
            "region": "eu-west-1",
            "access_key_id": "AKIAIOSFODNN7EXAMPLE",
            "secret_access_key": secret,
        },
    )
    assert response.status_code == 200, response.text
    origin = response.json()["origin"]
    assert origin["kind"] == "s3" and origin["bucket"] == "originals"
    assert response.json()["origin_secret_set"] is True
    assert secret not in response.text
    for path in ("/workspaces/bucket", "/workspaces/bucket/export"):
        shown = api.get(path)
        assert shown.status_code == 200 and secret not in shown.text
    assert secret.encode() not in (gw.data_dir / "imgate.sqlite3").read_bytes()

    http = api.patch("/workspaces/bucket/origin", {"kind": "http", "base_url": "https://assets.example.com/o/"})
    assert http.json()["origin"] == {"kind": "http", "base_url": "https://assets.example.com/o/"}
    assert http.json()["origin_secret_set"] is False


def test_a_local_folder_origin_is_the_operators_to_give(gw: Gateway) -> None:
    response = gw.api.patch("/workspaces/acme/origin", {"kind": "local", "root": "/"})
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    # Nor is the folder shown: it is the gateway's own disk layout.
    assert gw.api.get("/workspaces/acme").json()["origin"] == {"kind": "local"}


# Marks and rules -------------------------------------------------------------------------------------------


def test_marks_crud_and_the_mark_is_stamped_on_images(gw: Gateway) -> None:
    text = gw.api.post("/workspaces/acme/marks", {"name": "credit", "text": "© Acme", "alpha": 70, "scale": 20})
    assert text.status_code == 201, text.text
    assert text.json()["kind"] == "text" and text.json()["alpha"] == 70 and text.json()["scale"] == 20
    uploaded = gw.api.post(
        "/workspaces/acme/marks",
        {"name": "stamp", "image_base64": base64.b64encode(png()).decode(), "align": "top,left", "tile": True},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["uploaded_bytes"] == len(png())
    from_origin = gw.api.post("/workspaces/acme/marks", {"name": "logo", "image_key": "alpha-elarun.png"})
    assert from_origin.status_code == 201, from_origin.text

    names = [mark["name"] for mark in gw.reader.get("/workspaces/acme/marks").json()["marks"]]
    assert names == ["credit", "logo", "stamp"]
    assert gw.reader.get("/workspaces/acme/marks/logo").json()["image_key"] == "alpha-elarun.png"
    changed = gw.api.patch("/workspaces/acme/marks/credit", {"alpha": 50, "scale": 12.5})
    assert changed.status_code == 200 and changed.json()["alpha"] == 50 and changed.json()["scale"] == 12.5

    again = gw.api.post("/workspaces/acme/marks", {"name": "credit", "text": "x"})
    assert again.status_code == 409 and error_code(again) == "CONFLICT"
    missing = gw.api.post("/workspaces/acme/marks", {"name": "ghost", "image_key": "no/such.png"})
    assert missing.status_code == 400 and "image_key" in missing.json()["error"]["message"]
    assert gw.api.get("/workspaces/acme/marks/nope").status_code == 404

    image = httpx.get(f"{gw.process.url}/acme/photo-kite.jpg?w=120&mark=credit", timeout=30)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"

    assert gw.api.delete("/workspaces/acme/marks/stamp").status_code == 204
    assert gw.api.get("/workspaces/acme/marks/stamp").status_code == 404


def test_mark_uploads_are_capped_and_must_be_base64(gw: Gateway) -> None:
    big = base64.b64encode(b"\0" * (2 * 1024 * 1024 + 1)).decode()
    over = gw.api.post("/workspaces/acme/marks", {"name": "huge", "image_base64": big})
    assert over.status_code == 413 and error_code(over) == "PAYLOAD_TOO_LARGE"
    bad = gw.api.post("/workspaces/acme/marks", {"name": "bad", "image_base64": "not base64!"})
    assert bad.status_code == 400 and "image_base64" in bad.json()["error"]["message"]
    not_image = gw.api.post("/workspaces/acme/marks", {"name": "bad", "image_base64": base64.b64encode(b"hi").decode()})
    assert not_image.status_code == 400


def test_rules_add_list_move_delete(gw: Gateway) -> None:
    if gw.api.get("/workspaces/acme/marks/credit").status_code == 404:
        gw.api.post("/workspaces/acme/marks", {"name": "credit", "text": "© Acme"})
    first = gw.api.post("/workspaces/acme/rules", {"preset": "credit", "key_patterns": ["premium/**"]})
    assert first.status_code == 201, first.text
    second = gw.api.post("/workspaces/acme/rules", {"preset": "credit", "src_host_patterns": ["*.stock.example"]})
    assert second.status_code == 201
    ids = [rule["rule_id"] for rule in gw.reader.get("/workspaces/acme/rules").json()["rules"]]
    assert ids[-2:] == [first.json()["rule_id"], second.json()["rule_id"]]

    moved = gw.api.patch(f"/workspaces/acme/rules/{second.json()['rule_id']}", {"position": 1})
    assert moved.status_code == 200 and moved.json()["position"] == 1
    assert gw.reader.get("/workspaces/acme/rules").json()["rules"][0]["rule_id"] == second.json()["rule_id"]

    in_use = gw.api.delete("/workspaces/acme/marks/credit")
    assert in_use.status_code == 409 and error_code(in_use) == "CONFLICT"
    unknown = gw.api.post("/workspaces/acme/rules", {"preset": "nope", "key_patterns": ["a/*"]})
    assert unknown.status_code == 400 and "preset" in unknown.json()["error"]["message"]
    for rule_id in (first.json()["rule_id"], second.json()["rule_id"]):
        assert gw.api.delete(f"/workspaces/acme/rules/{rule_id}").status_code == 204
    assert gw.api.delete(f"/workspaces/acme/rules/{first.json()['rule_id']}").status_code == 404
    huge = gw.api.patch("/workspaces/acme/rules/99999999999999999999999999", {"position": 1})
    assert huge.status_code == 404 and error_code(huge) == "NOT_FOUND"


# Purge -----------------------------------------------------------------------------------------------------


def test_purge_answers_how_many_stored_outputs_went(gw: Gateway) -> None:
    url = f"{gw.process.url}/acme/photo-grey.jpg?w=64"
    assert httpx.get(url, timeout=30).status_code == 200
    results = gw.data_dir / "results"
    deadline = time.monotonic() + 10
    while not any(path.is_file() for path in results.rglob("*")) and time.monotonic() < deadline:
        time.sleep(0.05)  # the store is written after the response

    other = gw.api.post("/workspaces/acme/purge", {"prefix": "no-such-prefix/"})
    assert other.status_code == 200 and other.json()["removed"] == 0
    purged = gw.api.post("/workspaces/acme/purge", {"prefix": "photo-grey"})
    assert purged.status_code == 200, purged.text
    assert purged.json()["removed"] >= 1 and purged.json()["prefix"] == "photo-grey"
    everything = gw.api.post("/workspaces/acme/purge")  # no body at all: every output
    assert everything.status_code == 200 and everything.json()["prefix"] == ""


# Keys ------------------------------------------------------------------------------------------------------


def test_a_key_is_shown_once_and_revoked_keys_stop_at_once(gw: Gateway) -> None:
    created = gw.api.post("/workspaces/acme/keys", {"name": "Staging", "scope": "read"})
    assert created.status_code == 201, created.text
    secret, prefix = created.json()["secret"], created.json()["key"]["prefix"]
    assert secret.startswith(prefix) and len(secret) >= 41
    staging = Api(gw.process, secret)
    assert staging.get("/workspaces/acme").status_code == 200

    listing = gw.api.get("/workspaces/acme/keys")
    assert prefix in listing.text and secret not in listing.text
    for path in ("/workspaces/acme/export", "/workspaces/acme/audit", "/workspaces/acme/key-usage"):
        assert secret not in gw.api.get(path).text
    assert secret.encode() not in (gw.data_dir / "imgate.sqlite3").read_bytes()

    revoked = gw.api.delete(f"/workspaces/acme/keys/{prefix}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = staging.get("/workspaces/acme")
    assert refused.status_code == 401 and refused.json()["error"]["message"] == "Invalid API key"
    assert gw.api.delete("/workspaces/acme/keys/imk_live_zzz").status_code == 404
    assert gw.api.delete(f"/workspaces/acme/keys/{prefix}").status_code == 200  # revoking twice answers the key
    for log in gw.data_dir.glob("gateway-*.log"):
        assert secret not in log.read_text(errors="replace")


def test_usage_counts_requests_per_key_and_day(gw: Gateway) -> None:
    for _ in range(3):
        gw.reader.get("/key")
    usage = gw.reader.get("/workspaces/acme/key-usage").json()["usage"]
    dashboard = [row for row in usage if row["prefix"] == gw.read_key[:12]]
    assert dashboard and dashboard[-1]["name"] == "Dashboard" and dashboard[-1]["requests"] >= 4
    ranged = gw.reader.get("/workspaces/acme/key-usage", params={"first": "2000-01-01", "last": "2000-01-31"})
    assert ranged.status_code == 200 and ranged.json()["usage"] == []
    bad = gw.reader.get("/workspaces/acme/key-usage", params={"first": "yesterday"})
    assert bad.status_code == 400 and "query.first" in bad.json()["error"]["message"]


# Members ---------------------------------------------------------------------------------------------------


def test_members_are_listed_to_keys_and_managed_by_owners_only(gw: Gateway) -> None:
    for added in (("Owner@Example.COM", "--role", "owner"), ("bob@example.com",)):
        done = imgate(gw.data_dir, "member", "add", "acme", *added)
        assert done.returncode == 0, done.stderr
    emails = [m["email"] for m in gw.reader.get("/workspaces/acme/members").json()["members"]]
    assert emails == ["bob@example.com", "owner@example.com"]
    # A write key cannot make anyone an owner, add or remove people: a leaked key must not outlive its revocation.
    refused = [
        gw.api.post("/workspaces/acme/members", {"email": "eve@example.com", "role": "owner"}),
        gw.api.patch("/workspaces/acme/members/bob@example.com", {"role": "owner"}),
        gw.api.delete("/workspaces/acme/members/owner@example.com"),
    ]
    for response in refused:
        assert response.status_code == 403 and error_code(response) == "FORBIDDEN", response.text
    after = {m["email"]: m["role"] for m in gw.reader.get("/workspaces/acme/members").json()["members"]}
    assert after == {"bob@example.com": "member", "owner@example.com": "owner"}


# Audit, export, delete -------------------------------------------------------------------------------------


def test_every_call_is_audited_with_its_route_template_never_the_url(gw: Gateway) -> None:
    planted = "planted-in-the-url"
    gw.api.get("/workspaces/acme/audit", params={"token": planted})  # refused (400), and recorded
    gw.api.get(f"/workspaces/acme/marks/{planted}")
    gw.api.post("/workspaces/acme/purge", {"prefix": planted})
    gw.rival.get("/workspaces/acme")  # refused: recorded in the caller's own workspace
    first = gw.reader.get("/workspaces/acme/audit", params={"limit": "2"})
    assert first.status_code == 200
    page = first.json()
    assert len(page["entries"]) == 2 and page["next_cursor"]
    assert page["entries"][0]["operation"] == "POST /_/api/v1/workspaces/{ns}/purge"
    assert page["entries"][0]["actor"] == f"key:{gw.write_key[:12]}"
    assert page["entries"][1]["operation"] == "GET /_/api/v1/workspaces/{ns}/marks/{name}"
    assert page["entries"][1]["status"] == 404
    older = gw.reader.get("/workspaces/acme/audit", params={"limit": "2", "cursor": page["next_cursor"]})
    assert older.status_code == 200 and older.json()["entries"][0]["at"] <= page["entries"][1]["at"]
    everything = gw.reader.get("/workspaces/acme/audit", params={"limit": "500"}).json()["entries"]
    assert [(row["operation"], row["status"]) for row in everything[2:5]] == [
        ("POST /_/api/v1/workspaces/{ns}/purge", 200),
        ("GET /_/api/v1/workspaces/{ns}/marks/{name}", 404),
        ("GET /_/api/v1/workspaces/{ns}/audit", 400),
    ]
    assert planted not in json.dumps(everything)
    # The caller's own workspace holds the refusal (the row of the current call is written after it answers).
    rival_rows = gw.rival.get("/workspaces/rival/audit").json()["entries"]
    assert rival_rows[0]["operation"] == "GET /_/api/v1/workspaces/{ns}" and rival_rows[0]["status"] == 403
    assert planted.encode() not in (gw.data_dir / "imgate.sqlite3").read_bytes()
    bad_cursor = gw.reader.get("/workspaces/acme/audit", params={"cursor": "nope"})
    assert bad_cursor.status_code == 400 and "cursor" in bad_cursor.json()["error"]["message"]


def test_export_holds_everything_without_secrets(gw: Gateway) -> None:
    # Members' addresses and the audit log: a write key's (as an owner's), not a read key's.
    assert gw.reader.get("/workspaces/acme/export").status_code == 403
    response = gw.api.get("/workspaces/acme/export")
    assert response.status_code == 200
    document = response.json()
    assert document["kind"] == "imgate.workspace-export" and document["workspace"]["namespace"] == "acme"
    assert {"marks", "rules", "members", "keys", "key_usage", "audit"} <= set(document)
    assert gw.write_key[:12] in {key["prefix"] for key in document["keys"]}
    for secret in (gw.write_key, gw.read_key):
        assert secret not in response.text


def test_no_key_deletes_a_workspace_and_the_commands_receipt_verifies(gw: Gateway, tmp_path: Path) -> None:
    doomed = Api(gw.process, create_key(gw.data_dir, "doomed", "Last", "write"))
    doomed.post("/workspaces/doomed/marks", {"name": "credit", "text": "bye"})
    reader = Api(gw.process, create_key(gw.data_dir, "doomed", "Reader", "read"))
    assert reader.delete("/workspaces/doomed").status_code == 403
    # No key deletes a workspace (an owner's session or the operator does): the receipt comes from the command.
    refused = doomed.delete("/workspaces/doomed")
    assert refused.status_code == 403 and error_code(refused) == "FORBIDDEN"
    deleted = imgate(gw.data_dir, "workspace", "delete", "doomed")
    assert deleted.returncode == 0, deleted.stderr
    receipt = json.loads(deleted.stdout)
    assert receipt["namespace"] == "doomed" and receipt["removed"]["marks"] == 1
    assert receipt["removed"]["api_keys"] == 2
    (tmp_path / "receipt.json").write_text(deleted.stdout)
    verified = imgate(gw.data_dir, "receipt", "verify", str(tmp_path / "receipt.json"))
    assert verified.returncode == 0, verified.stderr
    assert "genuine" in verified.stdout
    receipt["removed"]["marks"] = 0
    (tmp_path / "forged.json").write_text(json.dumps(receipt))
    assert imgate(gw.data_dir, "receipt", "verify", str(tmp_path / "forged.json")).returncode != 0
    assert doomed.get("/key").status_code == 401  # the key went with its workspace


# Refusals --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Authentication is required"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Authentication is required"),
        ({"Authorization": "Bearer"}, "Authentication is required"),
        ({"Authorization": "Bearer a b"}, "Authentication is required"),
        ({"Authorization": "Bearer imk_live_" + "A" * 43}, "Invalid API key"),
        ({"X-API-Key": "imk_live_nope"}, "Invalid API key"),
        ({"X-API-Key": "whatever"}, "Invalid API key"),
    ],
)
def test_unauthenticated(gw: Gateway, headers: dict[str, str], message: str) -> None:
    response = Api(gw.process, None).get("/workspaces/acme", headers=headers)
    assert response.status_code == 401
    assert error_code(response) == "UNAUTHENTICATED"
    assert response.json()["error"]["message"] == message
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_prefix_is_a_label_not_a_credential(gw: Gateway) -> None:
    response = Api(gw.process, gw.write_key[:12]).get("/workspaces/acme")
    assert response.status_code == 401 and response.json()["error"]["message"] == "Invalid API key"


def test_two_different_keys_in_one_request_are_refused(gw: Gateway) -> None:
    response = Api(gw.process, gw.write_key).get("/key", headers={"X-API-Key": gw.read_key})
    assert response.status_code == 401 and response.json()["error"]["message"] == "Authentication is required"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/workspaces/acme", {"allowed_sources": ["*"]}),
        ("POST", "/workspaces/acme/purge", {}),
        ("POST", "/workspaces/acme/keys", {"name": "Escalate", "scope": "write"}),
        ("DELETE", "/workspaces/acme", None),
        ("POST", "/workspaces/acme/marks", {"name": "ro", "text": "x"}),
    ],
)
def test_a_read_key_cannot_write(gw: Gateway, method: str, path: str, body: object) -> None:
    response = gw.reader.call(method, path, body)
    assert response.status_code == 403 and error_code(response) == "FORBIDDEN"


@pytest.mark.parametrize(
    "path", ["/workspaces/rival", "/workspaces/rival/marks", "/workspaces/rival/keys", "/workspaces/nowhere/audit"]
)
def test_a_key_cannot_reach_another_workspace(gw: Gateway, path: str) -> None:
    response = gw.api.get(path)
    assert response.status_code == 403 and error_code(response) == "FORBIDDEN"
    assert gw.rival.get("/workspaces/rival").status_code == 200


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{not json", "body"),
        (b'{"allowed_origins": "*"}', "body.allowed_origins"),
        (b'{"allowed_origins": ["*"], "plan": "enterprise"}', "body.plan"),
        (b'{"capture_retention": "60"}', "body.capture_retention"),
        (b'{"capture_retention": 1e400}', "body.capture_retention"),
        (b'{"revision": 99999999999999999999999999}', "body.revision"),
        (b"[" * 10000, "body"),
        (b"\xff\xfe", "body"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(gw: Gateway, content: bytes, field: str) -> None:
    response = gw.api.patch("/workspaces/acme", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert response.json()["error"]["message"].startswith(field)


def test_unknown_query_parameters_are_refused(gw: Gateway) -> None:
    response = gw.api.get("/workspaces/acme/audit", params={"limit": "5", "page": "2"})
    assert response.status_code == 400 and response.json()["error"]["message"].startswith("query.page")


def test_oversized_bodies_are_413(gw: Gateway) -> None:
    body = b'{"allowed_origins": ["' + b"a" * (4 * 1024 * 1024) + b'"]}'
    response = gw.api.patch("/workspaces/acme", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413 and error_code(response) == "PAYLOAD_TOO_LARGE"

    def chunks() -> Iterator[bytes]:
        for _ in range(80):
            yield b" " * 65536

    chunked = httpx.patch(
        f"{gw.process.url}{API}/workspaces/acme", content=chunks(), headers=gw.api.headers(), timeout=30
    )
    assert chunked.status_code == 413 and error_code(chunked) == "PAYLOAD_TOO_LARGE"


def test_a_method_a_path_does_not_take_is_405_in_json(gw: Gateway) -> None:
    response = gw.api.call("PUT", "/workspaces/acme", {})
    assert response.status_code == 405 and error_code(response) == "METHOD_NOT_ALLOWED"
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}


def test_unknown_api_paths_are_404_in_json(gw: Gateway) -> None:
    for method in ("GET", "POST"):
        response = gw.api.call(method, "/nothing/here")
        assert response.status_code == 404 and error_code(response) == "NOT_FOUND"
