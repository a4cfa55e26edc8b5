"""The JavaScript a capture runs in the page. User input (selectors) is always passed as an argument,
never spliced into script text; ``HIDE`` builds CSS rules from selectors the browser has already parsed
and that cannot hold braces (options.py), one ``insertRule`` per rule so nothing else can ride along.
"""

from __future__ import annotations

# Installed before any page script in each capture's tab: dialogs would block the page (and
# ChromeDriver's own dismissal fails when a page opens several in a row), printing would open a dialog,
# a beforeunload prompt would hold up disposing of the context, and a window the page opens would share
# its renderer (browser.py: the popup blocker refuses them too; this answers as a blocked popup does).
QUIET_DIALOGS = """
(() => {
  const replacements = {
    alert: () => undefined, confirm: () => false, prompt: () => null, print: () => undefined, open: () => null,
  };
  for (const [name, replacement] of Object.entries(replacements)) {
    Object.defineProperty(window, name, {value: replacement, writable: false, configurable: false});
  }
  window.addEventListener("beforeunload", (event) => event.stopImmediatePropagation(), true);
})();
"""

# -> the selectors among arguments[0] that the browser's CSS parser refuses
INVALID_SELECTORS = """
return arguments[0].filter((selector) => {
  try { document.querySelector(selector); return false; } catch (error) { return true; }
});
"""

FOUND = "return document.querySelector(arguments[0]) !== null;"

HIDE = """
const sheet = new CSSStyleSheet();
for (const selector of arguments[0]) {
  sheet.insertRule(selector + '{display:none !important}', sheet.cssRules.length);
  for (const element of document.querySelectorAll(selector)) {
    element.style.setProperty('display', 'none', 'important');
  }
}
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
"""

DOCUMENT_HEIGHT = """
const root = document.documentElement, body = document.body;
return Math.ceil(Math.max(root.scrollHeight, root.offsetHeight, body ? body.scrollHeight : 0));
"""

# async: scroll down a viewport at a time (up to arguments[0] px) so scroll- and intersection-driven
# lazy loaders run, then back to the top. A frame plus a short pause per step lets observers fire.
SCROLL_THROUGH = """
const done = arguments[arguments.length - 1];
const limit = arguments[0];
const pause = () => new Promise((resolve) => {
  const timer = setTimeout(resolve, 100);
  requestAnimationFrame(() => setTimeout(() => { clearTimeout(timer); resolve(); }, 30));
});
(async () => {
  const step = Math.max(200, window.innerHeight);
  for (let y = step; y < Math.min(document.documentElement.scrollHeight, limit); y += step) {
    window.scrollTo(0, y);
    await pause();
  }
  window.scrollTo(0, 0);
  await pause();
})().then(() => done(true), () => done(false));
"""

# async: wait (at most arguments[1] ms) for fonts and for the images that start above arguments[0] px.
SETTLE = """
const done = arguments[arguments.length - 1];
const [limit, budget] = [arguments[0], arguments[1]];
const pending = [...document.images].filter(
  (image) => !image.complete && image.getBoundingClientRect().top + window.scrollY < limit);
const loads = pending.map((image) => new Promise((resolve) => {
  image.addEventListener('load', resolve, {once: true});
  image.addEventListener('error', resolve, {once: true});
}));
if (document.fonts) loads.push(document.fonts.ready);
const timeout = new Promise((resolve) => setTimeout(resolve, budget));
Promise.race([Promise.all(loads), timeout]).then(() => done(pending.length), () => done(-1));
"""

# -> [[x, y, width, height], ...] covering each element matching any of arguments[0] and everything
#    inside it, even what overflows its box (the range over its contents covers that), in CSS pixels of
#    the document (scroll offsets added), so they stay valid whatever part of the page is captured.
BOXES = """
const boxes = [];
for (const selector of arguments[0]) {
  for (const element of document.querySelectorAll(selector)) {
    const range = document.createRange();
    range.selectNodeContents(element);
    let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const rect of [element.getBoundingClientRect(), range.getBoundingClientRect()]) {
      if (rect.width > 0 && rect.height > 0) {
        left = Math.min(left, rect.left); top = Math.min(top, rect.top);
        right = Math.max(right, rect.right); bottom = Math.max(bottom, rect.bottom);
      }
    }
    if (right > left && bottom > top) {
      boxes.push([left + window.scrollX, top + window.scrollY, right - left, bottom - top]);
    }
  }
}
return boxes;
"""

# -> [x, y, width, height] of the first visible element matching arguments[0] (its border box, in
#    CSS pixels of the document), or null
ELEMENT_BOX = """
for (const element of document.querySelectorAll(arguments[0])) {
  const rect = element.getBoundingClientRect();
  if (rect.width > 0 && rect.height > 0) {
    return [rect.left + window.scrollX, rect.top + window.scrollY, rect.width, rect.height];
  }
}
return null;
"""

SCROLL_POSITION = "return [window.scrollX, window.scrollY];"
SCROLL_TO_TOP = "window.scrollTo(0, 0);"
