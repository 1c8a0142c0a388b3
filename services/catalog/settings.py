"""Catalog configuration, read once at start-up from `MICROCRED_*` variables."""

from __future__ import annotations

from dataclasses import dataclass

from shared.settings import CommonSettings, env_str

DEFAULT_PORT = 8081


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    # Achievement ids are URLs under this base, so they resolve to their page.
    public_base_url: str

    @classmethod
    def from_env(cls) -> Settings:
        common = CommonSettings.from_env("catalog", DEFAULT_PORT)
        base = env_str("CATALOG_BASE_URL", f"http://127.0.0.1:{common.http_port}")
        return cls(
            common=common,
            public_base_url=base.rstrip("/"),
        )
