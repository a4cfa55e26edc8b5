"""A workspace's URL shaping settings: named transform presets, default parameters and allowed widths.

A preset is a query string (``w=400&h=300&fit=crop``) that ``preset=<name>`` in a URL expands to; URL
parameters override it unless it is ``locked``. Default parameters apply to every URL of the workspace,
under the URL's own. Both are stored in their canonical form, checked by the transform parser when they are
saved (``gateway.admin.presets``), and expanded by ``gateway.policy.presets`` at plan time.

Allowed widths (empty: any): a requested ``w`` outside the list is rounded up to the next allowed width
(``width_rounding = "up"``; above the largest, the largest) or refused (``"refuse"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRESET_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
WIDTH_ROUNDING = ("up", "refuse")
MAX_PRESETS = 100
MAX_WIDTHS = 64
MAX_PARAMS_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class TransformPreset:
    name: str
    params: str  # canonical query text, without a leading "?"
    locked: bool = False
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        if not PRESET_NAME_RE.fullmatch(self.name):
            raise ValueError("preset name must be 1-63 characters of a-z, 0-9, '-' and '_'")
        if len(self.params) > MAX_PARAMS_LENGTH:
            raise ValueError(f"preset parameters are at most {MAX_PARAMS_LENGTH} characters")

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "params": self.params, "locked": self.locked, "updated_at": self.updated_at}


def check_url_shaping(presets: tuple[TransformPreset, ...], widths: tuple[int, ...], rounding: str) -> None:
    """``ValueError`` for repeated preset names, too many presets, or widths that are no sorted, distinct list."""
    if len(presets) > MAX_PRESETS:
        raise ValueError(f"at most {MAX_PRESETS} presets per workspace")
    if len({preset.name for preset in presets}) != len(presets):
        raise ValueError("preset names must differ")
    if rounding not in WIDTH_ROUNDING:
        raise ValueError(f"width rounding must be one of {', '.join(WIDTH_ROUNDING)}")
    if len(widths) > MAX_WIDTHS:
        raise ValueError(f"at most {MAX_WIDTHS} allowed widths")
    if any(isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= 8192 for w in widths):
        raise ValueError("allowed widths are whole numbers of pixels between 1 and 8192")
    if list(widths) != sorted(set(widths)):
        raise ValueError("allowed widths must be distinct and in increasing order")


def presets_from_json(items: list[dict[str, object]]) -> tuple[TransformPreset, ...]:
    return tuple(
        TransformPreset(str(item["name"]), str(item["params"]), bool(item["locked"]), float(str(item["updated_at"])))
        for item in items
    )
