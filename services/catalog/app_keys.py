"""Typed aiohttp app keys of the catalog service."""

from __future__ import annotations

from aiohttp import web

from services.catalog.achievements import Achievements
from services.catalog.pathways import Pathways
from services.catalog.providers import Providers
from services.catalog.settings import Settings
from services.catalog.store import CatalogStore

CATALOG_SETTINGS: web.AppKey[Settings] = web.AppKey("catalog.settings", Settings)
STORE: web.AppKey[CatalogStore] = web.AppKey("catalog.store", CatalogStore)
ACHIEVEMENTS: web.AppKey[Achievements] = web.AppKey("catalog.achievements", Achievements)
PROVIDERS: web.AppKey[Providers] = web.AppKey("catalog.providers", Providers)
PATHWAYS: web.AppKey[Pathways] = web.AppKey("catalog.pathways", Pathways)
