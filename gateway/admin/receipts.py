"""Deletion receipts: proof, signed by this gateway, that a workspace and its data were deleted.

A receipt says which workspace went, when, and how many records of each kind were removed. Its signature is
HMAC-SHA256 over the receipt's canonical JSON (sorted keys, no spaces, ASCII), every field but ``signature``
included, by a key derived from the gateway's secret key for this purpose alone
(``TokenSigner`` with ``Purpose.DELETION_RECEIPT``). Anyone holding the receipt can show it; only a gateway with the
same ``secret_key`` can check it (``imgate receipt verify``), in constant time. Rotating ``secret_key``
makes earlier receipts unverifiable: keep the old key with the receipts if they must stay checkable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.accounts.tokens import Purpose, TokenSigner

RECEIPT_KIND = "imgate.deletion-receipt"
RECEIPT_VERSION = 1
_ALGORITHM = "HMAC-SHA256"


@dataclass(frozen=True, slots=True)
class Receipt:
    namespace: str
    deleted_at: float
    # Records removed, by kind: marks, rules, members, api_keys, key_usage_days, audit_rows, stored_outputs.
    removed: Mapping[str, int]
    signature: str = field(default="")

    def payload(self) -> dict[str, Any]:
        """What is signed."""
        return {
            "kind": RECEIPT_KIND,
            "version": RECEIPT_VERSION,
            "algorithm": _ALGORITHM,
            "namespace": self.namespace,
            "deleted_at": self.deleted_at,
            "removed": dict(self.removed),
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, as ``verify_receipt`` takes it back."""
        return {**self.payload(), "signature": self.signature}


def _canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def sign_receipt(tokens: TokenSigner, namespace: str, deleted_at: float, removed: Mapping[str, int]) -> Receipt:
    """A receipt signed by ``tokens`` (the process's signer, ``ctx.tokens``)."""
    unsigned = Receipt(namespace, deleted_at, dict(removed))
    signature = tokens.sign(Purpose.DELETION_RECEIPT, _canonical(unsigned.payload()))
    return Receipt(namespace, deleted_at, dict(removed), signature)


def receipt_is_genuine(tokens: TokenSigner, receipt: object) -> bool:
    """True only for a receipt this gateway's key signed, unchanged in any field."""
    if not isinstance(receipt, Mapping):
        return False
    signature = receipt.get("signature")
    if not isinstance(signature, str) or receipt.get("kind") != RECEIPT_KIND:
        return False
    payload = {name: value for name, value in receipt.items() if name != "signature"}
    try:
        canonical = _canonical(payload)
    except (TypeError, ValueError):  # not JSON (a set, NaN, a non-string key): nothing we signed
        return False
    return tokens.verify(Purpose.DELETION_RECEIPT, canonical, signature)
