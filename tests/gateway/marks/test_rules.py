from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.accounts.models import MarkRule
from gateway.marks.rules import compile_glob, compile_rules, first_match


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("premium/**", "premium/a.jpg", True),
        ("premium/**", "premium/x/y/z.jpg", True),
        ("premium/**", "premiums/a.jpg", False),
        ("premium/**", "free/premium/a.jpg", False),
        ("*.png", "a.png", True),
        ("*.png", "deep/er/a.png", True),
        ("*.png", "a.png.jpg", False),
        ("photos/*.jpg", "photos/a.jpg", True),
        ("photos/*.jpg", "photos/sub/a.jpg", False),
        ("**/raw/*", "a/b/raw/c", True),
        ("**/raw/*", "raw/c", True),
        ("img-?.jpg", "img-1.jpg", True),
        ("img-?.jpg", "img-10.jpg", False),
        ("a+b(c).jpg", "a+b(c).jpg", True),
    ],
)
def test_globs(pattern: str, key: str, matches: bool) -> None:
    assert bool(compile_glob(pattern).fullmatch(key)) is matches


@pytest.mark.parametrize("bad", ["", "/abs/*", "a\x00b"])
def test_bad_globs_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="pattern"):
        compile_glob(bad)


@given(st.lists(st.text(alphabet="abc.", min_size=1, max_size=5), min_size=1, max_size=4))
def test_double_star_covers_every_key_below_its_folder(segments: list[str]) -> None:
    key = "premium/" + "/".join(segments)
    assert compile_glob("premium/**").fullmatch(key)


def test_first_matching_rule_wins_in_owner_order() -> None:
    rules = compile_rules(
        [
            MarkRule("acme", 1, 2, "logo", ("premium/**",)),
            MarkRule("acme", 2, 1, "credit", ("*.png",)),
            MarkRule("acme", 3, 3, "external", (), ("*.stock.example",)),
        ]
    )
    assert first_match(rules, "premium/a.png", None).preset == "credit"  # type: ignore[union-attr]
    assert first_match(rules, "premium/a.jpg", None).preset == "logo"  # type: ignore[union-attr]
    assert first_match(rules, "free/a.jpg", None) is None
    assert first_match(rules, None, "img.stock.example").preset == "external"  # type: ignore[union-attr]
    assert first_match(rules, None, "stock.example") is None
