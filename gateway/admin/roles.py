"""Who may do what in a workspace: decided here once, for the command, the management API and the dashboard.

An ``AdminContext`` carries its ``Caller``:

- the operator (the ``imgate`` command, and the gateway's own steps such as seeding the demo): every power;
- a person (a dashboard session) with their role in each workspace they belong to. In a workspace they do
  not belong to they are refused ``NotFound``, the answer a workspace that does not exist gets, so a stranger
  learns nothing of its existence;
- an API key of one workspace with its scope.

What each power needs (``require``)::

    power     operator  owner  member  write key  read key
    read         yes     yes    yes      yes        yes
    edit         yes     yes    yes      yes        no     marks, rules, purge, origins, read keys, ...
    export       yes     yes    no       yes        no     the workspace's whole data, in one document
    members      yes     yes    no       no         no     invite, remove, change roles
    write_keys   yes     yes    no       no         no     create a key of the write scope
    billing      yes     yes    no       no         no     plan-level settings (the Stripe customer)
    delete       yes     yes    no       no         no     delete the workspace
    limits       yes     no     no       no         no     the operator's overrides of plan limits

Keys never manage people, mint write keys or delete the workspace: a leaked key must not be able to make its
holder an owner (who would outlive the key's revocation) or destroy the workspace. Those need an owner's
session or the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

from gateway.admin.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from gateway.admin.context import AdminContext

Power = Literal["read", "edit", "export", "members", "write_keys", "billing", "delete", "limits"]
CallerKind = Literal["operator", "person", "key"]

_OWNER: Final = frozenset({"read", "edit", "export", "members", "write_keys", "billing", "delete"})
_GRANTS: Final[Mapping[str, frozenset[str]]] = {
    "owner": _OWNER,
    "member": frozenset({"read", "edit"}),
    "write": frozenset({"read", "edit", "export"}),
    "read": frozenset({"read"}),
}
_REFUSALS: Final[Mapping[str, str]] = {
    "members": "only an owner of this workspace can manage its members and roles",
    "write_keys": "only an owner of this workspace can create a key with the write scope",
    "billing": "only an owner of this workspace can change its plan settings",
    "delete": "only an owner of this workspace can delete it",
    "export": "only an owner of this workspace can export it",
    "limits": "only the operator can change a workspace's plan limits",
    "edit": "this needs the write scope or a member's rights",
}
_KEY_ONLY_IN_A_SESSION: Final = frozenset({"members", "write_keys", "billing", "delete"})


@dataclass(frozen=True, slots=True)
class Caller:
    kind: CallerKind
    # A person: namespace -> role ("owner" | "member"). A key: its one namespace -> its scope.
    grants: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def person(cls, roles: Mapping[str, str]) -> Caller:
        return cls("person", MappingProxyType(dict(roles)))

    @classmethod
    def key(cls, namespace: str, scope: str) -> Caller:
        return cls("key", MappingProxyType({namespace: scope}))

    def may(self, namespace: str, power: Power) -> bool:
        if self.kind == "operator":
            return True
        held = self.grants.get(namespace)
        return held is not None and power in _GRANTS.get(held, frozenset())

    def belongs(self, namespace: str) -> bool:
        return self.kind == "operator" or namespace in self.grants


OPERATOR: Final = Caller("operator")


def require(ctx: AdminContext, namespace: str, power: Power) -> None:
    """Refuse unless the context's caller has ``power`` in the workspace: ``NotFound`` to a person or key of
    another workspace, ``Forbidden`` (saying who could) to one of this workspace without the power."""
    caller = ctx.caller
    if caller.may(namespace, power):
        return
    if not caller.belongs(namespace):
        raise NotFound(f"no workspace {namespace}")
    if caller.kind == "key" and power in _KEY_ONLY_IN_A_SESSION:
        raise Forbidden(f"{_REFUSALS[power]}, signed in to the dashboard or with the imgate command, not an API key")
    raise Forbidden(_REFUSALS.get(power, "you may not do that in this workspace"))
