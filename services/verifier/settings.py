"""Verifier configuration, read once at start-up from `MICROCRED_*` variables."""

from __future__ import annotations

from dataclasses import dataclass

from shared.settings import CommonSettings, env_bool, env_int, env_list

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
    # The trust policy when a caller asks for none: false, only accredited
    # providers give the verdict `valid`; true, registered ones do too
    # (`MICROCRED_VERIFIER_ACCEPT_REGISTERED`, issue 8).
    accept_registered: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        origins = env_list("TRUSTED_FETCH_ORIGINS", ("http://127.0.0.1:8083",))
        return cls(
            common=CommonSettings.from_env("verifier", DEFAULT_PORT),
            trusted_fetch_origins=frozenset(o.rstrip("/").lower() for o in origins),
            trust_lists=env_list("TRUST_LISTS"),
            trust_list_refresh_s=env_int("TRUST_LIST_REFRESH_S", 600),
            accept_registered=env_bool("VERIFIER_ACCEPT_REGISTERED", False),
        )
