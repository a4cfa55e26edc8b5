"""``POST /_/billing/stripe``: Stripe's webhook, verified with the official library, applied by the admin layer.

The ``Stripe-Signature`` header is checked by ``stripe.Webhook.construct_event`` against the signing secret
(``stripe_webhook_secret``) with a tolerance of 5 minutes: a bad, missing or expired signature is ``400
VALIDATION_ERROR`` and nothing is applied. A verified event goes to ``gateway.admin.billing.apply_stripe_event``,
which answers ``applied``, ``replayed`` (an event id seen before: nothing changes, and Stripe gets its 200 so it
stops retrying) or ``ignored``; it records its own audit row, under the workspace the event is about.

With no secret configured the endpoint does not exist (404): an unsigned webhook is never accepted.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import AdminError
from gateway.admin.billing import apply_stripe_event
from gateway.errors import GatewayError, Internal, MethodNotAllowed, NotFound, ValidationError
from gateway.routes.api.answers import json_response
from gateway.routes.api.endpoint import EveryMethod, http_error
from gateway.routes.api.inputs import read_body
from gateway.routes.api.models import WebhookOut
from gateway.routes.api.runtime import ApiRuntime
from gateway.web.responses import error_response

log = logging.getLogger("imgate.billing")

STRIPE_WEBHOOK = "/_/billing/stripe"
TOLERANCE_SECONDS = 300
ACTOR = "stripe"


def verified_event(payload: bytes, signature: str | None, secret: str) -> Any:
    """The event, if Stripe signed ``payload`` with ``secret`` within the tolerance; else ``ValidationError``."""
    import stripe  # imported when needed: a quarter of a second, paid only by a gateway that takes webhooks

    if not signature:
        raise ValidationError("Stripe-Signature: the header is required")
    try:
        return stripe.Webhook.construct_event(payload, signature, secret, tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError:
        raise ValidationError("Stripe-Signature: not a valid signature of this body, or too old") from None
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        # Signed, but not a JSON event object: only a holder of the secret can send this.
        raise ValidationError("body: not a Stripe event") from None


async def stripe_webhook(request: Request) -> Response:
    runtime = ApiRuntime.of(request.app)
    secret = runtime.settings.stripe_webhook_secret
    try:
        if not secret:
            raise NotFound()
        if request.method != "POST":
            raise MethodNotAllowed("this path takes POST", headers={"Allow": "POST"})
        payload = await read_body(request, runtime.settings.api_max_body_bytes)
        event = verified_event(payload, request.headers.get("stripe-signature"), secret)
        result = await apply_stripe_event(runtime.ctx.acting_as(ACTOR), event)
    except GatewayError as exc:
        return error_response(exc)
    except AdminError as exc:
        return error_response(http_error(exc))
    except Exception:
        log.exception("unhandled error in the Stripe webhook")
        return error_response(Internal())
    return json_response(200, WebhookOut.model_validate({"result": result}))


ROUTES = [Route(STRIPE_WEBHOOK, EveryMethod(stripe_webhook))]
