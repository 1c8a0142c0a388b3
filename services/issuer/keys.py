"""Typed app keys of the issuer service."""

from __future__ import annotations

from aiohttp import web

from services.issuer.allocation import StatusAllocator
from services.issuer.settings import Settings
from services.issuer.signing import Signer
from services.issuer.store import IssuerStore

ISSUER_SETTINGS: web.AppKey[Settings] = web.AppKey("issuer.settings", Settings)
STORE: web.AppKey[IssuerStore] = web.AppKey("issuer.store", IssuerStore)
ALLOCATOR: web.AppKey[StatusAllocator] = web.AppKey("issuer.allocator", StatusAllocator)
SIGNER: web.AppKey[Signer] = web.AppKey("issuer.signer", Signer)
