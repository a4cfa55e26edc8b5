"""An in-memory account store where another admin's write lands between a read and the write after it."""

from __future__ import annotations

import dataclasses

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace


class InterleavingStore(MemoryAccountStore):
    """The next ``times`` reads of a workspace each let a concurrent change to ``plan`` land first."""

    def __init__(self, plan: str) -> None:
        super().__init__()
        self.times = 0
        self._plan = plan

    def get_workspace(self, namespace: str) -> Workspace | None:
        workspace = super().get_workspace(namespace)
        if workspace is not None and self.times:
            self.times -= 1
            super().update_workspace(dataclasses.replace(workspace, plan=self._plan))
        return workspace
