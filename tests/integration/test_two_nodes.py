"""Two live gateway nodes sharing everything a cluster shares, shown through their HTTP interfaces only.

Node A and node B are two ``imgate serve`` processes on two ports with data folders of their own (two machines,
as far as anything node-local knows), sharing: one account store (accounts, sessions, domains, audit; the module
runs once with PostgreSQL and once with DynamoDB on a moto server of its own), one moto server for the S3 result
store, one ``redis-server`` (the rate limiter and the usage counters), one SMTP server (sign-in codes) and one
DNS server (custom domain verification). The workspace itself is created by
the operator with ``imgate`` against the shared store (the management API has no route creating workspaces);
everything after that goes through one node's HTTP interface and is observed on the other's.

The tests run in order on one set-up; the last one is the fault drill: Redis killed, the result store's moto
stopped, a node stopped mid-load, the other answering throughout with the documented degradations and losing
nothing. (Capture jobs across nodes on the Redis queue are shown by test_capture_jobs_redis.py: they need a
browser per node, which this module's time budget leaves out.)
"""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from cryptography.fernet import Fernet

from gateway.cli.main import main as cli_main
from loopback.ports import free_port
from loopback.processes import ManagedProcess
from tests.conftest import DEMO_IMAGES, require
from tests.gateway.accounts.postgres_support import postgres_dsn
from tests.gateway.dashboard.support import csrf_of
from tests.gateway.mail.smtp_server import HOST as SMTP_HOST
from tests.gateway.mail.smtp_server import SmtpServer
from tests.gateway.usage.redis_process import redis_server_path
from tests.integration.api_client import API
from tests.integration.servers import GatewayProcess
from tests.support.dns_server import DnsServer
from tests.support.moto_server import (
    DUMMY_KEY_ID,
    DUMMY_SECRET,
    MotoServer,
    dummy_aws_environment,
    new_bucket,
    s3_admin,
)

pytestmark = pytest.mark.integration

__all__ = ["postgres_dsn"]  # a fixture: pytest finds it in the module's globals

TENANCY_TTL = 0.5
CNAME_TARGET = "edge.imgate.test"
CUSTOM_HOST = "img.acme.test"
DASH = "/_/dashboard"


class RedisSlot:
    """The cluster's ``redis-server`` on a port of its own, which the drill kills and starts again there.

    With an append-only file synced on every write, as docs/scale-out.md recommends for the usage counters:
    a Redis that crashes and comes back has every increment it acknowledged.
    """

    def __init__(self, workdir: Path) -> None:
        binary = redis_server_path()
        require(binary is not None, "redis-server is not installed")
        assert binary is not None
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir)]
        argv += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        self._process = ManagedProcess("redis", argv, self.workdir / "redis.log", append=True)
        wait_for(lambda: self._answers(), timeout=10)

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            os.killpg(process.pid, signal.SIGKILL)  # a crash: no shutdown, no last save
            process.stop()

    def __enter__(self) -> RedisSlot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()

    @contextmanager
    def stopped(self) -> Iterator[None]:
        self.kill()
        try:
            yield
        finally:
            self.start()


@dataclass
class Cluster:
    a: GatewayProcess
    b: GatewayProcess
    env: dict[str, str]  # the operator's IMGATE_* environment, pointing at the shared store
    moto: MotoServer
    bucket: str
    redis: RedisSlot
    smtp: SmtpServer
    dns: DnsServer
    key: str = ""  # a write key of ``acme``, made by the operator

    def imgate(self, *args: str) -> str:
        """The operator's ``imgate`` command against the shared account store; its standard output.

        Run in this process (``gateway.cli.main``, the command's own entry point) rather than as a child: a new
        interpreter per command would cost seconds each on a busy machine, and the module has a time budget.
        """
        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
            for name, value in self.env.items():
                patch.setenv(name, value)
            status = cli_main(list(args))
        assert status == 0, err.getvalue()
        return out.getvalue()

    def api(self, node: GatewayProcess, method: str, path: str, body: object = None, key: str = "") -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.key}"}
        return httpx.request(method, f"{node.url}{API}{path}", json=body, headers=headers, timeout=30)


