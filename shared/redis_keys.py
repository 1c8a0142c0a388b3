"""Every Redis key pattern, in one place: `<prefix>:<entity>:<id...>`.

The prefix is the service's `CommonSettings.redis_prefix` (default: the
service name), so services sharing one Redis never collide. Services add
their own entity names below, next to the platform's.
"""

from __future__ import annotations

# Platform entities.
OFFSETS = "offsets"  # hash per topic: partition -> next offset to read
GENERATION = "generation"  # id of the current derived state (new after a wipe)
REPLAYED = "replayed"  # the generation whose replay from Kafka caught up

# Service entities, `<prefix>:<entity>[:<id>...]` (prefix: the service's
# `redis_prefix`). Every one is rebuilt from Kafka except locks.

# Replicas of events (hashes by id): catalog, issuer, revocation.
ACHIEVEMENTS = "achievements"  # achievement id -> AchievementPublished
ISSUERS = "issuers"  # issuer DID -> IssuerProfilePublished / key record
CREDENTIALS = "credentials"  # credential id -> CredentialIssued / entries
ISSUER_TENANTS = "issuer-tenants"  # catalog: issuer DID -> tenant
PROVIDERS = "providers"  # catalog: provider id -> ProviderPublished
PROVIDER_ISSUERS = "provider-issuers"  # catalog: issuer DID -> provider id
PROVIDER_DOMAINS = "provider-domains"  # catalog: web domain -> provider id; issuer: DID -> domain
PROVIDER_LOCK = "provider-lock"  # catalog: lease per provider (read-modify-write)
ACHIEVEMENT_REVISIONS = "achievement-revisions"  # catalog: hash per achievement: revision -> event
ACHIEVEMENT_LOCK = "achievement-lock"  # catalog: lease per achievement while it changes
TENANT_ACHIEVEMENTS = "tenant-achievements"  # catalog: set per tenant: its achievement ids

# Pathways (catalog, issuer, verifier: shared.pathway_index).
PATHWAYS = "pathways"  # hash: pathway id -> newest PathwayPublished
PATHWAY_REVISIONS = "pathway-revisions"  # hash per pathway: revision -> PathwayPublished
PATHWAY_MEMBERS = "pathway-members"  # set per component achievement: pathway ids
PATHWAY_OF_ACHIEVEMENT = "pathway-of-achievement"  # hash: pathway achievement id -> pathway id
TENANT_PATHWAYS = "tenant-pathways"  # set per tenant: its pathway ids
PATHWAY_LOCK = "pathway-lock"  # catalog: lease while a pathway is written (cycle checks)
# issuer: hash per learner key: "<achievement id>|<credential id>" -> validFrom
LEARNER_CREDENTIALS = "learner-credentials"
ACHIEVEMENT_LEARNERS = "achievement-learners"  # issuer: set per achievement: learner keys

# Issuer.
IDEMPOTENCY = "idempotency"  # hash per write kind and tenant: key -> [fingerprint, answer]
IDEMPOTENCY_LOCK = "idempotency-lock"  # lease per tenant and key
STATUS_ALLOC = "status-alloc"  # bitmap per list: indexes handed out
STATUS_ALLOC_COUNT = "status-alloc-count"  # counter per list
STATUS_LIST_CURRENT = "status-list-current"  # per issuer, purpose: list in use
ISSUER_LOCK = "issuer-lock"  # lease per issuer DID while its keys change
WEB_DOMAIN_LOCK = "web-domain-lock"  # lease per domain while a self-hosted did:web is made
CREDENTIAL_ID_LOCK = "credential-id-lock"  # lease per caller-given credential id (VC-API)
RENEWAL_LOCK = "renewal-lock"  # lease per credential while an award renews it
BULK_JOBS = "bulk-jobs"  # hash per job: tenant, rows, where they are staged, state
BULK_ACTIVE = "bulk-active"  # set: ids of the jobs still to run
BULK_RESULTS = "bulk-results"  # hash per job: row number -> its result
BULK_COUNTS = "bulk-counts"  # hash per job: read, issued, failed, refused:<reason>
BULK_LOCK = "bulk-lock"  # lease per job while an instance runs it
# Registrar search (services/issuer/registry.py), per tenant.
REGISTRY = "registry"  # sorted set per tenant: credential id by issue time (ms)
REGISTRY_LEARNER = "registry-learner"  # sorted set per tenant and learner key
REGISTRY_ENTRY = "registry-entry"  # hash: credential id -> summary (JSON)
REGISTRY_STATUS = "registry-status"  # hash: credential id -> "revoked" / "suspended"
REGISTRY_RENEWED_BY = "registry-renewed-by"  # hash: credential id -> the one renewing it
WEBHOOKS = "webhooks"  # hash: webhook id -> WebhookRegistered (issuer.webhooks)
WEBHOOK_LOCK = "webhook-lock"  # lease per tenant while it registers a webhook (the cap)
WEBHOOK_QUEUE = "webhook-queue"  # sorted set: delivery id by when it is due (ms)
WEBHOOK_DELIVERIES = "webhook-deliveries"  # hash: delivery id -> pending delivery
WEBHOOK_LOG = "webhook-log"  # list per tenant: the newest deliveries' outcomes
WEBHOOK_EXPIRING_SENT = "webhook-expiring-sent"  # set per webhook: credentials notified
WEBHOOK_DONE = "webhook-done"  # set: ids of deliveries that got through or died
WEBHOOK_DEAD = "webhook-dead"  # list per tenant: deliveries that ran out of attempts
ATTEMPTS = "attempts"  # sorted set per tenant: attempt id by when recorded (ms)
ATTEMPTS_LEARNER = "attempts-learner"  # sorted set per tenant and learner key
ATTEMPT_ENTRY = "attempt-entry"  # hash: attempt id -> its view (JSON)
REGISTRY_EXPIRY = "registry-expiry"  # sorted set per tenant: credential id by validUntil (ms)

