"""Email addresses in one normal form, and user and membership records that validate themselves."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.accounts.users import InvalidEmail, Membership, User, new_user_id, normalise_email


@pytest.mark.parametrize(
    ("given_text", "normal"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM\n", "alice@example.com"),
        ("ALICE.Smith+News@EXAMPLE.com", "alice.smith+news@example.com"),
        ("alice@example.com.", "alice@example.com"),
        ("alice@bücher.example", "alice@xn--bcher-kva.example"),
        ("alice@BÜCHER.example", "alice@xn--bcher-kva.example"),
        ("alice@xn--bcher-kva.example", "alice@xn--bcher-kva.example"),
        ("JÖRG@example.com", "jörg@example.com"),
        ("jo\u0308rg@example.com", "jörg@example.com"),  # decomposed umlaut: NFC
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("a@b.co", "a@b.co"),
    ],
)
def test_normal_form(given_text: str, normal: str) -> None:
    assert normalise_email(given_text) == normal
    assert normalise_email(normal) == normal


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "alice",
        "@example.com",
        "alice@",
        "alice@@example.com",
        "al ice@example.com",
        '"alice"@example.com',
        "alice.@example.com",
        ".alice@example.com",
        "al..ice@example.com",
        "alice@localhost",
        "alice@127.0.0.1",
        "alice@[127.0.0.1]",
        "alice@exa mple.com",
        "alice@-.example",
        "alice(comment)@example.com",
        "ali\x00ce@example.com",
        "ali\u200bce@example.com",  # zero-width space
        "a" * 65 + "@example.com",
        "alice@" + "a" * 250 + ".com",
        "alice@" + ".".join(["a" * 60] * 5) + ".com",
        "alice@under_score.example",
        "alice@example-.com",
    ],
)
def test_refused(bad: str) -> None:
    with pytest.raises(InvalidEmail) as raised:
        normalise_email(bad)
    if len(bad) > 3:
        assert bad.strip() not in str(raised.value)


@given(st.text(max_size=80))
def test_any_text_is_a_normal_address_or_invalid_email(text: str) -> None:
    try:
        normal = normalise_email(text)
    except InvalidEmail:
        return
    assert normalise_email(normal) == normal
    assert normal == normal.lower() and normal.count("@") == 1 and normal.rpartition("@")[2].isascii()


@given(st.from_regex(r"[a-z0-9._+-]{1,20}@[a-z0-9]{1,10}\.[a-z]{2,6}", fullmatch=True))
def test_case_never_makes_two_addresses(email: str) -> None:
    try:
        normal = normalise_email(email)
    except InvalidEmail:
        return
    assert normalise_email(email.upper()) == normal
    assert normalise_email(email.title()) == normal


def test_user_records_hold_only_normal_addresses_and_real_ids() -> None:
    user_id = new_user_id()
    assert User(user_id, "alice@example.com").email == "alice@example.com"
    with pytest.raises(InvalidEmail, match="normal form"):
        User(user_id, "Alice@example.com")
    with pytest.raises(ValueError, match="user id"):
        User("alice", "alice@example.com")
    assert len({new_user_id() for _ in range(100)}) == 100


def test_membership_roles() -> None:
    assert Membership("acme", new_user_id(), "owner").is_owner
    assert not Membership("acme", new_user_id()).is_owner
    with pytest.raises(ValueError, match="role"):
        Membership("acme", new_user_id(), "admin")
    with pytest.raises(ValueError, match="namespace"):
        Membership("Acme", new_user_id())
