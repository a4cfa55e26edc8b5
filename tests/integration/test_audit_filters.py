"""Audit filters over real HTTP and from the command line, and the export of usage counters kept in Redis.

One Granian-served gateway counts usage into a real redis-server (``usage_store = "redis"``); the API and the
``imgate`` command read and filter the same audit rows, and a workspace's export and deletion take its Redis
counters with it.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from gateway.accounts.models import Workspace
from gateway.accounts.redis_usage import RedisUsageStore
from tests.gateway.usage.redis_process import redis_server
from tests.integration.api_client import Api, create_key, error_code
from tests.integration.servers import GatewayProcess, imgate

pytestmark = pytest.mark.integration

AUDIT = "/workspaces/acme/audit"


class Setup:
    def __init__(self, process: GatewayProcess, redis_url: str, writer: str, reader: str) -> None:
        self.process = process
        self.redis_url = redis_url
        self.writer_key = writer
        self.reader_key = reader
        self.writer = Api(process, writer)
        self.reader = Api(process, reader, header="x-api-key")

    def cli(self, *args: str) -> Any:
        # The command reads the gateway's own data folder and, like it, counts usage in Redis.
        return imgate(self.process.data_dir, *args, IMGATE_USAGE_STORE="redis", IMGATE_REDIS_URL=self.redis_url)

    def rows(self, **params: str) -> list[dict[str, Any]]:
        response = self.reader.get(AUDIT, params={"limit": "500", **params})
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, images_dir: Path) -> Iterator[Setup]:
    folder = tmp_path_factory.mktemp("audit-filters")
    with redis_server(folder) as url:
        process = GatewayProcess(
            folder / "gw", settings={"usage_store": "redis", "redis_url": url, "usage_flush_interval": "0.2"}
        )
        process.data_dir.mkdir(parents=True, exist_ok=True)
        for namespace in ("acme", "doomed", "doomed-eu"):
            process.add_workspace(Workspace(namespace=namespace, origin_kind="local", origin={"root": str(images_dir)}))
        writer = create_key(process.data_dir, "acme", "Deploys", "write")
        reader = create_key(process.data_dir, "acme", "Dashboard", "read")
        with process:
            found = Setup(process, url, writer, reader)
            # Rows of three actors and several operations: two keys over the API, and the command line.
            assert found.writer.patch("/workspaces/acme", {"allowed_origins": ["*"]}).status_code == 200
            assert found.writer.post("/workspaces/acme/marks", {"name": "credit", "text": "(c)"}).status_code == 201
            assert found.writer.get("/workspaces/acme/marks/credit").status_code == 200
            assert found.reader.get("/workspaces/acme/marks").status_code == 200
            assert found.reader.get("/workspaces/acme").status_code == 200
            assert found.cli("mark", "create", "acme", "byline", "--text", "by us").returncode == 0
            yield found


def test_the_api_filters_by_actor(setup: Setup) -> None:
    writer = f"key:{setup.writer_key[:12]}"
    rows = setup.rows(actor=writer)
    assert [row["operation"] for row in rows] == [
        "GET /_/api/v1/workspaces/{ns}/marks/{name}",
        "POST /_/api/v1/workspaces/{ns}/marks",
        "PATCH /_/api/v1/workspaces/{ns}",
    ]
    assert {row["actor"] for row in rows} == {writer}
    # The command line's rows: the two keys made before the gateway started, then the mark.
    assert [row["operation"] for row in setup.rows(actor="cli")] == ["mark.create", "key.create", "key.create"]
    assert setup.rows(actor="key:imk_live_nobody") == []
    everyone = {row["actor"] for row in setup.rows()}
    assert {writer, f"key:{setup.reader_key[:12]}", "cli"} <= everyone
    assert {row["actor"] for row in setup.rows(actor="")} == everyone  # an empty filter filters nothing


def test_the_api_filters_by_operation_and_both_at_once(setup: Setup) -> None:
    marks = setup.rows(operation="/marks")
    assert {row["operation"] for row in marks} == {
        "GET /_/api/v1/workspaces/{ns}/marks/{name}",
        "POST /_/api/v1/workspaces/{ns}/marks",
        "GET /_/api/v1/workspaces/{ns}/marks",
    }
    assert [row["operation"] for row in setup.rows(operation="mark.")] == ["mark.create"]  # the command's
    both = setup.rows(actor=f"key:{setup.reader_key[:12]}", operation="/marks")
    assert [(row["operation"], row["status"]) for row in both] == [("GET /_/api/v1/workspaces/{ns}/marks", 200)]
    assert setup.rows(operation="/MARKS") == []  # as typed: case-sensitive


def test_filtered_pages_walk_only_the_matching_rows(setup: Setup) -> None:
    wanted = [row["at"] for row in setup.rows(operation="/_/api/v1/")]
    assert len(wanted) >= 8  # every API call so far, the audit reads included
    seen: list[float] = []
    params = {"operation": "/_/api/v1/", "limit": "3"}
    cursor: str | None = None
    while True:
        page = setup.reader.get(AUDIT, params={**params, **({"cursor": cursor} if cursor else {})}).json()
        assert all("/_/api/v1/" in row["operation"] for row in page["entries"])
        seen += [row["at"] for row in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Rows written while paging are newer than every cursor, so they never enter a later page: the pages hold
    # the rows of the first read, and at most the row of that read itself on top.
    assert seen[-len(wanted) :] == wanted and len(seen) - len(wanted) in (0, 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"actor": "x" * 255}, "actor"),
        ({"operation": "x" * 255}, "operation"),
        ({"actor": "cli\x01"}, "actor"),
        ({"operation": "a\tb"}, "operation"),
    ],
)
def test_a_filter_no_row_could_match_is_refused_naming_it(setup: Setup, params: dict[str, str], field: str) -> None:
    response = setup.reader.get(AUDIT, params=params)
    assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"
    message = response.json()["error"]["message"]
    assert message.startswith(f"{field}:"), message
    # The command refuses it with the same message.
    flag = f"--{field}"
    shown = setup.cli("audit", "acme", flag, params[field])
    assert shown.returncode != 0 and message in shown.stderr and len(shown.stderr.strip().splitlines()) == 1


def test_the_command_filters_and_its_next_page_line_keeps_the_filters(setup: Setup) -> None:
    shown = setup.cli("audit", "acme", "--actor", "cli", "--operation", "mark.")
    assert shown.returncode == 0, shown.stderr
    rows = [line.split("\t") for line in shown.stdout.splitlines()]
    assert [(row[1], row[2], row[3]) for row in rows] == [("cli", "mark.create", "200")]

    reader = f"key:{setup.reader_key[:12]}"
    first = setup.cli("audit", "acme", "--limit", "1", "--actor", reader)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split("\t")[1] == reader
    hint = first.stderr.strip()
    assert hint.startswith("more: imgate audit acme --limit 1 --actor ") and "--cursor " in hint
    # The line as printed, pasted back: the next page keeps the filter.
    pasted = shlex.split(hint.removeprefix("more: imgate "))
    following = setup.cli(*pasted)
    assert following.returncode == 0, following.stderr
    assert following.stdout and all(line.split("\t")[1] == reader for line in following.stdout.splitlines())
    assert following.stderr.split("--cursor ")[1] != hint.split("--cursor ")[1]  # an older row ends it
    refused = setup.cli("audit", "--prune", "--actor", "cli")
    assert refused.returncode != 0 and "--actor" in refused.stderr


def redis_days(url: str, namespace: str) -> list[str]:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return sorted(client.scan_iter(match=f"imgate:usage:{namespace}:*"))
    finally:
        client.close()


def wait_for_requests(setup: Setup, namespace: str, expected: int) -> None:
    day = datetime.now(UTC).date()
    counters = RedisUsageStore(setup.redis_url)
    try:
        deadline = time.monotonic() + 20
        while sum(usage.requests for usage in counters.days(namespace, day, day)) < expected:
            assert time.monotonic() < deadline, "the usage flush did not reach Redis"
            time.sleep(0.1)
    finally:
        counters.close()


def test_export_holds_the_redis_usage_and_deletion_drops_it(setup: Setup) -> None:
    for namespace in ("doomed", "doomed-eu"):
        for width in (40, 41, 42):
            assert httpx.get(f"{setup.process.url}/{namespace}/photo-grey.jpg?w={width}", timeout=30).status_code == 200
    wait_for_requests(setup, "doomed", 3)
    wait_for_requests(setup, "doomed-eu", 3)
    owner = Api(setup.process, create_key(setup.process.data_dir, "doomed", "Owner", "write"))

    exported = owner.get("/workspaces/doomed/export")
    assert exported.status_code == 200, exported.text
    (day,) = exported.json()["usage"]
    assert day["day"] == datetime.now(UTC).date().isoformat()
    assert (day["requests"], day["renders"]) == (3, 3) and day["bytes_out"] > 0
    from_cli = json.loads(setup.cli("workspace", "export", "doomed").stdout)
    assert from_cli["usage"] == exported.json()["usage"]  # the command reads the same counters

    # No API key may delete a workspace (gateway.admin.roles): an owner's session or the command does.
    assert owner.delete("/workspaces/doomed").status_code == 403
    deleted = setup.cli("workspace", "delete", "doomed")
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(deleted.stdout)["removed"]["usage_days"] == 1
    assert redis_days(setup.redis_url, "doomed") == []
    assert len(redis_days(setup.redis_url, "doomed-eu")) == 1  # a name that starts the same keeps its counters
