"""What the steps share during one run: the inputs, what the header said, the layout, the pixels so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Flag, auto
from typing import TYPE_CHECKING, Any

from transforms.deadline import Deadline
from transforms.options import Crop, Format, Sides, TransformOptions
from transforms.sniff import SourceFormat

if TYPE_CHECKING:
    from transforms.marks import MarkSpec
    from transforms.shared_decode import SharedDecode

# Formats whose frames make an animation (HEIF and TIFF pages are separate pictures, not frames).
ANIMATED_FORMATS = frozenset({SourceFormat.GIF, SourceFormat.WEBP})


@dataclass(frozen=True)
class PixelBudget:
    """What one run may decode and produce. The defaults suit tests; a gateway passes its own settings."""

    max_pixels: int = 100_000_000  # source pixels, read from the header before decoding
    max_output_side: int = 8192  # either side of the output, dpr included
    # Either side of the source. Within the pixel budget a 1×100,000,000 strip would still pass,
    # and such strips defeat libvips' tiling; no real photo or scan is longer than this.
    max_input_side: int = 32_768
    # Frames of an animation decoded for animated output; their pixels also count, summed, against
    # max_pixels. A still taken from an animation (frame=, or JPEG/PNG/AVIF output) decodes one frame.
    max_frames: int = 1000
    # The slow encoders' caps, in output pixels (frames summed for an animation), checked on the output's final
    # size before any pixel is encoded (steps/output_caps.py): these encodes cannot be stopped half-way, so the
    # deadline alone would not bound them. Measured on 2 cores, per output megapixel: GIF about 1 s for a
    # photo (0.5 s per animation frame), AVIF 0.5 s (1 s at q=100), lossless WebP about 2 s; against 0.1 s
    # for lossy WebP and PNG and 0.06 s for JPEG.
    max_gif_pixels: int = 12_000_000  # every frame of a GIF
    max_gif_frame_pixels: int = 2_000_000  # one GIF frame (its palette is one uninterruptible step)
    max_avif_pixels: int = 4_194_304
    # auto=format picks AVIF only up to this many output pixels, WebP above: an AVIF miss costs about 2.3 times
    # a WebP one at WebP's effort 4 (bench encode-times, CPU time: 250 ms against 110 ms at 1 MP, 570 ms against
    # 250 ms at 2.3 MP), and grows with the pixels.
    max_auto_avif_pixels: int = 1_048_576
    max_lossless_pixels: int = 2_500_000  # WebP and AVIF with lossless
    max_animation_pixels: int = 40_000_000  # every frame of any animated output


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
    frames: int = 1  # pages in the file; width and height are those of one
    # libvips' xres and yres (pixels per millimetre) and resolution-unit: a PNG's pHYs and a kept EXIF's
    # resolution are written from them, so a decode outside libvips carries them over (transforms.turbo_jpeg).
    resolution: tuple[float, float] = (72 / 25.4, 72 / 25.4)
    resolution_unit: str | None = None

    @property
    def animated(self) -> bool:
        return self.format in ANIMATED_FORMATS and self.frames > 1

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
class Region:
    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Layout:
    """The geometry of a run, decided from the header before the first pixel is decoded.

    In order: ``rect`` is cut from the upright source; ``resize`` is the box handed to libvips'
    thumbnail (None: keep the size); ``size`` and ``crop`` are its size and crop modes (crop "none"
    fits inside the box, the others cover it and cut at that end or by that smartcrop strategy);
    ``window`` is cut from the resized image (focal point); ``canvas`` is the padded size for
    fit=fill, with the image placed at ``gravity``; ``pad`` is added around all that.

    Everything is in the source's orientation: or and flip turn the result at the end (see turn.py).
    """

    resize: Box | None = None
    size: str = "both"  # "both" | "down" | "force"
    crop: str = "none"  # "none" | "centre" | "low" | "high" | "entropy" | "attention"
    canvas: Box | None = None
    gravity: frozenset[Crop] = frozenset()
    rect: Region | None = None
    window: Region | None = None
    pad: Sides = Sides()


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
    budget: PixelBudget
    source: SourceInfo | None = None  # set by the header step
    layout: Layout | None = None  # set by the layout step
    output: Format | None = None  # set by the layout step
    mark: MarkSpec | None = None
    image: Any = None  # pyvips.Image once loaded (pyvips ships no type information)
    # Frames stacked in ``image`` (libvips' "toilet roll": frames one under the other, each
    # image.height // pages high). Set by the load step; above 1 only for animated output.
    pages: int = 1
    animated: bool = False  # set by the layout step: every frame is decoded and kept
    done: Done = Done.NOTHING
    data: bytes = field(default=b"", repr=False)  # set by the encode step
    deadline: Deadline = field(default_factory=Deadline)  # watched from the load step on
    shared: SharedDecode | None = None  # a decode shared with the other runs of a burst (transforms.shared_decode)

    # Accessors for later steps: a missing value is a step-order bug, not bad input.
    def header(self) -> SourceInfo:
        if self.source is None:
            raise RuntimeError("the header step has not run")
        return self.source

    def geometry(self) -> Layout:
        if self.layout is None:
            raise RuntimeError("the layout step has not run")
        return self.layout

    def output_format(self) -> Format:
        if self.output is None:
            raise RuntimeError("the layout step has not run")
        return self.output

    def pixels(self) -> Any:
        if self.image is None:
            raise RuntimeError("the load step has not run")
        return self.image
