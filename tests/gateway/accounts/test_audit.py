"""Audit rows refuse what must never be logged; page cursors accept only what a store handed out."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.accounts.audit import AuditEntry, InvalidCursor, decode_cursor, encode_cursor, page_of
from gateway.accounts.keys import new_api_key

ROW = AuditEntry(1_700_000_000.5, "acme", "cli", "workspace.update", 200, 3.25)


@pytest.mark.parametrize("actor", ["cli", "owner@example.com", "imk_live_4Fq", "jörg@xn--bcher-kva.example"])
def test_actors(actor: str) -> None:
    assert dataclasses.replace(ROW, actor=actor).actor == actor


@pytest.mark.parametrize(
    "operation",
    ["workspace.update", "POST /_/api/v1/workspaces/{ns}/keys", "DELETE /_/api/v1/workspaces/{ns}/keys/{prefix}"],
)
def test_operations(operation: str) -> None:
    assert dataclasses.replace(ROW, operation=operation).operation == operation


def test_a_whole_api_key_is_never_an_actor() -> None:
    secret = new_api_key()[0]
    with pytest.raises(ValueError, match="prefix") as raised:
        dataclasses.replace(ROW, actor=secret)
    assert secret not in str(raised.value)


@pytest.mark.parametrize("actor", ["key:{secret}", "key:{part}", "api {secret} call", "{part}"])
def test_no_more_of_a_key_than_its_prefix_is_ever_in_an_actor(actor: str) -> None:
    secret = new_api_key()[0]
    with pytest.raises(ValueError, match="prefix") as raised:
        dataclasses.replace(ROW, actor=actor.format(secret=secret, part=secret[:13]))
    assert secret[:13] not in str(raised.value)
    assert dataclasses.replace(ROW, actor="key:" + secret[:12]).actor == "key:" + secret[:12]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"operation": "GET /acme/products/shoe.jpg?w=640"}, "never a URL"),
        ({"operation": "GET /_/api/v1/workspaces/acme#x"}, "never a URL"),
        ({"operation": "fetch https://origin.example/secret.jpg"}, "never a URL"),
        ({"operation": ""}, "operation"),
        ({"operation": "x" * 201}, "operation"),
        ({"operation": "line\nbreak"}, "operation"),
        ({"actor": ""}, "actor"),
        ({"actor": "a" * 255}, "actor"),
        ({"actor": "evil\r\nforged row"}, "actor"),
        ({"namespace": "Not_A_Namespace"}, "namespace"),
        ({"status": 42}, "status"),
        ({"status": 600}, "status"),
        ({"status": True}, "status"),
        ({"latency_ms": -1.0}, "latency"),
        ({"latency_ms": float("nan")}, "latency"),
        ({"at": float("inf")}, "time"),
    ],
)
def test_rows_refuse_what_must_not_be_logged(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(ROW, **changes)  # type: ignore[arg-type]


@given(at=st.floats(0, 4e9, allow_nan=False), entry_id=st.integers(0, 2**62))
def test_cursor_round_trip(at: float, entry_id: int) -> None:
    row = dataclasses.replace(ROW, at=at, entry_id=entry_id)
    assert decode_cursor(encode_cursor(row)) == (at, entry_id)


@given(st.text(max_size=80))
def test_any_text_is_a_cursor_or_invalid_cursor(text: str) -> None:
    try:
        at, entry_id = decode_cursor(text)
    except InvalidCursor:
        return
    assert at >= 0 and entry_id >= 0


def test_a_page_says_whether_there_is_another() -> None:
    rows = [dataclasses.replace(ROW, entry_id=n) for n in (3, 2, 1)]
    assert page_of(rows, 3).next_cursor is None
    page = page_of(rows, 2)
    assert page.entries == tuple(rows[:2]) and page.next_cursor == encode_cursor(rows[1])
    assert page_of([], 5).entries == () and page_of([], 5).next_cursor is None
