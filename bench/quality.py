"""The quality column: SSIM of each server's answer against a reference rendered from the full-size decode.

The reference for a job is its source decoded at full size and resized with libvips' lanczos3 to the job's
width (the slowest honest rendering); every server's answer to the same request is scored against it with
scikit-image's SSIM (mean over the three channels, 8-bit range), so imgate's and thumbor's columns compare
directly. The answers are lossy JPEG or WebP at q80, so the scores include each encoder's losses.
scikit-image is a dev dependency: without it the column is empty and the report says why.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyvips

from bench.jobs import Job


def available() -> bool:
    try:
        importlib.import_module("skimage.metrics")
    except ImportError:
        return False
    return True


def scores(corpus: Path, jobs: Sequence[Job], bodies: Sequence[bytes]) -> list[float]:
    """SSIM of each body (the answer to the job at the same index) against that job's reference."""
    return [
        _ssim(_pixels(pyvips.Image.new_from_buffer(body, "")), _reference(corpus, job.source, job.width))
        for job, body in zip(jobs, bodies, strict=True)
    ]


@lru_cache(maxsize=64)
def _reference(corpus: Path, source: str, width: int) -> Any:
    full = pyvips.Image.new_from_file(str(corpus / source)).autorot()
    height = max(1, int(full.height * width / full.width + 0.5))
    return _pixels(full.resize(width / full.width, vscale=height / full.height, kernel="lanczos3"))


def _pixels(image: Any) -> Any:
    numpy = importlib.import_module("numpy")
    if image.bands < 3:
        image = image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    shape = [image.height, image.width, image.bands]
    return numpy.ndarray(buffer=image.write_to_memory(), dtype=numpy.uint8, shape=shape)


def _ssim(a: Any, b: Any) -> float:
    metrics = importlib.import_module("skimage.metrics")
    if a.shape != b.shape:
        return 0.0  # a different size is a wrong answer; the probe refuses a wrong width already
    return float(metrics.structural_similarity(a, b, channel_axis=2, data_range=255))
