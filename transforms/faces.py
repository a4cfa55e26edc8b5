"""Face detection for crop=faces, fit=facearea, blur-faces, px-faces and faces=1 in fm=json.

The detector is OpenCV's frontal-face Haar cascade (``haarcascade_frontalface_alt2.xml``), which ships inside
the ``opencv-python-headless`` 4.x wheel: nothing is downloaded at run time. (OpenCV's YuNet ``FaceDetectorYN``
is more accurate but its model is not in the wheel; the 5.x wheels dropped the cascades.) It runs on a grey
copy of the image scaled to ``DETECT_SIDE`` pixels on its longer side, which bounds its time whatever the
source's size (the cascade's cost grows with the pixels it scans): measured on the shared two-core machine
under load, about 100 ms for the portrait fixture at 400 px and scale factor 1.15, against 270 ms at 512 px and
1.1 (the box found differs by a pixel). It is called in the transform pool's thread like every other step,
with one OpenCV thread, and the run's deadline is checked before it starts.

Faces are answered largest first (``faceindex=1`` is the largest face), in the given image's pixels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import pyvips

# The longer side of the copy the cascade scans: faces down to about 1/20 of it are found.
DETECT_SIDE = 400
_SCALE_STEP = 1.15  # the cascade's window grows by this much per pass
# Small images are scaled up to this first, so that a face in a thumbnail still spans the cascade's window.
MIN_DETECT_SIDE = 320
_CASCADE = "haarcascade_frontalface_alt2.xml"
_MIN_FACE = 20  # pixels of the scanned copy

# OpenCV's own thread pool would compete with the transform pool's threads.
cv2.setNumThreads(1)
_local = threading.local()


@dataclass(frozen=True, slots=True)
class FaceBox:
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2

    def as_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


def _classifier() -> Any:
    # A classifier is not safe to share between threads; each transform thread loads its own once.
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + _CASCADE)  # type: ignore[attr-defined]
        if cascade.empty():
            raise RuntimeError("OpenCV's face cascade is missing from its package")
        _local.cascade = cascade
    return cascade


def detect_faces(image: pyvips.Image) -> list[FaceBox]:
    """The faces in ``image`` (one frame, any bands), largest first, in its own pixels."""
    longer = max(image.width, image.height)
    scale = min(1.0, DETECT_SIDE / longer) if longer > MIN_DETECT_SIDE else MIN_DETECT_SIDE / longer
    grey = _grey(image)
    if scale != 1.0:
        grey = grey.resize(scale)
    pixels = np.ndarray(buffer=grey.write_to_memory(), dtype=np.uint8, shape=(grey.height, grey.width))
    found = _classifier().detectMultiScale(
        pixels, scaleFactor=_SCALE_STEP, minNeighbors=5, minSize=(_MIN_FACE, _MIN_FACE)
    )
    boxes = [_scaled_back(box, scale, image.width, image.height) for box in found]
    return sorted(boxes, key=lambda box: (-box.width * box.height, box.x, box.y))


def _grey(image: pyvips.Image) -> pyvips.Image:
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.interpretation not in ("b-w", "grey16"):
        image = image.colourspace("b-w")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image.extract_band(0)


def _scaled_back(box: Any, scale: float, width: int, height: int) -> FaceBox:
    x, y, w, h = (int(value) for value in box)
    left, top = round(x / scale), round(y / scale)
    right, bottom = min(width, round((x + w) / scale)), min(height, round((y + h) / scale))
    return FaceBox(left, top, max(1, right - left), max(1, bottom - top))


def union(boxes: list[FaceBox]) -> FaceBox:
    left, top = min(box.x for box in boxes), min(box.y for box in boxes)
    right = max(box.x + box.width for box in boxes)
    bottom = max(box.y + box.height for box in boxes)
    return FaceBox(left, top, right - left, bottom - top)


def faces_in_source(original: bytes, upright_width: int, options: dict[str, str]) -> list[FaceBox]:
    """The faces of an encoded image, in its upright pixels (for fm=json): found on a thumbnail."""
    thumbnail = pyvips.Image.thumbnail_buffer(original, DETECT_SIDE, height=DETECT_SIDE, **options)
    if thumbnail.interpretation != "srgb" and thumbnail.bands >= 3:
        thumbnail = thumbnail.colourspace("srgb")
    scale = upright_width / thumbnail.width
    return [
        FaceBox(round(box.x * scale), round(box.y * scale), round(box.width * scale), round(box.height * scale))
        for box in detect_faces(thumbnail)
    ]
