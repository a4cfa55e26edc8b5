"""The access log: one JSON line per request on the ``imgate.access`` logger, written to standard error.

A line holds the time, the workspace (only a namespace that resolved to a workspace: a made-up one is ``null``,
so a client cannot write text of its choosing into the log), the status, the error code, the latency, the
body bytes, the cache tier and the output format. Never the URL, the key, the query, a ``src`` or capture
target, the Origin or any header value: the ``Outcome`` it is built from carries none of them.

Cost: a memory hit takes about ten microseconds of the worker's CPU, and one ``logging`` call per request
would add more than that again (measured: ~15-20 us a line through ``logging``, ~2 us to format one). So a
request appends a tuple, and lines are formatted and handed to the logger in batches: one record of up to
``BATCH`` lines (one JSON object each), emitted when the batch is full, ``FLUSH_AFTER`` seconds after its first
line, and at shutdown. A crash loses at most
that quarter second of lines. Every value written is one the gateway made (numbers, error codes, tiers, a
validated namespace), so the line is built without a JSON encoder and needs no escaping.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
from collections.abc import Callable

ACCESS_LOGGER = "imgate.access"
BATCH = 100
FLUSH_AFTER = 0.25  # seconds
_FORMATS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/gif": "gif",
    "application/json": "json",
    "application/pdf": "pdf",
    "image/svg+xml": "svg",
}


def access_logger() -> logging.Logger:
    """The logger, with a handler of its own the first time: bare JSON lines, not the gateway's log format."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def format_of(content_type: str | None) -> str | None:
    if content_type is None:
        return None
    found = _FORMATS.get(content_type)  # the gateway's own content types, as it writes them
    if found is None:
        found = _FORMATS.get(content_type.partition(";")[0].strip().lower(), "other")
    return found


def _text(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


# What ``write`` keeps of a request until the batch is written: time, workspace, status, code, seconds, bytes,
# tier, content type.
_Entry = tuple[float, str | None, int, str | None, float, int, str | None, str | None]


class AccessLog:
    def __init__(
        self,
        sample: float,
        logger: logging.Logger | None = None,
        chance: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sample = sample
        self._logger = logger or access_logger()
        self._chance = chance
        self._clock = clock
        self._entries: list[_Entry] = []
        self._timer: asyncio.TimerHandle | None = None

    def write(
        self,
        workspace: str | None,
        status: int,
        code: str | None,
        seconds: float,
        bytes_out: int,
        tier: str | None,
        content_type: str | None,
    ) -> None:
        if self._sample < 1 and self._chance() >= self._sample:
            return
        self._entries.append((self._clock(), workspace, status, code, seconds, bytes_out, tier, content_type))
        if len(self._entries) >= BATCH:
            self.flush()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(FLUSH_AFTER, self.flush)
            except RuntimeError:  # no event loop (a direct call): write at once
                self.flush()

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        entries, self._entries = self._entries, []
        if entries:
            self._logger.info("\n".join(_lines(entries)))


def _lines(entries: list[_Entry]) -> list[str]:
    # A batch's lines are formatted together: one calendar conversion per second of the batch, not per line,
    # and the parts that repeat from request to request (workspace, status and code; tier and format) built
    # once per batch.
    lines = []
    second, stamp = -1, ""
    heads: dict[tuple[str | None, int, str | None], str] = {}
    tails: dict[tuple[str | None, str | None], str] = {}
    for now, workspace, status, code, seconds, bytes_out, tier, content_type in entries:
        if int(now) != second:
            second = int(now)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        head = heads.get((workspace, status, code))
        if head is None:
            head = heads[workspace, status, code] = (
                f'"workspace":{_text(workspace)},"status":{status},"code":{_text(code)}'
            )
        tail = tails.get((tier, content_type))
        if tail is None:
            tail = tails[tier, content_type] = f'"tier":{_text(tier)},"format":{_text(format_of(content_type))}}}'
        lines.append(
            f'{{"time":"{stamp}.{int((now - second) * 1000):03d}Z",{head},'
            f'"latency_ms":{seconds * 1000:.2f},"bytes":{bytes_out},{tail}'
        )
    return lines
