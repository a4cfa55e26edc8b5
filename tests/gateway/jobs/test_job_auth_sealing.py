"""A capture job's headers and credentials as sealed at submit and opened by the worker, without a browser:
an https job's never travel over plain http whatever the workspace allows, an http job's may (and keep that at
the run: the worker refuses the job instead once the allowance is withdrawn), the capture domains they may go
to are narrowed to the workspace as it is at the run, a job sealed in the earlier format opens the same (and a
text that is no auth fails cleanly), and the API reference lists every refused header name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gateway.accounts.keys import issue_api_key
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.admin.captures import HEADER_PREFIXES_REFUSED, HEADERS_REFUSED
from gateway.errors import Internal
from gateway.jobs.scope import CaptureScope, needs_http_allowance
from gateway.jobs.spec import JobAuth
from gateway.routes.api.captures import AuthIn
from tests.gateway.jobs.asgi import send
from tests.gateway.web.running import running

KEY = Fernet.generate_key()
CAPTURES = "/_/api/v1/captures"
# Literal addresses both guards trust here; nothing listens on them (no worker runs).
PAGE_HOST = "127.0.0.1:8443"
OTHER_HOST = "127.0.0.1:8444"
PLANTED = "planted-sealed-token-51e7"


@pytest.mark.anyio
@pytest.mark.parametrize(("scheme", "plain_http"), [("https", False), ("http", True)])
async def test_only_an_http_jobs_headers_may_travel_over_http(tmp_path: Path, scheme: str, plain_http: bool) -> None:
    store = MemoryAccountStore()
    # The workspace and the gateway both allow http jobs: that alone must not let an https job's headers go
    # over http (its page loading http://<allowed host>/...).
    store.create_workspace(
        Workspace(namespace="acme", allowed_capture_domains=(PAGE_HOST,), capture_jobs_allow_http=True)
    )
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    settings = {
        "capture_job_workers": "0",
        "capture_jobs_allow_http": "true",
        "trusted_networks": "127.0.0.1/32",
        "capture_trusted_networks": "127.0.0.1/32",
        "secret_key": KEY.decode(),
    }
    body = {"url": f"{scheme}://{PAGE_HOST}/", "auth": {"headers": {"X-Api-Token": PLANTED}}}
    async with running(tmp_path, store, None, **settings) as app:
        queued = await send(app, "POST", CAPTURES, writer, body)
    assert queued.status == 202, queued.body
    job = store.capture_jobs.get(json.loads(queued.body)["id"])
    assert job is not None and job.auth_sealed
    auth = JobAuth.open(SecretBox(KEY), job.auth_sealed)
    assert auth.network.headers == (("X-Api-Token", PLANTED),)
    assert auth.scope.plain_http is plain_http
    assert auth.network.admits(f"https://{PAGE_HOST}/app.js")
    assert auth.network.admits(f"http://{PAGE_HOST}/app.js") is plain_http


def test_the_scope_is_the_workspaces_at_submit_and_at_the_run() -> None:
    sealed = CaptureScope((PAGE_HOST, OTHER_HOST), ())
    assert sealed(f"https://{PAGE_HOST}/") and sealed(f"https://{OTHER_HOST}/")
    switched_off = sealed.as_of((PAGE_HOST, OTHER_HOST), (OTHER_HOST,))
    assert switched_off(f"https://{PAGE_HOST}/") and not switched_off(f"https://{OTHER_HOST}/")
    removed = sealed.as_of((PAGE_HOST,), ())
    assert removed(f"https://{PAGE_HOST}/") and not removed(f"https://{OTHER_HOST}/")
    # Allowed only since the submit: not what the job's owner allowed.
    added = CaptureScope((PAGE_HOST,), ()).as_of((PAGE_HOST, OTHER_HOST), ())
    assert not added(f"https://{OTHER_HOST}/")
    assert not CaptureScope(("[",), ())(f"https://{PAGE_HOST}/")  # a list that does not compile admits nothing
    assert not sealed("not a url") and not sealed(f"ftp://{PAGE_HOST}/")
    # The worker's narrowing reaches the job's network auth, and leaves an auth without one alone.
    auth = JobAuth.open(
        SecretBox(KEY), _sealed_before({"headers": [["X-A", PLANTED]], "allowed_domains": [OTHER_HOST]})
    )
    assert auth.network.admits(f"https://{OTHER_HOST}/")
    assert not auth.as_of((PAGE_HOST,), ()).network.admits(f"https://{OTHER_HOST}/")
    assert JobAuth().as_of((), ()) == JobAuth()


def test_plain_http_is_the_jobs_as_sealed_at_submit() -> None:
    # An http job's scope: its headers may go over http to its capture domains, still after the worker's
    # narrowing (a job whose allowance was withdrawn is refused before that: test_workers.py).
    sealed = CaptureScope((PAGE_HOST,), (), plain_http=True)
    assert sealed(f"http://{PAGE_HOST}/app.js")
    kept = sealed.as_of((PAGE_HOST,), ())
    assert kept(f"http://{PAGE_HOST}/app.js") and kept(f"https://{PAGE_HOST}/app.js")
    # Narrowed by the capture domains alone: one switched off gets nothing, over http or https.
    switched_off = sealed.as_of((PAGE_HOST,), (PAGE_HOST,))
    assert not switched_off(f"http://{PAGE_HOST}/app.js") and not switched_off(f"https://{PAGE_HOST}/app.js")
    # An https job's scope never admits http, whatever the workspace allows by the run.
    assert not CaptureScope((PAGE_HOST,), ()).as_of((PAGE_HOST,), ())(f"http://{PAGE_HOST}/app.js")
    # What the job was sealed with reaches its network auth through the worker's narrowing.
    auth = JobAuth.open(
        SecretBox(KEY),
        _sealed_before({"headers": [["X-A", PLANTED]], "allowed_domains": [PAGE_HOST], "plain_http": True}),
    )
    assert auth.as_of((PAGE_HOST,), ()).network.admits(f"http://{PAGE_HOST}/app.js")


@pytest.mark.parametrize(
    ("url", "needs"),
    [
        (f"https://{PAGE_HOST}/", False),
        (f"HTTPS://{PAGE_HOST}/hook", False),
        (f"http://{PAGE_HOST}/", True),
        (f"HTTP://{PAGE_HOST}/hook", True),
        # Anything else the parsers let by would travel unprotected too: refused unless allowed.
        (f"ftp://{PAGE_HOST}/", True),
        (f"//{PAGE_HOST}/", True),
    ],
)
def test_every_url_but_https_needs_the_http_allowance(url: str, needs: bool) -> None:
    assert needs_http_allowance(url) is needs


def _sealed_before(network: dict[str, object]) -> str:
    """A job's auth as sealed before its network parts were one value: at the top level, named as then."""
    return SecretBox(KEY).seal(json.dumps({"cookies": [], "local_storage": {"k": "v"}, **network}))


