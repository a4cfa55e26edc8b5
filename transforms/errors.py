"""Errors raised by the pure imaging package.

transforms/ never imports gateway/, so it has its own small tree; the gateway maps each class
onto an HTTP status and a stable code (see ``gateway.errors.from_transform_error``)::

    TransformError                 base; ``message`` is always safe to show a caller
    ├── InvalidParameter           a query parameter is unknown or out of range (names it)
    ├── ImageTooLarge              pixel budget, dimension cap or an encoder's size cap exceeded (before decoding)
    ├── UnsupportedImage           not an image, a blocked loader, truncated or corrupt data
    └── RenderTimedOut             the run went past its deadline (``transforms.deadline``)
"""

from __future__ import annotations


class TransformError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidParameter(TransformError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


class ImageTooLarge(TransformError):
    pass


class UnsupportedImage(TransformError):
    pass


class RenderTimedOut(TransformError):
    def __init__(self, message: str = "the image took too long to render") -> None:
        super().__init__(message)
