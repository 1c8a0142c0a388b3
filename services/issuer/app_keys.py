"""Typed aiohttp app keys of the issuer service."""

from __future__ import annotations

from aiohttp import web

from services.issuer.accreditation import Accreditations
from services.issuer.allocation import StatusAllocator
from services.issuer.attempts import AttemptIndex, Attempts
from services.issuer.award_queue import AwardQueue
from services.issuer.awards import Issuance
from services.issuer.bulk import BulkJobs
from services.issuer.bulk_store import BulkJobStore
from services.issuer.endorsing import Endorsing
from services.issuer.identities import Identities
from services.issuer.learners import Learners
from services.issuer.linkage import DomainLinkages
from services.issuer.registry import RegistryIndex
from services.issuer.rotation import KeyRotation
from services.issuer.self_hosting import SelfHosting
from services.issuer.settings import Settings
from services.issuer.stacking import Stacking
from services.issuer.store import IssuerStore
from services.issuer.trust_list import TrustListPublisher
from services.issuer.vc_api import VcApiIssuance
from services.issuer.webhooks import Webhooks

ISSUER_SETTINGS: web.AppKey[Settings] = web.AppKey("issuer.settings", Settings)
STORE: web.AppKey[IssuerStore] = web.AppKey("issuer.store", IssuerStore)
ALLOCATOR: web.AppKey[StatusAllocator] = web.AppKey("issuer.allocator", StatusAllocator)
ISSUANCE: web.AppKey[Issuance] = web.AppKey("issuer.issuance", Issuance)
AWARD_QUEUE: web.AppKey[AwardQueue] = web.AppKey("issuer.award_queue", AwardQueue)
IDENTITIES: web.AppKey[Identities] = web.AppKey("issuer.identities", Identities)
ROTATION: web.AppKey[KeyRotation] = web.AppKey("issuer.rotation", KeyRotation)
LINKAGES: web.AppKey[DomainLinkages] = web.AppKey("issuer.linkages", DomainLinkages)
ENDORSING: web.AppKey[Endorsing] = web.AppKey("issuer.endorsing", Endorsing)
ACCREDITATIONS: web.AppKey[Accreditations] = web.AppKey("issuer.accreditations", Accreditations)
TRUST_LIST: web.AppKey[TrustListPublisher] = web.AppKey("issuer.trust_list", TrustListPublisher)
SELF_HOSTING: web.AppKey[SelfHosting] = web.AppKey("issuer.self_hosting", SelfHosting)
LEARNERS: web.AppKey[Learners] = web.AppKey("issuer.learners", Learners)
VC_API: web.AppKey[VcApiIssuance] = web.AppKey("issuer.vc_api", VcApiIssuance)
STACKING: web.AppKey[Stacking] = web.AppKey("issuer.stacking", Stacking)
BULK_STORE: web.AppKey[BulkJobStore] = web.AppKey("issuer.bulk_store", BulkJobStore)
BULK_JOBS: web.AppKey[BulkJobs] = web.AppKey("issuer.bulk_jobs", BulkJobs)
REGISTRY_INDEX: web.AppKey[RegistryIndex] = web.AppKey("issuer.registry_index", RegistryIndex)
WEBHOOKS: web.AppKey[Webhooks] = web.AppKey("issuer.webhooks", Webhooks)
ATTEMPT_INDEX: web.AppKey[AttemptIndex] = web.AppKey("issuer.attempt_index", AttemptIndex)
ATTEMPTS: web.AppKey[Attempts] = web.AppKey("issuer.attempts", Attempts)
