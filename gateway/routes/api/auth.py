"""Who is calling: the API key of a management API request, and what it may do.

A key is accepted as ``Authorization: Bearer KEY`` or as ``X-API-Key: KEY``. Refusals, in the order checked:

- ``401 UNAUTHENTICATED`` "Authentication is required": neither header, a header that is not one of those two
  shapes (``Basic …``, ``Bearer`` alone, a header given twice), or both headers naming different keys.
- ``401 UNAUTHENTICATED`` "Invalid API key": a value that is not a whole secret, or a secret no live key has
  (unknown, revoked, or the key's workspace deleted). The 12-character prefix a listing shows is a label, not
  a credential: sent instead of the secret it is refused the same way, and the response does not say why, so
  the two cases cannot be told apart from outside.
- ``403 FORBIDDEN``: a key asking for another workspace's resources, or a read-only key on a write route.
- ``403 IP_NOT_ALLOWED``: the client address (``clientaddr``) is outside the workspace's IP allowlist. Checked
  before the scope, so a caller from a refused address learns nothing about the key.

Every lookup goes to the account store (by the secret's SHA-256; no cache), so a revoked key is refused from
the next request on, by every worker of every node.
"""

from __future__ import annotations

from starlette.datastructures import Headers

from gateway.accounts.keys import ApiKey, looks_like_secret
from gateway.accounts.models import Workspace
from gateway.admin import AdminContext
from gateway.admin.keys import authenticate_key
from gateway.admin.workspaces import ip_allowed
from gateway.errors import Forbidden, IpNotAllowed, Unauthenticated
from gateway.web.clientaddr import Address

REQUIRED = "Authentication is required"
INVALID = "Invalid API key"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="imgate"'}
_BEARER = "bearer "


def presented_key(headers: Headers) -> str:
    """The key the request carries, as sent; ``Unauthenticated`` when there is none in a shape we take."""
    authorization = headers.getlist("authorization")
    api_key = headers.getlist("x-api-key")
    if len(authorization) > 1 or len(api_key) > 1:
        raise Unauthenticated(REQUIRED, headers=_CHALLENGE)
    given: list[str] = []
    if authorization:
        value = authorization[0]
        token = value[len(_BEARER) :].strip() if value[: len(_BEARER)].lower() == _BEARER else ""
        if not token or " " in token:
            raise Unauthenticated(REQUIRED, headers=_CHALLENGE)
        given.append(token)
    if api_key:
        token = api_key[0].strip()
        if not token or " " in token:
            raise Unauthenticated(REQUIRED, headers=_CHALLENGE)
        given.append(token)
    if not given or len(set(given)) > 1:
        raise Unauthenticated(REQUIRED, headers=_CHALLENGE)
    return given[0]


async def authenticate(ctx: AdminContext, headers: Headers) -> ApiKey:
    """The live key the request carries, or ``Unauthenticated``."""
    secret = presented_key(headers)
    if not looks_like_secret(secret):
        raise Unauthenticated(INVALID, headers=_CHALLENGE)
    key = await authenticate_key(ctx, secret)
    if key is None:
        raise Unauthenticated(INVALID, headers=_CHALLENGE)
    return key


def check_namespace(key: ApiKey, namespace: str) -> None:
    if key.namespace != namespace:
        # Said the same way whether the other workspace exists or not: no oracle for namespaces.
        raise Forbidden("this API key belongs to another workspace")


def check_address(workspace: Workspace, address: Address | None) -> None:
    # An unknown client ("") is in no allowlist.
    if not ip_allowed(workspace, "" if address is None else str(address)):
        raise IpNotAllowed()


def check_scope(key: ApiKey, needed: str) -> None:
    if not key.allows(needed):
        raise Forbidden(f"this API key has the {key.scope} scope; this call needs {needed}")
