"""The unit every server is asked to do: one source image, one output width, format and quality.

Each peer turns a Job into its own URL (or, for bare pyvips, into a call), so all of them make the
same output size and quality from the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

QUALITY = 80
SRCSET_WIDTHS = (320, 640, 960, 1280, 1920)

# The bare-pyvips loop encodes exactly what imgate answers (transforms/steps/encode.py: metadata
# stripped, JPEG Huffman tables optimised, WebP effort 4), so that the limit it measures is for the
# same bytes; the report's "out KiB" column shows the two match. Keeping EXIF/XMP/ICC would double
# the size of a 400 px photo and cost more than the resize.
_VIPS_SAVE_OPTIONS = {"jpg": "optimize_coding=true,keep=none", "webp": "effort=4,keep=none"}


@dataclass(frozen=True)
class Job:
    source: str  # file name inside the corpus folder
    width: int
    fmt: str  # "jpg" or "webp"
    quality: int = QUALITY

    @property
    def vips_suffix(self) -> str:
        return f".{self.fmt}[Q={self.quality},{_VIPS_SAVE_OPTIONS[self.fmt]}]"

    @property
    def mime(self) -> str:
        return {"jpg": "image/jpeg", "webp": "image/webp"}[self.fmt]


def images(corpus: Path, patterns: Sequence[str]) -> list[str]:
    """Sorted file names in the corpus matching any of the glob patterns."""
    found = {path.name for pattern in patterns for path in corpus.glob(pattern) if path.is_file()}
    return sorted(found)


def photos(corpus: Path) -> list[str]:
    return images(corpus, ["photo-*.jpg"])


def large_originals(corpus: Path) -> list[str]:
    return images(corpus, ["large-*-5120*.jpg", "large-*-5120*.png"])


def photo_miss_jobs(corpus: Path) -> list[Job]:
    # JPEG and WebP interleaved so every slice of the run has the same mix.
    return [Job(name, 400, fmt) for name in photos(corpus) for fmt in ("jpg", "webp")]


def large_miss_jobs(corpus: Path) -> list[Job]:
    return [Job(name, 1200, "jpg") for name in large_originals(corpus)]


def srcset_jobs(corpus: Path) -> list[Job]:
    # One original's widths back to back, as a browser resolving <img srcset> on several screens does.
    return [Job(name, width, "jpg") for name in photos(corpus) for width in SRCSET_WIDTHS]


def hot_job(corpus: Path) -> Job | None:
    names = photos(corpus)
    if not names:
        return None
    preferred = "photo-kite.jpg"
    return Job(preferred if preferred in names else names[0], 400, "jpg")
