"""The parameter reference is rendered from the parser's table and the pixel budget it is given."""

from __future__ import annotations

from transforms import docs
from transforms.info import FIELDS
from transforms.params import PARAMETERS
from transforms.pipeline import PixelBudget


def test_every_parameter_and_info_field_has_a_row():
    page = docs.render(PixelBudget())
    for name, spec in PARAMETERS.items():
        assert f"| `{name}` | {spec.accepts} | {spec.default} |" in page, name
    for field in FIELDS:
        assert f"| `{field}` |" in page, field


def test_the_page_states_the_budget_it_is_given_not_a_default():
    budget = PixelBudget(max_pixels=12_345_678, max_output_side=4321, max_input_side=20_000, max_frames=77)
    page = docs.render(budget)
    assert f"{PixelBudget().max_pixels:,}" not in page
    assert "| 12,345,678 |" in page
    assert "| 4,321 |" in page
    assert "| 20,000 |" in page
    assert "(at most 77) and the pixels of all frames together (at most 12,345,678," in page


def test_the_limits_name_the_setting_that_changes_each_value():
    page = docs.render(PixelBudget(), {"max_pixels": "pixel_cap"})
    pixels_row = next(line for line in page.splitlines() if line.startswith("| pixels of the source"))
    assert pixels_row.endswith("| `pixel_cap` |")
    frames_row = next(line for line in page.splitlines() if line.startswith("| frames of an animated output"))
    assert frames_row.endswith("| fixed |")
