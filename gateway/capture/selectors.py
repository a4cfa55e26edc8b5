"""One CSS selector check before a capture: soupsieve's parser (Beautiful Soup's), fitted to what Chromium's
``querySelector`` accepts, so a selector refused here would have thrown in the page, and one accepted here
parses there too (a bad selector found only by the browser costs a page load, or a job's whole time cap).

Where soupsieve and Chromium (156) disagree, Chromium decides (tests/gateway/capture/test_selectors_chromium.py
compares the two on a table of selectors):

- refused although soupsieve parses them, as Chromium throws: soupsieve's own ``:contains()``,
  ``:-soup-contains()`` and ``:-soup-contains-own()``; ``:matches()`` and ``:current()`` with arguments;
  namespace prefixes (``svg|rect``, ``[xlink|href]``: ``querySelector`` has none declared; ``*|`` and ``|`` are
  fine); the ``s`` attribute flag; the pseudo-classes Chromium does not have (``:playing``, ``:paused``,
  ``:muted``, ``:seeking``, ``:buffering``, ``:stalled``, ``:volume-locked``, ``:local-link``,
  ``:target-within``);
- accepted although soupsieve does not know them, as Chromium matches elements with them: ``:valid``,
  ``:invalid``, ``:user-valid``, ``:modal``, ``:-webkit-autofill``, ``:xr-overlay``, ``:corner-present``,
  ``:state()``, ``:-webkit-any()`` (soupsieve reads a stand-in of the same form in their place);
- pseudo-elements (``::before``, ``::part(x)``, the legacy ``:before``, ...: those in ``_ELEMENTS``) only where
  the field allows them (``hide``: its stylesheet rule hides the generated box), and only at the end of a
  selector, as CSS allows; ``querySelector`` never returns one, so a ``wait``, ``el``, ``redact`` or action
  selector with one could only time out;
- refused although Chromium takes them: what ``:is()`` and ``:where()`` hold that is no selector (Chromium
  drops it, as their lists forgive), and brackets or parentheses left open at the end (Chromium closes them):
  either can only be a mistake.
"""

from __future__ import annotations

import re

import soupsieve

# Strings and escapes, masked to the same length so positions in the mask are positions in the text.
_MASKED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\\[0-9a-fA-F]{1,6}[ \t\n\r\f]?|\\.", re.DOTALL)
_PSEUDO = re.compile(r"(::?)(-?[_a-zA-Z\u0080-\U0010ffff][-\w\u0080-\U0010ffff]*)(\(?)")
# A namespace prefix other than ``*`` or none: an identifier just before a ``|`` that is no ``|=``.
_NAMESPACE = re.compile(r"[-\w\u0080-\U0010ffff]\|(?![=|])")
# The ``s`` flag after an attribute's value: a string's closing quote, or an identifier and whitespace.
_CASE_FLAG = re.compile(r"(?:\"|'|[^\[\s]\s)\s*[sS]\s*\]")
_LEGACY_ELEMENTS = frozenset({"before", "after", "first-line", "first-letter"})
# The pseudo-elements ``hide`` may end with (with their parenthesis when they take arguments).
_ELEMENTS = frozenset(
    {
        *_LEGACY_ELEMENTS,
        "marker",
        "placeholder",
        "selection",
        "backdrop",
        "file-selector-button",
        "target-text",
        "spelling-error",
        "grammar-error",
        "cue",
        "cue(",
        "part(",
        "slotted(",
        "highlight(",
    }
)
_REFUSED_SIMPLE = frozenset(
    {
        "playing",
        "paused",
        "muted",
        "seeking",
        "buffering",
        "stalled",
        "volume-locked",
        "local-link",
        "target-within",
    }
)
_REFUSED_FUNCTIONAL = frozenset({"contains", "-soup-contains", "-soup-contains-own", "matches", "current"})
# Chromium's own pseudo-classes, and the stand-in of the same form soupsieve reads in their place.
_STAND_INS = {
    ("valid", ""): ":checked",
    ("invalid", ""): ":checked",
    ("user-valid", ""): ":checked",
    ("modal", ""): ":checked",
    ("-webkit-autofill", ""): ":checked",
    ("xr-overlay", ""): ":checked",
    ("corner-present", ""): ":checked",
    ("state", "("): ":lang(",
    ("-webkit-any", "("): ":is(",
}


class InvalidSelector(ValueError):
    """A selector Chromium would refuse; the message says why and never repeats the selector."""


def check_selector(text: str, *, pseudo_elements: bool = False) -> None:
    """``InvalidSelector`` unless ``text`` (a selector list) is one Chromium's ``querySelector`` parses;
    ``pseudo_elements``: a pseudo-element may end each selector of the list (``hide``)."""
    masked = _MASKED.sub(_mask, text)
    if _NAMESPACE.search(masked):
        raise InvalidSelector("namespace prefixes (ns|name) are not available")
    if _CASE_FLAG.search(masked):
        raise InvalidSelector("the s attribute flag is not available")
    pieces: list[str] = []
    start = 0
    for match in _PSEUDO.finditer(masked):
        if match.start() < start:
            continue  # inside a pseudo-element's arguments, already passed on as they are
        colons, name, paren = match.group(1), match.group(2).lower(), match.group(3)
        end = _closing(masked, match.end()) if paren else match.end()
        if colons == "::" or (name in _LEGACY_ELEMENTS and not paren):
            if not pseudo_elements:
                raise InvalidSelector("pseudo-elements (::before, ...) match no element here")
            if name + paren not in _ELEMENTS:
                raise InvalidSelector(f"::{name}{paren and '()'} is not a pseudo-element the browser has")
            if not _ends_selector(masked, end):
                raise InvalidSelector("a pseudo-element can only end a selector")
            before = masked[: match.start()].rstrip()
            # A pseudo-element alone (``::selection``, ``p > ::before``) is one of any element.
            stand_in = "*" if not before or before[-1] in ",>+~(" or masked[match.start() - 1].isspace() else ""
            pieces += [text[start : match.start()], stand_in]
            start = end
        elif (paren and name in _REFUSED_FUNCTIONAL) or (not paren and name in _REFUSED_SIMPLE):
            raise InvalidSelector(f":{name}{paren and '()'} is not available in the browser")
        elif (name, paren) in _STAND_INS:
            pieces += [text[start : match.start()], _STAND_INS[name, paren]]
            start = match.end()
    pieces.append(text[start:])
    try:
        soupsieve.compile("".join(pieces))
    except Exception:
        # A syntax error, or what else the parser raises on text it cannot read (an at-rule is
        # NotImplementedError): the same refusal, as the page could not use it either.
        raise InvalidSelector("not a valid CSS selector") from None


def _mask(match: re.Match[str]) -> str:
    found = match.group(0)
    if found[0] in "\"'":
        return found[0] + "x" * (len(found) - 2) + found[0]
    return "_" * len(found)


def _closing(masked: str, index: int) -> int:
    """The index after the ``)`` closing the parenthesis just before ``index`` (the end when none does)."""
    depth = 1
    for position in range(index, len(masked)):
        if masked[position] == "(":
            depth += 1
        elif masked[position] == ")":
            depth -= 1
            if depth == 0:
                return position + 1
    return len(masked)


def _ends_selector(masked: str, index: int) -> bool:
    """Whether only whitespace follows ``index`` up to the end or a comma of the top-level list."""
    rest = masked[index:].lstrip()
    return not rest or (rest[0] == "," and not _nested(masked, index))


def _nested(masked: str, index: int) -> bool:
    depth = 0
    for char in masked[:index]:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
    return depth > 0
