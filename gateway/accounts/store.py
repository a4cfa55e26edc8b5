"""The ``AccountStore`` protocol.

Calls are synchronous: the embedded SQLite store and boto3's DynamoDB client both block, and the hot path
never calls the store directly (``gateway.tenancy`` caches workspaces and refreshes them in a thread).
"""

from __future__ import annotations

from typing import Protocol

from gateway.accounts.models import Workspace


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

    def close(self) -> None: ...
