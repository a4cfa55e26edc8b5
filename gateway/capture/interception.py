"""A capture job's extra request headers and HTTP basic credentials, given only to the hosts its workspace's
capture domains allow.

Browser-wide extra headers (``Network.setExtraHTTPHeaders``) would go to every host the page loads from: its
CDN, its analytics, any third party. So the capture's own tab is intercepted instead, on a DevTools
connection of its own (``CdpConnection.reconnect``) that lives exactly as long as the capture (``intercepting``):

- ``Fetch.enable`` pauses every request the tab makes (page, subresources, fetch/XHR, redirects, each hop
  being a request of its own) and every authentication challenge;
- a paused request to an allowed host gets the headers added (``Fetch.continueRequest``; DevTools applies an
  override to that one request, never to the hops a redirect makes of it); any other goes on unchanged;
- a challenge from an allowed server gets the credentials once per request (a wrong password is not
  retried); a proxy's challenge, a disallowed host's, or a second one is cancelled.

"Allowed" is the caller's own check (``NetworkAuth.admits``), asked per request URL: a capture job's is its
workspace's enabled capture domains, as at submit and as now, over https unless the job's page is http
(gateway/jobs/scope.py). Requests the tab does not make itself (a cross-site iframe's own process, workers, a
popup) are not paused and so get nothing: the failure mode is "too little", never "too wide". Whatever goes
wrong answering a paused request (a refused override, an event not understood, a check that raises), the
request still goes on, unchanged, or the challenge is cancelled: nothing is left paused.

A job without headers or credentials pays nothing: no second connection, no ``Fetch.enable``. A browser whose
only DevTools connection is a remote ChromeDriver's WebDriver BiDi socket (remote.py) cannot be intercepted
this way; a job with headers or credentials fails there with ``CaptureAuthUnsupported`` rather than send
them wide.

Values are never logged; they exist in memory for the capture and travel only as DevTools parameters.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.capture.browser import Browser
from gateway.capture.cdp import CdpConnection, CdpError
from gateway.capture.remote import BidiCdpConnection
from gateway.errors import CaptureAuthUnsupported

logger = logging.getLogger(__name__)

# Every request of the tab, paused before it is sent.
_PATTERNS = [{"urlPattern": "*", "requestStage": "Request"}]
_STOP_WAIT_S = 2.0


def _nowhere(url: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class NetworkAuth:
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    # (username, password)
    basic: tuple[str, str] | None = field(default=None, repr=False)
    # Whether a request URL may get them: asked for every request and every challenge (the page's own too).
    admits: Callable[[str], bool] = _nowhere

    def __bool__(self) -> bool:
        return bool(self.headers or self.basic)

    def __repr__(self) -> str:
        return "NetworkAuth(<hidden>)"


class Interception:
    """The tab's requests paused and answered on a connection of its own; ``stop`` ends it (and DevTools then
    lets the tab's requests go unpaused)."""

    # Started since the process began: what the tests count to see that a job without headers pays nothing.
    # Slot threads start them, hence the lock.
    started = 0
    _started_lock = threading.Lock()

    def __init__(self, devtools: CdpConnection, tab: str, auth: NetworkAuth) -> None:
        self._connection = devtools
        self._auth = auth
        self._header_names = {name.lower() for name, _ in auth.headers}
        self._answered: set[str] = set()
        # Answers sent and not replied to yet that have a plainer one to fall back on, by command id. Only the
        # listening thread sends answers and reads replies, so no lock.
        self._pending: dict[int, tuple[str, Mapping[str, Any]]] = {}
        self._session = str(devtools.call("Target.attachToTarget", {"targetId": tab, "flatten": True})["sessionId"])
        devtools.session_call(
            self._session, "Fetch.enable", {"patterns": _PATTERNS, "handleAuthRequests": auth.basic is not None}
        )
        self._thread = threading.Thread(target=self._listen, name="capture-interception", daemon=True)
        self._thread.start()
        with Interception._started_lock:
            Interception.started += 1

    def stop(self) -> None:
        self._connection.abort()
        self._thread.join(_STOP_WAIT_S)

    def _listen(self) -> None:
        try:
            self._connection.listen(self._on_event, self._on_reply)
        except CdpError:
            # The browser went away; the capture notices on its own connection.
            logger.info("a capture's request interception ended with its browser")

    def _on_event(self, method: str, params: dict[str, Any], session: str) -> None:
        if session != self._session:
            return
        try:
            if method == "Fetch.requestPaused":
                self._continue(params)
            elif method == "Fetch.authRequired":
                self._answer_challenge(params)
        except CdpError:
            pass  # lost connection: ``listen`` ends next
        except Exception as exc:
            # Never the event's values (they hold the headers): what kind of failure, and the request goes on.
            logger.warning("a capture's request interception could not answer an event (%s)", type(exc).__name__)
            self._unpause(method, params)

    def _on_reply(self, message_id: int, failed: bool) -> None:
        """A failed answer leaves its request paused: it goes on unchanged (or its challenge is cancelled)."""
        answered = self._pending.pop(message_id, None)
        if failed and answered is not None:
            logger.warning("DevTools refused a capture's answer to a paused request; it goes on without it")
            self._unpause(*answered)

    def _unpause(self, method: str, params: Mapping[str, Any]) -> None:
        request_id = params.get("requestId") if isinstance(params, Mapping) else None
        if not isinstance(request_id, str):
            return
        try:
            if method == "Fetch.requestPaused":
                self._answer("Fetch.continueRequest", {"requestId": request_id}, None)
            elif method == "Fetch.authRequired":
                cancel = {"requestId": request_id, "authChallengeResponse": {"response": "CancelAuth"}}
                self._answer("Fetch.continueWithAuth", cancel, None)
        except CdpError:
            pass  # lost connection: ``listen`` ends next

    def _answer(self, command: str, params: Mapping[str, Any], fallback: tuple[str, Mapping[str, Any]] | None) -> None:
        """Send an answer to a paused request; if DevTools refuses it, ``fallback`` (the event) is un-paused plainly."""
        message_id = self._connection.send(self._session, command, params)
        if fallback is not None:
            self._pending[message_id] = fallback

    def _continue(self, params: Mapping[str, Any]) -> None:
        request_id, request = params["requestId"], params["request"]
        answer: dict[str, Any] = {"requestId": request_id}
        if self._auth.headers and self._auth.admits(str(request["url"])):
            kept = [
                {"name": str(name), "value": str(value)}
                for name, value in dict(request.get("headers") or {}).items()
                if str(name).lower() not in self._header_names
            ]
            answer["headers"] = kept + [{"name": name, "value": value} for name, value in self._auth.headers]
        fallback = ("Fetch.requestPaused", params) if "headers" in answer else None
        self._answer("Fetch.continueRequest", answer, fallback)

    def _answer_challenge(self, params: Mapping[str, Any]) -> None:
        request_id = str(params["requestId"])
        challenge = params.get("authChallenge") or {}
        basic = self._auth.basic
        response: dict[str, Any] = {"response": "CancelAuth"}
        if (
            basic is not None
            and challenge.get("source") != "Proxy"
            and request_id not in self._answered
            and self._auth.admits(str(params["request"]["url"]))
            and self._auth.admits(str(challenge.get("origin", "")) + "/")
        ):
            self._answered.add(request_id)
            response = {"response": "ProvideCredentials", "username": basic[0], "password": basic[1]}
        fallback = ("Fetch.authRequired", params) if response["response"] != "CancelAuth" else None
        self._answer("Fetch.continueWithAuth", {"requestId": request_id, "authChallengeResponse": response}, fallback)


@contextlib.contextmanager
def intercepting(browser: Browser, auth: NetworkAuth | None, deadline: float) -> Iterator[None]:
    """Give ``auth``'s headers and credentials to the capture's tab while the block runs; nothing without them.
    Blocking (the slot thread); ``deadline`` is a ``time.monotonic()`` value."""
    if not auth:
        yield
        return
    if isinstance(browser.devtools, BidiCdpConnection):
        raise CaptureAuthUnsupported()
    timeout = max(1.0, deadline - time.monotonic())
    connection = browser.devtools.reconnect(timeout)
    try:
        interception = Interception(connection, browser.tab, auth)
    except BaseException:
        connection.abort()
        raise
    try:
        yield
    finally:
        interception.stop()
