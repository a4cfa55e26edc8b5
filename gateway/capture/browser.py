"""One Chromium driven by Selenium, with a fresh browser context per capture.

``Browser.launch`` starts ChromeDriver and Chromium (or a session on a remote WebDriver endpoint, a
Selenium Grid: same code, see remote.py) with every request routed through the gateway's egress proxy: the browser's
own traffic to a listener that refuses it all, each capture context's to the checking one. Each capture
runs in its own DevTools browser context, created and disposed on the browser's own DevTools connection:
an off-the-record profile whose cookies, storage, HTTP cache, service workers and permissions exist only
in memory and are destroyed with it (see pool.py for the measurements behind this choice). One tab in
the default context, never navigated, keeps the WebDriver session alive between contexts.

A local browser's ChromeDriver and DevTools ports are chosen before it starts and recorded in the
node-wide registry of capture machinery (machinery.py) until its processes are dead, so that no page,
captured by this worker or another, can ever reach them through an egress proxy.

Popups cannot hold a capture: ChromeDriver's default ``--disable-popup-blocking`` is removed, so
Chromium's own popup blocker refuses every ``window.open``, ``target=_blank`` click and form that no user
gesture started (a capture never makes one), and the capture tab's ``window.open`` returns ``null``
(scripts.QUIET_DIALOGS). A popup shares its opener's renderer, so one that loops or opens a dialog would
otherwise freeze the capture until it timed out and its browser was replaced as hung. Any tab that still
appears in a capture's context is closed before the capture is taken (``close_other_tabs``).

Every method except ``kill`` is blocking and must run on the browser's slot thread.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from gateway.capture import scripts
from gateway.capture.cdp import CdpConnection, CdpError
from gateway.capture.machinery import MachineryPorts, free_port
from gateway.capture.procs import TAG_VARIABLE, kill_processes
from gateway.capture.remote import UNREACHABLE, RemoteSession, start_remote_session
from gateway.errors import CaptureUnavailable
from gateway.settings import CaptureSettings

logger = logging.getLogger(__name__)

# The proxy sees every request only if loopback is not bypassed: by default Chromium connects to
# loopback and link-local addresses directly, around any proxy. "<-loopback>" removes that rule.
PROXY_BYPASS = "<-loopback>"

_FLAGS = (
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--no-pings",
    # Not "--disable-crashpad-for-testing": it keeps the crash handler (which leaves the process group,
    # see procs.py) from starting, but in Chromium 156 it also makes every navigation fail (ERR_ABORTED).
    "--disable-breakpad",
    # QUIC is UDP and cannot go through an HTTP proxy; with it off every request is TCP via the proxy.
    "--disable-quic",
    # WebRTC may only use proxied (TCP) traffic. The switch is "webrtc-ip-handling-policy"; the
    # "force-" spelling seen in other projects does not exist in Chromium and would be ignored.
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--hide-scrollbars",
    "--mute-audio",
    # Capture tabs are opened in the background; throttled timers would stall lazy loading.
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--window-size=1280,800",
)

_PREFS: Mapping[str, Any] = {
    "download_restrictions": 3,  # block all downloads
    "download.prompt_for_download": False,
    "webrtc.ip_handling_policy": "disable_non_proxied_udp",
    "webrtc.multiple_routes_enabled": False,
    "webrtc.nonproxied_udp_enabled": False,
    "profile.default_content_setting_values.popups": 2,
    "profile.default_content_setting_values.notifications": 2,
    "profile.default_content_setting_values.geolocation": 2,
    "credentials_enable_service": False,
    "profile.password_manager_enabled": False,
}

DEFAULT_METRICS: Mapping[str, Any] = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}

# The browser is the most exposed part of the gateway: it gets none of the gateway's environment
# (storage keys, secrets), only what it needs to run.
_ENVIRONMENT_KEPT = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "FONTCONFIG_PATH",
    "FONTCONFIG_FILE",
    "LD_LIBRARY_PATH",
)


class BrowserGone(Exception):
    """The browser or its driver died or stopped answering; the browser must be replaced."""


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chrome_options(
    settings: CaptureSettings,
    browser_proxy_url: str,
    user_data_dir: Path | None,
    binary: str | None,
    devtools_port: int | None = None,
) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    if binary:
        options.binary_location = binary
    for flag in _FLAGS:
        options.add_argument(flag)
    # The browser-wide proxy refuses everything (see proxy.py); captures get theirs per context.
    options.add_argument(f"--proxy-server={browser_proxy_url}")
    options.add_argument(f"--proxy-bypass-list={PROXY_BYPASS}")
    if user_data_dir is not None:
        options.add_argument(f"--user-data-dir={user_data_dir}")
    if devtools_port is not None:
        # Chosen by us and registered before the browser starts (ChromeDriver keeps a port it is given).
        options.add_argument(f"--remote-debugging-port={devtools_port}")
    # The sandbox cannot start as root; anywhere else it stays on.
    if not settings.grid_url and os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    options.add_experimental_option("prefs", dict(_PREFS))
    # ChromeDriver turns Chromium's popup blocker off by default; it stays on (see the module docstring).
    options.add_experimental_option("excludeSwitches", ["enable-logging", "disable-popup-blocking"])
    # Dialogs are disarmed in every capture tab (scripts.QUIET_DIALOGS); any that still opens, ChromeDriver
    # dismisses.
    options.set_capability("unhandledPromptBehavior", "dismiss")
    options.page_load_strategy = "normal"
    return options


class Browser:
    def __init__(
        self,
        driver: WebDriver,
        cdp: CdpConnection,
        *,
        proxy_url: str,
        tag: str,
        service: Service | None,
        user_data_dir: Path | None,
        machinery: MachineryPorts | None = None,
        remote: RemoteSession | None = None,
    ) -> None:
        self.driver = driver
        # Set for a browser on a remote WebDriver endpoint (remote.py): no local process to watch.
        self.remote = remote
        self.tag = tag
        self._cdp = cdp
        self._proxy_url = proxy_url
        self._service = service
        self._user_data_dir = user_data_dir
        self._machinery = machinery
        self._home = driver.current_window_handle
        self._context: str | None = None
        self._tab: str | None = None
        self._kill_lock = threading.Lock()
        self._killed = False
        self.captures = 0

    @classmethod
    def launch(
        cls,
        settings: CaptureSettings,
        proxy_url: str,
        browser_proxy_url: str,
        tag: str,
        machinery: MachineryPorts | None = None,
    ) -> Browser:
        """Start a browser with a fresh profile and open its first capture context. Captures go through
        ``proxy_url``, the browser's own traffic to ``browser_proxy_url``; ``tag`` marks its processes
        (procs.py) and names its entry in ``machinery`` (the process-wide registry if None)."""
        machinery = machinery if machinery is not None else MachineryPorts()
        remote: RemoteSession | None = None
        if settings.grid_url:
            remote = start_remote_session(settings, chrome_options(settings, browser_proxy_url, None, None))
            driver, service, user_data_dir = remote.driver, None, None
        else:
            ports = {"chromedriver": free_port(), "devtools": free_port()}
            machinery.register(tag, ports)
            try:
                driver, service, user_data_dir = _local_driver(settings, browser_proxy_url, tag, ports)
            except BaseException:
                machinery.unregister(tag)  # _local_driver left no process behind
                raise
        try:
            if remote is not None:
                # Its ports on this machine are machinery too, before any page runs in it.
                machinery.register(tag, remote.machinery_ports())
                cdp = remote.devtools(timeout=settings.launch_timeout)
            else:
                cdp = CdpConnection.for_capabilities(driver.capabilities, timeout=settings.launch_timeout)
            browser = cls(
                driver,
                cdp,
                proxy_url=proxy_url,
                tag=tag,
                service=service,
                user_data_dir=user_data_dir,
                machinery=machinery,
                remote=remote,
            )
        except (CdpError, *UNREACHABLE) as exc:  # a remote end lets urllib3's errors through
            if remote is not None:
                reason = exc if isinstance(exc, CdpError) else type(exc).__name__
                logger.warning("a remote capture browser cannot be used: %s", reason)
                remote.quit()
            else:
                _discard(driver, service, user_data_dir, tag)
            machinery.unregister(tag)
            raise CaptureUnavailable() from exc
        try:
            browser.open_context()
        except BrowserGone:
            browser.kill()
            raise
        return browser

    @property
    def process_group(self) -> int | None:
        process = getattr(self._service, "process", None)
        return process.pid if process is not None else None

    @property
    def devtools(self) -> CdpConnection:
        """The browser-level DevTools connection (interception.py opens another one beside it)."""
        return self._cdp

    @property
    def tab(self) -> str:
        """The DevTools target id of the current capture's tab."""
        if self._tab is None:
            raise BrowserGone("no capture context is open")
        return self._tab

    def page_cdp(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A DevTools command for the page being captured (through ChromeDriver)."""
        reply = self.driver.execute("executeCdpCommand", {"cmd": method, "params": dict(params or {})})
        value: dict[str, Any] = reply["value"]
        return value

    def open_context(self) -> None:
        """Create an empty browser context with one blank tab and make it WebDriver's current window."""
        try:
            context = self._cdp.call(
                "Target.createBrowserContext",
                {
                    "disposeOnDetach": True,
                    "proxyServer": self._proxy_url,
                    "proxyBypassList": PROXY_BYPASS,
                },
            )["browserContextId"]
            self._context = context
            self._cdp.call("Browser.setDownloadBehavior", {"behavior": "deny", "browserContextId": context})
            target = self._cdp.call("Target.createTarget", {"url": "about:blank", "browserContextId": context})
            self._tab = target["targetId"]
            self.driver.switch_to.window(target["targetId"])
            self.page_cdp("Page.addScriptToEvaluateOnNewDocument", {"source": scripts.QUIET_DIALOGS})
            # The usual viewport, set while nobody waits: the first override of a tab is the slow one.
            self.page_cdp("Emulation.setDeviceMetricsOverride", DEFAULT_METRICS)
        except (CdpError, WebDriverException, KeyError) as exc:
            raise BrowserGone("could not open a capture context") from exc

    def close_other_tabs(self) -> int:
        """Close every tab of the capture's context except the capture's own; return how many there were."""
        closed = 0
        for target in self._cdp.call("Target.getTargets").get("targetInfos", []):
            if (
                target.get("browserContextId") == self._context
                and target.get("targetId") != self._tab
                and target.get("type") == "page"
            ):
                self._cdp.call("Target.closeTarget", {"targetId": target["targetId"]})
                closed += 1
        if closed:
            logger.info("closed %d tab(s) a captured page opened", closed)
        return closed

    def reset(self) -> None:
        """Destroy the current context and everything in it, then open the next one."""
        try:
            self.driver.switch_to.window(self._home)
            if self._context is not None:
                context, self._context = self._context, None
                self._cdp.call("Target.disposeBrowserContext", {"browserContextId": context})
        except (CdpError, WebDriverException) as exc:
            raise BrowserGone("could not dispose of a capture context") from exc
        self.open_context()

    def is_alive(self) -> bool:
        if self._killed or not self._cdp.connected:
            return False
        if self.remote is not None:
            return self.remote.answering()  # a round trip: the pool asks off the event loop
        process = getattr(self._service, "process", None)
        return process is None or process.poll() is None

    def kill(self) -> None:
        """Stop the browser now, whatever it is doing. Safe from any thread, and more than once."""
        with self._kill_lock:
            if self._killed:
                return
            self._killed = True
        # Processes first: closing the DevTools socket politely could wait on a frozen browser.
        if self.remote is not None:
            self.remote.quit()  # its node owns the processes
        else:
            _discard(self.driver, self._service, self._user_data_dir, self.tag)
        # Only now that nothing listens on them any more do its ports leave the registry.
        if self._machinery is not None:
            self._machinery.unregister(self.tag)
        self._cdp.close()


def _local_driver(
    settings: CaptureSettings, browser_proxy_url: str, tag: str, ports: dict[str, int]
) -> tuple[WebDriver, Service, Path]:
    binary = settings.chromium_path or find_chromium()
    chromedriver = settings.chromedriver_path or shutil.which("chromedriver")
    if binary is None or chromedriver is None or not os.access(chromedriver, os.X_OK):
        raise CaptureUnavailable("captures are unavailable: no browser is installed")
    user_data_dir = Path(tempfile.mkdtemp(prefix="imgate-chromium-"))
    environment = {name: os.environ[name] for name in _ENVIRONMENT_KEPT if name in os.environ}
    # HOME inside the throw-away profile: Chromium keeps a few files there (.pki) outside --user-data-dir.
    environment.update({"HOME": str(user_data_dir), TAG_VARIABLE: tag})
    service = Service(
        executable_path=chromedriver,
        port=ports["chromedriver"],
        env=environment,
        log_output=subprocess.DEVNULL,
        # Its own session, so that its pid is the process group of everything it starts.
        popen_kw={"start_new_session": True},
    )
    try:
        options = chrome_options(settings, browser_proxy_url, user_data_dir, binary, ports["devtools"])
        driver = webdriver.Chrome(service=service, options=options)
    except (WebDriverException, OSError) as exc:
        _discard(None, service, user_data_dir, tag)
        logger.warning("chromium did not start: %s", getattr(exc, "msg", None) or type(exc).__name__)
        raise CaptureUnavailable() from exc
    return driver, service, user_data_dir


def _discard(driver: WebDriver | None, service: Service | None, user_data_dir: Path | None, tag: str) -> None:
    # Selenium sets Service.process only once the process started.
    process = getattr(service, "process", None)
    kill_processes(tag, [process.pid] if process is not None else [])
    if process is not None:
        try:
            process.wait(timeout=5)  # reap ChromeDriver, our own child
        except subprocess.TimeoutExpired:
            logger.warning("chromedriver did not exit after SIGKILL")
    if service is not None:
        service.stop()  # closes its pipes; the process is already gone
    if driver is not None:
        driver.command_executor.close()  # type: ignore[union-attr]  # a RemoteConnection here
    if user_data_dir is not None:
        shutil.rmtree(user_data_dir, ignore_errors=True)
