"""The dashboard in a real browser: Debian's Chromium (Selenium) against a Granian-served gateway whose sign-in
codes go to a real SMTP server on loopback (aiosmtpd), where the test reads them as a person would.

One walk through the product, in order: sign up (code from the mail, first workspace), settings, the URL builder,
marks, an API key seen once and then only by its prefix, revoked and refused by the API, a stored ``<script>``
that never runs, a custom domain's DNS records copied from the page, a preset an ``<img>`` renders, a signing
secret seen once and then required (an unsigned ``<img>`` fails, one signed with that secret loads), usage,
members, audit, sign out, sign in again, sign out everywhere. Every page is saved at 1280 and 390 px wide into
the test's tmp folder (``screenshots/``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from gateway.policy.signing import sign_url
from tests.conftest import DEMO_IMAGES, require
from tests.gateway.dashboard.support import csrf_of
from tests.gateway.mail.smtp_server import HOST, SmtpServer
from tests.integration.servers import GatewayProcess, imgate

pytestmark = pytest.mark.integration

DASH = "/_/dashboard"
CNAME_TARGET = "customers.imgate.test"
# An <img> of the URL in arguments[0], same origin as the page: its naturalWidth once settled (0: it failed).
IMG_WIDTH = (
    "const done = arguments[arguments.length - 1]; const i = new Image();"
    "i.onload = () => done(i.naturalWidth); i.onerror = () => done(i.naturalWidth); i.src = arguments[0];"
)
EVIL = "<script>window.__pwned=1</script><img src=x onerror=__pwned=2>"  # 62: a key name is at most 64


def _binary(*names: str) -> str | None:
    return next((path for name in names if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[GatewayProcess]:
    settings = {
        "mailer": "smtp",
        "smtp_host": HOST,
        "smtp_port": str(smtp.port),
        "smtp_security": "none",
        "usage_flush_interval": "0.2",
        "cname_target": CNAME_TARGET,
        "domain_recheck_interval": "0",  # no background DNS lookups: the walk never checks a domain
    }
    with GatewayProcess(tmp_path_factory.mktemp("dashboard"), settings=settings) as process:
        yield process


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium, driver_path = _binary("chromium", "chromium-browser"), _binary("chromedriver")
    require(chromium is not None and driver_path is not None, "Chromium and chromedriver (Debian's chromium-driver)")
    assert chromium is not None and driver_path is not None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def replaced(element: WebElement) -> bool:
    """Whether the page holding ``element`` was replaced. Chromium reports a node of a document that is gone
    either as a stale element or, while the next page is being attached, as a node that "does not belong to the
    document": both mean the navigation happened."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


