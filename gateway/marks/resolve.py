"""Which mark a request is stamped with, resolved before the cache lookup so its version is in the key.

1. An auto-apply rule covering the source wins, and every ``mark*`` parameter in the URL is ignored
   (documented: a caller cannot remove, move, fade or shrink a mark the owner requires).
2. Otherwise ``mark={preset}`` with optional ``mark-align``, ``mark-alpha``, ``mark-scale``, ``mark-pad``,
   ``mark-w`` and ``mark-h`` overrides; ``mark=none`` (or no ``mark``) stamps nothing; an unknown preset,
   or an override without ``mark``, is a 400 naming the parameter.
3. ``mark={key}``: a value that is no preset name (it holds a ``/`` or a ``.``: ``brand/logo.png``) is an image
   in the workspace's own origin, stamped with a preset's defaults and the same overrides. Never a URL (imgix's
   ``mark`` takes one): a value with a scheme or starting ``//`` is a 400, so a URL cannot make the gateway
   fetch anything the workspace's origin does not hold. A key the origin does not have is a 400 too.

The parameters arrive split once by the plan step (``gateway.delivery.plans.split_query``), which has
already refused any name given twice.

A preset's version is the fingerprint of everything that shapes its pixels, image bytes included; an image
kept in the workspace's origin is re-read at most every ``image_ttl`` seconds, so replacing that file shows
within that time, and editing a preset shows as soon as the tenancy cache reloads (``tenancy_ttl``).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from cachetools import LRUCache, TTLCache

from gateway.accounts.models import MarkPreset
from gateway.errors import GatewayError, NotFound, OriginError, ValidationError, from_transform_error
from gateway.marks.presets import mark_spec
from gateway.marks.rules import first_match
from gateway.tenancy import Tenant
from transforms.errors import InvalidParameter, TransformError
from transforms.marks import MARK_PARAMETERS, MarkSpec

# The name an image taken straight from an origin key goes by in the resolver's memo (never looked up).
_FROM_KEY = "origin-key"
_URL_LIKE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*:|//)")


def _origin_image(tenant: Tenant, value: str) -> MarkPreset:
    """``mark={key}``: an image in the workspace's origin, with a preset's default placement."""
    shown = value[:64] if value.isprintable() else "?"
    if _URL_LIKE.match(value) or "\\" in value:
        raise ValidationError("mark: takes a preset name or a key in the workspace's origin, never a URL")
    if "/" not in value and "." not in value:
        raise ValidationError(f"mark: no preset named {shown!r} in this workspace")
    return MarkPreset(namespace=tenant.workspace.namespace, name=_FROM_KEY, kind="image", image_key=value)


@dataclass(frozen=True, slots=True)
class ResolvedMark:
    spec: MarkSpec
    version: str  # goes into the cache key
    preset: str
    forced: bool  # stamped by a rule (URL mark parameters ignored)


class MarkResolver:
    def __init__(self, image_ttl: float = 60.0, image_cache_bytes: int = 32 * 1024 * 1024) -> None:
        self._images: TTLCache[tuple[str, str], tuple[bytes, str]] = TTLCache(
            maxsize=image_cache_bytes, ttl=image_ttl, timer=time.monotonic, getsizeof=lambda v: len(v[0]) + 100
        )
        self._specs: LRUCache[tuple[object, ...], ResolvedMark] = LRUCache(maxsize=512)

    async def resolve(
        self,
        tenant: Tenant,
        params: Mapping[str, str],
        source_key: str | None,
        host: str | None,
    ) -> ResolvedMark | None:
        rule = first_match(tenant.rules, source_key, host)
        if rule is not None:
            preset = tenant.marks.get(rule.preset)
            if preset is None:  # the store refuses this; a half-applied edit must still not drop the mark
                raise OriginError("the workspace's auto-apply mark is missing its preset")
            return await self._resolved(tenant, preset, {}, forced=True)
        given = {name: value for name, value in params.items() if name in MARK_PARAMETERS}
        name = given.pop("mark", None)
        if name is None or name == "none":
            if given:
                first = next(iter(given))
                raise ValidationError(f"{first}: needs mark={{preset}}")
            return None
        preset = tenant.marks.get(name)
        if preset is None:
            return await self._resolved(tenant, _origin_image(tenant, name), given, forced=False, from_key=True)
        return await self._resolved(tenant, preset, given, forced=False)

    async def _resolved(
        self, tenant: Tenant, preset: MarkPreset, overrides: dict[str, str], forced: bool, from_key: bool = False
    ) -> ResolvedMark:
        image, digest = await self._image(tenant, preset, from_key)
        memo_key = (
            tenant.workspace.namespace,
            preset.name,
            preset.updated_at,
            digest,
            tuple(sorted(overrides.items())),
        )
        resolved = self._specs.get(memo_key)
        if resolved is None:
            try:
                spec = mark_spec(preset, image, overrides)
            except InvalidParameter as exc:
                raise ValidationError(exc.message) from None
            except TransformError as exc:  # an origin key's bytes that are no usable mark image (415)
                raise from_transform_error(exc) from None
            resolved = ResolvedMark(spec, spec.fingerprint(), preset.name, forced)
            self._specs[memo_key] = resolved
        return resolved

    async def _image(self, tenant: Tenant, preset: MarkPreset, from_key: bool) -> tuple[bytes | None, str]:
        if preset.kind != "image":
            return None, ""
        if preset.image_data:
            return preset.image_data, f"upload:{preset.updated_at}"
        cache_key = (tenant.workspace.namespace, preset.image_key)
        cached = self._images.get(cache_key)
        if cached is None:
            if tenant.source is None:
                raise OriginError("the mark preset's image needs an origin")
            try:
                original = await tenant.source.fetch(preset.image_key)
            except NotFound:
                if from_key:
                    raise ValidationError("mark: no preset of that name, nor an image at that key") from None
                raise OriginError(f"the image of mark preset {preset.name!r} could not be read") from None
            except GatewayError:
                raise OriginError(f"the image of mark preset {preset.name!r} could not be read") from None
            cached = (original.data, hashlib.sha256(original.data).hexdigest())
            self._images[cache_key] = cached
        return cached
