"""Signed, expiring result URLs: ``/_/results/{id}?exp={unix seconds}&sig={hex}``.

``sig`` is HMAC-SHA256 over ``"{id}.{exp}"`` with a key derived from the gateway key for this purpose only
(``TokenSigner`` with ``Purpose.RESULT_LINK``), so it proves nothing anywhere else and reveals nothing of the
key. Checked in constant time; a URL past ``exp`` is ``410 GONE`` even with a good signature, a bad or missing
signature is ``403 BAD_SIGNATURE`` whatever ``exp`` says (so nobody learns which ids exist from the answers).
"""

from __future__ import annotations

import re

from gateway.accounts.tokens import Purpose, TokenSigner
from gateway.errors import BadSignature, Gone

RESULTS_PATH = "/_/results"
_SIG = re.compile(r"[0-9a-f]{64}")
_EXP = re.compile(r"[0-9]{1,12}")


class ResultLinks:
    """Result URLs signed by ``tokens``: the process's signer (``ctx.tokens``), so the key is derived once."""

    __slots__ = ("_tokens",)

    def __init__(self, tokens: TokenSigner) -> None:
        self._tokens = tokens

    def signature(self, job_id: str, exp: int) -> str:
        return self._tokens.sign(Purpose.RESULT_LINK, f"{job_id}.{exp}")

    def path(self, job_id: str, exp: int) -> str:
        return f"{RESULTS_PATH}/{job_id}?exp={exp}&sig={self.signature(job_id, exp)}"

    def verify(self, job_id: str, exp: str | None, sig: str | None, now: float) -> None:
        """``BadSignature`` for a missing, malformed or wrong signature; ``Gone`` past ``exp``."""
        if exp is None or sig is None or not _EXP.fullmatch(exp) or not _SIG.fullmatch(sig):
            raise BadSignature("this result URL is not signed")
        if not self._tokens.verify(Purpose.RESULT_LINK, f"{job_id}.{int(exp)}", sig):
            raise BadSignature("this result URL's signature does not match")
        if int(exp) < now:
            raise Gone("this result URL has expired; ask the job for a new one")
