"""Revocation configuration, read once at start-up from `MICROCRED_*` variables."""

from __future__ import annotations

from dataclasses import dataclass

from shared.keystore import KeyStoreSettings
from shared.settings import CommonSettings, env_int, env_str

DEFAULT_PORT = 8083


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    keys: KeyStoreSettings
    # Bitstring Status List v1.0 §2.2 `ttl`: how long verifiers may cache a list (ms).
    list_ttl_ms: int
    # Where this service's lists are served; the issuer names them the same way.
    status_base_url: str

    @classmethod
    def from_env(cls) -> Settings:
        common = CommonSettings.from_env("revocation", DEFAULT_PORT)
        return cls(
            common=common,
            keys=KeyStoreSettings.from_env(),
            list_ttl_ms=env_int("STATUS_LIST_TTL_MS", 60_000, minimum=0),
            status_base_url=env_str(
                "STATUS_BASE_URL", f"http://127.0.0.1:{common.http_port}/status-lists"
            ).rstrip("/"),
        )
