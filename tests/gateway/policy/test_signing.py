"""Signed URLs: both schemes verify what their signers write, and no mutation of a signed URL verifies."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from imgix import UrlBuilder

from gateway.errors import BadSignature, SignatureExpired, ValidationError
from gateway.policy.signing import OpenedKeys, sign_url, verify

SECRET = "imgate-test-secret-0123456789abcdef"
OLD_SECRET = "imgate-previous-secret-0123456789"
TOKEN = "aBcDeFgH12345678"
KEYS = OpenedKeys(imgate=(SECRET.encode(), OLD_SECRET.encode()), imgix=(TOKEN.encode(),))
NOW = 1_800_000_000.0


def split(url: str) -> tuple[bytes, bytes]:
    parts = urlsplit(url)
    return parts.path.encode(), parts.query.encode()


def check(url: str, now: float = NOW) -> None:
    path, query = split(url)
    verify(KEYS, path, query, now)


def test_an_imgate_signature_verifies_with_either_active_secret() -> None:
    params = [("w", "400"), ("fit", "crop"), ("fm", "webp")]
    check(sign_url("/acme/shoe%20red.jpg", params, SECRET))
    check(sign_url("/acme/shoe%20red.jpg", params, OLD_SECRET))
    with pytest.raises(BadSignature):
        check(sign_url("/acme/shoe%20red.jpg", params, "some-other-secret-0123456789"))


def test_a_url_without_parameters_and_with_only_a_signature_verifies() -> None:
    url = sign_url("/acme/a.jpg", [], SECRET)
    assert url.startswith("/acme/a.jpg?s=")
    check(url)


def test_a_missing_or_malformed_signature_is_bad() -> None:
    for query in (b"w=400", b"w=400&s=", b"w=400&s=zz", b"s=" + b"0" * 31, b"w=400&s=" + b"A" * 64):
        with pytest.raises(BadSignature):
            verify(KEYS, b"/acme/a.jpg", query, NOW)


def test_the_signature_must_be_the_last_parameter() -> None:
    url = sign_url("/acme/a.jpg", [("w", "400")], SECRET)
    path, query = split(url)
    signature = query.split(b"&")[-1]
    with pytest.raises(BadSignature):
        verify(KEYS, path, signature + b"&w=400", NOW)


def test_expires_is_signed_and_checked() -> None:
    url = sign_url("/acme/a.jpg", [("w", "400")], SECRET, expires=int(NOW) + 60)
    check(url, NOW)
    with pytest.raises(SignatureExpired):
        check(url, NOW + 61)
    # Moving the expiry is a mutation like any other.
    with pytest.raises(BadSignature):
        check(url.replace(f"expires={int(NOW) + 60}", f"expires={int(NOW) + 6000}"), NOW + 61)


def test_a_malformed_expires_in_a_signed_url_is_named() -> None:
    url = sign_url("/acme/a.jpg", [("expires", "soon")], SECRET)
    with pytest.raises(ValidationError, match="expires"):
        check(url)


def test_an_unsorted_imgate_query_is_refused_even_when_signed_as_sent() -> None:
    import hashlib
    import hmac

    text = b"/acme/a.jpg?w=400&fit=crop"
    signature = hmac.new(SECRET.encode(), text, hashlib.sha256).hexdigest().encode()
    with pytest.raises(BadSignature):
        verify(KEYS, b"/acme/a.jpg", b"w=400&fit=crop&s=" + signature, NOW)


@pytest.mark.parametrize("library_param", [True, False])
def test_imgix_python_signs_urls_that_verify(library_param: bool) -> None:
    builder = UrlBuilder("img.example.com", sign_key=TOKEN, include_library_param=library_param)
    for path, params in [
        ("acme/photo.jpg", {"w": 640, "auto": "format"}),
        ("acme/a folder/ünïcode.jpg", {"txt": "Hello, World & friends", "w": 100}),
        ("acme/photo.jpg", {}),
    ]:
        check(builder.create_url(path, params))
    for url in builder.create_srcset("acme/photo.jpg", {"w": 400}).split(","):
        check(url.strip().split(" ")[0])
    for url in builder.create_srcset("acme/photo.jpg", widths=[100, 200, 300]).split(","):
        check(url.strip().split(" ")[0])


def test_an_imgix_signature_made_with_another_token_is_bad() -> None:
    builder = UrlBuilder("img.example.com", sign_key="ZZZZZZZZ12345678")
    with pytest.raises(BadSignature):
        check(builder.create_url("acme/photo.jpg", {"w": 640}))


names = st.sampled_from(["w", "h", "fit", "fm", "q", "blur", "auto", "crop", "v"])
values = st.text(alphabet="abcxyz0123456789 ,/&=%+é", min_size=1, max_size=8)
param_lists = st.lists(st.tuples(names, values), min_size=1, max_size=5, unique_by=lambda pair: pair[0])


def mutations(query: str, draw: st.DrawFn) -> str:
    items = query.split("&")
    body, signature = items[:-1], items[-1]
    choice = draw(st.sampled_from(["add", "remove", "reorder", "reencode", "value", "case"]))
    if choice == "add":
        body.insert(draw(st.integers(0, len(body))), f"{draw(names)}={draw(values)}".replace("&", "%26"))
    elif choice == "remove" and body:
        body.pop(draw(st.integers(0, len(body) - 1)))
    elif choice == "reorder" and len(body) > 1:
        body = draw(st.permutations(body))
    elif choice == "reencode" and body:
        index = draw(st.integers(0, len(body) - 1))
        name, _, value = body[index].partition("=")
        # One character spelled as its percent-escape (or an escape decoded): the same decoded value.
        if "%" in value:
            at = value.index("%")
            value = value[:at] + chr(int(value[at + 1 : at + 3], 16)) + value[at + 3 :]
        else:
            value = f"%{ord(value[0]):02X}" + value[1:]
        body[index] = f"{name}={value}"
    elif choice == "value" and body:
        index = draw(st.integers(0, len(body) - 1))
        body[index] = body[index] + "0"
    else:
        body = [item.upper() for item in body]
    return "&".join([*body, signature])


@st.composite
def mutated(draw: st.DrawFn, scheme: str) -> tuple[str, str]:
    params = draw(param_lists)
    if scheme == "imgate":
        url = sign_url("/acme/photo.jpg", params, SECRET)
    else:
        url = UrlBuilder("img.example.com", sign_key=TOKEN).create_url("acme/photo.jpg", dict(params))
    path, query = split(url)
    return url, f"{path.decode()}?{mutations(query.decode(), draw)}"


@pytest.mark.parametrize("scheme", ["imgate", "imgix"])
@given(data=st.data())
def test_no_mutation_of_a_signed_url_verifies(scheme: str, data: st.DataObject) -> None:
    original, changed = data.draw(mutated(scheme))
    check(original)
    assume(split(changed) != split(original))
    with pytest.raises((BadSignature, ValidationError)):
        check(changed)


@given(path=st.text(alphabet="abc/%20é", min_size=1, max_size=12))
def test_another_path_never_verifies(path: str) -> None:
    url = sign_url("/acme/photo.jpg", [("w", "100")], SECRET)
    assume(path != "/acme/photo.jpg")
    _, query = split(url)
    with pytest.raises(BadSignature):
        verify(KEYS, path.encode(), query, NOW)
