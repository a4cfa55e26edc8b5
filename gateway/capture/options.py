"""Capture options from URL parameters, and the target URL check.

``parse_capture_options`` reads only the names in ``CAPTURE_PARAMETERS`` (the route splits the query
between transform and capture parameters and refuses names that are neither). Every bad value is a
``ValidationError`` that names its parameter. ``CaptureOptions.canonical()`` is the cache-key form:
two option sets that can render differently never share it.

Selectors (``wait``, ``hide``, ``redact``, ``el``) are checked here for size and characters, and by the
browser's own CSS parser before use; ``{`` and ``}`` are refused outright because ``hide`` turns
selectors into CSS rules and a brace could smuggle in a second rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from gateway.capture.settings import CaptureSettings
from gateway.errors import ValidationError
from gateway.netguard import host_address

CAPTURE_PARAMETERS: frozenset[str] = frozenset(
    {"vw", "vh", "full", "cdpr", "wait", "delay", "hide", "redact", "dark", "el"}
)

VIEWPORT_WIDTH = (320, 3840)
VIEWPORT_HEIGHT = (240, 2160)
MAX_SELECTOR_CHARS = 200
MAX_SELECTORS = 20
MAX_URL_CHARS = 2048
_CDPR_MAX = Decimal(3)
_CDPR_FORM = re.compile(r"[0-9](?:\.[0-9]{1,2})?")
_INT_FORM = re.compile(r"[0-9]{1,6}")
# Control characters and braces; see the module docstring for why braces.
_SELECTOR_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f{}]")
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True, slots=True)
class CaptureOptions:
    vw: int = 1280
    vh: int = 800
    full: bool = False
    cdpr: Decimal = Decimal(1)
    wait: str | None = None
    delay: int = 0
    hide: tuple[str, ...] = ()
    redact: tuple[str, ...] = ()
    dark: bool = False
    el: str | None = None

    def pairs(self) -> list[tuple[str, str]]:
        """Every option, defaults included, in one fixed order; ``parse_capture_options`` reads it back."""
        pairs = [
            ("vw", str(self.vw)),
            ("vh", str(self.vh)),
            ("full", "1" if self.full else "0"),
            ("cdpr", _format_decimal(self.cdpr)),
            ("delay", str(self.delay)),
            ("dark", "1" if self.dark else "0"),
        ]
        for name, selectors in (("hide", self.hide), ("redact", self.redact)):
            if selectors:
                pairs.append((name, ",".join(selectors)))
        for name, selector in (("wait", self.wait), ("el", self.el)):
            if selector is not None:
                pairs.append((name, selector))
        return pairs

    def canonical(self) -> str:
        return urlencode(self.pairs(), quote_via=quote, safe="")


def parse_capture_options(items: Iterable[tuple[str, str]], settings: CaptureSettings | None = None) -> CaptureOptions:
    """Read the capture parameters among ``items`` (query pairs, in any order); others are skipped."""
    limits = settings or CaptureSettings()
    values: dict[str, object] = {}
    for name, raw in items:
        parser = _PARSERS.get(name)
        if parser is None:
            continue
        if name in values:
            raise ValidationError(f"{name}: given more than once")
        values[name] = parser(name, raw, limits)
    return CaptureOptions(**values)  # type: ignore[arg-type]  # each parser returns its field's type


def validate_target(url: str) -> str:
    """Check a ``capture=`` URL and return its normal form: scheme and host lower-cased, the host in
    IDNA (ASCII) form, numeric IPv4 spellings as dotted quads, default ports and a trailing dot dropped.

    Only http and https; no credentials; no whitespace, control characters or backslashes (browsers
    read ``\\`` as ``/``, so ``https://a.example\\@b.example`` would not mean what it seems to).
    """
    if len(url) > MAX_URL_CHARS:
        raise ValidationError(f"capture: the URL is longer than {MAX_URL_CHARS} characters")
    if _URL_FORBIDDEN.search(url):
        raise ValidationError("capture: the URL contains whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError("capture: not a valid URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValidationError("capture: only http and https URLs can be captured")
    if "@" in parts.netloc:
        raise ValidationError("capture: credentials in the URL are not allowed")
    host = _normal_host(parts.hostname or "")
    if port == 0:
        raise ValidationError("capture: port 0 is not valid")
    if port == {"http": 80, "https": 443}[scheme]:
        port = None
    netloc = host if port is None else f"{host}:{port}"
    path = _quote_non_ascii(parts.path) or "/"
    return urlunsplit((scheme, netloc, path, _quote_non_ascii(parts.query), _quote_non_ascii(parts.fragment)))


def _normal_host(host: str) -> str:
    host = host.rstrip(".")
    if not host:
        raise ValidationError("capture: the URL has no host")
    literal = host_address(host)
    if literal is not None:
        return f"[{literal}]" if literal.version == 6 else str(literal)
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValidationError("capture: the host name is not valid") from exc
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9_.-]*[a-z0-9])?", ascii_host) or ".." in ascii_host:
        raise ValidationError("capture: the host name is not valid")
    return ascii_host


def _quote_non_ascii(text: str) -> str:
    # Keeps every ASCII character (including existing %-escapes) and encodes the rest as UTF-8.
    return quote(text, safe="".join(chr(code) for code in range(0x21, 0x7F)))


def _format_decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _integer(name: str, raw: str, low: int, high: int) -> int:
    if not _INT_FORM.fullmatch(raw):
        raise ValidationError(f"{name}: must be a whole number from {low} to {high}")
    value = int(raw)
    if not low <= value <= high:
        raise ValidationError(f"{name}: must be from {low} to {high}")
    return value


def _flag(name: str, raw: str, _: CaptureSettings) -> bool:
    if raw not in ("0", "1"):
        raise ValidationError(f"{name}: must be 0 or 1")
    return raw == "1"


def _vw(name: str, raw: str, _: CaptureSettings) -> int:
    return _integer(name, raw, *VIEWPORT_WIDTH)


def _vh(name: str, raw: str, _: CaptureSettings) -> int:
    return _integer(name, raw, *VIEWPORT_HEIGHT)


def _delay(name: str, raw: str, limits: CaptureSettings) -> int:
    return _integer(name, raw, 0, limits.max_delay_ms)


def _cdpr(name: str, raw: str, _: CaptureSettings) -> Decimal:
    try:
        value = Decimal(raw) if _CDPR_FORM.fullmatch(raw) else None
    except InvalidOperation:
        value = None
    if value is None or not Decimal(1) <= value <= _CDPR_MAX:
        raise ValidationError(f"{name}: must be a number from 1 to 3 with at most two decimals")
    return value.normalize()


def _selector(name: str, raw: str, _: CaptureSettings | None = None) -> str:
    selector = raw.strip()
    if not selector:
        raise ValidationError(f"{name}: the selector is empty")
    if len(selector) > MAX_SELECTOR_CHARS:
        raise ValidationError(f"{name}: a selector is longer than {MAX_SELECTOR_CHARS} characters")
    if _SELECTOR_FORBIDDEN.search(selector):
        raise ValidationError(f"{name}: a selector contains a brace or a control character")
    try:
        split_selector_list(selector)
    except ValueError:
        raise ValidationError(f"{name}: brackets, parentheses or quotes do not balance") from None
    return selector


def _selector_list(name: str, raw: str, _: CaptureSettings) -> tuple[str, ...]:
    try:
        parts = split_selector_list(raw)
    except ValueError:
        raise ValidationError(f"{name}: brackets, parentheses or quotes do not balance") from None
    selectors = tuple(_selector(name, part) for part in parts)
    if len(selectors) > MAX_SELECTORS:
        raise ValidationError(f"{name}: at most {MAX_SELECTORS} selectors")
    return selectors


def split_selector_list(text: str) -> list[str]:
    """Split ``a, b:is(c, d), [x=","]`` at its top-level commas only. ``ValueError`` when brackets,
    parentheses or quotes do not balance: such a selector can never be valid."""
    parts: list[str] = []
    closers: list[str] = []
    quote_char, escaped, start = "", False, 0
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quote_char:
            if char == quote_char:
                quote_char = ""
        elif char in "\"'":
            quote_char = char
        elif char in "([":
            closers.append(")" if char == "(" else "]")
        elif char in ")]":
            if not closers or closers.pop() != char:
                raise ValueError("unbalanced selector")
        elif char == "," and not closers:
            parts.append(text[start:index])
            start = index + 1
    if quote_char or closers or escaped:
        raise ValueError("unbalanced selector")
    parts.append(text[start:])
    return parts


_PARSERS: dict[str, Callable[[str, str, CaptureSettings], object]] = {
    "vw": _vw,
    "vh": _vh,
    "full": _flag,
    "cdpr": _cdpr,
    "wait": _selector,
    "delay": _delay,
    "hide": _selector_list,
    "redact": _selector_list,
    "dark": _flag,
    "el": _selector,
}