class Walk:
    def __init__(self, driver: WebDriver, gateway: GatewayProcess, smtp: SmtpServer, shots: Path) -> None:
        self.driver, self.gateway, self.smtp, self.shots = driver, gateway, smtp, shots
        shots.mkdir(parents=True, exist_ok=True)

    def open(self, path: str) -> None:
        self.driver.get(self.gateway.url + path)

    def fill(self, name: str, value: str, within: str = "") -> None:
        field = self.driver.find_element(By.CSS_SELECTOR, f"{within} input[name={name}]:not([type=hidden])")
        field.clear()
        field.send_keys(value)

    def fill_area(self, name: str, value: str) -> None:
        area = self.driver.find_element(By.CSS_SELECTOR, f"textarea[name={name}]")
        area.clear()
        area.send_keys(value)

    def click(self, css: str) -> None:
        """Click, and wait for the next page when the click submits a form or follows a link."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.CSS_SELECTOR, css).click()
        WebDriverWait(self.driver, 15).until(lambda _: replaced(page))

    def img_width(self, path: str) -> int:
        return int(self.driver.execute_async_script(IMG_WIDTH, self.gateway.url + path))

    def text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def shoot(self, name: str) -> None:
        for width in (1280, 390):
            self.driver.set_window_size(width, 900)
            height, chrome = self.driver.execute_script(
                "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]"
            )
            # The window's size includes the browser's own frame: the page gets all of its height on the PNG.
            self.driver.set_window_size(width, min(max(int(height), 600), 4000) + int(chrome))
            self.driver.execute_script("window.scrollTo(0, 0)")  # a #fragment scrolled it: shoot from the top
            self.driver.save_screenshot(str(self.shots / f"{name}-{width}.png"))
        self.driver.set_window_size(1280, 900)

    def sign_in(self, email: str) -> None:
        before = sum(1 for m in self.smtp.inbox.messages if m["To"] == email)
        self.open(f"{DASH}/")
        self.fill("email", email)
        self.click("button.primary")
        assert "Check your email" in self.text()
        code = self.smtp.code_for(email, before + 1)
        self.fill("code", code)
        self.click("button.primary")


def test_the_dashboard_in_a_browser(browser: WebDriver, gateway: GatewayProcess, smtp: SmtpServer, tmp_path: Path):
    walk = Walk(browser, gateway, smtp, tmp_path / "screenshots")

    # Sign up: the email form, the code from the mail, the first workspace.
    walk.open(f"{DASH}/")
    walk.shoot("signin")
    walk.fill("email", "ana@example.com")
    walk.click("button.primary")
    walk.shoot("code")
    walk.fill("code", smtp.code_for("ana@example.com"))
    walk.click("button.primary")
    assert "Name your workspace" in walk.text()
    walk.shoot("welcome")
    walk.fill("namespace", "acme")
    walk.click("button.primary")
    assert browser.current_url.endswith(f"{DASH}/w/acme?notice=created")
    assert "Workspace created" in walk.text()
    walk.shoot("overview")
    # The session cookie is out of the page's reach.
    assert "imgate_session" not in str(browser.execute_script("return document.cookie"))

    # Settings: an HTTP origin.
    walk.open(f"{DASH}/w/acme/settings")
    browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=http]").click()  # a radio: no new page
    walk.fill("base_url", "https://assets.example.com/originals/")
    walk.click("#origin form.stack button.primary")
    assert "Origin saved" in walk.text()
    walk.shoot("settings")

    # The operator gives the workspace a folder of images (folders are not the dashboard's to give), and the pro
    # plan, which includes custom domains.
    grant = ("--origin", "local", "--root", str(DEMO_IMAGES), "--plan", "pro")
    assert imgate(gateway.data_dir, "workspace", "update", "acme", *grant).returncode == 0

    # The URL builder: the preview follows the controls without a submit, at the size asked for.
    walk.open(f"{DASH}/w/acme/builder")
    walk.fill("target", "photo-kite.jpg")
    walk.fill("w", "320")
    browser.find_element(By.CSS_SELECTOR, "select[name=fm] option[value=webp]").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.execute_script(
            "const i = document.getElementById('preview'); return i.complete && i.naturalWidth === 320"
            " && i.getAttribute('src').includes('fm=webp')"
        )
    )
    WebDriverWait(browser, 10).until(lambda d: "bytes" in d.find_element(By.ID, "preview-info").text)
    info = browser.find_element(By.ID, "preview-info").text
    assert info.startswith("320 × ") and "image/webp" in info
    built = browser.find_element(By.ID, "built-url").text
    assert built == f"{gateway.url}/acme/photo-kite.jpg?w=320&fm=webp"
    assert httpx.get(built).headers["content-type"] == "image/webp"
    assert "320w" in browser.find_element(By.ID, "srcset").text
    walk.shoot("builder")

    # An uploaded image mark, previewed on the marks page and picked in the builder.
    walk.open(f"{DASH}/w/acme/marks")
    walk.fill("name", "stamp", "form.stack")
    browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=upload]").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=image_file]").send_keys(str(DEMO_IMAGES / "alpha-elarun.png"))
    walk.fill("alpha", "60", "form.stack")
    walk.fill("scale", "30", "form.stack")
    walk.click("form.stack button.primary")
    assert "uploaded image" in walk.text()
    walk.open(f"{DASH}/w/acme/marks?sample=photo-kite.jpg")
    WebDriverWait(browser, 15).until(
        lambda d: d.execute_script(
            "const i = document.querySelector('figure.preview img'); return i.complete && i.naturalWidth === 480"
        )
    )
    walk.shoot("marks")
    walk.open(f"{DASH}/w/acme/builder?target=photo-kite.jpg&w=320")
    plain = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch(document.getElementById('preview').src).then(r => r.blob()).then(b => done(b.size))"
    )
    browser.find_element(By.CSS_SELECTOR, "select[name=mark] option[value=stamp]").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.execute_script(
            "const i = document.getElementById('preview'); return i.complete && i.naturalWidth === 320"
            " && i.getAttribute('src').includes('mark=stamp')"
        )
    )
    WebDriverWait(browser, 10).until(lambda d: "bytes" in d.find_element(By.ID, "preview-info").text)
    marked = int(browser.find_element(By.ID, "preview-info").text.split("· ")[1].split(" bytes")[0].replace(",", ""))
    assert marked != plain  # the gateway stamped the mark into the pixels

    # Tightened allowed origins: a cross-origin request from a page on another origin fails in the browser.
    fetch = (
        "const done = arguments[arguments.length - 1];"
        # A width of its own each time, and no browser cache: a cached answer would carry the old CORS headers.
        f"fetch('{gateway.url}/acme/photo-kite.jpg?w=' + arguments[0], {{mode: 'cors', cache: 'no-store'}})"
        ".then(r => done(r.status)).catch(() => done('refused'));"
    )
    browser.get(f"http://localhost:{gateway.port}/acme/photo-kite.jpg?w=60")  # another origin, not the dashboard
    assert browser.execute_async_script(fetch, 50) == 200  # permissive: '*'
    walk.open(f"{DASH}/w/acme/settings")
    walk.fill_area("allowed_origins", "https://shop.example.com")
    walk.click("#access button.primary")
    assert "Allowlists saved" in walk.text()
    browser.get(f"http://localhost:{gateway.port}/acme/photo-kite.jpg?w=61")
    assert WebDriverWait(browser, 10).until(lambda d: d.execute_async_script(fetch, 51) == "refused")

    # An API key: seen once, then only its prefix; its name is hostile markup that must never run.
    walk.open(f"{DASH}/w/acme/keys")
    walk.fill("name", EVIL)
    browser.find_element(By.CSS_SELECTOR, "select[name=scope] option[value=write]").click()
    walk.click("form.row button.primary")
    secret = browser.find_element(By.ID, "new-secret").text
    assert secret.startswith("imk_live_") and len(secret) == 52
    walk.shoot("key-created")
    assert httpx.get(f"{gateway.url}/_/api/v1/key", headers={"X-API-Key": secret}).status_code == 200
    walk.open(f"{DASH}/w/acme/keys")  # a new visit: the secret is gone for good
    assert secret not in browser.page_source and secret[:12] in walk.text()
    assert EVIL in walk.text()  # shown as text...
    assert browser.execute_script("return window.__pwned === undefined") is True  # ...never run
    walk.shoot("keys")
    walk.click("a.button.danger")
    assert "Revoke" in walk.text()
    walk.shoot("key-revoke")
    walk.click("button.danger")
    assert "Key revoked" in walk.text()
    assert httpx.get(f"{gateway.url}/_/api/v1/key", headers={"X-API-Key": secret}).status_code == 401

    # A custom domain: added pending, with its DNS records, each copied by its button exactly as shown.
    walk.open(f"{DASH}/w/acme/domains")
    walk.fill("hostname", "Img.Shop.Example")
    walk.click("#add button.primary")
    assert "Domain added" in walk.text() and browser.current_url.endswith("#domain-img.shop.example")
    article = browser.find_element(By.ID, "domain-img.shop.example")
    assert "pending" in article.text
    rows = article.find_elements(By.CSS_SELECTOR, "table.records tbody tr")
    assert [row.find_element(By.CSS_SELECTOR, ".tag").text for row in rows] == ["CNAME", "TXT"]
    walk.shoot("domains")
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": gateway.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    read_clipboard = "const done = arguments[0]; navigator.clipboard.readText().then(done, () => done(null));"
    copied: dict[str, str | None] = {}
    for button in article.find_elements(By.CSS_SELECTOR, "button[data-copy]"):
        source = str(button.get_attribute("data-copy"))
        shown = browser.find_element(By.ID, source).text
        button.click()
        # The button says so once the clipboard holds the text; then the page reads the clipboard back.
        copy_done = expected_conditions.text_to_be_present_in_element(
            (By.CSS_SELECTOR, f"[data-copy='{source}']"), "Copied"
        )
        WebDriverWait(browser, 5).until(copy_done)
        copied[shown] = browser.execute_async_script(read_clipboard)
    assert len(copied) == 4 and all(shown == text for shown, text in copied.items())
    cname, txt_name = rows[0].find_elements(By.TAG_NAME, "code")[1].text, rows[1].find_element(By.TAG_NAME, "code").text
    assert cname.endswith("." + CNAME_TARGET) and txt_name == "_imgate-challenge.img.shop.example"
    assert cname.split(".")[0] == rows[1].find_elements(By.TAG_NAME, "code")[1].text  # one token, both records
    walk.click("#domains a.button.danger")
    assert "img.shop.example" in walk.text()
    walk.shoot("domain-remove")

    # URL shaping: a saved preset renders in an <img> at the preset's width.
    walk.open(f"{DASH}/w/acme/shaping")
    assert walk.img_width("/acme/photo-kite.jpg?preset=card") == 0  # no such preset yet: 400
    walk.fill("name", "card", "#preset-form")
    walk.fill("params", "w=240&h=160&fit=crop", "#preset-form")
    walk.click("#preset-form button.primary")
    assert "Preset saved" in walk.text()
    assert "/acme/products/shoe.jpg?preset=card" in browser.find_element(By.ID, "preset-card").text
    assert WebDriverWait(browser, 10).until(lambda d: walk.img_width("/acme/photo-kite.jpg?preset=card") == 240)
    walk.shoot("shaping")

    # Signing: a new secret is shown once; required, an unsigned <img> fails and one signed with it loads.
    walk.open(f"{DASH}/w/acme/signing")
    assert browser.find_element(By.CSS_SELECTOR, "#mode button").get_attribute("disabled") is not None
    walk.click("#rotate button.primary")  # the imgate scheme is the first choice
    signing_secret = browser.find_element(By.ID, "new-secret").text
    assert len(signing_secret) >= 32
    walk.shoot("signing-secret")
    walk.open(f"{DASH}/w/acme/signing")
    assert signing_secret not in browser.page_source and not browser.find_elements(By.ID, "reveal")
    walk.click("#mode button.primary")
    assert "Signed URLs are required now" in walk.text()
    assert browser.find_element(By.ID, "mode-tag").text == "required"
    walk.shoot("signing")
    signed = sign_url("/acme/photo-kite.jpg", [("w", "180")], signing_secret)
    wrong = sign_url("/acme/photo-kite.jpg", [("w", "180")], "not-" + signing_secret)
    assert WebDriverWait(browser, 10).until(lambda d: walk.img_width("/acme/photo-kite.jpg?w=180") == 0)
    assert walk.img_width(wrong) == 0
    assert walk.img_width(signed) == 180
    assert httpx.get(f"{gateway.url}/acme/photo-kite.jpg?w=180").json()["error"]["code"] == "BAD_SIGNATURE"
    walk.click("#secrets a.button.danger")  # the last secret while required: shown, but not removable
    assert "last secret" in walk.text()
    assert browser.find_element(By.CSS_SELECTOR, "button.danger").get_attribute("disabled") is not None
    walk.shoot("signing-remove")

    # Usage: the image requests above are counted (workers flush every 0.2 s here).
    def counted(driver: WebDriver) -> bool:
        walk.open(f"{DASH}/w/acme/usage")
        return "No requests in the last 30 days" not in walk.text()

    WebDriverWait(browser, 15, poll_frequency=0.5).until(counted)
    assert "ORIGIN_NOT_ALLOWED" in walk.text()  # the refused cross-origin request, by its code
    walk.shoot("usage")

    # Members, audit, purge and delete pages.
    walk.open(f"{DASH}/w/acme/members")
    walk.fill("email", "bo@example.com", "form.row")
    walk.click("form.row button.primary")
    assert "bo@example.com" in walk.text()
    walk.shoot("members")
    walk.open(f"{DASH}/w/acme/audit")
    assert "key.revoke" in walk.text() and "user:ana@example.com" in walk.text()
    walk.shoot("audit")
    walk.open(f"{DASH}/w/acme/danger")
    walk.shoot("danger")
    walk.open(f"{DASH}/w/nobody-here")
    assert "Not found" in walk.text()
    walk.shoot("not-found")

    # A second workspace, deleted at once: the signed receipt.
    walk.open(f"{DASH}/workspaces")
    walk.fill("namespace", "scratch", "form.stack")
    walk.click("form.stack button.primary")
    walk.open(f"{DASH}/w/scratch/danger")
    walk.fill("confirm", "scratch")
    walk.click(".dangerzone button.danger")
    assert "scratch is deleted" in walk.text() and browser.find_element(By.ID, "receipt").text
    walk.shoot("receipt")

    # Sign out, then in again: the dashboard remembers the workspace.
    walk.open(f"{DASH}/w/acme")
    walk.click(".account button.link")
    assert "Sign in to imgate" in walk.text()
    walk.open(f"{DASH}/w/acme")
    assert "Sign in to imgate" in walk.text()
    walk.sign_in("ana@example.com")
    assert browser.current_url.endswith(f"{DASH}/w/acme")

    # Sign out everywhere: a second session (another client, over plain HTTP) ends too.
    with httpx.Client(base_url=gateway.url) as other:
        token = csrf_of(other.get(f"{DASH}/").text)
        other.post(f"{DASH}/signin", data={"csrf": token, "email": "ana@example.com"})
        code = smtp.code_for("ana@example.com", 3)
        assert (
            other.post(
                f"{DASH}/signin/code", data={"csrf": token, "email": "ana@example.com", "code": code}
            ).status_code
            == 303
        )
        assert other.get(f"{DASH}/w/acme").status_code == 200
        walk.open(f"{DASH}/workspaces")
        walk.shoot("workspaces")
        walk.click("#signout-everywhere")
        assert "Sign in to imgate" in walk.text()
        assert other.get(f"{DASH}/w/acme").status_code == 303
