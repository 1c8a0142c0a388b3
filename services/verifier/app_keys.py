"""Typed app keys of the verifier service."""

from __future__ import annotations

from aiohttp import web

from services.verifier.batch import BatchVerification
from services.verifier.intake import Intake
from services.verifier.replica import Replica
from services.verifier.settings import Settings
from services.verifier.verification import Verifier

VERIFIER_SETTINGS: web.AppKey[Settings] = web.AppKey("verifier.settings", Settings)
REPLICA: web.AppKey[Replica] = web.AppKey("verifier.replica", Replica)
VERIFIER: web.AppKey[Verifier] = web.AppKey("verifier.verifier", Verifier)
INTAKE: web.AppKey[Intake] = web.AppKey("verifier.intake", Intake)
BATCH: web.AppKey[BatchVerification] = web.AppKey("verifier.batch", BatchVerification)
