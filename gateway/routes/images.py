"""The hot path: ``GET /{ns}/{key}?…`` (and, later, ``?src=`` / ``?capture=`` on ``/{ns}/``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from transforms.negotiate import choose_format
from transforms.params import parse

from gateway.errors import NotFound, ValidationError
from gateway.render import RenderRequest
from gateway.responses import image_response
from gateway.services import Services
from transforms.errors import InvalidParameter

# Parameters the gateway reads itself; the transform parser must not call them unknown.
GATEWAY_PARAMETERS: frozenset[str] = frozenset()


async def image(request: Request) -> Response:
    services: Services = request.app.state.services
    namespace: str = request.path_params["ns"]
    key: str = request.path_params["key"]
    tenant = await services.tenancy.get(namespace)
    if tenant is None:
        raise NotFound("unknown workspace")
    try:
        options = parse(request.query_params.multi_items(), extra=GATEWAY_PARAMETERS)
    except InvalidParameter as exc:
        raise ValidationError(exc.message) from None
    if not key:
        raise NotFound("no image key in the path")
    source = tenant.source
    if source is None:
        raise NotFound("this workspace has no origin configured")
    chosen, negotiated = choose_format(options, request.headers.get("accept"))
    rendered = await services.renderer.render(
        RenderRequest(
            namespace=namespace,
            kind="o",
            source_key=key,
            source_identity=source.identity(key),
            fetch=lambda: source.fetch(key),
            options=options,
            chosen=chosen,
            vary="Accept" if negotiated else "",
            purged_after=tenant.workspace.purged_after(key),
        )
    )
    return image_response(rendered.entry, rendered.tier, request.headers.get("if-none-match"))
