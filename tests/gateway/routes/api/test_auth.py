"""Reading the API key a request carries: both conventions, and everything else refused the same way."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from gateway.errors import Unauthenticated
from gateway.routes.api.auth import REQUIRED, presented_key

SECRET = "imk_live_" + "A" * 43


def headers(*pairs: tuple[str, str]) -> Headers:
    return Headers(raw=[(name.encode(), value.encode()) for name, value in pairs])


@pytest.mark.parametrize(
    "pairs",
    [
        (("authorization", f"Bearer {SECRET}"),),
        (("authorization", f"bearer  {SECRET} "),),
        (("x-api-key", SECRET),),
        (("authorization", f"Bearer {SECRET}"), ("x-api-key", SECRET)),  # the same key twice is one key
    ],
)
def test_accepted_shapes(pairs: tuple[tuple[str, str], ...]) -> None:
    assert presented_key(headers(*pairs)) == SECRET


@pytest.mark.parametrize(
    "pairs",
    [
        (),
        (("authorization", "Basic dXNlcjpwYXNz"),),
        (("authorization", "Bearer"),),
        (("authorization", "Bearer "),),
        (("authorization", "Bearer a b"),),
        (("authorization", SECRET),),
        (("x-api-key", ""),),
        (("authorization", f"Bearer {SECRET}"), ("authorization", f"Bearer {SECRET}")),
        (("x-api-key", SECRET), ("x-api-key", SECRET)),
        (("authorization", f"Bearer {SECRET}"), ("x-api-key", "imk_live_other")),
    ],
)
def test_refused_shapes_say_authentication_is_required(pairs: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(Unauthenticated) as refused:
        presented_key(headers(*pairs))
    assert refused.value.message == REQUIRED
    assert refused.value.status == 401 and refused.value.headers["WWW-Authenticate"].startswith("Bearer")
