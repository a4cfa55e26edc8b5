"""Reading a management API request's body and query string into their models, or a clear refusal.

- A body over ``api_max_body_bytes`` is ``413 PAYLOAD_TOO_LARGE`` (``gateway.web.bodies.read_body``, the
  reader the dashboard's forms use too, re-exported here).
- JSON is parsed by pydantic's own parser straight into the model (no ``json.loads`` first: that one accepts
  ``NaN`` and recurses on deep nesting). Malformed JSON, a wrong type, a missing or unknown field: ``400
  VALIDATION_ERROR`` whose message names the field (``body.allowed_origins.0: Input should be a valid string``).
  An empty body is ``{}``, so a call whose fields are all optional needs none.
- Messages never repeat a value: pydantic's ``msg`` describes what was expected, and field names the caller
  made up are cut short and stripped of anything unprintable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from gateway.errors import ValidationError
from gateway.web.bodies import read_body as read_body

_M = TypeVar("_M", bound=BaseModel)
_MAX_NAME = 40

# JSON's own whitespace: bytes.strip() also drops \v and \f, and a body of those is not JSON at all.
_JSON_WHITESPACE = b" \t\r\n"


def parse_body(model: type[_M], body: bytes) -> _M:
    try:
        return model.model_validate_json(body if body.strip(_JSON_WHITESPACE) else b"{}")
    except PydanticValidationError as exc:
        raise ValidationError(_first_error(exc, "body")) from None


def parse_query(model: type[_M] | None, pairs: Sequence[tuple[str, str]]) -> _M | None:
    """``pairs`` as the query string gave them; a name given twice is refused rather than one copy picked."""
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            raise ValidationError(f"query.{_safe(name)}: given more than once")
        values[name] = value
    if model is None:
        if values:
            raise ValidationError(f"query.{_safe(next(iter(values)))}: this call takes no query parameters")
        return None
    try:
        return model.model_validate(values)
    except PydanticValidationError as exc:
        raise ValidationError(_first_error(exc, "query")) from None


def _first_error(exc: PydanticValidationError, where: str) -> str:
    error = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    return f"{_location(where, error['loc'])}: {error['msg']}"


def _location(where: str, loc: tuple[Any, ...]) -> str:
    return ".".join([where, *(_safe(str(part)) for part in loc)])


def _safe(name: str) -> str:
    shown = "".join(char if char.isprintable() else "?" for char in name[:_MAX_NAME])
    return shown + ("…" if len(name) > _MAX_NAME else "")
