"""External sources for ?src=: parsing refuses every confusing form; patterns match what they say."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.policy import InvalidPattern, InvalidSourceURL, SourceAllowlist, SourceURL, parse_source_url


def verdict(patterns: list[str], raw: str) -> str:
    """What the gateway answers: 'invalid' is 400 VALIDATION_ERROR, 'denied' is 403 SOURCE_NOT_ALLOWED."""
    try:
        url = parse_source_url(raw)
    except InvalidSourceURL:
        return "invalid"
    return "allowed" if SourceAllowlist.compile(patterns).allows(url) else "denied"


CDN_IMAGES = ["cdn.example.com/images/"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://cdn.example.com/images/a.jpg", "allowed"),
        ("http://cdn.example.com/images/a.jpg", "allowed"),
        ("https://CDN.Example.COM./images/a.jpg", "allowed"),
        ("https://cdn.example.com:443/images/a.jpg", "allowed"),
        ("https://cdn.example.com/images", "allowed"),
        ("https://cdn.example.com/%69mages/a.jpg", "allowed"),  # the same path, as the server decodes it
        ("https://cdn.example.com/images/sub/a.jpg?w=1", "allowed"),
        # path prefix on segment boundaries
        ("https://cdn.example.com/images-evil/a.jpg", "denied"),
        ("https://cdn.example.com/imagesx/a.jpg", "denied"),
        ("https://cdn.example.com/a/images/a.jpg", "denied"),
        ("https://cdn.example.com//images/a.jpg", "denied"),
        ("https://cdn.example.com/Images/a.jpg", "denied"),
        # other hosts and ports
        ("https://cdn.example.com.evil.net/images/a.jpg", "denied"),
        ("https://evilcdn.example.com/images/a.jpg", "denied"),
        ("https://sub.cdn.example.com/images/a.jpg", "denied"),
        ("https://evil.net/@cdn.example.com/images/a.jpg", "denied"),
        ("https://cdn.example.com:8443/images/a.jpg", "denied"),
        ("https://127.0.0.1/images/a.jpg", "denied"),
        # userinfo and '@'
        ("https://cdn.example.com@evil.net/images/a.jpg", "invalid"),
        ("https://user:pw@cdn.example.com/images/a.jpg", "invalid"),
        ("https://cdn.example.com%2f@evil.net/images/", "invalid"),
        # dot segments and encoded separators
        ("https://cdn.example.com/images/../secret.jpg", "invalid"),
        ("https://cdn.example.com/images/./a.jpg", "invalid"),
        ("https://cdn.example.com/images/..;/secret.jpg", "invalid"),
        ("https://cdn.example.com/images/%2e%2e/secret.jpg", "invalid"),
        ("https://cdn.example.com/images/%2E%2E/secret.jpg", "invalid"),
        ("https://cdn.example.com/images/.%2e/secret.jpg", "invalid"),
        ("https://cdn.example.com/images/a%2ejpg", "invalid"),
        ("https://cdn.example.com/images%2f..%2fsecret.jpg", "invalid"),
        ("https://cdn.example.com/images/%252e%252e/secret.jpg", "invalid"),
        ("https://cdn.example.com/images/%25252e%25252e/secret.jpg", "invalid"),
        ("https://cdn.example.com/images/%5c../secret.jpg", "invalid"),
        ("https://cdn.example.com/images/a%00.jpg", "invalid"),
        ("https://cdn.example.com/images/a%zz.jpg", "invalid"),
        # overlong UTF-8 forms of '.' and '/', which some decoders still accept
        ("https://cdn.example.com/images/%c0%ae%c0%ae/private/x.jpg", "invalid"),
        ("https://cdn.example.com/images/%c0%ae%c0%ae%c0%afprivate/x.jpg", "invalid"),
        ("https://cdn.example.com/images/%e0%80%ae%e0%80%ae/private/x.jpg", "invalid"),
        # backslashes
        ("https://cdn.example.com\\@evil.net/images/a.jpg", "invalid"),
        ("https://cdn.example.com/images\\..\\secret.jpg", "invalid"),
        ("https:\\\\cdn.example.com/images/a.jpg", "invalid"),
        # hosts a parser could read two ways
        ("https://[::1]/images/a.jpg", "invalid"),
        ("https://[::ffff:127.0.0.1]/images/a.jpg", "invalid"),
        ("https://2130706433/images/a.jpg", "invalid"),
        ("https://0x7f000001/images/a.jpg", "invalid"),
        ("https://0177.0.0.1/images/a.jpg", "invalid"),
        ("https://127.1/images/a.jpg", "invalid"),
        ("https://cdn%2eexample.com/images/a.jpg", "invalid"),
        ("https:///cdn.example.com/images/a.jpg", "invalid"),
        ("https://cdn.example.com:/images/a.jpg", "invalid"),
        ("https://cdn.example.com:99999/images/a.jpg", "invalid"),
        # schemes and shapes
        ("ftp://cdn.example.com/images/a.jpg", "invalid"),
        ("file:///etc/passwd", "invalid"),
        ("//cdn.example.com/images/a.jpg", "invalid"),
        ("https:cdn.example.com/images/a.jpg", "invalid"),
        ("https:/cdn.example.com/images/a.jpg", "invalid"),
        ("https://cdn.example.com/images/a.jpg#x", "invalid"),
        # whitespace and invisible characters
        (" https://cdn.example.com/images/a.jpg", "invalid"),
        ("https://cdn.example.com/images/a .jpg", "invalid"),
        ("https://cdn.example.com/images/a\t.jpg", "invalid"),
        ("https://cdn.example.com/images/a\u202e.jpg", "invalid"),
        ("https://cdn.example.com/images/a\u200b.jpg", "invalid"),
        ("https://cdn.example.com\u3000/images/a.jpg", "invalid"),
    ],
)
def test_sneaky_sources(raw: str, expected: str) -> None:
    assert verdict(CDN_IMAGES, raw) == expected


@pytest.mark.parametrize(
    ("patterns", "raw", "expected"),
    [
        (["*"], "https://any.example.org/a.jpg", "allowed"),
        (["*"], "http://any.example.org/a.jpg", "allowed"),
        (["*"], "https://any.example.org:8080/a.jpg", "denied"),
        (["*"], "https://127.0.0.1/a.jpg", "denied"),
        (["127.0.0.1"], "https://127.0.0.1/a.jpg", "allowed"),
        (["*.example.com"], "https://a.b.example.com/x.jpg", "allowed"),
        (["*.example.com"], "https://example.com/x.jpg", "denied"),
        (["https://cdn.example.com"], "http://cdn.example.com/x.jpg", "denied"),
        (["https://cdn.example.com"], "https://cdn.example.com/x.jpg", "allowed"),
        (["cdn.example.com:8443"], "https://cdn.example.com:8443/x.jpg", "allowed"),
        (["cdn.example.com:8443"], "http://cdn.example.com:8443/x.jpg", "allowed"),
        (["cdn.example.com:8443"], "https://cdn.example.com/x.jpg", "denied"),
        (["http://cdn.example.com:443"], "https://cdn.example.com/x.jpg", "denied"),
        (["https://*.example.com:8443/a/b"], "https://x.example.com:8443/a/b/c.jpg", "allowed"),
        (["https://*.example.com:8443/a/b"], "https://x.example.com:8443/a/bc.jpg", "denied"),
        (["cdn.example.com/fotos/café/"], "https://cdn.example.com/fotos/caf%C3%A9/x.jpg", "allowed"),
        (["cdn.example.com/fotos/café/"], "https://cdn.example.com/fotos/café/x.jpg", "allowed"),
        (["bücher.example"], "https://xn--bcher-kva.example/x.jpg", "allowed"),
        (["xn--bcher-kva.example"], "https://BÜCHER.example/x.jpg", "allowed"),
        ([], "https://cdn.example.com/x.jpg", "denied"),
    ],
)
def test_source_patterns(patterns: list[str], raw: str, expected: str) -> None:
    assert verdict(patterns, raw) == expected


def test_the_normalised_url_is_what_gets_fetched_and_hashed() -> None:
    url = parse_source_url("HTTPS://Cdn.Example.COM.:443/Images/Caf\u00e9%20x.jpg?b=2&a=\u00e9")
    assert url == SourceURL("https", "cdn.example.com", 443, "/Images/Caf%C3%A9%20x.jpg", "b=2&a=%C3%A9")
    assert url.url == "https://cdn.example.com/Images/Caf%C3%A9%20x.jpg?b=2&a=%C3%A9"
    assert parse_source_url("http://cdn.example.com:8080").url == "http://cdn.example.com:8080/"
    assert parse_source_url("https://cdn.example.com/a?").url == "https://cdn.example.com/a"
    assert parse_source_url('https://cdn.example.com/a"<>{}|.jpg').path == "/a%22%3C%3E%7B%7D%7C.jpg"


def test_a_percent_sign_that_is_just_a_percent_sign_passes() -> None:
    assert parse_source_url("https://cdn.example.com/50%25off.jpg").path == "/50%25off.jpg"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("https://cdn.example.com@evil.net/", "credentials"),
        ("https://[::1]/", "IPv6"),
        ("https://2130706433/", "dotted-quad"),
        ("https://cdn.example.com/a/../b", "'..'"),
        ("https://cdn.example.com/%2e%2e/b", "encoded"),
        ("https://cdn.example.com/%252e%252e/b", "double-encoded"),
        ("https://cdn.example.com\\evil.net/", "backslash"),
        ("gopher://cdn.example.com/", "only http and https"),
    ],
)
def test_each_refusal_says_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidSourceURL, match=re.escape(reason)):
        parse_source_url(raw)


def test_refusals_never_echo_the_url() -> None:
    with pytest.raises(InvalidSourceURL) as caught:
        parse_source_url("https://admin:s3cret@10.0.0.5/images/a.jpg")
    assert "s3cret" not in str(caught.value) and "10.0.0.5" not in str(caught.value)


URLISH = st.text(alphabet="htps:/\\@%.?#[]0x7fFeE2c5a;~é\u3000 \t", max_size=30)


@given(st.one_of(st.text(max_size=60), URLISH, URLISH.map(lambda s: "https://" + s)))
def test_parsing_raises_only_its_own_error(raw: str) -> None:
    try:
        parse_source_url(raw)
    except InvalidSourceURL:
        pass


@given(st.one_of(URLISH.map(lambda s: "https://a.example" + s), URLISH.map(lambda s: "http://" + s)))
def test_a_parsed_url_is_safe_and_parses_to_itself(raw: str) -> None:
    try:
        url = parse_source_url(raw)
    except InvalidSourceURL:
        return
    text = url.url
    assert text.isascii() and "\\" not in text and "#" not in text and not any(c.isspace() for c in text)
    assert "@" not in text.split("/", 3)[2]
    assert not {".", ".."} & {segment.split(";")[0] for segment in url.path.split("/")}
    assert parse_source_url(text) == url


SEGMENTS = ["images", "images-evil", "imagesx", "a", "b.jpg", "x y"]


@given(
    prefix=st.lists(st.sampled_from(SEGMENTS[:3] + ["a"]), min_size=1, max_size=2),
    path=st.lists(st.sampled_from(SEGMENTS), min_size=0, max_size=4),
    trailing_slash=st.booleans(),
)
def test_path_prefixes_match_whole_segments(prefix: list[str], path: list[str], trailing_slash: bool) -> None:
    pattern = "cdn.example.com/" + "/".join(prefix) + ("/" if trailing_slash else "")
    url = parse_source_url("https://cdn.example.com/" + "/".join(s.replace(" ", "%20") for s in path))
    assert SourceAllowlist.compile([pattern]).allows(url) == (path[: len(prefix)] == prefix)


@pytest.mark.parametrize(
    "pattern",
    ["*.com", "https://*", "*/images/", "ftp://cdn.example.com", "cdn.example.com:0", "cdn.example.com:99999",
     "cdn.example.com/../x", "cdn.example.com/a//b", "user@cdn.example.com", "cdn.example.com?x",
     "cdn.example.com/a%2fb", "cdn.example.com/images/*", "2130706433", "[::1]", ""],
)  # fmt: skip
def test_invalid_source_patterns_name_the_pattern(pattern: str) -> None:
    with pytest.raises(InvalidPattern) as caught:
        SourceAllowlist.compile([pattern])
    assert repr(pattern) in str(caught.value)
