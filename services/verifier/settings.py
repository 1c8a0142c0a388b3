"""Verifier configuration, read once at start-up from `MICROCRED_*` variables."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.verifier.budget import Limits
from services.verifier.offload import default_processes
from services.verifier.ratelimit import RatePolicy
from shared.settings import CommonSettings, env_int, env_list

DEFAULT_PORT = 8080


@dataclass(frozen=True)
class ServerOptions:
    """How the verifier serves HTTP (`serve.py`): `workers` processes on one
    port (SO_REUSEPORT); idle connections, and connections that have not sent
    a whole request, closed after `keepalive_s`; at most
    `connections_per_address` open connections per client address."""

    workers: int = 1
    keepalive_s: int = 15
    connections_per_address: int = 64

    @classmethod
    def from_env(cls) -> ServerOptions:
        return cls(
            workers=env_int("VERIFIER_WORKERS", default_processes(), minimum=1),
            keepalive_s=env_int("VERIFIER_KEEPALIVE_S", cls.keepalive_s, minimum=1),
            connections_per_address=env_int(
                "VERIFIER_CONNECTIONS_PER_ADDRESS", cls.connections_per_address, minimum=1
            ),
        )


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
    # The work one request may cause (`budget.py`), and where RDFC-1.0 runs:
    # a pool of `canon_processes` (0: inline) for JSON of `canon_inline_bytes` or more.
    limits: Limits = field(default_factory=Limits)
    canon_processes: int = 1
    canon_inline_bytes: int = 8 * 1024
    rates: RatePolicy = field(default_factory=RatePolicy)
    server: ServerOptions = field(default_factory=ServerOptions)

    @classmethod
    def from_env(cls) -> Settings:
        origins = env_list("TRUSTED_FETCH_ORIGINS", ("http://127.0.0.1:8083",))
        return cls(
            common=CommonSettings.from_env("verifier", DEFAULT_PORT),
            trusted_fetch_origins=frozenset(o.rstrip("/").lower() for o in origins),
            trust_lists=env_list("TRUST_LISTS"),
            trust_list_refresh_s=env_int("TRUST_LIST_REFRESH_S", 600),
            limits=Limits.from_env(),
            canon_processes=env_int("VERIFIER_CANON_PROCESSES", default_processes(), minimum=0),
            canon_inline_bytes=env_int("VERIFIER_CANON_INLINE_BYTES", 8 * 1024, minimum=0),
            rates=RatePolicy.from_env(),
            server=ServerOptions.from_env(),
        )
