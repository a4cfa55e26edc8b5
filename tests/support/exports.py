"""``assert_exports_public_names``: a package's ``__all__`` against the names it actually holds, not a copy."""

from __future__ import annotations

import types


def assert_exports_public_names(package: types.ModuleType) -> None:
    """Every public name the package imports is exported, and nothing else (its modules and the
    ``from __future__ import annotations`` feature are not names of its API)."""
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, types.ModuleType)
    }
    assert sorted(package.__all__) == sorted(public)