@pytest.fixture(scope="module", params=["postgres", "dynamodb"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("two-nodes")
    with dummy_aws_environment(), RedisSlot(root) as redis_slot, SmtpServer() as smtp, ExitStack() as stack:
        dns = DnsServer().start()
        stack.callback(dns.stop)
        moto = MotoServer()
        moto.start()
        stack.callback(moto.stop)
        bucket = new_bucket(moto.endpoint, "results")
        shared = {"account_store": request.param, "secret_key": Fernet.generate_key().decode()}
        if request.param == "postgres":
            shared["database_url"] = request.getfixturevalue("postgres_dsn")
        else:  # DynamoDB on a moto server of its own: the drill stops the result store's, not this one
            accounts = MotoServer()
            accounts.start()
            stack.callback(accounts.stop)
            shared |= {"dynamodb_table": f"accounts-{bucket}", "dynamodb_endpoint": accounts.endpoint}
            shared["dynamodb_region"] = "us-east-1"
        settings = {
            **shared,
            "tenancy_ttl": str(TENANCY_TTL),
            "result_store": "s3",
            "result_s3_bucket": bucket,
            "result_s3_endpoint": moto.endpoint,
            "result_s3_access_key_id": DUMMY_KEY_ID,
            "result_s3_secret_access_key": DUMMY_SECRET,
            "limiter": "redis",
            "usage_store": "redis",
            "redis_url": redis_slot.url,
            "usage_flush_interval": "0.2",
            "quota_refresh": "0.5",
            "mailer": "smtp",
            "smtp_host": SMTP_HOST,
            "smtp_port": str(smtp.port),
            "smtp_security": "none",
            "cname_target": CNAME_TARGET,
            "dns_resolvers": dns.address,
            "dns_timeout": "0.5",
            "domain_recheck_interval": "0",
        }
        env = {f"IMGATE_{name.upper()}": value for name, value in shared.items()}
        env["IMGATE_DATA_DIR"] = str(root / "operator")
        a = GatewayProcess(root / "a", settings=settings)
        b = GatewayProcess(root / "b", settings=settings)
        with a, b:
            yield Cluster(a, b, env, moto, bucket, redis_slot, smtp, dns)


def wait_for(check: Callable[[], bool], timeout: float) -> float:
    """Poll ``check`` until it holds; the seconds it took. Fails the test after ``timeout``."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - start


def get(node: GatewayProcess, path: str, **headers: str) -> httpx.Response:
    return httpx.get(node.url + path, headers=headers, timeout=30)


# Tenancy ------------------------------------------------------------------------------------------------------


def test_workspace_and_mark_rule_made_through_a_serve_on_b(cluster: Cluster) -> None:
    image = "/acme/photo-kite.jpg?w=160"
    assert get(cluster.b, image).status_code == 404  # B knows the namespace is free (and caches that)
    cluster.imgate("workspace", "create", "acme", "--origin", "local", "--root", str(DEMO_IMAGES), "--plan", "pro")
    took = wait_for(lambda: get(cluster.b, image).status_code == 200, timeout=5)
    assert took < TENANCY_TTL + 1.5, took
    cluster.key = cluster.imgate("key", "create", "acme", "--name", "ops", "--scope", "write").strip()
    plain = get(cluster.b, image).content
    other = "/acme/alpha-elarun.png?w=160"  # a key the rule below does not match
    other_plain = get(cluster.b, other).content

    mark = cluster.api(cluster.a, "POST", "/workspaces/acme/marks", {"name": "credit", "text": "© Acme", "scale": 30})
    assert mark.status_code == 201, mark.text
    rule = cluster.api(cluster.a, "POST", "/workspaces/acme/rules", {"preset": "credit", "key_patterns": ["photo-*"]})
    assert rule.status_code == 201, rule.text
    # B applies the rule A added (a different output, under a different cache key) within the tenancy TTL.
    took = wait_for(lambda: get(cluster.b, image).content != plain, timeout=5)
    assert took < TENANCY_TTL + 1.5, took
    assert get(cluster.b, other).content == other_plain  # the rule marks only the keys it names


# The result store ----------------------------------------------------------------------------------------------


def stored_objects(cluster: Cluster) -> int:
    return int(s3_admin(cluster.moto.endpoint).list_objects_v2(Bucket=cluster.bucket).get("KeyCount", 0))


def more_stored_than(cluster: Cluster, count: int) -> Callable[[], bool]:
    return lambda: stored_objects(cluster) > count


def test_rendered_on_a_is_a_store_hit_on_b_and_a_purge_through_b_makes_both_miss(cluster: Cluster) -> None:
    first, second = "/acme/photo-grey.jpg?w=121", "/acme/photo-grey.jpg?w=122"
    for path in (first, second):
        before = stored_objects(cluster)
        assert get(cluster.a, path).headers["x-imgate-cache"] == "miss"
        wait_for(more_stored_than(cluster, before), timeout=5)  # written after the answer was sent
        assert get(cluster.b, path).headers["x-imgate-cache"] == "store"
        assert get(cluster.a, path).headers["x-imgate-cache"] == "memory"
        assert get(cluster.b, path).headers["x-imgate-cache"] == "memory"

    purged = cluster.api(cluster.b, "POST", "/workspaces/acme/purge")
    assert purged.status_code == 200, purged.text
    time.sleep(TENANCY_TTL * 2 + 0.2)  # every node re-reads the workspace (and its purge marker) within the TTL
    # Neither node answers from its memory tier nor from the store: both render again.
    assert get(cluster.a, first).headers["x-imgate-cache"] == "miss"
    assert get(cluster.b, second).headers["x-imgate-cache"] == "miss"


# Keys and sessions ---------------------------------------------------------------------------------------------


def test_a_key_revoked_on_a_is_refused_on_b_within_a_second(cluster: Cluster) -> None:
    created = cluster.api(cluster.a, "POST", "/workspaces/acme/keys", {"name": "ci", "scope": "read"})
    assert created.status_code == 201, created.text
    secret, prefix = created.json()["secret"], created.json()["key"]["prefix"]
    assert cluster.api(cluster.b, "GET", "/key", key=secret).status_code == 200
    revoked = cluster.api(cluster.a, "DELETE", f"/workspaces/acme/keys/{prefix}")
    assert revoked.status_code == 200, revoked.text
    took = wait_for(lambda: cluster.api(cluster.b, "GET", "/key", key=secret).status_code == 401, timeout=3)
    assert took < 1.0, took


def test_a_session_made_on_a_is_valid_on_b_and_signing_out_on_b_ends_it_on_a(cluster: Cluster) -> None:
    email = "ana@example.com"
    with httpx.Client(base_url=cluster.a.url, timeout=30) as browser_a:
        token = csrf_of(browser_a.get(f"{DASH}/").text)
        assert browser_a.post(f"{DASH}/signin", data={"csrf": token, "email": email}).status_code == 200
        code = cluster.smtp.code_for(email)
        signed_in = browser_a.post(f"{DASH}/signin/code", data={"csrf": token, "email": email, "code": code})
        assert signed_in.status_code == 303, signed_in.text
        session = signed_in.cookies["imgate_session"]
    cookie = {"Cookie": f"imgate_session={session}"}
    on_b = get(cluster.b, f"{DASH}/workspaces", **cookie)
    assert on_b.status_code == 200 and email in on_b.text
    assert get(cluster.a, f"{DASH}/workspaces", **cookie).status_code == 200

    signed_out = httpx.post(
        f"{cluster.b.url}{DASH}/signout", data={"csrf": csrf_of(on_b.text)}, headers=cookie, timeout=30
    )
    assert signed_out.status_code == 303
    refused = get(cluster.a, f"{DASH}/workspaces", **cookie)
    assert refused.status_code == 303 and refused.headers["location"].endswith(f"{DASH}/")


# Limits and usage ----------------------------------------------------------------------------------------------


def hammer_timed(urls: list[str], seconds: float, threads_per_url: int) -> tuple[Counter[int], float]:
    """GET each URL from ``threads_per_url`` threads for ``seconds``: the statuses seen, and the seconds from the
    first request sent to the last answer received."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(len(urls) * threads_per_url + 1)
    finished: list[float] = []

    def run(url: str) -> None:
        seen: Counter[int] = Counter()
        with httpx.Client(timeout=10) as client:
            start.wait()
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                seen[client.get(url).status_code] += 1
                time.sleep(0.002)  # the gateways' workers keep the CPU they need
        with lock:
            statuses.update(seen)
            finished.append(time.monotonic())

    threads = [threading.Thread(target=run, args=(url,)) for url in urls for _ in range(threads_per_url)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    return statuses, max(finished) - began


def test_a_per_second_limit_is_shared_by_both_nodes(cluster: Cluster) -> None:
    cluster.imgate("workspace", "create", "tight", "--origin", "local", "--root", str(DEMO_IMAGES))
    cluster.imgate("workspace", "limits", "tight", "--requests-per-second", "40", "--burst", "40")
    path = "/tight/photo-grey.jpg?w=40"
    wait_for(lambda: get(cluster.a, path).status_code == 200 and get(cluster.b, path).status_code == 200, 5)
    time.sleep(1.5)  # the bucket refills after the probes above
    statuses, window = hammer_timed([cluster.a.url + path, cluster.b.url + path], seconds=3.0, threads_per_url=3)
    # What the shared bucket allows over the window the requests really took (on a busy machine threads finish
    # late): its burst, then its rate.
    expected = 40 + 40 * window
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[429] > statuses[200], statuses  # both nodes were over the limit...
    assert abs(statuses[200] - expected) <= 0.1 * expected, (statuses, window)  # ...and together admitted it once
    print(f"limit: {statuses[200]} admitted of {statuses.total()} in {window:.2f} s, {expected:.0f} allowed")


def usage_requests(cluster: Cluster, node: GatewayProcess, namespace: str) -> int:
    answer = cluster.api(node, "GET", f"/workspaces/{namespace}/usage")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["totals"]["requests"])


def test_usage_counted_on_both_nodes_adds_up(cluster: Cluster) -> None:
    cluster.imgate("workspace", "create", "counted", "--origin", "local", "--root", str(DEMO_IMAGES), "--plan", "pro")
    key = cluster.imgate("key", "create", "counted", "--name", "ops", "--scope", "read").strip()
    wait_for(lambda: get(cluster.a, "/counted/photo-grey.jpg?w=30").status_code == 200, 5)
    wait_for(lambda: get(cluster.b, "/counted/photo-grey.jpg?w=30").status_code == 200, 5)
    for index in range(17):
        assert get(cluster.a, f"/counted/photo-grey.jpg?w={31 + index}").status_code == 200
    for index in range(23):
        assert get(cluster.b, f"/counted/photo-grey.jpg?w={31 + index}").status_code == 200
    cluster.key, previous = key, cluster.key
    try:
        wait_for(lambda: usage_requests(cluster, cluster.a, "counted") == 42, timeout=5)
        assert usage_requests(cluster, cluster.b, "counted") == 42
    finally:
        cluster.key = previous


# Custom domains --------------------------------------------------------------------------------------------------


def tls_ask(node: GatewayProcess, host: str) -> int:
    return httpx.get(f"{node.url}/_/tls/ask", params={"domain": host}, timeout=10).status_code


def test_a_verified_custom_domain_routes_on_both_and_tls_ask_agrees(cluster: Cluster) -> None:
    added = cluster.api(cluster.a, "POST", "/workspaces/acme/domains", {"hostname": CUSTOM_HOST})
    assert added.status_code == 201, added.text
    assert tls_ask(cluster.a, CUSTOM_HOST) != 200 and tls_ask(cluster.b, CUSTOM_HOST) != 200  # pending
    cname = next(record for record in added.json()["records"] if record["type"] == "CNAME")
    cluster.dns.set(CUSTOM_HOST, ("CNAME", cname["value"]))  # what the answer told the customer to publish
    checked = cluster.api(cluster.b, "POST", f"/workspaces/acme/domains/{CUSTOM_HOST}/check")
    assert checked.status_code == 200 and checked.json()["state"] == "verified", checked.text
    for node in (cluster.a, cluster.b):
        served = [get(node, "/photo-kite.jpg?w=48", Host=CUSTOM_HOST)]
        while served[-1].status_code != 200 and len(served) < 50:  # each node re-reads the domain within the TTL
            time.sleep(0.1)
            served.append(get(node, "/photo-kite.jpg?w=48", Host=CUSTOM_HOST))
        assert served[-1].status_code == 200 and served[-1].headers["content-type"] == "image/jpeg"
        assert tls_ask(node, CUSTOM_HOST) == 200
        assert tls_ask(node, "unknown.acme.test") == 404


# The fault drill -------------------------------------------------------------------------------------------------


class Load:
    """Threads sending image requests (hits and misses) to each node until stopped; every answer is tallied."""

    def __init__(self, nodes: dict[str, GatewayProcess], namespace: str) -> None:
        self.nodes = nodes
        self.namespace = namespace
        self.answers: dict[str, Counter[int]] = {name: Counter() for name in nodes}
        self.refused: Counter[str] = Counter()  # connections a stopped node did not take
        self.lock = threading.Lock()
        self.stopping: set[str] = set()
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(name,), daemon=True) for name in nodes for _ in (0, 1)]

    def _run(self, name: str) -> None:
        node = self.nodes[name]
        with httpx.Client(base_url=node.url, timeout=20) as client:
            index = 0
            while not self.done.is_set():
                index += 1
                width = 20 + index % 7 if index % 3 else 100 + (index * 7919) % 900  # hits and misses
                try:
                    status = client.get(f"/{self.namespace}/photo-grey.jpg?w={width}").status_code
                except httpx.TransportError:
                    with self.lock:
                        self.refused[name] += 1
                    if name in self.stopping:
                        return
                    time.sleep(0.05)
                    continue
                with self.lock:
                    self.answers[name][status] += 1
                time.sleep(0.01)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def answered(self) -> int:
        with self.lock:
            return sum(sum(counts.values()) for counts in self.answers.values())


