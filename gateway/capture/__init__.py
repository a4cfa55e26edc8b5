"""Captures: screenshots (PNG) and PDFs of web pages in isolated headless Chromium, behind an
SSRF-enforcing egress proxy. ``CaptureService`` is the entry point; see service.py."""

from __future__ import annotations

from gateway.capture.options import (
    CAPTURE_PARAMETERS,
    CaptureOptions,
    parse_capture_options,
    validate_target,
)
from gateway.capture.proxy import EgressProxy
from gateway.capture.service import CaptureService
from gateway.settings import CaptureSettings

__all__ = [
    "CAPTURE_PARAMETERS",
    "CaptureOptions",
    "CaptureService",
    "CaptureSettings",
    "EgressProxy",
    "parse_capture_options",
    "validate_target",
]
