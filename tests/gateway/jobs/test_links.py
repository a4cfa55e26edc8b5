"""Signed result URLs: the URLs already handed out keep working, and nothing else passes for one."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet

from gateway.accounts.secrets import SecretBox
from gateway.accounts.tokens import Purpose, TokenSigner
from gateway.errors import BadSignature, Gone
from gateway.jobs.links import ResultLinks

# A result URL as the gateway signed it before ``TokenSigner`` (a fixed gateway key, job id and expiry).
PINNED_KEY = base64.urlsafe_b64encode(b"imgate-tokens-test-key-32-bytes!")
JOB, EXP = "job_0123456789abcdef0123", 1700003600
PINNED_SIG = "5a2dd641244f8b208f17a1eb844b674284ab5cd2971e38928ecadbf149809ea7"


def test_a_url_handed_out_before_is_made_and_verified_the_same() -> None:
    links = ResultLinks(TokenSigner(SecretBox(PINNED_KEY)))
    assert links.path(JOB, EXP) == f"/_/results/{JOB}?exp={EXP}&sig={PINNED_SIG}"
    links.verify(JOB, str(EXP), PINNED_SIG, now=EXP - 1)


def test_past_its_expiry_a_good_url_is_gone() -> None:
    with pytest.raises(Gone):
        ResultLinks(TokenSigner(SecretBox(PINNED_KEY))).verify(JOB, str(EXP), PINNED_SIG, now=EXP + 1)


@pytest.mark.parametrize(
    ("job_id", "exp", "sig"),
    [
        ("job_0123456789abcdef0124", str(EXP), PINNED_SIG),  # another job
        (JOB, str(EXP + 1), PINNED_SIG),  # a later expiry
        (JOB, str(EXP), PINNED_SIG[:-1] + "0"),
        (JOB, str(EXP), PINNED_SIG.upper()),
        (JOB, str(EXP), None),
        (JOB, None, PINNED_SIG),
        (JOB, "-1", PINNED_SIG),
    ],
)
def test_anything_else_is_a_bad_signature_whatever_the_expiry(job_id: str, exp: str | None, sig: str | None) -> None:
    with pytest.raises(BadSignature):
        ResultLinks(TokenSigner(SecretBox(PINNED_KEY))).verify(job_id, exp, sig, now=EXP + 10**6)


def test_only_this_gateway_key_and_purpose_sign_result_urls() -> None:
    tokens = TokenSigner(SecretBox(PINNED_KEY))
    message = f"{JOB}.{EXP}"
    with pytest.raises(BadSignature):
        ResultLinks(TokenSigner(SecretBox(Fernet.generate_key()))).verify(JOB, str(EXP), PINNED_SIG, now=EXP - 1)
    for purpose in Purpose:
        if purpose is not Purpose.RESULT_LINK:
            other = tokens.sign(purpose, message)
            with pytest.raises(BadSignature):
                ResultLinks(tokens).verify(JOB, str(EXP), other, now=EXP - 1)
