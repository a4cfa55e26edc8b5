"""The hot path: ``GET /{ns}/{key}?…``, ``GET /{ns}/?src={url}&…`` and ``GET /{ns}/?capture={url}&…``.

A hit is: workspace (dict), plan (dict, see ``gateway.delivery.plans``), memory tier (dict), pre-encoded headers.
Everything else happens once per URL, or on a miss.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.capture import CAPTURE_PARAMETERS, parse_capture_options, validate_target
from gateway.delivery.plans import Plan, PlanCache, Target
from gateway.delivery.render import YEAR, RenderRequest
from gateway.errors import DomainNotAllowed, NotFound, SourceNotAllowed, ValidationError
from gateway.policy import InvalidSourceURL, parse_source_url
from gateway.services import Services
from gateway.tenancy import Tenant
from gateway.web.responses import image_response
from transforms.errors import InvalidParameter
from transforms.marks import MARK_PARAMETERS
from transforms.negotiate import choose_format
from transforms.options import Format, TransformOptions
from transforms.params import parse

# Parameters the gateway reads itself; the transform parser must not call them unknown.
GATEWAY_PARAMETERS: frozenset[str] = frozenset({"src", "capture"}) | MARK_PARAMETERS | CAPTURE_PARAMETERS
# Info (fm=json) describes an original that may change at its origin: a day, not a year.
INFO_MAX_AGE = 86_400


def _origin_target(tenant: Tenant, key: str) -> Target:
    source = tenant.source
    if source is None:
        raise NotFound("this workspace has no origin configured")
    if not key:
        raise NotFound("no image key in the path")
    return Target("o", key, source.identity(key), lambda: source.fetch(key), None)


def _external_target(services: Services, tenant: Tenant, raw: str, key: str) -> Target:
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
    return Target("src", normalised, "src:" + normalised, lambda: external.fetch(normalised), url.host)


def _capture_target(
    services: Services, tenant: Tenant, raw: str, key: str, items: list[tuple[str, str]], pdf: bool
) -> Target:
    if key:
        raise ValidationError("capture: captures are requested as /{namespace}/?capture=URL")
    url = validate_target(raw)
    try:
        # The allowlist is about the host: the fragment (a single-page app's route) is the page's business.
        checked = parse_source_url(url.split("#", 1)[0])
    except InvalidSourceURL as exc:
        raise ValidationError(f"capture: {exc}") from None
    if not tenant.policy.capture_allowed(checked):
        raise DomainNotAllowed()
    capture = services.capture
    options = parse_capture_options(items, capture.settings)
    identity = f"cap:{url}|{options.canonical()}|pdf={int(pdf)}"
    retention = tenant.workspace.capture_retention
    return Target(
        "cap",
        url,
        identity,
        lambda: capture.fetch(url, options, pdf),
        checked.host,
        max_age=min(retention, YEAR),
        passthrough=pdf,
    )


def _is_info(options: TransformOptions) -> bool:
    return options.fm is not None and options.fm.value == "json"


def _single(items: list[tuple[str, str]], name: str) -> str | None:
    values = [value for item, value in items if item == name]
    if len(values) > 1:
        raise ValidationError(f"{name}: given more than once")
    return values[0] if values else None


async def _plan(services: Services, tenant: Tenant, request: Request, key: str) -> Plan:
    items = request.query_params.multi_items()
    src, capture = _single(items, "src"), _single(items, "capture")
    if src is not None and capture is not None:
        raise ValidationError("capture: cannot be combined with src")
    pdf = capture is not None and ("fm", "pdf") in items
    if capture is None:
        stray = next((name for name, _ in items if name in CAPTURE_PARAMETERS), None)
        if stray is not None:
            raise ValidationError(f"{stray}: only with capture=")
    image_items = [item for item in items if item != ("fm", "pdf")] if pdf else items
    try:
        options = parse(image_items, extra=GATEWAY_PARAMETERS)
    except InvalidParameter as exc:
        raise ValidationError(exc.message) from None
    if pdf and options != TransformOptions():
        raise ValidationError("fm: a PDF capture takes no image parameters")
    if capture is not None:
        target = _capture_target(services, tenant, capture, key, items, pdf)
    elif src is not None:
        target = _external_target(services, tenant, src, key)
    else:
        target = _origin_target(tenant, key)
    info = _is_info(options)
    mark = None
    if not info:
        origin_key = target.source_key if target.kind == "o" else None
        mark = await services.marks.resolve(tenant, items, origin_key, target.host)
        if mark is not None and pdf:
            raise ValidationError("fm: a PDF capture cannot carry a mark")
    purged_after = tenant.workspace.purged_after(target.source_key)
    return Plan(tenant, options, target, mark, info, purged_after, PlanCache.expiry())


async def image(request: Request) -> Response:
    services: Services = request.app.state.services
    namespace: str = request.path_params["ns"]
    key: str = request.path_params["key"]
    tenant = await services.tenancy.get(namespace)
    if tenant is None:
        raise NotFound("unknown workspace")
    query: bytes = request.scope["query_string"]
    plan = services.plans.get(namespace, key, query, tenant)
    if plan is None:
        plan = await _plan(services, tenant, request, key)
        services.plans.put(namespace, key, query, plan)
    headers = request.headers
    chosen, negotiated = choose_format(plan.options, headers.get("accept"))
    cache_key = plan.keys.get(chosen)
    if cache_key is None:
        cache_key = plan.keys[chosen] = services.renderer.key_for(_render_request(namespace, plan, chosen, negotiated))
    entry = services.renderer.memory_hit(cache_key, plan.purged_after)
    if entry is not None:
        return image_response(entry, "memory", headers.get("if-none-match"))
    rendered = await services.renderer.render(_render_request(namespace, plan, chosen, negotiated), cache_key)
    return image_response(rendered.entry, rendered.tier, headers.get("if-none-match"))


def _render_request(namespace: str, plan: Plan, chosen: Format | None, negotiated: bool) -> RenderRequest:
    return RenderRequest(
        namespace=namespace,
        kind=plan.target.kind,
        source_key=plan.target.source_key,
        source_identity=plan.target.identity,
        fetch=plan.target.fetch,
        options=plan.options,
        chosen=chosen,
        vary="Accept" if negotiated else "",
        max_age=INFO_MAX_AGE if plan.info else (plan.target.max_age if plan.target.max_age is not None else YEAR),
        purged_after=plan.purged_after,
        mark=plan.mark,
        keep=plan.target.max_age != 0,
        passthrough=plan.target.passthrough,
    )
