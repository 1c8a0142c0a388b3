"""Typed aiohttp app keys of the revocation service."""

from __future__ import annotations

from aiohttp import web

from services.revocation.accreditations import AccreditationRevocations
from services.revocation.changes import StatusChanges
from services.revocation.history import StatusHistory
from services.revocation.issuers import IssuerKeys
from services.revocation.jobs import JobStore, StatusJobs
from services.revocation.lists import StatusListStore
from services.revocation.publishing import ListPublisher
from services.revocation.served import PublicLists
from services.revocation.settings import Settings
from services.revocation.signed import SignedLists
from shared.idempotency import IdempotencyRecords

REVOCATION_SETTINGS: web.AppKey[Settings] = web.AppKey("revocation.settings", Settings)
LISTS: web.AppKey[StatusListStore] = web.AppKey("revocation.lists", StatusListStore)
SIGNED_LISTS: web.AppKey[SignedLists] = web.AppKey("revocation.signed_lists", SignedLists)
ISSUER_KEYS: web.AppKey[IssuerKeys] = web.AppKey("revocation.issuer_keys", IssuerKeys)
PUBLISHING: web.AppKey[ListPublisher] = web.AppKey("revocation.publishing", ListPublisher)
PUBLIC_LISTS: web.AppKey[PublicLists] = web.AppKey("revocation.public_lists", PublicLists)
STATUS_CHANGES: web.AppKey[StatusChanges] = web.AppKey("revocation.status_changes", StatusChanges)
STATUS_IDEMPOTENCY: web.AppKey[IdempotencyRecords] = web.AppKey(
    "revocation.status_idempotency", IdempotencyRecords
)
ACCREDITATION_REVOCATIONS: web.AppKey[AccreditationRevocations] = web.AppKey(
    "revocation.accreditation_revocations", AccreditationRevocations
)
STATUS_HISTORY: web.AppKey[StatusHistory] = web.AppKey("revocation.status_history", StatusHistory)
STATUS_JOBS: web.AppKey[StatusJobs] = web.AppKey("revocation.status_jobs", StatusJobs)
JOB_STORE: web.AppKey[JobStore] = web.AppKey("revocation.job_store", JobStore)
