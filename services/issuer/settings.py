"""Issuer configuration, read once at start-up from `MICROCRED_*` variables."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.keystore import KeyStoreSettings
from shared.settings import CommonSettings, cpu_cores, env_bool, env_int, env_list, env_str

DEFAULT_PORT = 8082


@dataclass(frozen=True)
class WebhookSettings:
    """Outbound webhooks: retries with capped exponential backoff."""

    retry_base_ms: int = 1000  # the first retry's delay; doubled each time
    retry_cap_ms: int = 300_000  # never more than this between attempts
    max_attempts: int = 8  # then the delivery goes to the dead letters
    # TEST ONLY, off by default: origins (e.g. `http://127.0.0.1:8099`) a
    # webhook may target although not https or not public. Never set it in
    # production: it opens the SSRF guard for those origins.
    test_origins: tuple[str, ...] = ()
    expiring_days: int = 30  # credential.expiring: this many days ahead
    expiring_scan_seconds: int = 3600  # how often to look

    @classmethod
    def from_env(cls) -> WebhookSettings:
        return cls(
            retry_base_ms=env_int("WEBHOOK_RETRY_BASE_MS", 1000, minimum=1),
            retry_cap_ms=env_int("WEBHOOK_RETRY_CAP_MS", 300_000, minimum=1),
            max_attempts=env_int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1, maximum=50),
            test_origins=env_list("WEBHOOK_TEST_ORIGINS"),
            expiring_days=env_int("WEBHOOK_EXPIRING_DAYS", 30, minimum=1, maximum=3660),
            expiring_scan_seconds=env_int("WEBHOOK_EXPIRING_SCAN_SECONDS", 3600, minimum=1),
        )


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    public_base_url: str
    # Status list credentials are served by the revocation service under this base.
    status_base_url: str
    keys: KeyStoreSettings
    # The name on the platform operator's Profile (the issuer of the
    # accreditation endorsements the issuer embeds in issuer profiles).
    operator_name: str = "microcred platform operator"
    # The public verifier: share links are `<verifier_base_url>/s/<share id>`.
    verifier_base_url: str = "http://127.0.0.1:8080"
    # Sign documents using the W3C example contexts (`POST /credentials/issue`):
    # off by default, see the verifier's setting of the same name
    # (`MICROCRED_JSONLD_EXAMPLE_CONTEXTS`, docs/conformance.md).
    jsonld_example_contexts: bool = False
    webhooks: WebhookSettings = field(default_factory=lambda: WebhookSettings())
    # Credentials are signed in this many processes (services/issuer/signing.py);
    # 0: on the event loop.
    signing_processes: int = 0

    @classmethod
    def from_env(cls) -> Settings:
        common = CommonSettings.from_env("issuer", DEFAULT_PORT)
        return cls(
            common=common,
            public_base_url=env_str(
                "ISSUER_BASE_URL", f"http://127.0.0.1:{common.http_port}"
            ).rstrip("/"),
            status_base_url=env_str("STATUS_BASE_URL", "http://127.0.0.1:8083/status-lists").rstrip(
                "/"
            ),
            keys=KeyStoreSettings.from_env(),
            operator_name=env_str("OPERATOR_NAME", "microcred platform operator"),
            verifier_base_url=env_str("VERIFIER_BASE_URL", "http://127.0.0.1:8080").rstrip("/"),
            jsonld_example_contexts=env_bool("JSONLD_EXAMPLE_CONTEXTS", False),
            webhooks=WebhookSettings.from_env(),
            signing_processes=env_int("ISSUER_SIGNING_PROCESSES", cpu_cores(), minimum=0),
        )
