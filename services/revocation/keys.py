"""Typed app keys of the revocation service."""

from __future__ import annotations

import asyncio

from aiohttp import web

from services.revocation.issuers import IssuerKeys
from services.revocation.lists import StatusListStore
from services.revocation.settings import Settings
from services.revocation.signed import SignedLists

REVOCATION_SETTINGS: web.AppKey[Settings] = web.AppKey("revocation.settings", Settings)
LISTS: web.AppKey[StatusListStore] = web.AppKey("revocation.lists", StatusListStore)
SIGNED_LISTS: web.AppKey[SignedLists] = web.AppKey("revocation.signed_lists", SignedLists)
ISSUER_KEYS: web.AppKey[IssuerKeys] = web.AppKey("revocation.issuer_keys", IssuerKeys)
# Set by the consumer when a list needs a new snapshot.
LISTS_CHANGED: web.AppKey[asyncio.Event] = web.AppKey("revocation.lists_changed", asyncio.Event)
