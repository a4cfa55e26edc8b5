"""One token signer per gateway process: built beside its secret key and handed to every user of it, so each
purpose's key is derived once per process, never per user, per caller or per call."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gateway.accounts.keyring import secret_box
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.secrets import SecretBox
from gateway.accounts.tokens import Purpose, TokenSigner
from gateway.admin import AdminContext
from gateway.dashboard.runtime import DashboardRuntime
from gateway.jobs.links import ResultLinks
from gateway.routes.api.runtime import ApiRuntime
from gateway.services import Services, build_services
from gateway.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    built = build_services(Settings(data_dir=str(tmp_path)), MemoryAccountStore())
    try:
        yield built
    finally:
        await built.aclose()


async def test_every_user_in_the_process_signs_with_the_services_signer(services: Services) -> None:
    tokens = services.tokens
    assert tokens.signs_with(services.secrets)
    dashboard = DashboardRuntime.build(services)
    api = ApiRuntime.build(services)
    for ctx in (dashboard.ctx, api.ctx):
        assert ctx.secrets is services.secrets and ctx.tokens is tokens
    assert dashboard.signin.tokens is tokens
    # Private state, read here only: CSRF tokens and the job workers' result links hold the signer itself.
    assert dashboard.csrf._tokens is tokens
    assert services.jobs is not None and services.jobs._links._tokens is tokens


async def test_each_caller_of_a_context_shares_its_signer(services: Services) -> None:
    ctx = ApiRuntime.build(services).ctx
    derived = (
        ctx.acting_as("key:imgk_abcdefgh"),
        ctx.as_person("ann@example.com", {"acme": "owner"}),
        ctx.as_key("imgk_abcdefgh", "acme", "read"),
        ctx.as_operator(),
    )
    assert all(each.tokens is services.tokens for each in derived)
    link = ResultLinks(derived[1].tokens).path("job_1", 1700003600)
    assert link == ResultLinks(services.tokens).path("job_1", 1700003600)


async def test_a_context_refuses_a_signer_over_other_secrets(services: Services) -> None:
    ctx = ApiRuntime.build(services).ctx
    other = SecretBox(Fernet.generate_key())
    # Replacing the key alone would seal with the new key and sign with the old one.
    with pytest.raises(ValueError, match="tokens must sign"):
        dataclasses.replace(ctx, secrets=other)
    # The same key in another box is refused too: the point is one signer, not merely equal keys.
    with pytest.raises(ValueError, match="tokens must sign"):
        same_key = TokenSigner(secret_box(services.settings))
        AdminContext.build(services.settings, services.store, services.results, services.secrets, same_key)
    moved = dataclasses.replace(ctx, secrets=other, tokens=TokenSigner(other))
    message = "job_1.1700003600"
    assert not moved.tokens.verify(Purpose.RESULT_LINK, message, ctx.tokens.sign(Purpose.RESULT_LINK, message))


async def test_the_command_line_makes_a_pair_of_its_own_over_the_same_key(services: Services) -> None:
    async with AdminContext.open(services.settings) as ctx:
        assert ctx.tokens.signs_with(ctx.secrets) and ctx.tokens is not services.tokens
        # What the command line signs, the gateway verifies: the same key file.
        message = "job_1.1700003600"
        assert services.tokens.verify(Purpose.RESULT_LINK, message, ctx.tokens.sign(Purpose.RESULT_LINK, message))
