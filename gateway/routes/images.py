"""The hot path: ``GET /{ns}/{key}?…`` and ``GET /{ns}/?src={url}&…``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import NotFound, SourceNotAllowed, ValidationError
from gateway.policy import InvalidSourceURL, parse_source_url
from gateway.render import FetchOriginal, RenderRequest
from gateway.responses import image_response
from gateway.services import Services
from gateway.tenancy import Tenant
from transforms.errors import InvalidParameter
from transforms.negotiate import choose_format
from transforms.params import parse

# Parameters the gateway reads itself; the transform parser must not call them unknown.
GATEWAY_PARAMETERS: frozenset[str] = frozenset({"src"})


def _origin_request(tenant: Tenant, key: str) -> tuple[str, str, str, FetchOriginal]:
    source = tenant.source
    if source is None:
        raise NotFound("this workspace has no origin configured")
    if not key:
        raise NotFound("no image key in the path")
    return "o", key, source.identity(key), lambda: source.fetch(key)


def _external_request(services: Services, tenant: Tenant, raw: str, key: str) -> tuple[str, str, str, FetchOriginal]:
    if key:
        raise ValidationError("src: external sources are requested as /{namespace}/?src=URL")
    try:
        url = parse_source_url(raw)
    except InvalidSourceURL as exc:
        raise ValidationError(f"src: {exc}") from None
    if not tenant.policy.source_allowed(url):
        raise SourceNotAllowed()
    external = services.external
    normalised = url.url
    return "src", normalised, "src:" + normalised, lambda: external.fetch(normalised)


async def image(request: Request) -> Response:
    services: Services = request.app.state.services
    namespace: str = request.path_params["ns"]
    key: str = request.path_params["key"]
    tenant = await services.tenancy.get(namespace)
    if tenant is None:
        raise NotFound("unknown workspace")
    items = request.query_params.multi_items()
    try:
        options = parse(items, extra=GATEWAY_PARAMETERS)
    except InvalidParameter as exc:
        raise ValidationError(exc.message) from None
    src = [value for name, value in items if name == "src"]
    if len(src) > 1:
        raise ValidationError("src: given more than once")
    if src:
        kind, source_key, identity, fetch = _external_request(services, tenant, src[0], key)
    else:
        kind, source_key, identity, fetch = _origin_request(tenant, key)
    chosen, negotiated = choose_format(options, request.headers.get("accept"))
    rendered = await services.renderer.render(
        RenderRequest(
            namespace=namespace,
            kind=kind,
            source_key=source_key,
            source_identity=identity,
            fetch=fetch,
            options=options,
            chosen=chosen,
            vary="Accept" if negotiated else "",
            purged_after=tenant.workspace.purged_after(source_key),
        )
    )
    return image_response(rendered.entry, rendered.tier, request.headers.get("if-none-match"))
