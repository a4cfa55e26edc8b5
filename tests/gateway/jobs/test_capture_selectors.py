"""Selectors are checked when a capture job is submitted, and when a ``?capture=`` URL is read: a selector
Chromium would refuse is ``400 VALIDATION_ERROR`` naming its field, not a job that waits out its time cap.
No job worker runs (``capture_job_workers = 0``): what is accepted stays queued."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.accounts.keys import issue_api_key
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.capture import parse_capture_options
from gateway.errors import ValidationError
from tests.gateway.jobs.asgi import send
from tests.gateway.web.running import Sent, call, running

CAPTURES = "/_/api/v1/captures"
PAGE_HOST = "127.0.0.1:8443"
PAGE = f"https://{PAGE_HOST}/"
SETTINGS = {
    "capture_job_workers": "0",
    "capture_jobs_max_queued_per_workspace": "100000",
    "capture_jobs_max_queued": "100000",
    "trusted_networks": "127.0.0.1/32",
    "capture_trusted_networks": "127.0.0.1/32",
}

Api = Callable[..., Sent]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, str]]:
    """One gateway app for the module, on an event loop of its own thread, so hypothesis (synchronous)
    can send many requests to it."""
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="acme", allowed_capture_domains=(PAGE_HOST,)))
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    context = running(tmp_path_factory.mktemp("selectors"), store, None, **SETTINGS)
    app = asyncio.run_coroutine_threadsafe(context.__aenter__(), loop).result(60)

    def request(kind: str, *args: Any) -> Sent:
        coroutine = send(app, *args) if kind == "send" else call(app, *args)
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(60)

    try:
        yield request, writer
    finally:
        asyncio.run_coroutine_threadsafe(context.__aexit__(None, None, None), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def submit(api: tuple[Api, str], change: dict[str, Any]) -> Sent:
    request, writer = api
    return request("send", "POST", CAPTURES, writer, {"url": PAGE, **change})


def click(selector: str) -> dict[str, Any]:
    return {"actions": [{"type": "click", "selector": "#ok"}, {"type": "click", "selector": selector}]}


VALID = [
    click("a[href^='https'] > img:nth-child(2n+1)"),
    click("li:not(.a, .b) ~ li"),
    click("form :is(input, select):invalid"),
    click("#\\31 a"),
    {"actions": [{"type": "type", "selector": "input[name=q]", "text": "hello"}, {"type": "wait", "selector": "ul"}]},
    {"hide": ["#banner", ".ad, .promo", "p::before", "::selection"]},
    {"redact": ["input[type=password]", ":has(> .secret)"]},
    {"output": {"format": "png", "element": "main > article:first-of-type"}},
    {"wait": "#app:not(:empty)"},
    {"wait": "networkidle"},
]

INVALID = [
    (click("a[href="), "actions[1].selector"),
    (click(":contains(secret)"), "actions[1].selector"),
    (click("svg|rect"), "actions[1].selector"),
    (click("p::before"), "actions[1].selector"),
    (click("div >"), "actions[1].selector"),
    ({"actions": [{"type": "wait", "selector": ":nth-child(x)"}]}, "actions[0].selector"),
    ({"hide": ["#ok", "a..b"]}, "hide[1]"),
    ({"hide": ["p::before .x"]}, "hide[0]"),
    ({"redact": ["p::after"]}, "redact[0]"),
    ({"redact": [":playing"]}, "redact[0]"),
    ({"output": {"format": "png", "element": ":unknown"}}, "output.element"),
    ({"output": {"format": "png", "element": "#1a"}}, "output.element"),
    ({"wait": "[x=y s]"}, "wait"),
    ({"wait": "!"}, "wait"),
]


@pytest.mark.parametrize("change", VALID)
def test_ordinary_selectors_are_queued(api: tuple[Api, str], change: dict[str, Any]) -> None:
    sent = submit(api, change)
    assert sent.status == 202, sent.body


@pytest.mark.parametrize(("change", "field"), INVALID)
def test_a_bad_selector_is_refused_naming_its_field(api: tuple[Api, str], change: dict[str, Any], field: str) -> None:
    sent = submit(api, change)
    assert sent.status == 400, sent.body
    error = json.loads(sent.body)["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"].startswith(f"{field}: "), error["message"]
    assert "secret" not in error["message"]


@pytest.mark.parametrize(
    ("name", "selector"),
    [("hide", "a..b"), ("hide", "svg|rect"), ("el", "p::before"), ("wait", ":contains(x)"), ("redact", "div >")],
)
def test_a_capture_url_with_a_bad_selector_is_refused_naming_its_parameter(
    api: tuple[Api, str], name: str, selector: str
) -> None:
    request, _ = api
    query = f"capture={quote(PAGE, safe='')}&{name}={quote(selector, safe='')}&fm=png".encode()
    sent = request("call", "/acme/", query)
    assert sent.status == 400, sent.body
    error = json.loads(sent.body)["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["message"].startswith(f"{name}: "), error


# CSS's own punctuation, so most examples get some way into the parser; and any text at all.
_CSS = st.text(alphabet=st.sampled_from(list("abdivsp#.-_*:[]()\"'\\=^$|~+>,@%! \t0129né")), max_size=80)
_SELECTOR = st.one_of(_CSS, st.text(max_size=220))


@given(selector=_SELECTOR, where=st.sampled_from(["action", "hide", "redact", "element", "wait"]))
# Text the parser once raised other than its syntax error for (an at-rule).
@example(selector="@page", where="action")
@example(selector="@media x", where="hide")
def test_no_selector_text_is_a_server_error(api: tuple[Api, str], selector: str, where: str) -> None:
    changes: dict[str, dict[str, Any]] = {
        "action": {"actions": [{"type": "click", "selector": selector}]},
        "hide": {"hide": [selector]},
        "redact": {"redact": [selector]},
        "element": {"output": {"format": "png", "element": selector}},
        "wait": {"wait": selector},
    }
    sent = submit(api, changes[where])
    assert sent.status in (202, 400), sent.body
    if sent.status == 400:
        assert json.loads(sent.body)["error"]["code"] == "VALIDATION_ERROR"


@given(selector=_SELECTOR, name=st.sampled_from(["hide", "redact", "el", "wait"]))
@example(selector="@PA", name="el")
def test_the_capture_url_parser_refuses_any_selector_text_as_a_validation_error(selector: str, name: str) -> None:
    # What a ?capture= URL's selector parameters go through; anything else it raised would answer 500.
    try:
        parse_capture_options([(name, selector)])
    except ValidationError as exc:
        assert exc.message.startswith(f"{name}: ")
