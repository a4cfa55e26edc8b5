"""A workspace's signed image URLs: require them or not, rotate a secret (shown once), import an imgix token,
remove a secret after a confirmation; with the signing code to copy for both schemes.

A thin adapter over ``gateway.admin.signing``: what it refuses ("required" before a secret exists, removing the
last secret while required, a token that is no token) is shown on the page with its stable code and the admin
layer's message. A new secret is answered in the page of the POST that made it, never redirected to: it exists
in that one answer and nowhere else. An imported token is write-only: a password field, read from the POST body,
never echoed back, not even when it is refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import Response

from gateway.accounts.signing import SCHEMES
from gateway.admin import AdminError
from gateway.admin import NotFound as AdminNotFound
from gateway.admin.signing import CreatedSecret, remove_secret, rotate_secret, set_signing, show_signing
from gateway.dashboard.web import PREFIX, Call, admin_error, public_origin, see_other
from gateway.dashboard.workspace_pages import ns_of, workspace_page

NOTICES = {
    "required": "Signed URLs are required now: unsigned image URLs of this workspace answer 403 BAD_SIGNATURE.",
    "off": "Signed URLs are no longer required: every image URL of this workspace is answered.",
    "imported": "imgix token imported. URLs imgix's libraries sign with it verify from now on.",
    "imported-retired": "imgix token imported; the older of the two imgix secrets was retired.",
    "removed": "Secret removed. URLs signed with it stop verifying within seconds.",
}
# What people sign with: the page's example key and parameters (any key of the workspace works the same).
EXAMPLE_KEY = "products/shoe.jpg"


def _here(namespace: str, notice: str) -> Response:
    return see_other(f"{PREFIX}/w/{namespace}/signing?notice={notice}")


def imgate_snippet(base_url: str, namespace: str) -> str:
    """Python (standard library only) that signs an image URL the way the gateway verifies it."""
    return f'''import hashlib
import hmac
import os
from urllib.parse import quote

SECRET = os.environ["IMGATE_SIGNING_SECRET"]  # shown once, when it was created


def signed(path, params, secret=SECRET):
    """path as it is sent (percent-encoded); params as (name, value) pairs. s goes last."""
    query = "&".join(sorted(f"{{quote(n, safe='')}}={{quote(v, safe='')}}" for n, v in params))
    message = f"{{path}}?{{query}}" if query else path
    s = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return f"{{message}}&s={{s}}" if query else f"{{path}}?s={{s}}"


# Add ("expires", str(unix_seconds)) to the parameters for a URL that stops working then.
print("{base_url}" + signed("/{namespace}/{EXAMPLE_KEY}", [("w", "640"), ("auto", "format")]))
'''


def imgix_snippet(hostname: str, https: bool, namespace: str) -> str:
    """imgix-python signing with an imgix token (its ``secureURLToken``), unchanged."""
    return f'''import os

from imgix import UrlBuilder

# The gateway's host (imgix's libraries take no port), or a custom domain: then the path has no namespace.
builder = UrlBuilder("{hostname}", use_https={https}, sign_key=os.environ["IMGIX_TOKEN"])
print(builder.create_url("/{namespace}/{EXAMPLE_KEY}", {{"w": 640, "auto": "format"}}))
'''


async def signing(
    call: Call, *, created: CreatedSecret | None = None, error: Exception | None = None, status: int = 200
) -> Response:
    namespace = ns_of(call)
    view = await show_signing(call.ctx, namespace)
    # The gateway's public host, never one the request's Host header made up.
    base = public_origin(call.request, call.runtime)
    parts = urlsplit(base)
    return workspace_page(
        call,
        "signing.html",
        namespace,
        status,
        notice=NOTICES.get(call.request.query_params.get("notice", "")),
        error=error,
        signing=view,
        schemes=SCHEMES,
        keys_of={scheme: [key for key in view.keys if key.scheme == scheme] for scheme in SCHEMES},
        created=created,
        imgate_snippet=imgate_snippet(base, namespace),
        imgix_snippet=imgix_snippet(parts.hostname or "img.example.com", parts.scheme == "https", namespace),
    )


async def _refused(call: Call, exc: AdminError) -> Response:
    error = admin_error(exc)
    return await signing(call, error=error, status=error.status)


async def switch_mode(call: Call) -> Response:
    namespace = ns_of(call)
    mode = call.field("mode")
    try:
        view = await set_signing(call.ctx, namespace, mode)
    except AdminError as exc:
        return await _refused(call, exc)
    return _here(namespace, view.mode)


async def rotate(call: Call) -> Response:
    namespace = ns_of(call)
    try:
        created = await rotate_secret(call.ctx, namespace, call.field("scheme"))
    except AdminError as exc:
        return await _refused(call, exc)
    # Answered here, not redirected: the secret is in this one page and nowhere else, ever.
    return await signing(call, created=created)


async def import_token(call: Call) -> Response:
    namespace = ns_of(call)
    try:
        created = await rotate_secret(call.ctx, namespace, "imgix", call.field("token").strip())
    except AdminError as exc:
        return await _refused(call, exc)
    return _here(namespace, "imported-retired" if created.retired else "imported")


async def confirm_remove(call: Call) -> Response:
    namespace = ns_of(call)
    view = await show_signing(call.ctx, namespace)
    key_id = call.request.query_params.get("key_id", "")
    key = next((key for key in view.keys if key.key_id == key_id), None)
    if key is None:
        raise admin_error(AdminNotFound("no signing secret with that id"))
    last = view.mode == "required" and len(view.keys) == 1
    return workspace_page(call, "signing_remove.html", namespace, key=key, last=last)


async def remove(call: Call) -> Response:
    namespace = ns_of(call)
    try:
        await remove_secret(call.ctx, namespace, call.field("key_id"))
    except AdminError as exc:
        return await _refused(call, exc)
    return _here(namespace, "removed")
