"""What the steps share during one run: the inputs, what the header said, the plan, the pixels so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Flag, auto
from typing import Any

from transforms.options import Crop, Format, TransformOptions
from transforms.sniff import SourceFormat


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 100_000_000  # source pixels, read from the header before decoding
    max_output_side: int = 8192  # either side of the output, dpr included
    # Either side of the source. Within the pixel budget a 1×100,000,000 strip would still pass,
    # and such strips defeat libvips' tiling; no real photo or scan is longer than this.
    max_input_side: int = 32_768


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """The source as its header describes it (width and height as stored, before EXIF rotation)."""

    format: SourceFormat
    width: int
    height: int
    orientation: int  # EXIF 1-8; 5-8 swap width and height
    has_alpha: bool
    # True when pixels must go through an ICC transform to become sRGB: an embedded profile that is
    # not sRGB. Images with no profile are taken as sRGB, and CMYK without one gets libvips' default.
    foreign_profile: bool

    @property
    def upright_size(self) -> tuple[int, int]:
        """Size once the EXIF orientation is applied, which is what w and h refer to."""
        if self.orientation in (5, 6, 7, 8):
            return self.height, self.width
        return self.width, self.height


@dataclass(frozen=True, slots=True)
class Box:
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Plan:
    """The geometry of a run, decided from the header before the first pixel is decoded.

    ``resize`` is the box handed to libvips' thumbnail (None: keep the source size); ``size`` and
    ``crop`` are its size and crop modes (crop "none" fits inside the box, the others cover it and cut
    at that end). ``canvas`` is the padded size for fit=fill, with the image placed at ``gravity``.
    """

    resize: Box | None = None
    size: str = "both"  # "both" | "down" | "force"
    crop: str = "none"  # "none" | "centre" | "low" | "high"
    canvas: Box | None = None
    gravity: frozenset[Crop] = frozenset()


class Done(Flag):
    """Work a step did ahead of its turn (libvips' thumbnail does several in one pass)."""

    NOTHING = 0
    ORIENTED = auto()
    COLOUR = auto()
    RESIZED = auto()


@dataclass(slots=True)
class Context:
    original: bytes
    options: TransformOptions
    chosen: Format | None
    limits: Limits
    source: SourceInfo | None = None  # set by the header step
    plan: Plan | None = None  # set by the plan step
    output: Format | None = None  # set by the plan step
    image: Any = None  # pyvips.Image once loaded (pyvips ships no type information)
    done: Done = Done.NOTHING
    data: bytes = field(default=b"", repr=False)  # set by the encode step

    # Accessors for later steps: a missing value is a step-order bug, not bad input.
    def header(self) -> SourceInfo:
        if self.source is None:
            raise RuntimeError("the header step has not run")
        return self.source

    def geometry(self) -> Plan:
        if self.plan is None:
            raise RuntimeError("the plan step has not run")
        return self.plan

    def output_format(self) -> Format:
        if self.output is None:
            raise RuntimeError("the plan step has not run")
        return self.output

    def pixels(self) -> Any:
        if self.image is None:
            raise RuntimeError("the load step has not run")
        return self.image
