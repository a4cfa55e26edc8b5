"""The ``AccountStore`` contract: one suite that every account store runs.

A backend's test module subclasses ``AccountStoreContract`` and provides a ``store`` fixture (a new, empty
store; ``test_contract.py`` runs SQLite and memory through one parametrised fixture). What the suite checks is
what the rest of the gateway relies on: revisions and compare-and-set, uniqueness, marks and rules kept in
order, deletes that cascade, and records that are values (changing one never changes the store); and for
the management API: users and memberships (unique emails, the last owner kept), API keys (found by digest,
never when revoked, prefixes unique per workspace, daily use), audit rows (paged newest first, pruned),
billing state with processed webhook events, and plan overrides.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from datetime import date

import pytest

from gateway.accounts.audit import AuditEntry, InvalidCursor
from gateway.accounts.billing import Billing
from gateway.accounts.keys import ApiKey, KeyUse, digest, issue_api_key, new_api_key, new_key_id
from gateway.accounts.models import MarkPreset, PurgeMarker, Workspace
from gateway.accounts.plans import PlanOverrides
from gateway.accounts.store import (
    AccountStore,
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
)
from gateway.accounts.users import InvalidEmail, Membership


def every_field(namespace: str = "acme") -> Workspace:
    """A workspace with no field left at its default."""
    return Workspace(
        namespace=namespace,
        active=False,
        origin_kind="s3",
        origin={"bucket": "originals", "prefix": "products/", "region": "eu-west-1", "access_key_id": "AKIAX"},
        origin_secret_sealed="gAAAA-sealed-token",
        allowed_origins=("https://shop.example.com", "https://*.brand.example"),
        allowed_sources=("cdn.example.com",),
        allowed_capture_domains=("www.example.com", "*.example.org"),
        disabled_capture_domains=("*.example.org",),
        ip_allowlist=("203.0.113.0/24", "2001:db8::/32"),
        capture_retention=600,
        plan="business",
        limit_overrides=PlanOverrides(
            requests_per_second=750, capture_retention_options=(0, 60), ip_allowlisting=False
        ),
        billing=Billing(
            stripe_customer_id="cus_Acme123",
            subscription_status="past_due",
            current_period_end=1_702_000_000.5,
            event_at=1_700_000_200.75,
        ),
        purges=(PurgeMarker("products/", 1_700_000_000.25), PurgeMarker("", 1_700_000_100.5)),
    )


def every_mark_field(namespace: str = "acme", name: str = "logo") -> MarkPreset:
    return MarkPreset(
        namespace=namespace,
        name=name,
        kind="image",
        image_key="brand/logo.png",
        image_data=b"\x89PNG\r\n\x1a\n\x00bytes",
        text="",
        font="serif",
        font_size=48,
        color="ff0000",
        background="80000000",
        align="top,left",
        alpha=60,
        scale=0.25,
        pad=4,
        w=120,
        h=40,
        tile=True,
    )


def text_mark(namespace: str = "acme", name: str = "credit") -> MarkPreset:
    return MarkPreset(namespace, name, kind="text", text="© Acme")


def revision(store: AccountStore, namespace: str = "acme") -> int:
    current = store.get_workspace(namespace)
    assert current is not None
    return current.revision


class AccountStoreContract:
    # -- workspaces -------------------------------------------------------------------------------

    def test_workspace_round_trip_with_every_field(self, store: AccountStore) -> None:
        before = time.time()
        created = store.create_workspace(every_field())
        assert created == dataclasses.replace(every_field(), created_at=created.created_at, revision=1)
        assert before <= created.created_at <= time.time()
        assert store.get_workspace("acme") == created
        assert store.list_workspaces() == [created]
        assert store.get_workspace("nobody") is None

    def test_the_store_sets_revision_and_created_at(self, store: AccountStore) -> None:
        created = store.create_workspace(Workspace(namespace="acme", revision=7, created_at=5.0))
        assert created.revision == 1 and created.created_at > 5.0
        updated = store.update_workspace(dataclasses.replace(created, plan="pro", created_at=9.0))
        assert updated.revision == 2
        assert updated.created_at == created.created_at
        assert store.get_workspace("acme") == updated

    def test_namespaces_are_unique(self, store: AccountStore) -> None:
        first = store.create_workspace(Workspace(namespace="acme", plan="pro"))
        with pytest.raises(WorkspaceExists, match="acme already exists") as raised:
            store.create_workspace(Workspace(namespace="acme"))
        assert raised.value.namespace == "acme"
        assert store.get_workspace("acme") == first

    def test_list_is_by_namespace(self, store: AccountStore) -> None:
        for namespace in ("globex", "acme-2", "acme", "initech"):
            store.create_workspace(Workspace(namespace=namespace))
        assert [ws.namespace for ws in store.list_workspaces()] == ["acme", "acme-2", "globex", "initech"]

    def test_update_replaces_every_field(self, store: AccountStore) -> None:
        created = store.create_workspace(Workspace(namespace="acme"))
        wanted = dataclasses.replace(every_field(), created_at=created.created_at, revision=created.revision)
        updated = store.update_workspace(wanted)
        assert updated == dataclasses.replace(wanted, revision=2)
        assert store.get_workspace("acme") == updated

    def test_a_stale_update_is_refused_and_changes_nothing(self, store: AccountStore) -> None:
        created = store.create_workspace(Workspace(namespace="acme"))
        first_admin = store.get_workspace("acme")
        second_admin = store.get_workspace("acme")
        assert first_admin is not None and second_admin is not None
        saved = store.update_workspace(dataclasses.replace(first_admin, plan="pro"))
        with pytest.raises(WorkspaceConflict) as raised:
            store.update_workspace(dataclasses.replace(second_admin, allowed_origins=("https://a.example",)))
        assert (raised.value.namespace, raised.value.given, raised.value.stored) == ("acme", 1, 2)
        message = str(raised.value)
        assert "acme" in message and "revision 1" in message and "revision is 2" in message
        assert store.get_workspace("acme") == saved
        # A revision from the future is as stale as one from the past.
        with pytest.raises(WorkspaceConflict):
            store.update_workspace(dataclasses.replace(saved, revision=saved.revision + 5))
        # Re-read, re-apply: the second admin's change goes in on top of the first one's.
        fresh = store.get_workspace("acme")
        assert fresh is not None
        merged = store.update_workspace(dataclasses.replace(fresh, allowed_origins=("https://a.example",)))
        assert (merged.plan, merged.allowed_origins, merged.revision) == ("pro", ("https://a.example",), 3)
        assert merged.created_at == created.created_at

    def test_update_of_a_missing_workspace(self, store: AccountStore) -> None:
        with pytest.raises(WorkspaceMissing, match="ghost"):
            store.update_workspace(Workspace(namespace="ghost", revision=1))
        assert store.get_workspace("ghost") is None

    def test_concurrent_read_modify_write_loses_no_update(self, store: AccountStore) -> None:
        """Every writer retries on conflict; with compare-and-set no increment is lost."""
        store.create_workspace(Workspace(namespace="acme", capture_retention=0))
        writers, increments = 6, 15
        conflicts: list[int] = []

        def bump() -> None:
            for _ in range(increments):
                while True:
                    current = store.get_workspace("acme")
                    assert current is not None
                    try:
                        store.update_workspace(
                            dataclasses.replace(current, capture_retention=current.capture_retention + 1)
                        )
                        break
                    except WorkspaceConflict:
                        conflicts.append(1)

        threads = [threading.Thread(target=bump) for _ in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        final = store.get_workspace("acme")
        assert final is not None
        assert final.capture_retention == writers * increments
        assert final.revision == 1 + writers * increments

    def test_delete_workspace(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        store.create_workspace(Workspace(namespace="globex"))
        assert store.delete_workspace("acme")
        assert not store.delete_workspace("acme")
        assert store.get_workspace("acme") is None
        assert [ws.namespace for ws in store.list_workspaces()] == ["globex"]
        # The name is free again, and the new workspace starts from revision 1.
        again = store.create_workspace(Workspace(namespace="acme"))
        assert again.revision == 1

    def test_delete_cascades_to_marks_and_rules(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        store.create_workspace(Workspace(namespace="globex"))
        for namespace in ("acme", "globex"):
            store.put_mark(text_mark(namespace))
            store.add_rule(namespace, "credit", ("*.jpg",), ())
        assert store.delete_workspace("acme")
        assert store.list_marks("acme") == [] and store.list_rules("acme") == []
        # A workspace created again under the name does not inherit anything.
        store.create_workspace(Workspace(namespace="acme"))
        assert store.list_marks("acme") == [] and store.list_rules("acme") == []
        # The other workspace keeps its own.
        assert [mark.name for mark in store.list_marks("globex")] == ["credit"]
        assert len(store.list_rules("globex")) == 1

    def test_records_are_values(self, store: AccountStore) -> None:
        origin = {"base_url": "https://img.example.com/"}
        store.create_workspace(Workspace(namespace="acme", origin_kind="http", origin=origin))
        origin["base_url"] = "https://changed.example/"
        read = store.get_workspace("acme")
        assert read is not None
        read.origin["base_url"] = "https://changed-again.example/"  # type: ignore[index]
        again = store.get_workspace("acme")
        assert again is not None and dict(again.origin) == {"base_url": "https://img.example.com/"}

    # -- marks --------------------------------------------------------------------------------------

    def test_marks_round_trip_with_every_field(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        before = time.time()
        logo = store.put_mark(every_mark_field())
        assert logo == dataclasses.replace(every_mark_field(), updated_at=logo.updated_at)
        assert before <= logo.updated_at <= time.time()
        credit = store.put_mark(text_mark())
        assert store.list_marks("acme") == [credit, logo]  # by name

    def test_put_mark_replaces_by_name(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        store.put_mark(every_mark_field())
        replaced = store.put_mark(MarkPreset("acme", "logo", kind="text", text="new"))
        assert store.list_marks("acme") == [replaced]
        assert replaced.image_data == b"" and replaced.text == "new"

    def test_marks_are_per_workspace(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        store.create_workspace(Workspace(namespace="globex"))
        store.put_mark(text_mark("acme", "credit"))
        store.put_mark(text_mark("globex", "other"))
        assert [mark.name for mark in store.list_marks("acme")] == ["credit"]
        assert not store.delete_mark("acme", "other")
        assert [mark.name for mark in store.list_marks("globex")] == ["other"]

    def test_a_mark_named_by_a_rule_cannot_be_deleted(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        store.put_mark(text_mark())
        rule = store.add_rule("acme", "credit", ("*.jpg",), ())
        before = revision(store)
        with pytest.raises(ValueError, match="rule"):
            store.delete_mark("acme", "credit")
        assert [mark.name for mark in store.list_marks("acme")] == ["credit"]
        assert revision(store) == before
        assert store.delete_rule("acme", rule.rule_id)
        assert store.delete_mark("acme", "credit")
        assert not store.delete_mark("acme", "credit")
        assert store.list_marks("acme") == []

    # -- rules --------------------------------------------------------------------------------------

    def test_rules_round_trip(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        store.put_mark(text_mark())
        rule = store.add_rule("acme", "credit", ("premium/**", "*.png"), ("cdn.example.com", "*.example.org"))
        assert (rule.namespace, rule.position, rule.preset) == ("acme", 1, "credit")
        assert rule.key_patterns == ("premium/**", "*.png")
        assert rule.src_host_patterns == ("cdn.example.com", "*.example.org")
        assert store.list_rules("acme") == [rule]

    def test_rules_keep_their_order_and_positions(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        store.put_mark(text_mark())
        first = store.add_rule("acme", "credit", ("a/*",), ())
        second = store.add_rule("acme", "credit", ("b/*",), ())
        third = store.add_rule("acme", "credit", ("c/*",), (), position=1)
        fourth = store.add_rule("acme", "credit", ("d/*",), (), position=99)  # past the end: last

        def order() -> list[int]:
            rules = store.list_rules("acme")
            assert [rule.position for rule in rules] == list(range(1, len(rules) + 1))
            return [rule.rule_id for rule in rules]

        assert order() == [third.rule_id, first.rule_id, second.rule_id, fourth.rule_id]
        assert third.position == 1 and fourth.position == 4
        moved = store.move_rule("acme", fourth.rule_id, 2)
        assert moved.position == 2 and moved.key_patterns == ("d/*",)
        assert order() == [third.rule_id, fourth.rule_id, first.rule_id, second.rule_id]
        assert store.move_rule("acme", third.rule_id, 50).position == 4
        assert order() == [fourth.rule_id, first.rule_id, second.rule_id, third.rule_id]
        assert store.delete_rule("acme", first.rule_id)
        assert not store.delete_rule("acme", first.rule_id)
        assert order() == [fourth.rule_id, second.rule_id, third.rule_id]

    def test_rule_positions_start_at_one(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        store.put_mark(text_mark())
        rule = store.add_rule("acme", "credit", ("a/*",), ())
        for position in (0, -1):
            with pytest.raises(ValueError, match="position"):
                store.add_rule("acme", "credit", ("b/*",), (), position=position)
            with pytest.raises(ValueError, match="position"):
                store.move_rule("acme", rule.rule_id, position)
        assert store.list_rules("acme") == [rule]

    def test_refused_rules_change_nothing(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        store.put_mark(text_mark())
        before = revision(store)
        with pytest.raises(ValueError, match="preset"):
            store.add_rule("acme", "ghost", ("*",), ())
        with pytest.raises(ValueError, match="pattern"):
            store.add_rule("acme", "credit", (), ())
        with pytest.raises(ValueError, match="rule"):
            store.move_rule("acme", 12345, 1)
        assert store.list_rules("acme") == []
        assert revision(store) == before

    def test_rule_ids_are_unique_across_workspaces_and_never_reused(self, store: AccountStore) -> None:
        ids: list[int] = []
        for namespace in ("acme", "globex"):
            store.create_workspace(Workspace(namespace=namespace))
            store.put_mark(text_mark(namespace))
            ids += [store.add_rule(namespace, "credit", (f"{n}/*",), ()).rule_id for n in range(2)]
        assert len(set(ids)) == 4
        assert store.delete_rule("globex", ids[-1])
        assert store.add_rule("globex", "credit", ("again/*",), ()).rule_id > max(ids)
        # A rule is only found in its own workspace.
        assert not store.delete_rule("globex", ids[0])
        with pytest.raises(ValueError):
            store.move_rule("globex", ids[0], 1)
        assert [rule.namespace for rule in store.list_rules("acme")] == ["acme", "acme"]

    # -- marks and rules against their workspace ------------------------------------------------------

    def test_every_mark_and_rule_change_bumps_the_revision(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        stale = store.get_workspace("acme")
        assert stale is not None
        changes: list[Callable[[], object]] = [
            lambda: store.put_mark(text_mark()),
            lambda: store.put_mark(text_mark()),  # a replacement too
            lambda: store.add_rule("acme", "credit", ("a/*",), ()),
            lambda: store.add_rule("acme", "credit", ("b/*",), ()),
            lambda: store.move_rule("acme", store.list_rules("acme")[1].rule_id, 1),
            lambda: store.delete_rule("acme", store.list_rules("acme")[0].rule_id),
            lambda: store.delete_rule("acme", store.list_rules("acme")[0].rule_id),
            lambda: store.delete_mark("acme", "credit"),
        ]
        for change in changes:
            before = revision(store)
            change()
            assert revision(store) == before + 1
        # A record read before those changes is stale, so writing it back is refused.
        with pytest.raises(WorkspaceConflict):
            store.update_workspace(dataclasses.replace(stale, plan="pro"))

    def test_marks_and_rules_need_their_workspace(self, store: AccountStore) -> None:
        with pytest.raises(WorkspaceMissing):
            store.put_mark(text_mark("ghost"))
        with pytest.raises(WorkspaceMissing):
            store.add_rule("ghost", "credit", ("*",), ())
        assert store.list_marks("ghost") == [] and store.list_rules("ghost") == []
        assert not store.delete_mark("ghost", "credit")
        assert not store.delete_rule("ghost", 1)
        with pytest.raises(ValueError):
            store.move_rule("ghost", 1, 1)
        assert store.get_workspace("ghost") is None


def key_record(namespace: str = "acme", name: str = "Production", scope: str = "read") -> tuple[str, ApiKey]:
    secret, prefix, hashed = new_api_key()
    return secret, ApiKey(new_key_id(), namespace, name, scope, prefix, hashed)


def audit_row(at: float, namespace: str = "acme", status: int = 200) -> AuditEntry:
    return AuditEntry(at, namespace, "owner@example.com", "POST /_/api/v1/workspaces/{ns}/purge", status, 12.5)


def race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls at once in threads; each one's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # the caller inspects it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class AccountsContract:
    """Users, memberships, API keys, audit rows, billing and plan overrides."""

    # -- users ------------------------------------------------------------------------------------

    def test_user_round_trip(self, store: AccountStore) -> None:
        user = store.create_user("  Alice@Example.COM ", at=100.0)
        assert (user.email, user.created_at, user.last_sign_in_at) == ("alice@example.com", 100.0, None)
        assert store.get_user(user.user_id) == user
        assert store.get_user_by_email("ALICE@example.com") == user
        assert store.get_user_by_email("alice@example.com.") == user  # the FQDN dot is the same domain
        assert store.get_user_by_email("bob@example.com") is None
        assert store.get_user_by_email("not an address") is None
        assert store.get_user("usr_00000000000000000000") is None
        before = time.time()
        now = store.create_user("bob@example.com")
        assert before <= now.created_at <= time.time()

    def test_emails_are_unique_in_their_normal_form(self, store: AccountStore) -> None:
        first = store.create_user("alice@bücher.example")
        assert first.email == "alice@xn--bcher-kva.example"
        for spelling in ("ALICE@xn--bcher-kva.example", " alice@BÜCHER.example", "Alice@bücher.example."):
            with pytest.raises(UserExists) as raised:
                store.create_user(spelling)
            assert "alice" not in str(raised.value).lower()  # personal data stays out of messages
        with pytest.raises(InvalidEmail):
            store.create_user("alice@")
        assert store.get_user_by_email("ALICE@BÜCHER.EXAMPLE") == first
        ids = {store.create_user(f"user{n}@example.com").user_id for n in range(20)}
        assert len(ids) == 20 and first.user_id not in ids

    def test_sign_in_is_recorded(self, store: AccountStore) -> None:
        user = store.create_user("alice@example.com", at=100.0)
        signed_in = store.touch_sign_in(user.user_id, at=250.5)
        assert signed_in == dataclasses.replace(user, last_sign_in_at=250.5)
        assert store.get_user(user.user_id) == signed_in
        assert (store.touch_sign_in(user.user_id).last_sign_in_at or 0) >= time.time() - 60
        with pytest.raises(UserMissing):
            store.touch_sign_in("usr_00000000000000000000")

    # -- memberships --------------------------------------------------------------------------------

    def test_members_and_a_users_workspaces(self, store: AccountStore) -> None:
        for namespace in ("acme", "globex"):
            store.create_workspace(Workspace(namespace=namespace))
        bob = store.create_user("bob@example.com")
        alice = store.create_user("alice@example.com")
        assert store.add_member("acme", bob.user_id) == Membership("acme", bob.user_id, "member")
        assert store.add_member("acme", alice.user_id, "owner") == Membership("acme", alice.user_id, "owner")
        store.add_member("globex", alice.user_id, "member")
        assert store.list_members("acme") == [  # by email
            Membership("acme", alice.user_id, "owner"),
            Membership("acme", bob.user_id, "member"),
        ]
        assert store.list_memberships(alice.user_id) == [
            Membership("acme", alice.user_id, "owner"),
            Membership("globex", alice.user_id, "member"),
        ]
        assert store.list_memberships(bob.user_id) == [Membership("acme", bob.user_id, "member")]
        assert store.list_members("ghost") == []

    def test_refused_memberships_change_nothing(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        alice = store.create_user("alice@example.com")
        store.add_member("acme", alice.user_id, "owner")
        with pytest.raises(MemberExists):
            store.add_member("acme", alice.user_id, "member")
        with pytest.raises(WorkspaceMissing):
            store.add_member("ghost", alice.user_id)
        with pytest.raises(UserMissing):
            store.add_member("acme", "usr_00000000000000000000")
        with pytest.raises(ValueError, match="role"):
            store.add_member("acme", store.create_user("bob@example.com").user_id, "admin")
        with pytest.raises(ValueError, match="role"):
            store.change_role("acme", alice.user_id, "admin")
        with pytest.raises(MemberMissing):
            store.change_role("acme", "usr_00000000000000000000", "owner")
        assert not store.remove_member("acme", "usr_00000000000000000000")
        assert store.list_members("acme") == [Membership("acme", alice.user_id, "owner")]

    def test_the_last_owner_can_be_neither_removed_nor_demoted(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        alice, bob = store.create_user("alice@example.com"), store.create_user("bob@example.com")
        store.add_member("acme", alice.user_id, "owner")
        store.add_member("acme", bob.user_id, "member")
        with pytest.raises(LastOwner, match="last owner") as raised:
            store.remove_member("acme", alice.user_id)
        assert (raised.value.namespace, raised.value.user_id) == ("acme", alice.user_id)
        with pytest.raises(LastOwner):
            store.change_role("acme", alice.user_id, "member")
        assert store.change_role("acme", alice.user_id, "owner").role == "owner"  # staying owner is fine
        assert [m.role for m in store.list_members("acme")] == ["owner", "member"]
        # With a second owner, the first may step down, and then the second is the last one.
        store.change_role("acme", bob.user_id, "owner")
        assert store.change_role("acme", alice.user_id, "member").role == "member"
        with pytest.raises(LastOwner):
            store.remove_member("acme", bob.user_id)
        assert store.remove_member("acme", alice.user_id)
        assert store.list_members("acme") == [Membership("acme", bob.user_id, "owner")]

    def test_two_owners_stepping_down_at_once_leave_one(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        owners = [store.create_user(f"owner{n}@example.com").user_id for n in range(2)]
        for user_id in owners:
            store.add_member("acme", user_id, "owner")
        results = race(*(lambda user_id=user_id: store.remove_member("acme", user_id) for user_id in owners))
        assert sorted(type(result).__name__ for result in results) == ["LastOwner", "bool"]
        assert [m.role for m in store.list_members("acme")] == ["owner"]

    def test_a_workspace_without_owners_may_lose_members(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        bob = store.create_user("bob@example.com")
        store.add_member("acme", bob.user_id)
        assert store.remove_member("acme", bob.user_id)
        assert store.list_members("acme") == []

    # -- API keys -----------------------------------------------------------------------------------

    def test_an_issued_key_is_found_by_the_digest_of_its_secret(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        before = time.time()
        secret, key = issue_api_key(store, "acme", "Production", "write")
        assert before <= key.created_at <= time.time()
        assert (key.namespace, key.name, key.scope, key.prefix) == ("acme", "Production", "write", secret[:12])
        assert (key.last_used_at, key.revoked_at) == (None, None)
        assert store.find_api_key(digest(secret)) == key
        assert store.list_api_keys("acme") == [key]
        assert secret not in repr(key) and secret not in repr(dataclasses.astuple(key))
        # Only the whole secret finds it: not its prefix, not its digest used as a secret.
        assert store.find_api_key(digest(key.prefix)) is None
        assert store.find_api_key(key.sha256.upper()) is None
        assert store.find_api_key(digest(secret + "x")) is None

    def test_the_store_sets_a_new_keys_times(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        _, record = key_record()
        stored = store.create_api_key(
            dataclasses.replace(record, created_at=1.0, last_used_at=2.0, revoked_at=3.0), at=50.0
        )
        assert stored == dataclasses.replace(record, created_at=50.0)
        assert store.find_api_key(record.sha256) == stored

    def test_a_revoked_key_is_not_found(self, store: AccountStore) -> None:
        for namespace in ("acme", "globex"):
            store.create_workspace(Workspace(namespace=namespace))
        secret, key = issue_api_key(store, "acme", "Staging")
        revoked = store.revoke_api_key("acme", key.prefix, at=300.0)
        assert revoked == dataclasses.replace(key, revoked_at=300.0)
        assert revoked is not None and revoked.revoked and not revoked.allows("read")
        assert store.find_api_key(digest(secret)) is None
        assert store.list_api_keys("acme") == [revoked]  # still listed, as revoked
        # Revoking again keeps the first time; an unknown prefix, or another workspace's, finds nothing.
        assert store.revoke_api_key("acme", key.prefix, at=400.0) == revoked
        assert store.revoke_api_key("acme", "imk_live_zzz") is None
        assert store.revoke_api_key("globex", key.prefix) is None

    def test_revoking_in_one_workspace_leaves_the_other_workspaces_keys(self, store: AccountStore) -> None:
        for namespace in ("acme", "globex"):
            store.create_workspace(Workspace(namespace=namespace))
        secret, prefix, hashed = new_api_key()
        acme = store.create_api_key(ApiKey(new_key_id(), "acme", "Production", "read", prefix, hashed))
        other_secret, _, other_hash = new_api_key()
        globex = store.create_api_key(ApiKey(new_key_id(), "globex", "Production", "read", prefix, other_hash))
        store.revoke_api_key("globex", prefix)
        assert store.find_api_key(digest(secret)) == acme
        assert store.find_api_key(digest(other_secret)) is None
        assert globex.prefix == acme.prefix

    def test_key_prefixes_are_unique_per_workspace(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        _, first = key_record()
        store.create_api_key(first)
        _, _, other_hash = new_api_key()
        with pytest.raises(KeyPrefixTaken) as raised:
            store.create_api_key(dataclasses.replace(first, key_id=new_key_id(), sha256=other_hash))
        assert (raised.value.namespace, raised.value.prefix) == ("acme", first.prefix)
        with pytest.raises(ValueError, match="stored already"):  # the same secret twice
            store.create_api_key(dataclasses.replace(first, key_id=new_key_id(), prefix="imk_live_zzz"))
        with pytest.raises(WorkspaceMissing):
            store.create_api_key(key_record("ghost")[1])
        assert [key.key_id for key in store.list_api_keys("acme")] == [first.key_id]

    def test_keys_are_listed_per_workspace_oldest_first(self, store: AccountStore) -> None:
        for namespace in ("acme", "globex"):
            store.create_workspace(Workspace(namespace=namespace))
        made = {at: store.create_api_key(key_record(name=f"k{at}")[1], at=at) for at in (30.0, 10.0, 20.0)}
        store.create_api_key(key_record("globex")[1])
        listed = store.list_api_keys("acme")
        assert listed == [made[10.0], made[20.0], made[30.0]]
        assert [key.prefix for key in listed] == [made[at].prefix for at in (10.0, 20.0, 30.0)]
        assert store.list_api_keys("ghost") == []

    def test_last_use_is_recorded(self, store: AccountStore) -> None:
        store.create_workspace(Workspace(namespace="acme"))
        secret, key = issue_api_key(store, "acme", "Production")
        store.touch_api_key(key.key_id, at=500.0)
        assert store.find_api_key(digest(secret)) == dataclasses.replace(key, last_used_at=500.0)
        store.touch_api_key("key_00000000000000000000", at=1.0)  # unknown: ignored
        assert store.list_api_keys("acme")[0].last_used_at == 500.0

    def test_requests_are_counted_per_key_and_day(self, store: AccountStore) -> None:
        for namespace in ("acme", "globex"):
            store.create_workspace(Workspace(namespace=namespace))
        one, two = (issue_api_key(store, "acme", name)[1].key_id for name in ("Production", "Staging"))
        other = issue_api_key(store, "globex", "Production")[1].key_id
        monday, tuesday, wednesday = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)
        store.count_key_use(one, monday, 3)
        store.count_key_use(one, monday, 2)
        store.count_key_use(two, monday)
        store.count_key_use(one, tuesday, 4)
        store.count_key_use(two, tuesday, 0)  # nothing to count: no row
        store.count_key_use(one, wednesday, 7)
        store.count_key_use(other, monday, 9)
        store.count_key_use("key_00000000000000000000", monday, 5)  # dropped
        with pytest.raises(ValueError):
            store.count_key_use(one, monday, -1)
        expected = sorted(
            [KeyUse(one, monday, 5), KeyUse(two, monday, 1), KeyUse(one, tuesday, 4)],
            key=lambda use: (use.day, use.key_id),
        )
        assert store.list_key_use("acme", monday, tuesday) == expected
        assert store.list_key_use("acme", wednesday, wednesday) == [KeyUse(one, wednesday, 7)]
        assert store.list_key_use("globex", monday, wednesday) == [KeyUse(other, monday, 9)]
        assert store.list_key_use("acme", tuesday, monday) == []

    # -- audit --------------------------------------------------------------------------------------

    def test_audit_rows_round_trip(self, store: AccountStore) -> None:
        row = AuditEntry(1_700_000_000.125, "acme", "imk_live_4Fq", "key.revoke", 404, 0.75)
        stored = store.append_audit(row)
        assert stored.entry_id > 0 and stored == dataclasses.replace(row, entry_id=stored.entry_id)
        assert store.list_audit("acme").entries == (stored,)
        assert store.list_audit("acme").next_cursor is None
        # Rows about no single workspace, and about a workspace that does not exist, are kept too.
        assert store.append_audit(dataclasses.replace(row, namespace="")).entry_id > stored.entry_id
        assert store.list_audit("").entries[0].namespace == ""

    def test_audit_pages_are_newest_first_and_stable(self, store: AccountStore) -> None:
        times = [50.0, 10.0, 30.0, 30.0, 40.0, 20.0, 30.0]
        appended = [store.append_audit(audit_row(at)) for at in times]
        store.append_audit(audit_row(35.0, namespace="globex"))
        expected = sorted(appended, key=lambda entry: (entry.at, entry.entry_id), reverse=True)

        first = store.list_audit("acme", limit=3)
        assert list(first.entries) == expected[:3] and first.next_cursor is not None
        # A row appended while someone pages (newer than everything) does not shift the next pages.
        store.append_audit(audit_row(99.0))
        second = store.list_audit("acme", limit=3, cursor=first.next_cursor)
        assert list(second.entries) == expected[3:6] and second.next_cursor is not None
        third = store.list_audit("acme", limit=3, cursor=second.next_cursor)
        assert list(third.entries) == expected[6:] and third.next_cursor is None
        # A page that ends exactly at the last row has no next page.
        exact = store.list_audit("acme", limit=8)
        assert len(exact.entries) == 8 and exact.next_cursor is None
        assert [entry.at for entry in store.list_audit("globex").entries] == [35.0]

    def test_audit_page_arguments_are_checked(self, store: AccountStore) -> None:
        store.append_audit(audit_row(1.0))
        for limit in (0, -1, 501):
            with pytest.raises(ValueError, match="1-500"):
                store.list_audit("acme", limit=limit)
        for cursor in ("", "x", "1.0", "1.0:", ":3", "nan:1", "inf:1", "1.0:-3", "1.0:3;DROP TABLE audit"):
            with pytest.raises(InvalidCursor):
                store.list_audit("acme", cursor=cursor)
        assert len(store.list_audit("acme", limit=500).entries) == 1

    def test_audit_filters_match_substrings_in_the_store(self, store: AccountStore) -> None:
        rows = [
            ("user:ana@example.com", "key.create"),
            ("key:imk_live_4Fq", "POST /_/api/v1/workspaces/{ns}/keys"),
            ("user:ana@example.com", "workspace.update"),
            ("cli", "key.revoke"),
            ("user:bo@example.com", "key.create"),
        ]
        stored = [
            store.append_audit(AuditEntry(float(at), "acme", actor, operation, 200, 1.0))
            for at, (actor, operation) in enumerate(rows, 1)
        ]
        store.append_audit(AuditEntry(9.0, "globex", "user:ana@example.com", "key.create", 200, 1.0))

        def found(actor: str | None = None, operation: str | None = None) -> list[int]:
            page = store.list_audit("acme", actor=actor, operation=operation)
            return [entry.entry_id for entry in page.entries]

        ids = [entry.entry_id for entry in stored]
        assert found(actor="user:ana") == [ids[2], ids[0]]
        assert found(operation="key.") == [ids[4], ids[3], ids[0]]
        assert found(actor="user:", operation="key.create") == [ids[4], ids[0]]
        assert found(operation="{ns}/keys") == [ids[1]]
        # Case-sensitive, and no wildcard characters: "%" and "_" are text like any other.
        assert found(actor="USER:ANA") == [] and found(operation="%") == [] and found(actor="user_") == []
        assert found(operation="key_create") == []
        # Filtered pages are full and their cursor continues the filtered list.
        first = store.list_audit("acme", limit=2, operation="key")
        assert [entry.entry_id for entry in first.entries] == [ids[4], ids[3]] and first.next_cursor is not None
        rest = store.list_audit("acme", limit=2, cursor=first.next_cursor, operation="key")
        assert [entry.entry_id for entry in rest.entries] == [ids[1], ids[0]] and rest.next_cursor is None

    def test_old_audit_rows_are_pruned(self, store: AccountStore) -> None:
        for namespace in ("acme", "globex"):
            for at in (10.0, 20.0, 30.0):
                store.append_audit(audit_row(at, namespace))
        assert store.prune_audit(before=25.0) == 4
        assert store.prune_audit(before=25.0) == 0
        for namespace in ("acme", "globex"):
            assert [entry.at for entry in store.list_audit(namespace).entries] == [30.0]
        assert store.prune_audit(before=30.0) == 0  # "older than": a row at the cutoff stays

    # -- workspaces delete everything that is theirs ---------------------------------------------

    def test_deleting_a_workspace_deletes_its_people_keys_and_audit(self, store: AccountStore) -> None:
        for namespace in ("acme", "globex"):
            store.create_workspace(Workspace(namespace=namespace))
        alice = store.create_user("alice@example.com")
        day = date(2026, 11, 23)
        secrets: dict[str, str] = {}
        for namespace in ("acme", "globex"):
            store.add_member(namespace, alice.user_id, "owner")
            secret, key = issue_api_key(store, namespace, "Production")
            secrets[namespace] = secret
            store.count_key_use(key.key_id, day, 3)
            store.append_audit(audit_row(10.0, namespace))
        assert store.delete_workspace("acme")
        assert store.list_members("acme") == [] and store.list_api_keys("acme") == []
        assert store.find_api_key(digest(secrets["acme"])) is None
        assert store.list_key_use("acme", day, day) == []
        assert store.list_audit("acme").entries == ()
        assert store.list_memberships(alice.user_id) == [Membership("globex", alice.user_id, "owner")]
        assert store.get_user(alice.user_id) == alice  # users outlive their workspaces
        # A workspace created again under the name inherits nothing; the other keeps everything.
        store.create_workspace(Workspace(namespace="acme"))
        assert store.list_members("acme") == [] and store.list_api_keys("acme") == []
        assert store.list_audit("acme").entries == ()
        assert store.find_api_key(digest(secrets["globex"])) is not None
        assert len(store.list_key_use("globex", day, day)) == 1
        assert len(store.list_audit("globex").entries) == 1

    # -- billing and webhook events -------------------------------------------------------------------

    def test_a_workspace_is_found_by_its_stripe_customer(self, store: AccountStore) -> None:
        created = store.create_workspace(Workspace(namespace="acme", billing=Billing(stripe_customer_id="cus_A1")))
        store.create_workspace(Workspace(namespace="globex"))
        assert store.find_workspace_by_stripe_customer("cus_A1") == created
        assert store.find_workspace_by_stripe_customer("cus_B2") is None
        assert store.find_workspace_by_stripe_customer("") is None  # unbound workspaces are not "customer ''"
        billing = Billing("cus_A1", "active", current_period_end=1_800_000_000.0, event_at=1_700_000_000.0)
        updated = store.update_workspace(dataclasses.replace(created, plan="pro", billing=billing))
        assert store.find_workspace_by_stripe_customer("cus_A1") == updated
        assert (updated.plan, updated.billing) == ("pro", billing)

    def test_a_stripe_customer_pays_for_one_workspace(self, store: AccountStore) -> None:
        acme = store.create_workspace(Workspace(namespace="acme", billing=Billing(stripe_customer_id="cus_A1")))
        with pytest.raises(StripeCustomerTaken, match="acme"):
            store.create_workspace(Workspace(namespace="globex", billing=Billing(stripe_customer_id="cus_A1")))
        assert store.get_workspace("globex") is None
        globex = store.create_workspace(Workspace(namespace="globex"))
        with pytest.raises(StripeCustomerTaken):
            store.update_workspace(dataclasses.replace(globex, billing=Billing(stripe_customer_id="cus_A1")))
        assert store.get_workspace("globex") == globex
        # Once acme lets the customer go, globex may take it.
        store.update_workspace(dataclasses.replace(acme, billing=Billing()))
        moved = store.update_workspace(dataclasses.replace(globex, billing=Billing(stripe_customer_id="cus_A1")))
        assert store.find_workspace_by_stripe_customer("cus_A1") == moved

    def test_webhook_event_ids_are_inserted_once(self, store: AccountStore) -> None:
        assert store.record_webhook_event("evt_1", at=10.0)
        assert not store.record_webhook_event("evt_1", at=11.0)
        assert store.record_webhook_event("evt_2")
        # A delivery that failed to apply is forgotten, so the sender's retry is taken.
        assert store.forget_webhook_event("evt_1")
        assert not store.forget_webhook_event("evt_1")
        assert store.record_webhook_event("evt_1")
        for bad in ("", "evt 1", "x" * 256, "evt_\n"):
            with pytest.raises(ValueError, match="event id"):
                store.record_webhook_event(bad)

    def test_a_replayed_event_racing_the_original_is_refused(self, store: AccountStore) -> None:
        results = race(*(lambda: store.record_webhook_event("evt_race") for _ in range(6)))
        assert sorted(results, key=bool) == [False] * 5 + [True]

    def test_old_webhook_event_ids_are_pruned(self, store: AccountStore) -> None:
        store.record_webhook_event("evt_old", at=10.0)
        store.record_webhook_event("evt_new", at=20.0)
        assert store.prune_webhook_events(before=15.0) == 1
        assert store.record_webhook_event("evt_old")
        assert not store.record_webhook_event("evt_new")

    # -- plan overrides --------------------------------------------------------------------------------

    def test_plan_overrides_are_stored_with_the_workspace(self, store: AccountStore) -> None:
        created = store.create_workspace(Workspace(namespace="acme", plan="pro"))
        assert created.limit_overrides == PlanOverrides() and created.limits().requests_per_second == 100
        overrides = PlanOverrides(requests_per_second=1_000, custom_domains=25, signed_webhooks=False)
        updated = store.update_workspace(dataclasses.replace(created, limit_overrides=overrides))
        read = store.get_workspace("acme")
        assert read == updated and read.limit_overrides == overrides and read.revision == created.revision + 1
        limits = read.limits()
        assert (limits.requests_per_second, limits.burst, limits.custom_domains) == (1_000, 1_000, 25)
        assert (limits.signed_webhooks, limits.renders_per_month) == (False, 250_000)
        # Overrides are about the customer: they stay when the plan changes, and clearing them is one write.
        upgraded = store.update_workspace(dataclasses.replace(read, plan="business"))
        assert upgraded.limits().burst == 2_000 and upgraded.limits().custom_domains == 25
        cleared = store.update_workspace(dataclasses.replace(upgraded, limit_overrides=PlanOverrides()))
        assert store.get_workspace("acme") == cleared and cleared.limits().custom_domains == 10
