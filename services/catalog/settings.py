"""Catalog configuration, read once at start-up from `MICROCRED_*` variables."""

from __future__ import annotations

from dataclasses import dataclass

from shared.keystore import KeyStoreSettings
from shared.settings import CommonSettings, SettingsError, env_str

DEFAULT_PORT = 8081


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    # Achievement ids are URLs under this base, so they resolve to their page.
    public_base_url: str
    # The key store holding the trust list's signing key (None: no master key
    # configured, so `GET /trust-list` answers 503; the JSON form still works).
    keys: KeyStoreSettings | None = None
    # Named in the published trust list.
    operator_name: str = "microcred operator"

    @classmethod
    def from_env(cls) -> Settings:
        common = CommonSettings.from_env("catalog", DEFAULT_PORT)
        base = env_str("CATALOG_BASE_URL", f"http://127.0.0.1:{common.http_port}")
        try:
            keys: KeyStoreSettings | None = KeyStoreSettings.from_env()
        except SettingsError:
            keys = None
        return cls(
            common=common,
            public_base_url=base.rstrip("/"),
            keys=keys,
            operator_name=env_str("OPERATOR_NAME", "microcred operator"),
        )
