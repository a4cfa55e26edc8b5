"""What a capture job puts into its fresh browser context before the page loads: cookies, localStorage, and a
stylesheet of its own.

Both are scoped by the browser itself, so they reach only what they name: a cookie is sent only to its own
domain and path (the job's submit checked that domain against the workspace's capture domains), and the
localStorage entries are written only into the target page's own origin (the script compares
``location.origin`` before it writes, on every new document of the tab). They live in the capture's own
DevTools browser context and die with it (pool.py), so another job in the same browser never sees them.

Values travel as DevTools parameters and as JSON text inside the script (``json.dumps``, ASCII only, so no
character can end the string early); nothing here logs them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.capture.browser import Browser


@dataclass(frozen=True, slots=True)
class PageSetup:
    # Each as DevTools' Network.CookieParam: name, value, domain, path, secure, httpOnly, sameSite.
    cookies: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    # Written into the storage of ``origin`` only.
    local_storage: Mapping[str, str] = field(default_factory=dict, repr=False)
    origin: str = ""
    # A stylesheet added to every document of the tab once it is parsed (not a secret; capped by the caller).
    css: str = ""
    # DevTools URL patterns whose requests never leave the browser (blocked ad networks, consent platforms).
    blocked_urls: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.cookies or self.local_storage or self.css or self.blocked_urls)


_LOCAL_STORAGE = """
(() => {
  if (location.origin !== %s) { return; }
  const entries = %s;
  try { for (const [name, value] of Object.entries(entries)) { localStorage.setItem(name, value); } } catch (e) {}
})();
"""


_STYLESHEET = """
document.addEventListener("DOMContentLoaded", () => {
  const style = document.createElement("style");
  style.textContent = %s;
  (document.head || document.documentElement).appendChild(style);
});
"""


def apply_setup(browser: Browser, setup: PageSetup) -> None:
    """Install ``setup`` in the capture's tab; call before navigating. Blocking (the slot thread)."""
    if setup.blocked_urls:
        browser.page_cdp("Network.enable")
        browser.page_cdp("Network.setBlockedURLs", {"urls": list(setup.blocked_urls)})
    if setup.cookies:
        browser.page_cdp("Network.setCookies", {"cookies": [dict(cookie) for cookie in setup.cookies]})
    if setup.local_storage:
        source = _LOCAL_STORAGE % (json.dumps(setup.origin), json.dumps(dict(setup.local_storage)))
        browser.page_cdp("Page.addScriptToEvaluateOnNewDocument", {"source": source})
    if setup.css:
        browser.page_cdp("Page.addScriptToEvaluateOnNewDocument", {"source": _STYLESHEET % json.dumps(setup.css)})
