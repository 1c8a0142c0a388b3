"""Verifier configuration, read once at start-up from `MICROCRED_*` variables."""

from __future__ import annotations

from dataclasses import dataclass

from shared.settings import CommonSettings, env_int, env_list, env_str

DEFAULT_PORT = 8080


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    # Origins fetched without the public-address rule (e.g. the local
    # revocation service); everything else must be https on a public address.
    trusted_fetch_origins: frozenset[str]
    # Other trust lists (URLs or files, each optionally `|<signer DID>`), most
    # authoritative first, reloaded every `trust_list_refresh_s` seconds.
    trust_lists: tuple[str, ...] = ()
    trust_list_refresh_s: int = 600
    # `POST /credentials/verify/batch`: lines, bytes and items verified at once.
    batch_max_items: int = 1000
    batch_max_bytes: int = 32 * 1024 * 1024
    batch_concurrency: int = 8
    # Share links are `<public_base_url>/s/<id>`; a CDN may cache share
    # pages `share_cache_s` seconds (s-maxage; 0: every view re-verified).
    public_base_url: str = "http://127.0.0.1:8080"
    share_cache_s: int = 0

    @classmethod
    def from_env(cls) -> Settings:
        origins = env_list("TRUSTED_FETCH_ORIGINS", ("http://127.0.0.1:8083",))
        common = CommonSettings.from_env("verifier", DEFAULT_PORT)
        return cls(
            common=common,
            trusted_fetch_origins=frozenset(o.rstrip("/").lower() for o in origins),
            trust_lists=env_list("TRUST_LISTS"),
            trust_list_refresh_s=env_int("TRUST_LIST_REFRESH_S", 600),
            batch_max_items=env_int("BATCH_MAX_ITEMS", 1000, minimum=1),
            batch_max_bytes=env_int("BATCH_MAX_BYTES", 32 * 1024 * 1024, minimum=1024),
            batch_concurrency=env_int("BATCH_CONCURRENCY", 8, minimum=1, maximum=256),
            public_base_url=env_str(
                "VERIFIER_BASE_URL", f"http://127.0.0.1:{common.http_port}"
            ).rstrip("/"),
            share_cache_s=env_int("SHARE_CACHE_S", 0),
        )
