"""Auto-apply rules, compiled: which preset (if any) a source must be stamped with.

Key patterns are globs over the source key: ``*`` and ``?`` stay inside one path segment, ``**`` crosses
segments (``premium/**`` covers everything below ``premium/``; ``**/*.png`` every PNG at any depth), and a
pattern without a ``/`` matches the last segment at any depth (``*.png`` covers ``a/b/c.png``), like
``.gitignore``. Host patterns are the allowlists' (exact or ``*.example.com``) and apply to ``?src=`` and
``?capture=`` hosts. Rules are tried in the owner's order; the first match wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.accounts.models import MarkRule
from gateway.policy import HostPattern


def compile_glob(pattern: str) -> re.Pattern[str]:
    if not pattern or pattern.startswith("/") or "\x00" in pattern:
        raise ValueError(f"key pattern {pattern!r}: must be a relative glob such as premium/** or *.png")
    anchored = "/" in pattern
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    body = "".join(out)
    return re.compile(body if anchored else f"(?:.*/)?{body}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: MarkRule
    keys: tuple[re.Pattern[str], ...]
    hosts: tuple[HostPattern, ...]

    @classmethod
    def compile(cls, rule: MarkRule) -> CompiledRule:
        return cls(
            rule,
            tuple(compile_glob(p) for p in rule.key_patterns),
            tuple(HostPattern.compile(p) for p in rule.src_host_patterns),
        )

    def covers(self, source_key: str | None, host: str | None) -> bool:
        if source_key is not None and any(p.fullmatch(source_key) for p in self.keys):
            return True
        return host is not None and any(p.matches(host) for p in self.hosts)


def unusable_rules(namespace: str) -> CompiledRule:
    """Covers every source and names no preset, so resolving it refuses the request."""
    return CompiledRule(
        MarkRule(namespace, 0, 0, "", ("**",)), (re.compile(".*", re.DOTALL),), (HostPattern.compile("*"),)
    )


def compile_rules(rules: Iterable[MarkRule]) -> tuple[CompiledRule, ...]:
    return tuple(CompiledRule.compile(rule) for rule in sorted(rules, key=lambda r: (r.position, r.rule_id)))


def first_match(rules: tuple[CompiledRule, ...], source_key: str | None, host: str | None) -> MarkRule | None:
    for compiled in rules:
        if compiled.covers(source_key, host):
            return compiled.rule
    return None
