"""docs/parameters.md is generated from the parser's table: it must be what the generator writes now."""

from __future__ import annotations

from transforms import docs
from transforms.info import FIELDS
from transforms.params import PARAMETERS


def test_the_committed_page_is_what_the_generator_writes():
    committed = docs.PAGE.read_text(encoding="utf-8")
    assert committed == docs.render(), "docs/parameters.md is out of date: run python -m transforms.docs"


def test_every_parameter_and_info_field_has_a_row():
    page = docs.render()
    for name, spec in PARAMETERS.items():
        assert f"| `{name}` | {spec.accepts} | {spec.default} |" in page, name
    for field in FIELDS:
        assert f"| `{field}` |" in page, field


def test_check_mode_reports_a_stale_page(tmp_path, monkeypatch):
    stale = tmp_path / "parameters.md"
    stale.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(docs, "PAGE", stale)
    assert docs.main(["--check"]) == 1
    assert docs.main([]) == 0
    assert docs.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == docs.render()
