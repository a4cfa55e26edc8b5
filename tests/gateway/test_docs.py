"""The generated reference (docs/parameters.md, the README's error table) is what the code says now."""

from __future__ import annotations

import pytest

from gateway import docs, errors
from gateway.errors import GatewayError
from gateway.settings import Settings


def test_the_committed_parameter_page_is_what_the_generator_writes():
    committed = docs.PARAMETERS_PAGE.read_text(encoding="utf-8")
    assert committed == docs.parameter_page(), "docs/parameters.md is out of date: run python -m gateway.docs"


def test_the_parameter_page_states_the_budget_the_gateway_runs_with():
    committed = docs.PARAMETERS_PAGE.read_text(encoding="utf-8")
    defaults = Settings()
    rows = {line.split(" | ")[-1]: line for line in committed.splitlines() if line.endswith("` |")}
    assert f"| {defaults.max_source_pixels:,} |" in rows["`max_source_pixels` |"]
    assert f"| {defaults.max_output_side:,} |" in rows["`max_output_side` |"]
    assert f"pixels of all frames together (at most {defaults.max_source_pixels:,}," in committed


def test_the_page_follows_the_settings_it_is_rendered_for():
    page = docs.parameter_page(Settings(max_source_pixels=1_234_567, max_output_side=2048))
    assert "| 1,234,567 |" in page
    assert "| 2,048 |" in page


def test_the_committed_readme_error_table_is_what_the_generator_writes():
    readme = docs.README.read_text(encoding="utf-8")
    assert readme == docs.with_error_table(readme), "README.md's error table is out of date: run python -m gateway.docs"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ORIGIN_NOT_ALLOWED", 403),
        ("SOURCE_NOT_ALLOWED", 403),
        ("DOMAIN_NOT_ALLOWED", 403),
        ("CAPTURE_UNAVAILABLE", 503),
        ("VALIDATION_ERROR", 400),
        ("INTERNAL", 500),
    ],
)
def test_the_readme_lists_every_code_the_gateway_answers_with(code, status):
    readme = docs.README.read_text(encoding="utf-8")
    assert f"| `{code}` | {status} |" in readme


def test_every_error_class_has_a_row():
    table = docs.error_table()
    assert len(docs.error_classes()) >= 14
    for cls in docs.error_classes():
        assert f"| `{cls.code}` | {cls.status} | " in table, cls.__name__


def test_a_new_error_class_gets_a_row_and_needs_a_when(monkeypatch):
    class Teapot(GatewayError):
        """The gateway is a teapot | a kettle."""

        code, status = "TEAPOT", 418

    monkeypatch.setattr(errors, "Teapot", Teapot, raising=False)
    assert "| `TEAPOT` | 418 | The gateway is a teapot \\| a kettle |" in docs.error_table()

    class Unexplained(GatewayError):
        code, status = "UNEXPLAINED", 400

    monkeypatch.setattr(errors, "Teapot", Unexplained)
    with pytest.raises(docs.DocsError, match="Unexplained needs a one-line docstring"):
        docs.error_table()


def test_a_readme_without_the_markers_is_refused():
    with pytest.raises(docs.DocsError, match="no"):
        docs.with_error_table("# imgate\n\nno table here\n")


def test_check_mode_reports_stale_pages_and_writing_fixes_them(tmp_path, monkeypatch, capsys):
    page = tmp_path / "docs" / "parameters.md"
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{docs.ERRORS_BEGIN}\n| old |\n{docs.ERRORS_END}\n\nafter\n", encoding="utf-8")
    monkeypatch.setattr(docs, "PARAMETERS_PAGE", page)
    monkeypatch.setattr(docs, "README", readme)
    assert docs.main(["--check"]) == 1
    assert "parameters.md is out of date" in capsys.readouterr().err
    assert docs.main([]) == 0
    assert docs.main(["--check"]) == 0
    assert page.read_text(encoding="utf-8") == docs.parameter_page()
    text = readme.read_text(encoding="utf-8")
    assert "| old |" not in text
    assert "| `NOT_FOUND` | 404 |" in text
    assert text.endswith(f"{docs.ERRORS_END}\n\nafter\n")
