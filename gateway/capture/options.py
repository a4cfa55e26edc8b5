"""Capture options from URL parameters, and the target URL check.

``parse_capture_options`` reads only the names in ``CAPTURE_PARAMETERS`` (the route splits the query
between transform and capture parameters and refuses names that are neither). Every bad value is a
``ValidationError`` that names its parameter. ``CaptureOptions.canonical()`` is the cache-key form:
two option sets that can render differently never share it.

Selectors (``wait``, ``hide``, ``redact``, ``el``) are checked here for size, characters and syntax
(``gateway.capture.selectors``, fitted to Chromium's parser; ``hide`` alone may end in a pseudo-element),
and by the browser's own CSS parser again before use; ``{`` and ``}`` are refused outright because ``hide`` turns
selectors into CSS rules and a brace could smuggle in a second rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode

from gateway.capture.selectors import InvalidSelector, check_selector
from gateway.errors import ValidationError
from gateway.policy.urls import InvalidSourceURL, parse_source_url
from gateway.settings import CaptureSettings

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
    """Check a ``capture=`` URL and return its normal form: the one parser of external URLs
    (``gateway.policy.urls``), so a capture target and a ``src=`` URL are read, matched and cached alike,
    keeping the fragment (a single-page app's route is part of the page). Only http and https; no
    credentials, backslashes, whitespace or control characters; hosts in IDNA (ASCII) form, and only
    canonical dotted quads as numeric hosts (``2130706433`` is refused, not read as 127.0.0.1).
    """
    if len(url) > MAX_URL_CHARS:
        raise ValidationError(f"capture: the URL is longer than {MAX_URL_CHARS} characters")
    try:
        return parse_source_url(url, allow_fragment=True).url
    except InvalidSourceURL as exc:
        raise ValidationError(f"capture: {exc}") from None


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
    try:
        check_selector(selector, pseudo_elements=name == "hide")
    except InvalidSelector as exc:
        raise ValidationError(f"{name}: {exc}") from None
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
