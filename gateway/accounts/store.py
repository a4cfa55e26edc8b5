"""The ``AccountStore`` protocol.

Calls are synchronous: the embedded SQLite store and boto3's DynamoDB client both block, and the hot path
never calls the store directly (``gateway.tenancy`` caches workspaces and refreshes them in a thread).
"""

from __future__ import annotations

from typing import Protocol

from gateway.accounts.models import MarkPreset, MarkRule, Workspace


class WorkspaceExists(Exception):
    pass


class WorkspaceMissing(Exception):
    pass


class AccountStore(Protocol):
    def get_workspace(self, namespace: str) -> Workspace | None: ...

    def list_workspaces(self) -> list[Workspace]: ...

    def create_workspace(self, workspace: Workspace) -> Workspace:
        """Insert; raises ``WorkspaceExists``. Returns the stored record (revision 1, created_at set)."""
        ...

    def update_workspace(self, workspace: Workspace) -> Workspace:
        """Replace; raises ``WorkspaceMissing``. Returns the stored record with the next revision."""
        ...

    def delete_workspace(self, namespace: str) -> bool: ...

    # Marks and rules. Every change also bumps the workspace's revision, so each process's tenancy cache
    # reloads them within its TTL.
    def list_marks(self, namespace: str) -> list[MarkPreset]: ...

    def put_mark(self, mark: MarkPreset) -> MarkPreset:
        """Insert or replace by (namespace, name); sets ``updated_at``."""
        ...

    def delete_mark(self, namespace: str, name: str) -> bool:
        """Refuses (``ValueError``) while a rule still names the preset."""
        ...

    def list_rules(self, namespace: str) -> list[MarkRule]:
        """In the order they are tried: by position."""
        ...

    def add_rule(
        self,
        namespace: str,
        preset: str,
        key_patterns: tuple[str, ...],
        src_host_patterns: tuple[str, ...],
        position: int | None = None,
    ) -> MarkRule:
        """Insert at ``position`` (1-based; default last), shifting later rules down."""
        ...

    def move_rule(self, namespace: str, rule_id: int, position: int) -> MarkRule: ...

    def delete_rule(self, namespace: str, rule_id: int) -> bool: ...

    def close(self) -> None: ...
