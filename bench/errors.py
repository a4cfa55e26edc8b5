"""The one error the harness raises for a problem the person running it can fix."""

from __future__ import annotations


class BenchError(Exception):
    """A missing tool, a peer that would not start, a wrong answer: the message says what to do."""
