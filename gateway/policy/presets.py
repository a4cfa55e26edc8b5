"""Presets, default parameters and allowed widths: what a workspace adds to, or rounds in, every URL.

Expansion works on the query's parameters before they are parsed, so presets and defaults go through the
one parser and end up in the canonical form of the options, which is the cache key: changing a preset
changes the key of every URL that names it (its parameters are its version), and nothing stale is served.

Precedence, lowest first: the workspace's default parameters, then ``preset=<name>``, then the URL's own
parameters. A ``locked`` preset comes last instead: a URL cannot override what it sets (like an auto-apply
rule over ``mark*``, the URL's values for those names are ignored by design). Auto-apply mark rules still
win over all of them: they are applied after this, by ``gateway.marks.resolve``.

Allowed widths round pixel widths only: a ratio (``w=0.5``) and a missing ``w`` are left as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from urllib.parse import parse_qsl

from gateway.accounts.models import Workspace
from gateway.accounts.presets import TransformPreset
from gateway.errors import ValidationError
from transforms.options import TransformOptions

PRESET = "preset"


def expand(workspace: Workspace, params: Mapping[str, str], *, defaults: bool = True) -> dict[str, str]:
    """``params`` with the workspace's defaults and the named preset merged in (see the precedence above)."""
    if not (workspace.default_params or PRESET in params):
        return dict(params)
    merged: dict[str, str] = dict(query_items(workspace.default_params)) if defaults else {}
    own = {name: value for name, value in params.items() if name != PRESET}
    name = params.get(PRESET)
    preset = find_preset(workspace, name) if name is not None else None
    if preset is None:
        merged.update(own)
    elif preset.locked:
        merged.update(own)
        merged.update(query_items(preset.params))
    else:
        merged.update(query_items(preset.params))
        merged.update(own)
    return merged


def find_preset(workspace: Workspace, name: str) -> TransformPreset:
    for preset in workspace.presets:
        if preset.name == name:
            return preset
    shown = name[:40] if name.isascii() and name.isprintable() else "?"
    raise ValidationError(f"preset: this workspace has no preset named {shown!r}")


def query_items(text: str) -> Iterator[tuple[str, str]]:
    """The (name, value) pairs of a stored parameter text (checked when it was saved)."""
    return iter(parse_qsl(text, keep_blank_values=True))


def fit_width(workspace: Workspace, options: TransformOptions) -> TransformOptions:
    """``options`` with ``w`` rounded up to an allowed width, or ``ValidationError`` (``width_rounding``
    ``refuse``) for a width not in the list."""
    allowed, w = workspace.allowed_widths, options.w
    if not allowed or not isinstance(w, int) or w in allowed:
        return options
    if workspace.width_rounding == "refuse":
        listed = ", ".join(str(width) for width in allowed)
        raise ValidationError(f"w: this workspace serves only the widths {listed}")
    chosen = next((width for width in allowed if width >= w), allowed[-1])
    return dataclasses.replace(options, w=chosen)