# Revocation.
STATUS_LISTS = "status-lists"  # hash: list id -> URL, issuer, purpose
STATUS_BITS = "status-bits"  # bitmap per list: the bitstring itself
STATUS_SEQUENCE = "status-sequence"  # per list: last snapshot sequence
STATUS_DIRTY = "status-dirty"  # set: lists changed since their snapshot
STATUS_LISTS_USED = "status-lists-used"  # per issuer, purpose: highest in use
STATUS_PUBLISH_LOCK = "status-publish-lock"  # lock per list
STATUS_CHANGE_LOCK = "status-change-lock"  # lock per list
STATUS_HISTORY = "status-history"  # hash per credential: event id -> audit entry
STATUS_JOBS = "status-jobs"  # hash: job id -> StatusJobRecorded (newest)
STATUS_JOBS_PENDING = "status-jobs-pending"  # set: submitted, not finished
STATUS_JOB_RESULTS = "status-job-results"  # hash per job: credential id -> outcome
STATUS_JOB_LOCK = "status-job-lock"  # lease per job while an instance runs it
CREDENTIALS_BY_ACHIEVEMENT = "credentials-by-achievement"  # zset per tenant, achievement, revision
SIGNED_LISTS = "signed-lists"  # hash: list id -> newest StatusListPublished
ISSUER_SLUGS = "issuer-slugs"  # hash: issuer slug -> DID
# issuer, catalog: web domain -> tenant of the self-hosted did:web identities on it
SELF_HOSTED_DOMAINS = "self-hosted-domains"
OPERATOR_IDENTITY = "operator-identity"
# issuer, revocation: accreditation endorsement id -> AccreditationStatusAssigned
ACCREDITATION_STATUS = "accreditation-status"
# revocation: set per "<provider id>|<accreditation id>": its endorsement ids
ACCREDITATION_ENDORSEMENTS = "accreditation-endorsements"
# revocation: set of "<provider id>|<accreditation id>" the operator withdrew
WITHDRAWN_ACCREDITATIONS = "withdrawn-accreditations"  # issuer: the platform operator's DID
ENDORSEMENTS = "endorsements"  # endorsement id -> EndorsementPublished
ACHIEVEMENT_ENDORSEMENTS = "achievement-endorsements"  # set per achievement: endorsement ids
ENDORSER_IDENTITIES = "endorser-identities"  # issuer: hash endorser name -> DID
# Share links (`credentials.shares`): issuer by credential id, verifier by share id.
SHARES = "shares"  # hash: id -> newest CredentialShared


def redis_key(prefix: str, entity: str, *parts: str | int) -> str:
    """Build `<prefix>:<entity>:<part>:...`; empty segments are refused."""
    segments = [prefix, entity, *(str(part) for part in parts)]
    if any(segment == "" for segment in segments):
        raise ValueError(f"empty segment in Redis key {segments!r}")
    return ":".join(segments)


def offsets_key(prefix: str, topic: str) -> str:
    """Hash of the next offset to consume per partition of `topic`."""
    return redis_key(prefix, OFFSETS, topic)


def generation_key(prefix: str) -> str:
    """The generation of the service's derived state (`shared.kafka.offsets`)."""
    return redis_key(prefix, GENERATION)


def replayed_key(prefix: str) -> str:
    """The generation whose state caught up with Kafka; a Redis wipe removes it."""
    return redis_key(prefix, REPLAYED)
