"""A workspace's billing state, as Stripe reports it: never anything about a card.

Stripe keeps the payment method, the invoices and the card; the gateway keeps only what it needs to decide
what a workspace may do: which Stripe customer pays for it (to find the workspace a webhook is about), the
subscription's status and the end of the period paid for. The plan tier itself is ``Workspace.plan``, so the
limits follow a subscription change with the workspace's next revision on every node.

Stripe may deliver events late and out of order; ``event_at`` holds the ``created`` time of the last event
applied, so a webhook handler can ignore an older one instead of undoing a newer change. Replayed deliveries
are refused with the store's processed event ids (``AccountStore.record_webhook_event``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Stripe's subscription statuses; "" is a workspace that never had a subscription.
SUBSCRIPTION_STATUSES = (
    "",
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
)

_CUSTOMER_ID = re.compile(r"cus_[A-Za-z0-9]{1,250}")


@dataclass(frozen=True, slots=True)
class Billing:
    stripe_customer_id: str = ""
    subscription_status: str = ""
    # Seconds since the epoch; 0 when there is no subscription.
    current_period_end: float = 0.0
    event_at: float = 0.0

    def __post_init__(self) -> None:
        if self.stripe_customer_id and not _CUSTOMER_ID.fullmatch(self.stripe_customer_id):
            raise ValueError("a Stripe customer id looks like cus_ followed by letters and digits")
        if self.subscription_status not in SUBSCRIPTION_STATUSES:
            raise ValueError(f"subscription status must be one of {', '.join(filter(None, SUBSCRIPTION_STATUSES))}")
        for name in ("current_period_end", "event_at"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"billing {name} must be a time in seconds since the epoch")
