"""What a capture job puts into its fresh browser context before the page loads: cookies, localStorage, a
stylesheet of its own, blocked URLs, and the network-idle mark that ``wait: "networkidle"`` waits for. Its extra
request headers and basic credentials (``network``) are not installed here but given per request, to allowed
hosts only, for as long as the capture runs (interception.py).

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
from gateway.capture.interception import NetworkAuth


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
    # wait "networkidle": mark the page (``NETWORK_IDLE_SELECTOR``) once no request ran for ``QUIET_MS``.
    network_idle: bool = False
    # (kind, selector, text) steps run in the page once it loaded; ``ACTIONS_SELECTOR`` marks them done.
    actions: tuple[tuple[str, str, str], ...] = ()
    # Extra request headers and basic credentials, and the hosts they may go to.
    network: NetworkAuth = field(default_factory=NetworkAuth, repr=False)

    def __bool__(self) -> bool:
        return bool(
            self.cookies
            or self.local_storage
            or self.css
            or self.blocked_urls
            or self.network_idle
            or self.actions
            or self.network
        )


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


# wait "networkidle" is the capture's own selector wait for this mark, so it has the capture's deadline and its
# timeout. The mark is a <meta> (never rendered); a page that adds one itself only shortens its own wait.
NETWORK_IDLE_SELECTOR = "meta[name=imgate-network-idle]"
QUIET_MS = 500

# Idle: the document loaded, no fetch or XHR in flight, no eager image still loading, and no resource finished
# (resource timing, which sees every kind) for QUIET_MS. The top document only: frames report into their own.
_NETWORK_IDLE = """
(() => {
  if (window !== window.top) { return; }
  const quiet = %d;
  let pending = 0, last = performance.now();
  const touch = () => { last = performance.now(); };
  const done = () => { pending = Math.max(0, pending - 1); touch(); };
  const fetch = window.fetch;
  if (fetch) {
    window.fetch = function (...args) { pending++; touch(); return fetch.apply(this, args).finally(done); };
  }
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    pending++; touch(); this.addEventListener("loadend", done); return send.apply(this, args);
  };
  try {
    new PerformanceObserver((list) => { if (list.getEntries().length) { touch(); } })
      .observe({ type: "resource", buffered: true });
  } catch (e) {}
  const loading = () => Array.from(document.images).some((i) => i.loading !== "lazy" && i.src && !i.complete);
  const check = () => {
    if (loading()) { touch(); }
    if (document.readyState === "complete" && pending === 0 && performance.now() - last >= quiet) {
      const mark = document.createElement("meta");
      mark.name = "imgate-network-idle";
      document.documentElement.appendChild(mark);
      return;
    }
    setTimeout(check, 50);
  };
  check();
})();
"""


ACTIONS_SELECTOR = "meta[name=imgate-actions-done]"
ACTION_KINDS = ("click", "type", "scroll", "wait")
MAX_ACTIONS = 20
ACTIONS_BUDGET_MS = 10_000  # all the steps together; past it the page is never marked and the capture times out

# The steps in order, once the page loaded: click, type (the native value setter, then input and change events,
# so frameworks see it), scroll into view, wait for a selector; each waits for its element first. Marked done
# after the last; a step whose element never comes leaves the page unmarked (the capture's wait times out).
_ACTIONS = """
(() => {
  if (window !== window.top) { return; }
  const steps = %s, budget = %d, started = performance.now();
  const element = (selector) => new Promise((resolve, reject) => {
    const look = () => {
      const found = document.querySelector(selector);
      if (found) { resolve(found); return; }
      if (performance.now() - started > budget) { reject(new Error("timeout")); return; }
      setTimeout(look, 50);
    };
    look();
  });
  const run = async () => {
    for (const [kind, selector, text] of steps) {
      const el = await element(selector);
      if (kind === "click") { el.click(); }
      else if (kind === "scroll") { el.scrollIntoView({ block: "center" }); }
      else if (kind === "type") {
        el.focus();
        const proto = Object.getPrototypeOf(el);
        const setter = Object.getOwnPropertyDescriptor(proto, "value");
        if (setter && setter.set) { setter.set.call(el, text); } else { el.textContent = text; }
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const mark = document.createElement("meta");
    mark.name = "imgate-actions-done";
    document.documentElement.appendChild(mark);
  };
  const start = () => { run().catch(() => {}); };
  if (document.readyState === "complete") { start(); } else { window.addEventListener("load", start); }
})();
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
    if setup.network_idle:
        browser.page_cdp("Page.addScriptToEvaluateOnNewDocument", {"source": _NETWORK_IDLE % QUIET_MS})
    if setup.actions:
        steps = json.dumps([list(step) for step in setup.actions])
        browser.page_cdp("Page.addScriptToEvaluateOnNewDocument", {"source": _ACTIONS % (steps, ACTIONS_BUDGET_MS)})