def test_a_job_sealed_in_the_earlier_format_opens_the_same() -> None:
    old = {
        "headers": [["X-Api-Token", PLANTED]],
        "basic": ["alice", PLANTED],
        "allowed_domains": [PAGE_HOST],
        "disabled_domains": [OTHER_HOST],
        "plain_http": True,
    }
    opened = JobAuth.open(SecretBox(KEY), _sealed_before(old))
    assert opened.local_storage == {"k": "v"}
    assert opened.network.headers == (("X-Api-Token", PLANTED),) and opened.network.basic == ("alice", PLANTED)
    assert opened.scope == CaptureScope((PAGE_HOST,), (OTHER_HOST,), True)
    # Sealed again, it is in the current format and opens to the same.
    again = JobAuth.open(SecretBox(KEY), opened.seal(SecretBox(KEY)))
    assert again.network.headers == opened.network.headers and again.network.basic == opened.network.basic
    assert again.scope == opened.scope and again.local_storage == opened.local_storage
    assert "network" in json.loads(SecretBox(KEY).open(opened.seal(SecretBox(KEY))))
    # Cookies and localStorage only, sealed before headers existed at all.
    bare = JobAuth.open(SecretBox(KEY), _sealed_before({}))
    assert not bare.network and bare.local_storage == {"k": "v"}


@pytest.mark.parametrize(
    "plain",
    ['{"cookies": []}', "[]", "not json", '{"cookies": [], "local_storage": {}, "network": {"basic": ["x"]}}'],
)
def test_a_sealed_text_that_is_no_auth_fails_cleanly(plain: str) -> None:
    with pytest.raises(Internal) as failed:
        JobAuth.open(SecretBox(KEY), SecretBox(KEY).seal(plain))
    assert "sealed auth" in failed.value.message and plain not in failed.value.message


def test_the_api_reference_lists_every_refused_header_name() -> None:
    description = AuthIn.model_fields["headers"].description or ""
    for name in (*HEADERS_REFUSED, *HEADER_PREFIXES_REFUSED):
        assert f"`{name}`" in description, name
    reference = (Path(__file__).parents[3] / "docs" / "api.md").read_text()
    assert description in reference, "docs/api.md is not regenerated: python -m gateway.routes.api.reference"
