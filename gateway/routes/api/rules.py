"""Auto-apply rules, in the order they are tried (position 1 first; the first match wins)."""

from __future__ import annotations

from gateway import admin
from gateway.accounts.models import MarkRule
from gateway.routes.api.endpoint import ApiCall, Endpoint
from gateway.routes.api.models import RuleCreate, RuleList, RuleMove, RuleOut
from gateway.routes.api.workspaces import WORKSPACE

RULES = f"{WORKSPACE}/rules"
RULE = f"{RULES}/{{rule_id:int}}"
_TAG = "rules"
_MISSING = {404: "No rule with that id in the workspace."}


def rule_out(rule: MarkRule) -> RuleOut:
    return RuleOut(
        rule_id=rule.rule_id,
        position=rule.position,
        preset=rule.preset,
        key_patterns=list(rule.key_patterns),
        src_host_patterns=list(rule.src_host_patterns),
    )


async def list_rules(call: ApiCall) -> RuleList:
    return RuleList(rules=[rule_out(rule) for rule in await admin.list_rules(call.ctx, call.namespace)])


async def add_rule(call: ApiCall) -> RuleOut:
    body = call.body(RuleCreate)
    rule = await admin.add_rule(
        call.ctx,
        call.namespace,
        body.preset,
        tuple(body.key_patterns),
        tuple(body.src_host_patterns),
        body.position,
    )
    return rule_out(rule)


async def move_rule(call: ApiCall) -> RuleOut:
    position = call.body(RuleMove).position
    return rule_out(await admin.move_rule(call.ctx, call.namespace, call.params["rule_id"], position))


async def delete_rule(call: ApiCall) -> None:
    await admin.delete_rule(call.ctx, call.namespace, call.params["rule_id"])


ENDPOINTS = (
    Endpoint("GET", RULES, "List auto-apply rules in the order they are tried", list_rules, _TAG, response=RuleList),
    Endpoint(
        "POST",
        RULES,
        "Add an auto-apply rule",
        add_rule,
        _TAG,
        scope="write",
        body=RuleCreate,
        response=RuleOut,
        status=201,
        description="While a rule covers a source, every `mark*` URL parameter is ignored for it.",
    ),
    Endpoint(
        "PATCH",
        RULE,
        "Move a rule to another position",
        move_rule,
        _TAG,
        scope="write",
        body=RuleMove,
        response=RuleOut,
        errors=_MISSING,
    ),
    Endpoint("DELETE", RULE, "Delete a rule", delete_rule, _TAG, scope="write", errors=_MISSING),
)
