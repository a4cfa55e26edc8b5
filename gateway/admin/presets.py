"""Transform presets, default parameters and allowed widths of a workspace (``gateway.policy.presets``).

Parameters are checked by the request path's own parser when they are saved, and stored in their canonical
form (the parser's inverse, then mark parameters sorted), so a preset the gateway could not expand is refused
here, where its owner can fix it. A preset or default may hold transform parameters and ``mark`` with its
``mark-*`` overrides; never a source (``src``, ``capture``), a signature (``s``, ``expires``) or another
``preset``. Every change is audited and bumps the workspace's revision, so every worker uses it within
``tenancy_ttl`` seconds; the expanded parameters are part of the cache key, so nothing stale is served.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

from gateway.accounts.models import Workspace
from gateway.accounts.presets import MAX_PARAMS_LENGTH, TransformPreset
from gateway.admin.audit import audited
from gateway.admin.context import AdminContext
from gateway.admin.errors import Invalid, NotFound
from gateway.admin.roles import require
from gateway.admin.workspaces import load, save
from gateway.capture import CAPTURE_PARAMETERS
from gateway.delivery.plans import GATEWAY_PARAMETERS
from gateway.policy.presets import PRESET
from gateway.policy.signing import SIGNING_PARAMETERS
from transforms.errors import InvalidParameter
from transforms.params import parse, to_query

# What a preset or default may not set: where the image comes from, its signature, another preset.
_REFUSED = frozenset({"src", "capture", PRESET}) | SIGNING_PARAMETERS | CAPTURE_PARAMETERS
_GATEWAY_OWN = GATEWAY_PARAMETERS - _REFUSED


@dataclass(frozen=True, slots=True)
class UrlShapingView:
    presets: tuple[TransformPreset, ...]
    default_params: str
    allowed_widths: tuple[int, ...]
    width_rounding: str
    revision: int

    @classmethod
    def of(cls, workspace: Workspace) -> UrlShapingView:
        return cls(
            workspace.presets,
            workspace.default_params,
            workspace.allowed_widths,
            workspace.width_rounding,
            workspace.revision,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "presets": [preset.as_dict() for preset in self.presets],
            "default_params": self.default_params,
            "allowed_widths": list(self.allowed_widths),
            "width_rounding": self.width_rounding,
            "revision": self.revision,
        }


def canonical_params(text: str, field: str = "params") -> str:
    """``text`` (``w=400&fit=crop``, a leading ``?`` allowed) checked and in canonical form; ``Invalid``."""
    text = text.removeprefix("?")
    if len(text) > MAX_PARAMS_LENGTH:
        raise Invalid(f"{field}: at most {MAX_PARAMS_LENGTH} characters", field)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise Invalid(f"{field}: not a query string such as w=400&fit=crop", field) from None
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise Invalid(f"{field}: a parameter is given more than once", field)
    refused = next((name for name in names if name in _REFUSED), None)
    if refused is not None:
        raise Invalid(f"{field}: {refused} cannot be part of a preset or of the defaults", field)
    try:
        options = parse(pairs, extra=_GATEWAY_OWN)
    except InvalidParameter as exc:
        raise Invalid(f"{field}: {exc.message}", field) from None
    own = sorted((name, value) for name, value in pairs if name in _GATEWAY_OWN)
    parts = [to_query(options)] if options.pairs() else []
    parts += [f"{quote(name, safe='')}={quote(value, safe=',')}" for name, value in own]
    return "&".join(parts)


async def show_url_shaping(ctx: AdminContext, namespace: str) -> UrlShapingView:
    return UrlShapingView.of(await load(ctx, namespace))


@audited("preset.put")
async def put_preset(
    ctx: AdminContext, namespace: str, name: str, params: str, locked: bool = False
) -> TransformPreset:
    """Create or replace the preset ``name``."""
    require(ctx, namespace, "edit")
    canonical = canonical_params(params)
    try:
        preset = TransformPreset(name, canonical, locked, time.time())
    except ValueError as exc:
        raise Invalid(str(exc), "name") from None
    workspace = await load(ctx, namespace)
    others = tuple(old for old in workspace.presets if old.name != name)
    await _save(ctx, workspace, presets=tuple(sorted((*others, preset), key=lambda p: p.name)))
    return preset


@audited("preset.delete")
async def delete_preset(ctx: AdminContext, namespace: str, name: str) -> None:
    require(ctx, namespace, "edit")
    workspace = await load(ctx, namespace)
    kept = tuple(preset for preset in workspace.presets if preset.name != name)
    if len(kept) == len(workspace.presets):
        raise NotFound(f"no preset {name[:63]} in workspace {namespace}")
    await _save(ctx, workspace, presets=kept)


@audited("preset.defaults")
async def set_default_params(ctx: AdminContext, namespace: str, params: str) -> UrlShapingView:
    """Parameters every URL of the workspace gets (its own win); ``""`` clears them."""
    require(ctx, namespace, "edit")
    canonical = canonical_params(params, "default_params")
    return UrlShapingView.of(await _save(ctx, await load(ctx, namespace), default_params=canonical))


@audited("preset.widths")
async def set_allowed_widths(
    ctx: AdminContext, namespace: str, widths: tuple[int, ...], rounding: str = "up"
) -> UrlShapingView:
    """Only these widths are rendered (``()``: any); others are rounded up to one, or refused."""
    require(ctx, namespace, "edit")
    ordered = tuple(sorted(set(widths)))
    return UrlShapingView.of(
        await _save(ctx, await load(ctx, namespace), allowed_widths=ordered, width_rounding=rounding)
    )


async def _save(ctx: AdminContext, workspace: Workspace, **changes: Any) -> Workspace:
    try:
        updated = dataclasses.replace(workspace, **changes)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return await save(ctx, updated)
