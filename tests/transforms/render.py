"""Run the real pipeline the way the gateway does: parse, negotiate, run; decode what came out."""

from __future__ import annotations

from typing import Any

import pyvips

from transforms.negotiate import choose_format
from transforms.params import parse_query
from transforms.pipeline import Output, PixelBudget, run


def render(data: bytes, query: str = "", accept: str | None = None, budget: PixelBudget | None = None) -> Output:
    options = parse_query(query)
    chosen, _ = choose_format(options, accept)
    return run(data, options, chosen, budget or PixelBudget())


def decoded(output: Output) -> Any:
    image = pyvips.Image.new_from_buffer(output.data, "")
    assert (image.width, image.height) == (output.width, output.height)
    return image.copy_memory()
