"""Signed URLs, transform presets, default parameters and allowed widths of a workspace, over the admin layer.

A signing secret is in the one answer that creates it (``POST …/signing/secrets``) and never again; an
imported one (an imgix ``secureURLToken``) is write-only.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from pydantic import Field

from gateway.admin.presets import (
    UrlShapingView,
    delete_preset,
    put_preset,
    set_allowed_widths,
    set_default_params,
    show_url_shaping,
)
from gateway.admin.signing import SigningView, remove_secret, rotate_secret, set_signing, show_signing
from gateway.routes.api.endpoint import ApiCall, Endpoint
from gateway.routes.api.models import RequestBody, ResponseBody
from gateway.routes.api.workspaces import WORKSPACE

SIGNING = f"{WORKSPACE}/signing"
PRESETS = f"{WORKSPACE}/presets"
_SIGNING_TAG = "signing"
_PRESETS_TAG = "presets"


class SigningKeyOut(ResponseBody):
    key_id: str = Field(description="Names the secret in listings; no part of the secret.")
    scheme: Literal["imgate", "imgix"]
    created_at: float


class SigningOut(ResponseBody):
    mode: Literal["off", "required"]
    keys: list[SigningKeyOut]


class SigningPatch(RequestBody):
    mode: Literal["off", "required"] = Field(description="required: only signed image URLs are answered.")


class SecretCreate(RequestBody):
    scheme: Literal["imgate", "imgix"] = Field(default="imgate", description="imgate: HMAC-SHA256; imgix: MD5.")
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=256,
        description="An existing secret to import (an imgix token); omitted: a new one is generated.",
    )


class CreatedSecretOut(ResponseBody):
    secret: str = Field(description="Shown in this answer only. Absent when the secret was imported.", default="")
    key: SigningKeyOut
    retired: str | None = Field(description="The key id rotated out (the scheme had two secrets already).")


class PresetOut(ResponseBody):
    name: str
    params: str = Field(description="Canonical query text the preset expands to.")
    locked: bool
    updated_at: float


class PresetPut(RequestBody):
    params: str = Field(max_length=2048, description="A query string such as `w=400&h=300&fit=crop`.")
    locked: bool = Field(default=False, description="URL parameters cannot override the preset's.")


class UrlShapingOut(ResponseBody):
    presets: list[PresetOut]
    default_params: str
    allowed_widths: list[int]
    width_rounding: Literal["up", "refuse"]
    revision: int


class DefaultsPut(RequestBody):
    params: str = Field(max_length=2048, description="Parameters every URL gets, under its own; empty clears.")


class WidthsPut(RequestBody):
    widths: list[int] = Field(max_length=64, description="The only widths rendered; empty allows any.")
    rounding: Literal["up", "refuse"] = Field(default="up", description="Other widths: rounded up, or refused.")


def _signing(view: SigningView) -> SigningOut:
    return SigningOut.model_validate(view.as_dict())


def _shaping(view: UrlShapingView) -> UrlShapingOut:
    return UrlShapingOut.model_validate(view.as_dict())


async def get_signing(call: ApiCall) -> SigningOut:
    return _signing(await show_signing(call.ctx, call.namespace))


async def patch_signing(call: ApiCall) -> SigningOut:
    return _signing(await set_signing(call.ctx, call.namespace, call.body(SigningPatch).mode))


async def create_secret(call: ApiCall) -> CreatedSecretOut:
    body = call.body(SecretCreate)
    created = await rotate_secret(call.ctx, call.namespace, body.scheme, body.secret)
    shown = "" if body.secret is not None else created.secret
    key = SigningKeyOut.model_validate(dataclasses.asdict(created.key))
    return CreatedSecretOut(secret=shown, key=key, retired=created.retired)


async def delete_secret(call: ApiCall) -> SigningOut:
    return _signing(await remove_secret(call.ctx, call.namespace, call.params["key_id"]))


async def list_presets(call: ApiCall) -> UrlShapingOut:
    return _shaping(await show_url_shaping(call.ctx, call.namespace))


async def put_one_preset(call: ApiCall) -> PresetOut:
    body = call.body(PresetPut)
    preset = await put_preset(call.ctx, call.namespace, call.params["preset"], body.params, body.locked)
    return PresetOut.model_validate(preset.as_dict())


async def delete_one_preset(call: ApiCall) -> None:
    await delete_preset(call.ctx, call.namespace, call.params["preset"])


async def put_defaults(call: ApiCall) -> UrlShapingOut:
    return _shaping(await set_default_params(call.ctx, call.namespace, call.body(DefaultsPut).params))


async def put_widths(call: ApiCall) -> UrlShapingOut:
    body = call.body(WidthsPut)
    return _shaping(await set_allowed_widths(call.ctx, call.namespace, tuple(body.widths), body.rounding))


ENDPOINTS = (
    Endpoint(
        "GET",
        SIGNING,
        "Whether image URLs must be signed, and the active secrets",
        get_signing,
        _SIGNING_TAG,
        response=SigningOut,
    ),
    Endpoint(
        "PATCH",
        SIGNING,
        "Require signed image URLs, or stop requiring them",
        patch_signing,
        _SIGNING_TAG,
        scope="write",
        body=SigningPatch,
        response=SigningOut,
        description="`required` is refused (400) until a secret exists.",
    ),
    Endpoint(
        "POST",
        f"{SIGNING}/secrets",
        "Add a signing secret (generated and shown once, or imported); a scheme's older of two is retired",
        create_secret,
        _SIGNING_TAG,
        scope="write",
        body=SecretCreate,
        response=CreatedSecretOut,
        status=201,
    ),
    Endpoint(
        "DELETE",
        f"{SIGNING}/secrets/{{key_id}}",
        "Retire a signing secret",
        delete_secret,
        _SIGNING_TAG,
        scope="write",
        response=SigningOut,
        errors={404: "No secret with that id.", 400: "The last secret while signing is required."},
    ),
    Endpoint(
        "GET",
        PRESETS,
        "Presets, default parameters and allowed widths",
        list_presets,
        _PRESETS_TAG,
        response=UrlShapingOut,
    ),
    Endpoint(
        "PUT",
        f"{PRESETS}/{{preset}}",
        "Create or replace a preset (preset=NAME in a URL)",
        put_one_preset,
        _PRESETS_TAG,
        scope="write",
        body=PresetPut,
        response=PresetOut,
    ),
    Endpoint(
        "DELETE",
        f"{PRESETS}/{{preset}}",
        "Delete a preset",
        delete_one_preset,
        _PRESETS_TAG,
        scope="write",
        errors={404: "No preset with that name."},
    ),
    Endpoint(
        "PUT",
        f"{WORKSPACE}/url-defaults",
        "Set the default parameters every URL gets",
        put_defaults,
        _PRESETS_TAG,
        scope="write",
        body=DefaultsPut,
        response=UrlShapingOut,
    ),
    Endpoint(
        "PUT",
        f"{WORKSPACE}/allowed-widths",
        "Set the allowed widths, and whether others are rounded up or refused",
        put_widths,
        _PRESETS_TAG,
        scope="write",
        body=WidthsPut,
        response=UrlShapingOut,
    ),
)