def health(node: GatewayProcess) -> tuple[int, dict[str, object]]:
    answer = httpx.get(f"{node.url}/_/health", timeout=10)
    return answer.status_code, answer.json()


def check_status(node: GatewayProcess, check: str) -> str:
    return str(health(node)[1]["checks"][check]["status"])  # type: ignore[index]


def reports(node: GatewayProcess, check: str, status: str) -> Callable[[], bool]:
    """For ``wait_for``: the node's ``/_/health`` reports ``status`` for ``check``."""
    return lambda: check_status(node, check) == status


def test_fault_drill_redis_moto_and_a_node_go_away(cluster: Cluster) -> None:
    cluster.imgate("workspace", "create", "drill", "--origin", "local", "--root", str(DEMO_IMAGES), "--plan", "pro")
    # Far above the drill's load, so a 429 would be a fault of the fallback, not the load on a fast machine.
    cluster.imgate("workspace", "limits", "drill", "--requests-per-second", "5000", "--burst", "5000")
    key = cluster.imgate("key", "create", "drill", "--name", "ops", "--scope", "write").strip()
    wait_for(lambda: get(cluster.a, "/drill/photo-grey.jpg?w=20").status_code == 200, 5)
    wait_for(lambda: get(cluster.b, "/drill/photo-grey.jpg?w=20").status_code == 200, 5)
    probes = 2
    audited: list[int] = []

    def change(node: GatewayProcess, value: str) -> None:
        """A management change (an audited write) during the drill: it must be answered and recorded."""
        answer = cluster.api(node, "PATCH", "/workspaces/drill", {"allowed_origins": [value]}, key=key)
        assert answer.status_code == 200, answer.text
        audited.append(1)

    with Load({"a": cluster.a, "b": cluster.b}, "drill") as load:
        wait_for(lambda: load.answered() > 40, 15)

        # Redis goes away: limits fall back to each node, usage waits in memory; both keep answering.
        with cluster.redis.stopped():
            for node in (cluster.a, cluster.b):
                wait_for(reports(node, "redis", "degraded"), 10)
                status, body = health(node)
                assert status == 200 and body["status"] == "degraded"
            change(cluster.a, "https://during-redis.example")
            seen = load.answered()
            wait_for(lambda: load.answered() > seen + 40, 15)
        redis_back = time.monotonic()
        for node in (cluster.a, cluster.b):
            wait_for(reports(node, "redis", "ok"), 15)  # no restart
        redis_recovery = time.monotonic() - redis_back

        # The result store goes away: every miss is rendered, reads give up after result_s3_timeout.
        cluster.moto.stop()
        try:
            for node in (cluster.a, cluster.b):
                wait_for(reports(node, "result_store", "degraded"), 10)
            change(cluster.b, "https://during-moto.example")
            seen = load.answered()
            wait_for(lambda: load.answered() > seen + 40, 15)
        finally:
            cluster.moto.start()
        store_back = time.monotonic()
        for node in (cluster.a, cluster.b):
            wait_for(reports(node, "result_store", "ok"), 15)
        store_recovery = time.monotonic() - store_back

        # Node B is stopped mid-load (as an orchestrator does: SIGTERM, in-flight answers drained); A goes on.
        load.stopping.add("b")
        cluster.b.stop()
        seen = load.answered()
        wait_for(lambda: load.answered() > seen + 40, 15)
        change(cluster.a, "https://after-b.example")

    for name, counts in load.answers.items():
        assert set(counts) <= {200, 304}, (name, counts)  # no 500, no 503, no 429
    assert load.refused["a"] == 0, load.refused

    # Nothing accepted is lost: every answer of both nodes is in the shared usage counters, every change audited.
    answered = load.answered() + probes
    cluster.key, previous = key, cluster.key
    try:
        deadline = time.monotonic() + 10
        while (counted := usage_requests(cluster, cluster.a, "drill")) < answered and time.monotonic() < deadline:
            time.sleep(0.2)
        assert counted == answered, (counted, answered, load.answers)
        audit = cluster.api(cluster.a, "GET", "/workspaces/drill/audit")
        assert audit.status_code == 200, audit.text
        updates = [
            row
            for row in audit.json()["entries"]
            if row["operation"] == "PATCH /_/api/v1/workspaces/{ns}" and row["status"] == 200
        ]
        assert len(updates) == len(audited) == 3, audit.json()
    finally:
        cluster.key = previous
    print(
        f"drill: {answered} answers, per node {dict(load.answers)}; both nodes ok again "
        f"{redis_recovery:.1f} s after Redis and {store_recovery:.1f} s after the store came back"
    )
