"""Issuer configuration, read once at start-up from `MICROCRED_*` variables."""

from __future__ import annotations

from dataclasses import dataclass

from shared.keystore import KeyStoreSettings
from shared.settings import CommonSettings, env_bool, env_str

DEFAULT_PORT = 8082


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
        )
