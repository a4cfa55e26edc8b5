"""The URL builder: pick an image key (or a ``src=`` URL, or a ``capture=`` page), set parameters with form
controls, and see the real gateway's output beside the URL, with copyable snippets: the URL, an ``<img srcset
sizes>`` for a set of widths, and the imgix JavaScript client's equivalent.

The form is a GET: without JavaScript, submitting it renders the same page with the URL built here and the
preview is an ``<img>`` of it. ``static/dashboard.js`` rebuilds the same URL in the browser as the fields change
(debounced), so the preview follows the controls; it also shows the output's size in bytes and pixels and lets a
click on the preview pick the focal point. Both build the query in ``PARAMS`` order, so they agree.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from starlette.datastructures import QueryParams
from starlette.responses import Response

from gateway import admin
from gateway.dashboard.web import Call, public_origin
from gateway.dashboard.workspace_pages import ns_of, workspace_page

# The builder's controls, in the order the query string is written (the browser's script uses the same order).
PARAMS = ("w", "h", "dpr", "fit", "crop", "fp-x", "fp-y", "fm", "auto", "q", "blur", "sharp", "sat", "mark")
FITS = ("", "clip", "crop", "fill", "max", "min", "scale")
CROPS = ("", "entropy", "attention", "focalpoint", "top", "bottom", "left", "right")
FORMATS = ("", "jpg", "pjpg", "png", "webp", "avif", "gif")
SRCSET_WIDTHS = (320, 640, 960, 1280, 1920)
SOURCES = ("key", "src", "capture")


def build(namespace: str, query: QueryParams) -> tuple[str, dict[str, str]]:
    """The image path with its query, and the parameters it holds."""
    source = query.get("source", "key")
    target = query.get("target", "").strip()
    params = {name: query.get(name, "").strip() for name in PARAMS if query.get(name, "").strip()}
    if source in ("src", "capture"):
        path = f"/{namespace}/"
        pairs = [(source, target), *params.items()]
    else:
        path = f"/{namespace}/{quote(target.lstrip('/'))}"
        pairs = list(params.items())
    return (f"{path}?{urlencode(pairs)}" if pairs else path), params


def srcset(url: str) -> str:
    base = url.split("?", 1)[0]
    kept = [pair for pair in QueryParams(url.partition("?")[2]).multi_items() if pair[0] != "w"]
    entries = [f"{base}?{urlencode([*kept, ('w', str(width))])} {width}w" for width in SRCSET_WIDTHS]
    fallback = f"{base}?{urlencode([*kept, ('w', '640')])}"
    return (
        f'<img src="{fallback}"\n     srcset="{", ".join(entries)}"\n'
        '     sizes="(max-width: 640px) 100vw, 640px" alt="">'
    )


def imgix_snippet(host: str, path: str, params: dict[str, str], *, https: bool = True) -> str:
    """The same URL built with imgix's JavaScript client (@imgix/js-core), which speaks the same parameters."""
    return (
        'import ImgixClient from "@imgix/js-core";\n'
        f"const client = new ImgixClient({{ domain: {json.dumps(host)}, useHTTPS: {json.dumps(https)} }});\n"
        f"client.buildURL({json.dumps(path)}, {json.dumps(params)});"
    )


async def builder(call: Call) -> Response:
    namespace = ns_of(call)
    query = call.request.query_params
    url, params = build(namespace, query)
    marks = [mark.name for mark in await admin.list_marks(call.ctx, namespace)]
    origin = public_origin(call.request, call.runtime)
    scheme, _, host = origin.partition("://")
    target = query.get("target", "").strip()
    path_only = url.split("?", 1)[0].removeprefix(f"/{namespace}")
    return workspace_page(
        call,
        "builder.html",
        namespace,
        q={name: query.get(name, "") for name in (*PARAMS, "source", "target")},
        params_order=",".join(PARAMS),
        fits=FITS,
        crops=CROPS,
        formats=FORMATS,
        sources=SOURCES,
        marks=marks,
        url=url if target else "",
        full_url=f"{origin}{url}" if target else "",
        srcset=srcset(f"{origin}{url}") if target else "",
        imgix=imgix_snippet(host, f"/{namespace}{path_only}", params, https=scheme == "https") if target else "",
        origin=origin,
    )
