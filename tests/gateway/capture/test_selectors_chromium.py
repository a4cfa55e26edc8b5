"""The selector check at submit agrees with Chromium's own parser: every selector of the table is accepted by
``gateway.capture.selectors`` exactly when ``document.querySelector`` takes it without throwing (in real
Chromium), pseudo-elements aside (accepted for ``hide`` only, where Chromium takes them too)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from gateway.capture.selectors import InvalidSelector, check_selector
from tests.conftest import require

# Chromium takes these, and so does the check.
ORDINARY = [
    "div",
    "#main",
    ".a.b",
    "div > p",
    "div + p",
    "div ~ p",
    "div p",
    "p   >   span",
    "*",
    "a[href]",
    'a[href="x"]',
    'a[href^="https"]',
    'a[href$=".pdf" i]',
    '[data-x~="y"]',
    "[lang|=en]",
    "[ s]",
    "[*|href]",
    "*|div",
    "|div",
    "li:nth-child(2n+1)",
    "li:nth-child(odd)",
    "li:nth-child(2 of .x)",
    "li:nth-last-child(-n+3)",
    "p:nth-of-type(3)",
    ":not(.a, .b)",
    ":not(:not(a))",
    "a:not([href])",
    ":is(h1, h2) > a",
    ":is()",
    ":where(.a)",
    ":has(> img)",
    "A:HOVER",
    ":NOT(a)",
    ":first-child",
    ":only-of-type",
    ":empty",
    ":root",
    ":checked",
    ":disabled",
    ":required",
    ":placeholder-shown",
    ":in-range",
    ":link",
    ":any-link",
    ":visited",
    ":hover",
    ":focus-visible",
    ":focus-within",
    ":target",
    ":scope",
    ":defined",
    ":lang(en)",
    ":dir(rtl)",
    ":fullscreen",
    ":popover-open",
    ":autofill",
    ":host",
    ":host(.x)",
    ":host-context(a)",
    ":open",
    ":user-invalid",
    ":current",
    "#\\31 a",
    ".a\\:b",
    ".é",
    '[data-é="ü"]',
    "h1, h2 > a, .x",
    # Chromium's own, which soupsieve does not know.
    ":valid",
    ":invalid",
    ":user-valid",
    ":modal",
    ":-webkit-autofill",
    ":-webkit-any(a, b)",
    ":state(open)",
    ":valid:hover",
    "form :not(:invalid)",
]

# Chromium throws on these, and the check refuses them.
REFUSED = [
    "div,",
    ",div",
    "div >",
    "> div",
    ":nth-child(x)",
    "a[href=",
    "[1]",
    "#1a",
    "div:nth-child",
    ":unknown",
    "!",
    "a..b",
    ":not()",
    ":has()",
    ":has(:has(a))",
    ":nth-child(n of)",
    ":--custom",
    "a < b",
    "a || b",
    ":closed",
    ":blank",
    ":nth-col(2)",
    # soupsieve parses these; Chromium does not.
    ":contains(foo)",
    ":-soup-contains(foo)",
    ":-soup-contains-own(foo)",
    ":matches(a)",
    ":current(a)",
    "ns|div",
    "svg|rect",
    "html|*",
    "[xlink|href]",
    "a[href*=x s]",
    '[x="y" S]',
    '[x="y"s]',
    ":playing",
    ":paused",
    ":muted",
    ":seeking",
    ":local-link",
    ":target-within",
    "p::before:hover",
    "div::unknown",
]

# Chromium parses these; querySelector never returns one, so only ``hide`` takes them.
PSEUDO_ELEMENTS = [
    "p::before",
    "p::after",
    "p:before",
    "p:first-line",
    "p:first-letter",
    "::selection",
    "::placeholder",
    "::marker",
    "::backdrop",
    "::part(x)",
    "::slotted(span)",
    "ul > li::marker",
    "p::before, q::after",
]


def accepted(selector: str, pseudo_elements: bool = False) -> bool:
    try:
        check_selector(selector, pseudo_elements=pseudo_elements)
    except InvalidSelector:
        return False
    return True


def test_the_table_is_read_as_chromium_reads_it() -> None:
    assert [s for s in ORDINARY if not accepted(s)] == []
    assert [s for s in REFUSED if accepted(s) or accepted(s, pseudo_elements=True)] == []
    assert [s for s in PSEUDO_ELEMENTS if accepted(s) or not accepted(s, pseudo_elements=True)] == []


def test_a_refusal_says_why_without_repeating_the_selector() -> None:
    with pytest.raises(InvalidSelector) as raised:
        check_selector("svg|secret-token-42")
    assert "namespace" in str(raised.value) and "secret-token-42" not in str(raised.value)
    with pytest.raises(InvalidSelector, match="pseudo-element"):
        check_selector("p::before")
    with pytest.raises(InvalidSelector, match="end a selector"):
        check_selector("p::before .x", pseudo_elements=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    driver_path = shutil.which("chromedriver")
    require(chromium is not None and driver_path is not None, "Chromium and chromedriver")
    assert chromium is not None and driver_path is not None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get("data:text/html,<p>x</p>")
        yield driver
    finally:
        driver.quit()


def test_chromium_reads_the_table_the_same_way(browser: WebDriver) -> None:
    table = ORDINARY + REFUSED + PSEUDO_ELEMENTS
    parses = browser.execute_script(
        "return arguments[0].map((s) => { try { document.querySelector(s); return true } catch (e) { return false } })",
        table,
    )
    chromium = dict(zip(table, parses, strict=True))
    assert [s for s in ORDINARY + PSEUDO_ELEMENTS if not chromium[s]] == []
    assert [s for s in REFUSED if chromium[s]] == []
