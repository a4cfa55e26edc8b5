"""Bodies and query strings into models: errors name the field and never repeat what was sent."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.types import Message

from gateway.errors import ValidationError
from gateway.routes.api.inputs import parse_body, parse_query, read_body
from gateway.routes.api.models import AuditQuery, KeyCreate, MarkCreate, PurgeRequest, UsageQuery, WorkspacePatch

PLANTED = "sk_planted_secret_value"


@pytest.mark.parametrize(
    ("model", "body", "starts"),
    [
        (WorkspacePatch, b'{"allowed_origins": "' + PLANTED.encode() + b'"}', "body.allowed_origins: "),
        (WorkspacePatch, b'{"' + PLANTED.encode() + b'": 1}', "body.sk_planted"),
        (KeyCreate, b'{"name": "x", "scope": "' + PLANTED.encode() + b'"}', "body.scope: "),
        (KeyCreate, b"{}", "body.name: "),
        (MarkCreate, b'{"name": "x", "alpha": "70"}', "body.alpha: "),
        (MarkCreate, b'{"name": "x", "tile": 1}', "body.tile: "),
        (WorkspacePatch, b'{"capture_retention": true}', "body.capture_retention: "),
        (WorkspacePatch, b"[]", "body: "),
        (WorkspacePatch, b'"' + PLANTED.encode() + b'"', "body: "),
        (WorkspacePatch, b"{" + PLANTED.encode(), "body: Invalid JSON"),
        (WorkspacePatch, b'{"revision": NaN}', "body.revision: "),
        (MarkCreate, b'{"name": "x", "scale": NaN}', "body.scale: "),
        (MarkCreate, b'{"name": "x", "scale": Infinity}', "body.scale: "),
    ],
)
def test_refusals_name_the_field(model: type, body: bytes, starts: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_body(model, body)
    assert refused.value.message.startswith(starts), refused.value.message
    if not starts.startswith("body.sk_planted"):
        assert PLANTED not in refused.value.message


def test_an_empty_body_is_an_empty_object() -> None:
    assert parse_body(PurgeRequest, b"").prefix == ""
    assert parse_body(PurgeRequest, b"  \n").prefix == ""
    assert parse_body(PurgeRequest, b" \t\r\n").prefix == ""
    # Whitespace to Python but not to JSON: not an empty body, and no JSON either.
    for body in (b"\x0b", b"\x0c", b" \x0b\n"):
        with pytest.raises(ValidationError, match="body: Invalid JSON"):
            parse_body(PurgeRequest, body)


def test_a_made_up_field_name_is_cut_short() -> None:
    with pytest.raises(ValidationError) as refused:
        parse_body(WorkspacePatch, b'{"' + b"x" * 5000 + b'\\u0007": 1}')
    assert len(refused.value.message) < 200 and "\x07" not in refused.value.message


def test_query_strings_coerce_but_refuse_repeats_and_strangers() -> None:
    parsed = parse_query(AuditQuery, [("limit", "20")])
    assert parsed is not None and parsed.limit == 20
    for pairs, starts in (
        ([("limit", "1"), ("limit", "2")], "query.limit: given more than once"),
        ([("page", "2")], "query.page: "),
        ([("limit", "0")], "query.limit: "),
        ([("limit", "501")], "query.limit: "),
    ):
        with pytest.raises(ValidationError) as refused:
            parse_query(AuditQuery, pairs)
        assert refused.value.message.startswith(starts)
    with pytest.raises(ValidationError):
        parse_query(None, [("anything", "x")])
    assert parse_query(None, []) is None


@given(st.binary(max_size=300))
def test_any_bytes_are_a_model_or_a_validation_error(body: bytes) -> None:
    try:
        parse_body(WorkspacePatch, body)
    except ValidationError as refused:
        assert refused.message.startswith("body")


def _request(content_length: bytes, body: bytes = b"{}") -> Request:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-length", content_length)]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive)


@pytest.mark.anyio
@pytest.mark.parametrize("length", [b"\xb2", b"\xb9", b"1\xbd", b"-1", b"0x10", b"1e3", b"", b"+2"])
async def test_a_content_length_that_is_no_ascii_number_is_a_validation_error(length: bytes) -> None:
    with pytest.raises(ValidationError) as refused:
        await read_body(_request(length), 1024)
    assert (refused.value.code, refused.value.status) == ("VALIDATION_ERROR", 400)
    assert refused.value.message == "Content-Length: must be a number of bytes"


@pytest.mark.anyio
async def test_a_content_length_in_ascii_digits_is_read() -> None:
    assert await read_body(_request(b" 2 "), 1024) == b"{}"


@pytest.mark.parametrize("written", ["0", "0.0", "1700000000", "2026-1-5", "20260105", " 2026-01-05"])
def test_a_query_day_is_written_as_a_day_never_read_as_a_unix_time(written: str) -> None:
    # Lax pydantic took "0.0" as 1970-01-01: a request the document calls invalid was answered 200.
    with pytest.raises(ValidationError) as refused:
        parse_query(UsageQuery, [("first", written)])
    assert refused.value.message.startswith("query.first: ")
    parsed = parse_query(UsageQuery, [("first", "2026-01-05"), ("last", "0001-01-01")])
    assert parsed is not None and (parsed.first, parsed.last) == (date(2026, 1, 5), date(1, 1, 1))
