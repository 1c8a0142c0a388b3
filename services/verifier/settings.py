"""Verifier configuration, read once at start-up from `MICROCRED_*` variables."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.verifier.budget import Limits
from services.verifier.ratelimit import RatePolicy
from shared.settings import CommonSettings, cpu_cores, env_bool, env_int, env_list, env_str

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
            workers=env_int("VERIFIER_WORKERS", cpu_cores(), minimum=1),
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
    # The trust policy when a caller asks for none: false, only accredited
    # providers give the verdict `valid`; true, registered ones do too
    # (`MICROCRED_VERIFIER_ACCEPT_REGISTERED`, issue 8).
    accept_registered: bool = False
    # The work one request may cause (`budget.py`), and where RDFC-1.0 runs:
    # a pool of `canon_processes` (0: inline) for JSON of `canon_inline_bytes` or more.
    limits: Limits = field(default_factory=Limits)
    canon_processes: int = 1
    canon_inline_bytes: int = 8 * 1024
    rates: RatePolicy = field(default_factory=RatePolicy)
    server: ServerOptions = field(default_factory=ServerOptions)
    # `POST /credentials/verify/batch`: lines, bytes and items verified at once.
    batch_max_items: int = 1000
    batch_max_bytes: int = 32 * 1024 * 1024
    batch_concurrency: int = 8
    # Share links are `<public_base_url>/s/<id>`; a CDN may cache share
    # pages `share_cache_s` seconds (s-maxage; 0: every view re-verified).
    public_base_url: str = "http://127.0.0.1:8080"
    share_cache_s: int = 0
    # Serve the W3C example contexts (`https://www.w3.org/ns/credentials/examples/v2`
    # and the v1 one) to JSON-LD processing: off by default, because their
    # `@vocab` defines every term, so safe mode's "every term defined" no
    # longer protects a verdict (`MICROCRED_JSONLD_EXAMPLE_CONTEXTS`,
    # docs/conformance.md). The conformance runner turns it on.
    jsonld_example_contexts: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        origins = env_list("TRUSTED_FETCH_ORIGINS", ("http://127.0.0.1:8083",))
        common = CommonSettings.from_env("verifier", DEFAULT_PORT)
        return cls(
            common=common,
            trusted_fetch_origins=frozenset(o.rstrip("/").lower() for o in origins),
            trust_lists=env_list("TRUST_LISTS"),
            trust_list_refresh_s=env_int("TRUST_LIST_REFRESH_S", 600),
            accept_registered=env_bool("VERIFIER_ACCEPT_REGISTERED", False),
            limits=Limits.from_env(),
            canon_processes=env_int("VERIFIER_CANON_PROCESSES", cpu_cores(), minimum=0),
            canon_inline_bytes=env_int("VERIFIER_CANON_INLINE_BYTES", 8 * 1024, minimum=0),
            rates=RatePolicy.from_env(),
            server=ServerOptions.from_env(),
            batch_max_items=env_int("BATCH_MAX_ITEMS", 1000, minimum=1),
            batch_max_bytes=env_int("BATCH_MAX_BYTES", 32 * 1024 * 1024, minimum=1024),
            batch_concurrency=env_int("BATCH_CONCURRENCY", 8, minimum=1, maximum=256),
            public_base_url=env_str(
                "VERIFIER_BASE_URL", f"http://127.0.0.1:{common.http_port}"
            ).rstrip("/"),
            share_cache_s=env_int("SHARE_CACHE_S", 0),
            jsonld_example_contexts=env_bool("JSONLD_EXAMPLE_CONTEXTS", False),
        )
