"""The DynamoDB account store: several gateway nodes share one table (``account_store = "dynamodb"``).

Synchronous over boto3 (tenancy calls the store in a thread), on one table (``gateway.accounts.dynamodb_table``)
that any DynamoDB-compatible engine serves (DynamoDB, DynamoDB Local, ScyllaDB Alternator: ``dynamodb_endpoint``).

Single-table design (``PK`` / ``SK``; ``gsi1`` and ``gsi2`` are the global secondary indexes)::

    PK                       SK                          what
    WS#<ns>                  WS                          workspace: doc (its SQLite row as JSON), revision;
                                                         gsi1 = WORKSPACES / <ns> (the listing)
    WS#<ns>                  MARK#<name>                 mark: settings, image bytes inline (img) or a pointer
                                                         to its chunks (gen, chunks) when over INLINE_IMAGE
    WS#<ns>                  MARKIMG#<name>#<gen>#<i>    one chunk of a big mark image (each < 400 KB)
    WS#<ns>                  RULE#<rule id>              rule with its position; ids from COUNTER / rule_id
    WS#<ns>                  MEMBER#<user id>            membership; gsi1 = USER#<user id> / <ns>
    WS#<ns>                  KEY#<key id>                API key (no secret); last_used_at, revoked_at beside
    WS#<ns>                  KEYPREFIX#<prefix>          uniqueness of a key prefix within the workspace
    WS#<ns>                  KEYUSE#<day>#<key id>       requests per key per UTC day (ADD)
    WS#<ns>                  AUDIT#<at>#<entry id>       audit row; ttl = retention end
    WS#<ns>                  USAGE#<day>                 usage counters (ADD), gateway.accounts.dynamodb_usage
    WS#<ns>                  WEBHOOKSECRET               sealed webhook secret (capture jobs)
    WS#<ns>                  DOMAIN#<host>               the workspace's marker of its domain claim (its list, the cap)
    STRIPE#<customer>        UNIQUE                      the one workspace a Stripe customer pays for
    USER#<user id>           USER                        user
    EMAIL#<normal email>     UNIQUE                      uniqueness of an address, and its lookup
    KEYHASH#<sha256>         UNIQUE                      uniqueness of a key digest, and lookup by it
    KEYID#<key id>           UNIQUE                      uniqueness of a key id, and its workspace
    WEBHOOK#<event id>       EVENT                       processed webhook deliveries
    DOMAIN#<host>            CLAIM#<ns>                  one workspace's claim on a custom domain (any state)
    DOMAIN#<host>            VERIFIED                    copy of the one verified claim: routing by host, and the
                                                         name's uniqueness (gateway.accounts.dynamodb_domains)
    CODE#<code id>           CODE                        sign-in code; gsi1 = CODES#<email>, gsi2 = CODESFROM#<client>
    SESSION#<digest>         SESSION                     dashboard session; gsi1 = SESSIONS#<user id>
    JOB#<job id>             JOB                         capture job; gsi1 = JOBS#<ns>, gsi2 = QUEUE while unfinished
    WORKERS                  <worker>                    capture worker heartbeats
    WEBHOOKS                 <due>#<job id>              a capture job's pending webhook, by when it is due
    LOCK#<scope>             LOCK                        lock items (``Table.lock``)
    COUNTER                  <name>                      id counters

How the checks hold across nodes:

- the revision compare-and-set is a conditional write (``revision = :r``; otherwise ``WorkspaceConflict``);
- uniqueness (namespace, Stripe customer, email, key prefix, digest and id, verified domain) is an item per
  unique value, written with ``attribute_not_exists`` in the same ``TransactWriteItems`` as the record, so two
  nodes racing to create the same thing cannot both succeed;
- lookups that must see the latest write (an API key by digest, a user by email, a domain by host) read those
  items by key with a strongly consistent read: global secondary indexes are only eventually consistent, so
  they serve listings only (a revoked key must be refused from the very next request);
- writes whose check reads several items (the last owner, the rule order, marks named by rules) hold the
  workspace's lock item (``Table.lock``), and so do the writes that add to a workspace's partition (keys,
  members, domains), which its deletion takes too: nothing is added to a workspace while it is deleted.

Deleting a workspace deletes its partition (everything under ``WS#<ns>``), the unique items its records point at,
and its domain claims (found through its markers) and capture jobs (found through ``gsi1``).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from datetime import date
from typing import Any, cast

from gateway.accounts.audit import AuditEntry, AuditPage, check_page_size, decode_cursor, page_of
from gateway.accounts.capture_jobs import CaptureJobStore
from gateway.accounts.domains import DomainStore
from gateway.accounts.dynamodb_capture_jobs import DynamoCaptureJobStore
from gateway.accounts.dynamodb_domains import DynamoDomainStore
from gateway.accounts.dynamodb_signin import DynamoSignInStore
from gateway.accounts.dynamodb_table import (
    Item,
    Table,
    check_action,
    delete_action,
    n,
    num,
    padded,
    put_action,
    s,
    text,
    update_action,
)
from gateway.accounts.dynamodb_usage import DynamoUsageStore
from gateway.accounts.keys import ApiKey, KeyUse
from gateway.accounts.models import MarkPreset, MarkRule, Workspace
from gateway.accounts.signin import SignInStore
from gateway.accounts.sqlite_schema import mark_from_row, workspace_from_row, workspace_row
from gateway.accounts.store import (
    KeyPrefixTaken,
    LastOwner,
    MemberExists,
    MemberMissing,
    StripeCustomerTaken,
    UserExists,
    UserMissing,
    WorkspaceConflict,
    WorkspaceExists,
    WorkspaceMissing,
    check_event_id,
    check_position,
    check_use_count,
    placed,
    stamp,
)
from gateway.accounts.usage import UsageStore
from gateway.accounts.users import InvalidEmail, Membership, User, new_user_id, normalise_email

__all__ = ["DynamoAccountStore"]

# Mark images up to this size stay in the mark's item; bigger ones go to chunk items. DynamoDB's item cap is
# 400 KB including names and the other attributes, so both leave room for them.
INLINE_IMAGE = 300_000
CHUNK = 350_000


def _ws(namespace: str) -> str:
    return f"WS#{namespace}"


def _revision_bump(namespace: str) -> Item:
    return update_action(_ws(namespace), "WS", "SET revision = revision + :one", "attribute_exists(PK)", {":one": n(1)})


def _doc(item: Item) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(text(item, "doc")))


# Item builders: the store writes each record through these, and so does the copy from SQLite
# (``gateway.accounts.dynamodb_copy``), so a record has one layout wherever it comes from.


def mark_items(mark: MarkPreset) -> tuple[Item, list[Item]]:
    """The mark's item and, for an image over ``INLINE_IMAGE``, its chunk items under a new generation."""
    settings = {
        f.name: getattr(mark, f.name)
        for f in dataclasses.fields(MarkPreset)
        if f.name not in ("namespace", "name", "image_data", "updated_at")
    }
    pk = _ws(mark.namespace)
    item: Item = {
        "PK": s(pk),
        "SK": s(f"MARK#{mark.name}"),
        "doc": s(json.dumps(settings, sort_keys=True)),
        "updated_at": n(mark.updated_at),
    }
    data = mark.image_data
    if len(data) <= INLINE_IMAGE:
        item["img"] = {"B": data}
        return item, []
    gen = secrets.token_hex(4)
    item["gen"], item["chunks"] = s(gen), n((len(data) + CHUNK - 1) // CHUNK)
    chunks = [
        {"PK": s(pk), "SK": s(f"MARKIMG#{mark.name}#{gen}#{i:05d}"), "img": {"B": data[at : at + CHUNK]}}
        for i, at in enumerate(range(0, len(data), CHUNK))
    ]
    return item, chunks


def rule_item(rule: MarkRule) -> Item:
    return {
        "PK": s(_ws(rule.namespace)),
        "SK": s(f"RULE#{rule.rule_id:012d}"),
        "pos": n(rule.position),
        "preset": s(rule.preset),
        "key_patterns": s(json.dumps(list(rule.key_patterns))),
        "src_host_patterns": s(json.dumps(list(rule.src_host_patterns))),
    }


def user_items(user: User) -> list[Item]:
    """The user and the unique item of its address."""
    return [
        {"PK": s(f"USER#{user.user_id}"), "SK": s("USER"), "doc": s(json.dumps(dataclasses.asdict(user)))},
        {"PK": s(f"EMAIL#{user.email}"), "SK": s("UNIQUE"), "user_id": s(user.user_id)},
    ]


def member_item(membership: Membership) -> Item:
    return {
        "PK": s(_ws(membership.namespace)),
        "SK": s(f"MEMBER#{membership.user_id}"),
        "G1PK": s(f"USER#{membership.user_id}"),
        "G1SK": s(membership.namespace),
        "member_role": s(membership.role),
    }


def key_items(key: ApiKey) -> list[Item]:
    """The key's record, then the unique items of its prefix, its id and its digest."""
    pk = _ws(key.namespace)
    doc = {f.name: getattr(key, f.name) for f in dataclasses.fields(ApiKey)}
    del doc["last_used_at"], doc["revoked_at"]
    refs = [f"KEYID#{key.key_id}|UNIQUE", f"KEYHASH#{key.sha256}|UNIQUE"]
    record: Item = {
        "PK": s(pk),
        "SK": s(f"KEY#{key.key_id}"),
        "doc": s(json.dumps(doc)),
        "sort": s(f"{padded(key.created_at)}#{key.key_id}"),
        "refs": {"L": [s(ref) for ref in refs]},
    }
    if key.last_used_at is not None:
        record["last_used_at"] = n(key.last_used_at)
    if key.revoked_at is not None:
        record["revoked_at"] = n(key.revoked_at)
    pointer = {"namespace": s(key.namespace), "key_id": s(key.key_id)}
    return [
        record,
        {"PK": s(pk), "SK": s(f"KEYPREFIX#{key.prefix}"), **pointer},
        {"PK": s(f"KEYID#{key.key_id}"), "SK": s("UNIQUE"), **pointer},
        {"PK": s(f"KEYHASH#{key.sha256}"), "SK": s("UNIQUE"), **pointer},
    ]


def key_use_item(namespace: str, use: KeyUse) -> Item:
    """A day's count as one item (``count_key_use`` adds to the same item)."""
    return {
        "PK": s(_ws(namespace)),
        "SK": s(f"KEYUSE#{use.day.isoformat()}#{use.key_id}"),
        "key_id": s(use.key_id),
        "use_day": s(use.day.isoformat()),
        "requests": _number(use.requests),
    }


def audit_item(entry: AuditEntry, expires_at: float) -> Item:
    return {
        "PK": s(_ws(entry.namespace)),
        "SK": s(f"AUDIT#{padded(entry.at)}#{entry.entry_id:012d}"),
        "doc": s(json.dumps(dataclasses.asdict(entry))),
        "at": n(entry.at),
        "ttl": n(int(expires_at)),
    }


def webhook_event_item(event_id: str, received_at: float) -> Item:
    return {"PK": s(f"WEBHOOK#{event_id}"), "SK": s("EVENT"), "received_at": n(received_at)}


class DynamoAccountStore:
    def __init__(
        self,
        table: str,
        *,
        region: str = "",
        endpoint_url: str = "",
        create_table: bool = True,
        audit_retention_days: int = 90,
    ) -> None:
        self.table = Table(table, region=region, endpoint_url=endpoint_url, create=create_table)
        self._audit_ttl = audit_retention_days * 86400.0
        self.usage: UsageStore = DynamoUsageStore(self.table)
        self.signins: SignInStore = DynamoSignInStore(self.table)
        self._domains = DynamoDomainStore(self.table)
        self.domains: DomainStore = self._domains
        self.capture_jobs: CaptureJobStore = DynamoCaptureJobStore(self.table)

    # -- workspaces ------------------------------------------------------------------------------------

    @staticmethod
    def _workspace(item: Item) -> Workspace:
        row = _doc(item)
        row["revision"] = int(float(item["revision"]["N"]))
        return workspace_from_row(cast(Any, row))

    def _workspace_item(self, ws: Workspace) -> Item:
        row = workspace_row(ws)
        return {
            "PK": s(_ws(ws.namespace)),
            "SK": s("WS"),
            "G1PK": s("WORKSPACES"),
            "G1SK": s(ws.namespace),
            "doc": s(json.dumps(row, sort_keys=True)),
            "revision": n(ws.revision),
            "customer": s(ws.billing.stripe_customer_id),
        }

    def get_workspace(self, namespace: str) -> Workspace | None:
        item = self.table.get(_ws(namespace), "WS")
        return self._workspace(item) if item else None

    def list_workspaces(self) -> list[Workspace]:
        return [self._workspace(item) for item in self.table.query("WORKSPACES", index="gsi1")]

    def create_workspace(self, workspace: Workspace) -> Workspace:
        stored = dataclasses.replace(workspace, created_at=time.time(), revision=1)
        actions = [put_action(self._workspace_item(stored), "attribute_not_exists(PK)")]
        customer = stored.billing.stripe_customer_id
        if customer:
            actions.append(put_action(self._customer_item(customer, stored.namespace), "attribute_not_exists(PK)"))
        if not self.table.transact(actions):
            if self.table.get(_ws(stored.namespace), "WS") is not None:
                raise WorkspaceExists(stored.namespace)
            self._raise_customer_taken(customer)
            raise WorkspaceExists(stored.namespace)  # a concurrent create and delete: report the likelier cause
        return stored

    @staticmethod
    def _customer_item(customer: str, namespace: str) -> Item:
        return {"PK": s(f"STRIPE#{customer}"), "SK": s("UNIQUE"), "namespace": s(namespace)}

    def _raise_customer_taken(self, customer: str) -> None:
        if not customer:
            return
        owner = self.table.get(f"STRIPE#{customer}", "UNIQUE")
        if owner is not None:
            raise StripeCustomerTaken(customer, text(owner, "namespace"))

    def update_workspace(self, workspace: Workspace) -> Workspace:
        current = self.table.get(_ws(workspace.namespace), "WS")
        if current is None:
            raise WorkspaceMissing(workspace.namespace)
        stored_revision = int(float(current["revision"]["N"]))
        if stored_revision != workspace.revision:
            raise WorkspaceConflict(workspace.namespace, workspace.revision, stored_revision)
        before = self._workspace(current)
        stored = dataclasses.replace(workspace, created_at=before.created_at, revision=workspace.revision + 1)
        # The compare-and-set: the write holds only while the stored revision is still the one read.
        actions = [
            put_action(self._workspace_item(stored), "revision = :r", {":r": n(workspace.revision)}),
        ]
        old_customer, new_customer = before.billing.stripe_customer_id, stored.billing.stripe_customer_id
        if new_customer != old_customer:
            if new_customer:
                actions.append(
                    put_action(
                        self._customer_item(new_customer, stored.namespace),
                        "attribute_not_exists(PK) OR namespace = :ns",
                        {":ns": s(stored.namespace)},
                    )
                )
            if old_customer:
                actions.append(
                    delete_action(f"STRIPE#{old_customer}", "UNIQUE", "namespace = :ns", {":ns": s(stored.namespace)})
                )
        if not self.table.transact(actions):
            now = self.table.get(_ws(workspace.namespace), "WS")
            if now is None:
                raise WorkspaceMissing(workspace.namespace)
            now_revision = int(float(now["revision"]["N"]))
            if now_revision != workspace.revision:
                raise WorkspaceConflict(workspace.namespace, workspace.revision, now_revision)
            self._raise_customer_taken(new_customer)
            raise WorkspaceConflict(workspace.namespace, workspace.revision, now_revision)
        return stored

    def delete_workspace(self, namespace: str) -> bool:
        item = self.table.get(_ws(namespace), "WS")
        if item is None:
            return False
        with self.table.lock(_ws(namespace)):
            keys: list[tuple[str, str]] = []
            for owned in self.table.query(_ws(namespace)):
                keys.append((text(owned, "PK"), text(owned, "SK")))
                for ref in owned.get("refs", {}).get("L", []):
                    pk, sk = ref["S"].split("|", 1)
                    keys.append((pk, sk))
            customer = self._workspace(item).billing.stripe_customer_id
            if customer:
                keys.append((f"STRIPE#{customer}", "UNIQUE"))
            self._domains.forget(namespace)
            self.capture_jobs.forget(namespace)
            # The workspace item last: a node reading it meanwhile still finds a whole workspace.
            keys = [k for k in keys if k != (_ws(namespace), "WS")]
            self.table.delete_all(keys)
            return self.table.delete(_ws(namespace), "WS")

    def find_workspace_by_stripe_customer(self, customer_id: str) -> Workspace | None:
        if not customer_id:
            return None
        owner = self.table.get(f"STRIPE#{customer_id}", "UNIQUE")
        return self.get_workspace(text(owner, "namespace")) if owner else None

    # -- marks and rules ------------------------------------------------------------------------

    def _require(self, namespace: str) -> None:
        if self.table.get(_ws(namespace), "WS") is None:
            raise WorkspaceMissing(namespace)

    def list_marks(self, namespace: str) -> list[MarkPreset]:
        marks = []
        for item in self.table.query(_ws(namespace), prefix="MARK#"):
            row = {
                "namespace": namespace,
                "name": text(item, "SK").removeprefix("MARK#"),
                "settings": text(item, "doc"),
                "updated_at": num(item, "updated_at"),
                "image_data": self._image(namespace, item),
            }
            marks.append(mark_from_row(cast(Any, row)))
        return marks

    def _image(self, namespace: str, item: Item) -> bytes:
        if "img" in item:
            return bytes(item["img"]["B"])
        name, gen = text(item, "SK").removeprefix("MARK#"), text(item, "gen")
        chunks = self.table.query(_ws(namespace), prefix=f"MARKIMG#{name}#{gen}#")
        return b"".join(bytes(chunk["img"]["B"]) for chunk in chunks)

    def put_mark(self, mark: MarkPreset) -> MarkPreset:
        stored = dataclasses.replace(mark, updated_at=time.time())
        pk = _ws(mark.namespace)
        item, chunks = mark_items(stored)
        with self.table.lock(pk):
            self._require(mark.namespace)
            old = self.table.get(pk, f"MARK#{mark.name}")
            # Chunks first, under a new generation, then the mark pointing at them: a reader never sees a mark
            # whose chunks are half written.
            self.table.put_all(chunks)
            if not self.table.transact([_revision_bump(mark.namespace), put_action(item)]):
                raise WorkspaceMissing(mark.namespace)
            if old is not None and "gen" in old:
                self._delete_chunks(mark.namespace, mark.name, text(old, "gen"))
        return stored

    def _delete_chunks(self, namespace: str, name: str, gen: str) -> None:
        pk = _ws(namespace)
        self.table.delete_all([(pk, text(c, "SK")) for c in self.table.query(pk, prefix=f"MARKIMG#{name}#{gen}#")])

    def delete_mark(self, namespace: str, name: str) -> bool:
        pk = _ws(namespace)
        with self.table.lock(pk):
            if any(rule.preset == name for rule in self.list_rules(namespace)):
                raise ValueError(f"mark {name} is used by an auto-apply rule; delete or change the rule first")
            old = self.table.get(pk, f"MARK#{name}")
            if old is None:
                return False
            if not self.table.transact([_revision_bump(namespace), delete_action(pk, f"MARK#{name}")]):
                return False
            if "gen" in old:
                self._delete_chunks(namespace, name, text(old, "gen"))
        return True

    @staticmethod
    def _rule(namespace: str, item: Item) -> MarkRule:
        return MarkRule(
            namespace=namespace,
            rule_id=int(text(item, "SK").removeprefix("RULE#")),
            position=int(float(item["pos"]["N"])),
            preset=text(item, "preset"),
            key_patterns=tuple(json.loads(text(item, "key_patterns"))),
            src_host_patterns=tuple(json.loads(text(item, "src_host_patterns"))),
        )

    def list_rules(self, namespace: str) -> list[MarkRule]:
        rules = [self._rule(namespace, item) for item in self.table.query(_ws(namespace), prefix="RULE#")]
        return sorted(rules, key=lambda rule: (rule.position, rule.rule_id))

    def _write_order(self, namespace: str, rules: dict[int, MarkRule], order: list[int], new: int | None) -> None:
        """Give every rule its position in ``order`` and bump the revision, in as few transactions as fit."""
        pk = _ws(namespace)
        actions = [_revision_bump(namespace)]
        for position, rule_id in enumerate(order, start=1):
            rule = rules[rule_id]
            if rule_id == new:
                actions.append(put_action(rule_item(dataclasses.replace(rule, position=position))))
            elif rule.position != position:
                actions.append(update_action(pk, f"RULE#{rule_id:012d}", "SET pos = :p", values={":p": n(position)}))
        for start in range(0, len(actions), 100):
            if not self.table.transact(actions[start : start + 100]):
                raise WorkspaceMissing(namespace)

    def add_rule(
        self,
        namespace: str,
        preset: str,
        key_patterns: tuple[str, ...],
        src_host_patterns: tuple[str, ...],
        position: int | None = None,
    ) -> MarkRule:
        MarkRule(namespace, 0, 1, preset, key_patterns, src_host_patterns)  # validates
        check_position(position)
        with self.table.lock(_ws(namespace)):
            self._require(namespace)
            if self.table.get(_ws(namespace), f"MARK#{preset}") is None:
                raise ValueError(f"no mark preset named {preset}")
            rule_id = self.table.next_id("rule_id")
            rules = {rule.rule_id: rule for rule in self.list_rules(namespace)}
            order = placed(list(rules), rule_id, position)
            rules[rule_id] = MarkRule(namespace, rule_id, 1, preset, tuple(key_patterns), tuple(src_host_patterns))
            self._write_order(namespace, rules, order, rule_id)
        return dataclasses.replace(rules[rule_id], position=order.index(rule_id) + 1)

    def move_rule(self, namespace: str, rule_id: int, position: int) -> MarkRule:
        check_position(position)
        with self.table.lock(_ws(namespace)):
            rules = {rule.rule_id: rule for rule in self.list_rules(namespace)}
            if rule_id not in rules:
                raise ValueError(f"no rule {rule_id} in {namespace}")
            order = placed(list(rules), rule_id, position)
            self._write_order(namespace, rules, order, None)
        return dataclasses.replace(rules[rule_id], position=order.index(rule_id) + 1)

    def delete_rule(self, namespace: str, rule_id: int) -> bool:
        pk = _ws(namespace)
        with self.table.lock(pk):
            rules = {rule.rule_id: rule for rule in self.list_rules(namespace)}
            if rule_id not in rules:
                return False
            self.table.delete(pk, f"RULE#{rule_id:012d}")
            del rules[rule_id]
            self._write_order(namespace, rules, list(rules), None)
        return True

    # -- users and memberships ------------------------------------------------------------------

    @staticmethod
    def _user(item: Item) -> User:
        return User(**_doc(item))

    def create_user(self, email: str, at: float | None = None) -> User:
        user = User(new_user_id(), normalise_email(email), created_at=stamp(at))
        ok = self.table.transact([put_action(item, "attribute_not_exists(PK)") for item in user_items(user)])
        if not ok:
            raise UserExists(user.email)
        return user

    @staticmethod
    def _user_item(user: User) -> Item:
        return user_items(user)[0]

    def get_user(self, user_id: str) -> User | None:
        item = self.table.get(f"USER#{user_id}", "USER")
        return self._user(item) if item else None

    def get_user_by_email(self, email: str) -> User | None:
        try:
            normal = normalise_email(email)
        except InvalidEmail:
            return None
        unique = self.table.get(f"EMAIL#{normal}", "UNIQUE")
        return self.get_user(text(unique, "user_id")) if unique else None

    def touch_sign_in(self, user_id: str, at: float | None = None) -> User:
        user = self.get_user(user_id)
        if user is None:
            raise UserMissing(user_id)
        touched = dataclasses.replace(user, last_sign_in_at=stamp(at))
        if not self.table.put(self._user_item(touched), "attribute_exists(PK)"):
            raise UserMissing(user_id)
        return touched

    def add_member(self, namespace: str, user_id: str, role: str = "member") -> Membership:
        membership = Membership(namespace, user_id, role)
        with self.table.lock(_ws(namespace)):
            self._require(namespace)
            if self.get_user(user_id) is None:
                raise UserMissing(user_id)
            if not self.table.put(member_item(membership), "attribute_not_exists(PK)"):
                raise MemberExists(namespace, user_id)
        return membership

    def _members(self, namespace: str) -> list[Membership]:
        return [
            Membership(namespace, text(item, "SK").removeprefix("MEMBER#"), text(item, "member_role"))
            for item in self.table.query(_ws(namespace), prefix="MEMBER#")
        ]

    @staticmethod
    def _keep_an_owner(members: list[Membership], namespace: str, leaving: str) -> None:
        owners = [member.user_id for member in members if member.is_owner]
        if owners == [leaving]:
            raise LastOwner(namespace, leaving)

    def remove_member(self, namespace: str, user_id: str) -> bool:
        with self.table.lock(_ws(namespace)):
            members = self._members(namespace)
            if user_id not in {member.user_id for member in members}:
                return False
            self._keep_an_owner(members, namespace, user_id)
            return self.table.delete(_ws(namespace), f"MEMBER#{user_id}")

    def change_role(self, namespace: str, user_id: str, role: str) -> Membership:
        changed = Membership(namespace, user_id, role)
        with self.table.lock(_ws(namespace)):
            members = self._members(namespace)
            if user_id not in {member.user_id for member in members}:
                raise MemberMissing(namespace, user_id)
            if not changed.is_owner:
                self._keep_an_owner(members, namespace, user_id)
            self.table.update(_ws(namespace), f"MEMBER#{user_id}", "SET member_role = :r", values={":r": s(role)})
        return changed

    def list_members(self, namespace: str) -> list[Membership]:
        members = self._members(namespace)
        emails = {member.user_id: (user.email if (user := self.get_user(member.user_id)) else "") for member in members}
        return sorted(members, key=lambda member: emails[member.user_id])

    def list_memberships(self, user_id: str) -> list[Membership]:
        found = []
        for item in self.table.query(f"USER#{user_id}", index="gsi1"):
            namespace = text(item, "G1SK")
            found.append(Membership(namespace, user_id, text(item, "member_role")))
        return found

    # -- API keys ------------------------------------------------------------------------------------

    @staticmethod
    def _key(item: Item) -> ApiKey:
        return ApiKey(**_doc(item), last_used_at=num(item, "last_used_at"), revoked_at=num(item, "revoked_at"))

    def create_api_key(self, key: ApiKey, at: float | None = None) -> ApiKey:
        stored = dataclasses.replace(key, created_at=stamp(at), last_used_at=None, revoked_at=None)
        pk = _ws(key.namespace)
        # Under the workspace's lock, which its deletion takes too: no key is left behind in a deleted workspace.
        with self.table.lock(pk):
            ok = self._put_key(stored)
        if not ok:
            self._require(key.namespace)
            if self.table.get(pk, f"KEYPREFIX#{key.prefix}") is not None:
                raise KeyPrefixTaken(key.namespace, key.prefix)
            raise ValueError("that API key is stored already")
        return stored

    def _put_key(self, key: ApiKey) -> bool:
        return self.table.transact(
            [
                check_action(_ws(key.namespace), "WS", "attribute_exists(PK)"),
                *(put_action(item, "attribute_not_exists(PK)") for item in key_items(key)),
            ]
        )

    def _key_by_pointer(self, pointer: Item | None) -> ApiKey | None:
        if pointer is None:
            return None
        item = self.table.get(_ws(text(pointer, "namespace")), f"KEY#{text(pointer, 'key_id')}")
        return self._key(item) if item else None

    def find_api_key(self, sha256: str) -> ApiKey | None:
        found = self._key_by_pointer(self.table.get(f"KEYHASH#{sha256}", "UNIQUE"))
        return found if found is not None and not found.revoked else None

    def list_api_keys(self, namespace: str) -> list[ApiKey]:
        items = sorted(self.table.query(_ws(namespace), prefix="KEY#"), key=lambda item: text(item, "sort"))
        return [self._key(item) for item in items]

    def revoke_api_key(self, namespace: str, prefix: str, at: float | None = None) -> ApiKey | None:
        pointer = self.table.get(_ws(namespace), f"KEYPREFIX#{prefix}")
        if pointer is None:
            return None
        # Only the first revocation writes: revoking again answers the record as it is.
        self.table.update(
            _ws(namespace),
            f"KEY#{text(pointer, 'key_id')}",
            "SET revoked_at = :at",
            condition="attribute_exists(PK) AND attribute_not_exists(revoked_at)",
            values={":at": n(stamp(at))},
        )
        return self._key_by_pointer(pointer)

    def touch_api_key(self, key_id: str, at: float | None = None) -> None:
        pointer = self.table.get(f"KEYID#{key_id}", "UNIQUE")
        if pointer is not None:
            self.table.update(
                _ws(text(pointer, "namespace")),
                f"KEY#{key_id}",
                "SET last_used_at = :at",
                condition="attribute_exists(PK)",
                values={":at": n(stamp(at))},
            )

    def count_key_use(self, key_id: str, day: date, n: int = 1) -> None:
        if not check_use_count(n):
            return
        pointer = self.table.get(f"KEYID#{key_id}", "UNIQUE")
        if pointer is None:
            return  # an unknown key: its counts are dropped
        pk = _ws(text(pointer, "namespace"))
        # Counted only while the key's record exists: a key deleted with its workspace meanwhile counts nothing.
        self.table.transact(
            [
                check_action(pk, f"KEY#{key_id}", "attribute_exists(PK)"),
                update_action(
                    pk,
                    f"KEYUSE#{day.isoformat()}#{key_id}",
                    "SET key_id = :k, use_day = :d ADD requests :n",
                    values={":k": s(key_id), ":d": s(day.isoformat()), ":n": _number(n)},
                ),
            ]
        )

    def list_key_use(self, namespace: str, first: date, last: date) -> list[KeyUse]:
        items = self.table.query(
            _ws(namespace), between=(f"KEYUSE#{first.isoformat()}", f"KEYUSE#{last.isoformat()}#~")
        )
        found = [
            KeyUse(text(item, "key_id"), date.fromisoformat(text(item, "use_day")), int(float(item["requests"]["N"])))
            for item in items
        ]
        return [use for use in found if use.requests]

    # -- audit ---------------------------------------------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        stored = dataclasses.replace(entry, entry_id=self.table.next_id("audit_id"))
        # Retention counts from the wall clock, so a row the caller dated otherwise is kept as long.
        self.table.put(audit_item(stored, time.time() + self._audit_ttl))
        return stored

    def list_audit(
        self,
        namespace: str,
        limit: int = 50,
        cursor: str | None = None,
        *,
        actor: str | None = None,
        operation: str | None = None,
    ) -> AuditPage:
        check_page_size(limit)
        after = decode_cursor(cursor) if cursor is not None else None
        # The cursor's row and older ones: the query starts there rather than at the newest row.
        upper = f"AUDIT#{padded(after[0])}#{int(after[1]):012d}" if after is not None else "AUDIT#~"
        rows: list[AuditEntry] = []
        for item in self.table.query(_ws(namespace), between=("AUDIT#", upper), forward=False):
            entry = AuditEntry(**_doc(item))
            if after is not None and (entry.at, entry.entry_id) >= after:
                continue
            if (actor is None or actor in entry.actor) and (operation is None or operation in entry.operation):
                rows.append(entry)
                if len(rows) > limit:
                    break
        return page_of(rows, limit)

    def prune_audit(self, before: float) -> int:
        old = [
            (text(item, "PK"), text(item, "SK"))
            for item in self.table.scan("WS#")
            if text(item, "SK").startswith("AUDIT#") and (num(item, "at") or 0.0) < before
        ]
        self.table.delete_all(old)
        return len(old)

    # -- webhook events ----------------------------------------------------------------------------

    def record_webhook_event(self, event_id: str, at: float | None = None) -> bool:
        check_event_id(event_id)
        return self.table.put(webhook_event_item(event_id, stamp(at)), "attribute_not_exists(PK)")

    def forget_webhook_event(self, event_id: str) -> bool:
        return self.table.delete(f"WEBHOOK#{event_id}", "EVENT")

    def prune_webhook_events(self, before: float) -> int:
        old = [
            (text(item, "PK"), "EVENT")
            for item in self.table.scan("WEBHOOK#")
            if (num(item, "received_at") or 0.0) < before
        ]
        self.table.delete_all(old)
        return len(old)

    def close(self) -> None:
        self.table.close()


def _number(value: int) -> dict[str, str]:
    return {"N": str(value)}
