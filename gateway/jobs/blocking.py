"""``blockAds`` and ``blockCookieBanners``: a small curated rule set shipped with the project, not a filter list
package. EasyList-scale lists need a matching engine in the browser (an extension, which the capture browsers run
without) and hundreds of thousands of rules; what a screenshot needs is the handful of ad networks and consent
platforms that cover most pages. Two kinds of rule:

- network: DevTools URL patterns (``Network.setBlockedURLs``, ``*`` wildcards) whose requests never leave the
  browser, so an ad network's scripts, frames and pixels do not load;
- cosmetic: CSS selectors hidden before the capture, for what is already in the page (ad slots, consent
  banners and their overlays), the way ``hide`` does.

Extend the tuples below. The selectors are checked by the tests against a page that uses them (and they are
valid CSS: one invalid selector would void the whole rule); the URL patterns are DevTools' own syntax.
"""

from __future__ import annotations

AD_URL_PATTERNS: tuple[str, ...] = (
    "*://*.doubleclick.net/*",
    "*://*.googlesyndication.com/*",
    "*://*.googleadservices.com/*",
    "*://*.adnxs.com/*",
    "*://*.amazon-adsystem.com/*",
    "*://*.taboola.com/*",
    "*://*.outbrain.com/*",
    "*://*.criteo.com/*",
    "*://*.criteo.net/*",
    "*://*.pubmatic.com/*",
    "*://*.rubiconproject.com/*",
    "*://*.moatads.com/*",
    "*://*.scorecardresearch.com/*",
    "*://*.adsrvr.org/*",
)

AD_SELECTORS: tuple[str, ...] = (
    "ins.adsbygoogle",
    ".adsbygoogle",
    "[id^='div-gpt-ad']",
    "[id^='google_ads_iframe']",
    "iframe[src*='doubleclick.net']",
    ".OUTBRAIN",
    "[id^='taboola-']",
    ".ad-slot",
    ".advertisement",
)

COOKIE_BANNER_URL_PATTERNS: tuple[str, ...] = (
    "*://cdn.cookielaw.org/*",
    "*://*.onetrust.com/*",
    "*://consent.cookiebot.com/*",
    "*://*.usercentrics.eu/*",
    "*://*.consensu.org/*",
    "*://*.trustarc.com/*",
    "*://*.didomi.io/*",
    "*://*.quantcast.mgr.consensu.org/*",
)

COOKIE_BANNER_SELECTORS: tuple[str, ...] = (
    "#onetrust-banner-sdk",
    "#onetrust-consent-sdk",
    "#CybotCookiebotDialog",
    "#CybotCookiebotDialogBodyUnderlay",
    "#usercentrics-root",
    ".cc-window",
    ".cc-banner",
    "#cookie-law-info-bar",
    "#didomi-host",
    "#truste-consent-track",
    ".qc-cmp2-container",
    "#cmpbox",
    "#cmpwrapper",
)


def blocking_rules(ads: bool, cookie_banners: bool) -> tuple[tuple[str, ...], str]:
    """The URL patterns to block and the stylesheet that hides the rest, for what was asked."""
    patterns: tuple[str, ...] = ()
    selectors: tuple[str, ...] = ()
    if ads:
        patterns += AD_URL_PATTERNS
        selectors += AD_SELECTORS
    if cookie_banners:
        patterns += COOKIE_BANNER_URL_PATTERNS
        selectors += COOKIE_BANNER_SELECTORS
    css = f"{', '.join(selectors)} {{ display: none !important; }}" if selectors else ""
    return patterns, css
